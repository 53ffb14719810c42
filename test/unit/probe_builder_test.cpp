// The libnet-built template and its per-probe patching: fields and checksums byte for byte.
#include <gtest/gtest.h>

#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/probe/probe_builder.hpp"

namespace flagscan {
namespace {

TEST(ProbeBuilder, SynProbeBytes) {
    auto builder = ProbeBuilder::create(syn_kind(), ProbeShape{64, 1024, 1460});
    ASSERT_TRUE(builder) << builder.error();
    ASSERT_EQ(builder->size(), 44u);  // IPv4 20 + TCP 20 + MSS option 4
    Probe probe;
    probe.src = Ipv4{10, 77, 0, 1};
    probe.dst = Ipv4{10, 77, 0, 2};
    probe.sport = Port{40000};
    probe.dport = Port{22};
    probe.seq = 0x01020304;
    probe.ip_id = 0xbeef;
    std::vector<std::uint8_t> out(builder->size());
    builder->build(probe, out);

    EXPECT_EQ(out[0], 0x45);
    EXPECT_EQ(out[8], 64);         // ttl
    EXPECT_EQ(out[9], 6);          // TCP
    EXPECT_EQ(out[4], 0xbe);       // IP id
    EXPECT_EQ(ipv4_header_checksum(std::span{out}.first(20)), 0);
    auto tcp = std::span{out}.subspan(20);
    EXPECT_EQ(tcp[12] >> 4, 6);    // data offset: 24 bytes
    EXPECT_EQ(tcp[13], TcpFlags::syn);
    EXPECT_EQ((tcp[14] << 8) | tcp[15], 1024);
    EXPECT_EQ(tcp[20], 2);         // MSS option kind
    EXPECT_EQ((tcp[22] << 8) | tcp[23], 1460);
    EXPECT_EQ(transport_checksum(probe.src, probe.dst, 6, tcp), 0);  // a valid checksum sums to zero

    auto decoded = decode_ipv4(ByteView{out});
    ASSERT_TRUE(decoded && decoded->tcp);
    EXPECT_EQ(decoded->ip.src, probe.src);
    EXPECT_EQ(decoded->ip.dst, probe.dst);
    EXPECT_EQ(decoded->tcp->sport, Port{40000});
    EXPECT_EQ(decoded->tcp->dport, Port{22});
    EXPECT_EQ(decoded->tcp->seq, 0x01020304u);
    EXPECT_EQ(decoded->tcp->ack, 0u);
}

TEST(ProbeBuilder, EveryKindCarriesItsFlags) {
    for (const auto& kind : all_probe_kinds()) {
        auto builder = ProbeBuilder::create(kind, ProbeShape{});
        ASSERT_TRUE(builder);
        Probe probe;
        probe.src = Ipv4{10, 0, 0, 1};
        probe.dst = Ipv4{10, 0, 0, 2};
        probe.ack = 77;
        std::vector<std::uint8_t> out(builder->size());
        builder->build(probe, out);
        auto decoded = decode_ipv4(ByteView{out});
        ASSERT_TRUE(decoded && decoded->tcp);
        EXPECT_EQ(decoded->tcp->flags, kind.flags) << kind.name;
    }
}

TEST(ProbeBuilder, NoOptionsWhenMssIsZero) {
    auto builder = ProbeBuilder::create(syn_kind(), ProbeShape{50, 2048, 0});
    ASSERT_TRUE(builder);
    EXPECT_EQ(builder->size(), 40u);
}

}  // namespace
}  // namespace flagscan

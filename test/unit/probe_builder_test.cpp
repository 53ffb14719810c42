// The libnet-built template and its per-probe patching: fields and checksums byte for byte.
#include <gtest/gtest.h>

#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/engine/correlator.hpp"
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

namespace flagscan {
namespace {

// RFC 826 request as the builder writes it, read back by the decoder as a reply would be.
TEST(ProbeBuilder, ArpRequestFrame) {
    const MacAddress mac{0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
    const ProbeKind* kinds[] = {&ping_arp_kind()};
    auto builder = ProbeBuilder::create(kinds, ProbeShape{64, 1024, 1460, mac});
    ASSERT_TRUE(builder) << builder.error();
    Probe probe;
    probe.src = Ipv4{10, 77, 0, 33};
    probe.dst = Ipv4{10, 77, 0, 34};
    std::vector<std::uint8_t> out(builder->size());
    ASSERT_EQ(builder->build(probe, out), 42u);  // Ethernet 14 + ARP 28
    for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i], 0xff);  // broadcast
    EXPECT_EQ(out[6], 0x02);
    EXPECT_EQ(out[11], 0x30);
    EXPECT_EQ(out[12], 0x08);
    EXPECT_EQ(out[13], 0x06);  // EtherType ARP
    EXPECT_EQ(out[14 + 7], 1);  // operation: request
    EXPECT_EQ(out[14 + 8], 0x02);  // sender hardware address
    EXPECT_EQ(out[14 + 17], 33);   // sender protocol address 10.77.0.33
    EXPECT_EQ(out[14 + 27], 34);   // target protocol address 10.77.0.34
    auto decoded = decode_frame(LinkType::ethernet, ByteView{out});
    ASSERT_TRUE(decoded && decoded->arp);
    EXPECT_EQ(decoded->arp->operation, 1);
    EXPECT_EQ(decoded->ip.src, probe.src);
    EXPECT_EQ(decoded->ip.dst, probe.dst);
    EXPECT_EQ(decoded->arp->sender_mac, mac);
}

// A reply to us is tied to the open ARP probe of its sender; a request, or a reply to someone
// else, is not.
TEST(Correlator, ArpReplyNamesItsSender) {
    const Ipv4 us{10, 77, 0, 33};
    const Correlator correlator{ScannerIdentity{us, Port{40000}, 3}, CookieKey{1, 2}, {&ping_arp_kind()}};
    std::vector<std::uint8_t> reply{0, 1, 2, 3, 4, 5, 2, 0, 0, 0, 0, 0x22, 0x08, 0x06,  // Ethernet
                                    0, 1, 8, 0, 6, 4, 0, 2,                              // reply
                                    2, 0, 0, 0, 0, 0x22, 10, 77, 0, 34,                  // sender
                                    0, 1, 2, 3, 4, 5, 10, 77, 0, 33};                    // target: us
    auto decoded = decode_frame(LinkType::ethernet, ByteView{reply});
    ASSERT_TRUE(decoded && decoded->arp);
    auto answer = correlator.identify(*decoded);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->target, (Ipv4{10, 77, 0, 34}));
    EXPECT_EQ(answer->evidence.kind, ReplyEvidence::Kind::arp_reply);
    reply[21] = 1;  // a request
    EXPECT_FALSE(correlator.identify(*decode_frame(LinkType::ethernet, ByteView{reply})));
    reply[21] = 2;
    reply[41] = 99;  // for 10.77.0.99, not us
    EXPECT_FALSE(correlator.identify(*decode_frame(LinkType::ethernet, ByteView{reply})));
}

}  // namespace
}  // namespace flagscan

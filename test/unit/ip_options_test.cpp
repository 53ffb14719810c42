// --ip-options: nmap's spellings into RFC 791 option bytes, and probes that carry them (header
// length, checksums, source route addressing), fragmented and decoyed.
#include <gtest/gtest.h>

#include <algorithm>

#include "flagscan/cli/options.hpp"
#include "flagscan/cli/scan_plan.hpp"
#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/reassembly.hpp"
#include "flagscan/probe/ip_options.hpp"
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/wire/decoys.hpp"
#include "flagscan/wire/fragments.hpp"
#include "sample_probes.hpp"

namespace flagscan {
namespace {

using Bytes = std::vector<std::uint8_t>;
const Ipv4 kMe{10, 77, 72, 1}, kTarget{10, 77, 72, 2};

Bytes options_of(const std::string& text) {
    const auto parsed = parse_ip_options(text);
    EXPECT_TRUE(parsed) << text << ": " << parsed.error();
    return parsed ? parsed->bytes : Bytes{};
}

Bytes with_zeros(Bytes head, std::size_t size) {
    head.resize(size, 0);
    return head;
}

TEST(IpOptions, RecordRouteAndTimestamps) {
    EXPECT_EQ(options_of("R"), with_zeros({1, 7, 39, 4}, 40));       // NOP, RR of 9 slots
    EXPECT_EQ(options_of("T"), with_zeros({68, 40, 5, 0}, 40));      // 9 timestamps
    EXPECT_EQ(options_of("U"), with_zeros({68, 36, 5, 1}, 36));      // 4 address + timestamp pairs
    EXPECT_EQ(options_of(" R "), options_of("R"));
}

TEST(IpOptions, SourceRoutes) {
    const auto loose = parse_ip_options("L 10.77.72.9 10.77.72.10");
    ASSERT_TRUE(loose);
    EXPECT_EQ(loose->bytes, (Bytes{1, 131, 15, 4, 10, 77, 72, 9, 10, 77, 72, 10, 0, 0, 0, 0}));
    EXPECT_EQ(loose->first_hop, 4u);
    EXPECT_EQ(loose->last_hop, 12u);
    const auto strict = parse_ip_options("S 10.0.0.1,10.0.0.2,10.0.0.3");
    ASSERT_TRUE(strict);
    EXPECT_EQ(strict->bytes[1], 137);
    EXPECT_EQ(strict->bytes[2], 19);
    EXPECT_EQ(strict->bytes.size(), 20u);  // 1 + 19, padded with one 0
    EXPECT_TRUE(parse_ip_options("L 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8"));
    EXPECT_EQ(describe_ip_options(*loose), "loose source route via 10.77.72.9, 10.77.72.10");
}

TEST(IpOptions, BytesPaddedToFour) {
    EXPECT_EQ(options_of("\\x01\\x07\\x27"), (Bytes{1, 7, 0x27, 0}));
    EXPECT_EQ(options_of("\\1\\7\\39"), (Bytes{1, 7, 39, 0}));
    EXPECT_EQ(options_of("\\x01*4"), (Bytes{1, 1, 1, 1}));
    EXPECT_EQ(options_of("\\x94\\x04\\x00\\x00"), (Bytes{0x94, 4, 0, 0}));  // router alert (RFC 2113)
    EXPECT_EQ(options_of("\\x01*40").size(), 40u);
    EXPECT_EQ(describe_ip_options(*parse_ip_options("\\x94\\x04\\x00\\x00")), "bytes 94 04 00 00");
    EXPECT_EQ(describe_ip_options(*parse_ip_options("R")), "record route (9 slots)");
    EXPECT_EQ(describe_ip_options(*parse_ip_options("U")), "timestamps with addresses (4 slots)");
}

TEST(IpOptions, RefusedWithOneLine) {
    for (const std::string& bad : std::vector<std::string>{
             "", "X", "R 1.2.3.4", "T x", "L", "L 10.0.0.300", "S 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8 1.1.1.9",
             "\\x1ff", "\\256", "\\", "\\xzz", "*3", "\\x01*1", "\\x01*41", "\\x01*40\\x01", "RR"}) {
        const auto r = parse_ip_options(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().find('\n'), std::string::npos);
        EXPECT_EQ(r.error().rfind("bad --ip-options", 0), 0u) << r.error();
    }
}

Bytes built(const ProbeKind& kind, const IpOptions& options) {
    ProbeShape shape;
    shape.ip_options = options;
    return testing::built_probe(kind, shape, {.src = kMe, .dst = kTarget, .sport = Port{40000}, .dport = Port{22}, .seq = 0x01020304, .ip_id = 0xbeef});
}

// RFC 791: IHL counts the options, the total length and the header checksum cover them; the
// transport header starts after them, its checksum right; the decoder reads the probe back.
TEST(IpOptions, InEveryProbeKind) {
    const IpOptions rr = *parse_ip_options("R");
    for (const ProbeKind* kind : {&syn_kind(), &udp_kind(), &ping_echo_kind(), &ping_timestamp_kind()}) {
        SCOPED_TRACE(std::string(kind->name));
        const Bytes plain = built(*kind, {});
        const Bytes p = built(*kind, rr);
        ASSERT_EQ(p.size(), plain.size() + 40);
        EXPECT_EQ(p[0], 0x4f);  // 15 words
        EXPECT_EQ(ByteView{p}.be16(2).value_or(0), p.size());
        EXPECT_EQ(ipv4_header_checksum(std::span{p}.first(60)), 0);
        EXPECT_TRUE(std::equal(rr.bytes.begin(), rr.bytes.end(), p.begin() + 20));
        EXPECT_TRUE(std::equal(p.begin() + 60, p.end(), plain.begin() + 20));  // the same transport bytes
        const std::span<const std::uint8_t> transport{p.data() + 60, p.size() - 60};
        if (kind->protocol == ipproto::icmp) {
            EXPECT_EQ(checksum_finish(checksum_add(transport)), 0);
        } else {
            EXPECT_EQ(transport_checksum(kMe, kTarget, kind->protocol, transport), 0);
        }
        const auto decoded = decode_ipv4(ByteView{p});
        ASSERT_TRUE(decoded);
        EXPECT_EQ(decoded->ip.dst, kTarget);
        if (kind->protocol == ipproto::tcp) {
            ASSERT_TRUE(decoded->tcp);
            EXPECT_EQ(decoded->tcp->dport, Port{22});
            EXPECT_EQ(decoded->tcp->seq, 0x01020304u);
        }
    }
    const Bytes four = built(syn_kind(), *parse_ip_options("\\x94\\x04\\x00\\x00"));
    EXPECT_EQ(four[0], 0x46);
    EXPECT_EQ(four.size(), 48u);
}

// nmap's source routing: addressed to the first hop, the target in the route's last slot; the
// TCP checksum is over the final destination's pseudo-header.
TEST(IpOptions, SourceRouteAddressesTheFirstHop) {
    const Bytes p = built(syn_kind(), *parse_ip_options("L 10.77.72.9 10.77.72.10"));
    ASSERT_EQ(p.size(), 20u + 16 + 24);
    EXPECT_EQ(p[0], 0x49);
    EXPECT_EQ(Ipv4{ByteView{p}.be32(16).value_or(0)}, (Ipv4{10, 77, 72, 9}));
    EXPECT_EQ(Ipv4{ByteView{p}.be32(20 + 12).value_or(0)}, kTarget);
    EXPECT_EQ(ipv4_header_checksum(std::span{p}.first(36)), 0);
    EXPECT_EQ(transport_checksum(kMe, kTarget, 6, std::span{p}.subspan(36)), 0);
}

// -f keeps copied options (LSRR, type 131) in every fragment and record route (7) in the first
// only (RFC 791 3.1); -D's copies keep the options with valid checksums.
TEST(IpOptions, WithFragmentsAndDecoys) {
    const Bytes rr = built(syn_kind(), *parse_ip_options("R"));
    const auto pieces = fragment_ipv4(rr, 8);
    ASSERT_EQ(pieces.size(), 3u);
    EXPECT_EQ(pieces[0][0], 0x4f);
    EXPECT_EQ(pieces[1][0], 0x45);
    Ipv4Reassembler reassembler;
    std::optional<std::vector<std::uint8_t>> whole;
    for (const auto& piece : pieces) whole = reassembler.add(ByteView{piece}, 0);
    ASSERT_TRUE(whole);
    const Bytes lsrr = built(syn_kind(), *parse_ip_options("L 10.77.72.9"));
    for (const auto& piece : fragment_ipv4(lsrr, 8)) {
        EXPECT_EQ(piece[0], 0x48);
        EXPECT_NE(std::find(piece.begin() + 20, piece.begin() + 32, 131), piece.begin() + 32);
    }
    const Ipv4 decoy{10, 77, 72, 200};
    const Bytes copy = with_source(rr, decoy);
    EXPECT_EQ(ipv4_header_checksum(std::span{copy}.first(60)), 0);
    EXPECT_EQ(transport_checksum(decoy, kTarget, 6, std::span{copy}.subspan(60)), 0);
}

Result<CommandLine> parse(std::vector<std::string> args) {
    std::vector<const char*> argv{"flagscan"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(IpOptionsOption, SpellingAndExplain) {
    const auto line = parse({"--ip-options", "R", "10.0.0.1"});
    ASSERT_TRUE(line) << line.error();
    EXPECT_EQ(line->config.ip_options.bytes.size(), 40u);
    EXPECT_TRUE(parse({"10.0.0.1"})->config.ip_options.empty());
    const auto bad = parse({"--ip-options", "Q", "10.0.0.1"});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().find('\n'), std::string::npos);
    const auto said = shaping_sentences(line->config);
    ASSERT_EQ(said.size(), 1u);
    EXPECT_NE(said[0].find("40 bytes of options"), std::string::npos) << said[0];
    EXPECT_NE(said[0].find("record route (9 slots)"), std::string::npos) << said[0];
}

}  // namespace
}  // namespace flagscan

// The passive OS hint: built SYN-ACKs (Linux, Windows, BSD option layouts, TTL edges) and the engine keeping the first.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/os/os_hint.hpp"
#include "flagscan/output/report.hpp"
#include "sim_scan.hpp"

namespace flagscan {
namespace {

using Bytes = std::vector<std::uint8_t>;

// TCP options as stacks write them (RFC 793 3.1, RFC 2018, RFC 7323).
const Bytes kMss1460{2, 4, 0x05, 0xb4};
const Bytes kNop{1};
const Bytes kSackOk{4, 2};
const Bytes kTimestamps{8, 10, 0, 0, 0, 1, 0, 0, 0, 0};
Bytes wscale(std::uint8_t shift) { return {3, 3, shift}; }
Bytes join(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
    return out;
}

// Linux's reply to a SYN offering everything: mss,sok,ts,nop,ws.
const Bytes kLinux = join({kMss1460, kSackOk, kTimestamps, kNop, wscale(7)});
// Windows's: mss,nop,ws,nop,nop,sok (p0f's Windows 7/8 row).
const Bytes kWindows = join({kMss1460, kNop, wscale(8), kNop, kNop, kSackOk});
// FreeBSD's / macOS's: mss,nop,ws,nop,nop,ts,sok,eol (and a byte of padding).
const Bytes kBsd = join({kMss1460, kNop, wscale(6), kNop, kNop, kTimestamps, kSackOk, Bytes{0, 0}});

// A SYN-ACK from 10.77.0.2:22, through the decoder as a capture's would go.
DecodedPacket syn_ack(std::uint8_t ttl, bool df, std::uint16_t window, const Bytes& options) {
    Bytes p(40 + options.size());
    p[0] = 0x45;
    const auto total = static_cast<std::uint16_t>(p.size());
    p[2] = static_cast<std::uint8_t>(total >> 8);
    p[3] = static_cast<std::uint8_t>(total);
    p[6] = df ? 0x40 : 0;
    p[8] = ttl;
    p[9] = ipproto::tcp;
    const std::uint8_t addresses[8] = {10, 77, 0, 2, 10, 77, 0, 1};
    std::copy(std::begin(addresses), std::end(addresses), p.begin() + 12);
    const auto checksum = ipv4_header_checksum(std::span{p}.first(20));
    p[10] = static_cast<std::uint8_t>(checksum >> 8);
    p[11] = static_cast<std::uint8_t>(checksum);
    p[21] = 22;                                                      // source port
    p[32] = static_cast<std::uint8_t>((20 + options.size()) / 4 << 4);  // data offset
    p[33] = TcpFlags::syn | TcpFlags::ack;
    p[34] = static_cast<std::uint8_t>(window >> 8);
    p[35] = static_cast<std::uint8_t>(window);
    std::copy(options.begin(), options.end(), p.begin() + 40);
    auto decoded = decode_ipv4(ByteView{p});
    EXPECT_TRUE(decoded && decoded->tcp);
    return decoded.value_or(DecodedPacket{});
}

OsHint hint_of(std::uint8_t ttl, bool df, std::uint16_t window, const Bytes& options) {
    const DecodedPacket packet = syn_ack(ttl, df, window, options);
    return os_hint(packet.ip.ttl, packet.ip.dont_fragment, packet.tcp->window, packet.tcp->options.view());
}

TEST(OsHint, DecodeKeepsTheOptionsBytes) {
    const DecodedPacket packet = syn_ack(64, true, 65160, kLinux);
    ASSERT_EQ(packet.tcp->options.size, kLinux.size());
    EXPECT_EQ(Bytes(packet.tcp->options.view().span().begin(), packet.tcp->options.view().span().end()), kLinux);
    EXPECT_EQ(syn_ack(64, true, 65160, {}).tcp->options.size, 0);
}

TEST(OsHint, LinuxReplyToAFullSyn) {
    const OsHint hint = hint_of(63, true, 65160, kLinux);
    EXPECT_EQ(hint.family, "Linux 2.6+");
    EXPECT_EQ(hint.facts.initial_ttl, 64);
    EXPECT_EQ(hint.facts.hops, 1);
    EXPECT_EQ(hint.facts.mss, 1460);
    EXPECT_EQ(hint.facts.wscale, 7);
    EXPECT_TRUE(hint.facts.sack);
    EXPECT_TRUE(hint.facts.timestamps);
    EXPECT_EQ(hint.facts.layout, "M,S,T,N,W");
    EXPECT_EQ(os_hint_text(hint), "Linux 2.6+ (TTL 64, window 65160, MSS 1460, options M,S,T,N,W7; distance 2)");
}

// A port scanner's SYN offers an MSS alone, so the reply carries MSS alone (what the lab shows).
TEST(OsHint, LinuxReplyToAScannersSyn) {
    const OsHint hint = hint_of(64, true, 64240, kMss1460);
    EXPECT_EQ(hint.family, "Linux 2.6+");
    EXPECT_FALSE(hint.facts.timestamps);
    EXPECT_FALSE(hint.facts.wscale);
    EXPECT_EQ(os_hint_text(hint), "Linux 2.6+ (TTL 64, window 64240, MSS 1460, options M; distance 1)");
}

TEST(OsHint, WindowsLayout) {
    const OsHint hint = hint_of(120, true, 8192, kWindows);
    EXPECT_EQ(hint.family, "Windows");
    EXPECT_EQ(hint.facts.hops, 8);
    EXPECT_EQ(hint.facts.options, "M,N,W8,N,N,S");
    EXPECT_FALSE(hint.facts.timestamps);
}

TEST(OsHint, BsdLayoutWithEndOfList) {
    const OsHint hint = hint_of(64, true, 65535, kBsd);
    EXPECT_EQ(hint.family, "FreeBSD or macOS");
    EXPECT_EQ(hint.facts.options, "M,N,W6,N,N,T,S,L");  // the padding after the end of list: one L
    EXPECT_EQ(hint_of(64, true, 65535, kMss1460).family, "FreeBSD or macOS");
}

// The order tells: Linux's options with Windows's TTL, or Windows's order with Linux's TTL, is nobody.
TEST(OsHint, OrderAndTtlMustAgree) {
    EXPECT_EQ(hint_of(128, true, 64240, kLinux).family, "unknown");
    EXPECT_EQ(hint_of(128, true, 64240, kMss1460).family, "unknown");  // Windows rows need p0f's windows
    EXPECT_EQ(hint_of(64, true, 8192, kWindows).family, "unknown");
    EXPECT_EQ(hint_of(64, false, 64240, kLinux).family, "unknown");  // p0f's Linux rows set DF
    const OsHint unknown = hint_of(128, true, 64240, kLinux);
    EXPECT_EQ(os_hint_text(unknown), "unknown (TTL 128, window 64240, MSS 1460, options M,S,T,N,W7; distance 1)");
}

TEST(OsHint, TtlRoundsUpAtEachEdge) {
    struct Case {
        std::uint8_t ttl, initial, hops;
    };
    for (const Case c : {Case{1, 32, 31}, Case{32, 32, 0}, Case{33, 64, 31}, Case{64, 64, 0}, Case{65, 128, 63},
                         Case{128, 128, 0}, Case{129, 255, 126}, Case{255, 255, 0}}) {
        const SynAckFacts facts = syn_ack_facts(c.ttl, true, 1024, ByteView{kMss1460});
        EXPECT_EQ(facts.initial_ttl, c.initial) << int{c.ttl};
        EXPECT_EQ(facts.hops, c.hops) << int{c.ttl};
    }
}

TEST(OsHint, NetworkDevicesAnswerWithTtl255) {
    const OsHint hint = hint_of(254, false, 4128, kMss1460);
    EXPECT_EQ(hint.family, "network device or Solaris");
    EXPECT_EQ(os_hint_text(hint), "network device or Solaris (TTL 255, no DF, window 4128, MSS 1460, options M; distance 2)");
}

TEST(OsHint, NoOptionsAndBrokenOptionsStillGiveTheFacts) {
    EXPECT_EQ(os_hint_text(hint_of(64, true, 5840, {})), "unknown (TTL 64, window 5840, no options; distance 1)");
    const OsHint broken = hint_of(64, true, 5840, Bytes{2, 1, 0, 0});  // an MSS with length 1
    EXPECT_TRUE(broken.facts.malformed);
    EXPECT_EQ(broken.family, "unknown");
    EXPECT_EQ(os_hint_text(broken), "unknown (TTL 64, window 5840, options malformed; distance 1)");
}

TEST(OsHint, EveryRowCitesItsSource) {
    for (const HintSignature& row : hint_signatures()) {
        EXPECT_FALSE(row.source.empty()) << row.family;
        EXPECT_TRUE(row.initial_ttl == 32 || row.initial_ttl == 64 || row.initial_ttl == 128 || row.initial_ttl == 255);
    }
}

// The engine keeps each host's first SYN-ACK, and nothing for a host that sent none.
TEST(OsHint, EngineKeepsTheFirstSynAckPerHost) {
    using namespace flagscan::testing;
    const Ipv4 open_host{10, 77, 0, 2}, closed_host{10, 77, 0, 3};
    SimConfig net;
    net.hosts[open_host].open = {22, 80};
    net.hosts[closed_host];
    AddressSet hosts;
    hosts.add(open_host);
    hosts.add(closed_host);
    SimScan scan{hosts, port_range(20, 90), net};
    scan.run();
    const SynAckSeen* seen = scan.results->syn_ack(*scan.targets.hosts().index_of(open_host));
    ASSERT_NE(seen, nullptr);
    EXPECT_EQ(seen->ttl, net.hosts[open_host].ttl);
    EXPECT_EQ(seen->window, 64240);
    EXPECT_EQ(scan.results->syn_ack(*scan.targets.hosts().index_of(closed_host)), nullptr);
}

// Normal output says it with --reason only (a line nmap has not); JSON's host object always.
TEST(OsHint, ReportedWithReasonAndInJson) {
    using namespace flagscan::testing;
    const Ipv4 target{10, 77, 0, 2};
    SimConfig net;
    net.hosts[target].open = {22};
    net.hosts[target].ttl = 62;
    SimScan scan{one_host(target), port_range(20, 30), net};
    scan.run();
    const std::string expected = "unknown (TTL 64, window 64240, no options; distance 3)";  // the sim offers no options
    auto normal = [&](bool reason) {
        std::ostringstream out;
        ReportOptions options;
        options.reason = reason;
        write_normal(out, *scan.results, ServiceTable::from_etc_services(""), options, ScanSummary{});
        return out.str();
    };
    EXPECT_NE(normal(true).find(" latency).\nOS hint: " + expected + "\nPORT "), std::string::npos)
        << normal(true);
    EXPECT_EQ(normal(false).find("OS hint"), std::string::npos);
    std::ostringstream json;
    write_jsonl(json, *scan.results, ReportOptions{}, ScanSummary{});
    EXPECT_NE(json.str().find(R"("status":"up","os_hint":")" + expected + R"(","counts")"), std::string::npos) << json.str();
}

}  // namespace
}  // namespace flagscan

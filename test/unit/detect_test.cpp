// Tests for the scan detector: built packets for each rule, the thresholds' edges, benign traffic.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "flagscan/cli/detect.hpp"
#include "flagscan/detect/detector.hpp"
#include "flagscan/output/detect_report.hpp"
#include "flagscan/wire/sim_network.hpp"

namespace flagscan {
namespace {

const Ipv4 kScanner{10, 77, 21, 1};
const Ipv4 kTarget{10, 77, 21, 2};
constexpr Micros kT0 = 1'800'000'000 * kSecond;  // 2027-01-15, any epoch time will do
constexpr std::uint8_t S = TcpFlags::syn, A = TcpFlags::ack, R = TcpFlags::rst, Fi = TcpFlags::fin,
                       P = TcpFlags::psh, U = TcpFlags::urg;

DecodedPacket decoded(const std::vector<std::uint8_t>& bytes) {
    auto p = decode_ipv4(ByteView{bytes});
    EXPECT_TRUE(p);
    return p.value_or(DecodedPacket{});
}

DecodedPacket tcp(Ipv4 src, Ipv4 dst, std::uint16_t sport, std::uint16_t dport, std::uint8_t flags,
                  std::uint16_t window = 1024, std::uint32_t seq = 1000) {
    return decoded(make_tcp_packet(src, dst, Port{sport}, Port{dport}, seq, 0, TcpFlags{flags}, window, 50));
}

DecodedPacket udp(Ipv4 src, Ipv4 dst, std::uint16_t sport, std::uint16_t dport, std::size_t length = 0) {
    std::vector<std::uint8_t> payload(length, 'x');
    return decoded(make_udp_packet(src, dst, Port{sport}, Port{dport}, payload, 64));
}

DecodedPacket arp(Ipv4 sender, Ipv4 target, std::uint16_t operation) {
    DecodedPacket p;
    p.ip.src = sender;
    p.ip.dst = target;
    p.ip.protocol = ipproto::arp;
    p.arp = ArpHeader{operation, MacAddress{}, sender, target};
    return p;
}

// A probe of FLAGS to PORT, answered by the target with ANSWER (0: nothing).
void probe_port(Detector& d, Micros at, std::uint16_t port, std::uint8_t flags, std::uint8_t answer = R,
                Ipv4 from = kScanner, Ipv4 to = kTarget) {
    d.on_packet(tcp(from, to, 40000, port, flags), at);
    if (answer) d.on_packet(tcp(to, from, port, 40000, answer, 0), at + 100);
}

std::vector<std::unique_ptr<Alert>> all(Detector& d) { return d.finish(); }

TEST(Detect, SynScanBelowThresholdIsQuietAtThresholdAlerts) {
    Detector d(DetectConfig{});
    for (std::uint16_t p = 1; p < 10; ++p) probe_port(d, kT0 + p * 1000, p, S, R | A);
    EXPECT_TRUE(d.take_raised().empty());  // 9 ports: P - 1
    probe_port(d, kT0 + 10'000, 10, S, R | A);
    auto raised = d.take_raised();
    ASSERT_EQ(raised.size(), 1u);
    EXPECT_EQ(raised[0]->kind, ScanKind::syn);
    EXPECT_EQ(raised[0]->shape(), ScanShape::vertical);
    EXPECT_EQ(raised[0]->sources, std::vector<Ipv4>{kScanner});
}

TEST(Detect, PortsOutsideTheWindowDoNotAddUp) {
    DetectConfig c;
    Detector d(c);
    // 10 ports, one every 0.6 s: the first has left the 5 s window when the tenth comes.
    for (std::uint16_t p = 1; p <= 10; ++p) probe_port(d, kT0 + p * 600 * kMillisecond, p, S, R | A);
    EXPECT_TRUE(d.take_raised().empty());
    Detector inside(c);  // 0.5 s apart: 4.5 s from first to last, inside the window
    for (std::uint16_t p = 1; p <= 10; ++p) probe_port(inside, kT0 + p * 500 * kMillisecond, p, S, R | A);
    EXPECT_EQ(inside.take_raised().size(), 1u);
}

TEST(Detect, ThresholdsAreOptions) {
    DetectConfig c;
    c.ports_threshold = 3;
    Detector d(c);
    for (std::uint16_t p = 1; p <= 3; ++p) probe_port(d, kT0 + p, p, Fi, 0);
    EXPECT_EQ(d.take_raised().size(), 1u);
}

struct KindCase {
    std::uint8_t flags;
    ScanKind kind;
};

TEST(Detect, EveryTcpKindFromItsFlags) {
    for (auto [flags, kind] : {KindCase{Fi, ScanKind::fin}, KindCase{0, ScanKind::null}, KindCase{Fi | P | U, ScanKind::xmas},
                               KindCase{A, ScanKind::ack_window}, KindCase{Fi | A, ScanKind::maimon},
                               KindCase{S | Fi, ScanKind::odd_flags}, KindCase{U, ScanKind::odd_flags}}) {
        Detector d(DetectConfig{});
        for (std::uint16_t p = 1; p <= 12; ++p) probe_port(d, kT0 + p * 1000, p, flags, R);
        auto alerts = all(d);
        ASSERT_EQ(alerts.size(), 1u) << int(flags);
        EXPECT_EQ(alerts[0]->kind, kind) << int(flags);
        EXPECT_EQ(port_set_text(alerts[0]->ports), "1-12");
        EXPECT_EQ(alerts[0]->probes, 12u);
    }
}

TEST(Detect, OpenPortsAreTheTargetsSynAcks) {
    Detector d(DetectConfig{});
    for (std::uint16_t p = 20; p <= 40; ++p) probe_port(d, kT0 + p, p, S, (p == 22 || p == 25) ? S | A : R | A);
    auto alerts = all(d);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(port_set_text(alerts[0]->open), "22,25");
    EXPECT_EQ(alerts[0]->kind, ScanKind::syn);
}

TEST(Detect, ConnectScanCompletesHandshakes) {
    Detector d(DetectConfig{});
    for (std::uint16_t p = 1; p <= 12; ++p) {
        auto syn = tcp(kScanner, kTarget, 50000 + p, p, S, 64240);
        syn.tcp->header_length = 40;  // Linux connect(): MSS, SACK, timestamps, window scale
        d.on_packet(syn, kT0 + p * 1000);
        if (p % 4 == 0) {  // open: SYN+ACK, the source's ACK, then its RST (nmap -sT closes at once)
            d.on_packet(tcp(kTarget, kScanner, p, 50000 + p, S | A, 64240), kT0 + p * 1000 + 10);
            d.on_packet(tcp(kScanner, kTarget, 50000 + p, p, A, 502), kT0 + p * 1000 + 20);
            d.on_packet(tcp(kScanner, kTarget, 50000 + p, p, R | A, 502), kT0 + p * 1000 + 30);
        } else {
            d.on_packet(tcp(kTarget, kScanner, p, 50000 + p, R | A, 0), kT0 + p * 1000 + 10);
        }
    }
    auto alerts = all(d);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0]->kind, ScanKind::connect);
    EXPECT_EQ(alerts[0]->handshakes, 3u);
    EXPECT_EQ(port_set_text(alerts[0]->open), "4,8,12");
}

TEST(Detect, UdpScanWithPortUnreachables) {
    Detector d(DetectConfig{});
    for (std::uint16_t p = 1; p <= 12; ++p) {
        auto probe = make_udp_packet(kScanner, kTarget, Port{40000}, Port{p}, {}, 64);
        d.on_packet(decoded(probe), kT0 + p * 1000);
        if (p == 7) d.on_packet(udp(kTarget, kScanner, 7, 40000, 8), kT0 + p * 1000 + 10);  // echo answers
        else d.on_packet(decoded(make_icmp_error(kTarget, 3, 3, probe, 64)), kT0 + p * 1000 + 10);
    }
    auto alerts = all(d);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0]->kind, ScanKind::udp);
    EXPECT_EQ(port_set_text(alerts[0]->open), "7");
}

TEST(Detect, IcmpEchoAndTimestampSweepsAreHorizontal) {
    for (auto [type, kind] : {std::pair{icmp_type::echo, ScanKind::icmp_echo}, std::pair{icmp_type::timestamp, ScanKind::icmp_timestamp}}) {
        Detector d(DetectConfig{});
        for (std::uint8_t h = 1; h <= 20; ++h)
            d.on_packet(decoded(make_icmp_query(kScanner, Ipv4{10, 77, 22, h}, type, 7, h, {}, 64)), kT0 + h * 1000);
        auto alerts = all(d);
        ASSERT_EQ(alerts.size(), 1u);
        EXPECT_EQ(alerts[0]->kind, kind);
        EXPECT_EQ(alerts[0]->shape(), ScanShape::horizontal);
        EXPECT_EQ(alerts[0]->target_count, 20u);
    }
}

TEST(Detect, ArpSweep) {
    Detector d(DetectConfig{});
    for (std::uint8_t h = 1; h <= 30; ++h) d.on_packet(arp(kScanner, Ipv4{10, 77, 22, h}, 1), kT0 + h * 1000);
    d.on_packet(arp(kScanner, kScanner, 1), kT0 + 40'000);  // gratuitous: not a probe
    auto alerts = all(d);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0]->kind, ScanKind::arp);
    EXPECT_EQ(alerts[0]->target_count, 30u);
}

TEST(Detect, FragmentedProbesAreTheirOwnKind) {
    Detector d(DetectConfig{});
    for (std::uint16_t p = 1; p <= 12; ++p) d.on_packet(tcp(kScanner, kTarget, 40000, p, S), kT0 + p, true);
    auto alerts = all(d);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0]->kind, ScanKind::fragments);
}

TEST(Detect, HorizontalAndBlockShapes) {
    Detector h(DetectConfig{});
    for (std::uint8_t i = 1; i <= 12; ++i) probe_port(h, kT0 + i, 445, S, R | A, kScanner, Ipv4{10, 77, 22, i});
    auto ha = all(h);
    ASSERT_EQ(ha.size(), 1u);
    EXPECT_EQ(ha[0]->shape(), ScanShape::horizontal);
    Detector b(DetectConfig{});
    for (std::uint8_t i = 1; i <= 12; ++i)
        for (std::uint16_t p : {22, 80}) probe_port(b, kT0 + i * 10 + p, p, S, R | A, kScanner, Ipv4{10, 77, 22, i});
    auto ba = all(b);
    ASSERT_EQ(ba.size(), 1u);
    EXPECT_EQ(ba[0]->shape(), ScanShape::block);
}

TEST(Detect, SlowScanOnlyWithTheSlowWindow) {
    auto run = [](Micros slow_window) {
        DetectConfig c;
        c.slow_window = slow_window;
        Detector d(c);
        for (std::uint16_t p = 1; p <= 15; ++p) probe_port(d, kT0 + p * 3 * kSecond, p, S, R | A);  // one per 3 s
        return all(d);
    };
    EXPECT_TRUE(run(0).empty());
    auto alerts = run(600 * kSecond);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_TRUE(alerts[0]->slow);
}

TEST(Detect, SlowWindowDecays) {
    DetectConfig c;
    c.slow_window = 60 * kSecond;
    Detector d(c);
    // One port every 10 s: never 10 inside a minute.
    for (std::uint16_t p = 1; p <= 30; ++p) probe_port(d, kT0 + p * 10 * kSecond, p, S, R | A);
    EXPECT_TRUE(all(d).empty());
}

TEST(Detect, DistributedSlicesAreGrouped) {
    Detector d(DetectConfig{});
    const Ipv4 sources[] = {{10, 77, 21, 11}, {10, 77, 21, 12}, {10, 77, 21, 13}};
    for (int s = 0; s < 3; ++s)
        for (std::uint16_t p = 1; p <= 4; ++p) probe_port(d, kT0 + (s * 4 + p) * 1000, static_cast<std::uint16_t>(s * 4 + p), S, R | A, sources[s]);
    auto alerts = all(d);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_TRUE(alerts[0]->distributed);
    EXPECT_EQ(alerts[0]->sources.size(), 3u);
    EXPECT_EQ(port_set_text(alerts[0]->ports), "1-12");
}

// Three sources, each SYN to port 22 of four of the twelve hosts (each below the hosts threshold):
// one sweep split by hosts, answered by RSTs (refused: failures).
TEST(Detect, DistributedHostSlicesAreGrouped) {
    Detector d(DetectConfig{});
    const Ipv4 sources[] = {{10, 77, 21, 11}, {10, 77, 21, 12}, {10, 77, 21, 13}};
    for (std::uint8_t s = 0; s < 3; ++s)
        for (std::uint8_t h = 1; h <= 4; ++h)
            probe_port(d, kT0 + (s * 4 + h) * 1000, 22, S, R | A, sources[s], Ipv4{10, 77, 22, static_cast<std::uint8_t>(s * 4 + h)});
    auto raised = d.take_raised();
    ASSERT_EQ(raised.size(), 1u);  // raised as the sweep happens, not at the end
    auto alerts = all(d);
    ASSERT_EQ(alerts.size(), 1u);
    const Alert& a = *alerts[0];
    EXPECT_TRUE(a.distributed);
    EXPECT_EQ(a.sources.size(), 3u);
    EXPECT_EQ(a.shape(), ScanShape::horizontal);
    EXPECT_EQ(a.target_count, 12u);
    EXPECT_EQ(port_set_text(a.ports), "22");
    EXPECT_NE(a.remarks().find("3 sources, disjoint host slices of one port"), std::string::npos) << a.remarks();
}

// Unanswered slices fail once the answer grace has passed: the alert waits for that, then comes.
TEST(Detect, DistributedHostSlicesOfSilentHostsAreGroupedOnceAged) {
    Detector d(DetectConfig{});
    for (std::uint8_t s = 0; s < 2; ++s)
        for (std::uint8_t h = 1; h <= 5; ++h)
            probe_port(d, kT0 + (s * 5 + h) * 1000, 3389, S, 0, Ipv4{10, 77, 21, static_cast<std::uint8_t>(11 + s)},
                       Ipv4{10, 77, 22, static_cast<std::uint8_t>(s * 5 + h)});
    EXPECT_TRUE(d.take_raised().empty());  // every probe still awaits its answer
    EXPECT_TRUE(d.take_finished(kT0 + 2 * kSecond).empty());
    auto raised = d.take_raised();
    ASSERT_EQ(raised.size(), 1u);
    EXPECT_TRUE(raised[0]->distributed);
    EXPECT_EQ(raised[0]->target_count, 10u);
}

// Browsers: each client opens port 443 on four sites, every one accepted and used. Disjoint,
// but a success each time: no scan (TRW).
TEST(Detect, ClientsOfDisjointSitesAreNotDistributed) {
    Detector d(DetectConfig{});
    for (std::uint8_t c = 0; c < 3; ++c)
        for (std::uint8_t h = 1; h <= 4; ++h) {
            const Ipv4 client{10, 77, 23, static_cast<std::uint8_t>(c + 1)};
            const Ipv4 site{10, 77, 24, static_cast<std::uint8_t>(c * 4 + h)};
            const Micros at = kT0 + (c * 4 + h) * 1000;
            probe_port(d, at, 443, S, S | A, client, site);
            d.on_packet(tcp(client, site, 40000, 443, A), at + 200);
        }
    EXPECT_TRUE(all(d).empty());
}

// Two sources each pinging five of ten hosts: one ICMP sweep in slices.
TEST(Detect, DistributedPingSweepIsGrouped) {
    Detector d(DetectConfig{});
    for (std::uint8_t s = 0; s < 2; ++s)
        for (std::uint8_t h = 1; h <= 5; ++h) {
            const Ipv4 from{10, 77, 21, static_cast<std::uint8_t>(11 + s)};
            d.on_packet(decoded(make_icmp_query(from, Ipv4{10, 77, 22, static_cast<std::uint8_t>(s * 5 + h)}, icmp_type::echo, 7, h, {}, 64)),
                        kT0 + (s * 5 + h) * 1000);
        }
    auto alerts = all(d);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_TRUE(alerts[0]->distributed);
    EXPECT_EQ(alerts[0]->kind, ScanKind::icmp_echo);
    EXPECT_EQ(alerts[0]->target_count, 10u);
}

TEST(Detect, ClientsSharingServicesAreNotDistributed) {
    Detector d(DetectConfig{});
    for (std::uint8_t c = 1; c <= 30; ++c)
        for (std::uint16_t p : {22, 80, 443, 8080}) probe_port(d, kT0 + c * 100 + p, p, S, R | A, Ipv4{10, 77, 23, c});
    EXPECT_TRUE(all(d).empty());
}

TEST(Detect, SourcesAreCappedAndEvictionsCounted) {
    DetectConfig c;
    c.max_sources = 4;
    Detector d(c);
    for (std::uint8_t s = 1; s <= 10; ++s) probe_port(d, kT0 + s, 80, S, 0, Ipv4{10, 77, 23, s});
    EXPECT_EQ(d.sources_in_memory(), 4u);
    EXPECT_EQ(d.stats().sources_evicted, 6u);
    EXPECT_EQ(d.stats().sources_tracked, 10u);
}

// More scans open at once than --max-sources: the oldest is ended early (written as it stands),
// none is lost, and the count is reported.
TEST(Detect, OpenAlertsAreCappedAndNoneIsLost) {
    DetectConfig c;
    c.max_sources = 4;
    Detector d(c);
    for (std::uint8_t s = 1; s <= 10; ++s)
        for (std::uint16_t p = 1; p <= 12; ++p) probe_port(d, kT0 + s * 10'000 + p * 100, p, S, R | A, Ipv4{10, 77, 23, s});
    EXPECT_EQ(d.take_raised().size(), 10u);
    EXPECT_EQ(d.stats().alerts_cut, 6u);
    auto alerts = all(d);
    ASSERT_EQ(alerts.size(), 10u);
    for (const auto& a : alerts) EXPECT_EQ(port_set_text(a->ports), "1-12");
}

// nmap sends at most 128 decoys: 130 sources scanning one target at once are a crowd, not decoys.
TEST(Detect, ACrowdIsNotDecoys) {
    Detector d(DetectConfig{});
    for (std::uint16_t p = 1; p <= 12; ++p)
        for (std::uint8_t s = 1; s <= 130; ++s) probe_port(d, kT0 + p * 1000 + s, p, S, R | A, Ipv4{10, 77, 23, s});
    auto alerts = all(d);
    ASSERT_EQ(alerts.size(), 130u);
    for (const auto& a : alerts) EXPECT_TRUE(a->lockstep.empty()) << a->remarks();
}

TEST(Detect, ScanEndsAfterIdleWindow) {
    Detector d(DetectConfig{});
    for (std::uint16_t p = 1; p <= 12; ++p) probe_port(d, kT0 + p, p, Fi, 0);
    EXPECT_TRUE(d.take_finished(kT0 + 2 * kSecond).empty());
    auto done = d.take_finished(kT0 + 6 * kSecond);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_TRUE(d.finish().empty());
}

// --- benign traffic --------------------------------------------------------------------------

// A client's whole TCP session: handshake, a request with data, the answer, FIN both ways.
void session(Detector& d, Micros at, Ipv4 client, std::uint16_t cport, Ipv4 server, std::uint16_t sport) {
    auto syn = tcp(client, server, cport, sport, S, 64240);
    syn.tcp->header_length = 40;
    d.on_packet(syn, at);
    d.on_packet(tcp(server, client, sport, cport, S | A, 65160), at + 100);
    d.on_packet(tcp(client, server, cport, sport, A, 502), at + 200);
    auto request = tcp(client, server, cport, sport, P | A, 502);
    request.ip.total_length += 100;  // 100 bytes of data
    d.on_packet(request, at + 300);
    auto response = tcp(server, client, sport, cport, P | A, 509);
    response.ip.total_length += 1000;
    d.on_packet(response, at + 400);
    d.on_packet(tcp(client, server, cport, sport, Fi | A, 502), at + 500);
    d.on_packet(tcp(server, client, sport, cport, Fi | A, 509), at + 600);
    d.on_packet(tcp(client, server, cport, sport, A, 502), at + 700);
}

TEST(DetectBenign, WebServerWithThousandsOfClients) {
    Detector d(DetectConfig{});
    const Ipv4 server{10, 77, 21, 80};
    for (std::uint32_t c = 0; c < 3000; ++c)
        session(d, kT0 + c * 1000, Ipv4{(10u << 24) | (78u << 16) | c}, static_cast<std::uint16_t>(32768 + c % 20000), server, 80);
    EXPECT_TRUE(all(d).empty());
}

TEST(DetectBenign, BrowsingClientManySites) {
    Detector d(DetectConfig{});
    for (std::uint8_t s = 1; s <= 60; ++s)
        session(d, kT0 + s * 20 * kMillisecond, kScanner, static_cast<std::uint16_t>(40000 + s), Ipv4{93, 184, 1, s}, s % 2 ? 443 : 80);
    EXPECT_TRUE(all(d).empty());
}

TEST(DetectBenign, BrowsingClientWithSomeDeadSites) {
    Detector d(DetectConfig{});
    for (std::uint8_t s = 1; s <= 60; ++s) {
        if (s % 10 == 0) probe_port(d, kT0 + s * 20 * kMillisecond, 443, S, R | A, kScanner, Ipv4{93, 184, 1, s});
        else session(d, kT0 + s * 20 * kMillisecond, kScanner, static_cast<std::uint16_t>(40000 + s), Ipv4{93, 184, 1, s}, 443);
    }
    EXPECT_TRUE(all(d).empty());
}

TEST(DetectBenign, DnsClientAndResolver) {
    Detector d(DetectConfig{});
    const Ipv4 resolver{10, 77, 21, 53};
    for (std::uint16_t q = 0; q < 200; ++q) {  // a client's lookups from random ports, answered
        d.on_packet(udp(kScanner, resolver, static_cast<std::uint16_t>(30000 + q * 7), 53, 30), kT0 + q * 1000);
        d.on_packet(udp(resolver, kScanner, 53, static_cast<std::uint16_t>(30000 + q * 7), 90), kT0 + q * 1000 + 500);
    }
    for (std::uint8_t a = 1; a <= 40; ++a) {  // the resolver asking 40 authoritative servers
        const Ipv4 auth{192, 0, 2, a};
        d.on_packet(udp(resolver, auth, static_cast<std::uint16_t>(20000 + a), 53, 30), kT0 + a * 1000);
        d.on_packet(udp(auth, resolver, 53, static_cast<std::uint16_t>(20000 + a), 200), kT0 + a * 1000 + 300);
    }
    EXPECT_TRUE(all(d).empty());
}

TEST(DetectBenign, NtpSshAndABackupJob) {
    Detector d(DetectConfig{});
    const Ipv4 server{10, 77, 21, 9};
    for (std::uint16_t i = 0; i < 50; ++i) {
        d.on_packet(udp(kScanner, server, 123, 123, 48), kT0 + i * kSecond);
        d.on_packet(udp(server, kScanner, 123, 123, 48), kT0 + i * kSecond + 300);
    }
    session(d, kT0, kScanner, 50022, server, 22);
    for (std::uint16_t i = 0; i < 500; ++i) {  // a long transfer to one port: data both ways
        auto data = tcp(kScanner, server, 50873, 873, P | A, 502);
        data.ip.total_length += 1400;
        d.on_packet(data, kT0 + i * 100);
        d.on_packet(tcp(server, kScanner, 873, 50873, A, 509), kT0 + i * 100 + 50);
    }
    EXPECT_TRUE(all(d).empty());
}

// --- tool guesses ------------------------------------------------------------------------------

ToolGuess guess(const std::function<DecodedPacket(std::uint16_t)>& make) {
    ToolEvidence e;
    for (std::uint16_t p = 1; p <= 50; ++p) e.add(make(p));
    return guess_tool(e, false);
}

TEST(DetectTool, HabitsFromEachToolsSource) {
    auto nmap = guess([](std::uint16_t p) {
        auto d = tcp(kScanner, kTarget, 40000, p, S, 1024);
        d.tcp->header_length = 24;
        d.ip.id = static_cast<std::uint16_t>(p * 7919);
        return d;
    });
    EXPECT_EQ(nmap.tool, "nmap");
    auto masscan = guess([](std::uint16_t p) {
        auto d = tcp(kScanner, kTarget, 61000, p, S, 1024, 0x12345678u + p);
        d.ip.id = static_cast<std::uint16_t>(kTarget.value() ^ p ^ (0x12345678u + p));
        return d;
    });
    EXPECT_EQ(masscan.tool, "masscan");
    auto zmap = guess([](std::uint16_t p) {
        auto d = tcp(kScanner, kTarget, 40000, p, S, 65535);
        d.ip.id = 54321;
        return d;
    });
    EXPECT_EQ(zmap.tool, "zmap");
    auto flagscan = guess([](std::uint16_t p) {
        auto d = tcp(kScanner, kTarget, 40000, p, S, 1024);
        d.ip.id = static_cast<std::uint16_t>(1000 + p);
        return d;
    });
    EXPECT_EQ(flagscan.tool, "flagscan");
    auto hping = guess([](std::uint16_t p) {
        auto d = tcp(kScanner, kTarget, static_cast<std::uint16_t>(1300 + p), p, S, 512);
        d.ip.id = static_cast<std::uint16_t>(p * 7919);
        return d;
    });
    EXPECT_EQ(hping.tool, "hping3");
}

// flagscan's UDP probes: TTL 64, DF clear, one source port per try, IP ids a keyed hash (random);
// its built-in payloads spell FS / FSCN / FLAGSCAN. An OS stack's datagrams carry DF; nmap's TTL
// is 37-59.
TEST(DetectTool, FlagscanUdpProbes) {
    auto raw = [](std::uint16_t sport, std::uint16_t dport) {  // the simulator sets DF; flagscan's template does not
        auto d = udp(kScanner, kTarget, sport, dport);
        d.ip.dont_fragment = false;
        d.ip.id = static_cast<std::uint16_t>(dport * 7919);
        return d;
    };
    auto flagscan = guess([&](std::uint16_t p) {
        auto d = raw(43269, p);
        return d;
    });
    EXPECT_EQ(flagscan.tool, "flagscan");
    EXPECT_NE(flagscan.evidence.find("50/50 UDP probes with TTL 64 and DF clear"), std::string::npos) << flagscan.evidence;
    EXPECT_NE(flagscan.evidence.find("49/49 from the previous probe's source port"), std::string::npos) << flagscan.evidence;
    auto marked = guess([&](std::uint16_t p) {  // built-in payloads, a new source port each: the marks tell
        auto d = raw(static_cast<std::uint16_t>(40000 + p), p);
        if (p == 3) d.udp->head = {'F', 'S', 0, 0, 0, 1}, d.udp->head_length = 6;
        if (p == 5) std::copy_n("FLAGSCAN", 8, d.udp->head.begin()), d.udp->head_length = 8;
        return d;
    });
    EXPECT_EQ(marked.tool, "flagscan");
    EXPECT_EQ(guess([&](std::uint16_t p) { return raw(static_cast<std::uint16_t>(40000 + p), p); }).tool,
              "unknown");  // no mark, a new port each: hping3 -2, a client
    auto resolver = guess([](std::uint16_t p) { return udp(kScanner, kTarget, 43269, p); });  // an OS stack: DF set
    EXPECT_EQ(resolver.tool, "unknown");
    auto nmap = guess([&](std::uint16_t p) {
        auto d = raw(43269, p);
        d.ip.ttl = static_cast<std::uint8_t>(37 + p % 23);
        return d;
    });
    EXPECT_EQ(nmap.tool, "nmap");
    UdpHeader sip{};
    const std::string_view text = "OPTIONS sip:nobody@flagscan.invalid SIP/2.0";
    std::copy(text.begin(), text.end(), sip.head.begin());
    sip.head_length = static_cast<std::uint8_t>(text.size());
    EXPECT_TRUE(has_flagscan_marks(sip));
    UdpHeader dns{};
    dns.head = {0x10, 0x00, 0x01, 0x00};
    dns.head_length = 4;
    EXPECT_FALSE(has_flagscan_marks(dns));
}

TEST(DetectReport, JsonLineHasTheSchema) {
    Detector d(DetectConfig{});
    for (std::uint16_t p = 1; p <= 12; ++p) probe_port(d, kT0 + p * 1000, p, S, p == 3 ? S | A : R | A);
    auto alerts = all(d);
    ASSERT_EQ(alerts.size(), 1u);
    std::ostringstream out;
    write_alert_json(out, *alerts[0]);
    const std::string line = out.str();
    for (const char* field : {"\"type\":\"alert\"", "\"id\":1", "\"sources\":[\"10.77.21.1\"]", "\"shape\":\"vertical\"",
                              "\"kind\":\"syn\"", "\"targets\":[\"10.77.21.2\"]", "\"target_count\":1", "\"ports\":\"1-12\"",
                              "\"port_count\":12", "\"open\":\"3\"", "\"probes\":12", "\"rate_pps\":",
                              "\"first\":\"2027-01-15T08:00:00.001000Z\"", "\"slow\":false", "\"distributed\":false",
                              "\"tool\":\"", "\"tool_evidence\":\""})
        EXPECT_NE(line.find(field), std::string::npos) << field << " in " << line;
    std::ostringstream summary;
    write_summary_json(summary, d.stats());
    EXPECT_EQ(summary.str(), "{\"type\":\"summary\",\"packets\":24,\"sources_tracked\":1,\"sources_evicted\":0,\"alerts\":1,\"alerts_cut\":0}\n");
}

// Past 512 ports the list becomes a bitmap: the same set either way.
TEST(DetectReport, PortSetIsTheSameSetAsListOrBitmap) {
    PortSet small, large;
    for (std::uint16_t p = 1000; p > 0; p -= 2) large.set(p);  // 500 ports: still a list
    large.set(65535);
    large.set(0);
    for (std::uint16_t p = 1; p <= 40; ++p) large.set(static_cast<std::uint16_t>(2000 + p));  // past 512: a bitmap
    EXPECT_EQ(large.count(), 542u);
    EXPECT_TRUE(large.test(0) && large.test(2) && large.test(1000) && large.test(2040) && large.test(65535));
    EXPECT_FALSE(large.test(1) || large.test(999) || large.test(2041));
    large.set(2040);  // again: no change
    EXPECT_EQ(large.count(), 542u);
    const std::string text = port_set_text(large);
    EXPECT_TRUE(text.starts_with("0,2,4,6,8,")) << text;
    EXPECT_TRUE(text.ends_with(",998,1000,2001-2040,65535")) << text;
    EXPECT_TRUE(small.empty());
}

TEST(DetectReport, PortSetText) {
    PortSet ports;
    for (std::uint16_t p : {8081, 1, 3306, 2, 3, 8080, 3}) ports.set(p);
    EXPECT_EQ(port_set_text(ports), "1-3,3306,8080-8081");
    EXPECT_EQ(ports.count(), 6u);
    EXPECT_EQ(iso_time(kT0 + 123456), "2027-01-15T08:00:00.123456Z");
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

TEST(Detect, ASecondScanAfterAnIdleWindowIsANewAlert) {
    Detector d(DetectConfig{});
    for (std::uint16_t p = 1; p <= 12; ++p) probe_port(d, kT0 + p, p, Fi, 0);
    for (std::uint16_t p = 1; p <= 12; ++p) probe_port(d, kT0 + 30 * kSecond + p, p, Fi, 0);  // no take_finished between
    auto alerts = d.finish();
    ASSERT_EQ(alerts.size(), 2u);
    EXPECT_EQ(alerts[0]->probes, 12u);
    EXPECT_EQ(alerts[1]->probes, 12u);
    EXPECT_EQ(alerts[1]->id, 2u);
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

TEST(Detect, UnansweredProbesAgeIntoAScanAcrossAQuietGap) {
    Detector d(DetectConfig{});
    for (std::uint16_t p = 1; p <= 12; ++p) d.on_packet(tcp(kScanner, kTarget, 40000, p, S), kT0 + p * 1000);
    EXPECT_TRUE(d.take_raised().empty());  // nothing refused yet: might be a client
    auto done = d.take_finished(kT0 + 30 * kSecond);  // the next packet comes 30 s later
    EXPECT_EQ(done.size(), 1u);  // raised, and over (idle since)
    auto raised = d.take_raised();
    ASSERT_EQ(raised.size(), 1u);
    EXPECT_EQ(raised[0]->last, kT0 + 12'000);
    EXPECT_EQ(port_set_text(raised[0]->ports), "1-12");
}

TEST(DetectReport, SweepsHaveNoPorts) {
    Detector d(DetectConfig{});
    for (std::uint8_t h = 1; h <= 12; ++h)
        d.on_packet(decoded(make_icmp_query(kScanner, Ipv4{10, 77, 22, h}, icmp_type::echo, 7, h, {}, 64)), kT0 + h);
    auto alerts = d.finish();
    ASSERT_EQ(alerts.size(), 1u);
    std::ostringstream out;
    write_alert_json(out, *alerts[0]);
    EXPECT_NE(out.str().find("\"ports\":\"\",\"port_count\":0,"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

TEST(Detect, DecoysAreNotedOnEachOther) {
    Detector d(DetectConfig{});
    const Ipv4 decoy{10, 77, 21, 5};
    for (std::uint16_t p = 1; p <= 12; ++p) {
        probe_port(d, kT0 + p * 1000, p, S, R | A);
        d.on_packet(tcp(decoy, kTarget, 40000, p, S), kT0 + p * 1000 + 1);  // its replies go elsewhere
    }
    auto alerts = d.finish();
    ASSERT_EQ(alerts.size(), 2u);
    EXPECT_NE(alerts[0]->remarks().find("lockstep with 10.77.21.5"), std::string::npos) << alerts[0]->remarks();
    EXPECT_NE(alerts[1]->remarks().find("lockstep with 10.77.21.1"), std::string::npos) << alerts[1]->remarks();
}

// Sessions the capture joined mid-flight (no SYN seen, no data yet): keep-alive ACKs both ways,
// each acknowledged by the peer, then FIN+ACK closes answered by the peer's FIN+ACK. 16 such
// sessions of one client are 16 "ports" of ACK and Maimon look-alikes, and no scan: the peer
// acknowledged every one. The same segments refused with RST are nmap -sA / -sM.
TEST(Detect, SessionsJoinedMidFlightAreNotAckOrMaimonScans) {
    const Ipv4 server{10, 77, 21, 9};
    Detector d(DetectConfig{});
    Micros at = kT0;
    for (int round = 0; round < 2; ++round)
        for (std::uint16_t i = 0; i < 16; ++i) {
            const auto port = static_cast<std::uint16_t>(5000 + i), client_port = static_cast<std::uint16_t>(41000 + i);
            d.on_packet(tcp(kScanner, server, client_port, port, A, 502, 999), at += 1000);  // keep-alive: seq - 1
            d.on_packet(tcp(server, kScanner, port, client_port, A, 509), at += 100);
            d.on_packet(tcp(server, kScanner, port, client_port, A, 509, 7999), at += 1000);  // the server's own
            d.on_packet(tcp(kScanner, server, client_port, port, A, 502), at += 100);
        }
    for (std::uint16_t i = 0; i < 16; ++i) {
        const auto port = static_cast<std::uint16_t>(5000 + i), client_port = static_cast<std::uint16_t>(41000 + i);
        d.on_packet(tcp(kScanner, server, client_port, port, Fi | A, 502), at += 1000);
        d.on_packet(tcp(server, kScanner, port, client_port, Fi | A, 509), at += 100);
        d.on_packet(tcp(kScanner, server, client_port, port, A, 502), at += 100);
    }
    for (const auto& a : all(d)) ADD_FAILURE() << scan_kind_name(a->kind) << " from " << a->sources.front().str();
    Detector ack(DetectConfig{}), maimon(DetectConfig{});
    for (std::uint16_t p = 1; p <= 12; ++p) {
        probe_port(ack, kT0 + p * 1000, p, A, R);
        probe_port(maimon, kT0 + p * 1000, p, Fi | A, R);
    }
    auto acks = all(ack), maimons = all(maimon);
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(acks[0]->kind, ScanKind::ack_window);
    ASSERT_EQ(maimons.size(), 1u);
    EXPECT_EQ(maimons[0]->kind, ScanKind::maimon);
}

// nmap -D: one copy of each probe per source, all through the scanner's Ethernet handle. Port 22
// is open: the target SYN+ACKs every source; only real machines answer (their kernels RST).
struct DecoyScan {
    const Ipv4 live{10, 77, 21, 50}, absent{10, 77, 21, 40};
    const MacAddress scanner_mac{2, 0, 0, 0, 0, 1}, live_mac{2, 0, 0, 0, 0, 0x50};
    Detector d{DetectConfig{}};

    static DecodedPacket via(DecodedPacket p, const std::optional<MacAddress>& mac) {
        p.link_src = mac;
        return p;
    }
    // SOURCES probe ports 1-12 (12 open: SYN+ACK, the others RST); the ANSWERING sources reset
    // the SYN+ACK from their MAC (nullopt: no link address).
    void run(const std::vector<Ipv4>& sources, const std::optional<MacAddress>& probe_mac,
             const std::map<std::uint32_t, std::optional<MacAddress>>& answering) {
        Micros at = kT0;
        for (std::uint16_t p = 1; p <= 12; ++p)
            for (const Ipv4 src : sources) {
                d.on_packet(via(tcp(src, kTarget, 40000, p, S), probe_mac), at += 100);
                const bool open = p == 12;
                d.on_packet(tcp(kTarget, src, p, 40000, open ? S | A : R | A, open ? 64240 : 0), at += 100);
                const auto it = answering.find(src.value());
                if (open && it != answering.end()) d.on_packet(via(tcp(src, kTarget, 40000, p, R, 0, 1001), it->second), at += 100);
            }
    }
};

TEST(DetectDecoys, TheSourceWhoseOwnFramesComeFromTheProbesMacIsTheScanner) {
    DecoyScan t;
    t.run({t.absent, kScanner, t.live}, t.scanner_mac, {{kScanner.value(), t.scanner_mac}, {t.live.value(), t.live_mac}});
    auto alerts = t.d.finish();
    ASSERT_EQ(alerts.size(), 3u);
    for (const auto& a : alerts) {
        ASSERT_TRUE(a->decoys.scanner) << a->decoys.evidence;
        EXPECT_EQ(*a->decoys.scanner, kScanner);
        EXPECT_EQ(std::set<Ipv4>(a->decoys.decoys.begin(), a->decoys.decoys.end()), (std::set<Ipv4>{t.absent, t.live}));
        EXPECT_NE(a->decoys.evidence.find("every probe of the 3 sources came from one MAC, 02:00:00:00:00:01"), std::string::npos)
            << a->decoys.evidence;
        EXPECT_NE(a->remarks().find("the scanner is 10.77.21.1"), std::string::npos) << a->remarks();
        std::ostringstream out;
        write_alert_json(out, *a);
        EXPECT_NE(out.str().find("\"scanner\":\"10.77.21.1\""), std::string::npos) << out.str();
    }
}

TEST(DetectDecoys, WithoutMacsTheOnlySourceThatAnsweredIsTheScanner) {
    DecoyScan t;  // raw IP capture: no link addresses; the decoy got SYN+ACKs and never answered
    t.run({kScanner, t.absent}, std::nullopt, {{kScanner.value(), std::nullopt}});
    auto alerts = t.d.finish();
    ASSERT_EQ(alerts.size(), 2u);
    for (const auto& a : alerts) {
        ASSERT_TRUE(a->decoys.scanner) << a->decoys.evidence;
        EXPECT_EQ(*a->decoys.scanner, kScanner);
        EXPECT_EQ(a->decoys.decoys, std::vector<Ipv4>{t.absent});
    }
}

TEST(DetectDecoys, NeverAGuess) {
    DecoyScan routed;  // past a router: every frame from its MAC, and a live decoy answers too
    routed.run({kScanner, routed.live}, routed.scanner_mac, {{kScanner.value(), routed.scanner_mac}, {routed.live.value(), routed.scanner_mac}});
    for (const auto& a : routed.d.finish()) {
        EXPECT_FALSE(a->decoys.scanner) << a->decoys.evidence;
        EXPECT_TRUE(a->decoys.decoys.empty());
        EXPECT_NE(a->decoys.evidence.find("2 of them answer from it too"), std::string::npos) << a->decoys.evidence;
        std::ostringstream out;
        write_alert_json(out, *a);
        EXPECT_NE(out.str().find("\"scanner\":null"), std::string::npos) << out.str();
    }
    DecoyScan silent;  // nobody answered (the scanner's firewall drops its RSTs)
    silent.run({kScanner, silent.absent}, std::nullopt, {});
    for (const auto& a : silent.d.finish()) {
        EXPECT_FALSE(a->decoys.scanner) << a->decoys.evidence;
        EXPECT_NE(a->decoys.evidence.find("none of them answered"), std::string::npos) << a->decoys.evidence;
    }
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

TEST(DetectOptions, LongFormsAndNmapsOJ) {
    auto o = parse_detect_options({"--window", "3", "--ports-threshold", "7", "--hosts-threshold", "20", "--slow-window",
                                   "3600", "--max-sources", "1000", "-oJ", "out.jsonl", "a.pcap", "b.pcap"});
    ASSERT_TRUE(o) << o.error();
    EXPECT_EQ(o->config.window, 3 * kSecond);
    EXPECT_EQ(o->config.ports_threshold, 7u);
    EXPECT_EQ(o->config.hosts_threshold, 20u);
    EXPECT_EQ(o->config.slow_window, 3600 * kSecond);
    EXPECT_EQ(o->config.max_sources, 1000u);
    EXPECT_EQ(o->json_path, "out.jsonl");
    EXPECT_EQ(o->files, (std::vector<std::string>{"a.pcap", "b.pcap"}));
    auto live = parse_detect_options({"-e", "eth0", "-oJ-"});
    ASSERT_TRUE(live) << live.error();
    EXPECT_EQ(live->interface, "eth0");
    EXPECT_EQ(live->json_path, "-");
}

TEST(DetectOptions, BadInputIsOneLineNamingTheOption) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--window", "abc", "a.pcap"}, {"--ports-threshold", "0", "a.pcap"}, {"--max-sources", "-3", "a.pcap"},
             {}, {"-e", "eth0", "a.pcap"}, {"--bogus", "a.pcap"}}) {
        auto o = parse_detect_options(args);
        ASSERT_FALSE(o) << (args.empty() ? "(none)" : args[0]);
        EXPECT_EQ(o.error().find('\n'), std::string::npos) << o.error();
        if (!args.empty() && args[0].starts_with("--") && args[0] != "--bogus") {
            EXPECT_NE(o.error().find(args[0]), std::string::npos) << o.error();
        }
    }
}

}  // namespace
}  // namespace flagscan

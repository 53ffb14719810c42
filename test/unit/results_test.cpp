// Results: per-state totals and the hosts handed over as they finish.
#include <gtest/gtest.h>

#include "flagscan/engine/results.hpp"
#include "flagscan/os/os_detection.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/output/report.hpp"
#include "sim_scan.hpp"

#include <iostream>
#include <sstream>

namespace flagscan {
namespace {

struct TwoHosts {
    explicit TwoHosts(bool keep_evidence = false) : results{targets, {&syn_kind()}, keep_evidence} {}
    TargetSet targets{addresses(), {Port{22}, Port{80}}};
    Results results;
    static AddressSet addresses() {
        AddressSet set;
        set.add(Ipv4{10, 0, 0, 2});
        set.add(Ipv4{10, 0, 0, 3});
        return set;
    }
    void set(std::uint64_t index, PortState state) {
        PortResult r;
        r.state = state;
        results.set(index, r);
    }
};

TEST(Results, TotalsFollowEveryVerdictAndItsRevision) {
    TwoHosts f;
    EXPECT_EQ(f.results.state_total(PortState::unscanned), 4u);
    f.set(0, PortState::filtered);
    f.set(2, PortState::open);
    f.set(0, PortState::open);  // a late answer overturns a no-response verdict
    EXPECT_EQ(f.results.state_total(PortState::open), 2u);
    EXPECT_EQ(f.results.state_total(PortState::filtered), 0u);
    EXPECT_EQ(f.results.state_total(PortState::unscanned), 2u);
}

TEST(Results, AHostIsHandedOverOnceWhenItsLastPortIsDecided) {
    TwoHosts f;
    f.set(2, PortState::open);
    EXPECT_TRUE(f.results.take_finished_hosts().empty());
    f.set(3, PortState::closed);
    f.set(0, PortState::closed);
    EXPECT_EQ(f.results.take_finished_hosts(), std::vector<std::uint32_t>{1});
    f.set(3, PortState::open);  // revised after it finished: not handed over again
    f.set(1, PortState::open);
    EXPECT_EQ(f.results.take_finished_hosts(), std::vector<std::uint32_t>{0});
    EXPECT_TRUE(f.results.take_finished_hosts().empty());
}

// --explain's evidence lives beside the verdicts, and only when asked for: every port's verdict
// stays 16 bytes, and without the side table the notes store nothing.
PortEvidence icmp_4_from_router() {
    PortEvidence packet;
    packet.unused = Unused::unmatched;
    packet.unused_protocol = ipproto::icmp;
    packet.unused_detail = icmp_type::unreachable;
    packet.unused_code = 4;
    packet.reply_from = Ipv4{198, 51, 100, 254};
    return packet;
}

PortEvidence tries_from(std::uint16_t first, std::uint16_t last) {
    PortEvidence tries;
    tries.first_sport = first;
    tries.sport = last;
    tries.tries_span_us = 1000;
    tries.waited_us = 2000;
    tries.tries_known = true;
    return tries;
}

TEST(Results, EvidenceIsKeptOnlyWhenAskedFor) {
    TwoHosts f;
    EXPECT_FALSE(f.results.keeps_evidence());
    f.set(0, PortState::filtered);
    f.results.note_unused(0, icmp_4_from_router());
    f.results.note_tries(0, tries_from(40000, 40001));
    f.results.note_reply_packet(0, Ipv4{10, 0, 0, 2}, Port{40001});
    const PortEvidence none = f.results.evidence(0);
    EXPECT_FALSE(none.tries_known);
    EXPECT_EQ(none.sport, 0);
    EXPECT_EQ(none.unused, Unused::none);
    EXPECT_EQ(none.reply_from.value(), 0u);
}

TEST(Results, SilenceKeepsTheUnusedPacketAndAReplyDropsIt) {
    TwoHosts f{true};
    ASSERT_TRUE(f.results.keeps_evidence());
    f.results.note_unused(0, icmp_4_from_router());  // came while the port was in flight
    f.set(0, PortState::filtered);
    f.results.note_tries(0, tries_from(40000, 40001));
    PortEvidence seen = f.results.evidence(0);
    EXPECT_TRUE(seen.tries_known);
    EXPECT_EQ(seen.first_sport, 40000);
    EXPECT_EQ(seen.sport, 40001);
    EXPECT_EQ(seen.waited_us, 2000u);
    EXPECT_EQ(seen.unused, Unused::unmatched);
    EXPECT_EQ(seen.reply_from, (Ipv4{198, 51, 100, 254}));

    PortResult open;  // a late SYN,ACK overturns the silence: the unused packet no longer speaks
    open.state = PortState::open;
    open.reply_kind = ReplyEvidence::Kind::tcp;
    f.results.set(0, open);
    f.results.note_tries(0, tries_from(40000, 40001));
    f.results.note_reply_packet(0, Ipv4{10, 0, 0, 2}, Port{40000});
    seen = f.results.evidence(0);
    EXPECT_EQ(seen.unused, Unused::none);
    EXPECT_EQ(seen.reply_from, (Ipv4{10, 0, 0, 2}));
    EXPECT_EQ(seen.sport, 40000);  // the try the reply answered
    f.results.note_unused(0, icmp_4_from_router());  // a reply decided: later strays are not kept
    EXPECT_EQ(f.results.evidence(0).unused, Unused::none);
    EXPECT_FALSE(f.results.evidence(1).tries_known);  // a port with no note (one restored by --resume)
}

}  // namespace
}  // namespace flagscan

// ---- Keep::listed: a large scan's Results hold what the report lists, and report the same ----

namespace flagscan {
namespace {

using testing::SimScan;

// Four hosts x 300 ports: open ports, a state with more than 25 ports (folded) and one with
// fewer (listed), two reasons for filtered, a host that drops everything.
SimConfig mixed_network() {
    SimConfig net;
    SimHost a, b, c;
    a.open = {22, 80, 299};
    for (std::uint16_t p = 100; p < 140; ++p) a.dropped.insert(p);  // 40 filtered: folded
    for (std::uint16_t p = 200; p < 210; ++p) a.rejected.insert(p); // 10 admin-prohibited: listed
    b.open = {7};
    for (std::uint16_t p = 30; p < 50; ++p) b.dropped.insert(p);     // 20 filtered: listed
    c.drop_all = true;
    net.hosts[Ipv4{10, 0, 0, 1}] = a;
    net.hosts[Ipv4{10, 0, 0, 2}] = b;
    net.hosts[Ipv4{10, 0, 0, 3}] = c;
    return net;
}

std::string reports(const Results& results, const ReportOptions& options) {
    ScanSummary summary;
    summary.title = "SYN scan";
    std::ostringstream out;
    write_normal_hosts(out, results, ServiceTable{}, options, summary);
    write_jsonl(out, results, options, summary);
    return out.str();
}

SimScan mixed_scan(Keep keep) {
    AddressSet hosts;
    hosts.add(Ipv4Range{Ipv4{10, 0, 0, 1}, Ipv4{10, 0, 0, 4}});
    std::vector<Port> ports;
    for (std::uint16_t p = 1; p <= 300; ++p) ports.push_back(Port{p});
    SimScan scan{hosts, ports, mixed_network()};
    scan.keep = keep;
    return scan;
}

TEST(ResultsListed, ReportsLetterForLetterWhatEveryPortReports) {
    SimScan every = mixed_scan(Keep::every_port);
    SimScan listed = mixed_scan(Keep::listed);
    every.run();
    listed.run();
    ASSERT_EQ(listed.results->keeps(), Keep::listed);
    for (const bool reason : {false, true}) {
        ReportOptions options;
        options.reason = reason;
        options.hosts_assumed_up = false;
        const std::string expected = reports(*every.results, options);
        EXPECT_NE(expected.find("Not shown"), std::string::npos);
        EXPECT_EQ(reports(*listed.results, options), expected);
    }
    EXPECT_EQ(listed.results->hosts_replied(), every.results->hosts_replied());
    EXPECT_EQ(listed.results->hosts_with_open(), 2u);
}

// -O's ports (os_detection): a folded state's records are gone, yet its group still names its
// lowest port, so a large scan's OS detection knows a closed port as a small one's does.
TEST(ResultsListed, OsDetectionFindsAClosedPortInAFoldedState) {
    for (const Keep keep : {Keep::every_port, Keep::listed}) {
        SimScan scan = mixed_scan(keep);
        scan.run();
        const auto& hosts = scan.results->targets().hosts();
        const auto held = scan.results->hosts_held();
        const auto a = std::find_if(held.begin(), held.end(), [&](std::uint32_t h) { return hosts.at(h) == Ipv4{10, 0, 0, 1}; });
        ASSERT_NE(a, held.end());
        const OsPortChoice ports = choose_os_ports(*scan.results, *a, 1);
        EXPECT_EQ(ports.open_tcp, Port{22});
        EXPECT_TRUE(ports.closed_tcp_known) << (keep == Keep::listed ? "listed" : "every port");
        EXPECT_EQ(ports.closed_tcp, Port{1});
    }
}

TEST(ResultsListed, HoldsOnlyWhatIsListed) {
    SimScan listed = mixed_scan(Keep::listed);
    listed.run();
    // Listed: 3 open (host a), 1 open + 20 filtered (host b); a's 50 filtered (40 dropped, 10
    // rejected), the closed ports and silent host c are counts (their latest silent verdicts aside).
    std::size_t shown = 0;
    for (const std::uint32_t host : listed.results->hosts_held()) {
        for (const PlacedSlot placed : listed.targets.slots_of(host)) {
            const PortResult port = listed.results->port(placed.index);
            shown += port.state != PortState::unscanned && port.reason != Reason::no_response ? 1 : 0;
        }
    }
    EXPECT_EQ(shown, 3u + 1u);
    // Beside those: b's 20 silent ports (listed), and the silent verdicts of a's 40 and of the
    // 300 of c and of the absent 10.0.0.4, remembered for late replies.
    EXPECT_EQ(listed.results->ports_held(), 3u + 1u + 20u + 40u + 300u + 300u);
    EXPECT_EQ(listed.results->host(0).counts[static_cast<int>(PortState::closed)], 300u - 3u - 40u - 10u);
    EXPECT_EQ(listed.results->decided(), 4u * 300u);
}

TEST(ResultsListed, AFoldedSilentVerdictCanStillBeOverturnedByALateReply) {
    AddressSet hosts;
    hosts.add(Ipv4{10, 0, 0, 9});
    std::vector<Port> ports;
    for (std::uint16_t p = 1; p <= 40; ++p) ports.push_back(Port{p});
    const TargetSet targets{hosts, ports};
    Results results{targets, {&syn_kind()}, false, Keep::listed};
    PortResult silent;
    silent.state = PortState::filtered;
    silent.reason = Reason::no_response;
    for (std::uint64_t i = 0; i < 40; ++i) results.set(i, silent);
    EXPECT_EQ(results.host(0).counts[static_cast<int>(PortState::filtered)], 40u);
    ASSERT_EQ(results.port(3).state, PortState::filtered);  // folded, yet remembered as silent
    PortResult late;
    late.state = PortState::open;
    late.reason = Reason::syn_ack;
    results.set(3, late);
    EXPECT_EQ(results.host(0).counts[static_cast<int>(PortState::filtered)], 39u);
    EXPECT_EQ(results.host(0).counts[static_cast<int>(PortState::open)], 1u);
    EXPECT_EQ(results.decided(), 40u);
    EXPECT_EQ(results.port(3).state, PortState::open);
}

// Why: a one-port scan of the whole address space must hold only the hosts still being
// scanned. Hosts forgotten as they finish (what the streaming outputs do) keep the held set
// near the congestion window's worth, however many hosts the scan has. (With P ports a host,
// the permutation spreads a host's ports over the whole scan, so a record per host touched is
// held, about a hundred bytes each: the per-port part stays what the report lists.)
TEST(ResultsListed, HostsForgottenAsTheyFinishKeepMemoryFlatAsTheScanGrows) {
    std::vector<std::size_t> peaks;
    for (const int prefix : {20, 18}) {  // 4096 and 16384 hosts
        AddressSet hosts;
        hosts.add(Ipv4Range{Ipv4{10, 1, 0, 0}, Ipv4{(Ipv4{10, 1, 0, 0}.value() | ((1u << (32 - prefix)) - 1))}});
        SimConfig net;
        for (std::uint32_t h = 0; h < hosts.size(); h += 7) {
            SimHost host;
            host.open = {80};
            net.hosts[hosts.at(h)] = host;
        }
        SimScan scan{hosts, {Port{80}}, net};
        scan.keep = Keep::listed;
        std::size_t peak = 0;
        const auto forget_finished = [&] {
            for (const std::uint32_t host : scan.results->take_finished_hosts()) scan.results->forget_host(host);
        };
        LoopHooks hooks;
        hooks.tick = [&](Micros) {
            forget_finished();
            peak = std::max(peak, scan.results->hosts_held().size());
        };
        scan.run(hooks);
        forget_finished();  // the last hosts, given up when the loop ended (OutputSet::finish's part)
        EXPECT_EQ(scan.results->decided(), hosts.size());
        EXPECT_EQ(scan.results->hosts_with_open(), (hosts.size() + 6) / 7);
        EXPECT_TRUE(scan.results->hosts_held().empty());
        peaks.push_back(peak);
    }
    std::cout << "[ held     ] peak hosts held: " << peaks[0] << " (4096 hosts), " << peaks[1] << " (16384 hosts)\n";
    EXPECT_LT(peaks[1], 2 * peaks[0] + 64);  // not 4x: held hosts follow the window, not the scan
}

}  // namespace
}  // namespace flagscan

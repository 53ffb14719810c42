// Per-host timing: hosts at very different distances in one scan, each judged by its own clock.
#include <gtest/gtest.h>

#include <limits>
#include <map>

#include "flagscan/engine/rtt.hpp"
#include "sim_scan.hpp"

namespace flagscan {
namespace {

using testing::SimScan;
using testing::port_range;

// One-way delays: round trips of 20 us, 50 ms, 500 ms and 1.5 s.
const std::map<Ipv4, Micros> kDistances = {{Ipv4{10, 1, 0, 1}, 10},
                                           {Ipv4{10, 1, 0, 2}, 25 * kMillisecond},
                                           {Ipv4{10, 1, 0, 3}, 250 * kMillisecond},
                                           {Ipv4{10, 1, 0, 4}, 750 * kMillisecond}};

SimHost host_at(Micros one_way) {
    SimHost host;
    host.latency = one_way;
    host.open = {22, 25};
    host.dropped = {27};
    return host;
}

SimConfig network(const std::map<Ipv4, Micros>& distances) {
    SimConfig net;
    for (const auto& [ip, one_way] : distances) net.hosts[ip] = host_at(one_way);
    return net;
}

AddressSet hosts_of(const std::map<Ipv4, Micros>& distances) {
    AddressSet set;
    for (const auto& entry : distances) set.add(entry.first);
    return set;
}

// What a scan of `kind` must say of each port of host_at(): 22 and 25 listen, 27 is dropped.
PortState truth(const ProbeKind& kind, std::uint16_t port) {
    const bool open = port == 22 || port == 25;
    if (&kind == &syn_kind()) return port == 27 ? PortState::filtered : open ? PortState::open : PortState::closed;
    return port == 27 || open ? PortState::open_filtered : PortState::closed;  // FIN, NULL, XMAS
}

int wrong_verdicts(const SimScan& scan, const ProbeKind& kind) {
    int wrong = 0;
    for (const auto& [ip, one_way] : kDistances) {
        if (!scan.targets.hosts().index_of(ip)) continue;
        for (const Slot& slot : scan.targets.slots()) {
            const auto& got = scan.at(ip, slot.port.value());
            if (got.state == truth(kind, slot.port.value())) continue;
            ADD_FAILURE() << ip.str() << ':' << slot.port.value() << " (one way " << one_way / kMillisecond
                          << " ms) is " << to_string(got.state);
            ++wrong;
        }
    }
    return wrong;
}

// The case: one scan of a near host and far ones; before per-host timing, the far
// hosts' ports were all called filtered (the near host taught a 125 ms timeout).
TEST(HostTiming, SynScanOfHostsAtFourDistancesIsExact) {
    for (const std::uint64_t seed : {1u, 2u, 3u}) {
        SimScan scan{hosts_of(kDistances), port_range(20, 30), network(kDistances), syn_kind(), 3};
        scan.config.seed = seed;
        scan.run();
        EXPECT_EQ(wrong_verdicts(scan, syn_kind()), 0) << "seed " << seed;
    }
}

TEST(HostTiming, FinScanOfHostsAtFourDistancesIsExact) {
    const ProbeKind& fin = *probe_kind_by_letter('F');
    SimScan scan{hosts_of(kDistances), port_range(20, 30), network(kDistances), fin, 3};
    scan.run();
    EXPECT_EQ(wrong_verdicts(scan, fin), 0);
}

// -T4's shorter timeouts still fit a 500 ms host (its --max-rtt-timeout is 1.25 s, as nmap's).
TEST(HostTiming, AggressiveTimingWithHostsUpTo500Ms) {
    std::map<Ipv4, Micros> near(kDistances.begin(), std::prev(kDistances.end()));
    SimScan scan{hosts_of(near), port_range(20, 30), network(near), syn_kind(), 4};
    scan.run();
    EXPECT_EQ(wrong_verdicts(scan, syn_kind()), 0);
}

// 1000 ports of a 200 ms host beside a near one: none of its closed ports becomes filtered.
TEST(HostTiming, ThousandPortsOfA200MsHostBesideANearOne) {
    const std::map<Ipv4, Micros> pair = {{Ipv4{10, 1, 0, 1}, 10}, {Ipv4{10, 1, 0, 3}, 100 * kMillisecond}};
    SimScan scan{hosts_of(pair), port_range(1, 1000), network(pair), syn_kind(), 4};
    scan.run();
    int wrong = 0;
    for (const auto& [ip, one_way] : pair) {
        for (std::uint16_t port = 1; port <= 1000; ++port) wrong += scan.at(ip, port).state != truth(syn_kind(), port);
    }
    EXPECT_EQ(wrong, 0);
}

// Each host keeps its own estimate: the near host's timeout is its own, the far one's its own,
// and a host that never answered is waited for with the initial timeout, not what others taught.
TEST(HostTiming, EachHostHasItsOwnTimeout) {
    auto distances = kDistances;
    const Ipv4 silent{10, 1, 0, 9};
    distances[silent] = 10;
    SimConfig net = network(kDistances);
    net.hosts[silent].drop_all = true;
    SimScan scan{hosts_of(distances), port_range(20, 30), net, syn_kind(), 3};
    // A finished host's timing is forgotten: read each one's as long as it is known.
    Micros near = 0, far = 0;
    LoopHooks hooks;
    hooks.received = [&](const Frame&, const DecodedPacket&, const PacketOutcome&) {
        const Micros rto = scan.engine->host_rto(Ipv4{10, 1, 0, 1});
        if (rto != scan.config.timing.initial_rto) near = rto;  // its last, once heard from
        far = std::max(far, scan.engine->host_rto(Ipv4{10, 1, 0, 4}));
    };
    scan.run(hooks);
    EXPECT_LT(near, 200 * kMillisecond);
    EXPECT_GT(far, 1500 * kMillisecond);
    EXPECT_EQ(scan.engine->host_rto(silent), scan.config.timing.initial_rto);
    for (std::uint16_t port = 20; port <= 30; ++port) EXPECT_EQ(scan.at(silent, port).state, PortState::filtered);
}

// Host discovery (-sn's default probes) finds every host up, whatever its distance.
TEST(HostTiming, DiscoveryFindsHostsAtEveryDistance) {
    std::vector<Slot> slots{{Port{}, 0}, {Port{443}, 1}, {Port{80}, 2}, {Port{}, 3}};
    std::vector<const ProbeKind*> kinds{&ping_echo_kind(), &ping_syn_kind(), &ping_ack_kind(), &ping_timestamp_kind()};
    SimScan scan{hosts_of(kDistances), slots, kinds, network(kDistances), 3};
    scan.run();
    for (const auto& [ip, one_way] : kDistances) {
        const auto host = static_cast<std::uint32_t>(*scan.targets.hosts().index_of(ip));
        EXPECT_GT(scan.results->host(host).counts[static_cast<int>(PortState::open)], 0u) << ip.str();
    }
}

// A lossy host is slowed by its own window; a clean one beside it is not cut for it.
TEST(HostTiming, LossOnOneHostCutsOnlyItsOwnWindow) {
    const Ipv4 clean{10, 1, 0, 1};
    const Ipv4 lossy{10, 1, 0, 2};
    SimConfig net;
    net.hosts[clean] = host_at(100);
    net.hosts[lossy] = host_at(100);
    net.hosts[lossy].reply_loss = 0.3;
    AddressSet both;
    both.add(clean);
    both.add(lossy);
    SimScan scan{both, port_range(1, 20000), net, syn_kind(), 4};
    std::uint32_t clean_cuts = 0, lossy_cuts = 0;  // read while known: a finished host's timing is forgotten
    LoopHooks hooks;
    hooks.tick = [&](Micros) {
        clean_cuts = std::max(clean_cuts, scan.engine->host_window_cuts(clean));
        lossy_cuts = std::max(lossy_cuts, scan.engine->host_window_cuts(lossy));
    };
    scan.run(hooks);
    EXPECT_EQ(clean_cuts, 0u);
    EXPECT_GT(lossy_cuts, 0u);
    for (std::uint16_t port = 1; port <= 20000; ++port) {
        ASSERT_EQ(scan.at(clean, port).state, truth(syn_kind(), port)) << port;
        ASSERT_EQ(scan.at(lossy, port).state, truth(syn_kind(), port)) << port;
    }
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

// Linux's default ICMP limit (1 error/s after a burst of 6): a FIN scan of 50 ports rejected
// with admin-prohibited calls every one filtered (it paces, as -sU does), not 44 open|filtered.
TEST(FlagScanIcmpLimit, RejectedPortsBehindTheLimitAreFiltered) {
    const Ipv4 target{10, 1, 0, 7};
    SimConfig net;
    SimHost& host = net.hosts[target];
    for (std::uint16_t port = 2000; port <= 2049; ++port) host.rejected.insert(port);
    host.icmp_errors_per_s = 1;
    for (const char letter : {'F', 'N', 'X', 'M'}) {
        const ProbeKind& kind = *probe_kind_by_letter(letter);
        AddressSet one;
        one.add(target);
        testing::SimScan scan{one, testing::port_range(2000, 2049), net, kind, 4};
        scan.run();
        int filtered = 0;
        for (std::uint16_t port = 2000; port <= 2049; ++port) filtered += scan.at(target, port).state == PortState::filtered;
        EXPECT_EQ(filtered, 50) << kind.name;
        EXPECT_GT(scan.results->host(0).icmp_limit, 0.0) << kind.name;
    }
}

// A host with a few rejected ports and open (silent) ones: too few errors to have met a limit,
// so no pacing and no waiting on its open ports; every verdict right.
TEST(FlagScanIcmpLimit, AFewRejectedPortsDoNotSlowTheScan) {
    const Ipv4 target{10, 1, 0, 8};
    SimConfig net;
    SimHost& host = net.hosts[target];
    host.open = {22, 80, 443};
    host.rejected = {113, 1003, 8443};
    host.dropped = {135};
    host.icmp_errors_per_s = 1;
    AddressSet one;
    one.add(target);
    testing::SimScan scan{one, testing::port_range(1, 10000), net, *probe_kind_by_letter('F'), 4};
    scan.run();
    EXPECT_EQ(scan.results->host(0).icmp_limit, 0.0);
    for (std::uint16_t port = 1; port <= 10000; ++port) {
        const PortState want = host.rejected.contains(port) ? PortState::filtered
                               : host.open.contains(port) || host.dropped.contains(port) ? PortState::open_filtered
                                                                                         : PortState::closed;
        ASSERT_EQ(scan.at(target, port).state, want) << port;
    }
    EXPECT_LT(scan.engine->stats().sent, 10000u + 40u);  // the silent ports' few tries, nothing paced
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

// A near host with a silent port is finished (that port settled, so the outputs can write the
// host) as soon as its own tries are spent, long before a far host is done.
TEST(HostTiming, ANearHostWithASilentPortFinishesBeforeAFarOne) {
    const Ipv4 near{10, 1, 0, 1};
    const Ipv4 far{10, 1, 0, 4};
    std::map<Ipv4, Micros> distances{{near, 100}, {far, 1500 * kMillisecond}};
    SimScan scan{hosts_of(distances), port_range(20, 30), network(distances), syn_kind(), 3};
    Micros near_done = -1, far_done = -1, started = -1;
    LoopHooks hooks;
    hooks.tick = [&](Micros now) {
        if (started < 0) started = now;
        for (const std::uint32_t host : scan.results->take_finished_hosts())
            (scan.targets.hosts().at(host) == near ? near_done : far_done) = now - started;
    };
    const Micros took = scan.run(hooks);
    ASSERT_GE(near_done, 0);
    if (far_done < 0 && !scan.results->take_finished_hosts().empty()) far_done = took;  // decided as the scan ended
    ASSERT_GE(far_done, 0);
    EXPECT_LT(near_done + 2 * kSecond, far_done);
    for (std::uint16_t port = 20; port <= 30; ++port) EXPECT_EQ(scan.at(near, port).state, truth(syn_kind(), port));
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

// RFC 6298 arithmetic over a replayed capture whose clock jumps (the replay fuzzer's find): a
// sample of centuries counts as the largest timeout, and nothing overflows (UBSan checks).
TEST(RttEstimator, HugeSamplesCountAsTheLargestTimeout) {
    RttEstimator rtt{kSecond, 100 * kMillisecond, 10 * kSecond};
    rtt.sample(std::numeric_limits<Micros>::max() / 2);
    rtt.sample(std::numeric_limits<Micros>::max());
    rtt.sample(std::numeric_limits<Micros>::max());
    EXPECT_EQ(rtt.rto(), 10 * kSecond);
    for (int i = 0; i < 200; ++i) rtt.sample(kMillisecond);  // and it comes back down as RFC 6298 2.3 says
    EXPECT_EQ(rtt.rto(), 100 * kMillisecond);
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

RttEstimator path_of(Micros rtt, int samples, Micros near_min = 10 * kMillisecond) {
    RttEstimator estimate{kSecond, 100 * kMillisecond, 10 * kSecond, near_min};
    for (int i = 0; i < samples; ++i) estimate.sample(rtt);
    return estimate;
}

// The floor follows a path measured well enough: a 50 us veth gets the near floor, a 1 ms LAN
// 64 round trips, a path of milliseconds nmap's 100 ms; a few samples are not trusted yet.
TEST(RttEstimator, FloorFollowsAMeasuredPath) {
    EXPECT_EQ(path_of(50, RttEstimator::kTrustedSamples).rto(), 10 * kMillisecond);
    EXPECT_EQ(path_of(kMillisecond, RttEstimator::kTrustedSamples).rto(), 64 * kMillisecond);
    EXPECT_EQ(path_of(5 * kMillisecond, RttEstimator::kTrustedSamples).rto(), 100 * kMillisecond);
    EXPECT_EQ(path_of(50, RttEstimator::kTrustedSamples - 1).rto(), 100 * kMillisecond);
    EXPECT_EQ(path_of(50, 100, -1).rto(), 100 * kMillisecond);  // no near floor: the fixed one
}

// A path that turns slow raises the timeout by its own samples, whatever the floor.
TEST(RttEstimator, ASlowerPathRaisesTheTimeoutAboveTheNearFloor) {
    RttEstimator estimate = path_of(50, 20);
    for (int i = 0; i < 4; ++i) estimate.sample(40 * kMillisecond);
    EXPECT_GT(estimate.rto(), 40 * kMillisecond);
}

// The lever: on a fast path a FIN scan's silent ports wait the near floor, not 100 ms
// (fake time), and at 20% loss of replies no closed port is read as open|filtered: each reply
// that needed a resend earns the silent ports more tries (the chance that every try's RST of a
// closed port is lost shrinks as 0.2^tries), seeds 1-3.
TEST(HostTiming, FinScanAtTwentyPercentLossOnAFastPathKeepsClosedPortsClosed) {
    const ProbeKind& fin = *probe_kind_by_letter('F');
    const Ipv4 target{10, 1, 0, 1};
    for (const std::uint64_t seed : {1u, 2u, 3u}) {
        SimConfig net;
        net.latency = 25;  // a 50 us round trip, as the lab's veth
        net.hosts[target] = host_at(25);
        net.loss = 0.20;
        net.seed = seed;
        SimScan scan{testing::one_host(target), port_range(1, 1024), net, fin, 3};
        Micros rto = 0;
        LoopHooks hooks;
        hooks.received = [&](const Frame&, const DecodedPacket&, const PacketOutcome&) {
            const Micros now = scan.engine->host_rto(target);  // the initial once done and forgotten
            if (now != scan.config.timing.initial_rto) rto = now;
        };
        scan.run(hooks);
        EXPECT_EQ(rto, scan.config.timing.near_min_rto) << "seed " << seed;
        int wrong = 0;
        for (std::uint16_t port = 1; port <= 1024; ++port) wrong += scan.at(target, port).state != truth(fin, port);
        EXPECT_EQ(wrong, 0) << "seed " << seed;
        EXPECT_GE(scan.engine->allowed_tries(), 5) << "seed " << seed;
    }
}

// -sn's default lanes.
std::vector<Slot> ping_slots() { return {{Port{}, 0}, {Port{443}, 1}, {Port{80}, 2}, {Port{}, 3}}; }
std::vector<const ProbeKind*> ping_kinds() {
    return {&ping_echo_kind(), &ping_syn_kind(), &ping_ack_kind(), &ping_timestamp_kind()};
}

// A host that answered one discovery probe is done: no probe goes to it after its first answer,
// the /24 costs far fewer probes than one per lane, and every host is found.
TEST(HostDiscovery, AHostThatAnsweredGetsNoMoreProbes) {
    SimConfig net;
    AddressSet hosts;
    hosts.add(Ipv4Range{Ipv4{10, 2, 0, 0}, Ipv4{10, 2, 0, 255}});
    for (std::uint32_t i = 0; i < 256; ++i) net.hosts[Ipv4{(10u << 24) | (2u << 16) | i}] = SimHost{};
    SimScan scan{hosts, ping_slots(), ping_kinds(), net, 3};
    std::map<Ipv4, Micros> answered;
    int after_answer = 0;
    std::uint64_t sent = 0;
    LoopHooks hooks;
    hooks.sent = [&](const Probe& probe, std::span<const std::uint8_t>, Micros now) {
        ++sent;
        const auto it = answered.find(probe.dst);
        after_answer += it != answered.end() && it->second < now;
    };
    hooks.received = [&](const Frame& frame, const DecodedPacket& packet, const PacketOutcome& outcome) {
        if (outcome.kind == PacketOutcome::Kind::answer) answered.try_emplace(packet.ip.src, frame.ts);
    };
    scan.run(hooks);
    EXPECT_EQ(after_answer, 0);
    EXPECT_LT(sent, 2u * 256u);  // not 4 a host
    for (std::uint32_t host = 0; host < 256; ++host)
        EXPECT_GT(scan.results->host(host).counts[static_cast<int>(PortState::open)], 0u) << host;
    EXPECT_EQ(scan.results->decided(), 4u * 256u);  // every lane has its verdict: the hosts are finished
}

// Down hosts: as nmap's pings, each lane gets one resend while no reply has needed one (not a
// port's three tries), and a host that answers only one kind of probe (timestamp here: echo is
// ignored, 443 and 80 dropped) is still found, also at 20% loss, where replies to resends raise
// every lane's tries (seeds 1-3).
TEST(HostDiscovery, DownHostsCostTwoTriesALaneAndOneKindHostsAreFound) {
    for (const double loss : {0.0, 0.2}) {
        for (const std::uint64_t seed : {1u, 2u, 3u}) {
            SimConfig net;
            net.loss = loss;
            net.seed = seed;
            AddressSet hosts;
            hosts.add(Ipv4Range{Ipv4{10, 2, 0, 0}, Ipv4{10, 2, 0, 255}});
            for (std::uint32_t i = 0; i < 256; ++i) {
                if (i % 4 == 3) continue;  // down
                SimHost host;
                if (i % 4 == 1) {
                    host.answers_ping = false;
                    host.dropped = {80, 443};
                }
                net.hosts[Ipv4{(10u << 24) | (2u << 16) | i}] = host;
            }
            SimScan scan{hosts, ping_slots(), ping_kinds(), net, 3};
            scan.run();
            int wrong = 0;
            for (std::uint32_t i = 0; i < 256; ++i) {
                const bool up = scan.results->host(i).counts[static_cast<int>(PortState::open)] > 0;
                wrong += up != (i % 4 != 3);
            }
            EXPECT_EQ(wrong, 0) << "loss " << loss << " seed " << seed;
            if (loss == 0.0) {
                const auto& stats = scan.engine->stats();
                // Only the down hosts' lanes are resent, once each: a one-kind host's timestamp
                // reply comes long before its silent lanes time out, and closes them.
                EXPECT_EQ(stats.retransmitted, 64u * 4u) << "seed " << seed;
            }
        }
    }
}

}  // namespace
}  // namespace flagscan

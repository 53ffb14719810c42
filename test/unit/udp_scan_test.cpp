// UDP scans (-sU, -sS -sU) against the simulated stack: ICMP quotes tie errors to ports scanned
// in parallel, payloads reach services, and a host that rate-limits its ICMP errors is paced.
#include <gtest/gtest.h>

#include "sim_scan.hpp"

namespace flagscan {
namespace {

using testing::SimScan;
using testing::one_host;

const Ipv4 kTarget{10, 77, 0, 2};

SimHost udp_host() {
    SimHost host;
    host.open = {22};
    host.open_udp = {53, 123, 161};
    host.rejected_udp = {1004};
    host.dropped_udp = {69, 514};
    return host;
}

// The UDP host above, sending at most `per_second` ICMP errors (Linux's way: a burst first).
SimHost limited_host(double per_second) {
    SimHost host = udp_host();
    host.icmp_errors_per_s = per_second;
    return host;
}

SimConfig network_of(const SimHost& host) {
    SimConfig net;
    net.hosts[kTarget] = host;
    return net;
}

PortState expected_udp_state(const SimHost& host, std::uint16_t port) {
    if (host.drop_all || host.dropped_udp.contains(port)) return PortState::open_filtered;
    if (host.rejected_udp.contains(port)) return PortState::filtered;
    return host.open_udp.contains(port) ? PortState::open : PortState::closed;
}

std::vector<Slot> udp_slots(std::uint16_t first, std::uint16_t last, std::uint8_t lane = 0) {
    std::vector<Slot> slots;
    for (unsigned p = first; p <= last; ++p) slots.push_back(Slot{Port{static_cast<std::uint16_t>(p)}, lane});
    for (std::uint16_t p : {53, 69, 123, 161, 514, 1004}) slots.push_back(Slot{Port{p}, lane});
    return slots;
}

int count_wrong_udp(const SimScan& scan, const SimHost& host, std::uint8_t lane = 0) {
    int wrong = 0;
    for (const Slot& slot : scan.targets.slots()) {
        if (slot.lane != lane) continue;
        const auto& got = scan.at(kTarget, slot.port.value(), lane);
        if (got.state == expected_udp_state(host, slot.port.value())) continue;
        ADD_FAILURE() << slot.port.value() << "/udp is " << to_string(got.state);
        ++wrong;
    }
    return wrong;
}

TEST(UdpScan, EveryVerdictFromQuotesAndReplies) {
    SimConfig net;
    net.hosts[kTarget] = udp_host();
    SimScan scan{one_host(kTarget), udp_slots(1, 300), {&udp_kind()}, net};
    scan.run();
    EXPECT_EQ(count_wrong_udp(scan, net.hosts[kTarget]), 0);
    EXPECT_EQ(scan.at(kTarget, 7).reason, Reason::port_unreach);
    EXPECT_EQ(scan.at(kTarget, 1004).reason, Reason::admin_prohibited);
    EXPECT_EQ(scan.at(kTarget, 53).reason, Reason::udp_response);
    EXPECT_EQ(scan.at(kTarget, 69).reason, Reason::no_response);
    EXPECT_EQ(scan.results->host(0).icmp_limit, 0.0);  // no limit here: no pacing
}

TEST(UdpScan, WithLossEveryVerdictStillRight) {
    SimConfig net;
    net.loss = 0.05;
    net.hosts[kTarget] = udp_host();
    SimScan scan{one_host(kTarget), udp_slots(1, 2000), {&udp_kind()}, net};
    scan.run();
    EXPECT_EQ(count_wrong_udp(scan, net.hosts[kTarget]), 0);
}

// Linux's default: a burst of six ICMP errors, then one per second. Without pacing, closed
// ports past the burst would be called open|filtered.
TEST(UdpScan, RateLimitedIcmpIsPacedNotMistakenForSilence) {
    const SimHost host = limited_host(1.0);
    const SimConfig net = network_of(host);
    SimScan scan{one_host(kTarget), udp_slots(1, 40), {&udp_kind()}, net};
    const Micros took = scan.run();
    EXPECT_EQ(count_wrong_udp(scan, host), 0);
    const double limit = scan.results->host(0).icmp_limit;
    EXPECT_GT(limit, 0.7);
    EXPECT_LT(limit, 1.5);
    // 41 ports answer with ICMP (40 closed + 1004); six go in the burst, the rest one per second.
    EXPECT_GT(took, 30 * kSecond);
    EXPECT_LT(took, 120 * kSecond);
}

// Too few closed ports to notice a limit from the silences: the retries wait for the host's
// next token instead, so the closed ports just past the burst are still found closed.
TEST(UdpScan, FewPortsPastTheBurstAreStillClosed) {
    const SimHost host = limited_host(1.0);
    const SimConfig net = network_of(host);
    std::vector<Slot> slots;
    for (std::uint16_t p = 1; p <= 8; ++p) slots.push_back(Slot{Port{p}, 0});
    SimScan scan{one_host(kTarget), slots, {&udp_kind()}, net};
    scan.run();
    EXPECT_EQ(count_wrong_udp(scan, host), 0);
}

// The host's budget is spent when the scan begins (another scan just used it): no error at
// first, then one per second.
TEST(UdpScan, SpentIcmpBudgetAtTheStartIsStillPaced) {
    SimHost host = limited_host(1.0);
    host.icmp_spent_at_start = true;
    const SimConfig net = network_of(host);
    SimScan scan{one_host(kTarget), udp_slots(1, 20), {&udp_kind()}, net};
    scan.run();
    EXPECT_EQ(count_wrong_udp(scan, host), 0);
    EXPECT_GT(scan.results->host(0).icmp_limit, 0.0);
}

// A higher limit (Solaris-like 50/s) is found by the pace growing again.
TEST(UdpScan, PaceGrowsToAHigherLimit) {
    const SimHost host = limited_host(50.0);
    const SimConfig net = network_of(host);
    SimScan scan{one_host(kTarget), udp_slots(1, 1500), {&udp_kind()}, net};
    const Micros took = scan.run();
    EXPECT_EQ(count_wrong_udp(scan, host), 0);
    EXPECT_GT(scan.results->host(0).icmp_limit, 10.0);
    EXPECT_LT(took, 150 * kSecond);  // at 1/s it would take 25 minutes
}

// Linux with icmp_ratelimit=0 but the host-wide budget at its defaults (icmp_msgs_per_sec 1000,
// icmp_msgs_burst 50): the pace starts at the rate the errors came at, not at one per second.
TEST(UdpScan, GlobalBudgetIsScannedAtItsRate) {
    SimHost host = udp_host();
    host.icmp_global_per_s = 1000;
    const SimConfig net = network_of(host);
    SimScan scan{one_host(kTarget), udp_slots(1, 2048), {&udp_kind()}, net};
    const Micros took = scan.run();
    EXPECT_EQ(count_wrong_udp(scan, host), 0);
    EXPECT_LT(took, 4 * kSecond);  // ~2 s of it at 1000/s; from one per second up, a minute
    EXPECT_GT(scan.results->host(0).icmp_limit, 500.0);
    EXPECT_LT(scan.sim->counters().probes, 2 * 2048u);  // few of them lost to the budget
}

// Linux's defaults, both limits: one error per second per destination after a burst of six,
// inside the host-wide budget. Every closed port is still found closed.
TEST(UdpScan, PeerLimitInsideTheGlobalBudgetKeepsEveryClosedPort) {
    SimHost host = limited_host(1.0);
    host.icmp_global_per_s = 1000;
    const SimConfig net = network_of(host);
    SimScan scan{one_host(kTarget), udp_slots(1, 120), {&udp_kind()}, net};
    const Micros took = scan.run();
    EXPECT_EQ(count_wrong_udp(scan, host), 0);
    EXPECT_GT(took, 100 * kSecond);  // 121 errors, six in the burst: no faster than its tokens
    EXPECT_LT(scan.results->host(0).icmp_limit, 1.5);
}

// A host that sends no ICMP error at all (every port open|filtered) is no slower to scan for
// UDP than for SYN, whose silence no ICMP limit concerns.
TEST(UdpScan, HostWithoutErrorsIsNotSlowedForNothing) {
    SimHost host;
    host.icmp_global_per_s = 1000;
    host.drop_all = true;
    const SimConfig net = network_of(host);
    SimScan udp{one_host(kTarget), udp_slots(1, 2048), {&udp_kind()}, net};
    const Micros udp_took = udp.run();
    EXPECT_EQ(count_wrong_udp(udp, host), 0);
    SimScan syn{one_host(kTarget), testing::port_range(1, 2048), net};
    const Micros syn_took = syn.run();
    EXPECT_LT(udp_took, syn_took + syn_took / 10);
    EXPECT_EQ(udp.sim->counters().probes, syn.sim->counters().probes);
    EXPECT_EQ(udp.results->host(0).icmp_limit, 0.0);
}

// No ICMP limit, but 95% of the ports dropped and 5% closed: its silences are its ports', not a
// limit's, and the scan is not paced for them.
TEST(UdpScan, MostlyDroppedHostWithoutLimitIsNotPaced) {
    SimHost host = udp_host();
    for (std::uint16_t p = 1; p <= 2048; ++p) {
        if (p % 20 != 0 && !host.open_udp.contains(p) && !host.rejected_udp.contains(p)) host.dropped_udp.insert(p);
    }
    const SimConfig net = network_of(host);
    SimScan scan{one_host(kTarget), udp_slots(1, 2048), {&udp_kind()}, net};
    scan.run();
    EXPECT_EQ(count_wrong_udp(scan, host), 0);
    EXPECT_EQ(scan.results->host(0).icmp_limit, 0.0);
}

TEST(UdpScan, SynAndUdpTogetherInOneRun) {
    SimConfig net;
    net.hosts[kTarget] = udp_host();
    std::vector<Slot> slots;
    for (std::uint16_t p : {21, 22, 23, 53}) slots.push_back(Slot{Port{p}, 0});
    for (const Slot& s : udp_slots(1, 100, 1)) slots.push_back(s);
    SimScan scan{one_host(kTarget), slots, {&syn_kind(), &udp_kind()}, net};
    scan.run();
    EXPECT_EQ(scan.at(kTarget, 22, 0).state, PortState::open);
    EXPECT_EQ(scan.at(kTarget, 53, 0).state, PortState::closed);  // 53/tcp: nothing listens
    EXPECT_EQ(scan.at(kTarget, 53, 1).state, PortState::open);    // 53/udp answers
    EXPECT_EQ(count_wrong_udp(scan, net.hosts[kTarget], 1), 0);
}

// nmap-payloads style: the payload for the port goes out in the datagram.
TEST(UdpScan, ProbesCarryThePortsPayload) {
    auto payloads = UdpPayloads::parse("udp 53 \"\\x12\\x34hello\"\n");
    ASSERT_TRUE(payloads) << payloads.error();
    const ProbeKind* kinds[] = {&udp_kind()};
    auto builder = ProbeBuilder::create(kinds, ProbeShape{}, &*payloads);
    ASSERT_TRUE(builder);
    Probe probe;
    probe.src = Ipv4{10, 0, 0, 1};
    probe.dst = kTarget;
    probe.sport = Port{40000};
    probe.dport = Port{53};
    std::vector<std::uint8_t> bytes(builder->size());
    const std::size_t size = builder->build(probe, bytes);
    ASSERT_EQ(size, 20u + 8u + 7u);
    auto decoded = decode_ipv4(ByteView{std::span{bytes}.first(size)});
    ASSERT_TRUE(decoded && decoded->udp);
    EXPECT_EQ(decoded->udp->length, 15);
    EXPECT_EQ(bytes[28], 0x12);
    EXPECT_EQ(bytes[34], 'o');
    probe.dport = Port{54};
    EXPECT_EQ(builder->build(probe, bytes), 28u);  // no payload known: an empty datagram
}

}  // namespace
}  // namespace flagscan

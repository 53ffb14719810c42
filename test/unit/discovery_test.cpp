// Host discovery through the engine against the simulated network: every method, the default
// set, and hosts that answer only some probes.
#include <gtest/gtest.h>

#include "flagscan/output/report.hpp"
#include "sim_scan.hpp"

namespace flagscan {
namespace {

using testing::SimScan;

AddressSet range(Ipv4 first, Ipv4 last) {
    AddressSet set;
    set.add(Ipv4Range{first, last});
    return set;
}

struct Lab {
    SimConfig net;
    std::set<Ipv4> up;
};

// 10.0.0.1-64: even hosts exist; every 8th of those drops everything; some ignore pings.
Lab lab() {
    Lab out;
    for (std::uint8_t i = 2; i <= 64; i += 2) {
        SimHost host;
        host.open = {443};
        host.drop_all = i % 16 == 0;
        host.answers_ping = i % 6 != 0;
        host.answers_timestamp = i % 10 != 0;
        out.net.hosts[Ipv4{10, 0, 0, i}] = host;
        if (!host.drop_all) out.up.insert(Ipv4{10, 0, 0, i});
    }
    return out;
}

struct Method {
    const ProbeKind* kind;
    std::vector<Port> ports;
};

std::set<Ipv4> discovered(const SimScan& scan) {
    std::set<Ipv4> up;
    for (std::uint32_t h = 0; h < scan.targets.host_count(); ++h) {
        if (up_evidence(*scan.results, h)) up.insert(scan.targets.hosts().at(h));
    }
    return up;
}

SimScan discovery(const Lab& l, const std::vector<Method>& methods) {
    std::vector<Slot> slots;
    std::vector<const ProbeKind*> kinds;
    for (const auto& method : methods) {
        for (const Port port : method.ports) slots.push_back(Slot{port, static_cast<std::uint8_t>(kinds.size())});
        kinds.push_back(method.kind);
    }
    return SimScan{range(Ipv4{10, 0, 0, 1}, Ipv4{10, 0, 0, 64}), slots, kinds, l.net};
}

TEST(Discovery, DefaultSetFindsExactlyTheLiveHosts) {
    const Lab l = lab();
    SimScan scan = discovery(l, {{&ping_echo_kind(), {Port{0}}},
                                 {&ping_syn_kind(), {Port{443}}},
                                 {&ping_ack_kind(), {Port{80}}},
                                 {&ping_timestamp_kind(), {Port{0}}}});
    scan.run();
    EXPECT_EQ(discovered(scan), l.up);
}

TEST(Discovery, EachTcpOrUdpMethodAloneFindsThem) {
    const Lab l = lab();
    for (const Method& method : std::vector<Method>{{&ping_syn_kind(), {Port{443}}},
                                                    {&ping_syn_kind(), {Port{22}}},
                                                    {&ping_ack_kind(), {Port{80}}},
                                                    {&ping_udp_kind(), {Port{40125}}}}) {
        SimScan scan = discovery(l, {method});
        scan.run();
        EXPECT_EQ(discovered(scan), l.up) << method.kind->name;
    }
}

TEST(Discovery, IcmpMethodsMissHostsThatIgnoreThem) {
    const Lab l = lab();
    SimScan echo = discovery(l, {{&ping_echo_kind(), {Port{0}}}});
    echo.run();
    const auto found = discovered(echo);
    for (const Ipv4 ip : l.up) EXPECT_EQ(found.contains(ip), l.net.hosts.at(ip).answers_ping) << ip.str();
    const auto h = *echo.targets.hosts().index_of(Ipv4{10, 0, 0, 2});
    const auto evidence = up_evidence(*echo.results, static_cast<std::uint32_t>(h));
    ASSERT_TRUE(evidence);
    EXPECT_EQ(echo.results->port(*evidence).reason, Reason::echo_reply);
    EXPECT_GT(echo.results->port(*evidence).rtt_us, 0u);

    SimScan timestamp = discovery(l, {{&ping_timestamp_kind(), {Port{0}}}});
    timestamp.run();
    const auto by_timestamp = discovered(timestamp);
    for (const Ipv4 ip : l.up) EXPECT_EQ(by_timestamp.contains(ip), l.net.hosts.at(ip).answers_timestamp) << ip.str();
}

TEST(Discovery, UpHostsGetNoRetries) {
    const Lab l = lab();
    SimScan scan = discovery(l, {{&ping_echo_kind(), {Port{0}}}, {&ping_syn_kind(), {Port{443}}}});
    scan.run();
    // Hosts that ignore echo are found by the SYN ping; their echo slot is not retried to the end.
    std::uint64_t silent_tries = 0;
    for (std::uint32_t h = 0; h < scan.targets.host_count(); ++h) {
        if (!l.up.contains(scan.targets.hosts().at(h))) continue;
        const auto& echo = scan.results->port(std::uint64_t{h} * scan.targets.slot_count());
        if (echo.state != PortState::open) silent_tries += echo.tries;
    }
    EXPECT_LE(silent_tries, 2u * 6u);  // at most a couple of tries each for the six ping-deaf hosts
}

}  // namespace
}  // namespace flagscan

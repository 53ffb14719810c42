// The lanes a command line asks for: which ports -p, names and --top-ports give each protocol.
#include "flagscan/cli/scan_plan.hpp"

#include <gtest/gtest.h>

namespace flagscan {
namespace {

ServiceTable sample_services() {
    return ServiceTable::from_nmap_services(
        "ftp\t21/tcp\t0.19\nssh\t22/tcp\t0.18\ntelnet\t23/tcp\t0.22\ndomain\t53/udp\t0.21\nhttp\t80/tcp\t0.48\n"
        "http\t8008/tcp\t0.006\nhttps\t443/tcp\t0.20\nsnmp\t161/udp\t0.43\nntp\t123/udp\t0.33\n");
}

std::vector<std::uint16_t> lane_ports(const ScanPlan& plan, std::uint8_t lane) {
    std::vector<std::uint16_t> ports;
    for (const Slot& slot : plan.slots)
        if (slot.lane == lane) ports.push_back(slot.port.value());
    return ports;
}

TEST(ScanPlan, TopPortsWithPortsPicksTheMostCommonOfThose) {
    ScanConfig config;
    config.ports_spec = "20-30,443,8000-9000";
    config.top_ports = 3;
    config.top_ports_given = true;
    auto plan = port_scan_plan(config, sample_services());
    ASSERT_TRUE(plan) << plan.error();
    EXPECT_EQ(lane_ports(*plan, 0), (std::vector<std::uint16_t>{23, 443, 21}));  // 80 is not in -p
}

TEST(ScanPlan, ServiceNamesGoToTheirProtocolsLane) {
    ScanConfig config;
    config.ports_spec = "domain,http";
    config.udp_scan = true;
    auto plan = port_scan_plan(config, sample_services());
    ASSERT_TRUE(plan) << plan.error();
    EXPECT_EQ(lane_ports(*plan, 0), (std::vector<std::uint16_t>{80, 8008}));  // TCP: http only
    EXPECT_EQ(lane_ports(*plan, 1), (std::vector<std::uint16_t>{53}));        // UDP: domain only
}

}  // namespace
}  // namespace flagscan

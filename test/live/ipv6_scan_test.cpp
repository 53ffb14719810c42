// flagscan -6 against the lab's IPv6 side: every scan kind's states equal the layout, with and without loss; -sn over the /120; nmap -6 agrees.
#include "live_support.hpp"

#include <sstream>

namespace flagscan::live {
namespace {

constexpr int kSubnet6Size = 256;  // fd77:ID::100/120
constexpr auto kNmapTimeout = std::chrono::seconds(180);

// fd77:ID::100 + OFFSET (hex), as lab.sh numbers the /120.
std::string subnet6_address(int offset) {
    std::ostringstream suffix;
    suffix << std::hex << (0x100 + offset);
    return lab_address6(suffix.str());
}

// Every port the layout names for PROTO, and a few it leaves to the kernel (closed).
std::vector<int> layout_ports(const Layout& layout, bool udp) {
    std::set<int> ports{1, 23, 1000, 65535};
    const auto sets = udp ? std::array{&layout.open_udp, &layout.rejected_udp, &layout.dropped_udp}
                          : std::array{&layout.open_tcp, &layout.rejected_tcp, &layout.dropped_tcp};
    for (const auto* set : sets) ports.insert(set->begin(), set->end());
    return {ports.begin(), ports.end()};
}

class Ipv6Scan : public LabTest {
protected:
    // Every target routes into the lab (fd77:ID::/64 through its veth), or the test fails before
    // a packet is sent.
    static bool routed_into_lab(const std::vector<std::string>& targets) {
        const std::string why = lab_targets6_error(targets);
        if (!why.empty()) ADD_FAILURE() << why;
        return why.empty();
    }

    // `flagscan -6 -n ARGS -p PORTS` of TARGETS: its port lines, checked readable and unique.
    static std::optional<VerdictMap> scan6(std::vector<std::string> args, const std::vector<int>& ports,
                                           const std::vector<std::string>& targets, std::string_view proto) {
        if (!routed_into_lab(targets)) return std::nullopt;
        args.insert(args.begin(), {"-6", "-n"});
        args.insert(args.end(), {"-p", port_argument(ports)});
        const Scan result = scan(args, targets);
        EXPECT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
        EXPECT_TRUE(result.output.errors.empty()) << "unreadable output line: " << result.output.errors.front();
        std::vector<PortKey> duplicates;
        VerdictMap verdicts = verdicts_of(result.output, proto, duplicates);
        EXPECT_TRUE(duplicates.empty()) << duplicates.size() << " ports reported twice";
        if (::testing::Test::HasFailure()) return std::nullopt;
        return verdicts;
    }

    // The namespace host, the /120's first answering address and a dropped one.
    static std::vector<std::string> targets() {
        return {lab_address6("2"), subnet6_address(0), subnet6_address(*layout().dropped_hosts.begin())};
    }
    static bool dropped(const std::string& target) { return target == subnet6_address(*layout().dropped_hosts.begin()); }

    static VerdictMap expected(const ScanKind& kind, const std::vector<int>& ports, bool udp) {
        VerdictMap map;
        for (const auto& target : targets()) {
            for (const int port : ports) {
                map[{target, port}] = udp ? expected_udp_verdict(layout(), port, dropped(target))
                                          : expected_verdict(kind, layout(), port, dropped(target));
            }
        }
        return map;
    }

    static void expect_layout(const ScanKind& kind, bool udp, std::vector<std::string> extra = {}) {
        const std::vector<int> ports = layout_ports(layout(), udp);
        std::vector<std::string> args{std::string(kind.option), "-Pn", "--reason"};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto actual = scan6(args, ports, targets(), udp ? "udp" : "tcp");
        if (!actual) return;
        const std::string differences = describe_differences(expected(kind, ports, udp), *actual);
        EXPECT_TRUE(differences.empty()) << kind.option << " -6 differs from layout.conf:\n" << differences;
    }

    // nmap -6 on the same ports and hosts with the same scan KIND: port for port the same states and reasons.
    static void expect_agreement_with_nmap(const ScanKind& kind, bool udp) {
        const std::vector<int> ports = layout_ports(layout(), udp);
        const std::string proto = udp ? "udp" : "tcp";
        const auto ours = scan6({std::string(kind.option), "-Pn", "--reason"}, ports, targets(), proto);
        if (!ours) return;
        const TempDir dir;
        const std::string xml = dir.path() + "/nmap.xml";
        std::vector<std::string> argv{"nmap", "-6", "-n", std::string(kind.option), "-Pn", "--reason", "-T4", "-p", port_argument(ports), "-oX", xml};
        for (const auto& target : targets()) argv.push_back(target);
        const auto nmap = run_process(argv, kNmapTimeout);
        ASSERT_TRUE(nmap.exited() && nmap.exit_code == 0) << nmap.describe();
        std::string error;
        const auto theirs = read_nmap_xml(xml, ports, error, proto);
        ASSERT_TRUE(theirs) << error;
        const std::string differences = describe_differences(*theirs, *ours);
        EXPECT_TRUE(differences.empty()) << "flagscan -6 " << kind.option << " differs from nmap -6 " << kind.option
                                         << " (expected: nmap's):\n" << differences;
    }
};

class Ipv6KindScan : public Ipv6Scan, public ::testing::WithParamInterface<ScanKind> {};

// Each TCP kind over IPv6: the states and reasons of IPv4 (ICMPv6 1/1 is nmap's admin-prohibited).
TEST_P(Ipv6KindScan, LayoutPortsMatchLayout) { expect_layout(GetParam(), false); }

// 5% of the namespace's replies lost (lab.sh's loss rule covers ip6): recovered by retransmission.
TEST_P(Ipv6KindScan, LayoutPortsMatchLayoutWithFivePercentLoss) {
    const LossGuard loss(5);
    ASSERT_TRUE(loss.ok()) << loss.error();
    expect_layout(GetParam(), false);
}

INSTANTIATE_TEST_SUITE_P(Kinds, Ipv6KindScan, ::testing::ValuesIn(kLinuxTcpScanKinds),
                         [](const auto& info) { return std::string(info.param.name); });

// UDP over IPv6: a reply is open, ICMPv6 port unreachable (1/4) closed, admin-prohibited filtered.
TEST_F(Ipv6Scan, UdpLayoutPortsMatchLayout) { expect_layout(kUdpScan, true); }

TEST_F(Ipv6Scan, UdpLayoutPortsMatchLayoutWithFivePercentLoss) {
    const LossGuard loss(5);
    ASSERT_TRUE(loss.ok()) << loss.error();
    expect_layout(kUdpScan, true);
}

// The connect scan (no raw packets) reaches the same states; its reasons are connect()'s.
TEST_F(Ipv6Scan, ConnectScanStatesMatchLayout) {
    const std::vector<int> ports = layout_ports(layout(), false);
    const auto actual = scan6({"-sT", "-Pn"}, ports, targets(), "tcp");
    if (!actual) return;
    const std::string differences = describe_differences(states_only(expected(kConnectScan, ports, false)), states_only(*actual));
    EXPECT_TRUE(differences.empty()) << "-sT -6 differs from layout.conf:\n" << differences;
}

TEST_F(Ipv6Scan, SynScanAgreesWithNmap) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    expect_agreement_with_nmap(kLinuxTcpScanKinds.front(), false);  // -sS
}

// UDP: an answer is open, ICMPv6 1/4 closed, 1/1 filtered, silence open|filtered, as nmap -6 -sU says.
TEST_F(Ipv6Scan, UdpScanAgreesWithNmap) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    expect_agreement_with_nmap(kUdpScan, true);
}

// -sn over the /120: exactly the addresses that are not dropped_hosts are up (NDP on the link
// does not reach the routed /120; ICMPv6 echo and the TCP pings do).
TEST_F(Ipv6Scan, PingSweepOfSubnetFindsTheHostsNotDropped) {
    const std::string prefix = subnet6_address(0) + "/120";
    if (!routed_into_lab({prefix})) return;
    const Scan result = scan({"-6", "-n", "-sn"}, prefix);
    ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
    std::set<std::string> up, expected;
    for (const auto& host : result.output.hosts) {
        if (host.status == "up") up.insert(host.ip);
    }
    for (int offset = 0; offset < kSubnet6Size; ++offset) {
        if (!layout().dropped_hosts.contains(offset)) expected.insert(subnet6_address(offset));
    }
    std::string missing, extra;
    for (const auto& host : expected) {
        if (!up.contains(host)) missing += " " + host;
    }
    for (const auto& host : up) {
        if (!expected.contains(host)) extra += " " + host;
    }
    EXPECT_TRUE(missing.empty() && extra.empty()) << "up but dropped:" << extra << "\nnot up but answering:" << missing;
}

// -sn of the namespace host on the attached link: a Neighbor Solicitation answered (-PR over
// IPv6, as nmap), reason nd-response.
TEST_F(Ipv6Scan, PingOfTheAttachedHostIsAnsweredByNeighborDiscovery) {
    const std::string target = lab_address6("2");
    if (!routed_into_lab({target})) return;
    const Scan result = scan({"-6", "-n", "-sn"}, target);
    ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
    ASSERT_EQ(result.output.hosts.size(), 1u);
    EXPECT_EQ(result.output.hosts.front().status, "up");
    EXPECT_EQ(result.output.hosts.front().ip, target);
}

}  // namespace
}  // namespace flagscan::live

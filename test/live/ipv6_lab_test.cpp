// The lab's IPv6 side (fd77:ID::/64, lab.sh) seen by nmap -6: the same port layout as IPv4, the /120's dropped hosts, loss.
#include "live_support.hpp"

#include <sstream>

namespace flagscan::live {
namespace {

constexpr auto kNmapTimeout = std::chrono::seconds(180);
constexpr int kSubnet6Size = 256;  // fd77:ID::100/120

// fd77:ID::100 + OFFSET (hex), as lab.sh numbers the /120.
std::string subnet6_address(int offset) {
    std::ostringstream suffix;
    suffix << std::hex << (0x100 + offset);
    return lab_address6(suffix.str());
}

// Every port the layout names for TCP, and a few closed ones.
std::vector<int> layout_tcp_ports(const Layout& layout) {
    std::set<int> ports{1, 23, 1000, 1001, 65535};
    for (const auto* set : {&layout.open_tcp, &layout.rejected_tcp, &layout.dropped_tcp}) {
        ports.insert(set->begin(), set->end());
    }
    return {ports.begin(), ports.end()};
}

class Ipv6Lab : public LabTest {
protected:
    // nmap -6 -n ARGS TARGETS, after every target has been shown to route into the lab.
    static ProcessResult nmap6(std::vector<std::string> args, const std::vector<std::string>& targets) {
        if (const auto why = lab_targets6_error(targets); !why.empty()) {
            ADD_FAILURE() << why;
            return {};
        }
        args.insert(args.begin(), {"nmap", "-6", "-n"});
        args.insert(args.end(), targets.begin(), targets.end());
        return run_process(args, kNmapTimeout);
    }

    // The addresses `nmap -oG -` (OUT) calls up.
    static std::set<std::string> up_hosts(const std::string& out) {
        std::set<std::string> hosts;
        std::istringstream lines(out);
        for (std::string line; std::getline(lines, line);) {
            if (!line.starts_with("Host: ") || line.find("Status: Up") == std::string::npos) continue;
            hosts.insert(line.substr(6, line.find(' ', 6) - 6));
        }
        return hosts;
    }

    void SetUp() override {
        LabTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    }
};

// -sS on the namespace host, two answering /120 addresses and every dropped one: each port has
// the state and reason the layout gives it over IPv4 (nft table ip6 fslab's reject is ICMPv6
// 1/1, admin-prohibited, RFC 4443 3.1).
TEST_F(Ipv6Lab, NmapSynScanEqualsLayout) {
    const std::vector<int> ports = layout_tcp_ports(layout());
    std::vector<std::string> targets{lab_address6("2"), subnet6_address(0), subnet6_address(kSubnet6Size - 1)};
    VerdictMap expected;
    for (const auto& target : targets) {
        for (const int port : ports) expected[{target, port}] = expected_syn_verdict(layout(), port, false);
    }
    for (const int offset : layout().dropped_hosts) {
        targets.push_back(subnet6_address(offset));
        for (const int port : ports) expected[{targets.back(), port}] = expected_syn_verdict(layout(), port, true);
    }
    const TempDir dir;
    const std::string xml = dir.path() + "/nmap.xml";
    const auto nmap = nmap6({"-sS", "-Pn", "--reason", "-p", port_argument(ports), "-oX", xml}, targets);
    ASSERT_TRUE(nmap.exited() && nmap.exit_code == 0) << nmap.describe();
    std::string error;
    const auto actual = read_nmap_xml(xml, ports, error);
    ASSERT_TRUE(actual) << error;
    const std::string differences = describe_differences(expected, *actual);
    EXPECT_TRUE(differences.empty()) << "nmap -6 -sS differs from layout.conf:\n" << differences;
}

// -sn over the /120 lists exactly the addresses that are not dropped_hosts.
TEST_F(Ipv6Lab, NmapPingSweepOfSubnetFindsTheHostsNotDropped) {
    std::set<std::string> expected;
    for (int offset = 0; offset < kSubnet6Size; ++offset) {
        if (!layout().dropped_hosts.contains(offset)) expected.insert(subnet6_address(offset));
    }
    const auto nmap = nmap6({"-sn", "-oG", "-"}, {subnet6_address(0) + "/120"});
    ASSERT_TRUE(nmap.exited() && nmap.exit_code == 0) << nmap.describe();
    const auto actual = up_hosts(nmap.out);
    std::string missing, extra;
    for (const auto& host : expected) {
        if (!actual.contains(host)) missing += " " + host;
    }
    for (const auto& host : actual) {
        if (!expected.contains(host)) extra += " " + host;
    }
    EXPECT_TRUE(missing.empty() && extra.empty())
        << "nmap -6 -sn: up but dropped:" << extra << "\nnot up but answering:" << missing;
    EXPECT_EQ(actual.size(), static_cast<std::size_t>(kSubnet6Size) - layout().dropped_hosts.size());
}

// lab.sh's loss rule reaches IPv6: at 100% an open port of the /120 is filtered, at 0% open again.
TEST_F(Ipv6Lab, LossAppliesToIpv6) {
    const int port = *layout().open_tcp.begin();
    const std::string target = subnet6_address(0);
    const TempDir dir;
    const std::string xml = dir.path() + "/nmap.xml";
    const auto state_of_port = [&]() -> std::string {
        const auto nmap = nmap6({"-sS", "-Pn", "--max-retries", "1", "-p", std::to_string(port), "-oX", xml}, {target});
        if (!nmap.exited() || nmap.exit_code != 0) return "nmap failed: " + nmap.describe();
        std::string error;
        const auto verdicts = read_nmap_xml(xml, {port}, error);
        if (!verdicts || !verdicts->contains({target, port})) return "unreadable: " + error;
        return verdicts->at({target, port}).state;
    };
    {
        const LossGuard loss(100);
        ASSERT_TRUE(loss.ok()) << loss.error();
        EXPECT_EQ(state_of_port(), "filtered");
    }
    EXPECT_EQ(state_of_port(), "open");
}

}  // namespace
}  // namespace flagscan::live

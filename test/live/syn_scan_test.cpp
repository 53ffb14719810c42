// Live SYN scans of the namespace lab: every port's state and reason, with and without loss.
#include "live_support.hpp"

namespace flagscan::live {
namespace {

constexpr int kNamespaceHost = 2;  // 10.77.ID.2, the namespace side of the veth
constexpr int kSubnetFirst = 16;   // 10.77.ID.16/28
constexpr int kSubnetSize = 16;
constexpr int kMaxPort = 65535;
const std::vector<std::string> kFullScan{"-sS", "-p-", "-Pn", "-n", "--all-ports"};
const std::vector<std::string> kSubnetScan{"-sS", "-p", "22,80,113,135,1000-1010", "-Pn", "-n",
                                           "--all-ports"};

std::vector<int> subnet_ports() {
    std::vector<int> ports{22, 80, 113, 135};
    for (int port = 1000; port <= 1010; ++port) ports.push_back(port);
    return ports;
}

class SynScan : public LabTest {
protected:
    static VerdictMap expected_for(int last_octet, const std::vector<int>& ports, bool dropped) {
        VerdictMap expected;
        for (const int port : ports) {
            expected[{lab_address(last_octet), port}] = expected_syn_verdict(layout(), port, dropped);
        }
        return expected;
    }

    static VerdictMap expected_full_scan() {
        std::vector<int> ports;
        for (int port = 1; port <= kMaxPort; ++port) ports.push_back(port);
        return expected_for(kNamespaceHost, ports, false);
    }

    static VerdictMap expected_subnet_scan() {
        VerdictMap expected;
        for (int offset = 0; offset < kSubnetSize; ++offset) {
            const bool dropped = layout().dropped_hosts.contains(offset);
            expected.merge(expected_for(kSubnetFirst + offset, subnet_ports(), dropped));
        }
        return expected;
    }

    // The scan succeeded and its port lines are exactly EXPECTED, one line per port.
    static void expect_exact(const Scan& scan, const VerdictMap& expected) {
        ASSERT_TRUE(scan.process.exited() && scan.process.exit_code == 0) << scan.process.describe();
        EXPECT_TRUE(scan.output.errors.empty())
            << "unreadable output lines, first: " << scan.output.errors.front();
        std::vector<PortKey> duplicates;
        const VerdictMap actual = verdicts_of(scan.output, duplicates);
        EXPECT_TRUE(duplicates.empty()) << duplicates.size() << " ports reported twice, first "
                                        << duplicates.front().first << ":" << duplicates.front().second;
        const std::string differences = describe_differences(expected, actual);
        EXPECT_TRUE(differences.empty()) << "scan differs from layout.conf:\n" << differences;
    }
};

// a. Every port of the namespace host has exactly the state and reason the layout gives it.
TEST_F(SynScan, FullPortRangeMatchesLayout) {
    expect_exact(scan(kFullScan, lab_address(kNamespaceHost)), expected_full_scan());
}

// b. 5% of the namespace's replies lost: retransmissions must still recover every verdict.
TEST_F(SynScan, FullPortRangeMatchesLayoutWithFivePercentLoss) {
    const LossGuard loss(5);
    ASSERT_TRUE(loss.ok()) << loss.error();
    expect_exact(scan(kFullScan, lab_address(kNamespaceHost)), expected_full_scan());
}

// c. Sixteen AnyIP hosts of the /28, two of which drop everything.
TEST_F(SynScan, SubnetMatchesLayout) {
    expect_exact(scan(kSubnetScan, lab_address(kSubnetFirst) + "/28"), expected_subnet_scan());
}

// d. Without --all-ports: the host summary counts every state, and only the ports not in the
//    most common state (closed) get a line.
TEST_F(SynScan, HostSummaryCountsMatchLayout) {
    const auto result = scan({"-sS", "-p-", "-Pn", "-n"}, lab_address(kNamespaceHost));
    ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
    const auto& hosts = result.output.hosts;
    ASSERT_EQ(hosts.size(), 1u) << "expected one host line";
    EXPECT_EQ(hosts[0].ip, lab_address(kNamespaceHost));
    EXPECT_EQ(hosts[0].status, "up");
    const long open = static_cast<long>(layout().open_tcp.size());
    const long filtered = static_cast<long>(layout().rejected_tcp.size() + layout().dropped_tcp.size());
    std::map<std::string, long> expected{
        {"open", open}, {"closed", kMaxPort - open - filtered}, {"filtered", filtered}};
    for (const auto& [state, count] : hosts[0].counts) expected.try_emplace(state, 0);
    EXPECT_EQ(hosts[0].counts, expected) << "counts (other states must be 0)";

    VerdictMap not_closed = expected_full_scan();
    std::erase_if(not_closed, [](const auto& entry) { return entry.second.state == "closed"; });
    std::vector<PortKey> duplicates;
    const std::string differences =
        describe_differences(not_closed, verdicts_of(result.output, duplicates));
    EXPECT_TRUE(differences.empty() && duplicates.empty())
        << "port lines without --all-ports:\n" << differences;
}

}  // namespace
}  // namespace flagscan::live

namespace flagscan::live {
namespace {

// Reverse DNS without a DNS server: a private mount namespace puts our own /etc/hosts in place
// and points resolv.conf at loopback, so no query can leave the machine.
class ReverseDns : public LabTest {
protected:
    static ProcessResult scan_with_hosts_file(const std::vector<std::string>& extra) {
        TempDir dir;
        const std::string hosts = dir.path() + "/hosts", resolv = dir.path() + "/resolv.conf";
        const std::string target = lab_address(kNamespaceHost);
        run_process({"sh", "-c", "echo '" + target + " target.lab' > " + hosts + "; echo 'nameserver 127.0.0.1' > " + resolv},
                    std::chrono::seconds(5));
        std::string command = "mount --bind " + hosts + " /etc/hosts && mount --bind " + resolv +
                              " /etc/resolv.conf && exec " + flagscan_bin() + " -sS -p 22,23 -Pn -oJ -";
        for (const auto& arg : extra) command += " " + arg;
        command += " " + target;
        return run_process({"unshare", "--mount", "sh", "-c", command}, std::chrono::seconds(30));
    }
};

TEST_F(ReverseDns, NamesReportedHostsUnlessToldNotTo) {
    const auto named = scan_with_hosts_file({});
    ASSERT_EQ(named.exit_code, 0) << named.describe();
    EXPECT_NE(named.out.find(R"("hostname":"target.lab")"), std::string::npos) << named.out;
    const auto unnamed = scan_with_hosts_file({"-n"});
    ASSERT_EQ(unnamed.exit_code, 0) << unnamed.describe();
    EXPECT_EQ(unnamed.out.find("hostname"), std::string::npos) << unnamed.out;
}

}  // namespace
}  // namespace flagscan::live

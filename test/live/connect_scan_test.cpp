// Live connect scans (-sT) as an unprivileged user: the same states as the SYN scan, with and
// without loss, and the automatic switch to -sT without root.
#include <fstream>

#include "live_support.hpp"

namespace flagscan::live {
namespace {

constexpr const ScanKind& kConnect = kConnectScan;

class ConnectScan : public LabTest {
protected:
    // Runs flagscan as nobody; its JSON lines come on stdout (nobody cannot write our temp dir).
    static std::pair<ProcessResult, ScanOutput> scan_as_nobody(std::vector<std::string> args,
                                                               const std::string& target = lab_address(2),
                                                               bool skip_discovery = true) {
        std::vector<std::string> argv{"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", flagscan_bin()};
        argv.insert(argv.end(), args.begin(), args.end());
        if (skip_discovery) argv.push_back("-Pn");
        argv.insert(argv.end(), {"-n", "--all-ports", "-oJ", "-", target});
        ProcessResult result = run_process(argv, std::chrono::seconds(300));
        TempDir dir;
        const std::string path = dir.path() + "/scan.jsonl";
        std::ofstream{path} << result.out;
        return {result, read_scan_output(path)};
    }

    static void expect_layout(const std::pair<ProcessResult, ScanOutput>& scan) {
        ASSERT_EQ(scan.first.exit_code, 0) << scan.first.describe();
        std::vector<PortKey> duplicates;
        VerdictMap expected;
        for (int port = 1; port <= 65535; ++port)
            expected[{lab_address(2), port}] = expected_verdict(kConnect, layout(), port, false);
        const std::string differences = describe_differences(expected, verdicts_of(scan.second, duplicates));
        EXPECT_TRUE(differences.empty()) << "connect scan differs from layout.conf:\n" << differences;
        EXPECT_TRUE(duplicates.empty());
    }
};

TEST_F(ConnectScan, FullRangeAsNobodyMatchesLayout) { expect_layout(scan_as_nobody({"-sT", "-p-", "-T4"})); }

TEST_F(ConnectScan, FullRangeAsNobodyWithFivePercentLoss) {
    const LossGuard loss(5);
    ASSERT_TRUE(loss.ok()) << loss.error();
    expect_layout(scan_as_nobody({"-sT", "-p-", "-T4"}));
}

TEST_F(ConnectScan, WithoutRootAndWithoutScanTypeItSaysItRunsAConnectScan) {
    const auto scan = scan_as_nobody({"-p", "1-1024"});
    ASSERT_EQ(scan.first.exit_code, 0) << scan.first.describe();
    EXPECT_NE(scan.first.err.find("connect scan (-sT)"), std::string::npos) << scan.first.err;
    EXPECT_FALSE(scan.second.ports.empty());
}

// Without root, discovery is a connect() to 80 and 443: the /28's dropped hosts are not scanned.
TEST_F(ConnectScan, DiscoveryAsNobodyScansOnlyHostsThatAnswer) {
    const auto scan = scan_as_nobody({"-sT", "-p", "22"}, lab_address(16) + "/28", false);
    ASSERT_EQ(scan.first.exit_code, 0) << scan.first.describe();
    std::set<std::string> scanned;
    for (const auto& port : scan.second.ports) scanned.insert(port.ip);
    for (int offset = 0; offset < 16; ++offset) {
        const std::string ip = lab_address(16 + offset);
        EXPECT_EQ(scanned.contains(ip), !layout().dropped_hosts.contains(offset)) << ip;
    }
}

}  // namespace
}  // namespace flagscan::live

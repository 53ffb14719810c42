// Live connect scans (-sT) as an unprivileged user: the same states as the SYN scan, with and
// without loss, and the automatic switch to -sT without root.
#include <fstream>
#include <regex>
#include <sstream>

#include "live_support.hpp"

namespace flagscan::live {
namespace {

constexpr const ScanKind& kConnect = kConnectScan;

class ConnectScan : public LabTest {
protected:
    // Runs flagscan as nobody (under an open-file limit when given, with prlimit); its JSON
    // lines come on stdout (nobody cannot write our temp dir).
    static std::pair<ProcessResult, ScanOutput> scan_as_nobody(std::vector<std::string> args,
                                                               const std::string& target = lab_address(2),
                                                               bool skip_discovery = true, int open_files = 0) {
        std::vector<std::string> argv;
        if (open_files > 0) argv = {"prlimit", "--nofile=" + std::to_string(open_files) + ":" + std::to_string(open_files)};
        argv.insert(argv.end(), {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", flagscan_bin()});
        argv.insert(argv.end(), args.begin(), args.end());
        if (skip_discovery) argv.push_back("-Pn");
        argv.insert(argv.end(), {"-n", "--all-ports", "-oJ", "-", target});
        ProcessResult result = run_process(argv, std::chrono::seconds(300));
        TempDir dir;
        const std::string path = dir.path() + "/scan.jsonl";
        std::ofstream{path} << result.out;
        return {result, read_scan_output(path)};
    }

    // Ports 1..LAST of the namespace host, each as layout.conf says.
    static void expect_layout(const std::pair<ProcessResult, ScanOutput>& scan, int last = 65535) {
        ASSERT_EQ(scan.first.exit_code, 0) << scan.first.describe();
        std::vector<PortKey> duplicates;
        VerdictMap expected;
        for (int port = 1; port <= last; ++port)
            expected[{lab_address(2), port}] = expected_verdict(kConnect, layout(), port, false);
        const std::string differences = describe_differences(expected, verdicts_of(scan.second, duplicates));
        EXPECT_TRUE(differences.empty()) << "connect scan differs from layout.conf:\n" << differences;
        EXPECT_TRUE(duplicates.empty());
    }
};

// The number in "at most N connections at once", or -1 when the line is missing.
long connections_allowed(const std::string& err) {
    const std::regex line{"at most ([0-9]+) connections at once"};
    std::smatch match;
    if (!std::regex_search(err, match, line)) return -1;
    return match[1].str().size() > 9 ? -1 : std::stol(match[1].str());
}

// Every "CONN (0.0123s) TCP localhost > IP:PORT => WHAT" line, as (port, what) pairs; nmap's
// own --packet-trace format for connect() calls and their outcomes.
std::set<std::pair<int, std::string>> conn_lines(const std::string& text, std::vector<std::string>& malformed) {
    const std::regex line{R"(^CONN \([0-9]+\.[0-9]{4}s\) TCP localhost > ([0-9.]+):([0-9]+) => (.+)$)"};
    std::set<std::pair<int, std::string>> seen;
    std::istringstream lines{text};
    for (std::string text_line; std::getline(lines, text_line);) {
        if (text_line.rfind("CONN", 0) != 0) continue;
        std::smatch match;
        if (std::regex_match(text_line, match, line)) seen.insert({std::stoi(match[2].str()), match[3].str()});
        else malformed.push_back(text_line);
    }
    return seen;
}

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

// A low open-file limit caps the connections in flight at what is free, says so with a sane
// number, and every verdict stays exact: no descriptor shortage is ever read as silence.
TEST_F(ConnectScan, LowOpenFileLimitKeepsEveryVerdictExact) {
    for (const int limit : {16, 64}) {
        for (int run = 0; run < 3; ++run) {
            SCOPED_TRACE("ulimit -n " + std::to_string(limit) + ", run " + std::to_string(run + 1));
            const auto scan = scan_as_nobody({"-sT", "-p", "1-1024"}, lab_address(2), true, limit);
            expect_layout(scan, 1024);
            const long allowed = connections_allowed(scan.first.err);
            EXPECT_GE(allowed, 4) << scan.first.err;
            EXPECT_LT(allowed, limit) << scan.first.err;
        }
    }
}

// Too few descriptors to scan at all: one clear line and exit 1, no report of guesses.
TEST_F(ConnectScan, TooFewFreeDescriptorsIsAClearError) {
    const auto scan = scan_as_nobody({"-sT", "-p", "1-1024"}, lab_address(2), true, 8);
    EXPECT_EQ(scan.first.exit_code, 1) << scan.first.describe();
    EXPECT_NE(scan.first.err.find("a connect scan needs at least 8"), std::string::npos) << scan.first.err;
    EXPECT_TRUE(scan.second.ports.empty());
}

// --packet-trace with -sT prints nmap's CONN lines: each connect() ("Operation now in
// progress") and its outcome; the outcomes are nmap's own for the same ports.
TEST_F(ConnectScan, PacketTracePrintsConnLinesAsNmap) {
    const std::vector<std::pair<int, std::string>> outcomes{
        {*layout().open_tcp.begin(), "Connected"}, {23, "Connection refused"}, {*layout().rejected_tcp.begin(), "No route to host"}};
    ASSERT_EQ(port_role(layout(), 23, false), PortRole::closed);
    std::string ports;
    for (const auto& [port, what] : outcomes) ports += (ports.empty() ? "" : ",") + std::to_string(port);
    const auto scan = scan_as_nobody({"-sT", "--packet-trace", "-p", ports});
    ASSERT_EQ(scan.first.exit_code, 0) << scan.first.describe();
    std::vector<std::string> malformed;
    const auto ours = conn_lines(scan.first.err, malformed);  // the trace goes to stderr when -oJ - has stdout
    EXPECT_TRUE(malformed.empty()) << "first malformed CONN line: " << malformed.front();
    for (const auto& [port, what] : outcomes) {
        EXPECT_TRUE(ours.contains({port, "Operation now in progress"})) << port << "\n" << scan.first.err;
        EXPECT_TRUE(ours.contains({port, what})) << port << " => " << what << "\n" << scan.first.err;
    }
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed: not compared";
    const auto nmap = run_process({"nmap", "-sT", "--packet-trace", "-Pn", "-n", "-p", ports, lab_address(2)},
                                  std::chrono::seconds(120));
    ASSERT_TRUE(nmap.exited() && nmap.exit_code == 0) << nmap.describe();
    const auto theirs = conn_lines(nmap.out, malformed);
    EXPECT_EQ(ours, theirs) << "nmap:\n" << nmap.out << "flagscan:\n" << scan.first.err;
}

// Options for raw packets do nothing to a connect scan: each gets a warning, the scan runs.
TEST_F(ConnectScan, RawPacketOptionsAreWarnedOf) {
    const auto scan = scan_as_nobody({"-sT", "--ttl", "9", "-w", "/tmp/flagscan-connect-w.pcap", "-p", "1-100"});
    expect_layout(scan, 100);
    EXPECT_NE(scan.first.err.find("--ttl is not honored by a connect scan"), std::string::npos) << scan.first.err;
    EXPECT_NE(scan.first.err.find("-w records flagscan's raw packets only"), std::string::npos) << scan.first.err;
}

}  // namespace
}  // namespace flagscan::live

// Live: every output file is opened before the first packet (an unwritable one stops the scan
// with nothing sent), a write that fails during the scan is a runtime failure, and the
// streaming formats hold every finished host even when the scan is killed.
#include <sys/stat.h>

#include "live_support.hpp"

namespace flagscan::live {
namespace {

constexpr int kNamespaceHost = 2;  // 10.77.ID.2: microseconds away
constexpr int kSlowHost = 67;      // 10.77.ID.67: slow-responder's 1.5 s host (layout.conf slow_hosts 3:1500)
constexpr auto kTimeout = std::chrono::seconds(60);

class Outputs : public LabTest {};

// How many packets tcpdump's closing counts say it captured ("N packets captured"), or -1.
long captured_packets(const std::string& tcpdump_log) {
    const auto at = tcpdump_log.find(" packets captured");
    if (at == std::string::npos) return -1;
    auto start = tcpdump_log.rfind('\n', at);
    start = start == std::string::npos ? 0 : start + 1;
    return std::stol(tcpdump_log.substr(start, at - start));
}

std::size_t line_count(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

// a. An output that cannot be created: one line on stderr naming it, exit 1, and tcpdump on the
//    lab's veth sees not one packet (no ARP, no probe) for each raw scan kind and -sn.
TEST_F(Outputs, UnwritableOutputStopsTheScanBeforeAnyPacket) {
    if (!in_path("tcpdump")) GTEST_SKIP() << "tcpdump is not installed";
    std::string error;
    const std::string iface = lab_host_interface(error);
    ASSERT_FALSE(iface.empty()) << error;
    const TempDir dir;
    const std::string target = lab_address(kNamespaceHost);
    const std::vector<std::vector<std::string>> cases{
        {"-sS", "-p", "22", "-Pn", "-oJ", "/proc/nope/x"},
        {"-sS", "-p", "22", "-oN", dir.path() + "/no/such/dir/scan.txt"},
        {"-sU", "-p", "53", "-Pn", "-oJ", dir.path()},  // a directory
        {"-sn", "-oJ", "/proc/nope/x"},
        {"-sT", "-p", "22", "-Pn", "-oN", "/proc/nope/x"},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& options = cases[i];  // each its own files: a log still holding the last run's "listening" would lie
        const std::string capture = dir.path() + "/wire" + std::to_string(i) + ".pcap",
                          log = dir.path() + "/tcpdump" + std::to_string(i) + ".log";
        Tcpdump tcpdump(iface, capture, log);
        ASSERT_TRUE(tcpdump.error().empty()) << tcpdump.error();
        std::vector<std::string> argv{flagscan_bin(), "-n"};
        argv.insert(argv.end(), options.begin(), options.end());
        argv.push_back(target);
        const auto result = run_process(argv, kTimeout);
        const std::string counts = tcpdump.stop();
        const std::string& path = options.back();
        EXPECT_EQ(result.exit_code, 1) << result.describe();
        EXPECT_EQ(line_count(result.err), 1u) << result.describe();
        EXPECT_NE(result.err.find("cannot write '" + path + "'"), std::string::npos) << result.describe();
        EXPECT_EQ(result.out, "") << result.describe();
        EXPECT_EQ(captured_packets(counts), 0) << options.front() << " " << options.back() << ": " << counts << "\n" << result.describe();
    }
}

// b. A disk that fills during the scan (/dev/full takes the open, refuses every write): said with
//    the system's reason and exit 2, never 0; the other outputs are still written.
TEST_F(Outputs, AFailedWriteIsARuntimeFailure) {
    const TempDir dir;
    const std::string normal = dir.path() + "/scan.txt";
    for (const std::string option : {"-oJ", "-oN"}) {
        const auto result = run_process({flagscan_bin(), "-sS", "-p", "20-30", "-Pn", "-n", option, "/dev/full",
                                         option == "-oJ" ? "-oN" : "-oJ", normal, lab_address(kNamespaceHost)},
                                        kTimeout);
        EXPECT_EQ(result.exit_code, 2) << result.describe();
        EXPECT_NE(result.err.find("cannot write '/dev/full': No space left on device"), std::string::npos)
            << result.describe();
        const std::string written = read_file(normal);
        EXPECT_NE(written.find(option == "-oJ" ? "22/tcp" : R"("port":22)"), std::string::npos) << option << ": " << written;
    }
}

// c. Two hosts, one 1.5 s away: the near one finishes in well under a second, the far one
//    takes many seconds. kill -9 after 4 s: the JSON lines file already holds the near host
//    whole (its ports and its host line, every line complete), and nothing of the far one.
TEST_F(Outputs, AKilledScanLeavesEveryFinishedHostOnDisk) {
    const TempDir dir;
    const std::string json = dir.path() + "/scan.jsonl", grepable = dir.path() + "/scan.gnmap";
    const std::string near = lab_address(kNamespaceHost), far = lab_address(kSlowHost);
    const auto result = run_process({"timeout", "-s", "KILL", "4", flagscan_bin(), "-sS", "-p", "1-1000", "-Pn", "-n",
                                     "-oJ", json, "-oG", grepable, near, far},
                                    kTimeout);
    ASSERT_EQ(result.term_signal, 9) << "the scan was meant to be killed, not to end: " << result.describe();
    const std::string text = read_file(json);
    ASSERT_FALSE(text.empty()) << "nothing on disk after the near host finished";
    EXPECT_EQ(text.back(), '\n') << text;
    const ScanOutput output = read_scan_output(json);
    EXPECT_TRUE(output.errors.empty()) << output.errors.front();
    ASSERT_EQ(output.hosts.size(), 1u) << text;
    EXPECT_EQ(output.hosts.front().ip, near);
    EXPECT_FALSE(output.hosts.front().json.contains("complete")) << text;
    std::vector<PortKey> duplicates;
    const VerdictMap found = verdicts_of(output, duplicates);
    VerdictMap expected;
    for (int port = 1; port <= 1000; ++port) {
        const Verdict verdict = expected_syn_verdict(layout(), port, false);
        if (verdict.state != "closed") expected[{near, port}] = verdict;
    }
    EXPECT_EQ(describe_differences(expected, found), "");
    const std::string lines = read_file(grepable);  // the header, then the near host's line, whole
    EXPECT_NE(lines.find("\nHost: " + near + " ()\tPorts: "), std::string::npos) << lines;
    EXPECT_NE(lines.find("22/open/tcp//ssh///"), std::string::npos) << lines;
    EXPECT_EQ(lines.find("Host: " + far + " "), std::string::npos) << lines;
    EXPECT_EQ(lines.back(), '\n') << lines;
}

}  // namespace
}  // namespace flagscan::live

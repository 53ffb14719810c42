// Live replay tests: a live scan's own -w capture replays to the very same JSON, and tcpdump's
// captures of nmap's scans of the lab replay to nmap's own verdicts, port for port.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>

#include "live_support.hpp"

namespace flagscan::live {
namespace {

constexpr int kNamespaceHost = 2;  // 10.77.ID.2, the namespace side of the veth
constexpr auto kScanTimeout = std::chrono::seconds(120);
constexpr auto kReplayTimeout = std::chrono::seconds(60);

std::vector<int> port_range(int first, int last) {
    std::vector<int> ports;
    for (int port = first; port <= last; ++port) ports.push_back(port);
    return ports;
}

// Port lines of a JSON-lines file as a map, failing the test on unreadable or repeated lines.
VerdictMap verdicts_in(const std::string& json_path) {
    const ScanOutput output = read_scan_output(json_path);
    EXPECT_TRUE(output.errors.empty()) << json_path << ": unreadable line: " << output.errors.front();
    std::vector<PortKey> duplicates;
    VerdictMap verdicts = verdicts_of(output, duplicates);
    EXPECT_TRUE(duplicates.empty()) << json_path << ": " << duplicates.size() << " ports listed twice";
    return verdicts;
}

// The replay command the fixtures use; the Window scan is told (its probes are ACKs).
std::vector<std::string> replay_argv(const ScanKind& kind, const std::string& capture, const std::string& json) {
    std::vector<std::string> argv{flagscan_bin(), "--replay", capture, "-n", "--all-ports", "-oJ", json};
    if (kind.option == "-sW") argv.emplace_back("-sW");
    return argv;
}

// A scan kind as this file's test parameter, so that gtest names a failing case by its kind.
struct Kind {
    ScanKind kind;
};
void PrintTo(const Kind& param, std::ostream* os) { *os << param.kind.name << " (" << param.kind.option << ")"; }

std::vector<Kind> all_kinds() {
    std::vector<Kind> kinds;
    for (const auto& kind : kLinuxTcpScanKinds) kinds.push_back({kind});
    return kinds;
}

// The text without its {"type":...} lines (the scan line and the summary of a live -oJ).
std::string without_scan_lines(const std::string& text) {
    std::istringstream lines(text);
    std::string kept, line;
    while (std::getline(lines, line)) {
        if (line.rfind(R"({"type":)", 0) != 0) kept += line + '\n';
    }
    return kept;
}

class ReplayLive : public LabTest, public ::testing::WithParamInterface<Kind> {};

// a. `flagscan -sX ... -w FILE -oJ LIVE`, then `flagscan --replay FILE -oJ REPLAY`: the replay
//    re-derives every verdict from the capture alone, so the two files are the same bytes. The
//    live scan is first checked against layout.conf, so the same bytes are also the right ones.
TEST_P(ReplayLive, OwnCaptureReplaysToIdenticalJson) {
    const ScanKind& kind = GetParam().kind;
    const std::string target = lab_address(kNamespaceHost);
    std::vector<int> ports = port_range(1, 2000);
    ports.insert(ports.end(), {31337, 50000, 60000});
    const TempDir dir;
    const std::string capture = dir.path() + "/scan.pcap", live = dir.path() + "/live.jsonl",
                      replayed = dir.path() + "/replay.jsonl";

    const auto scan = run_process({flagscan_bin(), std::string(kind.option), "-p", port_argument(ports), "-Pn", "-n",
                                   "--all-ports", "-w", capture, "-oJ", live, target},
                                  kScanTimeout);
    ASSERT_TRUE(scan.exited() && scan.exit_code == 0) << scan.describe();
    VerdictMap expected;
    for (const int port : ports) expected[{target, port}] = expected_verdict(kind, layout(), port, false);
    const std::string wrong = describe_differences(expected, verdicts_in(live));
    ASSERT_TRUE(wrong.empty()) << "the live " << kind.option << " scan itself differs from layout.conf:\n" << wrong;

    const auto replay = run_process(replay_argv(kind, capture, replayed), kReplayTimeout);
    ASSERT_TRUE(replay.exited() && replay.exit_code == 0) << replay.describe();
    // The live -oJ also opens with its scan line and ends with its summary (what merge reads), which
    // a replay cannot know (seed, targets as typed): the host and port lines are the same bytes.
    const std::string live_text = without_scan_lines(read_file(live)), replay_text = read_file(replayed);
    EXPECT_TRUE(live_text == replay_text)
        << "the replay of " << capture << " differs from the live -oJ ('expected' live, 'got' replay):\n"
        << describe_differences(verdicts_in(live), verdicts_in(replayed))
        << "(" << live_text.size() << " bytes live, " << replay_text.size() << " replayed)";
}

// b. tcpdump on the lab's veth while nmap scans the namespace host; the capture, replayed,
//    gives every port nmap's own state (nmap's XML, with the ports it folded into <extraports>
//    placed from the port list asked for). The list: 1-30 and every port layout.conf names.
TEST_P(ReplayLive, NmapCaptureReplaysToNmapStates) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    if (!in_path("tcpdump")) GTEST_SKIP() << "tcpdump is not installed";
    const ScanKind& kind = GetParam().kind;
    const std::string target = lab_address(kNamespaceHost);
    std::set<int> port_set;
    for (int port = 1; port <= 30; ++port) port_set.insert(port);
    for (const auto* ports : {&layout().open_tcp, &layout().rejected_tcp, &layout().dropped_tcp}) {
        port_set.insert(ports->begin(), ports->end());
    }
    const std::vector<int> ports(port_set.begin(), port_set.end());
    std::string error;
    const std::string iface = lab_host_interface(error);
    ASSERT_FALSE(iface.empty()) << error;
    const TempDir dir;
    const std::string capture = dir.path() + "/nmap.pcap", xml = dir.path() + "/nmap.xml",
                      replayed = dir.path() + "/replay.jsonl";

    Tcpdump tcpdump(iface, capture, dir.path() + "/tcpdump.log");
    ASSERT_TRUE(tcpdump.error().empty()) << tcpdump.error();
    const auto nmap = run_process({"nmap", std::string(kind.option), "-p", port_argument(ports), "-Pn", "-n", "-T4",
                                   "-oX", xml, target},
                                  kScanTimeout);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // replies still on the way
    const std::string tcpdump_log = tcpdump.stop();
    ASSERT_TRUE(nmap.exited() && nmap.exit_code == 0) << nmap.describe();
    ASSERT_NE(tcpdump_log.find("\n0 packets dropped by kernel"), std::string::npos)
        << "tcpdump lost packets, so the capture is not the whole scan:\n" << tcpdump_log;

    const auto nmap_verdicts = read_nmap_xml(xml, ports, error);
    ASSERT_TRUE(nmap_verdicts) << error;
    ASSERT_EQ(nmap_verdicts->size(), ports.size()) << "nmap's XML does not give every port a state";

    const auto replay = run_process(replay_argv(kind, capture, replayed), kReplayTimeout);
    ASSERT_TRUE(replay.exited() && replay.exit_code == 0) << replay.describe();
    const VerdictMap ours = states_only(verdicts_in(replayed));
    const VerdictMap theirs = states_only(*nmap_verdicts);
    VerdictMap truth;
    for (const int port : ports) truth[{target, port}] = expected_verdict(kind, layout(), port, false);
    const std::string nmap_vs_layout = describe_differences(states_only(truth), theirs);
    EXPECT_TRUE(ours.size() == ports.size() && describe_differences(theirs, ours).empty())
        << "'expected' is nmap " << kind.option << ", 'got' is the replay of tcpdump's capture:\n"
        << describe_differences(theirs, ours)
        << (nmap_vs_layout.empty() ? "nmap agrees with layout.conf\n"
                                   : "nmap against layout.conf:\n" + nmap_vs_layout);
}

INSTANTIATE_TEST_SUITE_P(Kinds, ReplayLive, ::testing::ValuesIn(all_kinds()),
                         [](const ::testing::TestParamInfo<Kind>& info) { return std::string(info.param.kind.name); });

}  // namespace
}  // namespace flagscan::live

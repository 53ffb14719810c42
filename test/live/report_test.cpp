// Live reports beside nmap's on the same lab ports: --open, the "Not shown" line, Ctrl-C.
#include "live_support.hpp"

#include <fstream>
#include <numeric>
#include <regex>
#include <sstream>

namespace flagscan::live {
namespace {

constexpr int kNamespaceHost = 2;  // 10.77.ID.2, the namespace side of the veth
constexpr auto kTimeout = std::chrono::seconds(180);

// What a normal report (nmap's or flagscan's) says: the hosts it reports, their "All ... ignored
// states" and "Not shown" lines, and the port table's rows ("22/tcp" -> "open").
struct NormalReport {
    std::vector<std::string> hosts;
    std::vector<std::string> summary_lines;
    std::map<std::string, std::string> rows;
};

NormalReport read_normal(const std::string& text) {
    const std::regex host{R"(^(?:Nmap|flagscan) scan report for (\S+)$)"};
    const std::regex row{R"(^(\d+/(?:tcp|udp))\s+(\S+)\s)"};
    NormalReport report;
    std::istringstream in{text};
    std::smatch match;
    for (std::string line; std::getline(in, line);) {
        if (std::regex_search(line, match, host)) report.hosts.push_back(match[1]);
        else if (line.starts_with("Not shown: ") || line.starts_with("All ")) report.summary_lines.push_back(line);
        else if (std::regex_search(line, match, row)) report.rows[match[1]] = match[2];
    }
    return report;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += "  " + line + "\n";
    return text;
}

// The same table and summary lines from both; a readable account of what differs.
void expect_same_report(const NormalReport& nmap, const NormalReport& ours) {
    EXPECT_EQ(ours.hosts, nmap.hosts);
    EXPECT_EQ(ours.summary_lines, nmap.summary_lines) << "nmap:\n" << joined(nmap.summary_lines) << "flagscan:\n"
                                                      << joined(ours.summary_lines);
    EXPECT_EQ(ours.rows, nmap.rows);
}

// The JSON lines list exactly the rows of the table.
void expect_json_lists_the_table(const ScanOutput& json, const NormalReport& table) {
    std::map<std::string, std::string> rows;
    for (const auto& port : json.ports) rows[std::to_string(port.port) + "/" + port.proto] = port.verdict.state;
    EXPECT_EQ(rows, table.rows);
    EXPECT_TRUE(json.errors.empty()) << json.errors.front();
}

class Report : public LabTest {
protected:
    struct Run {
        ProcessResult process;
        NormalReport report;
        ScanOutput json;  // flagscan only
    };

    static Run nmap(const std::vector<std::string>& args, const std::vector<std::string>& targets) {
        std::vector<std::string> argv{"nmap", "-Pn", "-n", "-T4"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), targets.begin(), targets.end());
        Run run{run_process(argv, kTimeout), {}, {}};
        EXPECT_EQ(run.process.exit_code, 0) << run.process.describe();
        run.report = read_normal(run.process.out);
        return run;
    }

    static Run flagscan(const std::vector<std::string>& args, const std::vector<std::string>& targets) {
        const TempDir dir;
        const std::string json = dir.path() + "/scan.jsonl";
        std::vector<std::string> argv{flagscan_bin(), "-Pn", "-n", "-oJ", json};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), targets.begin(), targets.end());
        Run run{run_process(argv, kTimeout), {}, {}};
        EXPECT_EQ(run.process.exit_code, 0) << run.process.describe();
        run.report = read_normal(run.process.out);
        run.json = read_scan_output(json);
        return run;
    }

    // 1-40 and every port layout.conf gives a role: closed, open, rejected and dropped ones.
    static std::string some_of_each() {
        std::set<int> ports;
        for (const auto* role : {&layout().open_tcp, &layout().rejected_tcp, &layout().dropped_tcp})
            ports.insert(role->begin(), role->end());
        std::string list = "1-40";
        for (const int port : ports)
            if (port > 40) list += "," + std::to_string(port);
        return list;
    }
};

// a. --open lists open, open|filtered and unfiltered ports as nmap does, folds the rest into
//    "Not shown" (those three only above 25), and leaves out hosts with none.
TEST_F(Report, OpenListsWhatNmapListsForEveryScanKind) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    for (const char* kind : {"-sS", "-sF", "-sA"}) {
        SCOPED_TRACE(kind);
        const std::vector<std::string> args{kind, "--open", "-p", some_of_each()};
        const Run theirs = nmap(args, {lab_address(kNamespaceHost)});
        const Run ours = flagscan(args, {lab_address(kNamespaceHost)});
        ASSERT_EQ(theirs.report.hosts.size(), 1u) << theirs.process.out;
        expect_same_report(theirs.report, ours.report);
        expect_json_lists_the_table(ours.json, ours.report);
        ASSERT_EQ(ours.json.hosts.size(), 1u);
    }
}

TEST_F(Report, OpenLeavesOutHostsWithNothingPossiblyOpenAsNmap) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    ASSERT_FALSE(layout().dropped_hosts.empty());
    const std::string dropped = lab_address(16 + *layout().dropped_hosts.begin());
    const std::vector<std::string> targets{lab_address(kNamespaceHost), dropped};
    const std::vector<std::string> args{"-sS", "--open", "-p", "20-30"};  // 22 open, the rest closed
    const Run theirs = nmap(args, targets);
    const Run ours = flagscan(args, targets);
    ASSERT_EQ(theirs.report.hosts, std::vector<std::string>{lab_address(kNamespaceHost)}) << theirs.process.out;
    expect_same_report(theirs.report, ours.report);
    EXPECT_NE(ours.process.out.find("2 IP addresses (2 hosts up)"), std::string::npos) << ours.process.out;
    ASSERT_EQ(ours.json.hosts.size(), 1u);
    EXPECT_EQ(ours.json.hosts.front().ip, lab_address(kNamespaceHost));
    for (const auto& port : ours.json.ports) EXPECT_EQ(port.ip, lab_address(kNamespaceHost));
}


// b. 3000 more dropped ports: every state above 25 is folded, reason by reason, in nmap's words
//    and order; only the open ports are listed, in the table and in the JSON lines.
TEST_F(Report, NotShownFoldsEveryBigStateAsNmap) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    constexpr int kFirst = 4000, kLast = 6999;
    for (const int port : layout().open_tcp) ASSERT_FALSE(port >= kFirst && port <= kLast) << port << " is open";
    const PortRangeRule range{lab_id(), kFirst, kLast, "drop"};
    ASSERT_TRUE(range.error().empty()) << range.error();
    const std::vector<std::string> args{"-sS", "-p", "1-10000"};
    const Run theirs = nmap(args, {lab_address(kNamespaceHost)});
    const Run ours = flagscan(args, {lab_address(kNamespaceHost)});
    ASSERT_EQ(theirs.report.summary_lines.size(), 1u) << theirs.process.out;
    expect_same_report(theirs.report, ours.report);
    expect_json_lists_the_table(ours.json, ours.report);
    for (const auto& [port, state] : ours.report.rows) EXPECT_EQ(state, "open") << port;
    ASSERT_EQ(ours.json.hosts.size(), 1u);
    const auto& counts = ours.json.hosts.front().counts;
    EXPECT_GT(counts.at("filtered"), kLast - kFirst);
    EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), 0L, [](long sum, const auto& c) { return sum + c.second; }),
              10000);
}

// c. Ctrl-C a second into a slow full scan: exit 130; the JSON host says complete:false and how
//    many ports were not scanned; the normal report says so too, and its "Not shown" counts only
//    ports that were scanned (the JSON counts, to the port).
TEST_F(Report, InterruptedScanMarksItsOutputs) {
    const TempDir dir;
    const std::string json = dir.path() + "/partial.jsonl", normal = dir.path() + "/partial.txt";
    const auto result = run_process({"timeout", "--preserve-status", "-s", "INT", "1", flagscan_bin(), "-sS", "-p-",
                                     "-Pn", "-n", "--max-rate", "200", "-oJ", json, "-oN", normal, "--resume-file", dir.path() + "/scan.resume",
                                     lab_address(kNamespaceHost)},
                                    std::chrono::seconds(30));
    ASSERT_EQ(result.exit_code, 130) << result.describe();
    const ScanOutput output = read_scan_output(json);
    ASSERT_EQ(output.hosts.size(), 1u) << "no host line in " << json;
    const auto& host = output.hosts.front().json;
    ASSERT_TRUE(host.contains("complete") && host.contains("not_scanned")) << result.describe();
    EXPECT_EQ(host.at("complete"), "false");
    const long left = std::stol(host.at("not_scanned"));
    EXPECT_GT(left, 60000);  // some 200 probes of 65535
    const auto& counts = output.hosts.front().counts;
    const long closed = counts.at("closed");
    EXPECT_EQ(left + closed + counts.at("open") + counts.at("filtered"), 65535);

    std::ifstream file{normal};
    const std::string written{std::istreambuf_iterator<char>(file), {}};
    for (const std::string& text : {result.out, written}) {
        EXPECT_NE(text.find("Scan interrupted: " + std::to_string(left) + " of 65535 ports not scanned.\n"),
                  std::string::npos) << text;
        const NormalReport report = read_normal(text);
        ASSERT_FALSE(report.summary_lines.empty()) << text;
        // The closed ports scanned (more than 25 in a second at 200/s) are the only ones folded.
        EXPECT_EQ(report.summary_lines.back(), "Not shown: " + std::to_string(closed) + " closed tcp ports (reset)")
            << text;
    }
}

}  // namespace
}  // namespace flagscan::live

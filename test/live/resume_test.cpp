// Live: Ctrl-C halfway through a full-range scan of the lab writes a resume file; --resume
// finishes the scan, and its outputs equal those of the same scan left uninterrupted (JSON
// lines port for port, XML under ndiff), also after a second interruption. A resume file that
// is corrupt or whose command line no longer parses is refused before anything is sent.
#include <fstream>

#include "../support/nmap_xml.hpp"
#include "live_support.hpp"

namespace flagscan::live {
namespace {

constexpr int kNamespaceHost = 2;  // 10.77.ID.2
constexpr auto kTimeout = std::chrono::seconds(120);

class Resume : public LabTest {
protected:
    // The scan every test runs: every port of the namespace host (ARP discovery, then the port
    // scan), at a rate that takes a few seconds, so that an interrupt after one lands mid-scan.
    static std::vector<std::string> scan_argv(const std::string& dir, const std::string& name) {
        return {flagscan_bin(), "-sS", "-p-", "-n", "--max-rate", "15000", "-oJ", dir + "/" + name + ".jsonl",
                "-oX", dir + "/" + name + ".xml", "--resume-file", dir + "/" + name + ".resume",
                lab_address(kNamespaceHost)};
    }
    // The same, stopped by SIGINT after `seconds`, as a user's Ctrl-C.
    static ProcessResult interrupted(const std::vector<std::string>& argv, const std::string& seconds) {
        std::vector<std::string> timed{"timeout", "--preserve-status", "-s", "INT", seconds};
        timed.insert(timed.end(), argv.begin(), argv.end());
        return run_process(timed, kTimeout);
    }
    static VerdictMap verdicts(const std::string& json) {
        std::vector<PortKey> duplicates;
        const ScanOutput output = read_scan_output(json);
        EXPECT_TRUE(output.errors.empty()) << json << ": " << output.errors.front();
        VerdictMap map = verdicts_of(output, duplicates);
        EXPECT_TRUE(duplicates.empty()) << json;
        return map;
    }
    static std::map<std::string, std::map<std::string, long>> host_counts(const std::string& json) {
        std::map<std::string, std::map<std::string, long>> counts;
        for (const auto& host : read_scan_output(json).hosts) counts[host.ip] = host.counts;
        return counts;
    }
    // The uninterrupted scan's outputs in `dir` ("whole.*").
    static void run_whole(const std::string& dir) {
        const auto whole = run_process(scan_argv(dir, "whole"), kTimeout);
        ASSERT_EQ(whole.exit_code, 0) << whole.describe();
    }
    static void expect_same_outputs(const std::string& dir, const std::string& name) {
        EXPECT_EQ(describe_differences(verdicts(dir + "/whole.jsonl"), verdicts(dir + "/" + name + ".jsonl")), "");
        EXPECT_EQ(host_counts(dir + "/whole.jsonl"), host_counts(dir + "/" + name + ".jsonl"));
        if (testsupport::ndiff_missing()) return;
        const auto differences = testsupport::ndiff_differences(dir + "/whole.xml", dir + "/" + name + ".xml");
        EXPECT_TRUE(differences.empty()) << differences.front();
        EXPECT_EQ(testsupport::dtd_errors(dir + "/" + name + ".xml"), "");
    }
};

// Interrupted once, `seconds` in; exit 130 and a resume file that says where it went.
void expect_interrupted(const ProcessResult& run, const std::string& resume_file) {
    EXPECT_EQ(run.exit_code, 130) << run.describe();
    EXPECT_NE(run.err.find("flagscan --resume " + resume_file), std::string::npos) << run.describe();
    EXPECT_FALSE(read_file(resume_file).empty()) << resume_file;
}

TEST_F(Resume, InterruptedHalfwayThenResumedEqualsTheWholeScan) {
    const TempDir dir;
    run_whole(dir.path());
    const std::string resume_file = dir.path() + "/part.resume";
    const auto first = interrupted(scan_argv(dir.path(), "part"), "2");
    expect_interrupted(first, resume_file);
    const ScanOutput part = read_scan_output(dir.path() + "/part.jsonl");
    ASSERT_EQ(part.hosts.size(), 1u) << first.describe();
    ASSERT_TRUE(part.hosts.front().json.contains("not_scanned")) << "the interrupt was meant to land mid-scan: " << first.describe();
    EXPECT_GT(std::stol(part.hosts.front().json.at("not_scanned")), 1000) << first.describe();
    const auto resumed = run_process({flagscan_bin(), "--resume", resume_file}, kTimeout);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.describe();
    expect_same_outputs(dir.path(), "part");
    EXPECT_FALSE(std::ifstream(resume_file).good()) << "a finished resumed scan leaves no resume file behind";
}

TEST_F(Resume, InterruptedTwiceThenResumedEqualsTheWholeScan) {
    const TempDir dir;
    run_whole(dir.path());
    const std::string resume_file = dir.path() + "/twice.resume";
    expect_interrupted(interrupted(scan_argv(dir.path(), "twice"), "1.5"), resume_file);
    const auto second = interrupted({flagscan_bin(), "--resume", resume_file}, "1");
    expect_interrupted(second, resume_file);
    const auto last = run_process({flagscan_bin(), "--resume", resume_file}, kTimeout);
    ASSERT_EQ(last.exit_code, 0) << last.describe();
    expect_same_outputs(dir.path(), "twice");
}

// A resume file changed by one byte, cut short, or whose -iL file is gone: one line, exit 1,
// and not one packet on the lab's wire.
TEST_F(Resume, ABadResumeFileIsRefusedBeforeAnyPacket) {
    if (!in_path("tcpdump")) GTEST_SKIP() << "tcpdump is not installed";
    const TempDir dir;
    const std::string targets = dir.path() + "/targets.txt", resume_file = dir.path() + "/bad.resume";
    std::ofstream(targets) << lab_address(kNamespaceHost) << '\n';
    const auto first = interrupted({flagscan_bin(), "-sS", "-p-", "-Pn", "-n", "--max-rate", "10000", "-iL", targets,
                                    "-oJ", dir.path() + "/bad.jsonl", "--resume-file", resume_file},
                                   "1");
    expect_interrupted(first, resume_file);
    const std::string good = read_file(resume_file);
    std::string edited = good;
    edited[edited.find("\nport ") + 7] ^= 1;  // one digit of a verdict's index
    std::string error;
    const std::string iface = lab_host_interface(error);
    ASSERT_FALSE(iface.empty()) << error;
    const std::vector<std::pair<std::string, std::string>> cases{{"edited", edited},
                                                                 {"truncated", good.substr(0, good.size() / 2)},
                                                                 {"targets gone", good}};
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& [what, text] = cases[i];
        const std::string path = dir.path() + "/case" + std::to_string(i) + ".resume";
        std::ofstream(path) << text;
        if (what == "targets gone") std::remove(targets.c_str());
        Tcpdump tcpdump(iface, dir.path() + "/wire" + std::to_string(i) + ".pcap", dir.path() + "/dump" + std::to_string(i) + ".log");
        ASSERT_TRUE(tcpdump.error().empty()) << tcpdump.error();
        const auto refused = run_process({flagscan_bin(), "--resume", path}, kTimeout);
        const std::string counts = tcpdump.stop();
        EXPECT_EQ(refused.exit_code, 1) << what << ": " << refused.describe();
        EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << what << ": " << refused.describe();
        EXPECT_NE(counts.find("\n0 packets captured"), std::string::npos) << what << ": " << counts;
    }
}

}  // namespace
}  // namespace flagscan::live

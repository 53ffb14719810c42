// Live defender mode: `flagscan detect -e fsh<ID>` on the lab's veth raises alerts while flagscan
// and nmap scan the lab target, each alert written (-oJ) while the detector is still running.
#include "live_support.hpp"

#include <regex>
#include <sstream>
#include <thread>

namespace flagscan::live {
namespace {

using namespace std::chrono_literals;

// The -oJ alert lines written so far (the lines hold arrays, which parse_json_object does not
// read: they are checked as text).
std::vector<std::string> alerts_in(const std::string& path) {
    std::vector<std::string> alerts;
    std::istringstream lines(read_file(path));
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with("{\"type\":\"alert\"")) alerts.push_back(line);
    return alerts;
}

// A string member's value: "tool":"nmap" -> nmap.
std::string member(const std::string& line, const std::string& key) {
    std::smatch m;
    return std::regex_search(line, m, std::regex("\"" + key + "\":\"([^\"]*)\"")) ? m[1].str() : std::string{};
}

bool has(const std::string& line, const std::string& text) { return line.find(text) != std::string::npos; }

// Polls PATH until it holds N alerts or TIMEOUT passes.
std::vector<std::string> wait_for_alerts(const std::string& path, std::size_t n, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    auto alerts = alerts_in(path);
    while (alerts.size() < n && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(100ms);
        alerts = alerts_in(path);
    }
    return alerts;
}

class DetectLive : public LabTest {};

TEST_F(DetectLive, AlertsAppearDuringFlagscanAndNmapScans) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    std::string error;
    const std::string iface = lab_host_interface(error);
    ASSERT_FALSE(iface.empty()) << error;
    const TempDir dir;
    const std::string json = dir.path() + "/detect.jsonl";
    // --window 2: a scan's JSON line is written 2 s after its last probe, while detect still runs.
    ProcessResult detector;
    std::thread watch([&] {
        detector = run_process({flagscan_bin(), "detect", "-e", iface, "--window", "2", "--duration", "14", "-oJ", json},
                               std::chrono::seconds(40));
    });
    std::this_thread::sleep_for(1500ms);  // the capture is open

    const auto ours = scan({"-sS", "-p", "1-200", "-Pn", "-n"}, lab_address(2));
    EXPECT_EQ(ours.process.exit_code, 0) << ours.process.describe();
    const auto first = wait_for_alerts(json, 1, 5s);

    const auto nmap = run_process({"nmap", "-n", "-Pn", "-sS", "-p", "1-200", lab_address(2)}, std::chrono::seconds(60));
    EXPECT_EQ(nmap.exit_code, 0) << nmap.describe();
    const auto both = wait_for_alerts(json, 2, 5s);
    watch.join();

    ASSERT_EQ(first.size(), 1u) << "no alert while flagscan scanned; detect said:\n" << detector.describe();
    ASSERT_EQ(both.size(), 2u) << "no alert while nmap scanned; detect said:\n" << detector.describe();
    for (const auto& alert : both) {
        EXPECT_TRUE(has(alert, "\"sources\":[\"" + lab_address(1) + "\"]")) << alert;
        EXPECT_TRUE(has(alert, "\"targets\":[\"" + lab_address(2) + "\"]")) << alert;
        EXPECT_EQ(member(alert, "kind"), "syn") << alert;
        EXPECT_EQ(member(alert, "shape"), "vertical") << alert;
        EXPECT_EQ(member(alert, "ports"), "1-200") << alert;
    }
    EXPECT_EQ(member(both[0], "tool"), "flagscan") << both[0];
    EXPECT_EQ(member(both[1], "tool"), "nmap") << both[1];
    EXPECT_EQ(detector.exit_code, 0) << detector.describe();
    EXPECT_NE(detector.out.find("ALERT 1 "), std::string::npos) << detector.out;
    EXPECT_NE(detector.out.find("ALERT 2 "), std::string::npos) << detector.out;
}

// Ctrl-C: a sensor stopped by SIGINT still writes the alerts it holds (here a scan not over yet:
// --window 60 keeps it open) and the summary, and exits 130 as an interrupted scan does.
TEST_F(DetectLive, InterruptedSensorWritesWhatItHolds) {
    std::string error;
    const std::string iface = lab_host_interface(error);
    ASSERT_FALSE(iface.empty()) << error;
    const TempDir dir;
    const std::string json = dir.path() + "/detect.jsonl";
    ProcessResult detector;
    std::thread watch([&] {
        detector = run_process({"timeout", "--preserve-status", "-s", "INT", "6", flagscan_bin(), "detect", "-e", iface,
                                "--window", "60", "-oJ", json},
                               std::chrono::seconds(30));
    });
    std::this_thread::sleep_for(1500ms);  // the capture is open
    const auto ours = scan({"-sS", "-p", "1-100", "-Pn", "-n"}, lab_address(2));
    EXPECT_EQ(ours.process.exit_code, 0) << ours.process.describe();
    EXPECT_TRUE(alerts_in(json).empty()) << "written before the interrupt: the window is 60 s";
    watch.join();
    EXPECT_EQ(detector.exit_code, 130) << detector.describe();
    const auto alerts = alerts_in(json);
    ASSERT_EQ(alerts.size(), 1u) << detector.describe();
    EXPECT_EQ(member(alerts[0], "ports"), "1-100") << alerts[0];
    EXPECT_NE(read_file(json).find("{\"type\":\"summary\""), std::string::npos) << read_file(json);
}

}  // namespace
}  // namespace flagscan::live

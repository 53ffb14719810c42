// Live: the status line of a long scan in a real terminal (tmux), its absence when stderr is a
// file unless --stats-every asks, Enter for one more line, and -v's "Discovered open port" lines.
#include "live_support.hpp"

#include <unistd.h>

#include <regex>
#include <sstream>
#include <thread>

namespace flagscan::live {
namespace {

constexpr int kNamespaceHost = 2;  // 10.77.ID.2, the namespace side of the veth
constexpr auto kTimeout = std::chrono::seconds(120);
// About 10 s at 4000 probes a second: long enough for an ETA to be shown (after 3 s of evidence).
const std::vector<std::string> kLongScan{"-n", "-Pn", "-p", "1-40000", "--max-rate", "4000"};

// nmap's wording with the counters after it.
const std::regex kStatusLine{R"(SYN scan \d+:\d\d:\d\d: About \d+\.\d\d% done; .*\d+ sent \(\d+ pps\), \d+ replies, )"
                             R"(\d+ open, \d+ retransmitted)"};
const std::regex kWithEta{R"(About \d+\.\d\d% done; ETC: \d\d:\d\d \(\d+:\d\d:\d\d remaining\); )"};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in{text};
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::size_t count_matching(const std::string& text, const std::regex& pattern) {
    std::size_t count = 0;
    for (const auto& line : lines_of(text)) count += std::regex_search(line, pattern) ? 1 : 0;
    return count;
}

std::string shell_quoted(const std::vector<std::string>& argv) {
    std::string command;
    for (const auto& arg : argv) command += (command.empty() ? "'" : " '") + arg + "'";
    return command;
}

// A detached tmux session (on a server of its own) running one command in a 200x50 terminal;
// killed by its name when the test ends, however it ends.
class TmuxSession {
public:
    explicit TmuxSession(const std::string& command)
        : socket_("flagscan-live-" + std::to_string(lab_id())), name_("progress-" + std::to_string(::getpid())) {
        const auto started = tmux({"new-session", "-d", "-x", "200", "-y", "50", "-s", name_, "sh", "-c",
                                   command + "; echo flagscan-exit=$?; sleep 600"});
        if (started.exit_code != 0) error_ = started.describe();
    }
    ~TmuxSession() { tmux({"kill-session", "-t", name_}); }
    TmuxSession(const TmuxSession&) = delete;
    TmuxSession& operator=(const TmuxSession&) = delete;

    const std::string& error() const { return error_; }
    std::string screen() const { return tmux({"capture-pane", "-p", "-t", name_}).out; }
    void press_enter() const { tmux({"send-keys", "-t", name_, "Enter"}); }

private:
    ProcessResult tmux(std::vector<std::string> args) const {
        args.insert(args.begin(), {"tmux", "-L", socket_});
        return run_process(args, std::chrono::seconds(10));
    }

    std::string socket_;
    std::string name_;
    std::string error_;
};

class Progress : public LabTest {
protected:
    static std::string target() { return lab_address(kNamespaceHost); }

    static std::vector<std::string> command(std::vector<std::string> args) {
        args.insert(args.begin(), flagscan_bin());
        args.push_back(target());
        return args;
    }
};

// In a terminal: the line shows while the scan runs, with an ETA once there is evidence; Enter
// leaves one line behind and goes on below it; at the end the live line is erased, so the
// report starts at the beginning of its own line.
TEST_F(Progress, InATerminalTheLineRefreshesInPlaceAndIsErasedAtTheEnd) {
    if (!in_path("tmux")) GTEST_SKIP() << "tmux is not installed";
    const TmuxSession session{shell_quoted(command(kLongScan))};
    ASSERT_TRUE(session.error().empty()) << session.error();
    bool seen = false;
    bool seen_eta = false;
    bool pressed = false;
    std::size_t most_lines = 0;
    std::string screen;
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
        screen = session.screen();
        if (screen.find("flagscan-exit=") != std::string::npos) break;
        const std::size_t lines = count_matching(screen, kStatusLine);
        seen = seen || lines > 0;
        seen_eta = seen_eta || count_matching(screen, kWithEta) > 0;
        most_lines = std::max(most_lines, lines);
        if (seen_eta && !pressed) {
            session.press_enter();
            pressed = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    ASSERT_NE(screen.find("flagscan-exit=0"), std::string::npos) << "the scan did not end well:\n" << screen;
    EXPECT_TRUE(seen) << "no status line was seen:\n" << screen;
    EXPECT_TRUE(seen_eta) << "no ETA was seen:\n" << screen;
    EXPECT_EQ(most_lines, pressed ? 2u : 1u) << "one line refreshed in place, plus the one Enter left:\n" << screen;
    EXPECT_EQ(count_matching(screen, kStatusLine), pressed ? 1u : 0u) << "only the line Enter left stays:\n" << screen;
    const std::string report_line = "flagscan scan report for " + target();
    bool report_clean = false;
    for (const auto& line : lines_of(screen)) report_clean = report_clean || line == report_line;
    EXPECT_TRUE(report_clean) << "the report's first line is not on a line of its own:\n" << screen;
    EXPECT_EQ(screen.find("% done" + report_line), std::string::npos) << screen;
}

// stderr to a file: no status line, unless --stats-every asks; then plain lines, no '\r'.
TEST_F(Progress, OnlyPlainLinesWhenAskedWithStderrInAFile) {
    const auto quiet = run_process(command(kLongScan), kTimeout);
    ASSERT_EQ(quiet.exit_code, 0) << quiet.describe();
    EXPECT_EQ(quiet.err.find("% done"), std::string::npos) << quiet.err;
    EXPECT_EQ(quiet.err.find('\r'), std::string::npos) << quiet.err;

    auto args = kLongScan;
    args.insert(args.end(), {"--stats-every", "1s"});
    const auto lines = run_process(command(args), kTimeout);
    ASSERT_EQ(lines.exit_code, 0) << lines.describe();
    EXPECT_GE(count_matching(lines.err, kStatusLine), 5u) << lines.err;  // about one a second for ~10 s
    EXPECT_GE(count_matching(lines.err, kWithEta), 1u) << lines.err;
    EXPECT_EQ(lines.err.find('\r'), std::string::npos) << lines.err;
    EXPECT_EQ(lines.err.find('\033'), std::string::npos) << lines.err;
    for (const auto& line : lines_of(lines.err)) {
        if (line.find("% done") != std::string::npos) {
            EXPECT_TRUE(std::regex_search(line, kStatusLine)) << line;
        }
    }
}

// -v: each open port as it is found, nmap's words, on stdout; on stderr when JSON lines are there.
TEST_F(Progress, VerboseTellsOpenPortsAsTheyAreFound) {
    const std::string ports = "20-30,80,113,135,443";
    for (const std::string kind : {"-sS", "-sT"}) {
        const auto normal = run_process(command({kind, "-n", "-Pn", "-v", "-p", ports}), kTimeout);
        ASSERT_EQ(normal.exit_code, 0) << normal.describe();
        for (const int port : {22, 80, 443}) {
            const std::string line = "Discovered open port " + std::to_string(port) + "/tcp on " + target() + "\n";
            EXPECT_NE(normal.out.find(line), std::string::npos) << kind << ": " << line << normal.describe();
        }
        EXPECT_EQ(count_matching(normal.out, std::regex{"^Discovered open port "}), 3u) << kind << normal.describe();
        const auto json = run_process(command({kind, "-n", "-Pn", "-v", "-p", ports, "-oJ", "-"}), kTimeout);
        ASSERT_EQ(json.exit_code, 0) << json.describe();
        EXPECT_EQ(json.out.find("Discovered"), std::string::npos) << kind << json.describe();
        EXPECT_EQ(count_matching(json.err, std::regex{"^Discovered open port \\d+/tcp on "}), 3u) << kind << json.describe();
    }
}

}  // namespace
}  // namespace flagscan::live

// Replay suite, defender mode (issue 14): `flagscan detect` over the captures of pcap-fixtures/,
// its JSON-lines alerts checked against the hand-written NAME.detect beside each capture.
//
// Environment: FLAGSCAN_BIN (the flagscan binary), FLAGSCAN_FIXTURES (pcap-fixtures/).
// NAME.detect (pcap-fixtures/README.md gives the format) holds one or more checks; each check is
// one run of `flagscan detect FILE... -oJ - ARGS` over NAME.pcap (or NAME.pcapng), or over the
// captures its `files:` line names, read together as several sensors. A check passes when the
// exit code is 0, every stdout line is an alert or the final summary, the summary counts the
// alerts, and the alerts and the `alert` lines match one to one (`no-alert`: there is none).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../support/fixture_files.hpp"
#include "../support/json_line.hpp"
#include "../support/process.hpp"

namespace {

namespace fs = std::filesystem;
using flagscan::testsupport::JsonObject;
using flagscan::testsupport::ProcessResult;
using flagscan::testsupport::fixtures_dir;
using flagscan::testsupport::flagscan_bin;
using flagscan::testsupport::lines_of;
using flagscan::testsupport::read_text;
using flagscan::testsupport::test_name;
using flagscan::testsupport::words_of;

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    if (text.empty()) return parts;
    std::string part;
    std::istringstream in(text);
    while (std::getline(in, part, sep)) parts.push_back(part);
    return parts;
}

std::optional<long> to_number(const std::string& text) {
    long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// "1-1100,3306" -> every port; nullopt when malformed.
std::optional<std::set<long>> port_set(const std::string& text) {
    std::set<long> ports;
    for (const auto& item : split(text, ',')) {
        const auto dash = item.find('-');
        const auto lo = to_number(item.substr(0, dash));
        const auto hi = dash == std::string::npos ? lo : to_number(item.substr(dash + 1));
        if (!lo || !hi || *lo < 0 || *hi > 65535 || *lo > *hi) return std::nullopt;
        for (long p = *lo; p <= *hi; ++p) ports.insert(p);
    }
    return ports;
}

std::set<std::string> word_set(const std::string& text) {
    const auto parts = split(text, ',');
    return {parts.begin(), parts.end()};
}

// ---- NAME.detect ---------------------------------------------------------------------------

// One condition of an `alert` line: KEY OP VALUE, OP one of = >= <=.
struct Condition {
    std::string key, op, value;
    std::string text() const { return key + op + value; }
};

struct Check {
    std::vector<std::string> args;
    std::vector<std::vector<Condition>> alerts;  // empty with no_alert
    bool no_alert = false;
    int line = 0;  // of its run: line (or of its first expectation)
};

struct DetectCase {
    std::string name;
    std::vector<fs::path> files;
    std::vector<Check> checks;
    std::string problem;
};

void PrintTo(const DetectCase& c, std::ostream* out) { *out << c.name; }

const std::set<std::string> kStringKeys{"sources", "kind", "shape", "targets", "slow", "distributed", "tool",
                                         "lockstep", "scanner", "decoys"};
const std::set<std::string> kSetKeys{"sources", "targets", "lockstep", "decoys"};  // address lists, any order
const std::set<std::string> kNumberKeys{"target_count", "port_count"};
const std::set<std::string> kPortKeys{"ports", "ports-include", "ports-within", "open"};

// Why CONDITION is malformed, or "".
std::string condition_problem(const Condition& c) {
    if (kStringKeys.contains(c.key) || kPortKeys.contains(c.key)) {
        if (c.op != "=") return c.text() + ": only '=' for " + c.key;
        if (kPortKeys.contains(c.key) && !port_set(c.value)) return c.text() + ": not a port list";
        return "";
    }
    if (kNumberKeys.contains(c.key)) return to_number(c.value) ? "" : c.text() + ": not a number";
    return c.text() + ": unknown key '" + c.key + "'";
}

std::optional<Condition> parse_condition(const std::string& word) {
    for (const char* op : {">=", "<=", "="}) {
        const auto at = word.find(op);
        if (at != std::string::npos && at > 0) return Condition{word.substr(0, at), op, word.substr(at + std::string(op).size())};
    }
    return std::nullopt;
}

// Parses TEXT into CASE's checks and files; sets its problem on the first malformed line.
void parse_detect(const std::string& text, const fs::path& dir, DetectCase& c) {
    int number = 0;
    for (const auto& raw : lines_of(text)) {
        ++number;
        const std::string line = raw.substr(0, raw.find('#'));
        auto words = words_of(line);
        if (words.empty()) continue;
        const std::string where = c.name + ".detect line " + std::to_string(number) + ": ";
        const std::string head = words.front();
        words.erase(words.begin());
        if (head == "files:") {
            if (!c.files.empty() || !c.checks.empty() || words.empty()) { c.problem = where + "one files: line, first"; return; }
            for (const auto& w : words) c.files.push_back(dir / w);
        } else if (head == "run:") {
            c.checks.push_back({words, {}, false, number});
        } else if (head == "no-alert" || head == "alert") {
            if (c.checks.empty()) c.checks.push_back({{}, {}, false, number});
            Check& check = c.checks.back();
            if (head == "no-alert") {
                check.no_alert = true;
            } else {
                std::vector<Condition> conditions;
                for (const auto& w : words) {
                    const auto condition = parse_condition(w);
                    if (!condition) { c.problem = where + "'" + w + "' is not KEY=VALUE"; return; }
                    if (const auto problem = condition_problem(*condition); !problem.empty()) { c.problem = where + problem; return; }
                    conditions.push_back(*condition);
                }
                check.alerts.push_back(conditions);
            }
            if (check.no_alert && !check.alerts.empty()) { c.problem = where + "no-alert and alert lines in one check"; return; }
        } else {
            c.problem = where + "unknown line '" + head + "'";
            return;
        }
    }
    if (c.checks.empty()) c.problem = c.name + ".detect holds no check";
    for (const auto& check : c.checks) {
        if (!check.no_alert && check.alerts.empty()) c.problem = c.name + ".detect line " + std::to_string(check.line) + ": a run: with no expectation";
    }
}

bool is_capture(const fs::path& path) { return path.extension() == ".pcap" || path.extension() == ".pcapng"; }

// Every NAME.detect of the fixture directory, parsed; problems as cases that fail.
std::vector<DetectCase> discover() {
    const fs::path dir = fixtures_dir();
    std::error_code error;
    if (dir.empty() || !fs::is_directory(dir, error)) {
        return {{"fixture_directory", {}, {}, "FLAGSCAN_FIXTURES is not a directory: '" + dir.string() + "'"}};
    }
    std::vector<DetectCase> cases;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
        if (entry.path().extension() != ".detect") continue;
        DetectCase c{entry.path().stem().string(), {}, {}, ""};
        parse_detect(read_text(entry.path()).value_or(""), dir, c);
        if (c.problem.empty() && c.files.empty()) {
            for (const char* ext : {".pcap", ".pcapng"}) {
                if (fs::exists(dir / (c.name + ext))) c.files.push_back(dir / (c.name + ext));
            }
            if (c.files.size() != 1) c.problem = c.name + ".detect: needs one " + c.name + ".pcap or .pcapng, or a files: line";
        }
        for (const auto& file : c.files) {
            if (c.problem.empty() && !fs::exists(file)) c.problem = c.name + ".detect: no capture " + file.string();
        }
        cases.push_back(c);
    }
    std::sort(cases.begin(), cases.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    if (cases.empty()) cases.push_back({"no_detect_files", {}, {}, "no .detect file in " + dir.string()});
    return cases;
}

// ---- one run ------------------------------------------------------------------------------

struct DetectRun {
    ProcessResult result;
    std::vector<JsonObject> alerts;
    std::optional<JsonObject> summary;
    std::vector<std::string> problems;  // JSON lines that are neither, a summary not last, ...
    std::vector<std::string> not_json;  // checked by DetectOutput.JsonOnStdoutIsAllThereIs only
    std::string command;
};

DetectRun run_detect(const std::vector<fs::path>& files, const std::vector<std::string>& args) {
    std::vector<std::string> argv{flagscan_bin(), "detect"};
    for (const auto& f : files) argv.push_back(f.string());
    argv.insert(argv.end(), {"-oJ", "-"});
    argv.insert(argv.end(), args.begin(), args.end());
    DetectRun run;
    for (const auto& a : argv) run.command += (run.command.empty() ? "" : " ") + a;
    run.result = flagscan::testsupport::run_process(argv, std::chrono::seconds(60));
    for (const auto& line : lines_of(run.result.out)) {
        const auto object = flagscan::testsupport::parse_json_object(line);
        if (!object) {
            run.not_json.push_back(line);
            continue;
        }
        const std::string type = object->contains("type") ? object->at("type") : "";
        if (run.summary) run.problems.push_back("a line after the summary: " + line);
        if (type == "alert") {
            run.alerts.push_back(*object);
        } else if (type == "summary" && !run.summary) {
            run.summary = *object;
        } else {
            run.problems.push_back("neither an alert nor the summary: " + line);
        }
    }
    if (!run.summary) run.problems.push_back("no summary line");
    return run;
}

std::string field(const JsonObject& o, const std::string& key) {
    const auto it = o.find(key);
    return it == o.end() ? std::string("(absent)") : it->second;
}

// Why ALERT fails CONDITION, or "".
std::string mismatch(const JsonObject& alert, const Condition& c) {
    const std::string json_key = c.key == "ports-include" || c.key == "ports-within" ? "ports" : c.key;
    if (!alert.contains(json_key)) return c.text() + ": the alert has no \"" + json_key + "\"";
    const std::string have = alert.at(json_key);
    bool ok = false;
    if (kSetKeys.contains(c.key)) {
        ok = word_set(have) == word_set(c.value);
    } else if (kStringKeys.contains(c.key)) {
        ok = have == c.value;
    } else if (kNumberKeys.contains(c.key)) {
        const auto n = to_number(have), want = to_number(c.value);
        ok = n && want && (c.op == "=" ? *n == *want : c.op == ">=" ? *n >= *want : *n <= *want);
    } else {
        const auto got = port_set(have), want = port_set(c.value);
        if (!got) return c.text() + ": \"" + json_key + "\" is not a port list: " + have;
        if (c.key == "ports-include") {
            ok = std::includes(got->begin(), got->end(), want->begin(), want->end());
        } else if (c.key == "ports-within") {
            ok = std::includes(want->begin(), want->end(), got->begin(), got->end());
        } else {
            ok = *got == *want;
        }
    }
    return ok ? "" : c.text() + " (got " + have + ")";
}

std::string first_mismatch(const JsonObject& alert, const std::vector<Condition>& conditions) {
    for (const auto& c : conditions) {
        if (auto why = mismatch(alert, c); !why.empty()) return why;
    }
    return "";
}

// Pairs every expectation with a distinct alert (backtracking: a few alerts at most).
bool match_all(const std::vector<std::vector<Condition>>& wanted, const std::vector<JsonObject>& alerts, std::size_t i,
               std::vector<bool>& used) {
    if (i == wanted.size()) return true;
    for (std::size_t a = 0; a < alerts.size(); ++a) {
        if (used[a] || !first_mismatch(alerts[a], wanted[i]).empty()) continue;
        used[a] = true;
        if (match_all(wanted, alerts, i + 1, used)) return true;
        used[a] = false;
    }
    return false;
}

std::string describe(const std::vector<std::vector<Condition>>& wanted, const std::vector<JsonObject>& alerts,
                     const std::string& out) {
    std::string text = "expected " + std::to_string(wanted.size()) + " alert(s), got " + std::to_string(alerts.size()) + "\n";
    for (const auto& w : wanted) {
        text += "  want:";
        for (const auto& c : w) text += " " + c.text();
        text += "\n";
        for (std::size_t a = 0; a < alerts.size(); ++a) {
            std::string why;
            for (const auto& c : w) {
                if (const auto m = mismatch(alerts[a], c); !m.empty()) why += (why.empty() ? "" : ", ") + m;
            }
            text += "    alert " + std::to_string(a + 1) + ": " + (why.empty() ? "matches" : "fails " + why) + "\n";
        }
    }
    return text + "stdout:\n" + out;
}

void expect_check(const std::vector<fs::path>& files, const Check& check) {
    const DetectRun run = run_detect(files, check.args);
    SCOPED_TRACE(run.command);
    ASSERT_EQ(run.result.exit_code, 0) << run.result.describe();
    for (const auto& problem : run.problems) ADD_FAILURE() << problem;
    if (run.summary) {
        EXPECT_EQ(field(*run.summary, "alerts"), std::to_string(run.alerts.size())) << "the summary counts the alerts";
        EXPECT_NE(field(*run.summary, "packets"), "0") << "the summary counts the packets read";
    }
    std::vector<bool> used(run.alerts.size(), false);
    const bool matched = run.alerts.size() == check.alerts.size() && match_all(check.alerts, run.alerts, 0, used);
    EXPECT_TRUE(matched) << describe(check.alerts, run.alerts, run.result.out);
}

class DetectFixture : public ::testing::TestWithParam<DetectCase> {};

TEST_P(DetectFixture, MatchesItsDetectFile) {
    const DetectCase& c = GetParam();
    ASSERT_TRUE(c.problem.empty()) << c.problem;
    ASSERT_FALSE(flagscan_bin().empty()) << "FLAGSCAN_BIN is not set (path to the flagscan binary)";
    for (const auto& check : c.checks) {
        SCOPED_TRACE(c.name + ".detect line " + std::to_string(check.line));
        expect_check(c.files, check);
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DetectFixture, ::testing::ValuesIn(discover()),
                         [](const ::testing::TestParamInfo<DetectCase>& info) { return test_name(info.param.name); });

// ---- the fixture set ------------------------------------------------------------------------

// -oJ - makes stdout the JSON lines and nothing else, as `flagscan --replay ... -oJ -` and nmap's
// -oX - do (the table and the closing count go to stderr then), so a pipe into jq works.
TEST(DetectOutput, JsonOnStdoutIsAllThereIs) {
    ASSERT_FALSE(flagscan_bin().empty()) << "FLAGSCAN_BIN is not set";
    const DetectRun run = run_detect({fixtures_dir() / "detect-masscan.pcap"}, {});
    ASSERT_EQ(run.result.exit_code, 0) << run.result.describe();
    EXPECT_EQ(run.alerts.size(), 1u);
    std::string lines;
    for (const auto& line : run.not_json) lines += line + "\n";
    EXPECT_TRUE(run.not_json.empty()) << "stdout lines that are not JSON:\n" << lines;
}

// Every scan capture has its detect expectation: the detect-* ones (record-detect.sh) and the
// lab-* ones (record-lab.sh), but the -sV ones (a 7-port scan and service connections, not
// what these fixtures are about). built-* captures test the replay's decoding, not detection.
TEST(DetectFixtureSet, EveryScanCaptureHasADetectFile) {
    std::error_code error;
    std::size_t seen = 0;
    for (const auto& entry : fs::directory_iterator(fixtures_dir(), error)) {
        const fs::path& path = entry.path();
        const std::string stem = path.stem().string();
        if (!is_capture(path) || stem.ends_with("-sv")) continue;
        if (!stem.starts_with("detect-") && !stem.starts_with("lab-")) continue;
        ++seen;
        EXPECT_TRUE(fs::exists(fixtures_dir() / (stem + ".detect"))) << path.filename() << " has no " << stem << ".detect";
    }
    EXPECT_GT(seen, 0u);
}

// Several sensors' captures are one stream in timestamp order, whatever the order given:
// the two sensors of the distributed scan, either way round, give the same report.
TEST(DetectMultiSensor, FileOrderDoesNotMatter) {
    ASSERT_FALSE(flagscan_bin().empty()) << "FLAGSCAN_BIN is not set";
    const fs::path a = fixtures_dir() / "detect-sensor-a.pcap", b = fixtures_dir() / "detect-sensor-b.pcap";
    ASSERT_TRUE(fs::exists(a) && fs::exists(b));
    const DetectRun ab = run_detect({a, b}, {}), ba = run_detect({b, a}, {});
    ASSERT_EQ(ab.result.exit_code, 0) << ab.result.describe();
    ASSERT_EQ(ba.result.exit_code, 0) << ba.result.describe();
    EXPECT_EQ(ab.result.out, ba.result.out);
    EXPECT_FALSE(ab.alerts.empty()) << "the two sensors together see the distributed scan";
}

// Each sensor's capture is read whole: the summary of two counts every packet of both.
TEST(DetectMultiSensor, CountsThePacketsOfEveryFile) {
    ASSERT_FALSE(flagscan_bin().empty()) << "FLAGSCAN_BIN is not set";
    const fs::path a = fixtures_dir() / "detect-sensor-a.pcap", b = fixtures_dir() / "detect-sensor-b.pcap";
    const DetectRun one_a = run_detect({a}, {}), one_b = run_detect({b}, {}), both = run_detect({a, b}, {});
    ASSERT_TRUE(one_a.summary && one_b.summary && both.summary) << both.result.describe();
    const auto na = to_number(field(*one_a.summary, "packets")), nb = to_number(field(*one_b.summary, "packets"));
    const auto n = to_number(field(*both.summary, "packets"));
    ASSERT_TRUE(na && nb && n);
    EXPECT_EQ(*n, *na + *nb);
}

}  // namespace

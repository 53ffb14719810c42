// Live command-line failures: bad arguments and missing root end cleanly with one clear line.
#include "live_support.hpp"

#include <unistd.h>

#include <algorithm>

namespace flagscan::live {
namespace {

constexpr auto kCliTimeout = std::chrono::seconds(30);

struct ErrorCase {
    const char* name;
    std::vector<std::string> args;  // "TARGET" stands for the lab's namespace address
};

// gtest names failing cases by this instead of dumping the struct's bytes.
void PrintTo(const ErrorCase& error_case, std::ostream* os) { *os << error_case.name; }

// Lines in TEXT, a final newline not counting as an extra empty line.
std::size_t line_count(const std::string& text) {
    if (text.empty()) return 0;
    const auto newlines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    return text.back() == '\n' ? newlines : newlines + 1;
}

void expect_clean_failure(const ProcessResult& result) {
    ASSERT_FALSE(result.timed_out) << result.describe();
    ASSERT_TRUE(result.exited()) << "crashed: " << result.describe();
    EXPECT_NE(result.exit_code, 0) << result.describe();
    EXPECT_LT(result.exit_code, 126) << "exit code looks like a failed exec or a crash: " << result.describe();
    EXPECT_EQ(line_count(result.err), 1u) << "stderr must be exactly one line: " << result.describe();
}

// e. Argument errors, run inside an empty network namespace (unshare --net): whatever the
//    binary does with a mistaken argument, no packet can leave.
class CliErrors : public ::testing::TestWithParam<ErrorCase> {
protected:
    void SetUp() override {
        if (const auto reason = root_skip_reason(); !reason.empty()) GTEST_SKIP() << reason;
        ASSERT_FALSE(flagscan_bin().empty()) << "FLAGSCAN_BIN is not set";
        const auto sandbox = run_process({"unshare", "--net", "--", "true"}, kCliTimeout);
        ASSERT_EQ(sandbox.exit_code, 0) << "unshare --net does not work: " << sandbox.describe();
    }

    static std::vector<std::string> sandboxed(const std::vector<std::string>& args) {
        std::vector<std::string> argv{"unshare", "--net", "--", flagscan_bin()};
        for (const auto& arg : args) argv.push_back(arg == "TARGET" ? lab_address(2) : arg);
        return argv;
    }
};

TEST_P(CliErrors, FailsWithOneLine) {
    expect_clean_failure(run_process(sandboxed(GetParam().args), kCliTimeout));
}

INSTANTIATE_TEST_SUITE_P(
    Live, CliErrors,
    ::testing::Values(
        ErrorCase{"BadCidr", {"-sS", "-p", "80", "-Pn", "-n", "10.0.0.0/33"}},
        ErrorCase{"PortOutOfRange", {"-sS", "-p", "70000", "-Pn", "-n", "TARGET"}},
        ErrorCase{"UnknownInterface", {"-sS", "-p", "80", "-Pn", "-n", "-e", "nosuchif0", "TARGET"}},
        ErrorCase{"MissingTargetFile",
                  {"-sS", "-p", "80", "-Pn", "-n", "-iL", "/nonexistent/flagscan-targets.txt"}}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// f. As nobody: a raw scan is refused with a message naming root and suggesting -sT. The lab
//    is up so that even a binary that wrongly went ahead would only reach the namespace.
class Privileges : public LabTest {};

TEST_F(Privileges, NonRootIsToldToUseRootOrConnectScan) {
    ASSERT_EQ(access(flagscan_bin().c_str(), R_OK | X_OK), 0);
    const auto result = run_process({"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                     flagscan_bin(), "-sS", "-p", "80", "-Pn", "-n", lab_address(2)},
                                    kCliTimeout);
    ASSERT_FALSE(result.exit_code == 126 || result.exit_code == 127)
        << "nobody cannot execute " << flagscan_bin() << " (directory permissions?): " << result.describe();
    expect_clean_failure(result);
    EXPECT_NE(result.err.find("root"), std::string::npos) << result.describe();
    EXPECT_NE(result.err.find("-sT"), std::string::npos) << result.describe();
}

}  // namespace
}  // namespace flagscan::live

namespace flagscan::live {
namespace {

// Ctrl-C in the middle of a scan: exit 130, and the JSON lines still hold what was found.
class Interrupt : public LabTest {};

TEST_F(Interrupt, CtrlCStillWritesWhatWasFound) {
    TempDir dir;
    const std::string out = dir.path() + "/partial.jsonl";
    const auto result = run_process({"timeout", "--preserve-status", "-s", "INT", "1", flagscan_bin(), "-sS", "-p-",
                                     "-Pn", "-n", "--max-rate", "5000", "-oJ", out, lab_address(2)},
                                    std::chrono::seconds(30));
    ASSERT_EQ(result.exit_code, 130) << result.describe();
    EXPECT_NE(result.out.find("Scan interrupted"), std::string::npos) << result.out;
    const ScanOutput output = read_scan_output(out);
    ASSERT_EQ(output.hosts.size(), 1u) << "no host line in " << out;
    const auto& counts = output.hosts.front().counts;
    const long decided = counts.at("open") + counts.at("closed") + counts.at("filtered");
    EXPECT_GT(decided, 1000);   // about a second's worth at 5,000 probes/s
    EXPECT_LT(decided, 60000);  // and far from the whole range
}

}  // namespace
}  // namespace flagscan::live

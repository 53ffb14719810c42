// run_process: a child process with both output streams captured and a timeout, for the test
// suites that run the flagscan binary (live, replay).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace flagscan::testsupport {

struct ProcessResult {
    int exit_code = -1;    // when the process exited
    int term_signal = 0;   // when a signal ended it
    bool timed_out = false;
    long peak_rss_kib = 0;  // the child's largest resident set (wait4's ru_maxrss), in KiB
    std::string out;
    std::string err;

    bool exited() const { return exit_code >= 0; }
    std::string describe() const;  // status plus both streams, for failure messages
};

// Runs ARGV (argv[0] looked up in PATH) with stdin from /dev/null, capturing stdout and
// stderr; its process group is killed when TIMEOUT passes.
ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::seconds timeout);

}  // namespace flagscan::testsupport

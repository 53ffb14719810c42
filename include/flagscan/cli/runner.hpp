// Runner: turns a ScanConfig into a scan, live or replayed, and its reports.
#pragma once

#include <ostream>
#include <string>

#include "flagscan/cli/options.hpp"

namespace flagscan {

// "flagscan 0.2.0", the libraries it was built with, and the exit codes (for --version).
std::string version_text();

// Runs the scan; returns the process exit code: 0 done, 1 bad input (refused before anything
// was sent), 2 runtime failure (an output write, the capture), 130 interrupted.
int run_scan_command(const ScanConfig& config, std::ostream& out, std::ostream& err);

// The two kinds of scan: packets on a wire (root), or frames in a capture file (--replay).
// `resume`: the state of an interrupted run of the same scan (--resume), or null.
struct ResumeState;
int run_live_command(const ScanConfig& config, std::ostream& out, std::ostream& err, const ResumeState* resume = nullptr);
int run_replay_command(const ScanConfig& config, std::ostream& out, std::ostream& err);

// --offline / --dryrun: the port scan's probes crafted, paced and counted (or written to -w),
// none sent: no root, no capture, no raw socket.
int run_offline_command(const ScanConfig& config, std::ostream& out, std::ostream& err);

// -sL: the targets listed, no packet sent, no root needed.
int run_list_command(const ScanConfig& config, std::ostream& out, std::ostream& err);

}  // namespace flagscan

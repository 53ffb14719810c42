// Runner: turns a ScanConfig into a live scan: targets, route, sockets, capture, engine, reports.
#pragma once

#include <ostream>

#include "flagscan/cli/options.hpp"

namespace flagscan {

// Runs the scan; returns the process exit code (0 done, 1 error, 130 interrupted).
int run_scan_command(const ScanConfig& config, std::ostream& out, std::ostream& err);

}  // namespace flagscan

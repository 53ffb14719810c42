// Watching a running phase: the status line on stderr, Enter for one more, -v's discovered ports.
#pragma once

#include <functional>
#include <ostream>
#include <string>

#include "flagscan/cli/options.hpp"
#include "flagscan/engine/engine.hpp"
#include "flagscan/engine/scan_loop.hpp"

namespace flagscan {

// What a phase shows of itself while it runs.
struct PhaseWatch {
    const ScanConfig& config;
    const std::string& title;  // "SYN scan", "host discovery", ...
    const Engine& engine;
    const Results& results;
    std::ostream& out;
    std::ostream& err;
};

// Runs `run` (the phase's scan loop) with `hooks` and, after them, the watchers the command line
// asks for: the status line, refreshed in place about once a second when stderr is a terminal,
// or a plain line every --stats-every; one more when Enter is pressed (stdin a terminal); with
// -v, "Discovered open port 22/tcp on 10.0.0.2" as each open port is found. A status line left
// on the terminal is erased before it returns, so what the phase prints next starts clean.
ScanEnd run_watched(const PhaseWatch& watch, const Clock& clock, LoopHooks hooks,
                    const std::function<ScanEnd(const LoopHooks&)>& run);

}  // namespace flagscan

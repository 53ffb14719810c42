// flagscan detect: port scans recognised in captures (FILE.pcap..., several sensors merged) or live (-e IF).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "flagscan/detect/detector.hpp"
#include "flagscan/net/result.hpp"

namespace flagscan {

struct DetectOptions {
    DetectConfig config;
    std::vector<std::string> files;  // pcap / pcapng, one per sensor
    std::string interface;           // -e: live
    std::string json_path;           // -oJ FILE ("-": stdout)
    Micros duration = 0;             // --duration: live, stop after this long (0: at Ctrl-C)
    bool help = false;
    std::string help_text;
};

// The arguments after "detect". Errors are one line: an unknown option, a bad number, no input,
// both files and -e.
Result<DetectOptions> parse_detect_options(const std::vector<std::string>& args);

// Exit 0 done (alerts or not), 1 bad input (options, a missing or corrupt capture, an unknown
// interface), 2 an output that cannot be written.
int run_detect_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace flagscan

// flagscan's entry point: parse the command line, then run the scan it asks for.
#include <iostream>
#include <string_view>

#include "flagscan/cli/detect.hpp"
#include "flagscan/cli/merge.hpp"
#include "flagscan/cli/options.hpp"
#include "flagscan/cli/runner.hpp"
#include "flagscan/output/explain.hpp"

int main(int argc, char** argv) {
    if (argc > 1 && std::string_view(argv[1]) == "merge")  // flagscan merge OUT... -o FILE
        return flagscan::run_merge_command({argv + 2, argv + argc}, std::cout, std::cerr);
    if (argc > 1 && std::string_view(argv[1]) == "detect")  // flagscan detect FILE.pcap... | -e IF
        return flagscan::run_detect_command({argv + 2, argv + argc}, std::cout, std::cerr);
    auto line = flagscan::parse_command_line(argc, argv);
    if (!line) {
        std::cerr << "flagscan: " << line.error() << '\n';
        return 1;  // bad input
    }
    switch (line->action) {
        case flagscan::CommandLine::Action::help:
        case flagscan::CommandLine::Action::list_checks:  // the text is in `help` as well
            std::cout << line->help;
            return 0;
        case flagscan::CommandLine::Action::version:
            std::cout << flagscan::version_text();
            return 0;
        case flagscan::CommandLine::Action::explain_rules:
            if (line->config.ping_only) {
                for (const auto& kind : flagscan::all_ping_kinds()) flagscan::write_rule_table(std::cout, kind), std::cout << '\n';
            } else {
                flagscan::write_rule_table(std::cout, line->config.udp_scan ? flagscan::udp_kind() : line->config.kind);
            }
            return 0;
        case flagscan::CommandLine::Action::scan:
            break;
    }
    return flagscan::run_scan_command(line->config, std::cout, std::cerr);
}

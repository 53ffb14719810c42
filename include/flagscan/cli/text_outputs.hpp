// TextOutputs: the normal report and JSON lines of a command with no Results to report (-sL, --offline).
#pragma once

#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "flagscan/cli/options.hpp"

namespace flagscan {

// Where the lines go: the normal report to stdout (unless JSON lines go there) and to -oN;
// JSON lines to -oJ.
struct TextOutputs {
    std::vector<std::ostream*> normal;
    std::ostream* json = nullptr;
    std::vector<std::unique_ptr<std::ofstream>> files;
    std::vector<std::string> paths;

    static TextOutputs open(const ScanConfig& config, std::ostream& out);
    // The first file that could not be opened or written, if any.
    std::optional<std::string> failed();

private:
    std::ostream* open_file(const std::string& path);
};

}  // namespace flagscan

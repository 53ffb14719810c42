// nmap.dtd validation and ndiff comparison through the Debian tools (libxml2-utils, ndiff).
#include "nmap_xml.hpp"

#include <filesystem>
#include <sstream>

#include "process.hpp"

namespace flagscan::testsupport {
namespace {

bool on_path(const std::string& tool) {
    return run_process({"sh", "-c", "command -v " + tool}, std::chrono::seconds(10)).exit_code == 0;
}

}  // namespace

std::optional<std::string> xmllint_missing() {
    if (!on_path("xmllint")) return "xmllint is not installed (libxml2-utils)";
    if (!std::filesystem::exists(kNmapDtd)) return std::string(kNmapDtd) + " is not installed (nmap)";
    return std::nullopt;
}

std::optional<std::string> ndiff_missing() {
    if (!on_path("ndiff")) return "ndiff is not installed";
    return std::nullopt;
}

std::string dtd_errors(const std::string& path) {
    const ProcessResult lint = run_process({"xmllint", "--noout", "--dtdvalid", kNmapDtd, path}, std::chrono::seconds(60));
    return lint.exit_code == 0 ? "" : lint.describe();
}

std::vector<std::string> ndiff_differences(const std::string& a, const std::string& b) {
    const ProcessResult diff = run_process({"ndiff", a, b}, std::chrono::seconds(60));
    if (diff.exit_code != 0 && diff.exit_code != 1) return {"ndiff failed: " + diff.describe()};  // 0 same, 1 different
    std::vector<std::string> differences;
    std::istringstream lines{diff.out};
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || (line[0] != '-' && line[0] != '+')) continue;
        if (line.compare(1, 5, "Nmap ") == 0 || line.back() == ':') continue;
        differences.push_back(line);
    }
    return differences;
}

}  // namespace flagscan::testsupport

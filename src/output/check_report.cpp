// The weakness checks' findings in the normal report (script lines), XML (<script>) and JSON lines ("checks").
#include "flagscan/output/check_report.hpp"

#include <algorithm>

#include "flagscan/output/formats.hpp"
#include "flagscan/output/report.hpp"

namespace flagscan {

std::string script_lines(std::string_view id, std::string_view output, const std::vector<std::string>& evidence) {
    std::vector<std::string> lines;
    std::string first = std::string(id) + ":";
    std::size_t at = 0;
    do {
        const auto end = std::min(output.find('\n', at), output.size());
        const std::string_view line = output.substr(at, end - at);
        if (lines.empty()) lines.push_back(first + (line.empty() ? "" : " " + std::string(line)));
        else lines.emplace_back(line);
        at = end + 1;
    } while (at <= output.size());
    if (!evidence.empty()) lines.emplace_back("  evidence:");
    for (const std::string& line : evidence) lines.push_back("    " + line);
    std::string text;
    for (std::size_t i = 0; i < lines.size(); ++i) text += (i + 1 < lines.size() ? "| " : "|_") + lines[i] + '\n';
    return text;
}

std::string check_lines(const Results& results, std::uint64_t index, bool evidence) {
    const std::vector<CheckFinding>* findings = results.checks().find(index);
    if (findings == nullptr) return {};
    std::string text;
    for (const CheckFinding& finding : *findings)
        text += script_lines(finding.id, finding.output, evidence ? finding.evidence : std::vector<std::string>{});
    return text;
}

void write_check_scripts(std::ostream& out, const Results& results, std::uint64_t index) {
    const std::vector<CheckFinding>* findings = results.checks().find(index);
    if (findings == nullptr) return;
    for (const CheckFinding& finding : *findings) {
        out << "<script id=\"" << xml_escape(finding.id) << "\" output=\"" << xml_escape(finding.output) << "\">";
        out << "<table key=\"evidence\">";
        for (const std::string& line : finding.evidence) out << "<elem>" << xml_escape(line) << "</elem>";
        out << "</table></script>";
    }
}

std::string checks_json(const Results& results, std::uint64_t index) {
    const std::vector<CheckFinding>* findings = results.checks().find(index);
    if (findings == nullptr) return {};
    std::string text = R"(,"checks":[)";
    for (const CheckFinding& finding : *findings) {
        text += (&finding == findings->data() ? "" : ",");
        text += R"({"id":")" + json_string(finding.id) + R"(","output":")" + json_string(finding.output) + R"(","evidence":[)";
        for (const std::string& line : finding.evidence)
            text += (&line == finding.evidence.data() ? "\"" : ",\"") + json_string(line) + '"';
        text += "]}";
    }
    return text + "]";
}

}  // namespace flagscan

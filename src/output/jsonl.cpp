// JSON lines output: one object per listed port, then one per host (what the normal report lists).
#include <algorithm>
#include <cstdio>
#include <string>

#include "flagscan/output/check_report.hpp"
#include "flagscan/output/report.hpp"
#include "flagscan/output/service_report.hpp"

namespace flagscan {
namespace {

void write_port(std::ostream& out, const Results& results, std::uint64_t index, const ScanSummary& summary) {
    const auto target = results.targets().at(index);
    const auto& port = results.port(index);
    out << R"({"ip":")" << results.targets().address_text(target.ip) << '"';
    if (!summary.scan.empty()) out << R"(,"scan":")" << json_string(summary.scan) << '"';
    out << R"(,"port":)" << target.port.value() << R"(,"proto":")"
        << protocol_name(results.kind(target.lane)) << R"(","state":")"
        << to_string(port.state) << R"(","reason":")" << to_string(port.reason) << '"';
    if (port.ttl != 0) out << R"(,"ttl":)" << int{port.ttl};
    if (const std::string* owner = results.services().owner(index)) out << R"(,"owner":")" << json_string(*owner) << '"';
    if (const ServiceFound* service = results.services().find(index)) out << R"(,"service":)" << service_json(*service);
    if (const std::string* banner = results.banner(index)) out << R"(,"banner":")" << json_string(*banner) << '"';
    out << checks_json(results, index);
    out << "}\n";
}

// -O: "os":{"matches":[{"name","accuracy","cpe":[...]}],"fingerprint":"...","distance","tries",
// "answered"}, the CPEs of each match's classes in their order, each once; answered: probes of the
// best try's 16.
std::string os_json(const OsFound& os) {
    std::string text = R"(,"os":{"matches":[)";
    for (std::size_t m = 0; m < os.matches.size(); ++m) {
        const OsMatchFound& match = os.matches[m];
        text += (m == 0 ? "" : ",") + std::string(R"({"name":")") + json_string(match.name) + R"(","accuracy":)" +
                std::to_string(match.accuracy) + R"(,"cpe":[)";
        std::vector<std::string> cpes;
        for (const OsClassFound& c : match.classes)
            for (const std::string& cpe : c.cpe)
                if (std::find(cpes.begin(), cpes.end(), cpe) == cpes.end()) cpes.push_back(cpe);
        for (std::size_t i = 0; i < cpes.size(); ++i) text += (i == 0 ? "\"" : ",\"") + json_string(cpes[i]) + '"';
        text += "]}";
    }
    text += R"(],"fingerprint":")" + json_string(os.fingerprint) + '"';
    if (os.distance) text += R"(,"distance":)" + std::to_string(*os.distance);
    if (os.tries > 0) text += R"(,"tries":)" + std::to_string(os.tries) + R"(,"answered":)" + std::to_string(os.answered);
    return text + "}";
}

void write_host(std::ostream& out, const Results& results, std::uint32_t host, const ScanSummary& summary) {
    const HostResult info = results.host(host);
    out << R"({"ip":")" << results.targets().host_text(host) << '"';
    if (!summary.scan.empty()) out << R"(,"scan":")" << json_string(summary.scan) << '"';
    if (const auto name = host_name(summary, host); !name.empty()) out << R"(,"hostname":")" << json_string(name) << '"';
    if (info.icmp_limit > 0) out << R"(,"icmp_rate_limit":)" << info.icmp_limit;
    out << R"(,"status":"up")";
    if (const Reason reason = host_reason(summary, host); reason != Reason::none)
        out << R"(,"reason":")" << host_reason_name(results.targets(), reason) << '"';
    if (const auto left = info.counts[static_cast<int>(PortState::unscanned)]; left > 0)
        out << R"(,"complete":false,"not_scanned":)" << left;  // interrupted: these ports are in no count
    if (const auto hint = os_hint_of(results, host)) out << R"(,"os_hint":")" << json_string(*hint) << '"';
    out << R"(,"counts":{)";
    const char* separator = "";
    for (int s = 1; s < kPortStateCount; ++s) {
        const auto state = static_cast<PortState>(s);
        const bool always = state == PortState::open || state == PortState::closed || state == PortState::filtered;
        if (!always && info.counts[s] == 0) continue;
        out << separator << '"' << to_string(state) << "\":" << info.counts[s];
        separator = ",";
    }
    out << "}";
    if (const OsFound* os = results.os().find(host)) out << os_json(*os);
    out << "}\n";
}

}  // namespace

// DNS names are printable ASCII (RFC 1035 labels); anything else is escaped to stay valid JSON.
std::string json_string(std::string_view text) {
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') out += '\\';
        if (u < 0x20 || u >= 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", u);
            out += escaped;
        } else {
            out += c;
        }
    }
    return out;
}

void write_jsonl_host(std::ostream& out, const Results& results, std::uint32_t host, const ReportOptions& options,
                      const ScanSummary& summary) {
    if (!host_is_reported(results, host, options)) return;
    for_each_listed_port(results, host, options, [&](std::uint64_t index) { write_port(out, results, index, summary); });
    write_host(out, results, host, summary);
}

void write_jsonl_start(std::ostream& out, const ScanSummary& summary) {
    if (!summary.identity.empty()) out << R"({"type":"scan",)" << summary.identity << "}\n";
}

void write_jsonl_end(std::ostream& out, std::uint64_t addresses, std::uint64_t up, const ScanSummary& summary) {
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.2f", summary.elapsed_seconds);
    out << R"({"type":"summary","addresses":)" << addresses << R"(,"up":)" << up << R"(,"elapsed":)" << elapsed
        << R"(,"interrupted":)" << (summary.interrupted ? "true" : "false") << "}\n";
}

void write_jsonl(std::ostream& out, const Results& results, const ReportOptions& options, const ScanSummary& summary) {
    for (const std::uint32_t host : results.hosts_held()) write_jsonl_host(out, results, host, options, summary);
}

}  // namespace flagscan

// Reporters for flagscan detect: the normal table and JSON lines.
#include "flagscan/output/detect_report.hpp"

#include <cstdio>
#include <ctime>
#include <vector>

#include "flagscan/output/formats.hpp"
#include "flagscan/output/report.hpp"

namespace flagscan {
namespace {

std::string targets_text(const Alert& a, std::size_t most) {
    std::string text;
    std::size_t n = 0;
    for (const auto& t : a.targets) {
        if (n++ == most) break;
        text += (text.empty() ? "" : ",") + t.str();
    }
    if (a.target_count > n) text += " (" + std::to_string(a.target_count) + " hosts)";
    return text;
}

std::string sources_text(const Alert& a) {
    std::string text;
    for (const auto& s : a.sources) text += (text.empty() ? "" : ",") + s.str();
    return text;
}

// The table keeps lines readable: a long port list is cut (JSON lines carry it whole).
std::string short_ports(const PortSet& ports) {
    std::string text = port_set_text(ports);
    if (text.size() <= 60) return text;
    text.resize(text.rfind(',', 60));
    return text + ",...";
}

std::string rate_text(double pps) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", pps);
    return buf;
}

std::string address_array(const std::vector<Ipv4>& addresses) {
    std::string text = "[";
    for (std::size_t i = 0; i < addresses.size(); ++i) text += (i ? ",\"" : "\"") + addresses[i].str() + '"';
    return text + "]";
}

// Decoys (nmap -D): the sources in lockstep, which one is the scanner (null: not known) and why.
std::string decoy_fields(const Alert& a) {
    if (a.lockstep.empty()) return ",\"lockstep\":[]";
    const auto& v = a.decoys;
    return ",\"lockstep\":" + address_array(a.lockstep) + ",\"scanner\":" + (v.scanner ? '"' + v.scanner->str() + '"' : std::string("null")) +
           ",\"decoys\":" + address_array(v.decoys) + ",\"decoy_evidence\":\"" + json_string(v.evidence) + '"';
}

}  // namespace

std::string iso_time(Micros since_epoch) {
    const std::time_t seconds = static_cast<std::time_t>(since_epoch / kSecond);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buf[64];
    const auto micros = static_cast<long>(since_epoch % kSecond);
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                  utc.tm_hour, utc.tm_min, utc.tm_sec, micros < 0 ? 0L : micros);
    return buf;
}

std::string port_set_text(const PortSet& set) {
    const std::vector<std::uint16_t> ports = set.sorted();
    return ports.empty() ? std::string{} : port_ranges(ports);
}

void write_alert_line(std::ostream& out, const Alert& a) {
    out << "ALERT " << a.id << ' ' << sources_text(a) << " -> " << targets_text(a, 3) << ' ' << scan_kind_name(a.kind) << ' '
        << scan_shape_name(a.shape());
    if (a.uses_ports) out << " ports " << short_ports(a.ports) << " (" << a.ports.count() << " ports)";
    out << ' ' << rate_text(a.rate_pps()) << " pps" << (a.slow ? " slow" : "") << (a.distributed ? " distributed" : "")
        << " tool " << a.tool().tool << " at " << iso_time(a.last) << '\n';
}

void write_alert_block(std::ostream& out, const Alert& a) {
    const ToolGuess tool = a.tool();
    out << "Alert " << a.id << ": " << scan_kind_name(a.kind) << ' ' << scan_shape_name(a.shape()) << " scan"
        << (a.slow ? " (slow)" : "") << (a.distributed ? " (distributed)" : "") << '\n'
        << "  sources  " << sources_text(a) << '\n'
        << "  targets  " << targets_text(a, 8) << '\n';
    if (a.uses_ports) {
        const std::string open = port_set_text(a.open);
        out << "  ports    " << short_ports(a.ports) << " (" << a.ports.count() << ")\n"
            << "  open     " << (open.empty() ? "none seen" : short_ports(a.open)) << '\n';
    }
    out << "  probes   " << a.probes << " at " << rate_text(a.rate_pps()) << " pps, " << iso_time(a.first) << " to "
        << iso_time(a.last) << '\n'
        << "  tool     " << tool.tool << " (" << tool.evidence << ")\n";
    if (const auto remarks = a.remarks(); !remarks.empty()) out << "  note     " << remarks << '\n';
    if (!a.lockstep.empty()) out << "  decoys   " << a.decoys.evidence << '\n';
}

void write_alert_json(std::ostream& out, const Alert& a) {
    const ToolGuess tool = a.tool();
    out << "{\"type\":\"alert\",\"id\":" << a.id << ",\"sources\":" << address_array(a.sources);
    out << ",\"shape\":\"" << scan_shape_name(a.shape()) << "\",\"kind\":\"" << scan_kind_name(a.kind) << "\",\"targets\":[";
    std::size_t i = 0;
    for (const auto& t : a.targets) out << (i++ ? "," : "") << '"' << t.str() << '"';
    out << "],\"target_count\":" << a.target_count << ",\"ports\":\"" << (a.uses_ports ? port_set_text(a.ports) : "")
        << "\",\"port_count\":" << (a.uses_ports ? a.ports.count() : 0) << ",\"open\":\"" << port_set_text(a.open)
        << "\",\"probes\":" << a.probes << ",\"rate_pps\":" << rate_text(a.rate_pps()) << ",\"first\":\""
        << iso_time(a.first) << "\",\"last\":\"" << iso_time(a.last) << "\",\"slow\":" << (a.slow ? "true" : "false")
        << ",\"distributed\":" << (a.distributed ? "true" : "false") << ",\"tool\":\"" << tool.tool
        << "\",\"tool_evidence\":\"" << json_string(tool.evidence) << "\",\"handshakes\":" << a.handshakes
        << decoy_fields(a) << ",\"note\":\"" << json_string(a.remarks()) << "\"}\n";
}

void write_summary_json(std::ostream& out, const DetectStats& s) {
    out << "{\"type\":\"summary\",\"packets\":" << s.packets << ",\"sources_tracked\":" << s.sources_tracked
        << ",\"sources_evicted\":" << s.sources_evicted << ",\"alerts\":" << s.alerts << ",\"alerts_cut\":" << s.alerts_cut << "}\n";
}

void write_summary_normal(std::ostream& out, const DetectStats& s) {
    out << "flagscan detect: " << s.packets << " packets, " << s.sources_tracked << " sources tracked ("
        << s.sources_evicted << " evicted by --max-sources), " << s.alerts << (s.alerts == 1 ? " alert" : " alerts");
    if (s.alerts_cut > 0) out << " (" << s.alerts_cut << " ended early: more than --max-sources open at once)";
    out << '\n';
}

}  // namespace flagscan

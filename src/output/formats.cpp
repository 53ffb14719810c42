// What the XML and grepable outputs share: quoting, dates, port ranges, scan names, host status.
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "flagscan/output/formats.hpp"

namespace flagscan {

std::string quoted_command_line(std::span<const std::string> args) {
    std::string line;
    for (const std::string& arg : args) {
        if (!line.empty()) line += ' ';
        std::string quoted;
        bool space = false;
        for (const char c : arg) {
            space = space || c == ' ' || (c >= '\t' && c <= '\r');
            if (c == '"' || c == '\\') quoted += '\\';
            quoted += c;
        }
        line += space ? '"' + quoted + '"' : quoted;
    }
    return line;
}

// XML 1.0 section 2.2 (Char) and 3.3.3 (attribute-value normalisation): a raw tab or newline
// in an attribute would be read back as a space, so they go as references; other control
// characters are not allowed in an XML document even as references.
std::string xml_escape(std::string_view text) {
    std::string escaped;
    escaped.reserve(text.size());
    char previous = '\0';
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '<') escaped += "&lt;";
        else if (c == '>') escaped += "&gt;";
        else if (c == '&') escaped += "&amp;";
        else if (c == '"') escaped += "&quot;";
        else if (c == '\'') escaped += "&apos;";
        else if (c == '-' && previous == '-') escaped += "&#45;";  // "--" may not appear in a comment
        else if (c == '\t' || c == '\n' || c == '\r' || byte > 0x7f) {
            char reference[16];
            std::snprintf(reference, sizeof reference, "&#x%x;", unsigned{byte});
            escaped += reference;
        } else if (byte < 0x20 || byte == 0x7f) escaped += '?';
        else escaped += c;
        previous = c;
    }
    return escaped;
}

std::string xml_comment_json(std::string_view json) {
    std::string out;
    for (const char c : json) {
        if (c == '-' && !out.empty() && out.back() == '-') out += "\\u002d";
        else out += c;
    }
    return out;
}

std::string port_ranges(const std::vector<std::uint16_t>& ascending) {
    std::string text;
    for (std::size_t start = 0; start < ascending.size();) {
        std::size_t end = start;
        while (end + 1 < ascending.size() && ascending[end + 1] == ascending[end] + 1) ++end;
        if (!text.empty()) text += ',';
        text += std::to_string(ascending[start]);
        if (end != start) text += '-' + std::to_string(ascending[end]);
        start = end + 1;
    }
    return text;
}

std::string_view nmap_scan_type(const ProbeKind& kind) {
    if (is_connect_scan(kind)) return "connect";
    if (is_bounce_scan(kind)) return "bounce";
    if (kind.protocol == ipproto::udp) return "udp";
    constexpr std::string_view kTypes[] = {"syn", "fin", "null", "xmas", "ack", "window", "maimon"};
    const auto kinds = all_probe_kinds();
    for (std::size_t i = 0; i < kinds.size() && i < std::size(kTypes); ++i)
        if (kinds[i].nmap_flag == kind.nmap_flag) return kTypes[i];
    for (std::size_t i = 0; i < kinds.size() && i < std::size(kTypes); ++i)  // --scanflags: the rules it reads by
        if (kinds[i].rules.data() == kind.rules.data()) return kTypes[i];
    return "syn";
}

std::string ctime_text(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm local{};
    localtime_r(&t, &local);
    char text[64];
    std::strftime(text, sizeof text, "%a %b %e %H:%M:%S %Y", &local);
    return text;
}

std::vector<std::uint16_t> lane_ports(const TargetSet& targets, std::uint8_t lane) {
    std::vector<std::uint16_t> ports;
    for (const std::uint32_t i : targets.report_order())
        if (targets.slots()[i].lane == lane) ports.push_back(targets.slots()[i].port.value());
    return ports;  // report order is lane by lane, port by port: already ascending
}

std::int64_t end_unix(const ScanSummary& summary) {
    return summary.end_unix != 0 ? summary.end_unix
                                 : summary.start_unix + static_cast<std::int64_t>(summary.elapsed_seconds);
}

std::string scanned_text(const HostCounts& counts, const ScanSummary& summary) {
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.2f", summary.elapsed_seconds);
    return std::to_string(counts.total) + (counts.total == 1 ? " IP address (" : " IP addresses (") +
           std::to_string(counts.up) + (counts.up == 1 ? " host up)" : " hosts up)") + " scanned in " + elapsed +
           " seconds";
}

bool is_discovery(const Results& results) {
    return std::all_of(results.kinds().begin(), results.kinds().end(),
                       [](const ProbeKind* kind) { return kind->purpose == Purpose::host_discovery; });
}

namespace {

// -sn: up by its quickest answer, with that answer's reason and TTL.
HostStatus discovery_status(const Results& discovery, std::uint32_t host, const ScanSummary& summary) {
    HostStatus status;
    const auto evidence = up_evidence(discovery, host);
    status.up = evidence.has_value();
    status.written = status.up || summary.verbosity > 0;
    if (!evidence) return status.reason = to_string(Reason::no_response), status;
    const PortResult& slot = discovery.port(*evidence);
    status.reason = host_reason_name(discovery.targets(), slot.reason);
    status.reason_ttl = slot.ttl;
    status.rtt = discovery.host(host).min_rtt >= 0 ? discovery.host(host).min_rtt
                 : slot.rtt_us != 0              ? Micros{slot.rtt_us}
                                                 : -1;
    return status;
}

// A port scan: up as the normal report has it; the reason is how discovery judged it, else
// nmap's word for -Pn (user-set) or for a host up by a reply of no particular kind.
HostStatus port_scan_status(const Results& results, std::uint32_t host, const ReportOptions& options,
                            const ScanSummary& summary) {
    HostStatus status;
    status.up = host_is_up(results, host, options);
    if (!status.up) {
        status.written = summary.verbosity > 0 && !options.open_only;
        status.reason = to_string(Reason::no_response);
        return status;
    }
    status.written = host_is_reported(results, host, options);
    const Reason reason = host_reason(summary, host);
    status.reason = reason != Reason::none     ? host_reason_name(results.targets(), reason)
                    : options.hosts_assumed_up ? to_string(Reason::user_set)
                                               : std::string_view{"unknown-response"};
    status.rtt = results.host(host).min_rtt;
    return status;
}

}  // namespace

HostStatus host_status(const Results& results, std::uint32_t host, const ReportOptions& options,
                       const ScanSummary& summary) {
    return is_discovery(results) ? discovery_status(results, host, summary)
                                 : port_scan_status(results, host, options, summary);
}

HostCounts host_counts(const Results& results, const ReportOptions& options, const ScanSummary& summary) {
    HostCounts counts;
    counts.total = summary.addresses != 0 ? summary.addresses : results.targets().host_count();
    counts.up = is_discovery(results) ? results.hosts_with_open() : hosts_up(results, options);
    return counts;
}

}  // namespace flagscan

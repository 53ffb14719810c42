// The nmap-like normal output: a port table per host, every big state summed up in "Not shown".
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "flagscan/output/check_report.hpp"
#include "flagscan/output/report.hpp"
#include "flagscan/output/service_report.hpp"

namespace flagscan {
namespace {

std::string reason_text(const PortResult& port) {
    std::string text{to_string(port.reason)};
    if (port.ttl != 0) text += " ttl " + std::to_string(port.ttl);
    return text;
}

std::string pad(std::string text, std::size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text;
}

// nmap's line for what is not listed, every folded state, reason by reason: "Not shown: 6989
// closed tcp ports (reset), 3003 filtered tcp ports (no-response), 3 filtered tcp ports
// (admin-prohibited)". As in nmap, "port" is singular only when its whole state holds one.
void write_not_shown(std::ostream& out, const Results& results, std::uint32_t host, const HostListing& listing) {
    if (listing.not_shown.empty()) return;
    if (listing.folded_ports() == listing.scanned())
        out << "All " << listing.scanned() << " scanned ports on " << results.targets().host_text(host)
            << " are in ignored states.\n";
    out << "Not shown: ";
    const char* separator = "";
    for (const NotShown& group : listing.not_shown) {
        const bool one = listing.counts[static_cast<int>(group.state)] == 1;
        out << separator << group.count << ' ' << to_string(group.state) << ' ' << protocol_name(results.kind(group.lane))
            << (one ? " port (" : " ports (") << to_string(group.reason) << ')';
        separator = ", ";
    }
    out << '\n';
}

// Ports an interrupted scan never decided are in no count above: say how many.
void write_not_scanned(std::ostream& out, const HostListing& listing, bool interrupted) {
    if (listing.not_scanned() == 0) return;
    out << (interrupted ? "Scan interrupted: " : "") << listing.not_scanned() << " of "
        << listing.scanned() + listing.not_scanned() << " ports not scanned.\n";
}

// "Host is up (0.000120s latency)."; with --reason, how it was judged up, as nmap's "Host is
// up, received arp-response (0.000120s latency)." `known`: how it was judged up whether shown or
// not; none in a replay, where a host that sent nothing back was only taken as up by the scanner.
void write_host_up(std::ostream& out, const TargetSet& targets, const HostResult& info, Reason shown, Reason known) {
    if (info.min_rtt < 0 && known == Reason::none) {
        out << "Host sent nothing back in the capture (the scanner probed it as up).\n";
        return;
    }
    out << "Host is up";
    if (shown != Reason::none) out << ", received " << host_reason_name(targets, shown);
    if (info.min_rtt >= 0) {
        char latency[48];
        std::snprintf(latency, sizeof latency, "%.6fs", static_cast<double>(info.min_rtt) / kSecond);
        out << " (" << latency << " latency).\n";
    } else {
        out << (shown == Reason::none ? " (user-set: no reply seen).\n" : ".\n");  // nmap: "received user-set."
    }
}

// A row of the port table, cell by cell: PORT STATE SERVICE [OWNER] [REASON] [VERSION] (nmap's order;
// OWNER where nmap's -I put it, after SERVICE).
using Row = std::vector<std::string>;

// The table's columns after STATE are at least 15 wide; after -sV, as wide as their widest cell
// too, so that VERSION lines up (nmap sizes every column so). As nmap's table, a row ends at
// its last non-empty cell: no trailing blanks. under[i], when not empty, is printed below row i
// (a script's lines, as nmap's "|_banner: ...").
std::string table_text(const std::vector<Row>& rows, bool widen, const std::vector<std::string>& under) {
    std::vector<std::size_t> widths{9, 15};
    for (const Row& row : rows) {
        for (std::size_t c = 0; c < row.size(); ++c) {
            if (c >= widths.size()) widths.push_back(15);
            if (widen && c >= 2) widths[c] = std::max(widths[c], row[c].size());
        }
    }
    std::string text;
    for (const Row& row : rows) {
        std::size_t last = row.size();
        while (last > 0 && row[last - 1].empty()) --last;
        for (std::size_t c = 0; c < last; ++c) text += c + 1 < last ? pad(row[c], widths[c]) + ' ' : row[c];
        text += '\n';
        if (const std::size_t i = static_cast<std::size_t>(&row - rows.data()); i < under.size() && !under[i].empty())
            text += under[i];
    }
    return text;
}

// The OWNER cell: the user identd named (-I), else empty.
std::string owner_cell(const Results& results, std::uint64_t index) {
    const std::string* owner = results.services().owner(index);
    return owner != nullptr ? *owner : std::string{};
}

void write_port_table(std::ostream& out, const Results& results, std::uint32_t host, const HostListing& listing,
                      const ServiceTable& services, const ReportOptions& options) {
    const bool versions = results.services().performed();
    const bool owners = results.services().ident_performed();
    std::vector<Row> rows{Row{}};  // the header goes first, below
    std::vector<std::string> under{""};
    std::vector<std::string> fingerprints;
    for_each_listed_port(results, host, listing, [&](std::uint64_t index) {
        const auto& port = results.port(index);
        const Target target = results.targets().at(index);
        Row row{std::to_string(target.port.value()) + "/" + std::string(protocol_name(results.kind(target.lane))),
                std::string(to_string(port.state)), shown_service(results, index, services)};
        if (owners) row.push_back(owner_cell(results, index));
        if (options.reason) row.push_back(reason_text(port));
        if (versions) {
            const ServiceFound service = port_service(results, index, services);
            row.push_back(full_version(service));
            keep_fingerprint(fingerprints, service);
        }
        rows.push_back(std::move(row));
        const std::string* banner = results.banner(index);  // nmap's script lines: the banner, the checks' findings
        under.push_back((banner != nullptr ? script_lines("banner", *banner) : "") + check_lines(results, index, options.reason));
    });
    if (rows.size() == 1) return;
    rows.front() = Row{"PORT", "STATE", "SERVICE"};
    if (owners) rows.front().push_back("OWNER");
    if (options.reason) rows.front().push_back("REASON");
    if (versions) rows.front().push_back("VERSION");
    out << table_text(rows, versions || owners, under) << unrecognized_services_text(fingerprints);
}

// -O: nmap's OS lines (output.cc printosscanoutput), the fingerprint when asked or nothing
// matched, then uptime, distance and the sequence lines.
void write_os(std::ostream& out, const Results& results, std::uint32_t host) {
    const OsFound* os = results.os().find(host);
    if (os == nullptr) return;
    for (const std::string& line : os->lines) out << line << '\n';
    if (os->print_fingerprint) out << "TCP/IP fingerprint:\n" << os->fingerprint << '\n';
    for (const std::string& line : os->after_lines) out << line << '\n';
    // flagscan's own line: what the verdict rests on (16 probes a try; lost ones are retried).
    if (os->tries > 0)
        out << "OS probes answered: " << os->answered << " of 16"
            << (os->tries == 1 ? std::string(" (1 try)") : " in the best of " + std::to_string(os->tries) + " tries") << '\n';
}

void write_host(std::ostream& out, const Results& results, std::uint32_t host, const ServiceTable& services,
                const ReportOptions& options, const ScanSummary& summary) {
    const HostResult info = results.host(host);
    const std::string ip = results.targets().host_text(host);
    const std::string_view name = host_name(summary, host);
    out << "flagscan scan report for " << (name.empty() ? ip : std::string(name) + " (" + ip + ")") << '\n';
    const Reason known = host_reason(summary, host);
    write_host_up(out, results.targets(), info, options.reason ? known : Reason::none, known);
    if (info.icmp_limit > 0) {
        char rate[32];
        std::snprintf(rate, sizeof rate, "%.1f", info.icmp_limit);
        out << "ICMP rate limit met: the host sent about " << rate
            << " ICMP errors per second, and the probes that need them were slowed to match.\n";
    }
    if (options.reason) {
        if (const auto hint = os_hint_of(results, host)) out << "OS hint: " << *hint << '\n';  // no nmap line: flagscan's
    }
    const HostListing listing = host_listing(results, host, options);
    write_not_scanned(out, listing, summary.interrupted);
    write_not_shown(out, results, host, listing);
    write_port_table(out, results, host, listing, services, options);
    write_os(out, results, host);
    if (const std::string service_info = service_info_line(results, host, name); !service_info.empty())
        out << service_info << '\n';
    out << '\n';
}

}  // namespace

void write_normal_header(std::ostream& out, const ScanSummary& summary) {
    out << "Starting flagscan " << kVersion << " (" << summary.title << ") at " << summary.started;
    if (!summary.shard.empty()) out << ", " << summary.shard;
    out << "\n";
}

std::uint32_t write_normal_hosts(std::ostream& out, const Results& results, const ServiceTable& services,
                                const ReportOptions& options, const ScanSummary& summary) {
    for (const std::uint32_t host : results.hosts_held()) write_normal_host(out, results, host, services, options, summary);
    return static_cast<std::uint32_t>(hosts_up(results, options));
}

void write_normal_host(std::ostream& out, const Results& results, std::uint32_t host, const ServiceTable& services,
                       const ReportOptions& options, const ScanSummary& summary) {
    if (host_is_reported(results, host, options)) write_host(out, results, host, services, options, summary);
}

void write_normal_end(std::ostream& out, const Results& results, const ReportOptions& options, const ScanSummary& summary) {
    const std::uint64_t up = hosts_up(results, options);
    write_service_detection_note(out, results, static_cast<std::uint32_t>(up));
    write_normal_footer(out, summary.addresses != 0 ? summary.addresses : results.targets().host_count(), up, summary);
}

void write_normal(std::ostream& out, const Results& results, const ServiceTable& services, const ReportOptions& options,
                  const ScanSummary& summary) {
    write_normal_hosts(out, results, services, options, summary);
    write_normal_end(out, results, options, summary);
}

void write_normal_footer(std::ostream& out, std::uint64_t addresses, std::uint64_t up, const ScanSummary& summary) {
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.2f", summary.elapsed_seconds);
    if (summary.interrupted) out << "Scan interrupted: the results above are what was found so far.\n";
    out << "flagscan done: " << addresses << " IP address" << (addresses == 1 ? "" : "es") << " (" << up << " host"
        << (up == 1 ? "" : "s") << " up) scanned in " << elapsed << " seconds\n";
}

}  // namespace flagscan

// The nmap-like normal output: a port table per host with the common state summarised.
#include <cstdio>
#include <string>

#include "flagscan/output/report.hpp"

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

// nmap's line for what is not listed: "Not shown: 997 closed tcp ports (reset), 980
// open|filtered udp ports (no-response)".
void write_not_shown(std::ostream& out, const Results& results, std::uint32_t host, const ReportOptions& options) {
    if (options.open_only) return;
    const auto summarised = summarised_states(results, host, options);
    std::string parts;
    std::uint32_t hidden = 0, decided = 0;
    for (std::size_t lane = 0; lane < summarised.size(); ++lane) {
        const auto& group = summarised[lane];
        decided += group.decided;
        if (group.count == 0) continue;
        hidden += group.count;
        parts += (parts.empty() ? "" : ", ") + std::to_string(group.count) + ' ' + std::string(to_string(group.state)) + ' ' +
                 std::string(protocol_name(results.kind(static_cast<std::uint8_t>(lane)))) + " ports (" +
                 std::string(to_string(group.reason)) + ")";
    }
    if (hidden == 0) return;
    if (hidden == decided && decided == results.targets().slot_count())
        out << "All " << decided << " scanned ports on " << results.targets().hosts().at(host).str() << " are in ignored states.\n";
    out << "Not shown: " << parts << '\n';
}

// "Host is up (0.000120s latency)."; with --reason, how it was judged up, as nmap's "Host is
// up, received arp-response (0.000120s latency)."
void write_host_up(std::ostream& out, const HostResult& info, Reason reason) {
    out << "Host is up";
    if (reason != Reason::none) out << ", received " << to_string(reason);
    if (info.min_rtt >= 0) {
        char latency[48];
        std::snprintf(latency, sizeof latency, "%.6fs", static_cast<double>(info.min_rtt) / kSecond);
        out << " (" << latency << " latency).\n";
    } else {
        out << (reason == Reason::none ? " (user-set: no reply seen).\n" : ".\n");  // nmap: "received user-set."
    }
}

void write_host(std::ostream& out, const Results& results, std::uint32_t host, const ServiceTable& services,
                const ReportOptions& options, const ScanSummary& summary) {
    const auto& info = results.host(host);
    const std::string ip = results.targets().hosts().at(host).str();
    const std::string_view name = host_name(summary, host);
    out << "flagscan scan report for " << (name.empty() ? ip : std::string(name) + " (" + ip + ")") << '\n';
    write_host_up(out, info, options.reason ? host_reason(summary, host) : Reason::none);
    if (info.icmp_limit > 0) {
        char rate[32];
        std::snprintf(rate, sizeof rate, "%.1f", info.icmp_limit);
        out << "ICMP rate limit met: the host sent about " << rate
            << " ICMP errors per second, and the probes that need them were slowed to match.\n";
    }
    write_not_shown(out, results, host, options);
    std::string table;
    for_each_listed_port(results, host, options, [&](std::uint64_t index) {
        const auto& port = results.port(index);
        const Target target = results.targets().at(index);
        const ProbeKind& kind = results.kind(target.lane);
        const std::string proto{protocol_name(kind)};
        table += pad(std::to_string(target.port.value()) + "/" + proto, 9) + ' ' + pad(std::string(to_string(port.state)), 15) + ' ';
        const std::string service{services.name(target.port, kind.protocol == ipproto::udp ? Protocol::udp : Protocol::tcp)};
        table += options.reason ? pad(service, 15) + ' ' + reason_text(port) : service;
        table += '\n';
    });
    if (!table.empty()) {
        out << pad("PORT", 9) << ' ' << pad("STATE", 15) << ' ' << (options.reason ? pad("SERVICE", 15) + " REASON" : "SERVICE")
            << '\n'
            << table;
    }
    out << '\n';
}

}  // namespace

void write_normal_header(std::ostream& out, const ScanSummary& summary) {
    out << "Starting flagscan " << FLAGSCAN_VERSION << " (" << summary.title << ") at " << summary.started << "\n";
}

void write_normal(std::ostream& out, const Results& results, const ServiceTable& services, const ReportOptions& options,
                  const ScanSummary& summary) {
    std::uint32_t up = 0;
    const auto hosts = static_cast<std::uint32_t>(results.targets().host_count());
    for (std::uint32_t host = 0; host < hosts; ++host) {
        if (!host_is_reported(results, host, options)) continue;
        ++up;
        write_host(out, results, host, services, options, summary);
    }
    write_normal_footer(out, summary.addresses != 0 ? summary.addresses : hosts, up, summary);
}

void write_normal_footer(std::ostream& out, std::uint64_t addresses, std::uint64_t up, const ScanSummary& summary) {
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.2f", summary.elapsed_seconds);
    if (summary.interrupted) out << "Scan interrupted: the results above are what was found so far.\n";
    out << "flagscan done: " << addresses << " IP address" << (addresses == 1 ? "" : "es") << " (" << up << " host"
        << (up == 1 ? "" : "s") << " up) scanned in " << elapsed << " seconds\n";
}

}  // namespace flagscan

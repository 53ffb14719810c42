// Host discovery's reports (-sn): the hosts that are up, how each was found, and its latency.
#include <cstdio>
#include <functional>
#include <string>

#include "flagscan/output/report.hpp"

namespace flagscan {
namespace {

std::string seconds(std::uint32_t us) {
    char text[32];
    std::snprintf(text, sizeof text, "%.6fs", static_cast<double>(us) / kSecond);
    return text;
}

std::uint64_t count_up(const Results& discovery) {
    return discovery.hosts_with_open();
}

}  // namespace

std::optional<std::uint64_t> up_evidence(const Results& discovery, std::uint32_t host) {
    std::optional<std::uint64_t> best;
    for (const auto [index, probe] : discovery.targets().slots_of(host)) {
        const auto& slot = discovery.port(index);
        if (slot.state != PortState::open) continue;
        if (!best || (slot.rtt_us != 0 && (discovery.port(*best).rtt_us == 0 || slot.rtt_us < discovery.port(*best).rtt_us)))
            best = index;
    }
    return best;
}

void write_discovery_normal_host(std::ostream& out, const Results& discovery, std::uint32_t host,
                                 const ScanSummary& summary) {
    const auto evidence = up_evidence(discovery, host);
    if (!evidence) return;
    const Target target = discovery.targets().at(*evidence);
    const PortResult slot = discovery.port(*evidence);
    const ProbeKind& kind = discovery.kind(target.lane);
    const std::string ip = discovery.targets().address_text(target.ip);
    const std::string_view name = host_name(summary, host);
    out << "flagscan scan report for " << (name.empty() ? ip : std::string(name) + " (" + ip + ")") << '\n';
    out << "Host is up, received " << host_reason_name(discovery.targets(), slot.reason);
    if (slot.ttl != 0) out << " ttl " << int{slot.ttl};
    if (slot.reason != Reason::localhost_response) out << " to " << ping_method_name(discovery.targets(), kind);
    if (slot.reason != Reason::localhost_response && uses_ports(kind)) out << ' ' << target.port.value();
    if (slot.rtt_us != 0) out << " (" << seconds(slot.rtt_us) << " latency)";
    out << ".\n";
}

void write_discovery_normal_hosts(std::ostream& out, const Results& discovery, const ScanSummary& summary) {
    for (const std::uint32_t host : discovery.hosts_held()) write_discovery_normal_host(out, discovery, host, summary);
}

void write_discovery_normal(std::ostream& out, const Results& discovery, const ScanSummary& summary) {
    if (discovery.keeps() != Keep::listed) write_discovery_normal_hosts(out, discovery, summary);  // else streamed
    write_normal_footer(out, discovery.targets().host_count(), count_up(discovery), summary);
}

void write_discovery_jsonl_host(std::ostream& out, const Results& discovery, std::uint32_t host, const ScanSummary& summary) {
    const auto evidence = up_evidence(discovery, host);
    if (!evidence) return;
    const Target target = discovery.targets().at(*evidence);
    const PortResult& slot = discovery.port(*evidence);
    const ProbeKind& kind = discovery.kind(target.lane);
    out << R"({"ip":")" << discovery.targets().address_text(target.ip) << '"';
    if (const auto name = host_name(summary, host); !name.empty()) out << R"(,"hostname":")" << json_string(name) << '"';
    out << R"(,"status":"up","reason":")" << host_reason_name(discovery.targets(), slot.reason) << R"(","method":")" << json_string(ping_method_name(discovery.targets(), kind)) << '"';
    if (uses_ports(kind)) out << R"(,"port":)" << target.port.value();
    if (slot.ttl != 0) out << R"(,"ttl":)" << int{slot.ttl};
    if (slot.rtt_us != 0) out << R"(,"rtt_us":)" << slot.rtt_us;
    out << "}\n";
}

void write_discovery_jsonl(std::ostream& out, const Results& discovery, const ScanSummary& summary) {
    for (const std::uint32_t host : discovery.hosts_held()) write_discovery_jsonl_host(out, discovery, host, summary);
}

}  // namespace flagscan

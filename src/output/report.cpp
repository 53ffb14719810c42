// What a report lists: shared by every output format so they always agree.
#include "flagscan/output/report.hpp"

#include <algorithm>
#include <array>

namespace flagscan {

std::string_view host_name(const ScanSummary& summary, std::uint32_t host) {
    return host < summary.host_names.size() ? std::string_view{summary.host_names[host]} : std::string_view{};
}

Reason host_reason(const ScanSummary& summary, std::uint32_t host) {
    return host < summary.host_reasons.size() ? summary.host_reasons[host] : Reason::none;
}

bool host_is_reported(const Results& results, std::uint32_t host, const ReportOptions& options) {
    return options.hosts_assumed_up || results.host(host).replies > 0;
}

std::string_view protocol_name(const ProbeKind& kind) {
    switch (kind.protocol) {
        case ipproto::tcp: return "tcp";
        case ipproto::udp: return "udp";
        case ipproto::icmp: return "icmp";
        default: return "ip";
    }
}

constexpr std::uint32_t kListedUpTo = 25;

std::vector<Summarised> summarised_states(const Results& results, std::uint32_t host, const ReportOptions& options) {
    const auto& targets = results.targets();
    const std::uint64_t slots = targets.slot_count();
    std::vector<std::array<std::uint32_t, kPortStateCount>> counts(targets.lane_count());
    for (std::uint64_t i = 0; i < slots; ++i) ++counts[targets.slots()[i].lane][static_cast<int>(results.port(host * slots + i).state)];
    std::vector<Summarised> out(counts.size());
    for (std::size_t lane = 0; lane < counts.size(); ++lane) {
        // Never `unscanned` (ports without a verdict are neither listed nor summarised) and never
        // `open`: as in nmap, open ports are always listed.
        int best = static_cast<int>(PortState::closed);
        for (int s = best + 1; s < kPortStateCount; ++s) {
            if (counts[lane][s] > counts[lane][best]) best = s;
        }
        out[lane].decided = static_cast<std::uint32_t>(slots) - counts[lane][0];
        out[lane].state = static_cast<PortState>(best);
        // nmap's rule: a state is summarised only when more than 25 ports are in it.
        out[lane].count = options.all_ports || counts[lane][best] <= kListedUpTo ? 0 : counts[lane][best];
    }
    std::vector<std::array<std::uint32_t, 32>> reasons(counts.size());
    for (std::uint64_t i = 0; i < slots; ++i) {
        const auto lane = targets.slots()[i].lane;
        const auto& port = results.port(host * slots + i);
        if (port.state == out[lane].state) ++reasons[lane][static_cast<std::size_t>(port.reason) % 32];
    }
    for (std::size_t lane = 0; lane < counts.size(); ++lane)
        out[lane].reason = static_cast<Reason>(std::max_element(reasons[lane].begin(), reasons[lane].end()) - reasons[lane].begin());
    return out;
}

void for_each_listed_port(const Results& results, std::uint32_t host, const ReportOptions& options,
                          const std::function<void(std::uint64_t index)>& visit) {
    const auto& targets = results.targets();
    const std::uint64_t slots = targets.slot_count();
    const auto summarised = summarised_states(results, host, options);
    for (const std::uint32_t i : targets.report_order()) {
        const std::uint64_t index = host * slots + i;
        const PortState state = results.port(index).state;
        const auto& lane = summarised[targets.slots()[i].lane];
        if (state == PortState::unscanned) continue;  // interrupted, or a replay that never probed it
        if (options.open_only && state != PortState::open) continue;
        if (!options.open_only && lane.count > 0 && state == lane.state) continue;
        visit(index);
    }
}

}  // namespace flagscan

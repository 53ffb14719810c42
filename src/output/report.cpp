// What a report lists: shared by every output format so they always agree.
#include "flagscan/output/report.hpp"

#include <array>

namespace flagscan {

std::string_view host_name(const ScanSummary& summary, std::uint32_t host) {
    return host < summary.host_names.size() ? std::string_view{summary.host_names[host]} : std::string_view{};
}

bool host_is_reported(const Results& results, std::uint32_t host, const ReportOptions& options) {
    return options.hosts_assumed_up || results.host(host).replies > 0;
}

void for_each_listed_port(const Results& results, std::uint32_t host, const ReportOptions& options,
                          const std::function<void(std::uint64_t index)>& visit) {
    const std::uint64_t ports = results.targets().ports().size();
    const PortState summarised = results.most_common_state(host);
    for (std::uint64_t i = 0; i < ports; ++i) {
        const std::uint64_t index = host * ports + i;
        const PortState state = results.port(index).state;
        if (state == PortState::unscanned) continue;  // interrupted, or a replay that never probed it
        if (options.open_only && state != PortState::open) continue;
        if (!options.all_ports && !options.open_only && state == summarised) continue;
        visit(index);
    }
}

Reason most_common_reason(const Results& results, std::uint32_t host, PortState state) {
    std::array<std::uint32_t, 32> counts{};
    const std::uint64_t ports = results.targets().ports().size();
    for (std::uint64_t i = 0; i < ports; ++i) {
        const auto& port = results.port(host * ports + i);
        if (port.state == state) ++counts[static_cast<std::size_t>(port.reason) % counts.size()];
    }
    std::size_t best = 0;
    for (std::size_t r = 1; r < counts.size(); ++r) {
        if (counts[r] > counts[best]) best = r;
    }
    return static_cast<Reason>(best);
}

}  // namespace flagscan

// Storage of verdicts and per-host tallies.
#include "flagscan/engine/results.hpp"

#include <utility>

namespace flagscan {

Results::Results(const TargetSet& targets, std::vector<const ProbeKind*> kinds)
    : targets_(&targets), kinds_(std::move(kinds)), ports_(targets.size()), hosts_(targets.host_count()) {
    for (auto& host : hosts_) host.counts[static_cast<int>(PortState::unscanned)] = static_cast<std::uint32_t>(targets.slot_count());
}

void Results::set(std::uint64_t index, const PortResult& result) {
    auto& slot = ports_[index];
    auto& counts = hosts_[index / targets_->slot_count()].counts;
    if (slot.state == PortState::unscanned) ++decided_;
    --counts[static_cast<int>(slot.state)];
    ++counts[static_cast<int>(result.state)];
    slot = result;
}

void Results::note_reply(std::uint32_t host_index, Micros rtt) {
    auto& host = hosts_[host_index];
    ++host.replies;
    if (rtt >= 0 && (host.min_rtt < 0 || rtt < host.min_rtt)) host.min_rtt = rtt;
}

void Results::restore_host(std::uint32_t host_index, const HostResult& evidence) {
    auto& host = hosts_[host_index];
    host.replies = evidence.replies;
    host.min_rtt = evidence.min_rtt;
    host.icmp_limit = evidence.icmp_limit;
}

}  // namespace flagscan

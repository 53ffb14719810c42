// Storage of verdicts and per-host tallies.
#include "flagscan/engine/results.hpp"

#include <utility>

namespace flagscan {

Results::Results(const TargetSet& targets, std::vector<const ProbeKind*> kinds)
    : targets_(&targets), kinds_(std::move(kinds)), ports_(targets.size()), hosts_(targets.host_count()) {
    for (auto& host : hosts_) host.counts[static_cast<int>(PortState::unscanned)] = static_cast<std::uint32_t>(targets.slot_count());
    totals_[static_cast<int>(PortState::unscanned)] = targets.size();
}

void Results::set(std::uint64_t index, const PortResult& result) {
    auto& slot = ports_[index];
    const auto host = static_cast<std::uint32_t>(index / targets_->slot_count());
    auto& counts = hosts_[host].counts;
    const auto unscanned = static_cast<int>(PortState::unscanned);
    if (slot.state == PortState::unscanned) ++decided_;
    --counts[static_cast<int>(slot.state)];
    ++counts[static_cast<int>(result.state)];
    --totals_[static_cast<int>(slot.state)];
    ++totals_[static_cast<int>(result.state)];
    if (slot.state == PortState::unscanned && result.state != PortState::unscanned && counts[unscanned] == 0)
        finished_.push_back(host);
    slot = result;
}

std::vector<std::uint32_t> Results::take_finished_hosts() {
    std::vector<std::uint32_t> taken;
    taken.swap(finished_);
    return taken;
}

void Results::note_reply(std::uint32_t host_index, Micros rtt) {
    auto& host = hosts_[host_index];
    ++host.replies;
    if (rtt >= 0 && (host.min_rtt < 0 || rtt < host.min_rtt)) host.min_rtt = rtt;
}

}  // namespace flagscan

// Storage of verdicts and per-host tallies.
#include "flagscan/engine/results.hpp"

namespace flagscan {

Results::Results(const TargetSet& targets)
    : targets_(&targets), ports_(targets.size()), hosts_(targets.host_count()) {
    for (auto& host : hosts_) host.counts[static_cast<int>(PortState::unscanned)] = static_cast<std::uint32_t>(targets.ports().size());
}

void Results::set(std::uint64_t index, const PortResult& result) {
    auto& slot = ports_[index];
    auto& counts = hosts_[index / targets_->ports().size()].counts;
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

PortState Results::most_common_state(std::uint32_t host_index) const {
    const auto& counts = hosts_[host_index].counts;
    int best = 1;  // never `unscanned`: ports without a verdict are neither listed nor summarised
    for (int s = 2; s < kPortStateCount; ++s) {
        if (counts[s] > counts[best]) best = s;
    }
    return static_cast<PortState>(best);
}

}  // namespace flagscan

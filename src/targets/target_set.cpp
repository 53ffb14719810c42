// TargetSet: maps one scan index to (host, port) and back to a port's slot in constant time.
#include "flagscan/targets/target_set.hpp"

#include <utility>

namespace flagscan {

// Duplicate ports are dropped (the first one keeps its place), so port_index stays a bijection.
TargetSet::TargetSet(AddressSet hosts, std::vector<Port> ports)
    : hosts_(std::move(hosts)), ports_(std::move(ports)), port_slot_(65536, -1) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < ports_.size(); ++i) {
        int& slot = port_slot_[ports_[i].value()];
        if (slot >= 0) continue;
        slot = static_cast<int>(kept);
        ports_[kept++] = ports_[i];
    }
    ports_.resize(kept);
}

// index = host_index * ports + port_index: consecutive indices walk one host's ports.
Target TargetSet::at(std::uint64_t index) const {
    if (index >= size()) return Target{};
    const std::uint64_t port_count = ports_.size();
    const std::uint64_t host_index = index / port_count;
    return Target{hosts_.at(host_index), ports_[index % port_count], static_cast<std::uint32_t>(host_index)};
}

}  // namespace flagscan

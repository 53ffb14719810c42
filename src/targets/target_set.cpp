// TargetSet: maps one scan index to (host, slot) and back to a slot's position in constant time.
#include "flagscan/targets/target_set.hpp"

#include <algorithm>
#include <utility>

namespace flagscan {
namespace {

std::vector<Slot> lane_zero(const std::vector<Port>& ports) {
    std::vector<Slot> slots;
    slots.reserve(ports.size());
    for (const Port port : ports) slots.push_back(Slot{port, 0});
    return slots;
}

}  // namespace

TargetSet::TargetSet(AddressSet hosts, std::vector<Port> ports) : TargetSet(std::move(hosts), lane_zero(ports)) {}

// Duplicate (lane, port) pairs are dropped (the first one keeps its place), so slot_index stays
// a bijection. Lanes beyond kMaxLanes are dropped too: no scan has that many probe kinds.
TargetSet::TargetSet(AddressSet hosts, std::vector<Slot> slots) : hosts_(std::move(hosts)), slots_(std::move(slots)) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        const Slot slot = slots_[i];
        if (slot.lane >= kMaxLanes) continue;
        if (slot.lane >= slot_of_.size()) slot_of_.resize(slot.lane + 1u);
        auto& table = slot_of_[slot.lane];
        if (table.empty()) table.assign(65536, -1);
        int& position = table[slot.port.value()];
        if (position >= 0) continue;
        position = static_cast<int>(kept);
        slots_[kept++] = slot;
    }
    slots_.resize(kept);
    report_order_.resize(kept);
    for (std::uint32_t i = 0; i < kept; ++i) report_order_[i] = i;
    std::sort(report_order_.begin(), report_order_.end(), [this](std::uint32_t a, std::uint32_t b) {
        return std::pair{slots_[a].lane, slots_[a].port} < std::pair{slots_[b].lane, slots_[b].port};
    });
}

// index = host_index * slots + slot_index: consecutive indices walk one host's slots.
Target TargetSet::at(std::uint64_t index) const {
    if (index >= size()) return Target{};
    const std::uint64_t slot_count = slots_.size();
    const std::uint64_t host_index = index / slot_count;
    const Slot& slot = slots_[index % slot_count];
    return Target{hosts_.at(host_index), slot.port, static_cast<std::uint32_t>(host_index), slot.lane};
}

}  // namespace flagscan

// TargetSet: maps one scan index to (host, slot) and back to a slot's position in constant time.
#include "flagscan/targets/target_set.hpp"

#include <algorithm>
#include <tuple>
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
    index_slots();
}

void TargetSet::index_slots() {
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

namespace {

auto slot_order(const Slot& slot) { return std::pair{slot.lane, slot.port.value()}; }

}  // namespace

// Sorted by host, then lane and port, duplicates dropped: the per-host runs become host_slots_
// with their starts, and their union (by lane, then port) slots().
TargetSet TargetSet::sparse(std::vector<ProbedSlot> probed) {
    std::erase_if(probed, [](const ProbedSlot& p) { return p.slot.lane >= kMaxLanes; });
    const auto order = [](const ProbedSlot& p) { return std::tuple{p.host.value(), p.slot.lane, p.slot.port.value()}; };
    std::ranges::sort(probed, {}, order);
    probed.erase(std::unique(probed.begin(), probed.end(), [&](const auto& a, const auto& b) { return order(a) == order(b); }),
                 probed.end());
    TargetSet set;
    set.sparse_ = true;
    set.host_slots_.reserve(probed.size());
    for (std::size_t i = 0; i < probed.size(); ++i) {
        if (i == 0 || probed[i].host != probed[i - 1].host) {
            set.hosts_.add(probed[i].host);
            set.host_start_.push_back(i);
        }
        set.host_slots_.push_back(probed[i].slot);
        set.slots_.push_back(probed[i].slot);
    }
    set.host_start_.push_back(probed.size());
    for (std::size_t h = 0; h + 1 < set.host_start_.size(); ++h)
        set.max_host_slots_ = std::max(set.max_host_slots_, set.host_start_[h + 1] - set.host_start_[h]);
    std::ranges::sort(set.slots_, {}, slot_order);
    set.slots_.erase(std::unique(set.slots_.begin(), set.slots_.end(),
                                 [](const Slot& a, const Slot& b) { return slot_order(a) == slot_order(b); }),
                     set.slots_.end());
    set.index_slots();
    return set;
}

std::uint32_t TargetSet::host_of(std::uint64_t index) const {
    if (!sparse_) return static_cast<std::uint32_t>(index / slots_.size());
    const auto after = std::upper_bound(host_start_.begin(), host_start_.end(), index);
    return static_cast<std::uint32_t>(after - host_start_.begin() - 1);
}

std::optional<std::uint64_t> TargetSet::index_of(std::uint64_t host, std::uint8_t lane, Port port) const {
    if (host >= hosts_.size()) return std::nullopt;
    if (!sparse_) {
        const int slot = slot_index(lane, port);
        if (slot < 0) return std::nullopt;
        return host * slots_.size() + static_cast<std::uint64_t>(slot);
    }
    const auto first = host_slots_.begin() + static_cast<std::ptrdiff_t>(host_start_[host]);
    const auto last = host_slots_.begin() + static_cast<std::ptrdiff_t>(host_start_[host + 1]);
    const auto wanted = std::pair{lane, port.value()};
    const auto it = std::lower_bound(first, last, wanted, [](const Slot& s, const auto& w) { return slot_order(s) < w; });
    if (it == last || slot_order(*it) != wanted) return std::nullopt;
    return static_cast<std::uint64_t>(it - host_slots_.begin());
}

PlacedSlot TargetSet::placed(std::uint64_t host, std::uint64_t k) const {
    if (sparse_) return PlacedSlot{host_start_[host] + k, host_slots_[host_start_[host] + k]};
    const std::uint32_t i = report_order_[k];
    return PlacedSlot{host * slots_.size() + i, slots_[i]};
}

// Dense: index = host_index * slots + slot_index, so consecutive indices walk one host's slots.
Target TargetSet::at(std::uint64_t index) const {
    if (index >= size()) return Target{};
    if (sparse_) {
        const std::uint32_t host = host_of(index);
        return Target{hosts_.at(host), host_slots_[index].port, host, host_slots_[index].lane};
    }
    const std::uint64_t host = index / slots_.size();  // one division for both (--offline's hot path)
    const Slot& slot = slots_[index - host * slots_.size()];
    return Target{hosts_.at(host), slot.port, static_cast<std::uint32_t>(host), slot.lane};
}

}  // namespace flagscan

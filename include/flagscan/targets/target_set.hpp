// TargetSet: one index space over host x slot, so the whole scan is walked by a single counter.
#pragma once

#include <cstdint>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/targets/address_set.hpp"

namespace flagscan {

// One probe a scan sends to every host: a port and the lane (which of the scan's probe kinds,
// e.g. 0 = SYN and 1 = UDP for -sS -sU, or one lane per ping method for host discovery).
struct Slot {
    Port port;
    std::uint8_t lane = 0;
};

struct Target {
    Ipv4 ip;
    Port port;
    std::uint32_t host_index = 0;  // position of ip in the AddressSet
    std::uint8_t lane = 0;
};

class TargetSet {
public:
    static constexpr std::uint8_t kMaxLanes = 8;

    TargetSet(AddressSet hosts, std::vector<Port> ports);  // every port in lane 0
    TargetSet(AddressSet hosts, std::vector<Slot> slots);

    // Index layout: index = host_index * slots + slot_index.
    std::uint64_t size() const { return hosts_.size() * slots_.size(); }
    Target at(std::uint64_t index) const;
    std::uint8_t lane_at(std::uint64_t index) const { return slots_[index % slots_.size()].lane; }  // O(1)
    std::uint64_t host_count() const { return hosts_.size(); }
    const AddressSet& hosts() const { return hosts_; }
    const std::vector<Slot>& slots() const { return slots_; }
    std::uint64_t slot_count() const { return slots_.size(); }
    std::uint8_t lane_count() const { return static_cast<std::uint8_t>(slot_of_.size()); }
    // Position of (lane, port) in slots(), or -1 when it is not scanned. O(1).
    int slot_index(std::uint8_t lane, Port port) const {
        return lane < slot_of_.size() ? slot_of_[lane][port.value()] : -1;
    }
    int port_index(Port port) const { return slot_index(0, port); }  // lane 0
    // Slot positions ordered by lane, then port: the order reports list ports in (nmap's),
    // whatever order -p or --top-ports gave them.
    const std::vector<std::uint32_t>& report_order() const { return report_order_; }

private:
    AddressSet hosts_;
    std::vector<Slot> slots_;
    std::vector<std::vector<int>> slot_of_;  // per lane, 65536 entries
    std::vector<std::uint32_t> report_order_;
};

}  // namespace flagscan

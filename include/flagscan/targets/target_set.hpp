// TargetSet: one index space over host x port, so the whole scan is walked by a single counter.
#pragma once

#include <cstdint>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/targets/address_set.hpp"

namespace flagscan {

struct Target {
    Ipv4 ip;
    Port port;
    std::uint32_t host_index;  // position of ip in the AddressSet
};

class TargetSet {
public:
    TargetSet(AddressSet hosts, std::vector<Port> ports);

    // Index layout: index = host_index * ports + port_index.
    std::uint64_t size() const { return hosts_.size() * ports_.size(); }
    Target at(std::uint64_t index) const;
    std::uint64_t host_count() const { return hosts_.size(); }
    const AddressSet& hosts() const { return hosts_; }
    const std::vector<Port>& ports() const { return ports_; }
    // Position of a port in ports(), or -1 when it is not scanned. O(1).
    int port_index(Port port) const { return port_slot_[port.value()]; }

private:
    AddressSet hosts_;
    std::vector<Port> ports_;
    std::vector<int> port_slot_;  // 65536 entries
};

}  // namespace flagscan

// TargetSet: one index space over host x slot, so the whole scan is walked by a single counter.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flagscan/net/address_book.hpp"
#include "flagscan/net/address_text.hpp"
#include "flagscan/net/ipv4.hpp"
#include "flagscan/targets/address_set.hpp"

namespace flagscan {

// One probe a scan sends to every host: a port and the lane (which of the scan's probe kinds,
// e.g. 0 = SYN and 1 = UDP for -sS -sU, or one lane per ping method for host discovery).
struct Slot {
    Port port;
    std::uint8_t lane = 0;
};

// A slot one host was probed on, as a capture shows it (a replay's target set is sparse).
struct ProbedSlot {
    Ipv4 host;
    Slot slot;
};

// A slot of one host with its scan index.
struct PlacedSlot {
    std::uint64_t index;
    Slot slot;
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
    TargetSet(AddressSet hosts, std::vector<Slot> slots);   // every slot of every host (dense)
    // Only the slots each host was probed on (sparse): what a replay of a capture needs, where
    // masscan sends 20,000 hosts one random port each (dense: 20,000 x 20,000 slots).
    static TargetSet sparse(std::vector<ProbedSlot> probed);

    // Index layout, dense: index = host_index * slots + slot_index. Sparse: each host's slots,
    // in report order, one after the other. Either way one host's indices are consecutive.
    std::uint64_t size() const { return sparse_ ? host_slots_.size() : hosts_.size() * slots_.size(); }
    Target at(std::uint64_t index) const;
    std::uint8_t lane_at(std::uint64_t index) const {  // O(1)
        return sparse_ ? host_slots_[index].lane : slots_[index % slots_.size()].lane;
    }
    Slot slot_at(std::uint64_t index) const {  // O(1)
        return sparse_ ? host_slots_[index] : slots_[index % slots_.size()];
    }
    std::uint32_t host_of(std::uint64_t index) const;  // dense O(1), sparse O(log hosts)
    std::uint64_t first_index_of(std::uint64_t host) const {  // host's indices: [this, this + slot_count_of(host))
        return sparse_ ? host_start_[host] : host * slots_.size();
    }
    // The index of (host, lane, port), or nullopt when that host was not scanned there.
    std::optional<std::uint64_t> index_of(std::uint64_t host, std::uint8_t lane, Port port) const;
    std::uint64_t host_count() const { return hosts_.size(); }
    const AddressSet& hosts() const { return hosts_; }
    // An IPv6 scan: its hosts are AddressBook keys, and `book` holds their addresses (shared with
    // the probe builder and the reply decoder of the same scan). Null for an IPv4 scan.
    void set_address_book(std::shared_ptr<const AddressBook> book) { book_ = std::move(book); }
    const AddressBook* address_book() const { return book_.get(); }
    bool ipv6() const { return book_ != nullptr; }
    // How reports write an address of the scan: an IPv6 host's own address (RFC 5952), else the IPv4.
    std::string address_text(Ipv4 ip) const { return flagscan::address_text(book_.get(), ip); }
    std::string host_text(std::uint64_t host) const { return address_text(hosts_.at(host)); }
    // Every (lane, port) scanned on some host, in the order given (sparse: lane, then port).
    const std::vector<Slot>& slots() const { return slots_; }
    std::uint64_t slot_count() const { return slots_.size(); }
    std::uint8_t lane_count() const { return static_cast<std::uint8_t>(slot_of_.size()); }
    // Position of (lane, port) in slots(), or -1 when no host is scanned there. O(1). In a dense
    // set, host h's index of it is h * slot_count() + that position (index_of says it for both).
    int slot_index(std::uint8_t lane, Port port) const {
        return lane < slot_of_.size() ? slot_of_[lane][port.value()] : -1;
    }
    int port_index(Port port) const { return slot_index(0, port); }  // lane 0
    // How many slots HOST has (dense: every slot).
    std::uint64_t slot_count_of(std::uint64_t host) const {
        return sparse_ ? host_start_[host + 1] - host_start_[host] : slots_.size();
    }
    // The largest slot_count_of(host).
    std::uint64_t max_slot_count() const { return sparse_ ? max_host_slots_ : slots_.size(); }

    // One host's slots with their indices, ordered by lane, then port: the order reports list
    // ports in (nmap's), whatever order -p or --top-ports gave them.
    class HostSlots {
    public:
        class Iterator {
        public:
            PlacedSlot operator*() const { return set_->placed(host_, k_); }
            Iterator& operator++() { return ++k_, *this; }
            bool operator==(const Iterator& other) const { return k_ == other.k_; }

        private:
            friend class HostSlots;
            Iterator(const TargetSet* set, std::uint64_t host, std::uint64_t k) : set_(set), host_(host), k_(k) {}
            const TargetSet* set_;
            std::uint64_t host_;
            std::uint64_t k_;
        };
        Iterator begin() const { return {set_, host_, 0}; }
        Iterator end() const { return {set_, host_, set_->slot_count_of(host_)}; }
        std::uint64_t size() const { return set_->slot_count_of(host_); }

    private:
        friend class TargetSet;
        HostSlots(const TargetSet* set, std::uint64_t host) : set_(set), host_(host) {}
        const TargetSet* set_;
        std::uint64_t host_;
    };
    HostSlots slots_of(std::uint64_t host) const { return HostSlots{this, host}; }
    // Positions in slots() ordered by lane, then port.
    const std::vector<std::uint32_t>& report_order() const { return report_order_; }

private:
    TargetSet() = default;
    void index_slots();  // slot_of_ and report_order_ from slots_, duplicates dropped
    PlacedSlot placed(std::uint64_t host, std::uint64_t k) const;

    AddressSet hosts_;
    std::shared_ptr<const AddressBook> book_;
    std::vector<Slot> slots_;
    std::vector<std::vector<int>> slot_of_;  // per lane, 65536 entries
    std::vector<std::uint32_t> report_order_;
    bool sparse_ = false;
    std::vector<std::uint64_t> host_start_;  // sparse: host h's slots are host_slots_[host_start_[h] .. [h + 1])
    std::vector<Slot> host_slots_;           // sparse: per host, by lane then port
    std::uint64_t max_host_slots_ = 0;
};

}  // namespace flagscan

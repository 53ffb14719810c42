// AddressBook: IPv6 addresses under 32-bit keys, so that an IPv6 scan runs through the IPv4-keyed engine.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/ipv6.hpp"
#include "flagscan/net/result.hpp"

namespace flagscan {

// Why keys: the engine, the correlator, the rule tables and Results name a host by a 32-bit
// address, which is what lets the whole IPv4 space live in flat memory. An IPv6 scan keeps that
// core as it is and translates at its two ends, as a stateless IPv4/IPv6 translator does
// (RFC 7915): each IPv6 address the scan meets (targets, our source, and in a replay every
// address the capture shows) is given a key, the probe builder writes the key's IPv6 address on
// the wire, and a captured IPv6 reply is read back with its addresses turned into keys.
//
// The keys are the addresses of 0.0.0.0/8, "this network" (RFC 1122 3.2.1.3, RFC 6890): no
// IPv4 packet is sent to one, and a capture's IPv4 traffic never carries one as a target, so a
// key never stands for an IPv4 host of the same scan. 0.0.0.0 itself is not a key.
class AddressBook {
public:
    static constexpr std::uint32_t kFirstKey = 1;
    static constexpr std::uint32_t kLastKey = 0x00ff'ffff;
    // The most addresses one book holds (2^24 - 1: every address of 0.0.0.0/8 but 0.0.0.0).
    static constexpr std::uint64_t kCapacity = kLastKey;

    static constexpr bool is_key(Ipv4 ip) { return ip.value() >= kFirstKey && ip.value() <= kLastKey; }

    // The addresses of `range` take the next keys, in order. An error when they would pass
    // kCapacity, or when part of the range is in the book already (targets come as disjoint ranges).
    Result<Ipv4> add(Ipv6Range range);
    // The key of `address`, a new one when it is not in the book yet; nullopt when the book is full.
    std::optional<Ipv4> key_for(Ipv6 address);

    std::optional<Ipv4> key_of(Ipv6 address) const;  // O(log ranges)
    std::optional<Ipv6> address_of(Ipv4 key) const;  // O(log ranges)
    // How a report writes `ip`: a key as its IPv6 address (RFC 5952), any other address as itself.
    std::string text(Ipv4 ip) const;

    std::uint64_t size() const { return next_key_ - kFirstKey; }
    bool empty() const { return size() == 0; }

private:
    struct Entry {
        Ipv6Range range;
        std::uint32_t first_key = 0;
    };
    std::optional<std::size_t> entry_holding(Ipv6 address) const;
    std::vector<Entry> entries_;                 // in key order
    std::map<Ipv6, std::size_t> by_address_;     // range.first -> position in entries_
    std::uint32_t next_key_ = kFirstKey;
};

}  // namespace flagscan

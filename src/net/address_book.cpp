// AddressBook: IPv6 addresses under 32-bit keys (see the header for why).
#include "flagscan/net/address_book.hpp"

#include <algorithm>

namespace flagscan {

std::optional<std::size_t> AddressBook::entry_holding(Ipv6 address) const {
    auto after = by_address_.upper_bound(address);
    if (after == by_address_.begin()) return std::nullopt;
    const std::size_t at = std::prev(after)->second;
    if (!entries_[at].range.contains(address)) return std::nullopt;
    return at;
}

Result<Ipv4> AddressBook::add(Ipv6Range range) {
    const std::uint64_t count = range.host_count();
    if (count > kCapacity - size())
        return Error{"too many IPv6 addresses: one scan walks at most " + std::to_string(kCapacity) +
                     " (2^24 - 1); " + range.first.str() + " - " + range.last.str() + " holds more than the rest"};
    auto after = by_address_.upper_bound(range.last);
    if (after != by_address_.begin() && entries_[std::prev(after)->second].range.last >= range.first)
        return Error{"IPv6 range " + range.first.str() + " - " + range.last.str() + " overlaps one given before"};
    const Ipv4 first{next_key_};
    by_address_.emplace(range.first, entries_.size());
    entries_.push_back(Entry{range, next_key_});
    next_key_ += static_cast<std::uint32_t>(count);
    return first;
}

std::optional<Ipv4> AddressBook::key_for(Ipv6 address) {
    if (auto known = key_of(address)) return known;
    auto added = add(Ipv6Range{address, address});
    if (!added) return std::nullopt;
    return *added;
}

std::optional<Ipv4> AddressBook::key_of(Ipv6 address) const {
    const auto at = entry_holding(address);
    if (!at) return std::nullopt;
    const Entry& entry = entries_[*at];
    // Within one entry, an offset below kCapacity: the low half's difference is exact.
    const std::uint64_t offset = address.low() - entry.range.first.low();
    return Ipv4{entry.first_key + static_cast<std::uint32_t>(offset)};
}

std::optional<Ipv6> AddressBook::address_of(Ipv4 key) const {
    if (!is_key(key) || key.value() >= next_key_) return std::nullopt;
    auto after = std::upper_bound(entries_.begin(), entries_.end(), key.value(),
                                  [](std::uint32_t k, const Entry& e) { return k < e.first_key; });
    const Entry& entry = *std::prev(after);
    return entry.range.first.plus(key.value() - entry.first_key);
}

std::string AddressBook::text(Ipv4 ip) const {
    if (auto address = address_of(ip)) return address->str();
    return ip.str();
}

}  // namespace flagscan

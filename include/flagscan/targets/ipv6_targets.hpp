// An IPv6 scan's targets: its expressions parsed into sorted, disjoint ranges, and their AddressBook keys.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/address_book.hpp"
#include "flagscan/net/ipv6.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/targets/address_set.hpp"

namespace flagscan {

// IPv6 addresses as sorted, disjoint, non-adjacent inclusive ranges (what AddressSet is for IPv4;
// a scan holds at most AddressBook::kCapacity of them, so a plain vector serves).
using Ipv6Ranges = std::vector<Ipv6Range>;

// `ranges` sorted, with those that overlap or touch joined: O(n log n).
Ipv6Ranges merge_ranges(Ipv6Ranges ranges);
// The addresses of `from` that are not in `cut` (both sorted and disjoint): one sweep.
Ipv6Ranges subtract_ranges(const Ipv6Ranges& from, const Ipv6Ranges& cut);
// How many addresses, saturating at UINT64_MAX.
std::uint64_t address_count(const Ipv6Ranges& ranges);

// True when the expression names IPv6 addresses: it has a ':' (no IPv4 syntax and no host name
// has one). What makes a scan IPv6 without -6, as an IPv6 target does.
bool names_ipv6(std::string_view expression);

// One target expression of an IPv6 scan into `out` (ascending):
//   "fd00::1"            one address, in any RFC 4291 2.2 form ("::ffff:10.0.0.1" too)
//   "fd00:1::/120"       a prefix (RFC 4291 2.3); host bits may be set, as nmap reads a CIDR
//   "fd00::1-fd00::ff"   a range of two whole addresses (masscan's; nmap has no IPv6 ranges)
//   "host.example"       a name, resolved once to its IPv6 addresses (AAAA); the first is used, as nmap does
//   "host.example/120"   a name with a prefix
// Errors are one line naming the expression: IPv4 syntax ("cannot mix IPv4 and IPv6 targets in
// one scan: run two scans"), more addresses than AddressBook::kCapacity ("... one IPv6 scan walks
// at most 16777215 ..."), a malformed address. False, and nothing added, for a
// well-formed name that does not resolve.
Result<bool> expand_target6(std::string_view expression, const Resolver6& resolve, Ipv6Ranges& out);

// What a list of IPv6 targets gave: its addresses (sorted, disjoint), and a line per name that
// did not resolve, as parse_target_list's (nmap warns about them and skips them).
struct ParsedTargets6 {
    Ipv6Ranges addresses;
    std::vector<std::string> unresolved;
};

// All expressions; a bad one fails the whole list with a line naming it and, when it came from
// a file, the file and line ("targets.txt line 3: bad target ...").
Result<ParsedTargets6> parse_target_list6(std::span<const TargetExpression> expressions, const Resolver6& resolve);

// An IPv6 scan's hosts as the engine walks them: the book that holds the targets' addresses under
// keys 0.0.0.1, 0.0.0.2, ... in address order, and the set of those keys (TargetSet's hosts).
struct BookedTargets {
    std::shared_ptr<AddressBook> book;
    AddressSet keys;
};

// The targets (sorted, disjoint) put in a new book, each range under consecutive keys. An error
// when they hold more than AddressBook::kCapacity addresses in all.
Result<BookedTargets> book_targets(const Ipv6Ranges& targets);

}  // namespace flagscan

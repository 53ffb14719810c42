// The reserved and special-purpose IPv4 blocks (RFC 6890) a wide scan leaves out unless they are named.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/result.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/targets/ipv6_targets.hpp"

namespace flagscan {

// One block of the IANA IPv4 Special-Purpose Address Registry (RFC 6890, section 2.2.2, with
// the RFCs that assigned each block), or multicast (RFC 5771).
struct ReservedBlock {
    Ipv4Range range;
    std::string_view cidr;     // "10.0.0.0/8"
    std::string_view purpose;  // "private-use (RFC 1918)"
    // Multicast and the limited broadcast address are never sent a unicast probe: they are left
    // out even with --include-reserved, and refused when named (live_command's refuse_broadcast).
    bool never_unicast = false;
};

// The blocks, in address order (they are disjoint, except 255.255.255.255 inside 240.0.0.0/4).
std::span<const ReservedBlock> reserved_blocks();

// The rule (zmap's blocklist, made to respect what the user named): a reserved block is left
// out of a target expression that reaches beyond it, and kept in one that lies inside it. So
// `0.0.0.0/0` leaves out 10.0.0.0/8, but `10.0.0.0/8`, `10.1.2.0/24` or `10.1.2.3` scan it; a
// range across a block's edge ("9.255.255.0-10.0.0.255") leaves out its part inside the block.
// `ranges` are one expression's ranges in ascending order; appends the blocks to leave out of it.
void reserved_to_leave_out(std::span<const Ipv4Range> ranges, ReservedRule rule, std::vector<Ipv4Range>& out);

// Multicast and broadcast (the never_unicast blocks) are never scanned: an error naming the
// first one `hosts` holds (the reserved rule has already left out those merely inside a range).
Result<bool> refuse_never_unicast(const AddressSet& hosts);

// The same for an IPv6 scan: multicast (ff00::/8, RFC 4291 2.7) is never scanned; an error when
// `hosts` reach into it. (IPv6 has no broadcast; there is no reserved-block rule: an IPv6 scan
// walks less than a /104, never a range wide enough to hold blocks it did not mean.)
Result<bool> refuse_never_unicast(const Ipv6Ranges& hosts);

// One line for stderr about what the rule left out: how many addresses, and of which blocks
// ("left out 592708865 reserved addresses (RFC 6890: 0.0.0.0/8, 10.0.0.0/8, ...): ...").
std::string reserved_note(const AddressSet& left_out, ReservedRule rule);

}  // namespace flagscan

// The RFC 6890 special-purpose blocks and the rule that leaves them out of wide target ranges.
#include "flagscan/targets/reserved.hpp"

#include <algorithm>
#include <array>

namespace flagscan {
namespace {

constexpr Ipv4Range block(Ipv4 first, unsigned prefix) {
    const std::uint32_t host_bits = prefix == 0 ? ~std::uint32_t{0} : (std::uint32_t{1} << (32 - prefix)) - 1;
    return {first, Ipv4{first.value() | host_bits}};
}

// RFC 6890 section 2.2.2 (the IANA IPv4 Special-Purpose Address Registry) as zmap's and masscan's
// default blocklists take it, with multicast (RFC 5771) and the reserved class E (RFC 1112 4).
constexpr std::array<ReservedBlock, 15> blocks{{
    {block(Ipv4{0, 0, 0, 0}, 8), "0.0.0.0/8", "\"this network\" (RFC 1122 3.2.1.3)"},
    {block(Ipv4{10, 0, 0, 0}, 8), "10.0.0.0/8", "private-use (RFC 1918)"},
    {block(Ipv4{100, 64, 0, 0}, 10), "100.64.0.0/10", "shared address space (RFC 6598)"},
    {block(Ipv4{127, 0, 0, 0}, 8), "127.0.0.0/8", "loopback (RFC 1122 3.2.1.3)"},
    {block(Ipv4{169, 254, 0, 0}, 16), "169.254.0.0/16", "link local (RFC 3927)"},
    {block(Ipv4{172, 16, 0, 0}, 12), "172.16.0.0/12", "private-use (RFC 1918)"},
    {block(Ipv4{192, 0, 0, 0}, 24), "192.0.0.0/24", "IETF protocol assignments (RFC 6890 2.1)"},
    {block(Ipv4{192, 0, 2, 0}, 24), "192.0.2.0/24", "documentation, TEST-NET-1 (RFC 5737)"},
    {block(Ipv4{192, 168, 0, 0}, 16), "192.168.0.0/16", "private-use (RFC 1918)"},
    {block(Ipv4{198, 18, 0, 0}, 15), "198.18.0.0/15", "benchmarking (RFC 2544)"},
    {block(Ipv4{198, 51, 100, 0}, 24), "198.51.100.0/24", "documentation, TEST-NET-2 (RFC 5737)"},
    {block(Ipv4{203, 0, 113, 0}, 24), "203.0.113.0/24", "documentation, TEST-NET-3 (RFC 5737)"},
    {block(Ipv4{224, 0, 0, 0}, 4), "224.0.0.0/4", "multicast (RFC 5771)", true},
    {block(Ipv4{240, 0, 0, 0}, 4), "240.0.0.0/4", "reserved (RFC 1112 4)"},
    {block(Ipv4{255, 255, 255, 255}, 32), "255.255.255.255/32", "limited broadcast (RFC 919 7, RFC 8190)", true},
}};

bool applies(const ReservedBlock& b, ReservedRule rule) {
    return rule == ReservedRule::skip_implied || (rule == ReservedRule::skip_multicast && b.never_unicast);
}

bool overlaps(const Ipv4Range& a, const Ipv4Range& b) { return a.first <= b.last && b.first <= a.last; }

}  // namespace

std::span<const ReservedBlock> reserved_blocks() { return blocks; }

// An expression's ranges span [front.first, back.last]: inside a block when that span is, and
// touching it when one of its ranges overlaps it (an octet list such as "10,12.0.0.1" has gaps).
void reserved_to_leave_out(std::span<const Ipv4Range> ranges, ReservedRule rule, std::vector<Ipv4Range>& out) {
    if (ranges.empty() || rule == ReservedRule::keep) return;
    const Ipv4Range span{ranges.front().first, ranges.back().last};
    for (const ReservedBlock& b : blocks) {
        if (!applies(b, rule) || !overlaps(span, b.range)) continue;
        if (b.range.first <= span.first && span.last <= b.range.last) continue;  // named: inside it
        const bool touched = std::any_of(ranges.begin(), ranges.end(), [&](const Ipv4Range& r) { return overlaps(r, b.range); });
        if (touched) out.push_back(b.range);
    }
}

Result<bool> refuse_never_unicast(const AddressSet& hosts) {
    for (const ReservedBlock& b : blocks) {
        if (!b.never_unicast) continue;
        const bool hit = std::any_of(hosts.ranges().begin(), hosts.ranges().end(), [&](const Ipv4Range& r) { return overlaps(r, b.range); });
        if (hit) return Error{"refusing to scan multicast or broadcast addresses (" + b.range.first.str() + "-" + b.range.last.str() + ")"};
    }
    return true;
}

Result<bool> refuse_never_unicast(const Ipv6Ranges& hosts) {
    constexpr Ipv6 kMulticast{0xff00'0000'0000'0000ULL, 0};  // ff00::/8, RFC 4291 2.7: to the end of the space
    if (hosts.empty() || hosts.back().last < kMulticast) return true;
    return Error{"refusing to scan multicast addresses (ff00::/8, RFC 4291 2.7): " + std::max(hosts.back().first, kMulticast).str()};
}

std::string reserved_note(const AddressSet& left_out, ReservedRule rule) {
    std::string names;
    for (const ReservedBlock& b : blocks) {
        const bool hit = applies(b, rule) && std::any_of(left_out.ranges().begin(), left_out.ranges().end(),
                                                         [&](const Ipv4Range& r) { return overlaps(r, b.range); });
        if (hit) names += (names.empty() ? "" : ", ") + std::string(b.cidr);
    }
    const std::string count = std::to_string(left_out.size());
    if (rule == ReservedRule::skip_multicast)
        return "left out " + count + " multicast and broadcast addresses (" + names +
               "), never sent a unicast probe";
    return "left out " + count + " reserved addresses (RFC 6890: " + names +
           ") that the targets reach only as part of a larger range: name a block to scan it, or give "
           "--include-reserved";
}

}  // namespace flagscan

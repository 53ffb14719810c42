// Parsing (RFC 4291 2.2, 2.3) and canonical printing (RFC 5952) of IPv6 addresses, prefixes and ranges.
#include "flagscan/net/ipv6.hpp"

#include <charconv>
#include <limits>
#include <utility>

#include "flagscan/net/text.hpp"

namespace flagscan {
namespace {

constexpr std::uint64_t kSaturated = std::numeric_limits<std::uint64_t>::max();

// The groups written on one side of a "::" (or in a whole address without one).
struct GroupList {
    Ipv6::Groups values{};
    std::size_t count = 0;
};

Error not_an_address(std::string_view text, std::string_view why) {
    return Error{quote_for_error(text) + " is not an IPv6 address: " + std::string(why)};
}

// RFC 4291 2.2 form 1: "x" is one to four hexadecimal digits, either case.
std::optional<std::uint16_t> hex_group(std::string_view piece) {
    if (piece.empty() || piece.size() > 4) return std::nullopt;
    std::uint16_t value = 0;
    const auto [end, ec] = std::from_chars(piece.data(), piece.data() + piece.size(), value, 16);
    if (ec != std::errc{} || end != piece.data() + piece.size()) return std::nullopt;
    return value;
}

// Appends one written group; a dotted quad (RFC 4291 2.2 form 3) counts as the last two.
std::optional<std::string> add_group(GroupList& list, std::string_view piece, bool may_be_quad) {
    if (piece.empty()) return "an empty group (a lone ':' at an end, or ':' twice outside '::')";
    if (piece.find('.') != std::string_view::npos) {
        if (!may_be_quad) return "a dotted quad may only end the address";
        const auto v4 = Ipv4::parse(piece);
        if (!v4) return quote_for_error(piece) + " is not a dotted quad";
        if (list.count + 2 > list.values.size()) return "more than eight groups";
        list.values[list.count++] = static_cast<std::uint16_t>(v4->value() >> 16);
        list.values[list.count++] = static_cast<std::uint16_t>(v4->value());
        return std::nullopt;
    }
    const auto value = hex_group(piece);
    if (!value) return "group " + quote_for_error(piece) + " is not one to four hex digits";
    if (list.count + 1 > list.values.size()) return "more than eight groups";
    list.values[list.count++] = *value;
    return std::nullopt;
}

// "a:b:c" into groups ("" is none); only the address's last group may be a dotted quad.
Result<GroupList> parse_groups(std::string_view part, bool ends_address) {
    GroupList list;
    if (part.empty()) return list;
    const auto pieces = split_on(part, ':');
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        const bool last = i + 1 == pieces.size();
        if (auto why = add_group(list, pieces[i], last && ends_address)) return Error{*why};
    }
    return list;
}

// Form 2: "::" stands for one or more zero groups (RFC 4291 2.2), so the sides hold seven at most.
Result<Ipv6> join_compressed(const GroupList& head, const GroupList& tail) {
    if (head.count + tail.count > 7) return Error{"'::' with eight groups written around it"};
    Ipv6::Groups groups{};
    for (std::size_t i = 0; i < head.count; ++i) groups[i] = head.values[i];
    for (std::size_t i = 0; i < tail.count; ++i) groups[8 - tail.count + i] = tail.values[i];
    return Ipv6::from_groups(groups);
}

Result<Ipv6> parse_groups_of(std::string_view text) {
    const std::size_t gap = text.find("::");
    if (gap == std::string_view::npos) {
        auto all = parse_groups(text, true);
        if (!all) return Error{all.error()};
        if (all->count != 8) return Error{"fewer than eight groups and no '::'"};
        return Ipv6::from_groups(all->values);
    }
    // Searching again from gap + 1 also catches ":::" (two overlapping "::").
    if (text.find("::", gap + 1) != std::string_view::npos) return Error{"'::' appears twice"};
    auto head = parse_groups(text.substr(0, gap), false);
    if (!head) return Error{head.error()};
    auto tail = parse_groups(text.substr(gap + 2), true);
    if (!tail) return Error{tail.error()};
    return join_compressed(*head, *tail);
}

// The mask of a 64-bit half whose top `bits` bits (0..64) belong to the prefix.
constexpr std::uint64_t top_bits(unsigned bits) { return bits == 0 ? 0 : ~std::uint64_t{0} << (64 - bits); }

// The masks of the high and low halves for a prefix length of 0..128 (RFC 4291 2.3).
constexpr std::pair<std::uint64_t, std::uint64_t> prefix_masks(unsigned length) {
    return {top_bits(length < 64 ? length : 64), top_bits(length > 64 ? length - 64 : 0)};
}

// RFC 5952 4.2: the first longest run of two or more zero groups, as {start, length}; length 0
// when there is none (4.2.2: a single zero group is not compressed; 4.2.3: the first on a tie).
std::pair<int, int> zero_run_to_compress(const Ipv6& ip) {
    int best = 0, best_length = 0;
    for (int i = 0; i < 8;) {
        int end = i;
        while (end < 8 && ip.group(end) == 0) ++end;
        if (end - i > best_length) {
            best = i;
            best_length = end - i;
        }
        i = end == i ? i + 1 : end;
    }
    return best_length >= 2 ? std::pair{best, best_length} : std::pair{0, 0};
}

}  // namespace

Result<Ipv6> parse_ipv6(std::string_view text) {
    if (text.empty()) return not_an_address(text, "empty");
    if (text.find('%') != std::string_view::npos) return not_an_address(text, "zone indices ('%') are not supported");
    auto parsed = parse_groups_of(text);
    if (!parsed) return not_an_address(text, parsed.error());
    return parsed;
}

std::optional<Ipv6> Ipv6::parse(std::string_view text) {
    auto parsed = parse_ipv6(text);
    if (!parsed) return std::nullopt;
    return *parsed;
}

Ipv6::Bytes Ipv6::bytes() const {
    Bytes out{};
    for (int i = 0; i < 16; ++i) out[static_cast<std::size_t>(i)] = byte(i);
    return out;
}

std::optional<Ipv4> Ipv6::v4_mapped() const {
    if (high_ != 0 || (low_ >> 32) != 0xffff) return std::nullopt;
    return Ipv4{static_cast<std::uint32_t>(low_)};
}

// RFC 5952: lower case (4.3), no leading zeros (4.1), the run chosen above as "::" (4.2), and
// the IPv4-mapped prefix with its last 32 bits as a dotted quad (5).
std::string Ipv6::str() const {
    if (const auto v4 = v4_mapped()) return "::ffff:" + v4->str();
    const auto [run, run_length] = zero_run_to_compress(*this);
    std::string out;
    out.reserve(39);
    for (int i = 0; i < 8; ++i) {
        if (run_length > 0 && i == run) {
            out += "::";
            i += run_length - 1;
            continue;
        }
        if (!out.empty() && out.back() != ':') out += ':';
        char hex[4];
        const auto [end, ec] = std::to_chars(hex, hex + sizeof hex, group(i), 16);
        (void)ec;  // four hex digits always fit
        out.append(hex, end);
    }
    return out;
}

Ipv6Prefix Ipv6Prefix::of(Ipv6 address, std::uint8_t length) {
    const unsigned bits = length > 128 ? 128u : length;
    const auto [high_mask, low_mask] = prefix_masks(bits);
    return Ipv6Prefix{Ipv6{address.high() & high_mask, address.low() & low_mask}, static_cast<std::uint8_t>(bits)};
}

Ipv6 Ipv6Prefix::last() const {
    const auto [high_mask, low_mask] = prefix_masks(length);
    return Ipv6{network.high() | ~high_mask, network.low() | ~low_mask};
}

bool Ipv6Prefix::contains(Ipv6 address) const { return network <= address && address <= last(); }

std::uint64_t Ipv6Prefix::host_count() const {
    if (length <= 64) return kSaturated;
    return std::uint64_t{1} << (128 - length);
}

std::string Ipv6Prefix::str() const { return network.str() + "/" + std::to_string(length); }

Result<Ipv6Prefix> parse_ipv6_prefix(std::string_view text) {
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) return Error{quote_for_error(text) + " is not an IPv6 prefix: no '/length'"};
    auto address = parse_ipv6(text.substr(0, slash));
    if (!address) return Error{address.error()};
    const auto length = parse_whole<unsigned>(text.substr(slash + 1));
    if (!length || *length > 128)
        return Error{quote_for_error(text) + " is not an IPv6 prefix: the length is not a number from 0 to 128"};
    return Ipv6Prefix::of(*address, static_cast<std::uint8_t>(*length));
}

std::uint64_t Ipv6Range::host_count() const {
    if (last < first) return 0;
    const std::uint64_t borrow = last.low() < first.low() ? 1 : 0;
    const std::uint64_t high = last.high() - first.high() - borrow;
    const std::uint64_t low = last.low() - first.low();
    if (high != 0 || low == kSaturated) return kSaturated;
    return low + 1;
}

Result<Ipv6Range> parse_ipv6_range(std::string_view text) {
    const std::size_t dash = text.find('-');
    if (dash == std::string_view::npos || text.find('-', dash + 1) != std::string_view::npos)
        return Error{quote_for_error(text) + " is not an IPv6 range: it takes one '-' between two addresses"};
    auto first = parse_ipv6(text.substr(0, dash));
    if (!first) return Error{first.error()};
    auto last = parse_ipv6(text.substr(dash + 1));
    if (!last) return Error{last.error()};
    if (*last < *first) return Error{quote_for_error(text) + " is not an IPv6 range: its end comes before its start"};
    return Ipv6Range{*first, *last};
}

}  // namespace flagscan

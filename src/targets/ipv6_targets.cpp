// IPv6 target expressions (addresses, prefixes, ranges, AAAA names) into sorted ranges, and their AddressBook keys.
#include "flagscan/targets/ipv6_targets.hpp"

#include <algorithm>
#include <limits>

#include "flagscan/net/text.hpp"

namespace flagscan {
namespace {

constexpr std::uint64_t kSaturated = std::numeric_limits<std::uint64_t>::max();
constexpr Ipv6 kLastAddress{~std::uint64_t{0}, ~std::uint64_t{0}};
// RFC 4291 2.5.5.2: ::ffff:0:0/96, an IPv4 host written as IPv6 (no IPv6 packet reaches it).
constexpr Ipv6Range kIpv4Mapped{Ipv6{0, 0xffff'0000'0000ULL}, Ipv6{0, 0xffff'ffff'ffffULL}};

Ipv6 before(Ipv6 address) {  // address - 1; address is not ::
    return address.low() == 0 ? Ipv6{address.high() - 1, ~std::uint64_t{0}} : Ipv6{address.high(), address.low() - 1};
}

std::string too_many() {
    return "too many addresses: one IPv6 scan walks at most " + std::to_string(AddressBook::kCapacity) +
           " (2^24 - 1: a /105 fits, a /104 does not)";
}

std::string mixed(std::string_view text) {
    return "cannot mix IPv4 and IPv6 targets in one scan: run two scans (" + quote_for_error(text) + " is IPv4)";
}

// The addresses one literal expression names: an address, "address/length" or "first-last".
Result<Ipv6Range> literal_range(std::string_view text, bool has_prefix) {
    if (text.find('-') != std::string_view::npos) {
        if (has_prefix) return Error{"a range takes no '/length'"};
        return parse_ipv6_range(text);
    }
    if (has_prefix) {
        auto prefix = parse_ipv6_prefix(text);
        if (!prefix) return Error{prefix.error()};
        return Ipv6Range{prefix->first(), prefix->last()};
    }
    auto address = parse_ipv6(text);
    if (!address) return Error{address.error()};
    return Ipv6Range{*address, *address};
}

// A name (with an optional "/length") through `resolve`: nullopt when it does not resolve.
Result<std::optional<Ipv6Range>> name_range(std::string_view text, const Resolver6& resolve) {
    const std::size_t slash = text.find('/');
    const std::string_view name = text.substr(0, slash);
    std::optional<unsigned> length = 128;
    if (slash != std::string_view::npos) length = parse_whole<unsigned>(text.substr(slash + 1));
    if (!length || *length > 128) return Error{"prefix must be 0-128"};
    if (auto problem = host_name_problem(name)) return Error{*problem};
    const std::vector<Ipv6> addresses = resolve ? resolve(name) : std::vector<Ipv6>{};
    if (addresses.empty()) return std::optional<Ipv6Range>{};
    const Ipv6Prefix prefix = Ipv6Prefix::of(addresses.front(), static_cast<std::uint8_t>(*length));  // the first, as nmap
    return std::optional<Ipv6Range>{Ipv6Range{prefix.first(), prefix.last()}};
}

// What no IPv6 scan takes, whatever its size: IPv4-mapped addresses.
std::optional<std::string> unscannable(const Ipv6Range& range) {
    if (range.first > kIpv4Mapped.last || range.last < kIpv4Mapped.first) return std::nullopt;
    return "an IPv4-mapped address (::ffff:0:0/96, RFC 4291 2.5.5.2) is an IPv4 host: scan its IPv4 address without -6";
}

}  // namespace

Ipv6Ranges merge_ranges(Ipv6Ranges ranges) {
    std::sort(ranges.begin(), ranges.end());
    Ipv6Ranges merged;
    for (const Ipv6Range& r : ranges) {
        const bool joins = !merged.empty() && (merged.back().last == kLastAddress || r.first <= merged.back().last.plus(1));
        if (!joins) merged.push_back(r);
        else merged.back().last = std::max(merged.back().last, r.last);
    }
    return merged;
}

// Each range of `from` keeps the gaps between the ranges of `cut` that reach into it.
Ipv6Ranges subtract_ranges(const Ipv6Ranges& from, const Ipv6Ranges& cut) {
    Ipv6Ranges kept;
    std::size_t j = 0;
    for (const Ipv6Range& r : from) {
        while (j < cut.size() && cut[j].last < r.first) ++j;
        Ipv6 next = r.first;
        bool left = true;  // false: nothing of r is left
        for (std::size_t k = j; k < cut.size() && left && cut[k].first <= r.last; ++k) {
            if (cut[k].first > next) kept.push_back({next, before(cut[k].first)});
            left = cut[k].last < r.last;
            if (left) next = std::max(next, cut[k].last.plus(1));
        }
        if (left) kept.push_back({next, r.last});
    }
    return kept;
}

std::uint64_t address_count(const Ipv6Ranges& ranges) {
    std::uint64_t count = 0;
    for (const Ipv6Range& r : ranges) {
        const std::uint64_t n = r.host_count();
        if (n > kSaturated - count) return kSaturated;
        count += n;
    }
    return count;
}

bool names_ipv6(std::string_view expression) { return expression.find(':') != std::string_view::npos; }

Result<bool> expand_target6(std::string_view expression, const Resolver6& resolve, Ipv6Ranges& out) {
    const std::string_view text = trim_space(expression);
    if (text.empty()) return bad_target(expression, "empty expression");
    const std::size_t slash = text.find('/');
    const std::string_view host = text.substr(0, slash);
    if (host.empty()) return bad_target(text, "missing address before '/'");
    if (!names_ipv6(host) && is_ipv4_syntax(host)) return Error{mixed(text)};
    std::optional<Ipv6Range> range;
    if (names_ipv6(host)) {
        auto literal = literal_range(text, slash != std::string_view::npos);
        if (!literal) return bad_target(text, literal.error());
        range = *literal;
    } else {
        auto named = name_range(text, resolve);
        if (!named) return bad_target(text, named.error());
        if (!*named) return false;
        range = **named;
    }
    if (range->host_count() > AddressBook::kCapacity) return bad_target(text, too_many());
    if (auto why = unscannable(*range)) return bad_target(text, *why);
    out.push_back(*range);
    return true;
}

Result<ParsedTargets6> parse_target_list6(std::span<const TargetExpression> expressions, const Resolver6& resolve) {
    ParsedTargets6 parsed;
    for (const TargetExpression& expression : expressions) {
        Result<bool> ok = expand_target6(expression.text, resolve, parsed.addresses);
        if (!ok) return Error{origin_of(expression) + ok.error()};
        if (!ok.value()) parsed.unresolved.push_back(origin_of(expression) + cannot_resolve(expression.text));
    }
    parsed.addresses = merge_ranges(std::move(parsed.addresses));
    return parsed;
}

Result<BookedTargets> book_targets(const Ipv6Ranges& targets) {
    const std::uint64_t count = address_count(targets);
    if (count > AddressBook::kCapacity)
        return Error{"the targets hold " + (count == kSaturated ? std::string("more than 2^64") : std::to_string(count)) +
                     " IPv6 addresses: " + too_many()};
    BookedTargets booked{std::make_shared<AddressBook>(), {}};
    for (const Ipv6Range& range : targets) {
        auto first = booked.book->add(range);
        if (!first) return Error{first.error()};
        const auto last = static_cast<std::uint32_t>(first->value() + range.host_count() - 1);
        booked.keys.add(Ipv4Range{*first, Ipv4{last}});
    }
    return booked;
}

}  // namespace flagscan

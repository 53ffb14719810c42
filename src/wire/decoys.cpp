// Decoys (-D): parsing the list, drawing RND addresses and our place, and sending each probe from every source.
#include "flagscan/wire/decoys.hpp"

#include <algorithm>
#include <charconv>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode6.hpp"
#include "flagscan/targets/reserved.hpp"

namespace flagscan {
namespace {

constexpr std::size_t kOffFlags = 6, kOffProtocol = 9, kOffSum = 10, kOffSource = 12;
constexpr std::size_t kOffSource6 = 8;  // RFC 8200 3
constexpr std::uint16_t kOffsetMask = 0x1fff;

// splitmix64 (Steele, Lea, Flood 2014): the n-th well-mixed value of a seed, without state.
std::uint64_t mixed(std::uint64_t seed, std::uint64_t n) {
    std::uint64_t z = seed + (n + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

bool reserved(Ipv4 ip) {
    return std::ranges::any_of(reserved_blocks(), [ip](const ReservedBlock& b) {
        return b.range.first.value() <= ip.value() && ip.value() <= b.range.last.value();
    });
}

// RFC 1122 3.2.1.3: a source address is never multicast or broadcast.
bool never_a_source(Ipv4 ip) {
    return std::ranges::any_of(reserved_blocks(), [ip](const ReservedBlock& b) {
        return b.never_unicast && b.range.first.value() <= ip.value() && ip.value() <= b.range.last.value();
    });
}

Result<DecoyEntry> parse_entry(std::string_view item) {
    if (item == "ME") return DecoyEntry{DecoyEntry::Kind::me, {}, 0};
    if (item == "RND") return DecoyEntry{DecoyEntry::Kind::random, {}, 1};
    if (item.starts_with("RND:")) {
        const std::string_view digits = item.substr(4);
        std::uint32_t n = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || n == 0 || n > kMaxDecoys)
            return Error{"bad -D element '" + std::string(item) + "': RND:N takes a count from 1 to " +
                         std::to_string(kMaxDecoys)};
        return DecoyEntry{DecoyEntry::Kind::random, {}, n};
    }
    if (const auto ip6 = Ipv6::parse(item)) {
        // RFC 4291 2.7: a multicast address is never a source; 2.5.2: nor the unspecified ::.
        if (ip6->group(0) >> 8 == 0xff || *ip6 == Ipv6{})
            return Error{"bad -D element '" + std::string(item) + "': a multicast or unspecified address is never a source (RFC 4291 2.5.2, 2.7)"};
        return DecoyEntry{DecoyEntry::Kind::address6, {}, 0, *ip6};
    }
    const auto ip = Ipv4::parse(item);
    if (!ip)
        return Error{"bad -D element '" + std::string(item) + "': give IPv4 or IPv6 addresses, ME or RND[:N] (no names: -D resolves none)"};
    if (never_a_source(*ip))
        return Error{"bad -D element '" + std::string(item) + "': a multicast or broadcast address is never a source (RFC 1122 3.2.1.3)"};
    return DecoyEntry{DecoyEntry::Kind::address, *ip, 0};
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over the 16-bit words of the old and new source
// (two for IPv4, eight for IPv6: the sum is the same one's-complement sum whatever the width).
std::uint16_t adjusted(std::uint16_t sum, std::span<const std::uint8_t> old_source, std::span<const std::uint8_t> new_source) {
    std::uint32_t acc = static_cast<std::uint16_t>(~sum);
    for (std::size_t at = 0; at + 1 < old_source.size(); at += 2) {
        acc += static_cast<std::uint16_t>(~((old_source[at] << 8) | old_source[at + 1]));
        acc += static_cast<std::uint32_t>((new_source[at] << 8) | new_source[at + 1]);
        while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    }
    return static_cast<std::uint16_t>(~acc);
}

// The transport checksum at AT of OUT (a copy of PACKET) adjusted for the source now at
// SOURCE_AT (RFC 1624); a UDP checksum of 0 (none computed, RFC 768) stays 0, and a computed 0
// is sent as 0xffff (RFC 768; over IPv6, RFC 8200 8.1).
void adjust_transport_sum(std::span<std::uint8_t> out, std::span<const std::uint8_t> packet, std::size_t at, bool udp,
                          std::size_t source_at, std::size_t source_size) {
    const std::uint16_t sum = ByteView{packet}.be16(at).value_or(0);
    if (udp && sum == 0) return;
    const std::uint16_t now = adjusted(sum, packet.subspan(source_at, source_size), out.subspan(source_at, source_size));
    put_be16(out, at, udp && now == 0 ? 0xffff : now);
}

// Where a TCP (RFC 793) or UDP (RFC 768) checksum sits in `ip`, when this packet holds it.
std::optional<std::size_t> transport_sum_at(std::span<const std::uint8_t> ip, std::size_t ihl) {
    const std::uint16_t flags = ByteView{ip}.be16(kOffFlags).value_or(1);
    if ((flags & kOffsetMask) != 0) return std::nullopt;  // a later fragment: the header is in the first
    const std::size_t at = ip[kOffProtocol] == ipproto::tcp ? ihl + 16 : ip[kOffProtocol] == ipproto::udp ? ihl + 6 : 0;
    if (at == 0 || at + 2 > ip.size()) return std::nullopt;
    return at;
}

}  // namespace

Result<std::vector<DecoyEntry>> parse_decoys(std::string_view text) {
    std::vector<DecoyEntry> entries;
    std::size_t decoys = 0;
    bool me = false;
    for (std::size_t at = 0; at <= text.size();) {
        const std::size_t comma = std::min(text.find(',', at), text.size());
        const std::string_view item = text.substr(at, comma - at);
        if (item.empty()) return Error{"bad -D '" + std::string(text) + "': an empty element"};
        auto entry = parse_entry(item);
        if (!entry) return Error{entry.error()};
        if (entry->kind == DecoyEntry::Kind::me && me) return Error{"-D names ME twice: it is the one place of our own address"};
        me = me || entry->kind == DecoyEntry::Kind::me;
        decoys += entry->kind == DecoyEntry::Kind::random ? entry->count : entry->kind == DecoyEntry::Kind::address;
        if (decoys > kMaxDecoys)
            return Error{"-D gives more than " + std::to_string(kMaxDecoys) + " decoys (nmap's limit): every probe would go out that many times"};
        entries.push_back(*entry);
        at = comma + 1;
    }
    return entries;
}

Ipv4 random_decoy(std::uint64_t seed, std::uint64_t n) {
    // Rejection sampling: about 14% of the space is reserved, so a few draws at most.
    for (std::uint64_t draw = 0;; ++draw) {
        const Ipv4 ip{static_cast<std::uint32_t>(mixed(seed ^ 0x6465636f79ULL, n * 64 + draw) >> 32)};
        if (!reserved(ip)) return ip;
    }
}

Ipv6 random_decoy6(std::uint64_t seed, std::uint64_t n, const Ipv6& source) {
    constexpr std::uint64_t kAnycastIids = 0xfdff'ffff'ffff'ff80ULL;  // RFC 2526 2: the top 128 of an EUI-64 /64
    for (std::uint64_t draw = 0;; ++draw) {
        const Ipv6 ip{source.high(), mixed(seed ^ 0x6465636f7936ULL, n * 64 + draw)};
        if (ip.low() != 0 && ip.low() < kAnycastIids && ip != source) return ip;
    }
}

std::optional<std::string> decoys_refused(std::span<const DecoyEntry> entries, bool ipv6) {
    const auto other = ipv6 ? DecoyEntry::Kind::address : DecoyEntry::Kind::address6;
    const auto wrong = std::ranges::find(entries, other, &DecoyEntry::kind);
    if (wrong == entries.end()) return std::nullopt;
    const std::string text = ipv6 ? wrong->address.str() : wrong->address6.str();
    return ipv6 ? "-D " + text + " is an IPv4 address: an IPv6 scan's probes can only come from IPv6 decoys"
                : "-D " + text + " is an IPv6 address: an IPv4 scan's probes can only come from IPv4 decoys";
}

DecoyPlan plan_decoys(std::span<const DecoyEntry> entries, std::uint64_t seed, std::optional<Ipv6> source6) {
    DecoyPlan plan;
    std::optional<std::size_t> me_at;
    std::uint64_t drawn = 0;
    for (const auto& entry : entries) {
        if (entry.kind == DecoyEntry::Kind::me) me_at = plan.copies() - 1;
        if (entry.kind == DecoyEntry::Kind::address && !source6) plan.decoys.push_back(entry.address);
        if (entry.kind == DecoyEntry::Kind::address6 && source6) plan.decoys6.push_back(entry.address6);
        for (std::uint32_t i = 0; entry.kind == DecoyEntry::Kind::random && i < entry.count; ++i, ++drawn) {
            if (source6) plan.decoys6.push_back(random_decoy6(seed, drawn, *source6));
            if (!source6) plan.decoys.push_back(random_decoy(seed, drawn));
        }
    }
    plan.me_at = me_at ? *me_at : static_cast<std::size_t>(mixed(seed, ~std::uint64_t{0}) % plan.copies());
    return plan;
}

std::vector<std::uint8_t> with_source(std::span<const std::uint8_t> packet, Ipv4 source) {
    std::vector<std::uint8_t> out(packet.begin(), packet.end());
    const std::size_t ihl = packet.empty() ? 0 : std::size_t{packet[0] & 0x0fu} * 4;
    if (packet.size() < 20 || (packet[0] >> 4) != 4 || ihl < 20 || ihl > packet.size()) return out;
    std::span<std::uint8_t> ip{out};
    put_be32(ip, kOffSource, source.value());
    put_be16(ip, kOffSum, 0);
    put_be16(ip, kOffSum, ipv4_header_checksum(ip.first(ihl)));
    if (const auto at = transport_sum_at(ip, ihl)) adjust_transport_sum(ip, packet, *at, packet[kOffProtocol] == ipproto::udp, kOffSource, 4);
    return out;
}

std::vector<std::uint8_t> with_source(std::span<const std::uint8_t> packet, const Ipv6& source) {
    std::vector<std::uint8_t> out(packet.begin(), packet.end());
    const auto decoded = decode_ipv6(ByteView{packet});
    if (!decoded) return out;
    const auto bytes = source.bytes();
    std::copy(bytes.begin(), bytes.end(), out.begin() + kOffSource6);
    const std::uint8_t next = decoded->ip.next_header;
    const std::size_t at = decoded->ip.header_length + (next == ipproto::tcp ? 16 : next == ipproto::udp ? 6 : 2);
    const bool checksummed = next == ipproto::tcp || next == ipproto::udp || next == ipproto::icmpv6;
    if (checksummed && !decoded->ip.later_fragment() && at + 2 <= packet.size())  // a later fragment holds no header
        adjust_transport_sum(out, packet, at, next == ipproto::udp, kOffSource6, 16);
    return out;
}

std::size_t DecoySink::send(std::span<const std::span<const std::uint8_t>> packets) {
    std::vector<std::vector<std::uint8_t>> copies;  // the decoys' (ours are the packets themselves)
    std::vector<std::span<const std::uint8_t>> views;
    std::vector<std::size_t> ends;  // views.size() after each packet
    copies.reserve(packets.size() * (plan_.copies() - 1));  // no reallocation: views point into it
    for (const auto& packet : packets) {
        const int version = packet.empty() ? 0 : packet[0] >> 4;
        const std::size_t decoys = version == 4 ? plan_.decoys.size() : version == 6 ? plan_.decoys6.size() : 0;
        for (std::size_t i = 0; i < decoys; ++i) {
            if (i == plan_.me_at) views.push_back(packet);
            views.push_back(copies.emplace_back(version == 4 ? with_source(packet, plan_.decoys[i])
                                                             : with_source(packet, plan_.decoys6[i])));
        }
        if (plan_.me_at >= decoys) views.push_back(packet);
        ends.push_back(views.size());
    }
    const std::size_t sent = inner_.send(views);
    if (observer_)
        for (std::size_t i = 0; i < sent; ++i) observer_(views[i]);
    return static_cast<std::size_t>(std::upper_bound(ends.begin(), ends.end(), sent) - ends.begin());
}

}  // namespace flagscan

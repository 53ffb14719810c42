// Decoys (-D): parsing the list, drawing RND addresses and our place, and sending each probe from every source.
#include "flagscan/wire/decoys.hpp"

#include <algorithm>
#include <charconv>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/targets/reserved.hpp"

namespace flagscan {
namespace {

constexpr std::size_t kOffFlags = 6, kOffProtocol = 9, kOffSum = 10, kOffSource = 12;
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
    const auto ip = Ipv4::parse(item);
    if (!ip)
        return Error{"bad -D element '" + std::string(item) + "': give IPv4 addresses, ME or RND[:N] (no names: -D resolves none)"};
    if (never_a_source(*ip))
        return Error{"bad -D element '" + std::string(item) + "': a multicast or broadcast address is never a source (RFC 1122 3.2.1.3)"};
    return DecoyEntry{DecoyEntry::Kind::address, *ip, 0};
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over the 16-bit words of the old and new source.
std::uint16_t adjusted(std::uint16_t sum, Ipv4 old_source, Ipv4 new_source) {
    std::uint32_t acc = static_cast<std::uint16_t>(~sum);
    for (const std::uint32_t word : {old_source.value() >> 16, old_source.value() & 0xffff})
        acc += static_cast<std::uint16_t>(~word);
    acc += (new_source.value() >> 16) + (new_source.value() & 0xffff);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(~acc);
}

// Where a TCP (RFC 793) or UDP (RFC 768) checksum sits in `ip`, when this packet holds it.
std::optional<std::size_t> transport_sum_at(std::span<const std::uint8_t> ip, std::size_t ihl) {
    const std::uint16_t flags = ByteView{ip}.be16(kOffFlags).value_or(1);
    if ((flags & kOffsetMask) != 0) return std::nullopt;  // a later fragment: the header is in the first
    const std::size_t at = ip[kOffProtocol] == 6 ? ihl + 16 : ip[kOffProtocol] == 17 ? ihl + 6 : 0;
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

DecoyPlan plan_decoys(std::span<const DecoyEntry> entries, std::uint64_t seed) {
    DecoyPlan plan;
    std::optional<std::size_t> me_at;
    std::uint64_t drawn = 0;
    for (const auto& entry : entries) {
        if (entry.kind == DecoyEntry::Kind::me) me_at = plan.decoys.size();
        if (entry.kind == DecoyEntry::Kind::address) plan.decoys.push_back(entry.address);
        for (std::uint32_t i = 0; entry.kind == DecoyEntry::Kind::random && i < entry.count; ++i)
            plan.decoys.push_back(random_decoy(seed, drawn++));
    }
    plan.me_at = me_at ? *me_at : static_cast<std::size_t>(mixed(seed, ~std::uint64_t{0}) % plan.copies());
    return plan;
}

std::vector<std::uint8_t> with_source(std::span<const std::uint8_t> packet, Ipv4 source) {
    std::vector<std::uint8_t> out(packet.begin(), packet.end());
    const std::size_t ihl = packet.empty() ? 0 : std::size_t{packet[0] & 0x0fu} * 4;
    if (packet.size() < 20 || (packet[0] >> 4) != 4 || ihl < 20 || ihl > packet.size()) return out;
    std::span<std::uint8_t> ip{out};
    const Ipv4 old_source{ByteView{packet}.be32(kOffSource).value_or(0)};
    put_be32(ip, kOffSource, source.value());
    put_be16(ip, kOffSum, 0);
    put_be16(ip, kOffSum, ipv4_header_checksum(ip.first(ihl)));
    if (const auto at = transport_sum_at(ip, ihl)) {
        const std::uint16_t sum = ByteView{packet}.be16(*at).value_or(0);
        const bool udp = packet[kOffProtocol] == 17;
        if (udp && sum == 0) return out;  // RFC 768: no checksum was computed
        const std::uint16_t now = adjusted(sum, old_source, source);
        put_be16(ip, *at, udp && now == 0 ? 0xffff : now);
    }
    return out;
}

std::size_t DecoySink::send(std::span<const std::span<const std::uint8_t>> packets) {
    std::vector<std::vector<std::uint8_t>> copies;  // the decoys' (ours are the packets themselves)
    std::vector<std::span<const std::uint8_t>> views;
    std::vector<std::size_t> ends;  // views.size() after each packet
    copies.reserve(packets.size() * plan_.decoys.size());
    for (const auto& packet : packets) {
        const bool ipv4 = !packet.empty() && (packet[0] >> 4) == 4;
        for (std::size_t i = 0; ipv4 && i < plan_.decoys.size(); ++i) {
            if (i == plan_.me_at) views.push_back(packet);
            views.push_back(copies.emplace_back(with_source(packet, plan_.decoys[i])));
        }
        if (!ipv4 || plan_.me_at >= plan_.decoys.size()) views.push_back(packet);
        ends.push_back(views.size());
    }
    const std::size_t sent = inner_.send(views);
    if (observer_)
        for (std::size_t i = 0; i < sent; ++i) observer_(views[i]);
    return static_cast<std::size_t>(std::upper_bound(ends.begin(), ends.end(), sent) - ends.begin());
}

}  // namespace flagscan

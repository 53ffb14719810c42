// Ipv6, Ipv6Prefix, Ipv6Range: 128-bit addresses (RFC 4291), parsed without throwing, printed per RFC 5952.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"

namespace flagscan {

// An IPv6 address held as two 64-bit halves in host byte order, so that comparison is numeric
// and arithmetic over ranges is plain (as Ipv4 holds its 32 bits).
class Ipv6 {
public:
    using Bytes = std::array<std::uint8_t, 16>;
    using Groups = std::array<std::uint16_t, 8>;

    constexpr Ipv6() = default;
    constexpr Ipv6(std::uint64_t high, std::uint64_t low) : high_(high), low_(low) {}
    // The eight 16-bit groups as written, most significant first: {0x2001, 0xdb8, 0, ..., 1}.
    static constexpr Ipv6 from_groups(const Groups& g) {
        std::uint64_t high = 0, low = 0;
        for (int i = 0; i < 4; ++i) high = (high << 16) | g[static_cast<std::size_t>(i)];
        for (int i = 4; i < 8; ++i) low = (low << 16) | g[static_cast<std::size_t>(i)];
        return Ipv6{high, low};
    }
    // Sixteen bytes in network order, as a packet carries them.
    static constexpr Ipv6 from_bytes(std::span<const std::uint8_t, 16> b) {
        std::uint64_t high = 0, low = 0;
        for (std::size_t i = 0; i < 8; ++i) high = (high << 8) | b[i];
        for (std::size_t i = 8; i < 16; ++i) low = (low << 8) | b[i];
        return Ipv6{high, low};
    }
    // RFC 4291 2.5.5.2: the IPv4-mapped address ::ffff:a.b.c.d.
    static constexpr Ipv6 mapped(Ipv4 v4) { return Ipv6{0, 0xffff'0000'0000ULL | v4.value()}; }

    // Every RFC 4291 2.2 text form (see parse_ipv6); nullopt instead of a reason.
    static std::optional<Ipv6> parse(std::string_view text);

    constexpr std::uint64_t high() const { return high_; }
    constexpr std::uint64_t low() const { return low_; }
    constexpr std::uint16_t group(int i) const {
        const std::uint64_t half = i < 4 ? high_ : low_;
        return static_cast<std::uint16_t>(half >> (48 - 16 * (i % 4)));
    }
    constexpr std::uint8_t byte(int i) const {
        const std::uint64_t half = i < 8 ? high_ : low_;
        return static_cast<std::uint8_t>(half >> (56 - 8 * (i % 8)));
    }
    Bytes bytes() const;
    // The IPv4 address inside ::ffff:a.b.c.d, nullopt for any other address.
    std::optional<Ipv4> v4_mapped() const;
    // This address plus n, modulo 2^128 (walking a prefix or a range by index).
    constexpr Ipv6 plus(std::uint64_t n) const {
        const std::uint64_t low = low_ + n;
        return Ipv6{high_ + (low < low_ ? 1 : 0), low};
    }
    // RFC 5952 canonical text: "2001:db8::1", "::ffff:192.0.2.1".
    std::string str() const;

    constexpr auto operator<=>(const Ipv6&) const = default;

private:
    std::uint64_t high_ = 0;
    std::uint64_t low_ = 0;
};

// An address parsed from every RFC 4291 2.2 form: eight groups of 1-4 hex digits ("2001:DB8:0:0:8:800:200C:417A"),
// one "::" standing for one or more zero groups ("FF01::101", "::"), and a dotted quad as the last
// 32 bits ("::FFFF:129.144.52.38"). The error names the first thing wrong: "'1::2::3' is not an
// IPv6 address: '::' appears twice". Zone indices ("fe80::1%eth0", RFC 4007) are refused.
Result<Ipv6> parse_ipv6(std::string_view text);

// An address prefix (RFC 4291 2.3): "fd00:1::/120". The network is held masked.
struct Ipv6Prefix {
    Ipv6 network;
    std::uint8_t length = 0;  // 0..128

    // The prefix holding `address`, its bits past `length` cleared.
    static Ipv6Prefix of(Ipv6 address, std::uint8_t length);
    Ipv6 first() const { return network; }
    Ipv6 last() const;
    bool contains(Ipv6 address) const;
    // How many addresses it holds, saturating at UINT64_MAX: a /64 or shorter holds 2^64 or more,
    // far too many to walk, and a caller refuses it by comparing this with its own limit.
    std::uint64_t host_count() const;
    std::string str() const;  // "fd00:1::/120"

    constexpr auto operator<=>(const Ipv6Prefix&) const = default;
};

// "fd00:1::/120" (RFC 4291 2.3 "ipv6-address/prefix-length", length 0..128). Host bits may be
// set ("fd00::1/120" is fd00::/120), as nmap reads a CIDR target.
Result<Ipv6Prefix> parse_ipv6_prefix(std::string_view text);

// An inclusive range of addresses, first <= last.
struct Ipv6Range {
    Ipv6 first;
    Ipv6 last;

    bool contains(Ipv6 address) const { return first <= address && address <= last; }
    // last - first + 1, saturating at UINT64_MAX (as Ipv6Prefix::host_count).
    std::uint64_t host_count() const;

    constexpr auto operator<=>(const Ipv6Range&) const = default;
};

// "fd00::1-fd00::ff": two whole addresses joined by '-', the first not above the second
// (masscan's form; nmap has no IPv6 ranges).
Result<Ipv6Range> parse_ipv6_range(std::string_view text);

}  // namespace flagscan

template <>
struct std::hash<flagscan::Ipv6> {
    std::size_t operator()(const flagscan::Ipv6& ip) const noexcept {
        // boost::hash_combine's mix: the two halves do not cancel when they are equal.
        const std::size_t h = std::hash<std::uint64_t>{}(ip.high());
        return h ^ (std::hash<std::uint64_t>{}(ip.low()) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
    }
};

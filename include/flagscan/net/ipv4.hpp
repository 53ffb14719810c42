// Ipv4 and Port: strong small types for addresses and ports, with parsing that never throws.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace flagscan {

// An IPv4 address held in host byte order, so that arithmetic over ranges is plain.
class Ipv4 {
public:
    constexpr Ipv4() = default;
    constexpr explicit Ipv4(std::uint32_t host_order) : value_(host_order) {}
    constexpr Ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
        : value_((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d) {}

    // Dotted quad only ("10.0.0.1"); no octal, no short forms.
    static std::optional<Ipv4> parse(std::string_view text);

    constexpr std::uint32_t value() const { return value_; }
    constexpr std::uint8_t octet(int i) const { return static_cast<std::uint8_t>(value_ >> (24 - 8 * i)); }
    std::string str() const;

    constexpr auto operator<=>(const Ipv4&) const = default;

private:
    std::uint32_t value_ = 0;
};

// A TCP or UDP port number; 0 is representable (it appears on the wire) but not scannable.
class Port {
public:
    constexpr Port() = default;
    constexpr explicit Port(std::uint16_t v) : value_(v) {}
    constexpr std::uint16_t value() const { return value_; }
    constexpr auto operator<=>(const Port&) const = default;

private:
    std::uint16_t value_ = 0;
};

// An Ethernet (IEEE 802) hardware address.
using MacAddress = std::array<std::uint8_t, 6>;
// "02:00:5e:10:00:01": lowercase hex, colon-separated.
std::string mac_text(const MacAddress& mac);

}  // namespace flagscan

template <>
struct std::hash<flagscan::Ipv4> {
    std::size_t operator()(const flagscan::Ipv4& ip) const noexcept { return std::hash<std::uint32_t>{}(ip.value()); }
};

// The Internet checksum (RFC 1071) for IPv4 headers, and TCP/UDP/ICMP/ICMPv6 with the IPv4 or IPv6 pseudo-header.
#pragma once

#include <cstdint>
#include <span>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/ipv6.hpp"

namespace flagscan {

// One's-complement sum of 16-bit words, not yet folded or inverted; chainable.
std::uint32_t checksum_add(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0);
// Folds the carries and inverts: the value to write into a checksum field.
std::uint16_t checksum_finish(std::uint32_t sum);

// Checksum of an IPv4 header whose checksum field is zero (or verified: result 0 means valid).
inline std::uint16_t ipv4_header_checksum(std::span<const std::uint8_t> header) {
    return checksum_finish(checksum_add(header));
}

// TCP or UDP checksum over the RFC 793 pseudo-header (src, dst, zero, protocol, length) and segment.
std::uint16_t transport_checksum(Ipv4 src, Ipv4 dst, std::uint8_t protocol, std::span<const std::uint8_t> segment);
// The same over the IPv6 pseudo-header (RFC 8200 8.1: src, dst, 32-bit upper-layer length, 24 zero
// bits, next header), which ICMPv6 uses too (RFC 4443 2.3). `next_header` is the upper-layer
// protocol, not the first extension header's. Over a segment carrying its checksum, 0 means
// valid. A UDP sender writes a computed 0 as 0xffff: over IPv6 a UDP checksum of 0 is invalid.
std::uint16_t transport_checksum(const Ipv6& src, const Ipv6& dst, std::uint8_t next_header,
                                 std::span<const std::uint8_t> segment);

}  // namespace flagscan

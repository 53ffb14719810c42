// Hand-built IPv6 packets for tests and fuzz seeds: extension headers, TCP, UDP, ICMPv6 with real checksums.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/ipv6.hpp"
#include "flagscan/wire/sim_network.hpp"

namespace flagscan::test6 {

using Bytes = std::vector<std::uint8_t>;

// One extension header; its first byte (Next Header) is filled in when the chain is assembled.
struct Extension {
    std::uint8_t type = 0;
    Bytes bytes;
};

// Hop-by-Hop, Routing and Destination Options (RFC 8200 4.3, 4.4, 4.6): (units + 1) * 8 bytes,
// Hdr Ext Len = units, the rest zero (Pad1 options; for Routing, type 0 with 0 segments left).
inline Extension sized_extension(std::uint8_t type, std::uint8_t units) {
    Extension e{type, Bytes((std::size_t{units} + 1) * 8, 0)};
    e.bytes[1] = units;
    return e;
}
inline Extension hop_by_hop(std::uint8_t units = 0) { return sized_extension(ipproto::hop_by_hop, units); }
inline Extension routing(std::uint8_t units = 0) { return sized_extension(ipproto::routing, units); }
inline Extension destination_options(std::uint8_t units = 0) {
    return sized_extension(ipproto::destination_options, units);
}
// RFC 8200 4.5: 8 bytes; offset in 8-byte units, M flag, identification.
inline Extension fragment(std::uint16_t offset, bool more, std::uint32_t id) {
    Extension e{ipproto::fragment, Bytes(8, 0)};
    put_be16(e.bytes, 2, static_cast<std::uint16_t>((offset << 3) | (more ? 1 : 0)));
    put_be32(e.bytes, 4, id);
    return e;
}

inline void append(Bytes& out, std::span<const std::uint8_t> bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

// The fixed header (RFC 8200 3), the chain in order, then the upper-layer bytes.
inline Bytes packet6(const Ipv6& src, const Ipv6& dst, std::vector<Extension> chain, std::uint8_t upper,
                     const Bytes& payload, std::uint8_t hop_limit = 64) {
    std::size_t length = payload.size();
    for (const auto& e : chain) length += e.bytes.size();
    Bytes out(8, 0);  // the addresses follow
    put_be32(out, 0, 0x6000'0000u | (0x2au << 20) | 0x12345u);  // traffic class 0x2a, flow label 0x12345
    put_be16(out, 4, static_cast<std::uint16_t>(length));
    out[6] = chain.empty() ? upper : chain.front().type;
    out[7] = hop_limit;
    append(out, src.bytes());
    append(out, dst.bytes());
    for (std::size_t i = 0; i < chain.size(); ++i) {
        chain[i].bytes[0] = i + 1 < chain.size() ? chain[i + 1].type : upper;
        append(out, chain[i].bytes);
    }
    append(out, payload);
    return out;
}

// The transport segment of an IPv4 packet from sim_network's builders, its checksum (at
// `checksum_at`) redone over the IPv6 pseudo-header.
inline Bytes rechecksum(const Bytes& v4_packet, const Ipv6& src, const Ipv6& dst, std::uint8_t protocol,
                        std::size_t checksum_at) {
    Bytes segment(v4_packet.begin() + 20, v4_packet.end());
    put_be16(segment, checksum_at, 0);
    put_be16(segment, checksum_at, transport_checksum(src, dst, protocol, segment));
    return segment;
}
inline Bytes tcp6(const Ipv6& src, const Ipv6& dst, Port sport, Port dport, std::uint32_t seq, TcpFlags flags) {
    return rechecksum(make_tcp_packet(Ipv4{}, Ipv4{}, sport, dport, seq, 0, flags, 1024, 64), src, dst, ipproto::tcp, 16);
}
inline Bytes udp6(const Ipv6& src, const Ipv6& dst, Port sport, Port dport, const Bytes& payload) {
    return rechecksum(make_udp_packet(Ipv4{}, Ipv4{}, sport, dport, payload, 64), src, dst, ipproto::udp, 6);
}

// An ICMPv6 message (RFC 4443 2.1): type, code, checksum, a 4-byte word, then the body.
inline Bytes icmp6(const Ipv6& src, const Ipv6& dst, std::uint8_t type, std::uint8_t code, std::uint32_t word,
                   const Bytes& body) {
    Bytes out(8, 0);
    out[0] = type;
    out[1] = code;
    put_be32(out, 4, word);
    append(out, body);
    put_be16(out, 2, transport_checksum(src, dst, ipproto::icmpv6, out));
    return out;
}

// A Neighbor Solicitation (135) or Advertisement (136) body (RFC 4861 4.3, 4.4): target, then
// one link-layer address option (type 1 in an NS, 2 in an NA) when `mac` is given.
inline Bytes neighbor_body(const Ipv6& target, const MacAddress* mac, std::uint8_t option_type) {
    Bytes body;
    append(body, target.bytes());
    if (mac != nullptr) {
        body.push_back(option_type);
        body.push_back(1);
        append(body, *mac);
    }
    return body;
}

}  // namespace flagscan::test6

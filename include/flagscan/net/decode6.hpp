// Decoding of IPv6 packets (RFC 8200) past their extension headers, with TCP, UDP and ICMPv6 (RFC 4443, 4861).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/ipv6.hpp"

namespace flagscan {

// One extension header met on the way to the upper-layer header (RFC 8200 4).
struct Ipv6Extension {
    std::uint8_t type = 0;     // its own Next Header value: ipproto::hop_by_hop, routing, ...
    std::uint16_t length = 0;  // bytes, its first 8 included
};

// A Fragment header's fields (RFC 8200 4.5).
struct Ipv6Fragment {
    std::uint16_t offset = 0;  // in 8-byte units; not 0: a later fragment, no upper-layer header here
    bool more = false;         // the M flag: more fragments follow
    std::uint32_t id = 0;      // Identification
};

struct Ipv6Header {
    Ipv6 src;
    Ipv6 dst;
    std::uint8_t hop_limit = 0;
    std::uint8_t traffic_class = 0;  // DSCP and ECN (RFC 2474, 3168)
    std::uint32_t flow_label = 0;    // 20 bits (RFC 6437)
    std::uint16_t payload_length = 0;  // as carried: the bytes past the 40-byte header
    // The upper-layer protocol, past every extension header: ipproto::tcp, udp, icmpv6, or where
    // the walk stopped: no_next_header (59), esp (50), ah (51), or a header it does not know.
    std::uint8_t next_header = 0;
    std::uint16_t header_length = 40;  // bytes up to the upper-layer header, extensions included
    // The extension headers in the order met. The walk stops (next_header then names the header
    // not walked) after kMaxExtensions: RFC 8200 4.1 lets a packet carry each once (destination
    // options twice), so a longer chain is not a packet any host sends.
    static constexpr std::size_t kMaxExtensions = 8;
    std::array<Ipv6Extension, kMaxExtensions> extensions{};
    std::uint8_t extension_count = 0;
    std::optional<Ipv6Fragment> fragment;

    bool later_fragment() const { return fragment && fragment->offset != 0; }
    bool has_extension(std::uint8_t type) const;
};

// The probe an ICMPv6 error quotes (RFC 4443 2.4(c): as much of it as fits in 1280 bytes):
// its IPv6 header, walked past extension headers, and the start of its transport header.
struct QuotedProbe6 : QuotedTransport {
    Ipv6Header ip;
};

// A Neighbor Solicitation or Advertisement (RFC 4861 4.3, 4.4).
struct NeighborMessage {
    Ipv6 target;
    // The Source (NS) or Target (NA) Link-Layer Address option (RFC 4861 4.6.1), for Ethernet
    // the 6-byte MAC (RFC 2464 8).
    std::optional<MacAddress> link_address;
    bool router = false;     // NA's R flag
    bool solicited = false;  // NA's S flag: an answer to a solicitation
    bool override_flag = false;  // NA's O flag
};

namespace icmp6_type {
// Errors (RFC 4443 3) are the types below 128; informational messages are 128 and up.
inline constexpr std::uint8_t unreachable = 1, packet_too_big = 2, time_exceeded = 3, parameter_problem = 4,
                              echo_request = 128, echo_reply = 129, neighbor_solicitation = 135,
                              neighbor_advertisement = 136;
}
// Destination Unreachable codes (RFC 4443 3.1).
namespace icmp6_unreachable {
inline constexpr std::uint8_t no_route = 0, admin_prohibited = 1, beyond_scope = 2, address = 3, port = 4,
                              source_policy = 5, reject_route = 6;
}

struct Icmp6Header {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint16_t checksum = 0;  // as carried (verify with transport_checksum over the payload)
    std::uint16_t id = 0;        // echo request / reply identifier (RFC 4443 4.1, 4.2)
    std::uint16_t seq = 0;       // echo request / reply sequence number
    std::uint32_t mtu = 0;       // Packet Too Big (RFC 4443 3.2)
    std::uint32_t pointer = 0;   // Parameter Problem: offset of the error in the quote (RFC 4443 3.4)
    std::optional<QuotedProbe6> quoted{};      // errors 1-4 that quote enough of the probe
    std::optional<NeighborMessage> neighbor{};  // types 135 and 136
};

struct DecodedPacket6 : DecodedTransport {
    Ipv6Header ip;
    std::optional<Icmp6Header> icmp6;
};

// ICMPv6 errors are types 0-127 (RFC 4443 2.1).
constexpr bool is_icmp6_error(std::uint8_t type) { return type < 128; }

// Decodes an IPv6 packet (starting at its header). nullopt when the version is not 6 or the
// fixed header is cut short; an extension header cut short leaves the upper layer empty, as does
// a transport header cut short. Bytes past 40 + payload length (link padding) are ignored; a
// capture cut shorter than that is decoded as far as it goes.
std::optional<DecodedPacket6> decode_ipv6(ByteView packet);

// The upper-layer bytes of an IPv6 packet (past its extension headers, cut at its payload
// length): what transport_checksum covers. nullopt when there is no upper-layer header.
std::optional<ByteView> ipv6_payload(ByteView packet);

// Strips the link header of a frame carrying IPv6 (EtherType 0x86dd, or raw IP / loopback
// naming IPv6), then decode_ipv6. nullopt for other frames.
std::optional<DecodedPacket6> decode_frame6(LinkType link, ByteView frame);

}  // namespace flagscan

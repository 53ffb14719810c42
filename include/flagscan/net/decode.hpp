// Decoding of captured frames into headers, through bounds-checked views; never throws.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/tcp_flags.hpp"

namespace flagscan {

// The link layers flagscan reads: what live interfaces and tcpdump captures use.
enum class LinkType : std::uint8_t { ethernet, raw_ip, linux_sll, linux_sll2, bsd_loopback };

// libpcap's DLT_* value to a LinkType; nullopt for link types we cannot read.
std::optional<LinkType> link_type_from_dlt(int dlt);

// EtherTypes (IEEE 802 numbers) as link headers carry them.
namespace ethertype {
inline constexpr std::uint16_t ipv4 = 0x0800, arp = 0x0806, vlan = 0x8100, qinq = 0x88a8, ipv6 = 0x86dd;
}

// What a frame's link header says it carries (an EtherType, for every link type) and where that
// begins, past any 802.1Q / 802.1ad tags.
struct LinkPayload {
    std::uint16_t ethertype = 0;
    std::size_t offset = 0;
};
// nullopt when the frame is too short for its link header or names no protocol we know.
std::optional<LinkPayload> link_payload(LinkType link, ByteView frame);

// IANA protocol numbers, which IPv6 uses as Next Header values too (RFC 8200 4).
namespace ipproto {
inline constexpr std::uint8_t icmp = 1, tcp = 6, udp = 17;
// IPv6 extension headers (RFC 8200 4.3-4.7), IPsec (RFC 4303 ESP, RFC 4302 AH), ICMPv6 (RFC 4443).
inline constexpr std::uint8_t hop_by_hop = 0, routing = 43, fragment = 44, esp = 50, ah = 51, icmpv6 = 58,
                              no_next_header = 59, destination_options = 60;
// Not an IP protocol: ARP (RFC 826), which flagscan's discovery sends on the link. A decoded
// ARP packet carries it in ip.protocol, with the sender's address in ip.src and the target's in ip.dst.
inline constexpr std::uint8_t arp = 254;
}

// An ARP packet for IPv4 over Ethernet (RFC 826).
struct ArpHeader {
    std::uint16_t operation = 0;  // 1 request, 2 reply
    MacAddress sender_mac{};
    Ipv4 sender_ip;
    Ipv4 target_ip;
};

struct Ipv4Header {
    Ipv4 src;
    Ipv4 dst;
    std::uint8_t ttl = 0;
    std::uint8_t protocol = 0;
    std::uint16_t id = 0;
    std::uint16_t total_length = 0;
    std::uint16_t header_length = 0;  // bytes, options included (an IPv6 packet translated: its extension headers too)
    bool later_fragment = false;     // fragment offset != 0: no transport header here
    bool more_fragments = false;     // MF set: a later fragment follows (RFC 791 3.1)
    bool dont_fragment = false;      // DF set (RFC 791 3.1)
    std::uint8_t tos = 0;            // type of service byte (RFC 791 3.1; DSCP and ECN, RFC 2474, 3168)
    std::uint16_t checksum = 0;      // the header checksum as carried (RFC 791 3.1)
};

// A TCP header's options as carried (RFC 793 3.1: at most 40 bytes), copied so that a decoded
// packet stands alone (replies are held and read after their frame is gone).
struct TcpOptionBytes {
    std::array<std::uint8_t, 40> bytes{};
    std::uint8_t size = 0;
    ByteView view() const { return ByteView{std::span<const std::uint8_t>{bytes.data(), size}}; }
};

struct TcpHeader {
    Port sport;
    Port dport;
    std::uint32_t seq = 0;
    std::uint32_t ack = 0;
    TcpFlags flags;
    std::uint16_t window = 0;
    std::uint8_t header_length = 0;  // bytes (data offset x 4), options included
    std::uint16_t urgent = 0;        // urgent pointer (RFC 793 3.1)
    std::uint8_t reserved = 0;       // the 4 bits between data offset and CWR (RFC 793 3.1; RFC 3540's NS is the lowest)
    TcpOptionBytes options{};        // empty when there are none, or the capture cut them short
};

struct UdpHeader {
    Port sport;
    Port dport;
    std::uint16_t length = 0;
    std::uint16_t checksum = 0;  // as carried; 0 means none (RFC 768)
    // The payload's first bytes as captured (fewer when the datagram or the snaplen is shorter):
    // what a scan detector reads of a probe's payload.
    static constexpr std::size_t kHeadBytes = 48;
    std::array<std::uint8_t, kHeadBytes> head{};
    std::uint8_t head_length = 0;
};

// What an ICMP or ICMPv6 error's quote shows of the probe's transport header.
struct QuotedTransport {
    Port sport;
    Port dport;
    std::optional<std::uint32_t> tcp_seq;  // present when the quote reaches bytes 4-7 of TCP
    // A quoted ICMP or ICMPv6 query (echo, timestamp): its type, identifier and sequence (ports stay 0).
    std::uint8_t query_type = 0;
    std::uint16_t query_id = 0;
    std::uint16_t query_seq = 0;
};

// The probe an ICMP error quotes (RFC 792: the IP header plus at least 8 bytes of its data).
struct QuotedProbe : QuotedTransport {
    Ipv4Header ip;
};

struct IcmpHeader {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint16_t id = 0;   // echo / timestamp identifier
    std::uint16_t seq = 0;  // echo / timestamp sequence
    std::optional<QuotedProbe> quoted;  // for errors (types 3, 4, 5, 11, 12) that quote enough
};

// What an IPv4 and an IPv6 packet decode to alike: where the IP header began in its frame, who
// put the frame on the link, and the TCP or UDP header (read by the same functions for both).
struct DecodedTransport {
    std::uint16_t link_header = 0;  // bytes before the IP header in the frame it came from
    std::optional<TcpHeader> tcp;
    std::optional<UdpHeader> udp;
    // The link layer's sender address where the frame names one (Ethernet; Linux cooked v1 and v2
    // with a 6-byte address): the machine that put it on this link (a router for routed traffic).
    std::optional<MacAddress> link_src;
};

struct DecodedPacket : DecodedTransport {
    Ipv4Header ip;
    std::optional<IcmpHeader> icmp;
    std::optional<ArpHeader> arp;  // ip then holds only src, dst and protocol (ipproto::arp)
};

namespace icmp_type {
inline constexpr std::uint8_t echo_reply = 0, unreachable = 3, source_quench = 4, redirect = 5, echo = 8,
                              time_exceeded = 11, parameter_problem = 12, timestamp = 13, timestamp_reply = 14;
}

// ICMP types that are errors quoting a datagram (RFC 792): 3, 4, 5, 11, 12.
bool is_icmp_error(std::uint8_t type);

// Decodes an IPv4 packet (starting at the IP header). nullopt for non-IPv4, a header that lies
// about its length, or a bad header checksum. Transport headers that are cut short are left empty.
std::optional<DecodedPacket> decode_ipv4(ByteView packet);

// The bytes an IPv4 packet carries past its header, cut at its total length: the transport
// segment (for an ICMP error, its quote starts 8 bytes in). nullopt when the header is not IPv4 or
// lies about its length; the checksum is not verified (decode_ipv4 does that).
std::optional<ByteView> ipv4_payload(ByteView packet);
// A TCP segment's options: bytes 20 up to its data offset (RFC 793 3.1). nullopt when the data
// offset is below 5 or reaches past the segment.
std::optional<ByteView> tcp_options(ByteView segment);

// A TCP header (RFC 793 3.1) at the start of `segment`, options copied; nullopt under 20 bytes.
// IPv4 and IPv6 decoding both read TCP through this.
std::optional<TcpHeader> decode_tcp_segment(ByteView segment);
// A UDP header (RFC 768) and the payload's first bytes; nullopt under 8 bytes.
std::optional<UdpHeader> decode_udp_datagram(ByteView datagram);
// The start of a quoted transport header of `protocol`: the ICMP or ICMPv6 query's type, id and
// seq (8 bytes needed), otherwise both ports (4 bytes) and, for TCP, the sequence number when the
// quote reaches it. nullopt when too short.
std::optional<QuotedTransport> decode_quoted_transport(std::uint8_t protocol, ByteView transport);

// The network-layer packet a frame carries when its link header names `type` (an EtherType).
struct LinkPacket {
    ByteView packet;
    std::uint16_t offset = 0;              // bytes of link header (and tags) before it
    std::optional<MacAddress> link_src;    // as DecodedPacket::link_src
};
std::optional<LinkPacket> link_packet(LinkType link, ByteView frame, std::uint16_t type);

// The frame's packet of EtherType `type` through `decode` (decode_ipv4, decode_ipv6), its result
// told the link header's length and sender: what decode_frame and decode_frame6 share.
template <class Decode>
auto decode_link_packet(LinkType link, ByteView frame, std::uint16_t type, Decode decode)
    -> decltype(decode(ByteView{})) {
    auto carried = link_packet(link, frame, type);
    if (!carried) return std::nullopt;
    auto decoded = decode(carried->packet);
    if (decoded) {
        decoded->link_header = carried->offset;
        decoded->link_src = carried->link_src;
    }
    return decoded;
}

// Strips the link header, then decode_ipv4; an Ethernet ARP frame gives a packet with `arp`
// set. nullopt for other frames.
std::optional<DecodedPacket> decode_frame(LinkType link, ByteView frame);

}  // namespace flagscan

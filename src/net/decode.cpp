// Frame and packet decoding (RFC 791 IPv4, RFC 793 TCP, RFC 768 UDP, RFC 792 ICMP) over ByteView.
#include "flagscan/net/decode.hpp"

#include <algorithm>

#include "flagscan/net/checksum.hpp"

namespace flagscan {
namespace {

// The EtherType of an untagged Ethernet frame (ARP replies to us are never tagged on Linux:
// the kernel strips VLAN tags before a capture sees them).
std::optional<std::uint16_t> link_payload_type(ByteView frame) { return frame.be16(12); }

// Past the IEEE 802.1Q / 802.1ad tags that follow a link header whose protocol field says
// 0x8100 or 0x88a8: each tag is 2 bytes of TCI, then the next protocol. tcpdump reads Ethernet
// and Linux cooked v1 and v2 alike (libpcap puts there the tag the kernel gave it apart).
std::optional<LinkPayload> skip_vlan_tags(ByteView frame, std::uint16_t type, std::size_t offset) {
    while (type == ethertype::vlan || type == ethertype::qinq) {
        auto inner = frame.be16(offset + 2);
        if (!inner) return std::nullopt;
        type = *inner;
        offset += 4;
    }
    return LinkPayload{type, offset};
}

// The address family of a BSD loopback header (host or network order): AF_INET is 2 everywhere;
// AF_INET6 is 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS).
std::optional<std::uint16_t> loopback_ethertype(ByteView frame) {
    for (auto family : {frame.host32(0), frame.be32(0)}) {
        if (!family) return std::nullopt;
        if (*family == 2) return ethertype::ipv4;
        if (*family == 10 || *family == 24 || *family == 28 || *family == 30) return ethertype::ipv6;
    }
    return std::nullopt;
}

// Raw IP: the version nibble says which.
std::optional<std::uint16_t> raw_ethertype(ByteView frame) {
    auto first = frame.u8(0);
    if (!first) return std::nullopt;
    if ((*first >> 4) == 4) return ethertype::ipv4;
    if ((*first >> 4) == 6) return ethertype::ipv6;
    return std::nullopt;
}

std::optional<Ipv4Header> parse_ip_header(ByteView bytes, bool verify_checksum) {
    auto version_ihl = bytes.u8(0);
    if (!version_ihl || (*version_ihl >> 4) != 4) return std::nullopt;
    const std::size_t header_length = std::size_t{*version_ihl & 0x0fu} * 4;
    if (header_length < 20 || !bytes.fits(0, header_length)) return std::nullopt;
    if (verify_checksum && ipv4_header_checksum(bytes.span().first(header_length)) != 0) return std::nullopt;
    Ipv4Header ip;
    ip.header_length = static_cast<std::uint8_t>(header_length);
    ip.total_length = *bytes.be16(2);
    ip.id = *bytes.be16(4);
    ip.later_fragment = (*bytes.be16(6) & 0x1fff) != 0;
    ip.more_fragments = (*bytes.be16(6) & 0x2000) != 0;
    ip.dont_fragment = (*bytes.be16(6) & 0x4000) != 0;
    ip.tos = *bytes.u8(1);
    ip.checksum = *bytes.be16(10);
    ip.ttl = *bytes.u8(8);
    ip.protocol = *bytes.u8(9);
    ip.src = Ipv4{*bytes.be32(12)};
    ip.dst = Ipv4{*bytes.be32(16)};
    return ip;
}

}  // namespace

std::optional<TcpHeader> decode_tcp_segment(ByteView bytes) {
    if (!bytes.fits(0, 20)) return std::nullopt;
    TcpHeader tcp;
    tcp.sport = Port{*bytes.be16(0)};
    tcp.dport = Port{*bytes.be16(2)};
    tcp.seq = *bytes.be32(4);
    tcp.ack = *bytes.be32(8);
    tcp.flags = TcpFlags{*bytes.u8(13)};
    tcp.window = *bytes.be16(14);
    tcp.header_length = static_cast<std::uint8_t>((*bytes.u8(12) >> 4) * 4);
    tcp.reserved = static_cast<std::uint8_t>(*bytes.u8(12) & 0x0f);
    tcp.urgent = *bytes.be16(18);
    if (auto options = tcp_options(bytes)) {
        tcp.options.size = static_cast<std::uint8_t>(options->size());
        std::copy_n(options->span().begin(), options->size(), tcp.options.bytes.begin());
    }
    return tcp;
}

std::optional<UdpHeader> decode_udp_datagram(ByteView bytes) {
    if (!bytes.fits(0, 8)) return std::nullopt;
    UdpHeader udp{Port{*bytes.be16(0)}, Port{*bytes.be16(2)}, *bytes.be16(4), *bytes.be16(6)};
    for (std::size_t i = 0; i < UdpHeader::kHeadBytes; ++i) {
        const auto byte = bytes.u8(8 + i);
        if (!byte) break;
        udp.head[i] = *byte;
        udp.head_length = static_cast<std::uint8_t>(i + 1);
    }
    return udp;
}

// RFC 792 (ICMP) and RFC 4443 4.1 (ICMPv6): a query's identifier and sequence at bytes 4-7;
// TCP (RFC 793 3.1) and UDP (RFC 768): the ports at 0-3, TCP's sequence number at 4-7.
std::optional<QuotedTransport> decode_quoted_transport(std::uint8_t protocol, ByteView transport) {
    if (protocol == ipproto::icmp || protocol == ipproto::icmpv6) {
        if (!transport.fits(0, 8)) return std::nullopt;
        return QuotedTransport{Port{}, Port{}, std::nullopt, *transport.u8(0), *transport.be16(4), *transport.be16(6)};
    }
    if (!transport.fits(0, 4)) return std::nullopt;
    QuotedTransport fields{Port{*transport.be16(0)}, Port{*transport.be16(2)}, std::nullopt};
    if (protocol == ipproto::tcp) fields.tcp_seq = transport.be32(4);
    return fields;
}

namespace {

// The quoted datagram: its IP header (not checksum-verified: routers may have altered it,
// RFC 1812 4.3.2.3) and the first 8 bytes of its transport header, which hold both ports.
std::optional<QuotedProbe> parse_quote(ByteView quote) {
    auto ip = parse_ip_header(quote, false);
    if (!ip || ip->later_fragment) return std::nullopt;
    auto transport = quote.from(ip->header_length);
    if (!transport) return std::nullopt;
    auto fields = decode_quoted_transport(ip->protocol, *transport);
    if (!fields) return std::nullopt;
    return QuotedProbe{*fields, *ip};
}

std::optional<IcmpHeader> parse_icmp(ByteView bytes) {
    if (!bytes.fits(0, 8)) return std::nullopt;
    IcmpHeader icmp;
    icmp.type = *bytes.u8(0);
    icmp.code = *bytes.u8(1);
    icmp.id = *bytes.be16(4);
    icmp.seq = *bytes.be16(6);
    if (is_icmp_error(icmp.type)) icmp.quoted = parse_quote(*bytes.from(8));
    return icmp;
}

}  // namespace

bool is_icmp_error(std::uint8_t type) {
    return type == icmp_type::unreachable || type == icmp_type::source_quench || type == icmp_type::redirect ||
           type == icmp_type::time_exceeded || type == icmp_type::parameter_problem;
}

std::optional<LinkPayload> link_payload(LinkType link, ByteView frame) {
    std::optional<std::uint16_t> type;
    switch (link) {
        case LinkType::ethernet:  // 14-byte header, EtherType last
            if (!(type = frame.be16(12))) return std::nullopt;
            return skip_vlan_tags(frame, *type, 14);
        case LinkType::linux_sll:  // 16-byte header, protocol in the last two bytes
            if (!(type = frame.be16(14))) return std::nullopt;
            return skip_vlan_tags(frame, *type, 16);
        case LinkType::linux_sll2:  // 20-byte header, protocol first
            if (!(type = frame.be16(0)) || !frame.fits(0, 20)) return std::nullopt;
            return skip_vlan_tags(frame, *type, 20);
        case LinkType::raw_ip:
            if (!(type = raw_ethertype(frame))) return std::nullopt;
            return LinkPayload{*type, 0};
        case LinkType::bsd_loopback:  // 4-byte address family
            if (!(type = loopback_ethertype(frame))) return std::nullopt;
            return LinkPayload{*type, 4};
    }
    return std::nullopt;
}

std::optional<LinkType> link_type_from_dlt(int dlt) {
    switch (dlt) {
        case 1:  // DLT_EN10MB
            return LinkType::ethernet;
        case 12:   // DLT_RAW (Linux value)
        case 14:   // DLT_RAW (BSD value)
        case 101:  // LINKTYPE_RAW as stored in files
        case 228:  // DLT_IPV4
            return LinkType::raw_ip;
        case 113:  // DLT_LINUX_SLL
            return LinkType::linux_sll;
        case 276:  // DLT_LINUX_SLL2
            return LinkType::linux_sll2;
        case 0:    // DLT_NULL
        case 108:  // DLT_LOOP
            return LinkType::bsd_loopback;
        default:
            return std::nullopt;
    }
}

std::optional<ByteView> ipv4_payload(ByteView packet) {
    auto ip = parse_ip_header(packet, false);
    if (!ip || ip->total_length < ip->header_length) return std::nullopt;
    return packet.first(ip->total_length).from(ip->header_length);
}

std::optional<ByteView> tcp_options(ByteView segment) {
    auto offset = segment.u8(12);
    if (!offset) return std::nullopt;
    const std::size_t header_length = std::size_t{*offset} / 16 * 4;
    if (header_length < 20 || !segment.fits(0, header_length)) return std::nullopt;
    return segment.first(header_length).from(20);
}

std::optional<DecodedPacket> decode_ipv4(ByteView packet) {
    auto ip = parse_ip_header(packet, true);
    if (!ip || ip->total_length < ip->header_length) return std::nullopt;
    DecodedPacket out{};
    out.ip = *ip;
    if (ip->later_fragment) return out;
    // Trust the shorter of the captured bytes and the IP total length (Ethernet pads short frames).
    auto payload = packet.first(ip->total_length).from(ip->header_length);
    if (!payload) return out;
    switch (ip->protocol) {
        case ipproto::tcp: out.tcp = decode_tcp_segment(*payload); break;
        case ipproto::udp: out.udp = decode_udp_datagram(*payload); break;
        case ipproto::icmp: out.icmp = parse_icmp(*payload); break;
        default: break;
    }
    return out;
}

// RFC 826 for IPv4 over Ethernet: hardware type 1, protocol 0x0800, lengths 6 and 4.
std::optional<DecodedPacket> decode_arp(ByteView frame) {
    if (link_payload_type(frame) != ethertype::arp) return std::nullopt;
    auto arp = frame.from(14);
    if (!arp || !arp->fits(0, 28) || arp->be16(0) != 1u || arp->be16(2) != ethertype::ipv4 || arp->u8(4) != 6u ||
        arp->u8(5) != 4u)
        return std::nullopt;
    ArpHeader header;
    header.operation = *arp->be16(6);
    for (std::size_t i = 0; i < header.sender_mac.size(); ++i) header.sender_mac[i] = *arp->u8(8 + i);
    header.sender_ip = Ipv4{*arp->be32(14)};
    header.target_ip = Ipv4{*arp->be32(24)};
    DecodedPacket out{};
    out.ip.src = header.sender_ip;
    out.ip.dst = header.target_ip;
    out.ip.protocol = ipproto::arp;
    out.arp = header;
    return out;
}

// The sender's link address: Ethernet's source (bytes 6-11); Linux cooked v1's address (length
// at 4, address at 6) and v2's (length at 11, address at 12) when it is 6 bytes long.
std::optional<MacAddress> link_source(LinkType link, ByteView frame) {
    std::size_t at = 0;
    switch (link) {
        case LinkType::ethernet: at = 6; break;
        case LinkType::linux_sll: if (frame.be16(4) != std::uint16_t{6}) return std::nullopt; at = 6; break;
        case LinkType::linux_sll2: if (frame.u8(11) != std::uint8_t{6}) return std::nullopt; at = 12; break;
        default: return std::nullopt;
    }
    if (!frame.fits(at, 6)) return std::nullopt;
    MacAddress mac{};
    for (std::size_t i = 0; i < mac.size(); ++i) mac[i] = *frame.u8(at + i);
    return mac;
}

std::optional<LinkPacket> link_packet(LinkType link, ByteView frame, std::uint16_t type) {
    auto payload = link_payload(link, frame);
    if (!payload || payload->ethertype != type) return std::nullopt;
    auto packet = frame.from(payload->offset);
    if (!packet) return std::nullopt;
    return LinkPacket{*packet, static_cast<std::uint16_t>(payload->offset), link_source(link, frame)};
}

std::optional<DecodedPacket> decode_frame(LinkType link, ByteView frame) {
    if (link == LinkType::ethernet) {
        if (auto arp = decode_arp(frame)) {
            arp->link_src = link_source(link, frame);
            return arp;
        }
    }
    return decode_link_packet(link, frame, ethertype::ipv4, decode_ipv4);
}

}  // namespace flagscan

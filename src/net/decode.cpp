// Frame and packet decoding (RFC 791 IPv4, RFC 793 TCP, RFC 768 UDP, RFC 792 ICMP) over ByteView.
#include "flagscan/net/decode.hpp"

#include "flagscan/net/checksum.hpp"

namespace flagscan {
namespace {

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherArp = 0x0806;
constexpr std::uint16_t kEtherVlan = 0x8100;
constexpr std::uint16_t kEtherQinQ = 0x88a8;

// Offset of the IPv4 header inside a frame, or nullopt when the frame carries something else.
std::optional<std::size_t> ethernet_payload(ByteView frame) {
    std::size_t offset = 12;
    auto type = frame.be16(offset);
    while (type && (*type == kEtherVlan || *type == kEtherQinQ)) {  // IEEE 802.1Q / 802.1ad tags
        offset += 4;
        type = frame.be16(offset);
    }
    if (!type || *type != kEtherIpv4) return std::nullopt;
    return offset + 2;
}

// The EtherType of an untagged Ethernet frame (ARP replies to us are never tagged on Linux:
// the kernel strips VLAN tags before a capture sees them).
std::optional<std::uint16_t> link_payload_type(ByteView frame) { return frame.be16(12); }

std::optional<std::size_t> ip_offset(LinkType link, ByteView frame) {
    switch (link) {
        case LinkType::ethernet:
            return ethernet_payload(frame);
        case LinkType::raw_ip:
            return 0;
        case LinkType::linux_sll:  // 16-byte header, protocol in the last two bytes
            if (frame.be16(14) != kEtherIpv4) return std::nullopt;
            return 16;
        case LinkType::linux_sll2:  // 20-byte header, protocol first
            if (frame.be16(0) != kEtherIpv4) return std::nullopt;
            return 20;
        case LinkType::bsd_loopback: {  // 4-byte address family, host or network order
            auto family = frame.host32(0);
            auto family_be = frame.be32(0);
            if (family != 2u && family_be != 2u) return std::nullopt;
            return 4;
        }
    }
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
    ip.ttl = *bytes.u8(8);
    ip.protocol = *bytes.u8(9);
    ip.src = Ipv4{*bytes.be32(12)};
    ip.dst = Ipv4{*bytes.be32(16)};
    return ip;
}

std::optional<TcpHeader> parse_tcp(ByteView bytes) {
    if (!bytes.fits(0, 20)) return std::nullopt;
    TcpHeader tcp;
    tcp.sport = Port{*bytes.be16(0)};
    tcp.dport = Port{*bytes.be16(2)};
    tcp.seq = *bytes.be32(4);
    tcp.ack = *bytes.be32(8);
    tcp.flags = TcpFlags{*bytes.u8(13)};
    tcp.window = *bytes.be16(14);
    tcp.header_length = static_cast<std::uint8_t>((*bytes.u8(12) >> 4) * 4);
    return tcp;
}

std::optional<UdpHeader> parse_udp(ByteView bytes) {
    if (!bytes.fits(0, 8)) return std::nullopt;
    return UdpHeader{Port{*bytes.be16(0)}, Port{*bytes.be16(2)}, *bytes.be16(4)};
}

bool is_icmp_error(std::uint8_t type) {
    return type == icmp_type::unreachable || type == icmp_type::source_quench || type == icmp_type::redirect ||
           type == icmp_type::time_exceeded || type == icmp_type::parameter_problem;
}

// The quoted datagram: its IP header (not checksum-verified: routers may have altered it,
// RFC 1812 4.3.2.3) and the first 8 bytes of its transport header, which hold both ports.
std::optional<QuotedProbe> parse_quote(ByteView quote) {
    auto ip = parse_ip_header(quote, false);
    if (!ip || ip->later_fragment) return std::nullopt;
    auto transport = quote.from(ip->header_length);
    if (!transport || !transport->fits(0, 4)) return std::nullopt;
    if (ip->protocol == ipproto::icmp) {
        if (!transport->fits(0, 8)) return std::nullopt;
        QuotedProbe probe{*ip, Port{}, Port{}, std::nullopt};
        probe.query_type = *transport->u8(0);
        probe.query_id = *transport->be16(4);
        probe.query_seq = *transport->be16(6);
        return probe;
    }
    QuotedProbe probe{*ip, Port{*transport->be16(0)}, Port{*transport->be16(2)}, std::nullopt};
    if (ip->protocol == ipproto::tcp) probe.tcp_seq = transport->be32(4);
    return probe;
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
        case ipproto::tcp: out.tcp = parse_tcp(*payload); break;
        case ipproto::udp: out.udp = parse_udp(*payload); break;
        case ipproto::icmp: out.icmp = parse_icmp(*payload); break;
        default: break;
    }
    return out;
}

// RFC 826 for IPv4 over Ethernet: hardware type 1, protocol 0x0800, lengths 6 and 4.
std::optional<DecodedPacket> decode_arp(ByteView frame) {
    if (link_payload_type(frame) != kEtherArp) return std::nullopt;
    auto arp = frame.from(14);
    if (!arp || !arp->fits(0, 28) || arp->be16(0) != 1u || arp->be16(2) != kEtherIpv4 || arp->u8(4) != 6u ||
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

std::optional<DecodedPacket> decode_frame(LinkType link, ByteView frame) {
    if (link == LinkType::ethernet) {
        if (auto arp = decode_arp(frame)) return arp;
    }
    auto offset = ip_offset(link, frame);
    if (!offset) return std::nullopt;
    auto packet = frame.from(*offset);
    if (!packet) return std::nullopt;
    auto decoded = decode_ipv4(*packet);
    if (decoded) decoded->link_header = static_cast<std::uint16_t>(*offset);
    return decoded;
}

}  // namespace flagscan

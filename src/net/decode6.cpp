// IPv6 packet decoding (RFC 8200), extension header walk, ICMPv6 (RFC 4443) and Neighbor Discovery (RFC 4861).
#include "flagscan/net/decode6.hpp"

namespace flagscan {
namespace {

constexpr std::size_t kFixedHeader = 40;  // RFC 8200 3

Ipv6 read_address(ByteView bytes, std::size_t offset) {  // the caller has checked that 16 bytes fit
    return Ipv6::from_bytes(bytes.span().subspan(offset).first<16>());
}

// RFC 8200 3: version 6 (4 bits), traffic class (8), flow label (20), payload length (16),
// next header (8), hop limit (8), source and destination addresses (128 each).
std::optional<Ipv6Header> parse_fixed_header(ByteView bytes) {
    if (!bytes.fits(0, kFixedHeader)) return std::nullopt;
    const std::uint32_t first_word = *bytes.be32(0);
    if ((first_word >> 28) != 6) return std::nullopt;
    Ipv6Header ip;
    ip.traffic_class = static_cast<std::uint8_t>(first_word >> 20);
    ip.flow_label = first_word & 0xfffff;
    ip.payload_length = *bytes.be16(4);
    ip.next_header = *bytes.u8(6);
    ip.hop_limit = *bytes.u8(7);
    ip.src = read_address(bytes, 8);
    ip.dst = read_address(bytes, 24);
    return ip;
}

// The bytes the packet says it has: the payload length counts all past the fixed header,
// extension headers included (RFC 8200 3), and link padding lies beyond. A jumbogram (RFC 2675
// 3: payload length 0, its real length in a hop-by-hop option) is read to the end of the capture.
ByteView claimed_bytes(ByteView packet, const Ipv6Header& ip) {
    if (ip.payload_length == 0 && ip.next_header == ipproto::hop_by_hop) return packet;
    return packet.first(kFixedHeader + ip.payload_length);
}

// The extension headers walked past (RFC 8200 4). ESP and AH (RFC 4303, 4302) end the walk: what
// follows ESP is encrypted; AH is reported as met, like No Next Header (59, RFC 8200 4.7).
bool is_walked_extension(std::uint8_t next_header) {
    return next_header == ipproto::hop_by_hop || next_header == ipproto::routing ||
           next_header == ipproto::fragment || next_header == ipproto::destination_options;
}

// An extension header's length in bytes: the Fragment header is 8 (RFC 8200 4.5); Hop-by-Hop,
// Routing and Destination Options carry Hdr Ext Len in 8-byte units past the first 8 (4.3, 4.4, 4.6).
std::optional<std::size_t> extension_length(ByteView bytes, std::size_t offset, std::uint8_t type) {
    if (type == ipproto::fragment) return 8;
    const auto units = bytes.u8(offset + 1);
    if (!units) return std::nullopt;
    return (std::size_t{*units} + 1) * 8;
}

// RFC 8200 4.5: next header, reserved, then offset (13 bits) | reserved (2) | M (1), then the id.
Ipv6Fragment parse_fragment(ByteView bytes, std::size_t offset) {  // the caller has checked 8 bytes
    const std::uint16_t offset_flags = *bytes.be16(offset + 2);
    return Ipv6Fragment{static_cast<std::uint16_t>(offset_flags >> 3), (offset_flags & 1) != 0, *bytes.be32(offset + 4)};
}

// Walks the chain from the fixed header (RFC 8200 4: each header's first byte names the next),
// noting each header and the fragment fields. False when the walk stops short of an upper-layer
// header: an extension header cut short, too long a chain, or a later fragment (RFC 8200 4.5:
// its bytes are the middle of the original payload; next_header still names what it continues).
// A Hop-by-Hop header out of first place (RFC 8200 4.3 wants it first) is walked all the same:
// this reads what came, a receiving host would answer a Parameter Problem.
bool walk_extensions(ByteView bytes, Ipv6Header& ip) {
    std::size_t offset = kFixedHeader;
    while (is_walked_extension(ip.next_header)) {
        if (ip.extension_count == Ipv6Header::kMaxExtensions) return false;
        const auto length = extension_length(bytes, offset, ip.next_header);
        if (!length || !bytes.fits(offset, *length)) return false;
        if (ip.next_header == ipproto::fragment) ip.fragment = parse_fragment(bytes, offset);
        ip.extensions[ip.extension_count++] = Ipv6Extension{ip.next_header, static_cast<std::uint16_t>(*length)};
        ip.next_header = *bytes.u8(offset);
        offset += *length;
        ip.header_length = static_cast<std::uint16_t>(offset);
        if (ip.later_fragment()) return false;
    }
    return true;
}

// A packet's header walked to its upper layer, and the upper layer's bytes when it got there.
struct Walked {
    Ipv6Header ip;
    std::optional<ByteView> upper;
};

std::optional<Walked> walk(ByteView packet) {
    auto ip = parse_fixed_header(packet);
    if (!ip) return std::nullopt;
    const ByteView bytes = claimed_bytes(packet, *ip);
    Walked out{*ip, std::nullopt};
    if (walk_extensions(bytes, out.ip)) out.upper = bytes.from(out.ip.header_length);
    return out;
}

// RFC 4443 2.4(c): an error quotes as much of the invoking packet as fits in the minimum MTU. Its
// header is walked as any (its payload length is the original's, longer than the quote: the walk
// reads what the quote holds), then the start of its transport header.
std::optional<QuotedProbe6> parse_quote(ByteView quote) {
    auto walked = walk(quote);
    if (!walked || !walked->upper) return std::nullopt;
    auto fields = decode_quoted_transport(walked->ip.next_header, *walked->upper);
    if (!fields) return std::nullopt;
    return QuotedProbe6{*fields, walked->ip};
}

MacAddress read_mac(ByteView bytes, std::size_t offset) {  // the caller has checked that 6 bytes fit
    MacAddress mac{};
    for (std::size_t i = 0; i < mac.size(); ++i) mac[i] = *bytes.u8(offset + i);
    return mac;
}

// Neighbor Discovery options (RFC 4861 4.6): type, length in 8-byte units, value. Keeps the first
// option of type `wanted` holding an Ethernet address (RFC 2464 8: length 1, 6 bytes). False on
// an option of length 0, which makes the whole message invalid (RFC 4861 4.6).
bool read_link_address(ByteView options, std::uint8_t wanted, NeighborMessage& nd) {
    std::size_t offset = 0;
    while (options.fits(offset, 2)) {
        const std::size_t length = std::size_t{*options.u8(offset + 1)} * 8;
        if (length == 0) return false;
        if (!options.fits(offset, length)) break;  // cut short: the options end here
        if (*options.u8(offset) == wanted && !nd.link_address) nd.link_address = read_mac(options, offset + 2);
        offset += length;
    }
    return true;
}

// RFC 4861 4.3 (NS: 4 reserved bytes, target, options; Source Link-Layer Address is option 1) and
// 4.4 (NA: R, S, O flags in the first byte after the checksum, target, options; Target
// Link-Layer Address is option 2). Validity checks of 7.1 (hop limit 255, code 0) are the
// receiver's: the decoder reports both fields as carried.
std::optional<NeighborMessage> parse_neighbor(ByteView message, std::uint8_t type) {
    if (!message.fits(0, 24)) return std::nullopt;
    NeighborMessage nd;
    nd.target = read_address(message, 8);
    if (type == icmp6_type::neighbor_advertisement) {
        const std::uint8_t flags = *message.u8(4);
        nd.router = (flags & 0x80) != 0;
        nd.solicited = (flags & 0x40) != 0;
        nd.override_flag = (flags & 0x20) != 0;
    }
    const std::uint8_t wanted = type == icmp6_type::neighbor_solicitation ? 1 : 2;
    if (!read_link_address(*message.from(24), wanted, nd)) return std::nullopt;
    return nd;
}

// The word after the checksum by type (RFC 4443 3.2 MTU, 3.4 pointer, 4.1/4.2 id and sequence),
// and the Neighbor Discovery body.
void read_type_specific(Icmp6Header& icmp, ByteView message) {  // the caller has checked 8 bytes
    switch (icmp.type) {
        case icmp6_type::echo_request:
        case icmp6_type::echo_reply:
            icmp.id = *message.be16(4);
            icmp.seq = *message.be16(6);
            break;
        case icmp6_type::packet_too_big: icmp.mtu = *message.be32(4); break;
        case icmp6_type::parameter_problem: icmp.pointer = *message.be32(4); break;
        case icmp6_type::neighbor_solicitation:
        case icmp6_type::neighbor_advertisement: icmp.neighbor = parse_neighbor(message, icmp.type); break;
        default: break;
    }
}

// RFC 4443 2.1: type, code, checksum; errors 1-4 quote the invoking packet from byte 8 (3.1-3.4).
std::optional<Icmp6Header> parse_icmp6(ByteView message) {
    if (!message.fits(0, 8)) return std::nullopt;
    Icmp6Header icmp{*message.u8(0), *message.u8(1), *message.be16(2)};
    read_type_specific(icmp, message);
    if (icmp.type >= icmp6_type::unreachable && icmp.type <= icmp6_type::parameter_problem)
        icmp.quoted = parse_quote(*message.from(8));
    return icmp;
}

}  // namespace

bool Ipv6Header::has_extension(std::uint8_t type) const {
    for (std::size_t i = 0; i < extension_count; ++i)
        if (extensions[i].type == type) return true;
    return false;
}

std::optional<DecodedPacket6> decode_ipv6(ByteView packet) {
    auto walked = walk(packet);
    if (!walked) return std::nullopt;
    DecodedPacket6 out{};
    out.ip = walked->ip;
    if (!walked->upper) return out;
    switch (out.ip.next_header) {
        case ipproto::tcp: out.tcp = decode_tcp_segment(*walked->upper); break;
        case ipproto::udp: out.udp = decode_udp_datagram(*walked->upper); break;
        case ipproto::icmpv6: out.icmp6 = parse_icmp6(*walked->upper); break;
        default: break;  // 59 (nothing follows), ESP, AH, other protocols: the header says which
    }
    return out;
}

std::optional<ByteView> ipv6_payload(ByteView packet) {
    auto walked = walk(packet);
    if (!walked) return std::nullopt;
    return walked->upper;
}

std::optional<DecodedPacket6> decode_frame6(LinkType link, ByteView frame) {
    return decode_link_packet(link, frame, ethertype::ipv6, decode_ipv6);
}

}  // namespace flagscan

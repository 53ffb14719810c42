// IPv4 (RFC 791 3.2) and IPv6 (RFC 8200 4.5) fragmentation of finished packets, and the sink that sends the pieces.
#include "flagscan/wire/fragments.hpp"

#include <algorithm>
#include <optional>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"

namespace flagscan {
namespace {

constexpr std::size_t kOffLength = 2, kOffFlags = 6, kOffSum = 10;
constexpr std::uint16_t kDontFragment = 0x4000, kMoreFragments = 0x2000, kOffsetMask = 0x1fff;

// RFC 791 3.1: an option whose "copied" bit (0x80) is set goes into every fragment; the others
// only into the first. The kept options are padded to a 4-byte boundary with End of Option List.
std::vector<std::uint8_t> later_header(std::span<const std::uint8_t> header) {
    std::vector<std::uint8_t> out(header.begin(), header.begin() + 20);
    for (std::size_t at = 20; at < header.size();) {
        const std::uint8_t type = header[at];
        if (type == 0) break;                                   // End of Option List
        const std::size_t length = type == 1 ? 1 : (at + 1 < header.size() ? header[at + 1] : 0);
        if (length == 0 || at + length > header.size()) break;  // malformed: keep what came before
        if (type & 0x80) out.insert(out.end(), header.begin() + static_cast<long>(at), header.begin() + static_cast<long>(at + length));
        at += length;
    }
    out.resize((out.size() + 3) / 4 * 4, 0);
    out[0] = static_cast<std::uint8_t>(0x40 | (out.size() / 4));
    return out;
}

// One fragment: HEADER, then DATA (which starts OFFSET bytes into the packet's data).
std::vector<std::uint8_t> one_fragment(std::span<const std::uint8_t> header, std::span<const std::uint8_t> data,
                                       std::size_t offset, bool more, std::uint16_t flags) {
    std::vector<std::uint8_t> out(header.begin(), header.end());
    out.insert(out.end(), data.begin(), data.end());
    std::span<std::uint8_t> ip{out};
    put_be16(ip, kOffLength, static_cast<std::uint16_t>(out.size()));
    const auto field = static_cast<std::uint16_t>((flags & ~(kMoreFragments | kOffsetMask)) |
                                                  (more ? kMoreFragments : 0) | (offset / 8));
    put_be16(ip, kOffFlags, field);
    put_be16(ip, kOffSum, 0);
    put_be16(ip, kOffSum, ipv4_header_checksum(ip.first(header.size())));
    return out;
}

using Pieces = std::vector<std::vector<std::uint8_t>>;

// The one split both versions share: DATA in pieces, the first FIRST bytes, then PER each (the
// last what is left); MAKE(piece, offset, last) builds each fragment.
template <class Make>
Pieces split(std::span<const std::uint8_t> data, std::size_t first, std::size_t per, Make make) {
    Pieces out;
    for (std::size_t at = 0; at < data.size();) {
        const std::size_t n = std::min(at == 0 ? first : per, data.size() - at);
        out.push_back(make(data.subspan(at, n), at, at + n == data.size()));
        at += n;
    }
    return out;
}

constexpr std::size_t kIp6Header = 40, kOff6PayloadLength = 4, kOff6NextHeader = 6, kFragmentHeader = 8;

// Where an IPv6 packet's parts end (RFC 8200 4.5): the unfragmentable part (the header, and the
// extension headers up to the last Hop-by-Hop or Routing header), the byte in it naming the first
// fragmentable header, and the end of the upper-layer header (TCP with its options, UDP's 8
// bytes, ICMPv6's 8: RFC 7112's "IPv6 Header Chain").
struct Ipv6Parts {
    std::size_t unfragmentable = kIp6Header;
    std::size_t names_next = kOff6NextHeader;
    std::size_t chain_end = kIp6Header;
};

// nullopt for a packet cut short in its header chain, or already a fragment.
std::optional<Ipv6Parts> ipv6_parts(std::span<const std::uint8_t> packet) {
    Ipv6Parts parts;
    std::size_t at = kIp6Header;
    std::uint8_t next = packet[kOff6NextHeader];
    while (next == ipproto::hop_by_hop || next == ipproto::routing || next == ipproto::destination_options) {
        if (at + 2 > packet.size()) return std::nullopt;
        const std::size_t length = (std::size_t{packet[at + 1]} + 1) * 8;  // RFC 8200 4.3: 8-byte units past the first 8
        if (next != ipproto::destination_options) parts = {at + length, at, at + length};
        next = packet[at];
        at += length;
    }
    std::size_t upper = next == ipproto::udp || next == ipproto::icmpv6 ? 8 : 0;
    if (next == ipproto::tcp && at + 13 <= packet.size()) upper = std::size_t{packet[at + 12]} / 16 * 4;  // data offset
    if (next == ipproto::fragment || at + upper > packet.size()) return std::nullopt;
    parts.chain_end = at + upper;
    return parts;
}

}  // namespace

std::vector<std::vector<std::uint8_t>> fragment_ipv4(std::span<const std::uint8_t> packet, std::size_t data_per_fragment) {
    const ByteView view{packet};
    const std::size_t ihl = packet.empty() ? 0 : std::size_t{packet[0] & 0x0fu} * 4;
    const std::uint16_t flags = view.be16(kOffFlags).value_or(kDontFragment);
    const std::size_t total = std::min<std::size_t>(view.be16(kOffLength).value_or(0), packet.size());
    const bool ipv4 = packet.size() >= 20 && (packet[0] >> 4) == 4 && ihl >= 20 && total >= ihl;
    if (!ipv4 || (flags & kDontFragment) || data_per_fragment == 0 || data_per_fragment % 8 != 0 ||
        total - ihl <= data_per_fragment)
        return {std::vector<std::uint8_t>(packet.begin(), packet.end())};
    // A packet that is itself a fragment is split further: its offset and MF carry on (RFC 791 3.2).
    const std::size_t base = static_cast<std::size_t>(flags & kOffsetMask) * 8;
    const bool last_more = flags & kMoreFragments;
    const auto header = packet.first(ihl);
    const auto later = later_header(header);
    const auto data = packet.subspan(ihl, total - ihl);
    return split(data, data_per_fragment, data_per_fragment,
                 [&](std::span<const std::uint8_t> piece, std::size_t at, bool last) {
                     return one_fragment(at == 0 ? header : std::span<const std::uint8_t>{later}, piece, base + at,
                                         !last || last_more, flags);
                 });
}

std::vector<std::vector<std::uint8_t>> fragment_ipv6(std::span<const std::uint8_t> packet, std::size_t data_per_fragment,
                                                     std::uint32_t identification) {
    const std::vector<std::uint8_t> whole(packet.begin(), packet.end());
    const std::size_t payload = ByteView{packet}.be16(kOff6PayloadLength).value_or(0);
    if (packet.size() < kIp6Header || (packet[0] >> 4) != 6 || payload == 0 || data_per_fragment == 0 ||
        data_per_fragment % 8 != 0)
        return {whole};
    const auto datagram = packet.first(std::min(packet.size(), kIp6Header + payload));
    const auto parts = ipv6_parts(datagram);
    if (!parts) return {whole};
    const std::size_t chain = (parts->chain_end - parts->unfragmentable + 7) / 8 * 8;
    const auto rest = datagram.subspan(parts->unfragmentable);
    const std::size_t first = std::max(data_per_fragment, chain);
    if (rest.size() <= first) return {whole};
    std::vector<std::uint8_t> header(datagram.begin(), datagram.begin() + static_cast<long>(parts->unfragmentable));
    const std::uint8_t next = header[parts->names_next];
    header[parts->names_next] = ipproto::fragment;
    return split(rest, first, data_per_fragment, [&](std::span<const std::uint8_t> piece, std::size_t at, bool last) {
        std::vector<std::uint8_t> out = header;
        out.resize(header.size() + kFragmentHeader + piece.size());
        std::span<std::uint8_t> bytes{out};
        bytes[header.size()] = next;  // then a reserved byte, 0
        put_be16(bytes, header.size() + 2, static_cast<std::uint16_t>(at | (last ? 0 : 1)));  // offset / 8 << 3 | M
        put_be32(bytes, header.size() + 4, identification);
        std::copy(piece.begin(), piece.end(), out.begin() + static_cast<long>(header.size() + kFragmentHeader));
        put_be16(bytes, kOff6PayloadLength, static_cast<std::uint16_t>(out.size() - kIp6Header));
        return out;
    });
}

std::size_t FragmentingSink::send(std::span<const std::span<const std::uint8_t>> packets) {
    std::vector<std::vector<std::uint8_t>> pieces;
    std::vector<std::size_t> ends;  // pieces.size() after each packet
    for (const auto& packet : packets) {
        // RFC 8200 4.5: one Identification for the pieces of one packet, another for the next:
        // the probe's flow label (its cookie bits, probe_builder6.cpp) over a count of the packets.
        const bool ipv6 = !packet.empty() && (packet[0] >> 4) == 6;
        const std::uint32_t flow = ByteView{packet}.be32(0).value_or(0) & 0xfffff;
        auto fragments = ipv6 ? fragment_ipv6(packet, per_fragment_, flow << 12 | (sent_++ & 0xfff))
                              : fragment_ipv4(packet, per_fragment_);
        for (auto& fragment : fragments) pieces.push_back(std::move(fragment));
        ends.push_back(pieces.size());
    }
    std::vector<std::span<const std::uint8_t>> views(pieces.begin(), pieces.end());
    const std::size_t sent = inner_.send(views);
    return static_cast<std::size_t>(std::upper_bound(ends.begin(), ends.end(), sent) - ends.begin());
}

}  // namespace flagscan

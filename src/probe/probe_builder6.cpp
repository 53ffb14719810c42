// IPv6 probes (RFC 8200): templates from libnet's IPv6 builders, patched per probe with the AddressBook's addresses.
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/probe/probe_template.hpp"

#include <libnet.h>

#include <algorithm>
#include <optional>
#include <string>

#include "flagscan/net/address_book.hpp"
#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/decode6.hpp"

namespace flagscan {
namespace {

constexpr std::size_t kIp6Header = 40;  // RFC 8200 3: the fixed header; our probes carry no extension header
constexpr std::size_t kOffPayloadLength = 4, kOffSrc = 8, kOffDst = 24;
constexpr std::size_t kEthernetHeader = 14;
// Checksum fields (RFC 793 3.1, RFC 768, RFC 4443 2.1); an echo request's identifier and
// sequence number (RFC 4443 4.1); a Neighbor Solicitation's target address (RFC 4861 4.3).
constexpr std::size_t kOffTcpSum = 16, kOffUdpSum = 6, kOffIcmpSum = 2, kOffEchoId = 4, kOffEchoSeq = 6;
constexpr std::size_t kOffSport = 0, kOffDport = 2, kOffSeq = 4, kOffAck = 8, kOffUdpLength = 4;
constexpr std::size_t kOffNsTarget = 8;
// RFC 4861 7.1.1: a node drops a Neighbor Discovery message whose hop limit is not 255 (so that
// none can come from off the link).
constexpr std::uint8_t kNdpHopLimit = 255;
constexpr std::uint32_t kSlla = LIBNET_ICMPV6_NDP_OPT_H + 6;  // RFC 4861 4.6.1: type, length, a 6-byte MAC

// The IPv6 header over the upper-layer blocks already in `l` (addresses left zero), and with a
// `link_source` an Ethernet header from it to the IPv6 multicast MAC 33:33:ff:00:00:00 (its last
// three bytes are written per probe); then the bytes of the whole.
Result<std::vector<std::uint8_t>> finish_ipv6(libnet_t* l, std::uint32_t upper_length, std::uint8_t next_header,
                                              std::uint8_t hop_limit, std::optional<MacAddress> link_source = {}) {
    const libnet_in6_addr unspecified{};
    if (libnet_build_ipv6(0, 0, static_cast<std::uint16_t>(upper_length), next_header, hop_limit, unspecified,
                          unspecified, nullptr, 0, l, 0) == -1)
        return Error{libnet_geterror(l)};
    const MacAddress multicast{0x33, 0x33, 0xff, 0, 0, 0};
    if (link_source && libnet_build_ethernet(multicast.data(), link_source->data(), ETHERTYPE_IPV6, nullptr, 0, l, 0) == -1)
        return Error{libnet_geterror(l)};
    return coalesce(l);
}

Result<std::vector<std::uint8_t>> tcp_template6(libnet_t* l, const ProbeKind& kind, const ProbeShape& shape) {
    const auto tcp_length = build_tcp_header(l, kind, shape);
    if (!tcp_length) return Error{tcp_length.error()};
    return finish_ipv6(l, *tcp_length, ipproto::tcp, shape.ttl);
}

// The UDP header alone: the payload depends on the port and is appended per probe.
Result<std::vector<std::uint8_t>> udp_template6(libnet_t* l, const ProbeShape& shape) {
    if (libnet_build_udp(0, 0, LIBNET_UDP_H, 0, nullptr, 0, l, 0) == -1) return Error{libnet_geterror(l)};
    return finish_ipv6(l, LIBNET_UDP_H, ipproto::udp, shape.ttl);
}

// RFC 4443 4.1: an echo request without data, as the IPv4 echo lane sends (IPV6.md).
Result<std::vector<std::uint8_t>> echo_template6(libnet_t* l, const ProbeShape& shape) {
    if (libnet_build_icmpv6_echo(icmp6_type::echo_request, 0, 0, 0, 0, nullptr, 0, l, 0) == -1)
        return Error{libnet_geterror(l)};
    return finish_ipv6(l, LIBNET_ICMPV6_ECHO_H, ipproto::icmpv6, shape.ttl);
}

// The ARP lane over IPv6 (RFC 4861 7.2.2): a Neighbor Solicitation (4.3) with our Source
// Link-Layer Address option (4.6.1, which a multicast solicitation from a unicast address must
// carry), hop limit 255, in an Ethernet frame from our MAC (RFC 2464 8). Target, group and MAC per probe.
Result<std::vector<std::uint8_t>> solicitation_template(libnet_t* l, const ProbeShape& shape) {
    MacAddress mac = shape.source_mac;
    if (libnet_build_icmpv6_ndp_opt(ND_OPT_SOURCE_LINKADDR, mac.data(), mac.size(), l, 0) == -1 ||
        libnet_build_icmpv6_ndp_nsol(ND_NEIGHBOR_SOLICIT, 0, 0, libnet_in6_addr{}, nullptr, 0, l, 0) == -1)
        return Error{libnet_geterror(l)};
    return finish_ipv6(l, LIBNET_ICMPV6_NDP_NSOL_H + kSlla, ipproto::icmpv6, kNdpHopLimit, mac);
}

void put_address(std::span<std::uint8_t> out, std::size_t at, const Ipv6& address) {
    const auto bytes = address.bytes();
    std::copy(bytes.begin(), bytes.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
}

// RFC 8200 3: version 6 and traffic class 0; the flow label's low 16 bits are the probe's ip_id
// (RFC 6437 lets the source choose it; an ICMPv6 error quotes it with the whole header, so a UDP
// probe's 16 cookie bits come back there, as IPv4's IP identification: IPV6.md); payload
// length; the addresses. The hop limit is the template's (--ttl).
void patch_ipv6(const Probe& probe, std::span<std::uint8_t> packet, const Ipv6& src, const Ipv6& dst) {
    put_be32(packet, 0, 0x6000'0000U | probe.ip_id);
    put_be16(packet, kOffPayloadLength, static_cast<std::uint16_t>(packet.size() - kIp6Header));
    put_address(packet, kOffSrc, src);
    put_address(packet, kOffDst, dst);
}

// The checksum over the IPv6 pseudo-header (RFC 8200 8.1; ICMPv6's too, RFC 4443 2.3) of
// `upper` with its checksum field at `at` zeroed.
std::uint16_t checksum6(const Ipv6& src, const Ipv6& dst, std::uint8_t next_header, std::span<std::uint8_t> upper,
                        std::size_t at) {
    put_be16(upper, at, 0);
    return transport_checksum(src, dst, next_header, upper);
}

// RFC 793 3.1 and RFC 768: the ports, TCP's cookie in seq and ack (as over IPv4), UDP's length.
void patch_ports(const Probe& probe, std::uint8_t protocol, std::span<std::uint8_t> upper) {
    put_be16(upper, kOffSport, probe.sport.value());
    put_be16(upper, kOffDport, probe.dport.value());
    if (protocol == ipproto::udp) {
        put_be16(upper, kOffUdpLength, static_cast<std::uint16_t>(upper.size()));
        return;
    }
    put_be32(upper, kOffSeq, probe.seq);
    put_be32(upper, kOffAck, probe.ack);
}

// RFC 4291 2.7.1: the solicited-node multicast address of `target`, ff02::1:ff00:0/104 and
// its low 24 bits: where a node listens for solicitations of its address.
Ipv6 solicited_node(const Ipv6& target) {
    return Ipv6{0xff02'0000'0000'0000ULL, 0x0000'0001'ff00'0000ULL | (target.low() & 0xff'ffffULL)};
}

std::size_t solicit(std::span<const std::uint8_t> frame, const Ipv6& src, const Ipv6& target, std::span<std::uint8_t> out) {
    std::copy(frame.begin(), frame.end(), out.begin());
    const Ipv6 group = solicited_node(target);
    for (int i = 0; i < 3; ++i) out[3 + static_cast<std::size_t>(i)] = group.byte(13 + i);  // RFC 2464 7: 33:33 + its last 32 bits
    auto packet = out.subspan(kEthernetHeader, frame.size() - kEthernetHeader);
    put_address(packet, kOffSrc, src);
    put_address(packet, kOffDst, group);
    auto icmp = packet.subspan(kIp6Header);
    put_address(icmp, kOffNsTarget, target);
    put_be16(icmp, kOffIcmpSum, checksum6(src, group, ipproto::icmpv6, icmp, kOffIcmpSum));
    return frame.size();
}

}  // namespace

Result<std::vector<std::uint8_t>> build_template6(const ProbeKind& kind, const ProbeShape& shape) {
    if (kind.protocol == ipproto::icmp && kind.icmp_type == icmp_type::timestamp)
        return Error{"ICMP timestamp requests (-PP) have no IPv6 counterpart: use -PE, -PS, -PA or -PU with IPv6 targets"};
    auto context = construction_context();
    if (!context) return Error{context.error()};
    libnet_t* l = context->get();
    Result<std::vector<std::uint8_t>> bytes = Error{"probe kind " + std::string(kind.name) + " has no IPv6 form"};
    if (kind.protocol == ipproto::tcp) bytes = tcp_template6(l, kind, shape);
    if (kind.protocol == ipproto::udp) bytes = udp_template6(l, shape);
    if (kind.protocol == ipproto::icmp) bytes = echo_template6(l, shape);
    if (kind.protocol == ipproto::arp) bytes = solicitation_template(l, shape);
    if (!bytes) return Error{"libnet: " + bytes.error()};
    // --data-length: after the transport or echo header, as over IPv4 (checksums and the payload
    // length are written per probe); not in a solicitation.
    if (shape.data && kind.protocol != ipproto::arp) bytes->insert(bytes->end(), shape.data->begin(), shape.data->end());
    return bytes;
}

Result<ProbeBuilder> ProbeBuilder::create6(std::span<const ProbeKind* const> kinds, const ProbeShape& shape,
                                           const UdpPayloads* payloads, const AddressBook* book) {
    std::vector<Lane> lanes;
    for (const ProbeKind* kind : kinds) {
        auto bytes = build_template6(*kind, shape);
        if (!bytes) return Error{bytes.error()};
        lanes.push_back(Lane{kind->protocol, std::move(bytes).value()});
    }
    // --data-length replaces the UDP protocol payloads (nmap): its bytes are in the template.
    ProbeBuilder builder{std::move(lanes), shape.data ? nullptr : payloads, shape.badsum};
    builder.book_ = book;
    return builder;
}

// The template (and a UDP probe's payload for its port) copied, then the IPv6 header and the
// upper layer patched: ports and cookie as over IPv4, an echo request's identifier (the lane
// and try, probe.sport) and sequence number (the cookie's low 16 bits), the checksum last.
std::size_t ProbeBuilder::build6(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const {
    const auto src = book_->address_of(probe.src);
    const auto dst = book_->address_of(probe.dst);
    if (!src || !dst) return 0;
    if (lane.protocol == ipproto::arp) return solicit(lane.bytes, *src, *dst, out);
    const bool udp = lane.protocol == ipproto::udp;
    const auto payload = udp && payloads_ != nullptr ? payloads_->for_port(probe.dport) : std::span<const std::uint8_t>{};
    const auto after_template = std::copy(lane.bytes.begin(), lane.bytes.end(), out.begin());
    std::copy(payload.begin(), payload.end(), after_template);
    auto packet = out.first(lane.bytes.size() + payload.size());
    patch_ipv6(probe, packet, *src, *dst);
    auto upper = packet.subspan(kIp6Header);
    if (lane.protocol == ipproto::icmp) {
        put_be16(upper, kOffEchoId, probe.sport.value());
        put_be16(upper, kOffEchoSeq, static_cast<std::uint16_t>(probe.seq));
        put_be16(upper, kOffIcmpSum, checksum6(*src, *dst, ipproto::icmpv6, upper, kOffIcmpSum));
        return packet.size();
    }
    patch_ports(probe, lane.protocol, upper);
    const std::size_t at = udp ? kOffUdpSum : kOffTcpSum;
    std::uint16_t sum = checksum6(*src, *dst, lane.protocol, upper, at);
    if (udp && sum == 0) sum = 0xffff;  // RFC 768, RFC 8200 8.1: a UDP checksum of 0 is never sent over IPv6
    put_be16(upper, at, badsum_ ? wrong_checksum(sum) : sum);
    return packet.size();
}

}  // namespace flagscan

// The probe templates: built with libnet once per scan and lane, then only patched per probe.
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/probe/probe_template.hpp"
#include "flagscan/probe/raw_packet.hpp"

#include <libnet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"

namespace flagscan {

void LibnetDeleter::operator()(libnet_t* l) const { libnet_destroy(l); }

namespace {

constexpr std::size_t kIpHeader = 20;
constexpr std::size_t kOffIpLen = 2, kOffIpId = 4, kOffIpSum = 10, kOffIpSrc = 12, kOffIpDst = 16;
constexpr std::size_t kOffSport = 0, kOffDport = 2, kOffSeq = 4, kOffAck = 8, kOffTcpSum = 16;
constexpr std::size_t kOffUdpLen = 4, kOffUdpSum = 6;
constexpr std::size_t kOffIcmpSum = 2, kOffIcmpId = 4, kOffIcmpSeq = 6;

}  // namespace

Result<std::vector<std::uint8_t>> coalesce(libnet_t* l) {
    std::uint8_t* packet = nullptr;
    std::uint32_t size = 0;
    if (libnet_pblock_coalesce(l, &packet, &size) == -1) return Error{libnet_geterror(l)};
    std::vector<std::uint8_t> bytes(packet, packet + size);
    libnet_adv_free_packet(l, packet);
    return bytes;
}

Result<LibnetHandle> construction_context() {
    std::array<char, LIBNET_ERRBUF_SIZE> errbuf{};
    LibnetHandle l{libnet_init(LIBNET_NONE, nullptr, errbuf.data())};
    if (!l) return Error{std::string("libnet: ") + errbuf.data()};
    return l;
}

Result<std::uint32_t> build_tcp_header(libnet_t* l, const ProbeKind& kind, const ProbeShape& shape) {
    std::array<std::uint8_t, 4> mss{2, 4, static_cast<std::uint8_t>(shape.mss >> 8), static_cast<std::uint8_t>(shape.mss)};
    const bool with_mss = shape.mss != 0;
    if (with_mss && libnet_build_tcp_options(mss.data(), mss.size(), l, 0) == -1) return Error{libnet_geterror(l)};
    const std::uint32_t tcp_len = LIBNET_TCP_H + (with_mss ? mss.size() : 0);
    if (libnet_build_tcp(0, 0, 0, 0, kind.flags.bits(), shape.window, 0, 0, tcp_len, nullptr, 0, l, 0) == -1)
        return Error{libnet_geterror(l)};
    return tcp_len;
}

namespace {

// Builds the IPv4 header over whatever transport block is already in `l`, then joins the blocks.
Result<std::vector<std::uint8_t>> finish_ipv4(libnet_t* l, std::uint32_t transport_len, std::uint8_t protocol,
                                              std::uint8_t ttl, std::uint8_t tos = 0, std::uint16_t id = 0,
                                              bool dont_fragment = false) {
    constexpr std::uint16_t kDf = 0x4000;  // RFC 791 3.1: flags bit 1, Don't Fragment
    if (libnet_build_ipv4(static_cast<std::uint16_t>(LIBNET_IPV4_H + transport_len), tos, id, dont_fragment ? kDf : 0,
                          ttl, protocol, 0, 0, 0, nullptr, 0, l, 0) == -1)
        return Error{libnet_geterror(l)};
    return coalesce(l);
}

Result<std::vector<std::uint8_t>> build_tcp_template(libnet_t* l, const ProbeKind& kind, const ProbeShape& shape) {
    const auto tcp_len = build_tcp_header(l, kind, shape);
    if (!tcp_len) return Error{tcp_len.error()};
    return finish_ipv4(l, *tcp_len, IPPROTO_TCP, shape.ttl);
}

// The UDP header alone: the payload depends on the port and is appended per probe.
Result<std::vector<std::uint8_t>> build_udp_template(libnet_t* l, const ProbeShape& shape) {
    if (libnet_build_udp(0, 0, LIBNET_UDP_H, 0, nullptr, 0, l, 0) == -1) return Error{libnet_geterror(l)};
    return finish_ipv4(l, LIBNET_UDP_H, IPPROTO_UDP, shape.ttl);
}

// RFC 792: an echo request without data (as nmap sends it), or a timestamp request whose
// originate timestamp is left 0 (its value does not matter to the answer).
Result<std::vector<std::uint8_t>> build_icmp_template(libnet_t* l, const ProbeKind& kind, const ProbeShape& shape) {
    std::uint32_t len = 0;
    if (kind.icmp_type == icmp_type::timestamp) {
        if (libnet_build_icmpv4_timestamp(ICMP_TSTAMP, 0, 0, 0, 0, 0, 0, 0, nullptr, 0, l, 0) == -1)
            return Error{libnet_geterror(l)};
        len = LIBNET_ICMPV4_TS_H;
    } else {
        if (libnet_build_icmpv4_echo(ICMP_ECHO, 0, 0, 0, 0, nullptr, 0, l, 0) == -1) return Error{libnet_geterror(l)};
        len = LIBNET_ICMPV4_ECHO_H;
    }
    return finish_ipv4(l, len, IPPROTO_ICMP, shape.ttl);
}

// RFC 826: a broadcast request "who has <target>? tell <us>"; the target address is patched in.
Result<std::vector<std::uint8_t>> build_arp_template(libnet_t* l, const ProbeShape& shape) {
    const MacAddress broadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const std::array<std::uint8_t, 6> unknown{};
    const std::array<std::uint8_t, 4> no_ip{};
    if (libnet_build_arp(ARPHRD_ETHER, ETHERTYPE_IP, 6, 4, ARPOP_REQUEST, shape.source_mac.data(), no_ip.data(),
                         unknown.data(), no_ip.data(), nullptr, 0, l, 0) == -1 ||
        libnet_build_ethernet(broadcast.data(), shape.source_mac.data(), ETHERTYPE_ARP, nullptr, 0, l, 0) == -1)
        return Error{libnet_geterror(l)};
    return coalesce(l);
}

// --data-length's bytes after the transport header (and the ICMP header): the checksums computed
// per probe cover them, the IP total length is written per probe. An ARP request has no data.
void append_data(std::vector<std::uint8_t>& bytes, const ProbeKind& kind, const ProbeShape& shape) {
    if (shape.data && kind.protocol != ipproto::arp) bytes.insert(bytes.end(), shape.data->begin(), shape.data->end());
}

Result<std::vector<std::uint8_t>> build_template(const ProbeKind& kind, const ProbeShape& shape) {
    auto context = construction_context();
    if (!context) return Error{context.error()};
    LibnetHandle l = std::move(context).value();
    Result<std::vector<std::uint8_t>> bytes = Error{"probe kind " + std::string(kind.name) + " has no packet form"};
    if (kind.protocol == ipproto::tcp) bytes = build_tcp_template(l.get(), kind, shape);
    if (kind.protocol == ipproto::udp) bytes = build_udp_template(l.get(), shape);
    if (kind.protocol == ipproto::icmp) bytes = build_icmp_template(l.get(), kind, shape);
    if (kind.protocol == ipproto::arp) bytes = build_arp_template(l.get(), shape);
    if (!bytes) return Error{"libnet: " + bytes.error()};
    if (bytes->size() < kIpHeader + 8) return Error{"libnet built a short probe template"};
    append_data(*bytes, kind, shape);
    return bytes;
}

void patch_ip(const Probe& probe, std::span<std::uint8_t> ip, std::size_t total) {
    put_be16(ip, kOffIpLen, static_cast<std::uint16_t>(total));
    put_be16(ip, kOffIpId, probe.ip_id);
    put_be32(ip, kOffIpSrc, probe.src.value());
    put_be32(ip, kOffIpDst, probe.dst.value());
    put_be16(ip, kOffIpSum, 0);
    put_be16(ip, kOffIpSum, ipv4_header_checksum(ip));
}

std::size_t largest_payload(const UdpPayloads* payloads) {
    std::size_t largest = 0;
    for (unsigned port = 0; payloads != nullptr && port <= 65535; ++port)
        largest = std::max(largest, payloads->for_port(Port{static_cast<std::uint16_t>(port)}).size());
    return largest;
}

// A raw packet's addresses and checksums, written over what libnet left (it builds with zeros).
std::vector<std::uint8_t> finish_raw(std::vector<std::uint8_t> bytes, const RawIp& ip, std::size_t checksum_at,
                                     bool pseudo_header) {
    std::span<std::uint8_t> all{bytes};
    put_be32(all, kOffIpSrc, ip.src.value());
    put_be32(all, kOffIpDst, ip.dst.value());
    put_be16(all, kOffIpSum, 0);
    put_be16(all, kOffIpSum, ipv4_header_checksum(all.first(kIpHeader)));
    auto transport = all.subspan(kIpHeader);
    put_be16(transport, checksum_at, 0);
    const std::uint16_t sum = pseudo_header ? transport_checksum(ip.src, ip.dst, all[9], transport)
                                            : checksum_finish(checksum_add(transport));
    // RFC 768: a UDP checksum that computes to 0 is sent as 0xffff (0 means "none").
    put_be16(transport, checksum_at, sum == 0 && all[9] == ipproto::udp ? 0xffff : sum);
    return bytes;
}

}  // namespace

std::uint16_t wrong_checksum(std::uint16_t correct) {
    const auto low = static_cast<std::uint16_t>(correct ^ 0x00ff);
    return low != 0 ? low : static_cast<std::uint16_t>(correct ^ 0xff00);
}

// splitmix64 (Steele, Lea, Flood 2014): eight well-mixed bytes per step from a counter.
std::vector<std::uint8_t> random_data(std::size_t n, std::uint64_t seed) {
    std::vector<std::uint8_t> out(n);
    std::uint64_t state = seed;
    for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        for (std::size_t j = 0; j < 8 && i + j < n; ++j) out[i + j] = static_cast<std::uint8_t>(z >> (8 * j));
    }
    return out;
}

Result<std::vector<std::uint8_t>> build_raw_tcp(const RawIp& ip, const RawTcp& tcp) {
    auto context = construction_context();
    if (!context) return Error{context.error()};
    libnet_t* l = context->get();
    if (!tcp.options.empty() && libnet_build_tcp_options(tcp.options.data(), static_cast<std::uint32_t>(tcp.options.size()), l, 0) == -1)
        return Error{std::string("libnet: ") + libnet_geterror(l)};
    const auto len = static_cast<std::uint32_t>(LIBNET_TCP_H + tcp.options.size());
    if (libnet_build_tcp(tcp.sport.value(), tcp.dport.value(), tcp.seq, tcp.ack, tcp.flags.bits(), tcp.window, 0,
                         tcp.urgent, len, nullptr, 0, l, 0) == -1)
        return Error{std::string("libnet: ") + libnet_geterror(l)};
    auto bytes = finish_ipv4(l, len, IPPROTO_TCP, ip.ttl, ip.tos, ip.id, ip.dont_fragment);
    if (!bytes) return Error{"libnet: " + bytes.error()};
    // libnet leaves the 4 reserved bits 0 (RFC 793 3.1); RFC 3540 and nmap's ECN probe set them.
    (*bytes)[kIpHeader + 12] = static_cast<std::uint8_t>(((*bytes)[kIpHeader + 12] & 0xf0) | (tcp.reserved & 0x0f));
    return finish_raw(std::move(bytes).value(), ip, kOffTcpSum, true);
}

Result<std::vector<std::uint8_t>> build_raw_echo(const RawIp& ip, const RawEcho& echo) {
    auto context = construction_context();
    if (!context) return Error{context.error()};
    libnet_t* l = context->get();
    const std::vector<std::uint8_t> data(echo.data_length, 0);
    if (libnet_build_icmpv4_echo(ICMP_ECHO, echo.code, 0, echo.id, echo.seq, data.empty() ? nullptr : data.data(),
                                 static_cast<std::uint32_t>(data.size()), l, 0) == -1)
        return Error{std::string("libnet: ") + libnet_geterror(l)};
    auto bytes = finish_ipv4(l, static_cast<std::uint32_t>(LIBNET_ICMPV4_ECHO_H + data.size()), IPPROTO_ICMP, ip.ttl,
                             ip.tos, ip.id, ip.dont_fragment);
    if (!bytes) return Error{"libnet: " + bytes.error()};
    return finish_raw(std::move(bytes).value(), ip, kOffIcmpSum, false);
}

Result<std::vector<std::uint8_t>> build_raw_udp(const RawIp& ip, const RawUdp& udp) {
    auto context = construction_context();
    if (!context) return Error{context.error()};
    libnet_t* l = context->get();
    const auto len = static_cast<std::uint32_t>(LIBNET_UDP_H + udp.payload.size());
    if (libnet_build_udp(udp.sport.value(), udp.dport.value(), static_cast<std::uint16_t>(len), 0,
                         udp.payload.empty() ? nullptr : udp.payload.data(), static_cast<std::uint32_t>(udp.payload.size()),
                         l, 0) == -1)
        return Error{std::string("libnet: ") + libnet_geterror(l)};
    auto bytes = finish_ipv4(l, len, IPPROTO_UDP, ip.ttl, ip.tos, ip.id, ip.dont_fragment);
    if (!bytes) return Error{"libnet: " + bytes.error()};
    return finish_raw(std::move(bytes).value(), ip, kOffUdpSum, true);
}

ProbeBuilder::ProbeBuilder(std::vector<Lane> lanes, const UdpPayloads* payloads, bool badsum)
    : lanes_(std::move(lanes)), payloads_(payloads), badsum_(badsum) {
    const std::size_t payload = largest_payload(payloads_);
    for (const auto& lane : lanes_) {
        const std::size_t extra = lane.protocol == ipproto::udp ? payload : 0;
        max_size_ = std::max(max_size_, lane.bytes.size() + extra);
    }
}

Result<ProbeBuilder> ProbeBuilder::create(std::span<const ProbeKind* const> kinds, const ProbeShape& shape,
                                          const UdpPayloads* payloads, const AddressBook* book) {
    if (book != nullptr) return create6(kinds, shape, payloads, book);
    std::vector<Lane> lanes;
    for (const ProbeKind* kind : kinds) {
        auto bytes = build_template(*kind, shape);
        if (!bytes) return Error{bytes.error()};
        lanes.push_back(Lane{kind->protocol, std::move(bytes).value()});
    }
    // --data-length replaces the UDP protocol payloads (nmap): its bytes are in the template.
    return ProbeBuilder{std::move(lanes), shape.data ? nullptr : payloads, shape.badsum};
}

Result<ProbeBuilder> ProbeBuilder::create(const ProbeKind& kind, const ProbeShape& shape) {
    const ProbeKind* kinds[] = {&kind};
    return create(kinds, shape, nullptr);
}

std::size_t ProbeBuilder::build_tcp(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const {
    const std::size_t total = lane.bytes.size();
    std::copy(lane.bytes.begin(), lane.bytes.end(), out.begin());
    auto tcp = out.subspan(kIpHeader, total - kIpHeader);
    put_be16(tcp, kOffSport, probe.sport.value());
    put_be16(tcp, kOffDport, probe.dport.value());
    put_be32(tcp, kOffSeq, probe.seq);
    put_be32(tcp, kOffAck, probe.ack);
    put_be16(tcp, kOffTcpSum, 0);
    const std::uint16_t sum = transport_checksum(probe.src, probe.dst, ipproto::tcp, tcp);
    put_be16(tcp, kOffTcpSum, badsum_ ? wrong_checksum(sum) : sum);
    patch_ip(probe, out.first(kIpHeader), total);
    return total;
}

// RFC 768: the checksum covers the pseudo-header, header and payload; a computed 0 is sent as
// 0xffff (0 means "no checksum").
std::size_t ProbeBuilder::build_udp(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const {
    const auto payload = payloads_ != nullptr ? payloads_->for_port(probe.dport) : std::span<const std::uint8_t>{};
    const std::size_t total = lane.bytes.size() + payload.size();
    std::copy(lane.bytes.begin(), lane.bytes.end(), out.begin());
    std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(lane.bytes.size()));
    auto udp = out.subspan(kIpHeader, total - kIpHeader);
    put_be16(udp, kOffSport, probe.sport.value());
    put_be16(udp, kOffDport, probe.dport.value());
    put_be16(udp, kOffUdpLen, static_cast<std::uint16_t>(udp.size()));
    put_be16(udp, kOffUdpSum, 0);
    const std::uint16_t sum = transport_checksum(probe.src, probe.dst, ipproto::udp, udp);
    const std::uint16_t sent = sum == 0 ? 0xffff : sum;
    put_be16(udp, kOffUdpSum, badsum_ ? wrong_checksum(sent) : sent);
    patch_ip(probe, out.first(kIpHeader), total);
    return total;
}

// RFC 792: the identifier names the lane and try (the probe's source port), the sequence
// number carries 16 bits of the cookie; the reply returns both.
std::size_t ProbeBuilder::build_icmp(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const {
    const std::size_t total = lane.bytes.size();
    std::copy(lane.bytes.begin(), lane.bytes.end(), out.begin());
    auto icmp = out.subspan(kIpHeader, total - kIpHeader);
    put_be16(icmp, kOffIcmpId, probe.sport.value());
    put_be16(icmp, kOffIcmpSeq, static_cast<std::uint16_t>(probe.seq));
    put_be16(icmp, kOffIcmpSum, 0);
    put_be16(icmp, kOffIcmpSum, checksum_finish(checksum_add(icmp)));
    patch_ip(probe, out.first(kIpHeader), total);
    return total;
}

constexpr std::size_t kOffArpSenderIp = 14 + 14, kOffArpTargetIp = 14 + 24;

std::size_t ProbeBuilder::build_arp(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const {
    std::copy(lane.bytes.begin(), lane.bytes.end(), out.begin());
    put_be32(out, kOffArpSenderIp, probe.src.value());
    put_be32(out, kOffArpTargetIp, probe.dst.value());
    return lane.bytes.size();
}

std::size_t ProbeBuilder::build(const Probe& probe, std::span<std::uint8_t> out) const {
    const Lane& lane = lanes_[probe.lane < lanes_.size() ? probe.lane : 0];
    if (book_ != nullptr) return build6(probe, lane, out);
    switch (lane.protocol) {
        case ipproto::udp: return build_udp(probe, lane, out);
        case ipproto::icmp: return build_icmp(probe, lane, out);
        case ipproto::arp: return build_arp(probe, lane, out);
        default: return build_tcp(probe, lane, out);
    }
}

}  // namespace flagscan

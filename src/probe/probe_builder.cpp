// The probe template: built with libnet once per scan, then only patched per probe.
#include "flagscan/probe/probe_builder.hpp"

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
namespace {

// RAII for a libnet context.
struct LibnetDeleter {
    void operator()(libnet_t* l) const { libnet_destroy(l); }
};
using LibnetHandle = std::unique_ptr<libnet_t, LibnetDeleter>;

constexpr std::size_t kIpHeader = 20;
constexpr std::size_t kOffIpId = 4, kOffIpSum = 10, kOffIpSrc = 12, kOffIpDst = 16;
constexpr std::size_t kOffSport = 0, kOffDport = 2, kOffSeq = 4, kOffAck = 8, kOffTcpSum = 16;

Result<std::vector<std::uint8_t>> build_tcp_template(libnet_t* l, const ProbeKind& kind, const ProbeShape& shape) {
    std::array<std::uint8_t, 4> mss{2, 4, static_cast<std::uint8_t>(shape.mss >> 8), static_cast<std::uint8_t>(shape.mss)};
    const bool with_mss = shape.mss != 0;
    if (with_mss && libnet_build_tcp_options(mss.data(), mss.size(), l, 0) == -1) return Error{libnet_geterror(l)};
    const std::uint32_t tcp_len = LIBNET_TCP_H + (with_mss ? mss.size() : 0);
    if (libnet_build_tcp(0, 0, 0, 0, kind.flags.bits(), shape.window, 0, 0, tcp_len, nullptr, 0, l, 0) == -1)
        return Error{libnet_geterror(l)};
    if (libnet_build_ipv4(static_cast<std::uint16_t>(LIBNET_IPV4_H + tcp_len), 0, 0, 0, shape.ttl, IPPROTO_TCP, 0, 0,
                          0, nullptr, 0, l, 0) == -1)
        return Error{libnet_geterror(l)};
    std::uint8_t* packet = nullptr;
    std::uint32_t size = 0;
    if (libnet_pblock_coalesce(l, &packet, &size) == -1) return Error{libnet_geterror(l)};
    std::vector<std::uint8_t> bytes(packet, packet + size);
    libnet_adv_free_packet(l, packet);
    return bytes;
}

}  // namespace

Result<ProbeBuilder> ProbeBuilder::create(const ProbeKind& kind, const ProbeShape& shape) {
    if (kind.protocol != ipproto::tcp) return Error{"probe kind " + std::string(kind.name) + " is not a TCP scan"};
    std::array<char, LIBNET_ERRBUF_SIZE> errbuf{};
    LibnetHandle l{libnet_init(LIBNET_NONE, nullptr, errbuf.data())};
    if (!l) return Error{std::string("libnet: ") + errbuf.data()};
    auto bytes = build_tcp_template(l.get(), kind, shape);
    if (!bytes) return Error{"libnet: " + bytes.error()};
    if (bytes->size() < kIpHeader + LIBNET_TCP_H) return Error{"libnet built a short probe template"};
    return ProbeBuilder{std::move(bytes).value()};
}

void ProbeBuilder::build(const Probe& probe, std::span<std::uint8_t> out) const {
    std::copy(template_.begin(), template_.end(), out.begin());
    auto ip = out.first(kIpHeader);
    auto tcp = out.subspan(kIpHeader, template_.size() - kIpHeader);
    put_be16(ip, kOffIpId, probe.ip_id);
    put_be32(ip, kOffIpSrc, probe.src.value());
    put_be32(ip, kOffIpDst, probe.dst.value());
    put_be16(ip, kOffIpSum, 0);
    put_be16(ip, kOffIpSum, ipv4_header_checksum(ip));
    put_be16(tcp, kOffSport, probe.sport.value());
    put_be16(tcp, kOffDport, probe.dport.value());
    put_be32(tcp, kOffSeq, probe.seq);
    put_be32(tcp, kOffAck, probe.ack);
    put_be16(tcp, kOffTcpSum, 0);
    put_be16(tcp, kOffTcpSum, transport_checksum(probe.src, probe.dst, ipproto::tcp, tcp));
}

}  // namespace flagscan

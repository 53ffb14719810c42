// Reading packets as probes and replies: the probe kinds' flag table (probe/probe_kind.cpp) turned around.
#include "flagscan/detect/probe_class.hpp"

#include <array>

#include "flagscan/probe/probe_kind.hpp"

namespace flagscan {
namespace {

constexpr std::array<std::string_view, kScanKinds> kNames{
    "syn", "connect", "fin", "null", "xmas", "ack/window", "maimon", "odd-flags", "udp", "icmp-echo",
    "icmp-timestamp", "arp", "fragments"};

// The ProbeKind names (probe_kind.cpp) of the raw TCP scans, to the kind a detector reports.
std::optional<ScanKind> kind_of_probe_name(std::string_view name) {
    if (name == "SYN") return ScanKind::syn;
    if (name == "FIN") return ScanKind::fin;
    if (name == "NULL") return ScanKind::null;
    if (name == "XMAS") return ScanKind::xmas;
    if (name == "ACK" || name == "Window") return ScanKind::ack_window;  // one probe, two readings of the reply
    if (name == "Maimon") return ScanKind::maimon;
    return std::nullopt;
}

constexpr std::uint8_t kEcn = TcpFlags::ece | TcpFlags::cwr;

Observed reply(Observed::Role role, ScanKind kind, std::uint8_t protocol, Ipv4 prober, Ipv4 target, Port port) {
    Observed o;
    o.role = role;
    o.kind = kind;
    o.protocol = protocol;
    o.from = prober;
    o.to = target;
    o.port = port;
    return o;
}

Observed probe(ScanKind kind, std::uint8_t protocol, Ipv4 from, Ipv4 to, Port port, bool fragmented) {
    return reply(Observed::Role::probe, fragmented ? ScanKind::fragments : kind, protocol, from, to, port);
}

Observed observe_tcp(const DecodedPacket& p, bool fragmented) {
    const TcpHeader& tcp = *p.tcp;
    const auto bits = static_cast<std::uint8_t>(tcp.flags.bits() & ~kEcn);
    const std::size_t headers = std::size_t{p.ip.header_length} + tcp.header_length;
    const bool payload = p.ip.total_length > headers;
    // RFC 793 3.4: SYN+ACK answers a SYN to a listening port, RST refuses a segment.
    if ((bits & (TcpFlags::syn | TcpFlags::ack)) == (TcpFlags::syn | TcpFlags::ack))
        return reply(Observed::Role::positive, ScanKind::syn, ipproto::tcp, p.ip.dst, p.ip.src, tcp.sport);
    if (bits & TcpFlags::rst)
        return reply(Observed::Role::negative, ScanKind::syn, ipproto::tcp, p.ip.dst, p.ip.src, tcp.sport);
    auto kind = kind_of_tcp_flags(bits);
    Observed o = kind ? probe(*kind, ipproto::tcp, p.ip.src, p.ip.dst, tcp.dport, fragmented)
                      : reply(Observed::Role::ack, ScanKind::ack_window, ipproto::tcp, p.ip.src, p.ip.dst, tcp.dport);
    if (kind == ScanKind::ack_window && !fragmented) o.role = Observed::Role::ack;
    o.payload = payload;
    return o;
}

Observed observe_icmp(const DecodedPacket& p, bool fragmented) {
    const IcmpHeader& icmp = *p.icmp;
    switch (icmp.type) {
        case icmp_type::echo: return probe(ScanKind::icmp_echo, ipproto::icmp, p.ip.src, p.ip.dst, Port{}, fragmented);
        case icmp_type::timestamp:
            return probe(ScanKind::icmp_timestamp, ipproto::icmp, p.ip.src, p.ip.dst, Port{}, fragmented);
        case icmp_type::echo_reply:
            return reply(Observed::Role::positive, ScanKind::icmp_echo, ipproto::icmp, p.ip.dst, p.ip.src, Port{});
        case icmp_type::timestamp_reply:
            return reply(Observed::Role::positive, ScanKind::icmp_timestamp, ipproto::icmp, p.ip.dst, p.ip.src, Port{});
        default: break;
    }
    // RFC 792 / RFC 1122 3.2.2.1: an unreachable quotes the probe it refuses.
    if (icmp.type != icmp_type::unreachable || !icmp.quoted) return {};
    const QuotedProbe& q = *icmp.quoted;
    if (q.ip.protocol != ipproto::tcp && q.ip.protocol != ipproto::udp) return {};
    const ScanKind kind = q.ip.protocol == ipproto::udp ? ScanKind::udp : ScanKind::syn;
    return reply(Observed::Role::negative, kind, q.ip.protocol, q.ip.src, q.ip.dst, q.dport);
}

// RFC 826: a request asks who has target_ip; a reply names the sender's. Gratuitous ARP (sender
// and target the same, RFC 5227 announcements) and probes from 0.0.0.0 (RFC 5227 probes) ask nobody.
Observed observe_arp(const ArpHeader& arp) {
    if (arp.operation == 1 && arp.sender_ip != arp.target_ip && arp.sender_ip.value() != 0)
        return probe(ScanKind::arp, ipproto::arp, arp.sender_ip, arp.target_ip, Port{}, false);
    if (arp.operation == 2)
        return reply(Observed::Role::positive, ScanKind::arp, ipproto::arp, arp.target_ip, arp.sender_ip, Port{});
    return {};
}

}  // namespace

std::string_view scan_kind_name(ScanKind kind) { return kNames[static_cast<std::size_t>(kind)]; }

std::optional<ScanKind> kind_of_tcp_flags(std::uint8_t flags) {
    flags = static_cast<std::uint8_t>(flags & ~kEcn);
    for (const ProbeKind& k : all_probe_kinds())
        if (k.flags.bits() == flags) return kind_of_probe_name(k.name);
    if (flags & (TcpFlags::ack | TcpFlags::rst)) return std::nullopt;
    return ScanKind::odd_flags;
}

Observed observe(const DecodedPacket& packet, bool fragmented) {
    if (packet.arp) return observe_arp(*packet.arp);
    if (packet.tcp) return observe_tcp(packet, fragmented);
    if (packet.udp) return probe(ScanKind::udp, ipproto::udp, packet.ip.src, packet.ip.dst, packet.udp->dport, fragmented);
    if (packet.icmp) return observe_icmp(packet, fragmented);
    if (fragmented || packet.ip.more_fragments || packet.ip.later_fragment)  // a piece too short for its header
        return probe(ScanKind::fragments, packet.ip.protocol, packet.ip.src, packet.ip.dst, Port{}, true);
    return {};
}

}  // namespace flagscan

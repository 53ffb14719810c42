// Packet trace lines, as nmap's --packet-trace prints them, with every flag named.
#include "flagscan/output/packet_trace.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "flagscan/net/address_text.hpp"
#include "flagscan/output/report.hpp"
#include "flagscan/probe/port_state.hpp"

namespace flagscan {
namespace {

// What a line says of the IP layer: both addresses as text and the hop count's field, "ttl=64"
// (IPv4) or "hlim=64" (IPv6's hop limit, RFC 8200 3).
struct IpText {
    std::string src;
    std::string dst;
    std::string hops;
};

IpText ip_text(const Ipv4Header& ip, const AddressBook* book) {
    return {address_text(book, ip.src), address_text(book, ip.dst), "ttl=" + std::to_string(ip.ttl)};
}

IpText ip_text(const Ipv6Header& ip) { return {ip.src.str(), ip.dst.str(), "hlim=" + std::to_string(ip.hop_limit)}; }

std::string tcp_line(const IpText& ip, const TcpHeader& tcp) {
    std::string line = endpoint_text(ip.src, tcp.sport) + " > " + endpoint_text(ip.dst, tcp.dport) + " " + tcp.flags.str();
    if (!tcp.flags.any(TcpFlags::ack) || tcp.flags.any(TcpFlags::syn)) line += " seq=" + std::to_string(tcp.seq);
    if (tcp.flags.any(TcpFlags::ack)) line += " ack=" + std::to_string(tcp.ack);
    return line + " " + ip.hops + " win=" + std::to_string(tcp.window);
}

std::string udp_line(const IpText& ip, const UdpHeader& udp) {
    const int payload = std::max(0, int{udp.length} - 8);
    return endpoint_text(ip.src, udp.sport) + " > " + endpoint_text(ip.dst, udp.dport) + " UDP " + std::to_string(payload) +
           " bytes " + ip.hops;
}

// The TCP, UDP or ICMP header the packet carries, if any of them.
std::optional<std::string> transport_line(const IpText& ip, const DecodedTransport& p) {
    if (p.tcp) return tcp_line(ip, *p.tcp);
    if (p.udp) return udp_line(ip, *p.udp);
    return std::nullopt;
}

// What an ICMP or ICMPv6 error quotes: " about 10.0.0.1:61232 > 10.0.0.2:22", or for a quoted
// query " about 10.0.0.1 > 10.0.0.2 ICMP id=7".
std::string quote_text(const IpText& quoted, const QuotedTransport& q, bool query, std::string_view icmp) {
    if (query) return " about " + quoted.src + " > " + quoted.dst + " " + std::string(icmp) + " id=" + std::to_string(q.query_id);
    return " about " + endpoint_text(quoted.src, q.sport) + " > " + endpoint_text(quoted.dst, q.dport);
}

std::string arp_line(const DecodedPacket& p, const AddressBook* book) {
    const auto& arp = *p.arp;
    if (arp.operation == 1)
        return "ARP who-has " + address_text(book, arp.target_ip) + " tell " + address_text(book, arp.sender_ip);
    return "ARP reply " + address_text(book, arp.sender_ip) + " is-at " + mac_text(arp.sender_mac);
}

std::string icmp_line(const DecodedPacket& p, const AddressBook* book) {
    const auto& icmp = *p.icmp;
    const IpText ip = ip_text(p.ip, book);
    std::string line = ip.src + " > " + ip.dst + " ICMP " + std::to_string(icmp.type) + "/" + std::to_string(icmp.code);
    if (icmp.type == icmp_type::unreachable) line.append(" ").append(to_string(reason_for_icmp_unreachable(icmp.code)));
    if (icmp.quoted)
        line += quote_text(ip_text(icmp.quoted->ip, book), *icmp.quoted, icmp.quoted->ip.protocol == ipproto::icmp, "ICMP");
    else if (icmp.type != icmp_type::unreachable)
        line += " id=" + std::to_string(icmp.id) + " seq=" + std::to_string(icmp.seq);
    return line + " " + ip.hops;
}

std::string describe(const DecodedPacket& p, const AddressBook* book) {
    const IpText ip = ip_text(p.ip, book);
    if (auto line = transport_line(ip, p)) return *line;
    if (p.icmp) return icmp_line(p, book);
    if (p.arp) return arp_line(p, book);
    return ip.src + " > " + ip.dst + " proto " + std::to_string(p.ip.protocol) + " " + ip.hops;
}

// Destination Unreachable's codes in words (RFC 4443 3.1), as nmap's reasons name them.
std::string_view unreachable6_words(std::uint8_t code) {
    constexpr std::string_view kWords[] = {"no-route",     "admin-prohibited", "beyond-scope", "addr-unreach",
                                           "port-unreach", "source-policy",    "reject-route"};
    return code < std::size(kWords) ? kWords[code] : std::string_view{"unreach"};
}

// Neighbor Discovery (RFC 4861 4.3, 4.4): IPv6's ARP, in ARP's words.
std::string neighbor_words(const Icmp6Header& icmp) {
    const NeighborMessage& n = *icmp.neighbor;
    if (icmp.type == icmp6_type::neighbor_solicitation) return " neighbor solicitation who-has " + n.target.str();
    return " neighbor advertisement " + n.target.str() + " is-at " + (n.link_address ? mac_text(*n.link_address) : "?");
}

std::string icmp6_line(const IpText& ip, const Icmp6Header& icmp) {
    std::string line = ip.src + " > " + ip.dst + " ICMPv6 " + std::to_string(icmp.type) + "/" + std::to_string(icmp.code);
    if (icmp.type == icmp6_type::unreachable) line.append(" ").append(unreachable6_words(icmp.code));
    if (icmp.type == icmp6_type::packet_too_big) line += " mtu=" + std::to_string(icmp.mtu);
    if (icmp.neighbor) line += neighbor_words(icmp);
    if (icmp.quoted)
        line += quote_text(ip_text(icmp.quoted->ip), *icmp.quoted, icmp.quoted->ip.next_header == ipproto::icmpv6, "ICMPv6");
    else if (icmp.type == icmp6_type::echo_request || icmp.type == icmp6_type::echo_reply)
        line += " id=" + std::to_string(icmp.id) + " seq=" + std::to_string(icmp.seq);
    return line + " " + ip.hops;
}

std::string describe6(const DecodedPacket6& p) {
    const IpText ip = ip_text(p.ip);
    if (auto line = transport_line(ip, p)) return *line;
    if (p.icmp6) return icmp6_line(ip, *p.icmp6);
    return ip.src + " > " + ip.dst + " next-header " + std::to_string(p.ip.next_header) + " " + ip.hops;
}

std::string outcome_note(const PacketOutcome& outcome) {
    switch (outcome.kind) {
        case PacketOutcome::Kind::answer: {
            if (outcome.rtt < 0) return " (answers an earlier try)";
            char rtt[32];
            std::snprintf(rtt, sizeof rtt, " (%.2f ms)", static_cast<double>(outcome.rtt) / kMillisecond);
            return rtt;
        }
        case PacketOutcome::Kind::stray: return " [stray: not an answer to this scan]";
        case PacketOutcome::Kind::duplicate: return " [duplicate: the port was already decided]";
        case PacketOutcome::Kind::late: return " [late: overturns a no-response verdict]";
        case PacketOutcome::Kind::unmatched: return " [no rule of this scan type reads this reply]";
        case PacketOutcome::Kind::own: return " [our own probe]";
    }
    return {};
}

// Our own window is the template's: not worth a column.
std::string sent_line(const std::string& described) {
    const auto pos = described.rfind(" win=");
    return "SENT  " + (pos == std::string::npos ? described : described.substr(0, pos));
}

}  // namespace

std::string trace_sent(const DecodedPacket& probe, const AddressBook* book) { return sent_line(describe(probe, book)); }

std::string trace_received(const DecodedPacket& reply, const PacketOutcome& outcome, const AddressBook* book) {
    return "RCVD  " + describe(reply, book) + outcome_note(outcome);
}

std::string trace_sent6(const DecodedPacket6& probe) { return sent_line(describe6(probe)); }

std::string trace_received6(const DecodedPacket6& reply, const PacketOutcome& outcome) {
    return "RCVD  " + describe6(reply) + outcome_note(outcome);
}

// nmap's own words: the kernel sends the packets, so the line is the system call and its
// outcome, the source the local end ("localhost"), the outcome strerror's text.
std::string trace_connect(Ipv4 target, Port port, int error, Micros since_start, const AddressBook* book) {
    char when[32];
    std::snprintf(when, sizeof when, "%.4fs", static_cast<double>(since_start) / kSecond);
    return std::string("CONN (") + when + ") TCP localhost > " + endpoint_text(address_text(book, target), port) + " => " +
           (error == 0 ? std::string("Connected") : std::string(std::strerror(error)));
}

}  // namespace flagscan

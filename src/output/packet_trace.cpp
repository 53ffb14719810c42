// Packet trace lines, as nmap's --packet-trace prints them, with every flag named.
#include "flagscan/output/packet_trace.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "flagscan/probe/port_state.hpp"

namespace flagscan {
namespace {

std::string endpoint(Ipv4 ip, Port port) { return ip.str() + ":" + std::to_string(port.value()); }

std::string tcp_line(const DecodedPacket& p) {
    const auto& tcp = *p.tcp;
    std::string line = endpoint(p.ip.src, tcp.sport) + " > " + endpoint(p.ip.dst, tcp.dport) + " " + tcp.flags.str();
    if (!tcp.flags.any(TcpFlags::ack) || tcp.flags.any(TcpFlags::syn)) line += " seq=" + std::to_string(tcp.seq);
    if (tcp.flags.any(TcpFlags::ack)) line += " ack=" + std::to_string(tcp.ack);
    return line + " ttl=" + std::to_string(p.ip.ttl) + " win=" + std::to_string(tcp.window);
}

std::string udp_line(const DecodedPacket& p) {
    const auto& udp = *p.udp;
    const int payload = std::max(0, int{udp.length} - 8);
    return endpoint(p.ip.src, udp.sport) + " > " + endpoint(p.ip.dst, udp.dport) + " UDP " + std::to_string(payload) +
           " bytes ttl=" + std::to_string(p.ip.ttl);
}

std::string arp_line(const DecodedPacket& p) {
    const auto& arp = *p.arp;
    if (arp.operation == 1) return "ARP who-has " + arp.target_ip.str() + " tell " + arp.sender_ip.str();
    return "ARP reply " + arp.sender_ip.str() + " is-at " + mac_text(arp.sender_mac);
}

std::string icmp_line(const DecodedPacket& p) {
    const auto& icmp = *p.icmp;
    std::string line = p.ip.src.str() + " > " + p.ip.dst.str() + " ICMP " + std::to_string(icmp.type) + "/" +
                       std::to_string(icmp.code);
    if (icmp.type == icmp_type::unreachable) line.append(" ").append(to_string(reason_for_icmp_unreachable(icmp.code)));
    if (icmp.quoted && icmp.quoted->ip.protocol == ipproto::icmp)
        line += " about " + icmp.quoted->ip.src.str() + " > " + icmp.quoted->ip.dst.str() + " ICMP id=" +
                std::to_string(icmp.quoted->query_id);
    else if (icmp.quoted)
        line += " about " + endpoint(icmp.quoted->ip.src, icmp.quoted->sport) + " > " +
                endpoint(icmp.quoted->ip.dst, icmp.quoted->dport);
    else if (icmp.type != icmp_type::unreachable)
        line += " id=" + std::to_string(icmp.id) + " seq=" + std::to_string(icmp.seq);
    return line + " ttl=" + std::to_string(p.ip.ttl);
}

std::string describe(const DecodedPacket& p) {
    if (p.tcp) return tcp_line(p);
    if (p.udp) return udp_line(p);
    if (p.icmp) return icmp_line(p);
    if (p.arp) return arp_line(p);
    return p.ip.src.str() + " > " + p.ip.dst.str() + " proto " + std::to_string(p.ip.protocol) + " ttl=" +
           std::to_string(p.ip.ttl);
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

}  // namespace

std::string trace_sent(const DecodedPacket& probe) {
    std::string line = "SENT  " + describe(probe);
    const auto pos = line.rfind(" win=");  // our own window is the template's: not worth a column
    return pos == std::string::npos ? line : line.substr(0, pos);
}

std::string trace_received(const DecodedPacket& reply, const PacketOutcome& outcome) {
    return "RCVD  " + describe(reply) + outcome_note(outcome);
}

// nmap's own words: the kernel sends the packets, so the line is the system call and its
// outcome, the source the local end ("localhost"), the outcome strerror's text.
std::string trace_connect(Ipv4 target, Port port, int error, Micros since_start) {
    char when[32];
    std::snprintf(when, sizeof when, "%.4fs", static_cast<double>(since_start) / kSecond);
    return std::string("CONN (") + when + ") TCP localhost > " + endpoint(target, port) + " => " +
           (error == 0 ? std::string("Connected") : std::string(std::strerror(error)));
}

}  // namespace flagscan

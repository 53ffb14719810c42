// OsCapture: -O's tries rebuilt from a capture, probe by probe, reply by reply (nmap osscan2.cc's matching, read backwards).
#include "flagscan/os/os_capture.hpp"

#include "flagscan/os/os_probes.hpp"

namespace flagscan {

void OsCapture::record_probe(OsCaptured& t, Pending& p, const DecodedPacket& decoded, ByteView ethernet_destination,
                             Micros at, OsProbeId id) {
    if (id == OsProbeId::seq1) {
        t.rounds.emplace_back();
        p = Pending{};
    }
    if (t.rounds.empty()) return;  // a probe before the first SEQ1: not a try's
    OsRound& round = t.rounds.back();
    OsExchange& e = round[id];
    if (e.sent) {  // a resend
        if (!e.reply) e.sent->retransmitted = true;
        return;
    }
    OsSent sent;
    sent.at = at;
    sent.ttl = decoded.ip.ttl;
    sent.ip_id = decoded.ip.id;
    const OsTarget target = os_probe(id).target;
    if (decoded.tcp) {
        sent.seq = decoded.tcp->seq;
        sent.ack = decoded.tcp->ack;
        p.source_ports[id] = decoded.tcp->sport;
        if (target == OsTarget::open_tcp) {
            round.open_tcp_known = true;
            if (!t.open_tcp) t.open_tcp = decoded.tcp->dport;
        } else {
            round.closed_tcp_known = true;
            if (!t.closed_tcp) t.closed_tcp = decoded.tcp->dport;
        }
    }
    if (decoded.udp) {
        sent.udp_checksum = decoded.udp->checksum;
        p.source_ports[id] = decoded.udp->sport;
        t.closed_udp = decoded.udp->dport;
    }
    if (decoded.icmp) p.echo_ids[id] = decoded.icmp->id;
    const auto b0 = ethernet_destination.u8(0), b1 = ethernet_destination.u8(1), b2 = ethernet_destination.u8(2);
    if (b0 && b1 && b2) t.mac_prefix = std::array<std::uint8_t, 3>{*b0, *b1, *b2};
    e.sent = sent;
}

// nmap's OPS/WIN and T1 resends of SEQ packets (osscan2.cc buildTUIProbeList): SEQ i's
// signature from the try's base port (SEQ1's) + 6 + i, or SEQ1's from + 13.
bool OsCapture::record_seq_resend(OsCaptured& t, Pending& p, const DecodedPacket& d, OsProbeId id) {
    const auto base = p.source_ports.find(OsProbeId::seq1);
    if (!d.tcp || t.rounds.empty() || base == p.source_ports.end() || static_cast<std::size_t>(id) >= kOsSeqProbes) return false;
    const unsigned offset = d.tcp->sport.value() - base->second.value();
    const auto i = static_cast<std::size_t>(id);
    if (offset == kOsOpsResendPortOffset + i) p.resend_ports[d.tcp->sport] = i;
    else if (id == OsProbeId::seq1 && offset == kOsT1ResendPortOffset) p.resend_ports[d.tcp->sport] = kOsSeqProbes;
    else return false;
    return true;
}

bool OsCapture::add_seq_resend_reply(OsCaptured& t, const Pending& p, const DecodedPacket& d, ByteView ip, Micros at) {
    if (!d.tcp) return false;
    const auto it = p.resend_ports.find(d.tcp->dport);
    if (it == p.resend_ports.end()) return false;
    OsRound& round = t.rounds.back();
    auto& slot = it->second < kOsSeqProbes ? round.ops_resend_replies[it->second] : round.t1_resend_reply;
    if (!slot) slot = OsReply{at, d, {ip.span().begin(), ip.span().end()}};
    return true;
}

std::optional<OsProbeId> OsCapture::answered_probe(const Pending& p, const DecodedPacket& d) {
    auto by_port = [&](Port ours) -> std::optional<OsProbeId> {
        for (const auto& [id, port] : p.source_ports)
            if (port == ours) return id;
        return std::nullopt;
    };
    if (d.tcp) return by_port(d.tcp->dport);
    if (d.icmp && d.icmp->type == icmp_type::echo_reply) {
        for (const auto& [id, echo] : p.echo_ids)
            if (echo == d.icmp->id) return id;
    }
    if (d.icmp && d.icmp->quoted && d.icmp->quoted->ip.protocol == ipproto::udp) return by_port(d.icmp->quoted->sport);
    return std::nullopt;
}

bool OsCapture::add(const DecodedPacket& decoded, ByteView ip, ByteView ethernet_destination, Micros at) {
    if (const auto id = identify_os_probe(decoded, ip)) {
        const std::uint32_t target = decoded.ip.dst.value();
        if (!record_seq_resend(found_[target], pending_[target], decoded, *id))
            record_probe(found_[target], pending_[target], decoded, ethernet_destination, at, *id);
        return true;
    }
    const auto t = found_.find(decoded.ip.src.value());
    if (t == found_.end() || t->second.rounds.empty()) return false;
    if (add_seq_resend_reply(t->second, pending_[t->first], decoded, ip, at)) return true;
    const auto id = answered_probe(pending_[t->first], decoded);
    if (!id) return false;
    OsExchange& e = t->second.rounds.back()[*id];
    if (!e.sent) return false;
    if (!e.reply) e.reply = OsReply{at, decoded, {ip.span().begin(), ip.span().end()}};
    return true;
}

}  // namespace flagscan

// Reply-to-probe correlation: the cookie arithmetic of RFC 793 replies and ICMP quotes.
#include "flagscan/engine/correlator.hpp"

#include <algorithm>

namespace flagscan {

Correlator::Correlator(const ScannerIdentity& me, const CookieKey& key, const ProbeKind& kind, EchoCheck check)
    : me_(me), cookie_(key), kind_(&kind), check_(check) {}

void Correlator::stamp(Probe& probe) const {
    probe.seq = cookie_(me_.source, probe.dst, probe.dport, probe.sport);
    probe.ack = kind_->flags.any(TcpFlags::ack) ? probe.seq : 0;
}

// Keyed: try k left from sport_base + k and carried the cookie. Recorded: the latest try the
// capture shows leaving from that port.
std::optional<Correlator::Sent> Correlator::sent_probe(Ipv4 target, Port port, Port our_port) const {
    if (check_ == EchoCheck::recorded) {
        auto it = recorded_.find(key(target, port));
        if (it == recorded_.end()) return std::nullopt;
        const RecentTries& recent = it->second;
        const auto kept = std::min<std::uint32_t>(recent.count, recent.tries.size());
        for (std::uint32_t back = 1; back <= kept; ++back) {  // the latest first
            const Sent& sent = recent.tries[static_cast<std::size_t>(recent.count - back) % recent.tries.size()];
            if (sent.sport == our_port) return sent;
        }
        return std::nullopt;
    }
    const int offset = int{our_port.value()} - int{me_.sport_base.value()};
    if (offset < 0 || offset >= me_.max_tries) return std::nullopt;
    const std::uint32_t cookie = cookie_(me_.source, target, port, our_port);
    return Sent{our_port, cookie, cookie, static_cast<std::uint8_t>(offset)};
}

// RFC 793 p.36 ("Reset Generation") and p.65: a RST that carries ACK acknowledges our seq +
// the sequence space our probe used (1 for SYN, 1 for FIN, data length: none); a SYN,ACK
// acknowledges only our SYN (a FIN beside it is not processed in LISTEN); a RST
// without ACK answers a probe that had ACK set and takes its seq from that probe's ack field.
// A bare SYN (simultaneous open, RFC 793 3.4 figure 8) acknowledges nothing, so it cannot
// echo the cookie: it is matched on addresses and ports alone (the source port still names
// the try), and only the open-probe table lookup that follows confirms it.
std::optional<Answer> Correlator::identify_tcp(const DecodedPacket& packet) const {
    const auto& tcp = *packet.tcp;
    const auto sent = sent_probe(packet.ip.src, tcp.sport, tcp.dport);
    if (!sent) return std::nullopt;
    const bool handshake = tcp.flags.any(TcpFlags::syn);
    const std::uint32_t used = handshake ? 1u : (kind_->flags.any(TcpFlags::syn) ? 1u : 0u) + (kind_->flags.any(TcpFlags::fin) ? 1u : 0u);
    const bool bare_syn = tcp.flags.any(TcpFlags::syn) && !tcp.flags.any(TcpFlags::ack | TcpFlags::rst);
    const bool echoed = tcp.flags.any(TcpFlags::ack) ? tcp.ack == sent->seq + used
                                                     : bare_syn || (kind_->flags.any(TcpFlags::ack) && tcp.seq == sent->ack);
    if (!echoed) return std::nullopt;
    ReplyEvidence evidence{ReplyEvidence::Kind::tcp, tcp.flags, tcp.window, 0, packet.ip.ttl};
    return Answer{packet.ip.src, tcp.sport, sent->try_no, evidence};
}

// RFC 792 / RFC 1122 3.2.2: an ICMP error quotes our probe's IP header and at least its first
// 8 bytes, which for TCP hold both ports and the sequence number: the cookie.
std::optional<Answer> Correlator::identify_icmp(const DecodedPacket& packet) const {
    const auto& icmp = *packet.icmp;
    if (icmp.type != icmp_type::unreachable || !icmp.quoted) return std::nullopt;
    const auto& quoted = *icmp.quoted;
    if (quoted.ip.src != me_.source || quoted.ip.protocol != kind_->protocol) return std::nullopt;
    const auto sent = sent_probe(quoted.ip.dst, quoted.dport, quoted.sport);
    if (!sent || !quoted.tcp_seq || *quoted.tcp_seq != sent->seq) return std::nullopt;
    ReplyEvidence evidence{ReplyEvidence::Kind::icmp_unreachable, TcpFlags{}, 0, icmp.code, packet.ip.ttl};
    return Answer{quoted.ip.dst, quoted.dport, sent->try_no, evidence};
}

std::optional<Answer> Correlator::identify(const DecodedPacket& packet) const {
    if (packet.ip.dst != me_.source) return std::nullopt;
    if (packet.tcp && kind_->protocol == ipproto::tcp) return identify_tcp(packet);
    if (packet.icmp) return identify_icmp(packet);
    return std::nullopt;
}

void Correlator::reserve(std::size_t probes) {
    open_.reserve(probes);
    if (check_ == EchoCheck::recorded) recorded_.reserve(probes);
}

void Correlator::record(const Probe& probe, Micros now) {
    const auto k = key(probe.dst, probe.dport);
    auto [it, fresh] = open_.try_emplace(k);
    if (fresh || it->second.phase != Phase::in_flight) ++in_flight_;
    const std::uint8_t repeats = fresh ? 0 : it->second.repeats;
    it->second = Entry{probe.index, now, fresh ? now : it->second.sent, probe.try_no, Phase::in_flight, false, repeats};
    if (check_ == EchoCheck::recorded) {
        RecentTries& recent = recorded_[k];
        recent.tries[recent.count % recent.tries.size()] = Sent{probe.sport, probe.seq, probe.ack, probe.try_no};
        ++recent.count;
    }
    timers_.push_back(Timer{k, now, probe.try_no});
}

Correlator::Entry* Correlator::find(Ipv4 target, Port port) {
    auto it = open_.find(key(target, port));
    return it == open_.end() ? nullptr : &it->second;
}

void Correlator::set_phase(Ipv4 target, Port port, Phase phase) {
    auto* entry = find(target, port);
    if (entry == nullptr) return;
    if (entry->phase == Phase::in_flight) --in_flight_;
    if (phase == Phase::in_flight) ++in_flight_;
    entry->phase = phase;
}

void Correlator::erase(Ipv4 target, Port port) {
    auto it = open_.find(key(target, port));
    if (it == open_.end()) return;
    if (it->second.phase == Phase::in_flight) --in_flight_;
    open_.erase(it);
}

// A timer is stale when its probe was answered, or re-sent (a newer timer then stands for it).
bool Correlator::front_is_stale() const {
    const auto& timer = timers_.front();
    auto it = open_.find(timer.key);
    return it == open_.end() || it->second.phase != Phase::in_flight || it->second.try_no != timer.try_no;
}

std::optional<Micros> Correlator::next_expiry(Micros rto) {
    while (!timers_.empty() && front_is_stale()) timers_.pop_front();
    if (timers_.empty()) return std::nullopt;
    return timers_.front().sent + rto;
}

std::optional<Correlator::Expired> Correlator::pop_expired(Micros now, Micros rto) {
    auto expiry = next_expiry(rto);
    if (!expiry || *expiry > now) return std::nullopt;
    const auto k = timers_.front().key;
    timers_.pop_front();
    return Expired{target_of(k), port_of(k), open_.at(k)};
}

}  // namespace flagscan

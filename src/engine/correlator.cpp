// Reply-to-probe correlation: the cookie arithmetic of RFC 793 replies and ICMP quotes.
#include "flagscan/engine/correlator.hpp"

#include <algorithm>

namespace flagscan {

namespace {

// A UDP probe carries 16 bits of its cookie in the IP identification field, which an ICMP error
// quotes (RFC 792); never 0, which the kernel would overwrite (raw(7): IP_HDRINCL fills a zero id).
std::uint16_t udp_ip_id(std::uint32_t cookie) {
    const auto id = static_cast<std::uint16_t>(cookie >> 16);
    return id != 0 ? id : std::uint16_t{1};
}

// The query an ICMP reply type answers (RFC 792): echo reply -> echo, timestamp reply -> timestamp.
std::uint8_t query_answered_by(std::uint8_t reply_type) {
    if (reply_type == icmp_type::echo_reply) return icmp_type::echo;
    if (reply_type == icmp_type::timestamp_reply) return icmp_type::timestamp;
    return 0;
}

}  // namespace

Correlator::Correlator(const ScannerIdentity& me, const CookieKey& key, std::vector<const ProbeKind*> kinds,
                       EchoCheck check)
    : me_(me), cookie_(key), kinds_(std::move(kinds)), check_(check) {}

void Correlator::stamp(Probe& probe) const {
    const ProbeKind& kind = *kinds_[probe.lane];
    probe.seq = cookie_(me_.source, probe.dst, probe.dport, probe.sport);
    probe.ack = kind.flags.any(TcpFlags::ack) ? probe.seq : 0;
    if (kind.protocol == ipproto::udp) probe.ip_id = udp_ip_id(probe.seq);
}

// Keyed: the port a reply came back to names the lane and the try, and the probe carried the
// cookie of its addresses and ports. Recorded: the latest try the capture shows leaving from
// that port.
std::optional<Correlator::Sent> Correlator::sent_probe(Ipv4 target, std::uint8_t protocol, Port port,
                                                       Port our_port) const {
    if (check_ == EchoCheck::recorded) {
        for (std::uint8_t lane = 0; lane < kinds_.size(); ++lane) {
            if (kinds_[lane]->protocol != protocol) continue;
            if (auto sent = recorded_probe(target, lane, port, our_port)) return sent;
        }
        return std::nullopt;
    }
    const int offset = int{our_port.value()} - int{me_.sport_base.value()};
    if (offset < 0 || offset >= static_cast<int>(me_.port_span())) return std::nullopt;
    const auto lane = static_cast<std::uint8_t>(offset / me_.max_tries);
    if (lane >= kinds_.size() || kinds_[lane]->protocol != protocol) return std::nullopt;
    const std::uint32_t cookie = cookie_(me_.source, target, port, our_port);
    const std::uint32_t ack = kinds_[lane]->flags.any(TcpFlags::ack) ? cookie : 0;
    return Sent{our_port, cookie, ack, static_cast<std::uint8_t>(offset % me_.max_tries), udp_ip_id(cookie), lane};
}

std::optional<Correlator::Sent> Correlator::recorded_probe(Ipv4 target, std::uint8_t lane, Port port,
                                                           Port our_port) const {
    auto it = recorded_.find(key(target, lane, port));
    if (it == recorded_.end()) return std::nullopt;
    const RecentTries& recent = it->second;
    const auto kept = std::min<std::uint32_t>(recent.count, recent.tries.size());
    for (std::uint32_t back = 1; back <= kept; ++back) {  // the latest first
        const Sent& sent = recent.tries[static_cast<std::size_t>(recent.count - back) % recent.tries.size()];
        if (sent.sport == our_port) return sent;
    }
    return std::nullopt;
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
    const auto sent = sent_probe(packet.ip.src, ipproto::tcp, tcp.sport, tcp.dport);
    if (!sent) return std::nullopt;
    const TcpFlags probe_flags = kinds_[sent->lane]->flags;
    const bool handshake = tcp.flags.any(TcpFlags::syn);
    const std::uint32_t used = handshake ? 1u : (probe_flags.any(TcpFlags::syn) ? 1u : 0u) + (probe_flags.any(TcpFlags::fin) ? 1u : 0u);
    const bool bare_syn = tcp.flags.any(TcpFlags::syn) && !tcp.flags.any(TcpFlags::ack | TcpFlags::rst);
    const bool echoed = tcp.flags.any(TcpFlags::ack) ? tcp.ack == sent->seq + used
                                                     : bare_syn || (probe_flags.any(TcpFlags::ack) && tcp.seq == sent->ack);
    if (!echoed) return std::nullopt;
    ReplyEvidence evidence{ReplyEvidence::Kind::tcp, tcp.flags, tcp.window, 0, packet.ip.ttl};
    return Answer{packet.ip.src, tcp.sport, sent->try_no, evidence, sent->lane};
}

// RFC 768: a UDP answer echoes nothing of the probe but its ports; the port it came back to
// names the lane and the try, and the open-probe table lookup that follows confirms it.
std::optional<Answer> Correlator::identify_udp(const DecodedPacket& packet) const {
    const auto& udp = *packet.udp;
    const auto sent = sent_probe(packet.ip.src, ipproto::udp, udp.sport, udp.dport);
    if (!sent) return std::nullopt;
    ReplyEvidence evidence{ReplyEvidence::Kind::udp, TcpFlags{}, 0, 0, packet.ip.ttl};
    return Answer{packet.ip.src, udp.sport, sent->try_no, evidence, sent->lane};
}

// RFC 792: an echo (or timestamp) reply returns the request's identifier and sequence number;
// ours carry the lane-and-try port and 16 bits of the cookie.
std::optional<Answer> Correlator::identify_query_reply(const DecodedPacket& packet) const {
    const auto& icmp = *packet.icmp;
    const std::uint8_t query = query_answered_by(icmp.type);
    if (query == 0) return std::nullopt;
    const auto sent = sent_probe(packet.ip.src, ipproto::icmp, Port{}, Port{icmp.id});
    if (!sent || kinds_[sent->lane]->icmp_type != query || icmp.seq != static_cast<std::uint16_t>(sent->seq))
        return std::nullopt;
    ReplyEvidence evidence{ReplyEvidence::Kind::icmp_reply, TcpFlags{}, 0, icmp.code, packet.ip.ttl};
    return Answer{packet.ip.src, Port{}, sent->try_no, evidence, sent->lane};
}

// RFC 792 / RFC 1122 3.2.2: an ICMP error quotes our probe's IP header and at least its first
// 8 bytes: for TCP both ports and the sequence number (the cookie); for UDP both ports, with
// the cookie in the quoted IP identification; for an ICMP query its identifier and sequence.
std::optional<Answer> Correlator::identify_icmp_error(const DecodedPacket& packet) const {
    const auto& icmp = *packet.icmp;
    if (icmp.type != icmp_type::unreachable || !icmp.quoted) return std::nullopt;
    const auto& quoted = *icmp.quoted;
    if (quoted.ip.src != me_.source) return std::nullopt;
    const bool query = quoted.ip.protocol == ipproto::icmp;
    const Port our_port = query ? Port{quoted.query_id} : quoted.sport;
    const auto sent = sent_probe(quoted.ip.dst, quoted.ip.protocol, quoted.dport, our_port);
    if (!sent) return std::nullopt;
    bool echoed = false;
    switch (quoted.ip.protocol) {
        case ipproto::tcp: echoed = quoted.tcp_seq && *quoted.tcp_seq == sent->seq; break;
        case ipproto::udp: echoed = quoted.ip.id == sent->ip_id; break;
        case ipproto::icmp: echoed = quoted.query_seq == static_cast<std::uint16_t>(sent->seq); break;
        default: break;
    }
    if (!echoed) return std::nullopt;
    ReplyEvidence evidence{ReplyEvidence::Kind::icmp_unreachable, TcpFlags{}, 0, icmp.code, packet.ip.ttl};
    return Answer{quoted.ip.dst, quoted.dport, sent->try_no, evidence, sent->lane};
}

// RFC 826: a reply to us (operation 2, target address ours) from an address with an open ARP
// probe. ARP has no field to echo a cookie or a try, so the open-probe table alone confirms it.
std::optional<Answer> Correlator::identify_arp(const DecodedPacket& packet) const {
    if (packet.arp->operation != 2) return std::nullopt;
    for (std::uint8_t lane = 0; lane < kinds_.size(); ++lane) {
        if (kinds_[lane]->protocol != ipproto::arp) continue;
        const ReplyEvidence evidence{ReplyEvidence::Kind::arp_reply, TcpFlags{}, 0, 0, 0};
        return Answer{packet.arp->sender_ip, Port{}, Answer::kUnknownTry, evidence, lane};
    }
    return std::nullopt;
}

std::optional<Answer> Correlator::identify(const DecodedPacket& packet) const {
    if (packet.ip.dst != me_.source) return std::nullopt;
    if (packet.arp) return identify_arp(packet);
    if (packet.tcp) return identify_tcp(packet);
    if (packet.udp) return identify_udp(packet);
    if (packet.icmp) return packet.icmp->quoted ? identify_icmp_error(packet) : identify_query_reply(packet);
    return std::nullopt;
}

void Correlator::reserve(std::size_t probes) {
    open_.reserve(probes);
    if (check_ == EchoCheck::recorded) recorded_.reserve(probes);
}

void Correlator::record(const Probe& probe, Micros now, Micros due) {
    const auto k = key(probe.dst, probe.lane, probe.dport);
    auto [it, fresh] = open_.try_emplace(k);
    const bool was_in_flight = !fresh && it->second.phase == Phase::in_flight;
    count(k, was_in_flight ? 0 : 1, fresh ? 1 : 0);
    const Entry before = it->second;
    it->second = Entry{probe.index, now, fresh ? now : before.sent, fresh ? now : before.first_sent, probe.try_no,
                       Phase::in_flight, false, fresh ? std::uint8_t{0} : before.repeats};
    if (check_ == EchoCheck::recorded) {
        RecentTries& recent = recorded_[k];
        recent.tries[recent.count % recent.tries.size()] =
            Sent{probe.sport, probe.seq, probe.ack, probe.try_no, probe.ip_id, probe.lane};
        ++recent.count;
    }
    timers_.push_back(Timer{due, k, now});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>{});
}

Correlator::Entry* Correlator::find(std::uint64_t key) {
    auto it = open_.find(key);
    return it == open_.end() ? nullptr : &it->second;
}

// Keeps the per-target tallies beside the table (an entry in flight counts in both).
void Correlator::count(std::uint64_t key, int in_flight, int open) {
    in_flight_ = static_cast<std::size_t>(static_cast<std::int64_t>(in_flight_) + in_flight);
    const std::uint32_t target = target_of(key).value();
    Load& load = loads_[target];
    load.in_flight = static_cast<std::uint32_t>(static_cast<std::int64_t>(load.in_flight) + in_flight);
    load.open = static_cast<std::uint32_t>(static_cast<std::int64_t>(load.open) + open);
    if (load.open == 0) loads_.erase(target);
}

std::uint32_t Correlator::in_flight(Ipv4 target) const {
    auto it = loads_.find(target.value());
    return it == loads_.end() ? 0 : it->second.in_flight;
}

std::uint32_t Correlator::open_count(Ipv4 target) const {
    auto it = loads_.find(target.value());
    return it == loads_.end() ? 0 : it->second.open;
}

void Correlator::set_phase(std::uint64_t key, Phase phase) {
    auto* entry = find(key);
    if (entry == nullptr) return;
    count(key, (phase == Phase::in_flight ? 1 : 0) - (entry->phase == Phase::in_flight ? 1 : 0), 0);
    entry->phase = phase;
}

void Correlator::erase(std::uint64_t key) {
    auto it = open_.find(key);
    if (it == open_.end()) return;
    count(key, it->second.phase == Phase::in_flight ? -1 : 0, -1);
    open_.erase(it);
}

bool Correlator::is_stale(const Timer& timer) const {
    auto it = open_.find(timer.key);
    return it == open_.end() || it->second.phase != Phase::in_flight || it->second.sent != timer.sent;
}

void Correlator::pop_timer() {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>{});
    timers_.pop_back();
}

std::optional<Micros> Correlator::next_expiry() {
    while (!timers_.empty() && is_stale(timers_.front())) pop_timer();
    if (timers_.empty()) return std::nullopt;
    return timers_.front().due;
}

std::optional<Correlator::Expired> Correlator::pop_expired(Micros now) {
    auto expiry = next_expiry();
    if (!expiry || *expiry > now) return std::nullopt;
    const auto k = timers_.front().key;
    pop_timer();
    return Expired{k, open_.at(k)};
}

void Correlator::reschedule(std::uint64_t key, Micros due) {
    const auto* entry = find(key);
    if (entry == nullptr || entry->phase != Phase::in_flight) return;
    timers_.push_back(Timer{due, key, entry->sent});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>{});
}

}  // namespace flagscan

// Reply-to-probe correlation: the cookie arithmetic of RFC 793 replies and ICMP quotes.
#include "flagscan/engine/correlator.hpp"

#include <algorithm>

namespace flagscan {

namespace {

// The query an ICMP reply type answers (RFC 792): echo reply -> echo, timestamp reply -> timestamp.
std::uint8_t query_answered_by(std::uint8_t reply_type) {
    if (reply_type == icmp_type::echo_reply) return icmp_type::echo;
    if (reply_type == icmp_type::timestamp_reply) return icmp_type::timestamp;
    return 0;
}

}  // namespace

Correlator::Correlator(const ScannerIdentity& me, const CookieKey& key, std::vector<const ProbeKind*> kinds,
                       EchoCheck check, std::uint16_t tcp_data_length)
    : me_(me), cookie_(key), kinds_(std::move(kinds)), check_(check), tcp_data_length_(tcp_data_length) {}

// A probe carries its cookie in the seq (and, with ACK set, the ack) of TCP, the IP id of UDP
// and the sequence number of an ICMP query; with a fixed source port, its lane-and-try number
// `number` rides on the cookie (0 otherwise: the port carries it), seq_stride() apart in the seq.
Correlator::Sent Correlator::sent_by(std::uint8_t lane, std::uint8_t try_no, Port sport, std::uint32_t cookie,
                                     std::uint32_t number) const {
    const std::uint32_t seq = cookie + number * me_.seq_stride();
    const std::uint32_t ack = kinds_[lane]->flags.any(TcpFlags::ack) ? seq : 0;
    const std::uint16_t data = kinds_[lane]->protocol == ipproto::tcp ? tcp_data_length_ : 0;
    return Sent{sport, seq, ack, try_no, udp_ip_id(cookie, number), lane, data};
}

void Correlator::stamp(Probe& probe) const {
    const ProbeKind& kind = *kinds_[probe.lane];
    const bool fixed = me_.fixed_for(kind.protocol);
    if (fixed) probe.sport = me_.fixed_sport;
    const std::uint32_t number = fixed ? me_.number(probe.lane, probe.try_no) : 0;
    const Sent sent = sent_by(probe.lane, probe.try_no, probe.sport,
                              cookie_(me_.source, probe.dst, probe.dport, probe.sport), number);
    probe.seq = sent.seq;
    probe.ack = sent.ack;
    probe.data_length = sent.data_length;
    if (kind.protocol == ipproto::udp) probe.ip_id = sent.ip_id;
}

Probe Correlator::probe_for(const Target& target, std::uint64_t index, std::uint8_t try_no, std::uint16_t ip_id) const {
    Probe probe;
    probe.index = index;
    probe.lane = target.lane;
    probe.src = me_.source;
    probe.dst = target.ip;
    probe.dport = target.port;
    probe.sport = me_.port_for(target.lane, try_no);
    probe.try_no = try_no;
    probe.ip_id = ip_id;
    stamp(probe);
    return probe;
}

bool Correlator::carried(const Sent& sent, const Echo& echo) {
    switch (echo.field) {
        case Echo::Field::none: return true;
        case Echo::Field::seq: return echo.value == sent.seq;
        case Echo::Field::acked: return echo.value == sent.seq + sent.data_length;
        case Echo::Field::ack: return echo.value == sent.ack;
        case Echo::Field::ip_id: return echo.value == sent.ip_id;
        case Echo::Field::query_seq: return echo.value == static_cast<std::uint16_t>(sent.seq);
        case Echo::Field::impossible: break;
    }
    return false;
}

// The probe a reply from target:port to our_port answers, if any; echo_of(lane) says what the
// reply gives back of a probe of that lane. Keyed: the port the reply came back to names the
// lane and the try (or, to the fixed source port, the echo does), and the probe carried the
// cookie of its addresses and ports. Recorded: a recent try the capture shows leaving from
// that port with what the reply echoes.
template <class EchoOf>
std::optional<Correlator::Sent> Correlator::sent_probe(Ipv4 target, std::uint8_t protocol, Port port, Port our_port,
                                                       EchoOf echo_of) const {
    if (check_ == EchoCheck::recorded) return recorded_probe(target, protocol, port, our_port, echo_of);
    if (me_.fixed_for(protocol))
        return our_port == me_.fixed_sport ? fixed_port_probe(target, protocol, port, echo_of) : std::nullopt;
    const int number = int{our_port.value()} - int{me_.sport_base.value()};
    if (number < 0 || number >= static_cast<int>(me_.port_span())) return std::nullopt;
    const auto lane = static_cast<std::uint8_t>(number / me_.max_tries);
    if (lane >= kinds_.size() || kinds_[lane]->protocol != protocol) return std::nullopt;
    const auto try_no = static_cast<std::uint8_t>(number % me_.max_tries);
    const Sent sent = sent_by(lane, try_no, our_port, cookie_(me_.source, target, port, our_port), 0);
    if (!carried(sent, echo_of(lane))) return std::nullopt;
    return sent;
}

// Every probe left from the fixed source port: what the reply echoes, against the cookie, gives
// the lane-and-try number (number_echoed; `acked` less our probes' data reads as `seq`), which must name a
// lane of this protocol and a try within max_tries; a
// forger who has not seen the probe hits one of the port_span() valid values in 2^32 (TCP) or
// 65535 (UDP). A reply that echoes nothing (a UDP datagram, a bare SYN) names no try: it
// answers the protocol's first lane that could have caused it, and is taken as answering that
// probe's latest try (Answer::kUnknownTry).
template <class EchoOf>
std::optional<Correlator::Sent> Correlator::fixed_port_probe(Ipv4 target, std::uint8_t protocol, Port port,
                                                             EchoOf echo_of) const {
    const Port our_port = me_.fixed_sport;
    const std::uint32_t cookie = cookie_(me_.source, target, port, our_port);
    for (std::uint8_t lane = 0; lane < kinds_.size(); ++lane) {
        if (kinds_[lane]->protocol != protocol) continue;
        const Echo echo = echo_of(lane);
        if (echo.field == Echo::Field::impossible) continue;
        if (echo.field == Echo::Field::none) return sent_by(lane, Answer::kUnknownTry, our_port, cookie, 0);
        const std::optional<std::uint32_t> number = number_echoed(echo, cookie);
        if (!number || *number >= me_.port_span() || *number / me_.max_tries != lane) continue;
        return sent_by(lane, static_cast<std::uint8_t>(*number % me_.max_tries), our_port, cookie, *number);
    }
    return std::nullopt;
}

// The lane-and-try number a reply to the fixed source port gives back: the IP id's offset from
// the cookie, or the seq's distance from it in whole seq_stride() steps (none between steps).
std::optional<std::uint32_t> Correlator::number_echoed(const Echo& echo, std::uint32_t cookie) const {
    if (echo.field == Echo::Field::ip_id) return udp_id_offset(cookie, static_cast<std::uint16_t>(echo.value));
    // `acked` is SEG.SEQ plus the data a RST,ACK acknowledged (RFC 793 3.3): ours carry tcp_data_length_.
    const std::uint32_t data = echo.field == Echo::Field::acked ? tcp_data_length_ : 0;
    const std::uint32_t distance = echo.value - data - cookie;
    const std::uint32_t stride = me_.seq_stride();
    if (distance % stride != 0) return std::nullopt;
    return distance / stride;
}

// The latest recorded try of a lane of this protocol that left from our_port and carried what
// the reply echoes. Trying each of the recent tries, not just the latest, is what lets a late
// answer to an earlier try count when every try left from one port (nmap's scans, ours with -g).
template <class EchoOf>
std::optional<Correlator::Sent> Correlator::recorded_probe(Ipv4 target, std::uint8_t protocol, Port port,
                                                           Port our_port, EchoOf echo_of) const {
    for (std::uint8_t lane = 0; lane < kinds_.size(); ++lane) {
        if (kinds_[lane]->protocol != protocol) continue;
        auto it = recorded_.find(key(target, lane, port));
        if (it == recorded_.end()) continue;
        const Echo echo = echo_of(lane);
        const RecentTries& recent = it->second;
        const auto kept = std::min<std::uint32_t>(recent.count, recent.tries.size());
        for (std::uint32_t back = 1; back <= kept; ++back) {  // the latest first
            const Sent& sent = recent.tries[static_cast<std::size_t>(recent.count - back) % recent.tries.size()];
            if (sent.sport == our_port && carried(sent, echo)) return sent;
        }
    }
    return std::nullopt;
}

// RFC 793 p.36 ("Reset Generation") and p.65-66: a RST that carries ACK acknowledges our
// SEG.SEQ + SEG.LEN, the sequence space our probe used: 1 for SYN, 1 for FIN, and its data
// (nmap --data-length, hping3 -d; Linux: seq + syn + fin + data); a SYN,ACK acknowledges only
// our SYN (p.66, LISTEN: a FIN beside it is not processed, data is queued until the handshake
// completes); a RST without ACK answers a probe that had ACK set and takes its seq from that
// probe's ack field.
// A bare SYN (simultaneous open, RFC 793 3.4 figure 8) answers only a SYN and acknowledges
// nothing, so it cannot echo the cookie: it is matched on addresses and ports alone (the
// source port still names the try), and only the open-probe table lookup that follows confirms it.
std::optional<Answer> Correlator::identify_tcp(const DecodedPacket& packet) const {
    const auto& tcp = *packet.tcp;
    const auto echo_of = [this, &tcp](std::uint8_t lane) {
        const TcpFlags probe_flags = kinds_[lane]->flags;
        const bool handshake = tcp.flags.any(TcpFlags::syn);
        if (tcp.flags.any(TcpFlags::ack) && handshake) return Echo{Echo::Field::seq, tcp.ack - 1};
        if (tcp.flags.any(TcpFlags::ack)) {
            const std::uint32_t controls = (probe_flags.any(TcpFlags::syn) ? 1u : 0u) + (probe_flags.any(TcpFlags::fin) ? 1u : 0u);
            return Echo{Echo::Field::acked, tcp.ack - controls};
        }
        if (handshake && !tcp.flags.any(TcpFlags::rst))
            return Echo{probe_flags.any(TcpFlags::syn) ? Echo::Field::none : Echo::Field::impossible, 0};
        return Echo{probe_flags.any(TcpFlags::ack) ? Echo::Field::ack : Echo::Field::impossible, tcp.seq};
    };
    const auto sent = sent_probe(packet.ip.src, ipproto::tcp, tcp.sport, tcp.dport, echo_of);
    if (!sent) return std::nullopt;
    ReplyEvidence evidence{ReplyEvidence::Kind::tcp, tcp.flags, tcp.window, 0, packet.ip.ttl};
    return Answer{packet.ip.src, tcp.sport, sent->try_no, evidence, sent->lane};
}

// RFC 768: a UDP answer echoes nothing of the probe but its ports; the port it came back to
// names the lane and the try (to a fixed source port: neither, see fixed_port_probe), and the
// open-probe table lookup that follows confirms it.
std::optional<Answer> Correlator::identify_udp(const DecodedPacket& packet) const {
    const auto& udp = *packet.udp;
    const auto echo_of = [](std::uint8_t) { return Echo{Echo::Field::none, 0}; };
    const auto sent = sent_probe(packet.ip.src, ipproto::udp, udp.sport, udp.dport, echo_of);
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
    const auto echo_of = [this, &icmp, query](std::uint8_t lane) {
        return Echo{kinds_[lane]->icmp_type == query ? Echo::Field::query_seq : Echo::Field::impossible, icmp.seq};
    };
    const auto sent = sent_probe(packet.ip.src, ipproto::icmp, Port{}, Port{icmp.id}, echo_of);
    if (!sent) return std::nullopt;
    ReplyEvidence evidence{ReplyEvidence::Kind::icmp_reply, TcpFlags{}, 0, icmp.code, packet.ip.ttl};
    return Answer{packet.ip.src, Port{}, sent->try_no, evidence, sent->lane};
}

// RFC 792 / RFC 1122 3.2.2: an ICMP error quotes our probe's IP header and at least its first
// 8 bytes: for TCP both ports and the sequence number (the cookie); for UDP both ports, with
// the cookie in the quoted IP identification; for an ICMP query its identifier and sequence.
// Whether the error came from the target itself or from elsewhere (a router) goes with it:
// RFC 1122 3.2.2.1, only the destination host says port unreachable of its own ports.
std::optional<Answer> Correlator::identify_icmp_error(const DecodedPacket& packet) const {
    const auto& icmp = *packet.icmp;
    if (icmp.type != icmp_type::unreachable || !icmp.quoted) return std::nullopt;
    const auto& quoted = *icmp.quoted;
    if (quoted.ip.src != me_.source) return std::nullopt;
    const bool query = quoted.ip.protocol == ipproto::icmp;
    const Port our_port = query ? Port{quoted.query_id} : quoted.sport;
    const auto echo_of = [&quoted](std::uint8_t) {
        switch (quoted.ip.protocol) {
            case ipproto::tcp:
                return quoted.tcp_seq ? Echo{Echo::Field::seq, *quoted.tcp_seq} : Echo{};
            case ipproto::udp: return Echo{Echo::Field::ip_id, quoted.ip.id};
            case ipproto::icmp: return Echo{Echo::Field::query_seq, quoted.query_seq};
            default: return Echo{};
        }
    };
    const auto sent = sent_probe(quoted.ip.dst, quoted.ip.protocol, quoted.dport, our_port, echo_of);
    if (!sent) return std::nullopt;
    ReplyEvidence evidence{ReplyEvidence::Kind::icmp_unreachable, TcpFlags{}, 0, icmp.code, packet.ip.ttl,
                           packet.ip.src != quoted.ip.dst};
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
                       Phase::in_flight, false, fresh ? std::uint8_t{0} : before.repeats,
                       fresh ? probe.sport : before.first_sport, probe.sport};
    if (check_ == EchoCheck::recorded) {
        RecentTries& recent = recorded_[k];
        recent.tries[recent.count % recent.tries.size()] =
            Sent{probe.sport, probe.seq, probe.ack, probe.try_no, probe.ip_id, probe.lane, probe.data_length};
        recent.sent_at[recent.count % recent.tries.size()] = now;
        ++recent.count;
    }
    timers_.push_back(Timer{due, k, now});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>{});
}

// Why a time bound and not the bytes alone: nmap resends a try's very bytes (see
// built-duplicates), but only after a timeout, 100 ms at the least; the two copies of one frame
// that a capture on a bridge and its port takes are microseconds apart (either may be filed first).
bool Correlator::repeats_latest(const Probe& probe, Micros now) const {
    const auto it = recorded_.find(key(probe.dst, probe.lane, probe.dport));
    if (it == recorded_.end() || it->second.count == 0) return false;
    const RecentTries& recent = it->second;
    if (std::max(now, recent.latest_at()) - std::min(now, recent.latest_at()) >= kSameDatagram) return false;
    const Sent& latest = recent.latest();
    return latest.sport == probe.sport && latest.seq == probe.seq && latest.ack == probe.ack &&
           latest.ip_id == probe.ip_id && latest.data_length == probe.data_length;
}

std::optional<Micros> Correlator::recorded_send(std::uint64_t key, std::uint8_t try_no) const {
    const auto it = recorded_.find(key);
    if (it == recorded_.end()) return std::nullopt;
    const RecentTries& recent = it->second;
    const auto kept = std::min<std::uint32_t>(recent.count, recent.tries.size());
    for (std::uint32_t back = 1; back <= kept; ++back) {
        const auto slot = static_cast<std::size_t>(recent.count - back) % recent.tries.size();
        if (recent.tries[slot].try_no == try_no) return recent.sent_at[slot];
    }
    return std::nullopt;
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

// OsScan: nmap's OS detection tries of one host: the 16 probes built with libnet, sent on schedule, replies matched by ports and echo id.
#include "flagscan/os/os_scan.hpp"

#include <algorithm>

#include "flagscan/probe/raw_packet.hpp"

namespace flagscan {
namespace {


bool is_seq_probe(OsProbeId id) { return id <= OsProbeId::seq6; }

// U1's data: 300 'C' bytes (nmap's osscan2.cc sendTUIProbe).
std::vector<std::uint8_t> u1_payload(const OsProbe& probe) { return std::vector<std::uint8_t>(probe.udp.data_length, probe.udp.fill); }

}  // namespace

Result<OsBuilt> build_os_probe(const OsProbe& probe, const OsProbeFields& f) {
    const RawIp ip{f.src, f.dst, f.ttl, probe.tos, probe.ip_id.value_or(f.ip_id), probe.dont_fragment};
    OsBuilt built;
    built.sent.ttl = f.ttl;
    built.sent.ip_id = ip.id;
    Result<std::vector<std::uint8_t>> packet = Error{"OS probe " + std::string(probe.name) + " has no packet form"};
    if (probe.protocol == ipproto::tcp) {
        const OsTcpFields& t = probe.tcp;
        built.sent.seq = f.seq_base + t.seq_offset;
        built.sent.ack = t.carries_ack ? f.ack : 0;
        packet = build_raw_tcp(ip, RawTcp{f.source_port, f.target_port, built.sent.seq, built.sent.ack, t.flags, t.reserved,
                                          t.window, t.urgent, t.options});
    } else if (probe.protocol == ipproto::icmp) {
        const OsIcmpFields& i = probe.icmp;
        packet = build_raw_echo(ip, RawEcho{i.code, static_cast<std::uint16_t>(f.echo_id + i.id_offset), i.seq, i.data_length});
    } else if (probe.protocol == ipproto::udp) {
        const auto payload = u1_payload(probe);
        packet = build_raw_udp(ip, RawUdp{f.source_port, f.target_port, payload});
        if (packet && packet->size() >= 28) built.sent.udp_checksum = static_cast<std::uint16_t>(((*packet)[26] << 8) | (*packet)[27]);
    }
    if (!packet) return Error{packet.error()};
    built.packet = std::move(packet).value();
    return built;
}

Result<OsTry> OsTry::create(const OsTryPlan& plan) {
    OsTry attempt{plan};
    std::mt19937_64 random{plan.seed};
    const auto seq_base = static_cast<std::uint32_t>(random());
    const auto ack = static_cast<std::uint32_t>(random());
    attempt.echo_id_ = static_cast<std::uint16_t>(random());
    for (const OsProbe& probe : os_probes()) {
        OsProbeFields fields{plan.src, plan.dst, Port{}, Port{}, seq_base, ack, attempt.echo_id_,
                             static_cast<std::uint16_t>(random()), plan.ttl};
        if (probe.protocol == ipproto::tcp) {
            fields.source_port = Port{static_cast<std::uint16_t>(plan.first_source_port.value() + probe.source_port_offset)};
            fields.target_port = probe.target == OsTarget::open_tcp ? plan.open_tcp : plan.closed_tcp;
        } else if (probe.protocol == ipproto::udp) {
            fields.source_port = Port{static_cast<std::uint16_t>(plan.first_source_port.value() + kOsPortsPerTry - 1)};
            fields.target_port = plan.closed_udp;
        }
        auto built = build_os_probe(probe, fields);
        if (!built) return Error{built.error()};
        attempt.built_[static_cast<std::size_t>(probe.id)] = std::move(built).value();
        if (!is_seq_probe(probe.id)) continue;
        // nmap's resends of this SEQ packet (sendTOpsProbe, sendT1_7Probe): sequence number the base.
        OsProbe resend = probe;
        resend.tcp.seq_offset = 0;
        const auto i = static_cast<std::size_t>(probe.id);
        fields.ip_id = static_cast<std::uint16_t>(random());
        fields.source_port = Port{static_cast<std::uint16_t>(plan.first_source_port.value() + kOsOpsResendPortOffset + i)};
        auto ops = build_os_probe(resend, fields);
        if (!ops) return Error{ops.error()};
        attempt.ops_built_[i] = std::move(ops).value();
        if (probe.id != OsProbeId::seq1) continue;
        fields.source_port = Port{static_cast<std::uint16_t>(plan.first_source_port.value() + kOsT1ResendPortOffset)};
        auto t1 = build_os_probe(resend, fields);
        if (!t1) return Error{t1.error()};
        attempt.t1_built_ = std::move(t1).value();
    }
    attempt.round_.open_tcp_known = plan.open_known;
    attempt.round_.closed_tcp_known = plan.closed_known;
    return attempt;
}

std::vector<std::span<const std::uint8_t>> OsTry::due(Micros now) {
    std::vector<std::span<const std::uint8_t>> out;
    if (start_ < 0) start_ = now;
    for (; next_ < kOsProbeCount && start_ + os_probes()[next_].send_offset <= now; ++next_) {
        if (!wanted(next_)) continue;
        OsSent sent = built_[next_].sent;
        sent.at = now;
        round_.probes[next_].sent = sent;
        out.emplace_back(built_[next_].packet);
        sends_[next_] = 1;
        last_sent_ = now;
    }
    if (next_ < kOsProbeCount || now < last_sent_ + plan_.wait || all_answered()) return out;
    if (!resending_) {  // nmap's TUI list, built once the SEQ probes are done
        resending_ = true;
        bool none_answered = true;
        for (std::size_t i = 0; i < kOsSeqProbes; ++i) {
            seq_resends_[i] = plan_.open_known && !round_.probes[i].reply;
            none_answered = none_answered && !round_.probes[i].reply;
        }
        seq_resends_[kOsSeqProbes] = plan_.open_known && none_answered;
    }
    const auto slots = to_resend();
    for (const std::size_t slot : slots) {
        if (slot < kOsProbeCount && round_.probes[slot].sent) round_.probes[slot].sent->retransmitted = true;
        out.emplace_back(packet(slot));
        ++sends_[slot];
    }
    if (!slots.empty()) last_sent_ = now;
    return out;
}

bool OsTry::answered(std::size_t slot) const {
    if (slot < kOsProbeCount) return round_.probes[slot].reply.has_value();
    if (slot < kT1Slot) return round_.ops_resend_replies[slot - kOpsSlot].has_value();
    return round_.t1_resend_reply.has_value();
}

bool OsTry::in_play(std::size_t slot) const {
    if (slot < kOsProbeCount) return !is_seq_probe(static_cast<OsProbeId>(slot)) && wanted(slot);
    return seq_resends_[slot - kOpsSlot];
}

std::span<const std::uint8_t> OsTry::packet(std::size_t slot) const {
    if (slot < kOsProbeCount) return built_[slot].packet;
    if (slot < kT1Slot) return ops_built_[slot - kOpsSlot].packet;
    return t1_built_.packet;
}

std::vector<std::size_t> OsTry::to_resend() const {
    std::vector<std::size_t> out;
    for (std::size_t slot = 0; slot < kSlots; ++slot)
        if (in_play(slot) && !answered(slot) && sends_[slot] < kOsMaxSends) out.push_back(slot);
    return out;
}

std::optional<OsProbeId> OsTry::answered_probe(const DecodedPacket& d) const {
    if (d.ip.src != plan_.dst || d.ip.dst != plan_.src) return std::nullopt;
    const unsigned base = plan_.first_source_port.value();
    if (d.tcp) {
        const unsigned offset = d.tcp->dport.value() - base;
        for (const OsProbe& probe : os_probes()) {
            if (probe.protocol != ipproto::tcp || probe.source_port_offset != offset) continue;
            const Port target = probe.target == OsTarget::open_tcp ? plan_.open_tcp : plan_.closed_tcp;
            if (d.tcp->sport == target) return probe.id;
        }
        return std::nullopt;
    }
    if (!d.icmp) return std::nullopt;
    if (d.icmp->type == icmp_type::echo_reply && d.icmp->id == echo_id_) return OsProbeId::ie1;
    if (d.icmp->type == icmp_type::echo_reply && d.icmp->id == static_cast<std::uint16_t>(echo_id_ + 1)) return OsProbeId::ie2;
    const auto& q = d.icmp->quoted;
    if (q && q->ip.protocol == ipproto::udp && q->sport.value() == base + kOsPortsPerTry - 1 && q->dport == plan_.closed_udp)
        return OsProbeId::u1;
    return std::nullopt;
}

// A reply to an OPS/WIN or T1 resend: from the open port to the resend's source port.
bool OsTry::on_seq_resend_reply(const DecodedPacket& d, std::span<const std::uint8_t> packet, Micros at) {
    if (!d.tcp || d.ip.src != plan_.dst || d.ip.dst != plan_.src || d.tcp->sport != plan_.open_tcp) return false;
    const unsigned offset = d.tcp->dport.value() - plan_.first_source_port.value();
    std::optional<OsReply>* slot = nullptr;
    if (offset >= kOsOpsResendPortOffset && offset < kOsOpsResendPortOffset + kOsSeqProbes &&
        sends_[kOpsSlot + offset - kOsOpsResendPortOffset] > 0)
        slot = &round_.ops_resend_replies[offset - kOsOpsResendPortOffset];
    if (offset == kOsT1ResendPortOffset && sends_[kT1Slot] > 0) slot = &round_.t1_resend_reply;
    if (slot == nullptr || slot->has_value()) return false;
    *slot = OsReply{at, d, std::vector<std::uint8_t>(packet.begin(), packet.end())};
    return true;
}

bool OsTry::on_reply(const DecodedPacket& decoded, std::span<const std::uint8_t> packet, Micros at) {
    if (on_seq_resend_reply(decoded, packet, at)) return true;
    const auto id = answered_probe(decoded);
    if (!id) return false;
    auto& e = round_[*id];
    if (!e.sent || e.reply) return false;
    e.reply = OsReply{at, decoded, std::vector<std::uint8_t>(packet.begin(), packet.end())};
    return true;
}

void OsTry::note_reply_mac(std::span<const std::uint8_t> mac) {
    if (!round_.reply_mac_prefix && mac.size() >= 3) round_.reply_mac_prefix = std::array<std::uint8_t, 3>{mac[0], mac[1], mac[2]};
}

// nmap sends the probes that need an open TCP port only when the port scan found one.
bool OsTry::wanted(std::size_t probe) const { return plan_.open_known || os_probes()[probe].target != OsTarget::open_tcp; }

bool OsTry::all_answered() const {
    for (std::size_t i = 0; i < kOsProbeCount; ++i)
        if (wanted(i) && !round_.probes[i].reply) return false;
    return true;
}

int OsTry::answered() const {
    return static_cast<int>(std::count_if(round_.probes.begin(), round_.probes.end(), [](const OsExchange& e) { return e.reply.has_value(); }));
}

bool OsTry::finished(Micros now) const {
    if (start_ < 0 || next_ < kOsProbeCount) return false;
    if (all_answered()) return true;
    // Before the first resend step nothing is known to be lost yet; after it, the try waits out
    // the last send of whatever is left.
    return resending_ && now >= last_sent_ + plan_.wait && to_resend().empty();
}

Micros OsTry::next_event() const {
    if (start_ < 0) return 0;
    if (next_ < kOsProbeCount) return start_ + os_probes()[next_].send_offset;
    return last_sent_ + plan_.wait;
}

bool os_try_again(const OsMatches& matches, int tries, int max_tries, bool ideal) {
    if (matches.perfect > 0 || tries >= max_tries) return false;
    return ideal || tries < 2;
}

bool os_private_address(Ipv4 a) {
    const std::uint32_t v = a.value();
    return (v >> 24) == 10 || (v >> 20) == ((172u << 4) | 1u) || (v >> 16) == ((192u << 8) | 168u) || (v >> 24) == 127 ||
           (v >> 16) == ((169u << 8) | 254u);
}

}  // namespace flagscan

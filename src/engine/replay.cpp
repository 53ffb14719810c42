// Replaying a captured scan: survey (who scanned how), then the same engine over the frames.
#include "flagscan/engine/replay.hpp"

#include <algorithm>
#include <deque>
#include <unordered_map>

namespace flagscan {

// A TCP segment that is neither a RST nor a SYN,ACK, or any UDP datagram (the scanner is then
// told from the services that answer by who sent the most).
bool ScanSurvey::is_probe(const DecodedPacket& packet) {
    if (packet.udp) return true;
    if (!packet.tcp) return false;
    const TcpFlags flags = packet.tcp->flags;
    return !flags.any(TcpFlags::rst) && !flags.has(TcpFlags::syn | TcpFlags::ack);
}

void ScanSurvey::add(const DecodedPacket& packet) {
    if (!is_probe(packet)) return;
    Sender& sender = senders_[packet.ip.src];
    ++sender.probes;
    if (packet.tcp) {
        ++sender.by_flags[packet.tcp->flags.bits()];
        sender.ports[packet.tcp->dport.value()] = true;
    } else {
        ++sender.udp_probes;
        sender.udp_ports[packet.udp->dport.value()] = true;
    }
    sender.targets.insert(packet.ip.dst.value());
}

namespace {

ProbeKind kind_for_flags(std::uint8_t bits) {
    for (const auto& kind : all_probe_kinds()) {
        if (kind.flags.bits() == bits) return kind;  // ACK before Window: the same probe
    }
    return custom_flags_kind(TcpFlags{bits}, syn_kind());
}

}  // namespace

Result<ScanSurvey::Conclusion> ScanSurvey::conclude(std::optional<Ipv4> scanner, const ProbeKind* kind) const {
    if (senders_.empty()) return Error{"the capture holds no TCP or UDP probes (no scan to replay)"};
    if (!scanner) {
        scanner = std::max_element(senders_.begin(), senders_.end(), [](const auto& a, const auto& b) {
                      return a.second.probes < b.second.probes;
                  })->first;
    }
    auto it = senders_.find(*scanner);
    if (it == senders_.end()) return Error{"the capture holds no probes from the scanner " + scanner->str()};
    const Sender& sender = it->second;
    Conclusion out;
    out.scanner = *scanner;
    out.kind_inferred = kind == nullptr;
    const bool udp = kind != nullptr ? kind->protocol == ipproto::udp : sender.udp_probes * 2 > sender.probes;
    if (kind != nullptr) {
        out.kind = *kind;
    } else if (udp) {
        out.kind = udp_kind();
    } else {
        const auto common = std::max_element(sender.by_flags.begin(), sender.by_flags.end(),
                                             [](const auto& a, const auto& b) { return a.second < b.second; });
        out.kind = kind_for_flags(common->first);
    }
    for (std::uint32_t ip : sender.targets) out.hosts.add(Ipv4{ip});
    const auto& ports = udp ? sender.udp_ports : sender.ports;
    for (std::size_t port = 0; port < ports.size(); ++port) {
        if (ports[port]) out.ports.emplace_back(static_cast<std::uint16_t>(port));
    }
    return out;
}

namespace {

// The (target, port) a reply speaks about: its source for TCP, the quoted probe's target for
// an ICMP error.
std::optional<std::uint64_t> reply_key(const DecodedPacket& packet) {
    if (packet.tcp) return Correlator::key(packet.ip.src, 0, packet.tcp->sport);
    if (packet.udp) return Correlator::key(packet.ip.src, 0, packet.udp->sport);
    if (packet.icmp && packet.icmp->quoted) return Correlator::key(packet.icmp->quoted->ip.dst, 0, packet.icmp->quoted->dport);
    return std::nullopt;
}

// Why: `tcpdump -i any` on a machine with several cores can file a reply before the probe that
// caused it (each core timestamps its own packets). A reply that matches nothing is kept for a
// while, and offered again when a probe to its (target, port) turns up.
class EarlyReplies {
public:
    void keep(const DecodedPacket& packet, Micros ts) {
        auto key = reply_key(packet);
        if (!key) return;
        if (order_.size() == kLimit) {
            waiting_.erase(order_.front());
            order_.pop_front();
        }
        waiting_.emplace(*key, Held{packet, ts});
        order_.push_back(*key);
    }
    // Replies kept for the probe just recorded, handed to the engine.
    void release(Engine& engine, const DecodedPacket& probe) {
        const auto key = Correlator::key(probe.ip.dst, 0, probe.tcp ? probe.tcp->dport : probe.udp->dport);
        auto [first, last] = waiting_.equal_range(key);
        for (auto it = first; it != last; ++it) engine.on_packet(it->second.packet, it->second.ts);
        waiting_.erase(first, last);
    }

private:
    static constexpr std::size_t kLimit = 4096;
    struct Held {
        DecodedPacket packet;
        Micros ts;
    };
    std::unordered_multimap<std::uint64_t, Held> waiting_;
    std::deque<std::uint64_t> order_;  // oldest first, for eviction (stale keys are harmless)
};

}  // namespace

ReplayCounts replay_capture(Engine& engine, LinkType link, const std::function<std::optional<Frame>()>& next,
                            const LoopHooks& hooks) {
    ReplayCounts counts;
    EarlyReplies early;
    while (auto frame = next()) {
        ++counts.frames;
        if (counts.first < 0) counts.first = frame->ts;
        counts.last = std::max(counts.last, frame->ts);
        auto packet = decode_frame(frame->link.value_or(link), ByteView{frame->span()});
        if (!packet) {
            ++counts.undecodable;
            continue;
        }
        if (ScanSurvey::is_probe(*packet) && engine.replay_probe(*packet, frame->ts)) {
            ++counts.probes;
            if (hooks.sent) hooks.sent(Probe{}, frame->span().subspan(packet->link_header), frame->ts);
            early.release(engine, *packet);
            continue;
        }
        const PacketOutcome outcome = engine.on_packet(*packet, frame->ts);
        if (outcome.kind == PacketOutcome::Kind::stray) early.keep(*packet, frame->ts);
        if (hooks.received) hooks.received(*frame, *packet, outcome);
    }
    engine.finish_replay();
    return counts;
}

}  // namespace flagscan

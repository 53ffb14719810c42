// Replaying a captured scan: survey (who scanned how), then the same engine over the frames.
#include "flagscan/engine/replay.hpp"

#include <algorithm>

namespace flagscan {

bool ScanSurvey::is_probe(const DecodedPacket& packet) {
    if (!packet.tcp) return false;
    const TcpFlags flags = packet.tcp->flags;
    return !flags.any(TcpFlags::rst) && !flags.has(TcpFlags::syn | TcpFlags::ack);
}

void ScanSurvey::add(const DecodedPacket& packet) {
    if (!is_probe(packet)) return;
    Sender& sender = senders_[packet.ip.src];
    ++sender.probes;
    ++sender.by_flags[packet.tcp->flags.bits()];
    sender.targets.insert(packet.ip.dst.value());
    sender.ports[packet.tcp->dport.value()] = true;
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
    if (senders_.empty()) return Error{"the capture holds no TCP probes (no scan to replay)"};
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
    const auto common = std::max_element(sender.by_flags.begin(), sender.by_flags.end(),
                                         [](const auto& a, const auto& b) { return a.second < b.second; });
    out.kind = kind != nullptr ? *kind : kind_for_flags(common->first);
    for (std::uint32_t ip : sender.targets) out.hosts.add(Ipv4{ip});
    for (std::size_t port = 0; port < sender.ports.size(); ++port) {
        if (sender.ports[port]) out.ports.emplace_back(static_cast<std::uint16_t>(port));
    }
    return out;
}

ReplayCounts replay_capture(Engine& engine, LinkType link, const std::function<std::optional<Frame>()>& next,
                            const LoopHooks& hooks) {
    ReplayCounts counts;
    while (auto frame = next()) {
        ++counts.frames;
        if (counts.first < 0) counts.first = frame->ts;
        counts.last = std::max(counts.last, frame->ts);
        auto packet = decode_frame(link, ByteView{frame->span()});
        if (!packet) {
            ++counts.undecodable;
            continue;
        }
        if (ScanSurvey::is_probe(*packet) && engine.replay_probe(*packet, frame->ts)) {
            ++counts.probes;
            if (hooks.sent) hooks.sent(Probe{}, frame->span().subspan(packet->link_header), frame->ts);
            continue;
        }
        const PacketOutcome outcome = engine.on_packet(*packet, frame->ts);
        if (hooks.received) hooks.received(*frame, *packet, outcome);
    }
    engine.finish_replay();
    return counts;
}

}  // namespace flagscan

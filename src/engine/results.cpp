// Storage of verdicts and per-host tallies.
#include "flagscan/engine/results.hpp"

#include <utility>

#include "flagscan/net/decode.hpp"

namespace flagscan {

Results::Results(const TargetSet& targets, std::vector<const ProbeKind*> kinds, bool keep_evidence)
    : targets_(&targets), kinds_(std::move(kinds)), ports_(targets.size()),
      evidence_(keep_evidence ? targets.size() : 0), hosts_(targets.host_count()) {
    for (std::uint64_t host = 0; host < hosts_.size(); ++host)
        hosts_[host].counts[static_cast<int>(PortState::unscanned)] = static_cast<std::uint32_t>(targets.slot_count_of(host));
    totals_[static_cast<int>(PortState::unscanned)] = targets.size();
}

void Results::set(std::uint64_t index, const PortResult& result) {
    auto& slot = ports_[index];
    const std::uint32_t host = targets_->host_of(index);
    auto& counts = hosts_[host].counts;
    const auto unscanned = static_cast<int>(PortState::unscanned);
    if (slot.state == PortState::unscanned) ++decided_;
    --counts[static_cast<int>(slot.state)];
    ++counts[static_cast<int>(result.state)];
    --totals_[static_cast<int>(slot.state)];
    ++totals_[static_cast<int>(result.state)];
    if (slot.state == PortState::unscanned && result.state != PortState::unscanned && counts[unscanned] == 0)
        finished_.push_back(host);
    slot = result;
}

void Results::note_tries(std::uint64_t index, const PortEvidence& tries) {
    if (evidence_.empty()) return;
    PortEvidence& slot = evidence_[index];
    const PortEvidence before = slot;
    slot = PortEvidence{};
    slot.sport = tries.sport;
    slot.first_sport = tries.first_sport;
    slot.tries_span_us = tries.tries_span_us;
    slot.waited_us = tries.waited_us;
    slot.tries_known = tries.tries_known;
    if (ports_[index].reply_kind == ReplyEvidence::Kind::none) keep_unused(slot, before);
}

// A verdict of silence keeps the note of a packet that came about the port and decided nothing.
void Results::keep_unused(PortEvidence& slot, const PortEvidence& before) {
    if (before.unused == Unused::none) return;
    slot.unused = before.unused;
    slot.unused_protocol = before.unused_protocol;
    slot.unused_detail = before.unused_detail;
    slot.unused_code = before.unused_code;
    slot.reply_from = before.reply_from;
}

void Results::note_reply_packet(std::uint64_t index, Ipv4 from, Port sport) {
    if (evidence_.empty()) return;
    evidence_[index].reply_from = from;
    if (sport.value() != 0) evidence_[index].sport = sport.value();
}

void Results::note_unused(std::uint64_t index, const PortEvidence& packet) {
    if (evidence_.empty()) return;
    auto& slot = evidence_[index];
    if (ports_[index].reply_kind != ReplyEvidence::Kind::none || slot.unused != Unused::none) return;
    keep_unused(slot, packet);
}

std::vector<std::uint32_t> Results::take_finished_hosts() {
    std::vector<std::uint32_t> taken;
    taken.swap(finished_);
    return taken;
}

void Results::note_reply(std::uint32_t host_index, Micros rtt) {
    auto& host = hosts_[host_index];
    ++host.replies;
    if (rtt >= 0 && (host.min_rtt < 0 || rtt < host.min_rtt)) host.min_rtt = rtt;
}

void Results::restore_host(std::uint32_t host_index, const HostResult& evidence) {
    auto& host = hosts_[host_index];
    host.replies = evidence.replies;
    host.min_rtt = evidence.min_rtt;
    host.icmp_limit = evidence.icmp_limit;
}

std::vector<OpenTcpPort> open_tcp_ports(const Results& results) {
    std::vector<OpenTcpPort> ports;
    const TargetSet& targets = results.targets();
    for (std::uint32_t host = 0; host < targets.host_count(); ++host) {
        if (results.host(host).counts[static_cast<int>(PortState::open)] == 0) continue;
        for (const PlacedSlot placed : targets.slots_of(host)) {
            const bool tcp = results.kind(placed.slot.lane).protocol == ipproto::tcp;
            if (tcp && results.port(placed.index).state == PortState::open)
                ports.push_back({placed.index, targets.hosts().at(host), placed.slot.port});
        }
    }
    return ports;
}

}  // namespace flagscan

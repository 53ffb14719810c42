// Storage of verdicts and per-host tallies: every verdict of a small scan, what a report lists of a large one.
#include "flagscan/engine/results.hpp"

#include <algorithm>
#include <utility>

#include "flagscan/net/decode.hpp"

namespace flagscan {
namespace {

constexpr std::size_t kSilentKept = 1 << 16;  // folded silent verdicts a late reply may still overturn
constexpr int kUnscanned = static_cast<int>(PortState::unscanned);

// Report order of a slot: lane, then port.
std::uint32_t rank_of(Slot slot) { return std::uint32_t{slot.lane} << 16 | slot.port.value(); }

Keep chosen_keep(const TargetSet& targets, bool keep_evidence, std::optional<Keep> keep) {
    if (keep_evidence) return Keep::every_port;
    if (keep) return *keep;
    const bool small = targets.size() <= Results::kEveryPortUpTo && targets.host_count() <= Results::kEveryHostUpTo;
    return small ? Keep::every_port : Keep::listed;
}

// Host records made room for at the start (more grow the table as usual).
constexpr std::uint64_t kHostsReserved = std::uint64_t{1} << 16;

}  // namespace

Results::Results(const TargetSet& targets, std::vector<const ProbeKind*> kinds, bool keep_evidence,
                 std::optional<Keep> keep)
    : targets_(&targets), kinds_(std::move(kinds)), keep_(chosen_keep(targets, keep_evidence, keep)),
      ports_(keep_ == Keep::every_port ? targets.size() : 0), evidence_(keep_evidence ? targets.size() : 0) {
    totals_[kUnscanned] = targets.size();
    hosts_.reserve(std::min<std::uint64_t>(targets.host_count(), kHostsReserved));  // no rehash while a range is walked
}

Results::HostRecord& Results::record(std::uint32_t host) {
    auto [it, added] = hosts_.try_emplace(host);
    if (added) it->second.result.counts[kUnscanned] = static_cast<std::uint32_t>(targets_->slot_count_of(host));
    return it->second;
}

HostResult Results::host(std::uint32_t host_index) const {
    if (const auto it = hosts_.find(host_index); it != hosts_.end()) return it->second.result;
    HostResult fresh;
    fresh.counts[kUnscanned] = static_cast<std::uint32_t>(targets_->slot_count_of(host_index));
    return fresh;
}

std::vector<PortGroup> Results::groups(std::uint32_t host_index) const {
    const auto it = hosts_.find(host_index);
    if (it == hosts_.end()) return {};
    std::vector<PortGroup> groups = it->second.groups;
    std::sort(groups.begin(), groups.end(), [](const PortGroup& a, const PortGroup& b) { return a.first < b.first; });
    return groups;
}

PortResult Results::port(std::uint64_t index) const {
    if (keep_ == Keep::every_port) return ports_[index];
    if (const auto it = listed_.find(index); it != listed_.end()) return it->second;
    if (const auto it = silent_.find(index); it != silent_.end()) return it->second;
    return PortResult{};
}

// Under Keep::listed a state is folded once more than 25 of the host's ports are in it (nmap
// folds it then, whatever the others hold), never open; once dropped it stays folded.
bool Results::folded(const HostRecord& host, PortState state) const {
    const int s = static_cast<int>(state);
    if (keep_ == Keep::every_port || state == PortState::unscanned || state == PortState::open) return false;
    return host.result.counts[s] > kListedUpTo || (host.result.dropped_states >> s & 1) != 0;
}

// Adds (step 1) or takes away (-1) one port's verdict in its host's counts, groups and tallies.
void Results::count(HostRecord& host, std::uint64_t index, const PortResult& port, int step) {
    const int s = static_cast<int>(port.state);
    auto& counts = host.result.counts;
    const bool had_open = counts[static_cast<int>(PortState::open)] > 0;
    counts[s] = static_cast<std::uint32_t>(static_cast<std::int64_t>(counts[s]) + step);
    totals_[s] = static_cast<std::uint64_t>(static_cast<std::int64_t>(totals_[s]) + step);
    const bool has_open = counts[static_cast<int>(PortState::open)] > 0;
    if (had_open != has_open) hosts_with_open_ += has_open ? 1 : std::uint64_t(-1);
    if (port.state == PortState::unscanned) return;
    const Slot slot = targets_->slot_at(index);
    auto group = std::find_if(host.groups.begin(), host.groups.end(), [&](const PortGroup& g) {
        return g.state == port.state && g.lane == slot.lane && g.reason == port.reason;
    });
    if (group == host.groups.end()) group = host.groups.insert(host.groups.end(), PortGroup{port.state, slot.lane, port.reason, 0, rank_of(slot)});
    group->count = static_cast<std::uint32_t>(static_cast<std::int64_t>(group->count) + step);
    group->first = std::min(group->first, rank_of(slot));
    if (group->count == 0) host.groups.erase(group);
}

void Results::set(std::uint64_t index, const PortResult& result) {
    const std::uint32_t host = targets_->host_of(index);
    HostRecord& record = this->record(host);
    const PortResult prior = port(index);
    if (prior.state == PortState::unscanned) {
        ++decided_;
        count(record, index, PortResult{}, -1);
    } else {
        count(record, index, prior, -1);
    }
    count(record, index, result, 1);
    if (prior.state == PortState::unscanned && result.state != PortState::unscanned && record.result.counts[kUnscanned] == 0)
        finished_.push_back(host);
    store(index, result, record);
    if (keep_ == Keep::listed && folded(record, result.state) && (record.result.dropped_states >> static_cast<int>(result.state) & 1) == 0)
        fold(host, result.state);
}

void Results::store(std::uint64_t index, const PortResult& port, const HostRecord& host) {
    if (keep_ == Keep::every_port) {
        ports_[index] = port;
        return;
    }
    silent_.erase(index);
    if (!folded(host, port.state)) {
        listed_[index] = port;
        return;
    }
    listed_.erase(index);
    if (port.reason == Reason::no_response) remember_silent(index, port);
}

// A state past the listing threshold: its ports' records go (their counts stay in the groups).
void Results::fold(std::uint32_t host, PortState state) {
    HostRecord& record = this->record(host);
    record.result.dropped_states = static_cast<std::uint8_t>(record.result.dropped_states | 1u << static_cast<int>(state));
    const std::uint64_t first = targets_->first_index_of(host);
    for (std::uint64_t index = first; index < first + targets_->slot_count_of(host); ++index) {
        const auto it = listed_.find(index);
        if (it == listed_.end() || it->second.state != state) continue;
        if (it->second.reason == Reason::no_response) remember_silent(index, it->second);
        listed_.erase(it);
    }
}

// Why: a reply can come after its port was given up as silent (a late one) and then overturns
// that verdict; a folded port's verdict is gone, so the latest silent ones are kept a while.
void Results::remember_silent(std::uint64_t index, const PortResult& port) {
    silent_[index] = port;
    silent_order_.push_back(index);
    if (silent_order_.size() <= kSilentKept) return;
    silent_.erase(silent_order_.front());
    silent_order_.pop_front();
}

void Results::restore_group(std::uint32_t host_index, const PortGroup& group) {
    HostRecord& record = this->record(host_index);
    auto& counts = record.result.counts;
    const auto s = static_cast<int>(group.state);
    const bool had_open = counts[static_cast<int>(PortState::open)] > 0;
    counts[kUnscanned] -= group.count;
    counts[s] += group.count;
    totals_[kUnscanned] -= group.count;
    totals_[s] += group.count;
    decided_ += group.count;
    if (!had_open && counts[static_cast<int>(PortState::open)] > 0) ++hosts_with_open_;
    record.result.dropped_states = static_cast<std::uint8_t>(record.result.dropped_states | 1u << s);
    record.groups.push_back(group);
    if (counts[kUnscanned] == 0) finished_.push_back(host_index);
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

std::vector<std::uint32_t> Results::hosts_held() const {
    std::vector<std::uint32_t> held;
    if (keep_ == Keep::every_port) {
        held.resize(targets_->host_count());
        for (std::uint32_t host = 0; host < held.size(); ++host) held[host] = host;
        return held;
    }
    held.reserve(hosts_.size());
    for (const auto& [host, record] : hosts_) held.push_back(host);
    std::sort(held.begin(), held.end());
    return held;
}

void Results::forget_host(std::uint32_t host_index) {
    if (keep_ == Keep::every_port) return;
    const std::uint64_t first = targets_->first_index_of(host_index);
    syn_acks_.erase(host_index);
    if (hosts_.erase(host_index) == 0) return;
    for (std::uint64_t index = first; index < first + targets_->slot_count_of(host_index); ++index) listed_.erase(index);
}

void Results::note_reply(std::uint32_t host_index, Micros rtt) {
    auto& host = record(host_index).result;
    if (host.replies++ == 0) ++hosts_replied_;
    if (rtt >= 0 && (host.min_rtt < 0 || rtt < host.min_rtt)) host.min_rtt = rtt;
}

void Results::restore_host(std::uint32_t host_index, const HostResult& evidence) {
    auto& host = record(host_index).result;
    if (host.replies == 0 && evidence.replies > 0) ++hosts_replied_;
    host.replies = evidence.replies;
    host.min_rtt = evidence.min_rtt;
    host.icmp_limit = evidence.icmp_limit;
}

std::vector<OpenTcpPort> open_tcp_ports(const Results& results) {
    std::vector<OpenTcpPort> ports;
    const TargetSet& targets = results.targets();
    for (const std::uint32_t host : results.hosts_held()) {
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

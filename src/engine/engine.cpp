// The scan engine: sending order, retransmission, rate, and the verdict for every reply.
#include "flagscan/engine/engine.hpp"

#include <algorithm>
#include <limits>

namespace flagscan {
namespace {

constexpr Micros kIdleWake = 250 * kMillisecond;
constexpr std::uint8_t kMaxRepeats = 8;            // free resends of a try lost to our own congestion
constexpr std::size_t kMaxParked = 1 << 16;        // candidates waiting for their host's window
constexpr Micros kSilentHorizon = 4;               // timeouts a port out of tries waits for evidence, at most

std::uint32_t micros32(Micros us) {
    return us > 0 ? static_cast<std::uint32_t>(std::min<Micros>(us, std::numeric_limits<std::uint32_t>::max())) : 0;
}

// Our source port that a reply names: its destination port, or the quoted probe's source port.
Port our_port(const DecodedPacket& packet) {
    if (packet.tcp) return packet.tcp->dport;
    if (packet.udp) return packet.udp->dport;
    return packet.icmp && packet.icmp->quoted ? packet.icmp->quoted->sport : Port{};
}

}  // namespace

namespace {

EngineConfig with_lanes(EngineConfig config, const TargetSet& targets) {
    config.me.lanes = std::max(config.me.lanes, targets.lane_count());
    return config;
}

}  // namespace

Engine::Engine(const TargetSet& targets, const EngineConfig& config, const CookieKey& key, Results& results)
    : targets_(&targets),
      config_(with_lanes(config, targets)),
      correlator_(config_.me, key, results.kinds(), config.echo, config.tcp_data_length),
      results_(&results),
      order_(targets.size(), config.seed, config.shard),
      rtt_(config.timing.initial_rto, config.timing.min_rto, config.timing.max_rto, config.timing.near_min_rto),
      congestion_(config.timing.initial_window, config.timing.max_window),
      hosts_(config.timing),
      pace_(ceiling_rate(config.timing), burst_for(ceiling_rate(config.timing), config.timing)),
      floor_(config.timing.min_rate > 0 ? config.timing.min_rate : -1, burst_for(config.timing.min_rate, config.timing)),
      ip_id_(first_ip_id(config.seed)) {
    for (const ProbeKind* lane_kind : results.kinds()) icmp_lanes_.push_back(icmp_error_decides(*lane_kind));
    // A replay meets every probe of the capture; a live scan only the window's worth at once.
    if (config.echo == EchoCheck::recorded) correlator_.reserve(std::min<std::uint64_t>(targets.size(), 1u << 22));
    if (config_.resume) {
        next_position_ = std::min(config_.resume->position, order_.size());
        resumed_.assign(config_.resume->pending.begin(), config_.resume->pending.end());
        config_.resume.reset();
    }
}

// Evidence-based retry limit, after nmap's max_successful_tryno (kept per host, as nmap's): while
// no reply from a host ever needed a retransmission there is no loss to repair, and a silent
// port needs only a couple of tries to be called silent. Each time a reply answers a later try,
// the host's silent ports earn more tries, up to --max-retries, and those already out of tries
// are sent again (requeue_exhausted).
std::uint8_t Engine::allowed_tries(std::uint32_t host) const {
    const HostTiming* timing = hosts_.find(host);
    return tries_beyond(timing != nullptr ? timing->max_answered_try : std::uint8_t{0}, 3);
}

// `extra` tries past the latest try a reply answered, capped at --max-retries + 1.
std::uint8_t Engine::tries_beyond(std::uint8_t answered_try, unsigned extra) const {
    return static_cast<std::uint8_t>(std::min(unsigned{answered_try} + extra, unsigned{config_.me.max_tries}));
}

// Host discovery: each host answers once, so no host has evidence of its own; the scan's is used
// (every reply's try), and, as nmap's pings, a probe gets one resend less than a port (no reply
// having needed a resend: one). A host that answers only one kind of probe is still asked on
// that kind twice, and more often as soon as any reply shows loss (grant_tries).
std::uint8_t Engine::tries_at(std::uint64_t index) const {
    if (kind(targets_->lane_at(index)).purpose != Purpose::host_discovery) return allowed_tries(host_of(index));
    return tries_beyond(hosts_.max_answered_try(), 2);
}

std::uint8_t Engine::allowed_tries() const {
    return tries_beyond(hosts_.max_answered_try(), 3);
}

HostTiming& Engine::timing_of(std::uint32_t host) {
    if (HostTiming* known = hosts_.find(host)) return *known;
    return hosts_.at(host, results_->host(host).min_rtt);
}

// A probe to `host` is given up on after the host's own timeout (plus the capture's slack): its
// own once it has shown a round trip; until then the initial one. Not nmap's
// choice (its probeTimeout falls back on the scan-wide timeout): a far host that has not yet
// answered would be given up on at a near host's pace, and its ports read filtered.
Micros Engine::rto_of(std::uint32_t host) const { return rto_of(hosts_.find(host)); }

Micros Engine::rto_of(const HostTiming* timing) const {
    return heard(timing) ? timing->rtt.rto() : config_.timing.initial_rto;
}

// A host that has shown a round trip of its own.
bool Engine::heard(const HostTiming* timing) { return timing != nullptr && timing->rtt.has_samples(); }

Micros Engine::host_timeout(std::uint32_t host) const { return rto_of(host) + config_.delivery_slack; }

// When to look at a try sent at `sent` to `host` (now or later): when its host's timeout runs
// out; but while that host has shown no round trip of its own, an answer to another of its probes
// will shorten its timeout from the initial one, so sooner: after the lowest timeout there can be,
// then after twice the time waited so far (each look sets the next: a few looks a try, and a
// first answer is felt within twice the timeout it gave). That instead of setting every running
// timer again at each host's first answer (over a /16, at almost every poll). A host sent one
// probe (one port, one lane) has no other to be answered.
Micros Engine::next_look(std::uint32_t host, Micros sent, Micros now) const {
    const HostTiming* timing = hosts_.find(host);  // once: this runs for every probe sent
    const Micros due = sent + rto_of(timing) + config_.delivery_slack;
    if (heard(timing) || targets_->slot_count_of(host) < 2) return due;
    const Micros lowest = std::min(config_.timing.near_min_rto, config_.timing.min_rto) + config_.delivery_slack;
    return std::min(due, now + std::max(lowest, now - sent));
}

// Why not the timeout alone: a window's epoch measures loss over the replies of one timeout, and
// on a path whose timeout fell to its near floor (RttEstimator::floor) that is a few dozen
// replies, too few to tell steady loss from congestion: the epoch keeps min_rto's length.
Micros Engine::loss_epoch(Micros timeout) const {
    return std::max(timeout, config_.timing.min_rto + config_.delivery_slack);
}

Micros Engine::host_rto(Ipv4 host) const {
    const auto index = targets_->hosts().index_of(host);
    return index ? rto_of(static_cast<std::uint32_t>(*index)) : config_.timing.initial_rto;
}

std::uint32_t Engine::host_window_cuts(Ipv4 host) const {
    const auto index = targets_->hosts().index_of(host);
    const HostTiming* timing = index ? hosts_.find(static_cast<std::uint32_t>(*index)) : nullptr;
    return timing != nullptr ? timing->window.cuts() : 0;
}

// A host has room while its probes in flight are fewer than its own window.
bool Engine::host_has_room(std::uint32_t host) {
    const double in_flight = correlator_.in_flight(targets_->hosts().at(host));
    return in_flight < timing_of(host).window.window();
}

// What may become of the next candidate now. The global window says how many probes may be
// unanswered, the host's window how many of them to its host; the pace bucket how fast they
// may go; the floor bucket (--min-rate) lets probes out even when a window is full. A candidate
// whose host alone is full waits aside (parked) so that other hosts' probes go on.
// (A host whose ICMP errors are paced is held to that pace instead of its window.)
Engine::Admission Engine::admit(std::uint64_t index, Micros now) {
    const bool global_open = static_cast<double>(correlator_.in_flight()) < congestion_.window();
    const bool host_open = paced_host(index) || host_has_room(host_of(index));
    if (global_open && host_open) return pace_.take(now) ? Admission::send : Admission::wait;
    if (!floor_.unlimited() && floor_.take(now)) return Admission::send;
    return global_open ? Admission::park : Admission::wait;
}

Probe Engine::make_probe(std::uint64_t index, std::uint8_t try_no) {
    return correlator_.probe_for(targets_->at(index), index, try_no, ip_id_++);
}

// A try that timed out is retried with the next try number while the port has tries left.
// One exception: a try that went out before the window was last cut was probably lost to our
// own congestion, not to the port's path, so it is resent under the same try number and does
// not use up the port's tries (at most kMaxRepeats times), lest a burst we caused ourselves
// turn closed ports into "filtered".
void Engine::expire(Micros now) {
    while (auto expired = correlator_.pop_expired(now)) {
        const std::uint32_t host = host_of(expired->entry.index);
        if (expired->entry.sent + host_timeout(host) > now) {  // a look before its due (next_look)
            correlator_.reschedule(expired->key, next_look(host, expired->entry.sent, now));
            continue;
        }
        auto* entry = correlator_.find(expired->key);
        if (spaced_retry(expired->key, *entry, now)) continue;
        retry_or_give_up(expired->key, *entry, now);
    }
    while (!spaced_.empty() && spaced_.top().first <= now) {
        const std::uint64_t key = spaced_.top().second;
        spaced_.pop();
        auto* entry = correlator_.find(key);
        if (entry != nullptr && entry->phase == Correlator::Phase::queued) retry_or_give_up(key, *entry, now);
    }
    give_up_aged(now);
}

// Why: a host that has sent only a few ICMP errors (or none: its budget may have been spent by
// someone else just before) may be one that sends one per second after a burst (Linux). A try
// to it that timed out is not taken as silence before a token could have come back, else the
// closed ports just past the burst would be called open|filtered; a host that has sent many
// errors has shown it has no such limit.
bool Engine::spaced_retry(std::uint64_t key, Correlator::Entry& entry, Micros now) {
    const std::uint32_t host = host_of(entry.index);
    const std::uint8_t lane = Correlator::lane_of(key);
    if (!icmp_paced_lane(lane) || !icmp_pacer_.may_be_limited(host, errors_to_suspect(lane))) return false;
    const Micros due = entry.sent + icmp_pacer_.token_gap(host);
    if (now >= due) return false;
    correlator_.set_phase(key, Correlator::Phase::queued);
    spaced_.emplace(due, key);
    return true;
}

// A try that timed out: sent again (the next try, or the same one after a loss that was not the
// port's), or given up on until the scan ends or more evidence comes.
void Engine::retry_or_give_up(std::uint64_t key, Correlator::Entry& entry, Micros now) {
    const std::uint32_t host = host_of(entry.index);
    const bool icmp_read = icmp_paced_lane(Correlator::lane_of(key));
    if (icmp_read && icmp_pacer_.on_silence(host, now, entry.sent, std::max<std::uint32_t>(1, errors_to_suspect(Correlator::lane_of(key)))))
        resend_given_up(host);
    // Sent at the instant pacing began counts as before it: the sends of that instant went out
    // before the timeout that began it was seen (poll_sends sends, then expires, at one `now`).
    const bool before_pace = icmp_read && icmp_pacer_.paced(host) && entry.sent <= icmp_pacer_.paced_since(host);
    const Micros last_cut = std::max(congestion_.last_cut(), timing_of(host).window.last_cut());
    const bool ours = (entry.sent < last_cut || before_pace) && entry.repeats < kMaxRepeats;
    const bool more = !host_found_up(entry.index) && (ours || entry.try_no + 1 < tries_at(entry.index));
    correlator_.set_phase(key, more ? Correlator::Phase::queued : Correlator::Phase::exhausted);
    entry.repeat_try = ours;
    entry.repeats = static_cast<std::uint8_t>(entry.repeats + (ours ? 1 : 0));
    if (more) return retransmit_.push_back(key);
    exhausted_[host].push_back(key);
    start_aging(host, key, now);
    settle_if_quiet(host);
}

// Why: the evidence that sends a port out of tries again (a window cut, an ICMP pace found,
// a reply that needed a later try) concerns the probes in flight around it, and comes within
// a few of their timeouts. A port that has waited out of tries for kSilentHorizon of its host's
// timeouts (plus the probe spacing) is given its verdict of silence then, even while its host
// has ports left to walk: the ports waiting are those of the last few seconds, not of the whole
// scan, so a multi-port scan of silent hosts stays flat in memory. A late reply still overturns it.
// A kind read from ICMP errors waits a token gap more per timeout: a rate limit's pace is found,
// and what it swallowed sent again, at the pace of the host's tokens.
void Engine::start_aging(std::uint32_t host, std::uint64_t key, Micros now) {
    const Micros token_gap = icmp_paced_lane(Correlator::lane_of(key)) ? icmp_pacer_.token_gap(host) : 0;
    const Micros horizon = kSilentHorizon * (host_timeout(host) + config_.timing.scan_delay + token_gap);
    aging_.push(Aging{now + horizon, now, key});
}

void Engine::give_up_aged(Micros now) {
    while (!aging_.empty() && aging_.top().due <= now) {
        const Aging aged = aging_.top();
        aging_.pop();
        auto* entry = correlator_.find(aged.key);
        // Answered, or sent again since (a newer record stands for its latest wait).
        if (entry == nullptr || entry->phase != Correlator::Phase::exhausted || entry->sent > aged.since) continue;
        const std::uint32_t host = host_of(entry->index);
        const auto it = exhausted_.find(host);
        if (it != exhausted_.end()) {
            std::erase(it->second, aged.key);
            if (it->second.empty()) exhausted_.erase(it);
        }
        give_up_key(aged.key);
        forget_if_done(host, Correlator::target_of(aged.key));
    }
}

// Why: a host whose every undecided port is out of tries (none unsent, in flight, queued, parked
// or held) has nothing left to learn from; its silent ports get their verdict now rather than at
// the end of the scan, so the host is finished and the outputs can write it while others go on.
void Engine::settle_if_quiet(std::uint32_t host) {
    const auto it = exhausted_.find(host);
    if (it == exhausted_.end()) return;
    const auto undecided = results_->host(host).counts[static_cast<int>(PortState::unscanned)];
    if (it->second.size() < undecided) return;
    give_up_silent(host);
    forget_if_done(host, targets_->hosts().at(host));
}

// Host discovery needs one answer per host: once a host is up, its silent probes get no retry.
bool Engine::host_found_up(std::uint64_t index) const {
    if (kind(targets_->lane_at(index)).purpose != Purpose::host_discovery) return false;
    return results_->host(host_of(index)).counts[static_cast<int>(PortState::open)] > 0;
}

// A discovery probe not sent yet whose host was found up meanwhile (close_found_host).
bool Engine::closed_discovery(std::uint64_t index) const {
    return kind(targets_->lane_at(index)).purpose == Purpose::host_discovery && decided_index(index);
}

// Kinds that an ICMP error decides (UDP, FIN, NULL, XMAS, Maimon) are paced when the target limits them.
bool Engine::icmp_paced_lane(std::uint8_t lane) const { return icmp_lanes_[lane]; }

// How many ICMP errors a host must have sent before its silence on `lane` is suspect. UDP: none
// (every closed port answers with ICMP, so a host whose budget was spent just before the scan
// is silent from the start). TCP flag scans: a Linux burst less one, since their closed ports
// answer RST and their open ports are silent: a host that sent fewer errors than a fresh
// budget holds has not met its limit, and waiting on its open ports would only slow the scan.
std::uint32_t Engine::errors_to_suspect(std::uint8_t lane) const {
    return kind(lane).protocol == ipproto::udp ? 0 : IcmpPacer::kLinuxBurst - 1;
}

// A probe to a host whose ICMP errors are paced: held to that pace (hold_for_pace), not to windows.
bool Engine::paced_host(std::uint64_t index) const {
    return icmp_paced_lane(targets_->lane_at(index)) && icmp_pacer_.paced(host_of(index));
}

// Ports out of tries that `pick` chooses go out again: as their next try (repeat false), or
// as the same try again, for free, when the loss was not the port's (repeat true).
template <typename Pick>
void Engine::requeue_exhausted(Pick pick, bool repeat) {
    for (auto host = exhausted_.begin(); host != exhausted_.end();) {
        std::erase_if(host->second, [&](std::uint64_t key) {
            auto* entry = correlator_.find(key);
            if (entry == nullptr || entry->phase != Correlator::Phase::exhausted) return true;  // answered late
            if (!pick(key, *entry) || host_found_up(entry->index) || (repeat && entry->repeats >= kMaxRepeats)) return false;
            entry->repeat_try = repeat;
            entry->repeats = static_cast<std::uint8_t>(entry->repeats + (repeat ? 1 : 0));
            correlator_.set_phase(key, Correlator::Phase::queued);
            retransmit_.push_back(key);
            return true;
        });
        host = host->second.empty() ? exhausted_.erase(host) : std::next(host);
    }
}

// A host's pacing just began: what it gave up on was lost to the limit, not to the path.
void Engine::resend_given_up(std::uint32_t host) {
    requeue_exhausted([&](std::uint64_t key, const Correlator::Entry& entry) {
        return host_of(entry.index) == host && icmp_paced_lane(Correlator::lane_of(key));
    }, true);
}

// A window was cut at `cut`: what went out before it met our own congestion, and a port whose
// last try did is not silent for that (lest a burst we caused turn closed ports filtered).
// `host`: only that host's ports (its own window was cut), else every host's (the global one).
void Engine::resend_lost_to_cut(std::optional<std::uint32_t> host, Micros cut) {
    requeue_exhausted([&](std::uint64_t, const Correlator::Entry& entry) {
        return entry.sent < cut && (!host || host_of(entry.index) == *host);
    }, true);
}

// A reply from `host` needed a later try than any before: its silent ports earn more tries
// (without a host: the scan's evidence grew, which host discovery's probes go by, tries_at).
void Engine::grant_tries(std::optional<std::uint32_t> host) {
    requeue_exhausted([&](std::uint64_t, const Correlator::Entry& entry) {
        return (!host || host_of(entry.index) == *host) && entry.try_no + 1 < tries_at(entry.index);
    }, false);
}

// A probe for a paced host waits in that host's queue until its pace allows it.
bool Engine::hold_for_pace(std::uint64_t index, bool resend, Micros now) {
    const std::uint32_t host = host_of(index);
    if (!icmp_paced_lane(targets_->lane_at(index)) || !icmp_pacer_.paced(host)) return false;
    auto& queue = held_[host];
    if (queue.empty() && icmp_pacer_.take(host, now)) return false;
    queue.push_back(Held{index, resend});
    return true;
}

// The next send of an open probe: the same try again after a loss that was not the port's
// fault (repeat_try), else the next try.
Probe Engine::next_try(const Correlator::Entry& entry) {
    return make_probe(entry.index, static_cast<std::uint8_t>(entry.try_no + (entry.repeat_try ? 0 : 1)));
}

// Probes held for paced hosts whose pace now allows one: first the resends, then new ones.
std::size_t Engine::release_paced(Micros now, std::span<Probe> out) {
    std::size_t n = 0;
    for (auto it = held_.begin(); it != held_.end() && n < out.size();) {
        auto& queue = it->second;
        while (!queue.empty() && n < out.size()) {
            const Held held = queue.front();
            const Correlator::Entry* entry = held.resend ? held_resend(held.index) : nullptr;
            // Answered, or its host found up (closed_discovery), while it waited: spends no token.
            if (held.resend ? entry == nullptr : closed_discovery(held.index)) {
                queue.pop_front();
                continue;
            }
            if (!icmp_pacer_.take(it->first, now)) break;
            queue.pop_front();
            out[n++] = entry != nullptr ? next_try(*entry) : make_probe(held.index, 0);
            stats_.retransmitted += entry != nullptr ? 1 : 0;
        }
        it = queue.empty() ? held_.erase(it) : std::next(it);
    }
    return n;
}

// The entry of a held resend still waiting to go (null: answered meanwhile).
const Correlator::Entry* Engine::held_resend(std::uint64_t index) {
    const Target target = targets_->at(index);
    const auto* entry = correlator_.find(Correlator::key(target.ip, target.lane, target.port));
    return entry != nullptr && entry->phase == Correlator::Phase::queued ? entry : nullptr;
}

// The next probe to consider: a queued resend first (skipping those answered while they
// waited), else the next position of the walk.
std::optional<Engine::Candidate> Engine::take_candidate() {
    while (!retransmit_.empty()) {
        const std::uint64_t key = retransmit_.front();
        retransmit_.pop_front();
        auto* entry = correlator_.find(key);
        if (entry != nullptr && entry->phase == Correlator::Phase::queued) return Candidate{entry->index, key, entry};
    }
    if (parked_count_ >= kMaxParked) return std::nullopt;
    return next_first_try();
}

// The first try of an index with no verdict: those an interrupted scan left pending, then the
// walk. A resumed scan's Results hold the verdicts it restored, all from before its resume
// point's position, so the walk from there meets none of them.
std::optional<Engine::Candidate> Engine::next_first_try() {
    while (!resumed_.empty()) {
        const std::uint64_t index = resumed_.front();
        resumed_.pop_front();
        if (!decided_index(index)) return Candidate{index, 0, nullptr, true};
    }
    while (next_position_ < order_.size()) {
        const std::uint64_t index = order_(next_position_++);
        if (closed_discovery(index)) continue;
        return Candidate{index, 0, nullptr};
    }
    return std::nullopt;
}

// A candidate whose host's window is full waits beside the walk, so that the probes of other
// hosts go on: a far host's slow answers never hold up a near one.
void Engine::park(const Candidate& candidate) {
    ParkedQueue& queue = parked_[host_of(candidate.index)];
    const Parked parked{candidate.index, candidate.key, candidate.resend != nullptr};
    (parked.resend ? queue.resends : queue.first_tries).push_back(parked);
    ++parked_count_;
}

// The probe a parked candidate stands for, unless it was answered while it waited.
std::optional<Probe> Engine::send_parked(const Parked& parked) {
    if (!parked.resend) {  // a first try: nothing could answer it yet, but its host may be found up
        if (closed_discovery(parked.index)) return std::nullopt;
        return make_probe(parked.index, 0);
    }
    auto* entry = correlator_.find(parked.key);
    if (entry == nullptr || entry->phase != Correlator::Phase::queued) return std::nullopt;
    ++stats_.retransmitted;
    return next_try(*entry);
}

// Parked candidates of hosts whose windows opened again, while the global window allows.
// Resends go first, as in the global queue: a port's verdict waits on them.
std::size_t Engine::release_parked(Micros now, std::span<Probe> out) {
    std::size_t n = 0;
    for (auto it = parked_.begin(); it != parked_.end() && n < out.size();) {
        ParkedQueue& queue = it->second;
        while (!queue.empty() && n < out.size()) {
            auto& line = queue.resends.empty() ? queue.first_tries : queue.resends;
            if (paced_host(line.front().index)) {  // its host's ICMP pace took over from its window
                held_[it->first].push_back(Held{line.front().index, line.front().resend});
                line.pop_front();
                --parked_count_;
                continue;
            }
            const Admission admission = admit(line.front().index, now);
            if (admission == Admission::wait) return n;
            if (admission == Admission::park) break;
            const Parked parked = line.front();
            line.pop_front();
            --parked_count_;
            if (auto probe = send_parked(parked)) {
                correlator_.record(*probe, now, next_look(it->first, now, now));
                out[n++] = *probe;
            }
        }
        it = queue.empty() ? parked_.erase(it) : std::next(it);
    }
    return n;
}

// A candidate the rate did not allow yet goes first next time.
void Engine::put_back(const Candidate& candidate) {
    if (candidate.resend != nullptr) retransmit_.push_front(candidate.key);
    else if (candidate.resumed) resumed_.push_front(candidate.index);
    else --next_position_;
}

// Each probe is recorded as it is chosen, so that the next choice sees its host's window with it.
std::size_t Engine::poll_sends(Micros now, std::span<Probe> out) {
    expire(now);
    if (draining_) return 0;
    std::size_t n = held_.empty() ? 0 : release_paced(now, out);
    for (std::size_t i = 0; i < n; ++i) correlator_.record(out[i], now, next_look(host_of(out[i].index), now, now));
    if (!parked_.empty()) n += release_parked(now, out.subspan(n));
    while (n < out.size()) {
        const auto candidate = take_candidate();
        if (!candidate) break;
        if (hold_for_pace(candidate->index, candidate->resend != nullptr, now)) continue;
        const Admission admission = admit(candidate->index, now);
        if (admission == Admission::park) {
            park(*candidate);
            continue;
        }
        if (admission == Admission::wait) {
            put_back(*candidate);
            break;
        }
        out[n] = candidate->resend != nullptr ? next_try(*candidate->resend) : make_probe(candidate->index, 0);
        correlator_.record(out[n], now, next_look(host_of(candidate->index), now, now));
        stats_.retransmitted += candidate->resend != nullptr ? 1 : 0;
        ++n;
    }
    stats_.sent += n;
    if (n > 0 && stats_.first_send < 0) stats_.first_send = now;
    // Every port has had its first probe once the walk is over and none waits parked or held.
    const bool walked = next_position_ == order_.size() && resumed_.empty() && parked_.empty() && held_.empty();
    if (n > 0 && walked && stats_.last_first_try < 0) stats_.last_first_try = now;
    return n;
}

std::optional<std::uint64_t> Engine::index_of(Ipv4 target, std::uint8_t lane, Port port) const {
    const auto host = targets_->hosts().index_of(target);
    if (!host) return std::nullopt;
    return targets_->index_of(*host, lane, port);
}

void Engine::settle(const Answer& answer, std::uint64_t index, const Rule& rule, std::uint8_t tries, Micros rtt,
                    const Correlator::Entry* entry) {
    PortResult result;
    result.state = rule.state;
    result.reason = rule_reason(rule, answer.evidence);
    result.ttl = answer.evidence.ttl;
    result.tries = tries;
    result.answered_try = answer.try_no;
    result.rule = static_cast<std::uint8_t>(&rule - kind(answer.lane).rules.data());
    result.reply_window = answer.evidence.window;
    result.reply_kind = answer.evidence.kind;
    result.reply_flags = answer.evidence.flags.bits();
    result.icmp_code = answer.evidence.icmp_code;
    result.rtt_us = micros32(rtt);
    results_->set(index, result);
    if (results_->keeps_evidence())
        results_->note_tries(index, tries_seen(index, entry, answer.evidence.kind == ReplyEvidence::Kind::none));
    if (answer.evidence.kind != ReplyEvidence::Kind::none)
        results_->note_reply(host_of(index), rtt);
}

PacketOutcome Engine::on_packet(const DecodedPacket& packet, Micros ts) {
    using Outcome = PacketOutcome::Kind;
    if (packet.ip.src == config_.me.source && packet.ip.dst != config_.me.source) return {Outcome::own};
    auto answer = correlator_.identify(packet);
    if (!answer) {
        ++stats_.strays;
        note_unused(packet, Unused::stray, std::nullopt);
        return {Outcome::stray};
    }
    const PacketOutcome outcome = on_answer(*answer, ts);
    if (outcome.kind == Outcome::unmatched) note_unused(packet, Unused::unmatched, outcome.index);
    if ((outcome.kind == Outcome::answer || outcome.kind == Outcome::late) && outcome.index) {
        results_->note_reply_packet(*outcome.index, packet.ip.src, our_port(packet));
        note_syn_ack(packet, host_of(*outcome.index));
    }
    return outcome;
}

// The passive OS hint's evidence: what a host's SYN-ACK says of its stack, kept at no cost in
// packets (Results keeps the first per host).
void Engine::note_syn_ack(const DecodedPacket& packet, std::uint32_t host) {
    if (!packet.tcp || !packet.tcp->flags.has(TcpFlags::syn | TcpFlags::ack) || packet.tcp->flags.any(TcpFlags::rst)) return;
    results_->note_syn_ack(host, SynAckSeen{packet.ip.ttl, packet.ip.dont_fragment, packet.tcp->window, packet.tcp->options});
}

// What the wire showed of a port's tries (its source ports and times, for --explain): from its
// entry, or, for a late reply, from the verdict of silence it overturns. Silence was waited for
// this host's timeout in a live scan, to the capture's end in a replay.
PortEvidence Engine::tries_seen(std::uint64_t index, const Correlator::Entry* entry, bool silent) const {
    PortEvidence seen;
    const PortEvidence prior = results_->evidence(index);
    seen.first_sport = entry != nullptr ? entry->first_sport.value() : prior.first_sport;
    seen.sport = entry != nullptr ? entry->sport.value() : prior.sport;
    seen.tries_span_us = entry != nullptr ? micros32(entry->sent - entry->first_sent) : prior.tries_span_us;
    if (silent && entry != nullptr)
        seen.waited_us = micros32(replay_end_ >= 0 ? replay_end_ - entry->sent : host_timeout(host_of(index)));
    seen.tries_known = entry != nullptr || prior.tries_known;  // a port restored by --resume: its tries are unknown
    return seen;
}

// A packet about one of the scan's ports that decided nothing: noted for --explain ("Back:").
void Engine::note_unused(const DecodedPacket& packet, Unused why, std::optional<std::uint64_t> index) {
    if (!results_->keeps_evidence()) return;
    if (!index) index = port_spoken_of(packet);
    if (!index) return;
    PortEvidence note;
    note.unused = why;
    note.unused_protocol = packet.ip.protocol;
    note.unused_detail = packet.tcp ? packet.tcp->flags.bits() : packet.icmp ? packet.icmp->type : 0;
    note.unused_code = packet.icmp ? packet.icmp->code : 0;
    note.reply_from = packet.ip.src;
    results_->note_unused(*index, note);
}

void Engine::note_cut(const DecodedPacket& packet, Port sport) {
    if (!results_->keeps_evidence()) return;
    DecodedPacket about = packet;
    if (packet.ip.protocol == ipproto::tcp) about.tcp = TcpHeader{sport, Port{}, 0, 0, TcpFlags{}, 0};
    else about.udp = UdpHeader{sport, Port{}, 0};
    if (auto index = port_spoken_of(about)) note_unused(packet, Unused::cut, index);
}

// The scan's port a packet to us is about: the one it comes from, or the one the probe an ICMP
// error quotes went to.
std::optional<std::uint64_t> Engine::port_spoken_of(const DecodedPacket& packet) const {
    if (packet.ip.dst != config_.me.source) return std::nullopt;
    const auto& quoted = packet.icmp ? packet.icmp->quoted : std::nullopt;
    if (!packet.tcp && !packet.udp && !(quoted && quoted->ip.src == config_.me.source)) return std::nullopt;
    const std::uint8_t protocol = quoted ? quoted->ip.protocol : packet.ip.protocol;
    const auto lane = replay_lane(protocol);
    if (!lane) return std::nullopt;
    const Port port = packet.tcp ? packet.tcp->sport : packet.udp ? packet.udp->sport : quoted->dport;
    return quoted ? index_of(quoted->ip.dst, *lane, port) : index_of(packet.ip.src, *lane, port);
}

PacketOutcome Engine::on_answer(const Answer& given, Micros ts) {
    using Outcome = PacketOutcome::Kind;
    Answer answer = given;
    auto index = index_of(answer.target, answer.lane, answer.port);
    if (!index) {
        ++stats_.strays;
        return {Outcome::stray};
    }
    ++stats_.replies;
    const Rule* rule = match_rule(kind(answer.lane), answer.evidence);
    if (rule == nullptr) {
        ++stats_.unmatched;
        return {Outcome::unmatched, -1, index};
    }
    const std::uint64_t key = Correlator::key(answer);
    auto* entry = correlator_.find(key);
    if (entry != nullptr && answer.try_no == Answer::kUnknownTry) answer.try_no = entry->try_no;
    if (answer.try_no == Answer::kUnknownTry) answer.try_no = 0;
    if (entry == nullptr) {  // already decided: only a verdict of silence can be overturned
        const auto& prior = results_->port(*index);
        if (prior.reason != Reason::no_response) {
            ++stats_.duplicates;
            return {Outcome::duplicate};
        }
        settle(answer, *index, *rule, prior.tries, -1, nullptr);
        if (host_found_up(*index)) close_found_host(host_of(*index));
        ++stats_.late;
        return {Outcome::late, -1, index};
    }
    const std::uint32_t host = host_of(*index);
    const Micros sent = answered_send_time(key, *entry, answer.try_no);
    if (answer.evidence.kind == ReplyEvidence::Kind::icmp_unreachable && icmp_paced_lane(answer.lane)) {
        const bool paced = icmp_pacer_.paced(host);
        // A loss under the pace: the try before this one went out after pacing began (see before_pace).
        icmp_pacer_.on_error(host, ts, sent, answer.try_no > 0, paced && answer.try_no > 0 && entry->previous_sent > icmp_pacer_.paced_since(host));
        if (paced) results_->note_icmp_limit(host, icmp_pacer_.limit(host));
    }
    const Micros rtt = sent >= 0 && ts >= sent ? ts - sent : -1;
    if (rtt >= 0) learn_rtt(host, rtt);
    stats_.drops_seen += answer.try_no > 0 ? 1 : 0;
    HostTiming& timing = timing_of(host);
    const std::uint32_t global_cuts = congestion_.cuts();
    const std::uint32_t host_cuts = timing.window.cuts();
    congestion_.on_reply(ts, answer.try_no, entry->previous_sent, loss_epoch(rto()));
    timing.window.on_reply(ts, answer.try_no, entry->previous_sent, loss_epoch(host_timeout(host)));
    const std::uint8_t tries = static_cast<std::uint8_t>(entry->try_no + 1);
    settle(answer, *index, *rule, tries, rtt, entry);  // reads the entry: erased only after
    correlator_.erase(key);
    if (congestion_.cuts() != global_cuts) resend_lost_to_cut(std::nullopt, congestion_.last_cut());
    else if (timing.window.cuts() != host_cuts) resend_lost_to_cut(host, timing.window.last_cut());
    const std::uint8_t scan_evidence = hosts_.max_answered_try();
    if (hosts_.note_answered(timing, answer.try_no)) grant_tries(host);
    if (kind(answer.lane).purpose == Purpose::host_discovery && hosts_.max_answered_try() > scan_evidence) grant_tries(std::nullopt);
    if (host_found_up(*index)) close_found_host(host);
    settle_if_quiet(host);
    forget_if_done(host, answer.target);
    return {Outcome::answer, rtt, index};
}

// When the try a reply answers went out, if the table still knows: the latest send, the one
// before it, or the first (tries are told apart by the port they came back to, so, unlike TCP,
// which cannot tell (Karn's problem), a reply to an earlier try still measures the path).
// -1 when it is not known (a try in between, or a try sent twice). A replay knows the send
// time of each recent try from the capture, a try in between included.
Micros Engine::answered_send_time(std::uint64_t key, const Correlator::Entry& entry, std::uint8_t try_no) const {
    if (auto recorded = correlator_.recorded_send(key, try_no)) return *recorded;
    if (try_no == entry.try_no) return entry.sent;
    if (entry.repeats > 0) return -1;
    if (try_no + 1 == entry.try_no) return entry.previous_sent;
    return try_no == 0 ? entry.first_sent : -1;
}

// A round trip measured to `host`: its own estimate learns it, and the scan-wide one (reported).
// A host's first answer moves its timeout from the initial one to what it showed (its tries in
// flight see it at their next look).
void Engine::learn_rtt(std::uint32_t host, Micros rtt) {
    rtt_.sample(rtt);
    timing_of(host).rtt.sample(rtt);
}

// A host with nothing left to send, wait for or decide needs its timing no more.
void Engine::forget_if_done(std::uint32_t host, Ipv4 address) {
    if (results_->host(host).counts[static_cast<int>(PortState::unscanned)] != 0) return;
    if (correlator_.open_count(address) != 0 || parked_.contains(host)) return;
    hosts_.forget(host);
}

Micros Engine::next_deadline(Micros now) {
    Micros deadline = now + kIdleWake;
    if (auto expiry = correlator_.next_expiry()) deadline = std::min(deadline, *expiry);
    for (const auto& [host, queue] : held_) deadline = std::min(deadline, icmp_pacer_.next(host, now));
    if (!spaced_.empty()) deadline = std::min(deadline, spaced_.top().first);
    const bool parked_ready = std::any_of(parked_.begin(), parked_.end(), [this](const auto& p) { return host_has_room(p.first); });
    const bool has_work =
        !draining_ && (!retransmit_.empty() || !resumed_.empty() || next_position_ < order_.size() || parked_ready);
    if (has_work) {
        const bool window_open = static_cast<double>(correlator_.in_flight()) < congestion_.window();
        if (window_open) deadline = std::min(deadline, pace_.next(now));
        if (!floor_.unlimited()) deadline = std::min(deadline, floor_.next(now));
    }
    return std::max(deadline, now);
}

// The lane a captured probe belongs to: the first whose kind sends that protocol.
std::optional<std::uint8_t> Engine::replay_lane(std::uint8_t protocol) const {
    for (std::uint8_t lane = 0; lane < results_->kinds().size(); ++lane) {
        if (kind(lane).protocol == protocol) return lane;
    }
    return std::nullopt;
}

namespace {

// RFC 793 SEG.LEN less SYN and FIN: the data after the TCP header, by the IP total length (the
// capture may have cut the bytes themselves).
std::uint16_t tcp_data_length(const DecodedPacket& packet) {
    const int headers = int{packet.ip.header_length} + int{packet.tcp->header_length};
    return static_cast<std::uint16_t>(std::max(0, int{packet.ip.total_length} - headers));
}

// A captured probe as the sender would have made it (its try is set by the caller).
Probe captured_probe(const DecodedPacket& packet, std::uint64_t index, std::uint8_t lane) {
    Probe probe;
    probe.index = index;
    probe.lane = lane;
    probe.src = packet.ip.src;
    probe.dst = packet.ip.dst;
    probe.sport = packet.tcp ? packet.tcp->sport : packet.udp->sport;
    probe.dport = packet.tcp ? packet.tcp->dport : packet.udp->dport;
    probe.seq = packet.tcp ? packet.tcp->seq : 0;
    probe.ack = packet.tcp ? packet.tcp->ack : 0;
    probe.ip_id = packet.ip.id;
    probe.data_length = packet.tcp ? tcp_data_length(packet) : 0;
    return probe;
}

}  // namespace

bool Engine::replay_probe(const DecodedPacket& packet, Micros ts) {
    if ((!packet.tcp && !packet.udp) || packet.ip.src != config_.me.source) return false;
    const auto lane = replay_lane(packet.ip.protocol);
    if (!lane) return false;
    const Port dport = packet.tcp ? packet.tcp->dport : packet.udp->dport;
    const auto index = index_of(packet.ip.dst, *lane, dport);
    if (!index) return false;
    Probe probe = captured_probe(packet, *index, *lane);
    if (correlator_.repeats_latest(probe, ts)) return false;  // one datagram captured twice: one try
    const std::uint64_t key = Correlator::key(packet.ip.dst, *lane, dport);
    const auto* entry = correlator_.find(key);
    if (entry == nullptr && results_->port(*index).state != PortState::unscanned) return true;  // probed again after its verdict
    probe.try_no = entry == nullptr ? 0 : static_cast<std::uint8_t>(std::min(entry->try_no + 1, 254));
    correlator_.record(probe, ts, next_look(host_of(*index), ts, ts));
    ++stats_.sent;
    stats_.retransmitted += probe.try_no > 0 ? 1 : 0;
    if (stats_.first_send < 0) stats_.first_send = ts;
    return true;
}

void Engine::finish_replay(Micros end) {
    replay_end_ = end;
    for (const auto& [key, entry] : correlator_.open_probes()) exhausted_[host_of(entry.index)].push_back(key);
    retransmit_.clear();
    give_up_silent();
}

void Engine::give_up_silent() {
    while (!exhausted_.empty()) give_up_silent(exhausted_.begin()->first);
}

void Engine::give_up_silent(std::uint32_t host) {
    const auto it = exhausted_.find(host);
    if (it == exhausted_.end()) return;
    const std::vector<std::uint64_t> keys = std::move(it->second);
    exhausted_.erase(it);
    for (std::uint64_t key : keys) give_up_key(key);
}

// An open probe out of tries gets the verdict its kind gives silence.
void Engine::give_up_key(std::uint64_t key) {
    auto* entry = correlator_.find(key);
    if (entry == nullptr) return;
    settle_silent(Correlator::target_of(key), Correlator::lane_of(key), Correlator::port_of(key), entry->index, entry);
    correlator_.erase(key);
}

// The verdict its kind gives silence, after the tries of `entry` (none: the probe was never sent).
void Engine::settle_silent(Ipv4 target, std::uint8_t lane, Port port, std::uint64_t index, const Correlator::Entry* entry) {
    const ReplyEvidence silence{};
    const Rule* rule = match_rule(kind(lane), silence);
    if (rule == nullptr) return;
    const Answer none{target, port, 0, silence, lane};
    settle(none, index, *rule, static_cast<std::uint8_t>(entry != nullptr ? entry->try_no + 1 : 0), -1, entry);
}

// Why: host discovery needs one answer per host (nmap stops probing a host once it is up). Its
// other probes are done with at once: those in flight or waiting for a resend get the verdict of
// silence (an answer that comes later still overturns it), and those not sent yet never go out
// (the walk and the queues skip decided indices). A /16 of up hosts so costs about one probe a
// host, not one a lane, and the host is finished (written out) as soon as it answers.
void Engine::close_found_host(std::uint32_t host) {
    const Ipv4 address = targets_->hosts().at(host);
    for (const auto [index, slot] : targets_->slots_of(host)) {
        if (decided_index(index)) continue;
        const std::uint64_t key = Correlator::key(address, slot.lane, slot.port);
        if (correlator_.find(key) != nullptr) give_up_key(key);
        else settle_silent(address, slot.lane, slot.port, index, nullptr);
    }
    exhausted_.erase(host);
    forget_if_done(host, address);
}

bool Engine::finished() {
    while (!resumed_.empty() && decided_index(resumed_.front())) resumed_.pop_front();
    if (next_position_ < order_.size() || !resumed_.empty() || !held_.empty() || !spaced_.empty() || !parked_.empty()) return false;
    while (!retransmit_.empty()) {
        auto* entry = correlator_.find(retransmit_.front());
        if (entry != nullptr && entry->phase == Correlator::Phase::queued) return false;
        retransmit_.pop_front();
    }
    if (correlator_.next_expiry()) return false;
    give_up_silent();
    return true;
}

// Every index walked so far that has no verdict: those the correlator holds (in flight, waiting
// for a resend, out of tries), the first tries parked or held for a pace, and those a resumed
// scan had not sent again yet. The engine's own queues say it, so no record per port is needed.
ResumePoint Engine::resume_point() const {
    ResumePoint point{next_position_, {resumed_.begin(), resumed_.end()}};
    for (const auto& [key, entry] : correlator_.open_probes()) point.pending.push_back(entry.index);
    for (const auto& [host, queue] : parked_) {
        for (const Parked& parked : queue.first_tries) point.pending.push_back(parked.index);
    }
    for (const auto& [host, queue] : held_) {
        for (const Held& held : queue) {
            if (!held.resend) point.pending.push_back(held.index);
        }
    }
    std::sort(point.pending.begin(), point.pending.end());
    point.pending.erase(std::unique(point.pending.begin(), point.pending.end()), point.pending.end());
    return point;
}

}  // namespace flagscan

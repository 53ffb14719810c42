// Pacing of probes to hosts whose ICMP errors are rate-limited: detection and the adaptive pace.
#include "flagscan/engine/icmp_pacer.hpp"

#include <algorithm>

namespace flagscan {

void IcmpPacer::on_error(std::uint32_t host, Micros now, Micros sent, bool retry, bool lost_under_pace) {
    Host& h = hosts_[host];
    if (h.errors++ == 0) h.first_error = now;
    h.retry_answered |= retry;
    h.silences = 0;
    if (!h.paced) {
        if (sent >= 0 && h.answered_sends.size() < kMaxSamples) h.answered_sends.push_back(sent);
        return;
    }
    adapt(h, now);
    ++h.paced_errors;
    if (now - h.since >= (h.host_wide ? kMinEpoch : kEpoch)) h.limit = h.paced_errors * double(kSecond) / double(now - h.since);
    ++h.epoch_errors;
    h.epoch_loss |= lost_under_pace;
}

bool IcmpPacer::on_silence(std::uint32_t host, Micros now, Micros sent, std::uint32_t suspect_after) {
    auto it = hosts_.find(host);
    if (it == hosts_.end() || it->second.errors < std::max(1u, suspect_after)) return false;  // too few errors to suspect
    Host& h = it->second;
    if (h.paced) {
        adapt(h, now);
        return false;
    }
    h.first_silent = h.first_silent < 0 ? sent : std::min(h.first_silent, sent);
    h.last_silent = std::max(h.last_silent, sent);
    // A limit's silences end: a port it silenced answers a later try. A host whose silent ports
    // are dropped (a firewall) never shows that, and is not paced for them.
    if (++h.silences < kSilencesToSuspect || h.silences * 4 < h.errors || !h.retry_answered) return false;
    h.paced = true;
    h.since = now;
    h.host_wide = beyond_peer_limit(h, now);
    h.rate = start_rate(h);
    h.limit = h.rate;
    h.answered_sends = {};
    h.next_send = now;
    h.epoch_start = now;
    return true;
}

// Why: a token bucket probed faster than it refills answers its burst at once, then one error
// per token. The errors to probes sent before the first unanswered one were the burst; those to
// probes sent after it came one per token, so over the time those probes took to send they are
// the rate it refills at (Linux's host-wide budget, icmp_global_allow: ~1000/s in steps of 20
// ms). Too few to tell (the scan's window was full of unanswered probes, so few went out): a
// burst no larger than a Linux peer's (XRLIM_BURST_FACTOR) starts at one per second, the peer
// default; a larger one, which only a host-wide budget gives, at that burst per second, and
// the pace doubles from there.
double IcmpPacer::start_rate(const Host& h) {
    if (!h.host_wide) return kStartRate;
    const std::uint32_t burst = burst_of(h);
    const auto refills = static_cast<std::uint32_t>(h.answered_sends.size()) - burst;
    Micros last = h.last_silent;
    for (Micros sent : h.answered_sends) last = std::max(last, sent);
    if (refills >= kRefillsToMeasure && last > h.first_silent)
        return std::clamp(refills * double(kSecond) / double(last - h.first_silent), kStartRate, kMaxRate);
    return std::min(double(burst), kMaxRate);
}

// A Linux peer limit (inet_peer_xrlim_allow) gives at most its burst (XRLIM_BURST_FACTOR) and
// one error a second after it. A larger burst, or more errors than that since the first (a scan
// that began while the host-wide budget was spent, by the scan before it, shows a small burst
// and then ~1000/s), is a host-wide budget.
bool IcmpPacer::beyond_peer_limit(const Host& h, Micros now) {
    const double peer_most = kLinuxBurst + 1.0 + double(now - h.first_error) / kSecond;
    return burst_of(h) > kLinuxBurst || h.errors > peer_most;
}

std::uint32_t IcmpPacer::burst_of(const Host& h) {
    return static_cast<std::uint32_t>(
        std::count_if(h.answered_sends.begin(), h.answered_sends.end(), [&](Micros sent) { return sent < h.first_silent; }));
}

// Once per epoch (six sends at the current pace, at least kEpoch, or kMinEpoch while a
// host-wide budget's pace is being found): after a loss under the pace, slow to what got
// through, but by a fifth at most (a probe that beat the host's token by a hair is a loss too).
// When the pace was used without loss it grows: by a quarter, or, while a host-wide budget's
// pace is being found, it doubles for as long as the errors grow with it (BBR's way of finding
// a bottleneck: a doubling that did not bring a quarter more errors met the limit, so the pace
// settles at the most that got through; a loss would show that only a timeout later). Far
// above any ICMP limit, stop pacing.
void IcmpPacer::adapt(Host& h, Micros now) {
    const bool finding = h.host_wide && !h.settled;
    const Micros length = std::max(finding ? kMinEpoch : kEpoch, static_cast<Micros>(6 * kSecond / h.rate));
    if (now - h.epoch_start < length) return;
    const double seconds = double(now - h.epoch_start) / kSecond;
    const double delivered = h.epoch_errors / seconds;
    if (h.epoch_loss) {
        h.rate = std::max(kMinRate, std::max(delivered, 0.8 * h.rate));
        h.settled = true;
    } else if (h.epoch_sends >= 0.5 * h.rate * seconds) {
        if (finding && h.last_delivered > 0 && delivered < 1.25 * h.last_delivered) {
            h.rate = std::max(delivered, h.last_delivered);
            h.settled = true;
        } else {
            h.rate *= finding ? 2.0 : 1.25;
        }
    }
    h.last_delivered = delivered;
    if (h.rate > kMaxRate) h.paced = false;
    h.epoch_start = now;
    h.epoch_errors = 0;
    h.epoch_sends = 0;
    h.epoch_loss = false;
}

bool IcmpPacer::may_be_limited(std::uint32_t host, std::uint32_t suspect_after) const {
    auto it = hosts_.find(host);
    if (it == hosts_.end()) return suspect_after == 0;
    const Host& h = it->second;
    return h.paced || (h.errors >= suspect_after && h.errors < kErrorsOfNoLimit);
}

bool IcmpPacer::paced(std::uint32_t host) const {
    auto it = hosts_.find(host);
    return it != hosts_.end() && it->second.paced;
}

Micros IcmpPacer::paced_since(std::uint32_t host) const {
    auto it = hosts_.find(host);
    return it == hosts_.end() ? -1 : it->second.since;
}

bool IcmpPacer::take(std::uint32_t host, Micros now) {
    auto it = hosts_.find(host);
    if (it == hosts_.end() || !it->second.paced) return true;
    Host& h = it->second;
    adapt(h, now);
    if (now < h.next_send) return false;
    h.next_send = now + static_cast<Micros>(kSecond / h.rate);
    ++h.epoch_sends;
    return true;
}

Micros IcmpPacer::next(std::uint32_t host, Micros now) const {
    auto it = hosts_.find(host);
    if (it == hosts_.end() || !it->second.paced) return now;
    return std::max(now, it->second.next_send);
}

Micros IcmpPacer::token_gap(std::uint32_t host) const {
    auto it = hosts_.find(host);
    if (it == hosts_.end()) return kTokenGap;
    if (!it->second.paced) return kTokenGap;
    return static_cast<Micros>(double(kTokenGap) / std::max(1.0, it->second.rate));
}

double IcmpPacer::limit(std::uint32_t host) const {
    auto it = hosts_.find(host);
    return it == hosts_.end() ? 0 : it->second.limit;
}

}  // namespace flagscan

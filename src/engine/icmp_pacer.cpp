// Pacing of probes to hosts whose ICMP errors are rate-limited: detection and the adaptive pace.
#include "flagscan/engine/icmp_pacer.hpp"

#include <algorithm>

namespace flagscan {

void IcmpPacer::on_error(std::uint32_t host, Micros now, bool lost_under_pace) {
    Host& h = hosts_[host];
    if (h.errors == 0) h.first_error = now;
    if (now - h.first_error < kBurstSpan) ++h.burst;
    ++h.errors;
    h.silences = 0;
    if (!h.paced) return;
    adapt(h, now);
    ++h.paced_errors;
    if (now - h.since >= kEpoch) h.limit = h.paced_errors * double(kSecond) / double(now - h.since);
    ++h.epoch_errors;
    h.epoch_loss |= lost_under_pace;
}

bool IcmpPacer::on_silence(std::uint32_t host, Micros now, std::uint32_t suspect_after) {
    auto it = hosts_.find(host);
    if (it == hosts_.end() || it->second.errors < std::max(1u, suspect_after)) return false;  // too few errors to suspect
    Host& h = it->second;
    if (h.paced) {
        adapt(h, now);
        return false;
    }
    if (++h.silences < kSilencesToSuspect || h.silences * 4 < h.errors) return false;
    h.paced = true;
    h.since = now;
    h.limit = measured_rate(h, now);
    h.rate = h.limit > 0 ? h.limit : kStartRate;
    h.next_send = now;
    h.epoch_start = now;
    return true;
}

// Why: a token bucket probed faster than it refills answers with its burst at once, then with
// one error per token. So the errors after the burst, over the time since the first, are about
// the rate it refills at: Linux's host-wide budget (icmp_global_allow: icmp_msgs_per_sec 1000,
// icmp_msgs_burst 50, refilled no sooner than 20 ms after the last refill) shows some 1000/s
// within the first tenth of a second. With too few errors past the burst to tell (a Linux peer
// limit, inet_peer_xrlim_allow, has sent one in the second since its burst of
// XRLIM_BURST_FACTOR), 0: the pace starts at the Linux peer default, one per second.
double IcmpPacer::measured_rate(const Host& h, Micros now) {
    const std::uint32_t refills = h.errors - h.burst;
    if (refills < kRefillsToMeasure || now <= h.first_error) return 0;
    return std::clamp(refills * double(kSecond) / double(now - h.first_error), kStartRate, kMaxRate);
}

// Once per epoch (at least kEpoch and six sends at the current pace): after a loss under the
// pace, slow to what got through, but by a fifth at most (a probe that beat the host's token
// by a hair is a loss too); grow by a quarter when the pace was used without loss. Far above
// any ICMP limit, stop pacing.
void IcmpPacer::adapt(Host& h, Micros now) {
    const Micros length = std::max(kEpoch, static_cast<Micros>(6 * kSecond / h.rate));
    if (now - h.epoch_start < length) return;
    const double seconds = double(now - h.epoch_start) / kSecond;
    const double delivered = h.epoch_errors / seconds;
    if (h.epoch_loss) {
        h.rate = std::max(kMinRate, std::max(delivered, 0.8 * h.rate));
    } else if (h.epoch_sends >= 0.5 * h.rate * seconds) {
        h.rate *= 1.25;
    }
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
    if (it == hosts_.end() || !it->second.paced) return kTokenGap;
    return static_cast<Micros>(double(kTokenGap) / std::max(1.0, it->second.rate));
}

double IcmpPacer::limit(std::uint32_t host) const {
    auto it = hosts_.find(host);
    return it == hosts_.end() ? 0 : it->second.limit;
}

}  // namespace flagscan

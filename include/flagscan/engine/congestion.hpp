// CongestionControl: how fast to send, raised while replies come back whole, cut when loss grows.
#pragma once

#include <cstdint>

#include "flagscan/engine/clock.hpp"

namespace flagscan {

// Why: nmap keeps a congestion window of probes in flight and halves it whenever a reply to a
// retransmission shows that an earlier try was dropped. This engine keeps the same signal and
// the same multiplicative cut, with two changes that suit it:
//   - The window is a rate (probes per second). Live replies reach the engine in batches (the
//     capture hands over a block every few milliseconds), so a count of probes "in flight"
//     measures the capture's batching, not the network; a rate does not.
//   - It reacts to loss that grows, not to loss that is there. Each epoch (a few round trips,
//     at least 64 replies) yields a drop fraction f = replies that answered a retransmission /
//     all replies. A path that drops 5% at every rate is not congested, and slowing down would
//     not help it; a queue that overflows drops more as the rate rises. So f is compared with a
//     slow moving average of itself (the path's baseline loss): the rate is halved when f
//     exceeds the baseline by more than three standard deviations (binomial) plus 1%, or when
//     f exceeds 25% whatever the baseline; otherwise it grows by half (doubles before the first
//     cut, like slow start).
class CongestionControl {
public:
    CongestionControl(double initial_rate, double min_rate, double max_rate);

    // A reply arrived; `after_drop` when it answered a retransmission.
    void on_reply(Micros now, bool after_drop, Micros epoch_length);

    double rate() const { return rate_; }
    double baseline_loss() const { return baseline_; }
    std::uint32_t cuts() const { return cuts_; }

private:
    void end_epoch(Micros now);

    double rate_;
    double min_rate_;
    double max_rate_;
    double baseline_ = 0.0;
    bool slow_start_ = true;
    bool has_baseline_ = false;
    std::uint32_t cuts_ = 0;
    Micros epoch_start_ = -1;
    std::uint32_t epoch_replies_ = 0;
    std::uint32_t epoch_drops_ = 0;
};

}  // namespace flagscan

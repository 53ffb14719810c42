// CongestionControl: a window of probes in flight, grown by replies and cut when loss grows.
#pragma once

#include <cstdint>

#include "flagscan/engine/clock.hpp"

namespace flagscan {

// Why: like nmap, the engine keeps a congestion window: at most `window()` probes may be in
// flight (sent, unanswered, timer running). Replies open it, so a path that answers gets
// probes as fast as it answers them; silence closes it, because probes only leave the window
// by being answered or by timing out: when a queue overflows and replies stop, sending slows
// to window / timeout by itself (self-clocking, as in TCP).
// Growth: +1 per reply until the first cut (slow start, doubling per round trip), then x1.5
// per epoch without congestion.
// Cuts: nmap halves the window whenever a reply to a retransmission shows that an earlier try
// was lost. That treats every loss as congestion; on a path that simply drops 5% at any rate
// it keeps the window tiny for nothing. Here each epoch (one retransmission timeout, at least
// 64 replies) yields a drop fraction f: a reply to try k shows that the k sends before it
// were lost, so f = sum(k) / sum(k + 1). f is compared with a slow moving average of itself,
// the path's baseline loss, and the window is halved when f exceeds it by more than three
// binomial standard deviations plus 1%, or when f exceeds 25% whatever the baseline: loss that
// grows with the sending rate is congestion, loss that is always there is not.
// As in nmap, a loss only counts when the lost send went out after the last cut: losses from
// before it were caused by the old window, and counting them again would cut it for the same
// congestion over and over (at the end of a scan, when only retransmissions are left, forever).
class CongestionControl {
public:
    CongestionControl(double initial_window, double max_window);

    // A reply arrived to try `lost_before` (0 for the first send: nothing was lost before it);
    // `lost_at` is when the last of the lost sends went out.
    void on_reply(Micros now, unsigned lost_before, Micros lost_at, Micros epoch_length);

    double window() const { return window_; }
    double baseline_loss() const { return baseline_; }
    std::uint32_t cuts() const { return cuts_; }
    Micros last_cut() const { return last_cut_; }  // -1 before the first

private:
    void end_epoch(Micros now);

    double window_;
    double max_window_;
    double baseline_ = 0.0;
    bool slow_start_ = true;
    bool has_baseline_ = false;
    std::uint32_t cuts_ = 0;
    Micros epoch_start_ = -1;
    Micros last_cut_ = -1;
    std::uint32_t epoch_replies_ = 0;
    std::uint64_t epoch_sends_ = 0;  // sends the epoch's replies account for
    std::uint64_t epoch_drops_ = 0;
};

}  // namespace flagscan

// Congestion window from reply and drop evidence (see the header for why it works this way).
#include "flagscan/engine/congestion.hpp"

#include <algorithm>
#include <cmath>

namespace flagscan {
namespace {

constexpr std::uint32_t kMinEpochReplies = 64;
constexpr double kBaselineWeight = 0.125;  // EWMA weight of a new epoch in the baseline
constexpr double kAlwaysCut = 0.25;        // loss this high is never just the path's
constexpr double kSlack = 0.01;
constexpr double kMinWindow = 1;

}  // namespace

CongestionControl::CongestionControl(double initial_window, double max_window)
    : window_(std::clamp(initial_window, kMinWindow, std::max(kMinWindow, max_window))),
      max_window_(std::max(kMinWindow, max_window)) {}

void CongestionControl::on_reply(Micros now, unsigned lost_before, Micros lost_at, Micros epoch_length) {
    if (lost_before > 0 && lost_at < last_cut_) return;  // evidence about the old window
    if (slow_start_) window_ = std::min(max_window_, window_ + 1);
    if (epoch_start_ < 0) epoch_start_ = now;
    ++epoch_replies_;
    epoch_sends_ += 1 + lost_before;
    epoch_drops_ += lost_before;
    if (epoch_replies_ >= kMinEpochReplies && now - epoch_start_ >= epoch_length) end_epoch(now);
}

void CongestionControl::end_epoch(Micros now) {
    const double n = static_cast<double>(epoch_sends_);
    const double f = static_cast<double>(epoch_drops_) / n;
    const double sigma = std::sqrt(std::max(baseline_, 1.0 / n) * (1.0 - baseline_) / n);
    const bool congested = f > kAlwaysCut || f > baseline_ + 3.0 * sigma + kSlack;
    if (congested) {
        window_ = std::max(kMinWindow, window_ / 2.0);
        slow_start_ = false;
        last_cut_ = now;
        ++cuts_;
    } else if (!slow_start_) {
        window_ = std::min(max_window_, window_ * 1.5);
    }
    baseline_ = has_baseline_ ? baseline_ + kBaselineWeight * (f - baseline_) : f;
    has_baseline_ = true;
    epoch_start_ = now;
    epoch_replies_ = 0;
    epoch_sends_ = 0;
    epoch_drops_ = 0;
}

}  // namespace flagscan

// Rate control from drop evidence (see the header for why it works this way).
#include "flagscan/engine/congestion.hpp"

#include <algorithm>
#include <cmath>

namespace flagscan {
namespace {

constexpr std::uint32_t kMinEpochReplies = 64;
constexpr double kBaselineWeight = 0.125;  // EWMA weight of a new epoch in the baseline
constexpr double kAlwaysCut = 0.25;        // loss this high is never just the path's
constexpr double kSlack = 0.01;

}  // namespace

CongestionControl::CongestionControl(double initial_rate, double min_rate, double max_rate)
    : rate_(initial_rate), min_rate_(min_rate), max_rate_(max_rate) {
    rate_ = std::clamp(rate_, min_rate_, max_rate_);
}

void CongestionControl::on_reply(Micros now, bool after_drop, Micros epoch_length) {
    if (epoch_start_ < 0) epoch_start_ = now;
    ++epoch_replies_;
    if (after_drop) ++epoch_drops_;
    if (epoch_replies_ >= kMinEpochReplies && now - epoch_start_ >= epoch_length) end_epoch(now);
}

void CongestionControl::end_epoch(Micros now) {
    const double n = epoch_replies_;
    const double f = epoch_drops_ / n;
    const double sigma = std::sqrt(std::max(baseline_, 1.0 / n) * (1.0 - baseline_) / n);
    const bool congested = f > kAlwaysCut || f > baseline_ + 3.0 * sigma + kSlack;
    if (congested) {
        rate_ = std::max(min_rate_, rate_ / 2.0);
        slow_start_ = false;
        ++cuts_;
    } else {
        rate_ = std::min(max_rate_, rate_ * (slow_start_ ? 2.0 : 1.5));
    }
    baseline_ = has_baseline_ ? baseline_ + kBaselineWeight * (f - baseline_) : f;
    has_baseline_ = true;
    epoch_start_ = now;
    epoch_replies_ = 0;
    epoch_drops_ = 0;
}

}  // namespace flagscan

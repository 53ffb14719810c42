// The status line's arithmetic: smoothed rates, the settling ETA, and its text.
#include "flagscan/output/status_line.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace flagscan {
namespace {

constexpr double kAlpha = 0.15;                    // weight of a one-second interval in the mean
constexpr Micros kNever = 99 * 3600 * kSecond;     // what "no progress at all" is taken to mean
constexpr Micros kDay = 24 * 3600 * kSecond;

// "HH:MM" of the clock time `time_of_day` + `ahead` (wrapping at midnight).
std::string clock_text(Micros time_of_day, Micros ahead) {
    const Micros at = (time_of_day + ahead) % kDay;
    const long minutes = static_cast<long>(at / (60 * kSecond));
    char text[16];
    std::snprintf(text, sizeof text, "%02ld:%02ld", minutes / 60, minutes % 60);
    return text;
}

// Percent with two decimals, rounded down: "100.00" only when everything is done.
std::string percent_text(double percent) {
    char text[16];
    std::snprintf(text, sizeof text, "%.2f", std::floor(percent * 100.0) / 100.0);
    return text;
}

}  // namespace

// Why weight by the interval's length: a slow loop round may make an interval 1.5 s long, and
// it then counts as much as one and a half one-second intervals would. Until the mean has seen
// a few seconds, each interval weighs its share of the time so far instead (the plain mean), so
// that the first second alone does not set the rate for the next ten.
void RateMeter::observe(Micros now, std::uint64_t count) {
    if (mark_time_ < 0) {
        first_time_ = mark_time_ = now;
        mark_count_ = count;
        return;
    }
    const Micros elapsed = now - mark_time_;
    if (elapsed < kInterval) return;
    const double gained = count > mark_count_ ? static_cast<double>(count - mark_count_) : 0.0;
    const double sample = gained * kSecond / static_cast<double>(elapsed);
    const double share = static_cast<double>(elapsed) / static_cast<double>(now - first_time_);
    const double weight = std::max(share, 1.0 - std::pow(1.0 - kAlpha, static_cast<double>(elapsed) / kSecond));
    rate_ += weight * (sample - rate_);
    ++intervals_;
    mark_time_ = now;
    mark_count_ = count;
}

std::optional<double> RateMeter::per_second() const {
    if (intervals_ == 0) return std::nullopt;
    return rate_;
}

void EtaEstimator::observe(Micros now, std::uint64_t done, std::uint64_t total) {
    complete_ = total > 0 && done >= total;
    progress_.observe(now, done);
    if (complete_ || progress_.intervals() == seen_intervals_) return;
    seen_intervals_ = progress_.intervals();
    if (seen_intervals_ < kEvidence) return;
    const double rate = progress_.per_second().value_or(0.0);
    const double left = static_cast<double>(total - done) * kSecond;
    const Micros raw = rate > 0 && left / rate < static_cast<double>(kNever) ? static_cast<Micros>(left / rate) : kNever;
    settle(now, now + raw);
}

// The end time stays put while the new estimate is within a sixteenth of the time left (at least
// a second) of it: that much is the noise of a steady scan. Beyond, it moves half way towards
// it, by at most a tenth of the time left (at least a second) per second since the last move.
void EtaEstimator::settle(Micros now, Micros raw_finish) {
    if (!finish_) {
        finish_ = raw_finish;
        settled_at_ = now;
        return;
    }
    const Micros left = std::max<Micros>(*finish_ - now, 0);
    const Micros gap = raw_finish - *finish_;
    const double seconds = static_cast<double>(now - settled_at_) / kSecond;
    settled_at_ = now;
    if (std::abs(gap) <= std::max(kSecond, left / 16)) return;
    const auto limit = static_cast<Micros>(static_cast<double>(std::max(kSecond, left / 10)) * seconds);
    *finish_ += std::clamp<Micros>(gap / 2, -limit, limit);
}

std::optional<Micros> EtaEstimator::remaining(Micros now) const {
    if (complete_) return 0;
    if (!finish_) return std::nullopt;
    return std::max<Micros>(*finish_ - now, 0);
}

StatusLine::StatusLine(std::string phase, Micros started) : phase_(std::move(phase)), started_(started) {
    last_.now = started;
}

void StatusLine::observe(const ProgressSnapshot& snapshot) {
    last_ = snapshot;
    sends_.observe(snapshot.now, snapshot.sent);
    eta_.observe(snapshot.now, snapshot.decided, snapshot.planned);
}

double StatusLine::percent() const {
    if (last_.planned == 0) return 0.0;
    return 100.0 * static_cast<double>(std::min(last_.decided, last_.planned)) / static_cast<double>(last_.planned);
}

// Before the first whole second: the mean since the start.
double StatusLine::send_rate() const {
    if (auto rate = sends_.per_second()) return *rate;
    const Micros elapsed = last_.now - started_;
    return elapsed > 0 ? static_cast<double>(last_.sent) * kSecond / static_cast<double>(elapsed) : 0.0;
}

std::string StatusLine::text(Micros time_of_day) const {
    std::string line = phase_ + " " + duration_text(last_.now - started_) + ": About " + percent_text(percent()) + "% done";
    if (const auto left = remaining())
        line += "; ETC: " + clock_text(time_of_day, *left) + " (" + duration_text(*left) + " remaining)";
    line += "; " + std::to_string(last_.sent) + " sent (" + std::to_string(std::llround(send_rate())) + " pps), " +
            std::to_string(last_.replies) + " replies, " + std::to_string(last_.open) + " open, " +
            std::to_string(last_.retransmitted) + " retransmitted";
    return line;
}

std::string duration_text(Micros duration) {
    const long seconds = static_cast<long>(std::max<Micros>(duration, 0) / kSecond);
    char text[32];
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", seconds / 3600, seconds / 60 % 60, seconds % 60);
    return text;
}

}  // namespace flagscan

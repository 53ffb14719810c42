// The status line of a running scan: percent done, rates and a settled ETA, from counters over time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "flagscan/engine/clock.hpp"

namespace flagscan {

// The scan's counters at one moment, as the status line reads them.
struct ProgressSnapshot {
    Micros now = 0;                   // the scan's clock
    std::uint64_t planned = 0;        // ports (host x port) the phase decides
    std::uint64_t decided = 0;        // of those, decided so far
    std::uint64_t sent = 0;           // probes, retransmissions included
    std::uint64_t replies = 0;
    std::uint64_t open = 0;           // ports found open so far
    std::uint64_t retransmitted = 0;
};

// A count's rate per second, smoothed: an exponentially weighted mean over intervals of at
// least a second, so that one burst or one stall moves it only a little.
class RateMeter {
public:
    static constexpr Micros kInterval = kSecond;

    void observe(Micros now, std::uint64_t count);
    std::optional<double> per_second() const;  // none before the first whole interval
    int intervals() const { return intervals_; }

private:
    Micros first_time_ = -1;
    Micros mark_time_ = -1;
    std::uint64_t mark_count_ = 0;
    double rate_ = 0;
    int intervals_ = 0;
};

// Time left, from how fast the work gets done. Why not remaining / average rate, refreshed each
// second: a scan's progress comes in bursts (a window of RSTs, then a wait for timeouts), and
// that ETA jumps by minutes from one line to the next. Here the rate is smoothed (RateMeter),
// no estimate is given before kEvidence intervals of it, and the estimated end time itself
// ignores small changes and moves towards large ones by at most a tenth of the time left (at
// least a second) per second: steady progress counts down one second per second, a real change
// of pace shows within seconds.
class EtaEstimator {
public:
    static constexpr int kEvidence = 3;

    void observe(Micros now, std::uint64_t done, std::uint64_t total);
    std::optional<Micros> remaining(Micros now) const;

private:
    void settle(Micros now, Micros raw_finish);

    RateMeter progress_;
    int seen_intervals_ = 0;
    std::optional<Micros> finish_;  // the smoothed end time, on the scan's clock
    Micros settled_at_ = 0;
    bool complete_ = false;
};

// nmap's wording, masscan's counters: "SYN scan 0:00:12: About 42.17% done; ETC: 12:03
// (0:00:41 remaining); 27600 sent (9800 pps), 27500 replies, 3 open, 12 retransmitted".
class StatusLine {
public:
    StatusLine(std::string phase, Micros started);

    void observe(const ProgressSnapshot& snapshot);
    // time_of_day: the local time since midnight now (for the ETC clock time).
    std::string text(Micros time_of_day) const;

    double percent() const;
    double send_rate() const;  // probes per second
    std::optional<Micros> remaining() const { return eta_.remaining(last_.now); }

private:
    std::string phase_;
    Micros started_;
    ProgressSnapshot last_;
    RateMeter sends_;
    EtaEstimator eta_;
};

// "0:00:41", "12:03:07": hours, minutes and seconds as nmap writes a duration.
std::string duration_text(Micros duration);

}  // namespace flagscan

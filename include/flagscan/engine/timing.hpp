// Timing: the knobs of the engine's clockwork, and nmap's -T0..-T5 templates for them.
#pragma once

#include <cstdint>
#include <optional>

#include "flagscan/engine/clock.hpp"

namespace flagscan {

struct Timing {
    std::uint32_t max_retries = 10;  // retransmissions after the first try (nmap's --max-retries)
    Micros initial_rto = 1 * kSecond;
    Micros min_rto = 100 * kMillisecond;
    Micros max_rto = 10 * kSecond;
    // The floor on a path whose measured round trip is far below min_rto (RttEstimator::floor);
    // --min-rtt-timeout sets it too (a floor the user gave is kept).
    Micros near_min_rto = 10 * kMillisecond;
    double initial_window = 100;   // probes in flight at the start (the congestion window)
    double max_window = 1 << 20;   // the window never grows past this
    double min_rate = 0;         // never slow below this (--min-rate), window or not; 0: no floor
    double max_rate = 0;         // never exceed this (--max-rate); 0: no ceiling
    Micros scan_delay = 0;       // T0-T2: a fixed gap between probes (nmap's --scan-delay)
};

// The fastest a scan may send, in probes per second: --max-rate, or one probe per scan delay,
// whichever is lower; 0: no ceiling.
double ceiling_rate(const Timing& t);
// How many pacing tokens may pile up at `rate`: 2 ms worth of probes (one with a scan delay).
double burst_for(double rate, const Timing& t);

// nmap's -T templates (nmap(1), "Timing templates"), adapted to this engine.
// level 0..5; nullopt otherwise.
std::optional<Timing> timing_template(int level);

}  // namespace flagscan

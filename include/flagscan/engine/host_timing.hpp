// HostTimings: what the engine has learned of each target's path: round trip, timeout, window, tries.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "flagscan/engine/congestion.hpp"
#include "flagscan/engine/rtt.hpp"
#include "flagscan/engine/timing.hpp"

namespace flagscan {

// Why per host (nmap's split between per-host and group timing): one scan may cover a host
// 20 us away and one 1.5 s away. A single timeout learned from the near host would call every
// port of the far one silent before its first answer could arrive; a single window would let
// the far host's slow answers hold every slot while the near one waits. So each host has its
// own RTT estimate and RTO (a host not heard from yet is waited for with the initial RTO, never
// with what other hosts taught), its own congestion window beside the global one, and its own
// evidence of loss (the highest try that ever drew an answer from it).
struct HostTiming {
    HostTiming(const Timing& timing, double initial_window);

    RttEstimator rtt;
    CongestionControl window;
    std::uint8_t max_answered_try = 0;  // highest try of a probe to this host that drew a reply
};

// Created on a host's first probe and dropped when nothing of it is left open, so a scan of
// millions of hosts keeps only those in progress.
class HostTimings {
public:
    explicit HostTimings(const Timing& timing);

    // The host's timing, created (with `seed_rtt`, when >= 0, as a first sample: the latency
    // host discovery measured) on first use.
    HostTiming& at(std::uint32_t host, Micros seed_rtt = -1);
    const HostTiming* find(std::uint32_t host) const;
    HostTiming* find(std::uint32_t host);
    void forget(std::uint32_t host) { hosts_.erase(host); }

    // The first window of a host: a tenth of the scan's (at least 1), so that a host not yet
    // heard from, or a far one, cannot take every slot of the global window at once; replies
    // open it as they open the global one.
    double initial_window() const { return initial_window_; }
    std::uint8_t max_answered_try() const { return max_answered_; }  // over every host seen
    // A reply to `timing`'s host answered try `try_no`: true when no reply from that host had
    // needed so late a try (its silent ports then earn more tries).
    bool note_answered(HostTiming& timing, std::uint8_t try_no);

private:
    Timing timing_;
    double initial_window_;
    std::uint8_t max_answered_ = 0;
    std::unordered_map<std::uint32_t, HostTiming> hosts_;
};

}  // namespace flagscan

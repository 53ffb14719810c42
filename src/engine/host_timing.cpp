// Per-host timing state, created on first use and forgotten when the host is done.
#include "flagscan/engine/host_timing.hpp"

#include <algorithm>

namespace flagscan {

HostTiming::HostTiming(const Timing& timing, double initial_window)
    : rtt(timing.initial_rto, timing.min_rto, timing.max_rto, timing.near_min_rto), window(initial_window, timing.max_window) {}

HostTimings::HostTimings(const Timing& timing)
    : timing_(timing), initial_window_(std::max(1.0, timing.initial_window / 10.0)) {}

HostTiming& HostTimings::at(std::uint32_t host, Micros seed_rtt) {
    auto [it, fresh] = hosts_.try_emplace(host, timing_, initial_window_);
    if (fresh && seed_rtt >= 0) it->second.rtt.sample(seed_rtt);
    return it->second;
}

const HostTiming* HostTimings::find(std::uint32_t host) const {
    auto it = hosts_.find(host);
    return it == hosts_.end() ? nullptr : &it->second;
}

HostTiming* HostTimings::find(std::uint32_t host) {
    auto it = hosts_.find(host);
    return it == hosts_.end() ? nullptr : &it->second;
}

bool HostTimings::note_answered(HostTiming& timing, std::uint8_t try_no) {
    max_answered_ = std::max(max_answered_, try_no);
    if (try_no <= timing.max_answered_try) return false;
    timing.max_answered_try = try_no;
    return true;
}

}  // namespace flagscan

// RttEstimator: smoothed round-trip time and the retransmission timeout derived from it.
#pragma once

#include <algorithm>

#include "flagscan/engine/clock.hpp"

namespace flagscan {

// Why: a fixed timeout is either slow (waits too long on a fast network) or wrong (gives up
// on a slow one). RFC 6298 section 2: SRTT and RTTVAR track the mean and deviation of measured
// round trips, RTO = SRTT + 4 * RTTVAR, clamped to [min, max]. Samples come only from replies
// whose try is known (the source port says which send was answered), so retransmissions do
// not pollute them (the problem Karn's algorithm solves for TCP).
// The floor follows the path: min_rto (nmap's 100 ms) is there for the jitter a few samples
// have not shown yet on a path of milliseconds; on a path whose measured round trip is a
// thousand times shorter it would make every silent port cost tries x 100 ms for nothing. So,
// once kTrustedSamples have been measured, the floor is kFloorRtts round trips, never below
// near_min_rto nor above min_rto: 100 ms from a 1.6 ms path up, near_min_rto on a LAN or a veth.
// A path that turns slower shows it in RTTVAR and SRTT, which raise the RTO above the floor.
class RttEstimator {
public:
    static constexpr long kTrustedSamples = 8;
    static constexpr Micros kFloorRtts = 64;

    // near_min_rto < 0: min_rto (a fixed floor).
    RttEstimator(Micros initial_rto, Micros min_rto, Micros max_rto, Micros near_min_rto = -1)
        : initial_(initial_rto), min_(min_rto), max_(max_rto), near_min_(near_min_rto < 0 ? min_rto : std::min(near_min_rto, min_rto)) {}

    void sample(Micros rtt);
    bool has_samples() const { return samples_ > 0; }
    Micros srtt() const { return srtt_; }
    Micros rto() const;
    Micros floor() const;  // the lowest the RTO may be now

private:
    Micros initial_, min_, max_, near_min_;
    Micros srtt_ = 0;
    Micros rttvar_ = 0;
    long samples_ = 0;
};

}  // namespace flagscan

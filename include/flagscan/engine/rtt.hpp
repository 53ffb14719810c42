// RttEstimator: smoothed round-trip time and the retransmission timeout derived from it.
#pragma once

#include "flagscan/engine/clock.hpp"

namespace flagscan {

// Why: a fixed timeout is either slow (waits too long on a fast network) or wrong (gives up
// on a slow one). RFC 6298 section 2: SRTT and RTTVAR track the mean and deviation of measured
// round trips, RTO = SRTT + 4 * RTTVAR, clamped to [min, max]. Samples come only from replies
// whose try is known (the source port says which send was answered), so retransmissions do
// not pollute them (the problem Karn's algorithm solves for TCP).
class RttEstimator {
public:
    RttEstimator(Micros initial_rto, Micros min_rto, Micros max_rto)
        : initial_(initial_rto), min_(min_rto), max_(max_rto) {}

    void sample(Micros rtt);
    bool has_samples() const { return samples_ > 0; }
    Micros srtt() const { return srtt_; }
    Micros rto() const;

private:
    Micros initial_, min_, max_;
    Micros srtt_ = 0;
    Micros rttvar_ = 0;
    long samples_ = 0;
};

}  // namespace flagscan

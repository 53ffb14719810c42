// RFC 6298 round-trip estimation.
#include "flagscan/engine/rtt.hpp"

#include <algorithm>
#include <cstdlib>

namespace flagscan {

// A sample is taken as at most max_: a longer round trip gives the RTO max_ as well, and a
// replayed capture's clock may jump by years, which 7 * srtt_ would overflow.
void RttEstimator::sample(Micros rtt) {
    rtt = std::clamp<Micros>(rtt, 0, max_);
    if (samples_++ == 0) {  // RFC 6298 2.2
        srtt_ = rtt;
        rttvar_ = rtt / 2;
        return;
    }
    // RFC 6298 2.3 with alpha = 1/8, beta = 1/4.
    rttvar_ = (3 * rttvar_ + std::llabs(srtt_ - rtt)) / 4;
    srtt_ = (7 * srtt_ + rtt) / 8;
}

Micros RttEstimator::rto() const {
    if (samples_ == 0) return initial_;
    return std::clamp(srtt_ + 4 * rttvar_, floor(), max_);
}

Micros RttEstimator::floor() const {
    if (samples_ < kTrustedSamples) return min_;
    return std::clamp(kFloorRtts * srtt_, near_min_, min_);
}

}  // namespace flagscan

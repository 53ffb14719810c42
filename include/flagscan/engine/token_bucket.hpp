// TokenBucket: pacing at a fixed rate with a small burst, for --max-rate, --min-rate and -T0..-T2.
#pragma once

#include <algorithm>

#include "flagscan/engine/clock.hpp"

namespace flagscan {

class TokenBucket {
public:
    // rate <= 0: no limit (take() always succeeds).
    TokenBucket(double rate, double burst) : rate_(rate), burst_(std::max(1.0, burst)), tokens_(1.0) {}

    bool unlimited() const { return rate_ <= 0; }

    bool take(Micros now) {
        if (unlimited()) return true;
        refill(now);
        if (tokens_ < 1.0) return false;
        tokens_ -= 1.0;
        return true;
    }

    // When the next token is there (now when one is).
    Micros next(Micros now) {
        if (unlimited()) return now;
        refill(now);
        if (tokens_ >= 1.0) return now;
        return now + static_cast<Micros>((1.0 - tokens_) * kSecond / rate_) + 1;
    }

private:
    void refill(Micros now) {
        if (last_ >= 0 && now > last_) tokens_ = std::min(burst_, tokens_ + double(now - last_) * rate_ / kSecond);
        last_ = std::max(last_, now);
    }

    double rate_;
    double burst_;
    double tokens_;
    Micros last_ = -1;
};

}  // namespace flagscan

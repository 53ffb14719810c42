// Time for the engine: an injected Clock, so tests drive it with a fake one.
#pragma once

#include <chrono>
#include <cstdint>

namespace flagscan {

// Microseconds since the clock's own epoch; plain integers keep the engine's arithmetic obvious.
using Micros = std::int64_t;

inline constexpr Micros kMillisecond = 1000;
inline constexpr Micros kSecond = 1000 * kMillisecond;

class Clock {
public:
    virtual ~Clock() = default;
    virtual Micros now() const = 0;
};

// CLOCK_MONOTONIC (steady_clock): never jumps.
class SteadyClock final : public Clock {
public:
    Micros now() const override {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
};

// A clock the test moves by hand.
class FakeClock final : public Clock {
public:
    explicit FakeClock(Micros start = 0) : now_(start) {}
    Micros now() const override { return now_; }
    void advance(Micros delta) { now_ += delta; }
    void set(Micros t) { now_ = t; }

private:
    Micros now_;
};

}  // namespace flagscan

// IcmpPacer alone: the start rate read from the errors' arrivals, and how the pace grows and settles.
#include <gtest/gtest.h>

#include "flagscan/engine/icmp_pacer.hpp"

namespace flagscan {
namespace {

constexpr std::uint32_t kHost = 0;

// `burst` errors to tries sent at 10 us intervals from t0, then silence on tries sent after them.
void burst_then_silence(IcmpPacer& pacer, std::uint32_t burst, Micros t0) {
    for (std::uint32_t i = 0; i < burst; ++i) pacer.on_error(kHost, t0 + 100 + i * 10, t0 + i * 10, false, false);
}

// The pace's interval from `now` on: between the next two sends it allows.
Micros pace_interval(IcmpPacer& pacer, Micros now) {
    while (!pacer.take(kHost, now)) now += 10;
    const Micros first = now;
    now += 10;
    while (!pacer.take(kHost, now)) now += 10;
    return now - first;
}

// Silences until pacing begins, after a retry was answered; returns when it did (-1: never).
Micros silences_until_paced(IcmpPacer& pacer, Micros sent, Micros now) {
    pacer.on_error(kHost, now - 100, -1, true, false);  // a retry: its send time plays no part
    for (int i = 0; i < 100; ++i, now += 10) {
        if (pacer.on_silence(kHost, now, sent + i * 10)) return now;
    }
    return -1;
}

TEST(IcmpPacer, PeerSizedBurstStartsAtOnePerSecond) {
    IcmpPacer pacer;
    burst_then_silence(pacer, 6, 0);
    ASSERT_GE(silences_until_paced(pacer, 100, 200'000), 0);
    EXPECT_DOUBLE_EQ(pacer.limit(kHost), IcmpPacer::kStartRate);
}

// Linux's host-wide budget: 50 at once, then some 20 per 20 ms while tries keep going out.
TEST(IcmpPacer, RefillsAfterTheFirstSilentTryGiveTheStartRate) {
    IcmpPacer pacer;
    burst_then_silence(pacer, 50, 0);
    for (int step = 1; step <= 4; ++step) {  // tries sent 1 ms apart from 1 ms on; one in 1 answered per ms
        for (int i = 0; i < 20; ++i) pacer.on_error(kHost, step * 20'000 + i * 1000 + 100, step * 20'000 + i * 1000 - 19'000, false, false);
    }
    const Micros paced = silences_until_paced(pacer, 1000, 200'000);
    ASSERT_GE(paced, 0);
    EXPECT_GT(pacer.limit(kHost), 800.0);
    EXPECT_LT(pacer.limit(kHost), 1300.0);
}

// No refill to measure (the window was full of unanswered tries): a burst larger than a Linux
// peer's starts at that burst per second, and doubles while the errors grow with the pace.
TEST(IcmpPacer, LargeBurstStartsFastAndDoublesWhileErrorsGrow) {
    IcmpPacer pacer;
    burst_then_silence(pacer, 50, 0);
    Micros now = silences_until_paced(pacer, 1000, 200'000);
    ASSERT_GE(now, 0);
    EXPECT_DOUBLE_EQ(pacer.limit(kHost), 50.0);
    // Every paced try answered (no limit met): the pace keeps doubling, epoch after epoch.
    Micros sent = 0;
    for (; now < 200'000 + 4 * IcmpPacer::kMinEpoch + 1000; now += 100) {
        if (!pacer.take(kHost, now)) continue;
        ++sent;
        pacer.on_error(kHost, now + 50, now, false, false);
    }
    EXPECT_LE(pace_interval(pacer, now), kSecond / 400);  // 50/s doubled at least three times
    EXPECT_GT(sent, 100);
}

// The errors stop growing when the pace doubles past the host's limit: it settles at what got through.
TEST(IcmpPacer, SettlesWhereTheErrorsStopGrowing) {
    IcmpPacer pacer;
    burst_then_silence(pacer, 50, 0);
    Micros now = silences_until_paced(pacer, 1000, 200'000);
    ASSERT_GE(now, 0);
    const double limit = 150;  // errors per second the host gives, at most
    double credit = 0;
    Micros last = now;
    for (const Micros end = now + 12 * IcmpPacer::kMinEpoch; now < end; now += 100) {
        credit = std::min(5.0, credit + double(now - last) * limit / kSecond);
        last = now;
        if (!pacer.take(kHost, now) || credit < 1) continue;
        credit -= 1;
        pacer.on_error(kHost, now + 50, now, false, false);
    }
    const double rate = double(kSecond) / double(pace_interval(pacer, now));
    EXPECT_GT(rate, 0.7 * limit);
    EXPECT_LT(rate, 1.6 * limit);
}

}  // namespace
}  // namespace flagscan

// The congestion window on its own: cuts on growing loss, holds on steady loss, respects bounds.
#include <gtest/gtest.h>

#include <random>

#include "flagscan/engine/congestion.hpp"

namespace flagscan {
namespace {

// Feeds `epochs` epochs of replies; each send is lost with probability loss(window).
template <class Loss>
void drive(CongestionControl& cc, int epochs, Loss loss, std::uint64_t seed = 1) {
    std::mt19937_64 random{seed};
    Micros now = 0;
    for (int e = 0; e < epochs; ++e) {
        for (int i = 0; i < 1000; ++i) {
            now += 50;
            unsigned lost = 0;  // sends lost before the one that drew this reply
            while (lost < 10 && std::uniform_real_distribution<double>{0, 1}(random) < loss(cc.window())) ++lost;
            cc.on_reply(now, lost, now - 1000, 10 * kMillisecond);
        }
    }
}

TEST(Congestion, SlowStartGrowsPerReplyUpToTheCeiling) {
    CongestionControl cc{10, 5000};
    drive(cc, 1, [](double) { return 0.0; });
    EXPECT_EQ(cc.window(), 1010);
    drive(cc, 10, [](double) { return 0.0; });
    EXPECT_EQ(cc.window(), 5000);
    EXPECT_EQ(cc.cuts(), 0u);
}

TEST(Congestion, SteadyRandomLossIsThePathsNotOurs) {
    CongestionControl cc{100, 1e6};
    drive(cc, 40, [](double) { return 0.05; });
    EXPECT_GT(cc.window(), 1000);
    EXPECT_LE(cc.cuts(), 3u);
    EXPECT_NEAR(cc.baseline_loss(), 0.05, 0.02);
}

TEST(Congestion, LossThatGrowsWithTheWindowIsCongestion) {
    CongestionControl cc{100, 1e6};
    const double capacity = 2000;  // beyond this many in flight, a queue overflows
    drive(cc, 60, [capacity](double window) { return window > capacity ? 1.0 - capacity / window : 0.0; });
    EXPECT_GT(cc.cuts(), 2u);
    EXPECT_LT(cc.window(), 4 * capacity);
    EXPECT_GT(cc.window(), capacity / 4);
}

TEST(Congestion, StaleLossDoesNotCutTwice) {
    CongestionControl cc{1000, 1e6};
    Micros now = 0;
    for (int i = 0; i < 200; ++i) {  // heavy loss: a cut
        now += 100;
        cc.on_reply(now, 3, now - 50, kMillisecond);
    }
    const auto cuts = cc.cuts();
    ASSERT_GE(cuts, 1u);
    const double window = cc.window();
    for (int i = 0; i < 500; ++i) {  // losses from before the cut
        now += 100;
        cc.on_reply(now, 3, 0, kMillisecond);
    }
    EXPECT_EQ(cc.cuts(), cuts);
    EXPECT_EQ(cc.window(), window);
}

}  // namespace
}  // namespace flagscan

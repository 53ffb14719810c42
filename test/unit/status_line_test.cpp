// The status line on a fake clock: its text, percent, rates, and an ETA that settles.
#include "flagscan/output/status_line.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace flagscan {
namespace {

constexpr Micros kNoon = 12 * 3600 * kSecond;

// A scan of `planned` ports whose progress per second is given, second by second; the line
// is fed every 10 ms, as the scan loop's rounds would (several per interval).
class FakeScan {
public:
    explicit FakeScan(std::uint64_t planned) : line_("SYN scan", 0) { snapshot_.planned = planned; }

    // One second in which `decided` ports are decided and `sent` probes go out, evenly.
    void second(std::uint64_t decided, std::uint64_t sent) {
        for (int step = 1; step <= 100; ++step) {
            snapshot_.now += 10 * kMillisecond;
            snapshot_.decided = std::min(snapshot_.planned, decided_before_ + decided * step / 100);
            snapshot_.sent = sent_before_ + sent * step / 100;
            snapshot_.replies = snapshot_.decided;
            line_.observe(snapshot_);
        }
        decided_before_ = snapshot_.decided;
        sent_before_ = snapshot_.sent;
    }

    StatusLine& line() { return line_; }
    Micros now() const { return snapshot_.now; }
    std::uint64_t left() const { return snapshot_.planned - snapshot_.decided; }
    ProgressSnapshot& snapshot() { return snapshot_; }

private:
    StatusLine line_;
    ProgressSnapshot snapshot_;
    std::uint64_t decided_before_ = 0;
    std::uint64_t sent_before_ = 0;
};

double seconds(Micros t) { return static_cast<double>(t) / kSecond; }

TEST(StatusLine, TextBeforeAnyEstimate) {
    StatusLine line{"SYN scan", 0};
    ProgressSnapshot s{kSecond / 2, 1000, 21, 500, 40, 2, 7};
    line.observe(s);
    EXPECT_EQ(line.text(kNoon), "SYN scan 0:00:00: About 2.10% done; 500 sent (1000 pps), 40 replies, 2 open, 7 retransmitted");
    EXPECT_FALSE(line.remaining());
}

TEST(StatusLine, NmapWordingOnceTheEtaIsKnown) {
    FakeScan scan{10000};
    for (int i = 0; i < 5; ++i) scan.second(1000, 1100);
    scan.snapshot().open = 3;
    scan.snapshot().retransmitted = 100;
    scan.line().observe(scan.snapshot());
    ASSERT_TRUE(scan.line().remaining());
    EXPECT_EQ(*scan.line().remaining(), 5 * kSecond);
    EXPECT_EQ(scan.line().text(kNoon + (59 * 60 + 58) * kSecond),
              "SYN scan 0:00:05: About 50.00% done; ETC: 13:00 (0:00:05 remaining); 5500 sent (1100 pps), 5000 replies, "
              "3 open, 100 retransmitted");
}

TEST(StatusLine, NoEtaBeforeAFewSecondsOfEvidence) {
    FakeScan scan{100000};
    scan.second(1000, 1000);
    scan.second(1000, 1000);
    EXPECT_FALSE(scan.line().remaining());
    EXPECT_EQ(scan.line().text(kNoon).find("ETC"), std::string::npos);
    scan.second(1000, 1000);
    scan.second(1000, 1000);
    ASSERT_TRUE(scan.line().remaining());
    EXPECT_NEAR(seconds(*scan.line().remaining()), 96.0, 1.0);
}

TEST(StatusLine, PercentIsRoundedDownAndReachesHundredOnlyWhenDone) {
    StatusLine line{"UDP scan", 0};
    line.observe(ProgressSnapshot{kSecond, 3, 1, 1, 0, 0, 0});
    EXPECT_NEAR(line.percent(), 33.333, 0.001);
    EXPECT_NE(line.text(kNoon).find("About 33.33% done"), std::string::npos);
    line.observe(ProgressSnapshot{2 * kSecond, 100000, 99999, 1, 0, 0, 0});
    EXPECT_NE(line.text(kNoon).find("About 99.99% done"), std::string::npos);
    line.observe(ProgressSnapshot{3 * kSecond, 100000, 100000, 1, 0, 0, 0});
    EXPECT_NE(line.text(kNoon).find("About 100.00% done; ETC: 12:00 (0:00:00 remaining)"), std::string::npos);
}

TEST(StatusLine, SendRateIsTheSmoothedRateNotTheTotal) {
    FakeScan scan{1000000};
    for (int i = 0; i < 10; ++i) scan.second(100, 2000);
    EXPECT_NEAR(scan.line().send_rate(), 2000.0, 1.0);
    EXPECT_NE(scan.line().text(kNoon).find("; 20000 sent (2000 pps), "), std::string::npos) << scan.line().text(kNoon);
    for (int i = 0; i < 30; ++i) scan.second(100, 5000);
    EXPECT_NEAR(scan.line().send_rate(), 5000.0, 50.0);  // the mean since the start is 4250
}

// Progress that alternates between 500 and 1500 ports a second (mean 1000) for a 100000-port
// scan: the shown time left converges to the truth and then counts down steadily, one second a
// second give or take a twentieth of it (at least a second and a half).
TEST(StatusLine, EtaConvergesAndStaysSteadyUnderNoisyProgress) {
    FakeScan scan{100000};
    std::vector<double> shown;
    for (int i = 0; i < 90; ++i) {
        scan.second(i % 2 == 0 ? 500 : 1500, 1000);
        if (auto left = scan.line().remaining()) shown.push_back(seconds(*left));
    }
    ASSERT_GT(shown.size(), 80u);
    for (std::size_t i = 10; i < shown.size(); ++i) {
        const double truth = 96.0 - static_cast<double>(i);  // line i is shown at 4 + i s; 1000/s on average
        EXPECT_NEAR(shown[i], truth, 0.1 * truth + 2.0) << "line " << i;
        EXPECT_NEAR(shown[i - 1] - shown[i], 1.0, std::max(1.5, 0.05 * shown[i])) << "line " << i << ": " << shown[i - 1] << " -> " << shown[i];
    }
}

// The scan slows to a third of its pace (retransmissions, a rate limit): the ETA follows by
// steps, not by one jump, and has caught up within a minute.
TEST(StatusLine, EtaFollowsARealChangeOfPaceGradually) {
    FakeScan scan{45000};
    for (int i = 0; i < 10; ++i) scan.second(1500, 1500);
    const double before = seconds(*scan.line().remaining());
    EXPECT_NEAR(before, 20.0, 1.0);
    double previous = before;
    double highest = before;
    for (int i = 0; i < 40; ++i) {
        scan.second(500, 500);
        const double now = seconds(*scan.line().remaining());
        EXPECT_LT(now - previous, 0.1 * previous + 1.5) << "second " << i;
        highest = std::max(highest, now);
        previous = now;
    }
    // 15000 decided at 1500/s, then 40 s at 500/s: 10000 left at 500/s = 20 s.
    EXPECT_EQ(scan.left(), 10000u);
    EXPECT_NEAR(previous, 20.0, 3.0);
    EXPECT_GT(highest, before + 10.0) << "the slowdown shows in the ETA";
}

// A stall (every probe waiting for its timeout) makes the ETA grow slowly, not leap to hours.
TEST(StatusLine, EtaGrowsSlowlyDuringAStall) {
    FakeScan scan{20000};
    for (int i = 0; i < 10; ++i) scan.second(1000, 1000);
    double previous = seconds(*scan.line().remaining());
    for (int i = 0; i < 5; ++i) {
        scan.second(0, 0);
        const double now = seconds(*scan.line().remaining());
        EXPECT_LE(now - previous, 0.1 * previous + 0.01);
        previous = now;
    }
    EXPECT_LT(previous, 30.0);
}

TEST(StatusLine, DurationAndClock) {
    EXPECT_EQ(duration_text(0), "0:00:00");
    EXPECT_EQ(duration_text(41 * kSecond + 900 * kMillisecond), "0:00:41");
    EXPECT_EQ(duration_text((3 * 3600 + 25 * 60 + 7) * kSecond), "3:25:07");
    StatusLine line{"host discovery", 0};
    line.observe(ProgressSnapshot{kSecond, 10, 10, 10, 10, 0, 0});
    EXPECT_NE(line.text(23 * 3600 * kSecond + 59 * 60 * kSecond).find("ETC: 23:59 (0:00:00 remaining)"), std::string::npos);
}

TEST(RateMeter, PlainMeanAtFirstThenWeightedMean) {
    RateMeter meter;
    meter.observe(0, 0);
    meter.observe(900 * kMillisecond, 900);
    EXPECT_FALSE(meter.per_second());
    meter.observe(kSecond, 1000);
    ASSERT_TRUE(meter.per_second());
    EXPECT_DOUBLE_EQ(*meter.per_second(), 1000.0);
    meter.observe(2 * kSecond, 1000);  // a silent second: the mean of the two
    EXPECT_NEAR(*meter.per_second(), 500.0, 1e-9);
    meter.observe(5 * kSecond, 1000);  // three silent seconds at once weigh as three
    EXPECT_NEAR(*meter.per_second(), 200.0, 1e-9);
    std::uint64_t count = 1000;
    for (Micros t = 6; t <= 40; ++t) meter.observe(t * kSecond, count += 200);
    EXPECT_NEAR(*meter.per_second(), 200.0, 1e-9);
    meter.observe(41 * kSecond, count);  // late in the scan, one second weighs 15%
    EXPECT_NEAR(*meter.per_second(), 170.0, 1e-9);
    meter.observe(43 * kSecond, count);  // two silent seconds as two
    EXPECT_NEAR(*meter.per_second(), 170.0 * 0.85 * 0.85, 1e-9);
    EXPECT_EQ(meter.intervals(), 40);
}

}  // namespace
}  // namespace flagscan

// Results: per-state totals and the hosts handed over as they finish.
#include <gtest/gtest.h>

#include "flagscan/engine/results.hpp"

namespace flagscan {
namespace {

struct TwoHosts {
    TargetSet targets{addresses(), {Port{22}, Port{80}}};
    Results results{targets, {&syn_kind()}};
    static AddressSet addresses() {
        AddressSet set;
        set.add(Ipv4{10, 0, 0, 2});
        set.add(Ipv4{10, 0, 0, 3});
        return set;
    }
    void set(std::uint64_t index, PortState state) {
        PortResult r;
        r.state = state;
        results.set(index, r);
    }
};

TEST(Results, TotalsFollowEveryVerdictAndItsRevision) {
    TwoHosts f;
    EXPECT_EQ(f.results.state_total(PortState::unscanned), 4u);
    f.set(0, PortState::filtered);
    f.set(2, PortState::open);
    f.set(0, PortState::open);  // a late answer overturns a no-response verdict
    EXPECT_EQ(f.results.state_total(PortState::open), 2u);
    EXPECT_EQ(f.results.state_total(PortState::filtered), 0u);
    EXPECT_EQ(f.results.state_total(PortState::unscanned), 2u);
}

TEST(Results, AHostIsHandedOverOnceWhenItsLastPortIsDecided) {
    TwoHosts f;
    f.set(2, PortState::open);
    EXPECT_TRUE(f.results.take_finished_hosts().empty());
    f.set(3, PortState::closed);
    f.set(0, PortState::closed);
    EXPECT_EQ(f.results.take_finished_hosts(), std::vector<std::uint32_t>{1});
    f.set(3, PortState::open);  // revised after it finished: not handed over again
    f.set(1, PortState::open);
    EXPECT_EQ(f.results.take_finished_hosts(), std::vector<std::uint32_t>{0});
    EXPECT_TRUE(f.results.take_finished_hosts().empty());
}

}  // namespace
}  // namespace flagscan

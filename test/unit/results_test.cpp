// Results: per-state totals and the hosts handed over as they finish.
#include <gtest/gtest.h>

#include "flagscan/engine/results.hpp"
#include "flagscan/net/decode.hpp"

namespace flagscan {
namespace {

struct TwoHosts {
    explicit TwoHosts(bool keep_evidence = false) : results{targets, {&syn_kind()}, keep_evidence} {}
    TargetSet targets{addresses(), {Port{22}, Port{80}}};
    Results results;
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

// --explain's evidence lives beside the verdicts, and only when asked for: every port's verdict
// stays 16 bytes, and without the side table the notes store nothing.
PortEvidence icmp_4_from_router() {
    PortEvidence packet;
    packet.unused = Unused::unmatched;
    packet.unused_protocol = ipproto::icmp;
    packet.unused_detail = icmp_type::unreachable;
    packet.unused_code = 4;
    packet.reply_from = Ipv4{198, 51, 100, 254};
    return packet;
}

PortEvidence tries_from(std::uint16_t first, std::uint16_t last) {
    PortEvidence tries;
    tries.first_sport = first;
    tries.sport = last;
    tries.tries_span_us = 1000;
    tries.waited_us = 2000;
    tries.tries_known = true;
    return tries;
}

TEST(Results, EvidenceIsKeptOnlyWhenAskedFor) {
    TwoHosts f;
    EXPECT_FALSE(f.results.keeps_evidence());
    f.set(0, PortState::filtered);
    f.results.note_unused(0, icmp_4_from_router());
    f.results.note_tries(0, tries_from(40000, 40001));
    f.results.note_reply_packet(0, Ipv4{10, 0, 0, 2}, Port{40001});
    const PortEvidence none = f.results.evidence(0);
    EXPECT_FALSE(none.tries_known);
    EXPECT_EQ(none.sport, 0);
    EXPECT_EQ(none.unused, Unused::none);
    EXPECT_EQ(none.reply_from.value(), 0u);
}

TEST(Results, SilenceKeepsTheUnusedPacketAndAReplyDropsIt) {
    TwoHosts f{true};
    ASSERT_TRUE(f.results.keeps_evidence());
    f.results.note_unused(0, icmp_4_from_router());  // came while the port was in flight
    f.set(0, PortState::filtered);
    f.results.note_tries(0, tries_from(40000, 40001));
    PortEvidence seen = f.results.evidence(0);
    EXPECT_TRUE(seen.tries_known);
    EXPECT_EQ(seen.first_sport, 40000);
    EXPECT_EQ(seen.sport, 40001);
    EXPECT_EQ(seen.waited_us, 2000u);
    EXPECT_EQ(seen.unused, Unused::unmatched);
    EXPECT_EQ(seen.reply_from, (Ipv4{198, 51, 100, 254}));

    PortResult open;  // a late SYN,ACK overturns the silence: the unused packet no longer speaks
    open.state = PortState::open;
    open.reply_kind = ReplyEvidence::Kind::tcp;
    f.results.set(0, open);
    f.results.note_tries(0, tries_from(40000, 40001));
    f.results.note_reply_packet(0, Ipv4{10, 0, 0, 2}, Port{40000});
    seen = f.results.evidence(0);
    EXPECT_EQ(seen.unused, Unused::none);
    EXPECT_EQ(seen.reply_from, (Ipv4{10, 0, 0, 2}));
    EXPECT_EQ(seen.sport, 40000);  // the try the reply answered
    f.results.note_unused(0, icmp_4_from_router());  // a reply decided: later strays are not kept
    EXPECT_EQ(f.results.evidence(0).unused, Unused::none);
    EXPECT_FALSE(f.results.evidence(1).tries_known);  // a port with no note (one restored by --resume)
}

}  // namespace
}  // namespace flagscan

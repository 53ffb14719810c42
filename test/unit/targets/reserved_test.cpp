// Unit tests for the RFC 6890 table and the rule that leaves reserved blocks out of wider targets.
#include "flagscan/targets/reserved.hpp"

#include <gtest/gtest.h>

namespace flagscan {
namespace {

Ipv4 ip(std::string_view text) { return *Ipv4::parse(text); }
Ipv4Range range(std::string_view first, std::string_view last) { return {ip(first), ip(last)}; }

Result<ParsedTargets> parse(std::vector<std::string> texts, ReservedRule rule = ReservedRule::skip_implied) {
    std::vector<TargetExpression> expressions;
    for (auto& text : texts) expressions.push_back(TargetExpression{std::move(text), ""});
    return parse_target_list(expressions, Resolver{}, rule);
}

TEST(ReservedBlocks, TableMatchesItsCidrsAndIsInOrder) {
    const auto blocks = reserved_blocks();
    ASSERT_EQ(blocks.size(), 15u);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        AddressSet parsed;
        ASSERT_TRUE(add_target(parsed, blocks[i].cidr, Resolver{})) << blocks[i].cidr;
        EXPECT_EQ(parsed.ranges(), std::vector<Ipv4Range>{blocks[i].range}) << blocks[i].cidr;
        if (i > 0) {
            EXPECT_LT(blocks[i - 1].range.first, blocks[i].range.first);
        }
        EXPECT_FALSE(blocks[i].purpose.empty());
        const bool never = blocks[i].cidr == "224.0.0.0/4" || blocks[i].cidr == "255.255.255.255/32";
        EXPECT_EQ(blocks[i].never_unicast, never) << blocks[i].cidr;
    }
}

// zmap's count for a /0 with its default blocklist minus 192.88.99.0/24 (6to4, not in RFC 6890's
// list here): 2^32 less the 15 blocks (255.255.255.255 is inside 240/4).
TEST(ReservedRule, ZeroSlashZeroLeavesEveryBlockOut) {
    auto r = parse({"0.0.0.0/0"});
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->reserved_left_out.size(), 592708608u);
    EXPECT_EQ(r->addresses.size(), (std::uint64_t{1} << 32) - 592708608u);
    for (const auto& block : reserved_blocks()) EXPECT_FALSE(r->addresses.contains(block.range.first)) << block.cidr;
    EXPECT_TRUE(r->addresses.contains(ip("8.8.8.8")));
    EXPECT_TRUE(r->addresses.contains(ip("9.255.255.255")));
    EXPECT_TRUE(r->addresses.contains(ip("11.0.0.0")));
}

TEST(ReservedRule, ABlockOrAPartOfItNamedIsScanned) {
    for (const char* named : {"10.0.0.0/8", "10.1.2.0/24", "10.1.2.3", "127.0.0.1", "192.168.1.0/24", "10.0.0-3.1-9",
                              "240.0.0.1", "255.255.255.255"}) {
        auto r = parse({named});
        ASSERT_TRUE(r) << r.error();
        EXPECT_TRUE(r->reserved_left_out.empty()) << named;
    }
    // Wider than the block: left out, though something else in it was named too.
    auto r = parse({"0.0.0.0/0", "10.1.2.0/24"});
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(r->addresses.contains(ip("10.1.2.77")));
    EXPECT_FALSE(r->addresses.contains(ip("10.1.3.0")));
    EXPECT_EQ(r->reserved_left_out.size(), 592708608u - 256u);
}

TEST(ReservedRule, AWiderRangeLeavesOnlyItsReservedPartOut) {
    auto r = parse({"192.0.0.0/16"});
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->reserved_left_out.ranges(), (std::vector<Ipv4Range>{range("192.0.0.0", "192.0.0.255"), range("192.0.2.0", "192.0.2.255")}));
    EXPECT_EQ(r->addresses.size(), 65536u - 512u);
    r = parse({"9.255.255.0-10.0.0.255"});  // across the edge of 10/8
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->addresses.ranges(), (std::vector<Ipv4Range>{range("9.255.255.0", "9.255.255.255")}));
    r = parse({"240.0.0.0/4"});  // the broadcast address inside it is a block of its own
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->reserved_left_out.ranges(), (std::vector<Ipv4Range>{range("255.255.255.255", "255.255.255.255")}));
}

TEST(ReservedRule, IncludeReservedStillLeavesMulticastAndBroadcastOut) {
    auto r = parse({"0.0.0.0/0"}, ReservedRule::skip_multicast);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->reserved_left_out.ranges(), (std::vector<Ipv4Range>{range("224.0.0.0", "239.255.255.255"),
                                                                     range("255.255.255.255", "255.255.255.255")}));
    EXPECT_TRUE(r->addresses.contains(ip("10.0.0.1")));
    EXPECT_TRUE(r->addresses.contains(ip("240.0.0.1")));
    EXPECT_TRUE(refuse_never_unicast(r->addresses));
    r = parse({"0.0.0.0/0"}, ReservedRule::keep);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->addresses.size(), std::uint64_t{1} << 32);
    EXPECT_TRUE(r->reserved_left_out.empty());
}

TEST(ReservedRule, MulticastOrBroadcastNamedIsRefused) {
    for (const char* named : {"224.0.0.1", "239.1.0.0/16", "255.255.255.255"}) {
        auto r = parse({named});
        ASSERT_TRUE(r) << r.error();
        const auto refused = refuse_never_unicast(r->addresses);
        ASSERT_FALSE(refused) << named;
        EXPECT_NE(refused.error().find("refusing to scan multicast or broadcast"), std::string::npos);
    }
    auto r = parse({"10.0.0.0/8"});
    EXPECT_TRUE(refuse_never_unicast(r->addresses));
}

TEST(ReservedRule, NoteSaysHowManyAndWhich) {
    auto r = parse({"192.0.0.0/16"});
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(reserved_note(r->reserved_left_out, ReservedRule::skip_implied),
              "left out 512 reserved addresses (RFC 6890: 192.0.0.0/24, 192.0.2.0/24) that the targets reach only as "
              "part of a larger range: name a block to scan it, or give --include-reserved");
    r = parse({"0.0.0.0/0"}, ReservedRule::skip_multicast);
    EXPECT_EQ(reserved_note(r->reserved_left_out, ReservedRule::skip_multicast),
              "left out 268435457 multicast and broadcast addresses (224.0.0.0/4, 255.255.255.255/32), never sent a "
              "unicast probe");
}

}  // namespace
}  // namespace flagscan

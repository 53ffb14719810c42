// Tests for IPv6 addresses: RFC 4291 2.2 parsing, RFC 5952 text, prefixes, ranges, the IPv6 pseudo-header checksum.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "flagscan/net/checksum.hpp"
#include "flagscan/net/ipv6.hpp"

namespace flagscan {
namespace {

std::string canonical(std::string_view text) {
    auto parsed = parse_ipv6(text);
    return parsed ? parsed->str() : "error: " + parsed.error();
}

// RFC 4291 2.2's three forms, written as the RFC writes them, and the RFC 5952 text of each.
TEST(Ipv6, ParsesEveryRfc4291Form) {
    const std::vector<std::pair<std::string, std::string>> table{
        {"ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789"},
        {"2001:DB8:0:0:8:800:200C:417A", "2001:db8::8:800:200c:417a"},
        {"2001:DB8::8:800:200C:417A", "2001:db8::8:800:200c:417a"},
        {"FF01:0:0:0:0:0:0:101", "ff01::101"},
        {"FF01::101", "ff01::101"},
        {"0:0:0:0:0:0:0:1", "::1"},
        {"::1", "::1"},
        {"0:0:0:0:0:0:0:0", "::"},
        {"::", "::"},
        {"0:0:0:0:0:0:13.1.68.3", "::d01:4403"},
        {"::13.1.68.3", "::d01:4403"},
        {"0:0:0:0:0:FFFF:129.144.52.38", "::ffff:129.144.52.38"},
        {"::FFFF:129.144.52.38", "::ffff:129.144.52.38"},
        {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
        {"1::", "1::"},
        {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
        {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
        {"fe80::", "fe80::"},
    };
    for (const auto& [text, expected] : table) EXPECT_EQ(canonical(text), expected) << text;
}

// RFC 5952 2.1: one address written eight ways; 4: the one text for it.
TEST(Ipv6, Rfc5952SameAddressManyWays) {
    for (const char* text : {"2001:db8:0:0:1:0:0:1", "2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "2001:db8::0:1:0:0:1",
                             "2001:0db8::1:0:0:1", "2001:db8:0:0:1::1", "2001:db8:0000:0:1::1", "2001:DB8:0:0:1::1"})
        EXPECT_EQ(canonical(text), "2001:db8::1:0:0:1") << text;
}

// RFC 5952 section 4, rule by rule.
TEST(Ipv6, Rfc5952CanonicalText) {
    EXPECT_EQ(canonical("2001:0db8::0001"), "2001:db8::1");                      // 4.1 leading zeros
    EXPECT_EQ(canonical("2001:db8:0:0:0:0:2:1"), "2001:db8::2:1");               // 4.2.1 as short as possible
    EXPECT_EQ(canonical("2001:db8::1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");         // 4.2.2 one zero group stays
    EXPECT_EQ(canonical("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");                 // 4.2.3 the longest run
    EXPECT_EQ(canonical("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");           // 4.2.3 the first on a tie
    EXPECT_EQ(canonical("1:0:0:0:1:0:0:0"), "1::1:0:0:0");                       // 4.2.3 tie, run at the end
    EXPECT_EQ(canonical("2001:DB8:ABCD::EF"), "2001:db8:abcd::ef");              // 4.3 lower case
    EXPECT_EQ(canonical("::ffff:c000:0201"), "::ffff:192.0.2.1");                // 5 IPv4-mapped
    EXPECT_EQ(canonical("::fffe:c000:201"), "::fffe:c000:201");                  // not mapped: hex
    EXPECT_EQ(canonical("0:0:0:0:1:ffff:c000:201"), "::1:ffff:c000:201");        // not mapped: hex
}

TEST(Ipv6, RefusesMalformedText) {
    const std::vector<std::pair<std::string, std::string>> table{
        {"1::2::3", "'::' appears twice"},
        {":::", "'::' appears twice"},
        {"12345::", "group '12345' is not one to four hex digits"},
        {"1:2:3:4:5:6:7:8:9", "more than eight groups"},
        {"1:2:3:4:5:6:7:8::", "'::' with eight groups written around it"},
        {"1:2:3:4:5:6:7", "fewer than eight groups and no '::'"},
        {"1::2:3:4:5:6:7:8", "'::' with eight groups written around it"},
        {"::1:2:3:4:5:6:1.2.3.4", "'::' with eight groups written around it"},
        {"1:2:3:4:5:6:7:1.2.3.4", "more than eight groups"},
        {"1:", "an empty group (a lone ':' at an end, or ':' twice outside '::')"},
        {":1::", "an empty group (a lone ':' at an end, or ':' twice outside '::')"},
        {"g::", "group 'g' is not one to four hex digits"},
        {"0x1::", "group '0x1' is not one to four hex digits"},
        {"-1::", "group '-1' is not one to four hex digits"},
        {"::1.2.3.4:1", "a dotted quad may only end the address"},
        {"1.2.3.4::", "a dotted quad may only end the address"},
        {"::1.2.3", "'1.2.3' is not a dotted quad"},
        {"::256.1.1.1", "'256.1.1.1' is not a dotted quad"},
        {"1.2.3.4", "fewer than eight groups and no '::'"},
        {"", "empty"},
        {"fe80::1%eth0", "zone indices ('%') are not supported"},
        {" ::1", "group ' ' is not one to four hex digits"},
    };
    for (const auto& [text, why] : table) {
        auto parsed = parse_ipv6(text);
        ASSERT_FALSE(parsed) << text << " parsed as " << parsed->str();
        EXPECT_NE(parsed.error().find(why), std::string::npos) << text << ": " << parsed.error();
        EXPECT_FALSE(Ipv6::parse(text)) << text;
    }
}

TEST(Ipv6, GroupsBytesAndOrder) {
    const Ipv6 ip = Ipv6::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0x1234, 0xabcd});
    EXPECT_EQ(ip.group(0), 0x2001);
    EXPECT_EQ(ip.group(7), 0xabcd);
    EXPECT_EQ(ip.byte(0), 0x20);
    EXPECT_EQ(ip.byte(15), 0xcd);
    const auto bytes = ip.bytes();
    EXPECT_EQ(Ipv6::from_bytes(bytes), ip);
    EXPECT_LT(*Ipv6::parse("::ffff"), *Ipv6::parse("::1:0"));
    EXPECT_LT(*Ipv6::parse("0:0:0:1::"), *Ipv6::parse("0:0:0:2::"));
    EXPECT_EQ(Ipv6::mapped(Ipv4{192, 0, 2, 1}).str(), "::ffff:192.0.2.1");
    EXPECT_EQ(Ipv6::parse("::ffff:10.0.0.1")->v4_mapped(), (Ipv4{10, 0, 0, 1}));
    EXPECT_FALSE(Ipv6::parse("::10.0.0.1")->v4_mapped());
    EXPECT_EQ(Ipv6::parse("::ffff:ffff:ffff:ffff")->plus(1), *Ipv6::parse("0:0:0:1::"));  // carry into the high half
    EXPECT_EQ(Ipv6::parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")->plus(1), Ipv6{});   // modulo 2^128
}

TEST(Ipv6, Hashes) {
    std::unordered_set<Ipv6> set;
    for (std::uint64_t i = 0; i < 1000; ++i) set.insert(Ipv6{0xfd00'0000'0000'0000ULL, i});
    set.insert(Ipv6{5, 7});
    set.insert(Ipv6{7, 5});
    EXPECT_EQ(set.size(), 1002u);
    EXPECT_TRUE(set.contains(Ipv6{0xfd00'0000'0000'0000ULL, 999}));
    EXPECT_NE(std::hash<Ipv6>{}(Ipv6{5, 7}), std::hash<Ipv6>{}(Ipv6{7, 5}));
}

TEST(Ipv6Prefix, ParsesAndBounds) {
    auto prefix = parse_ipv6_prefix("fd00:1::/120");
    ASSERT_TRUE(prefix) << prefix.error();
    EXPECT_EQ(prefix->first().str(), "fd00:1::");
    EXPECT_EQ(prefix->last().str(), "fd00:1::ff");
    EXPECT_EQ(prefix->host_count(), 256u);
    EXPECT_EQ(prefix->str(), "fd00:1::/120");
    EXPECT_TRUE(prefix->contains(*Ipv6::parse("fd00:1::80")));
    EXPECT_FALSE(prefix->contains(*Ipv6::parse("fd00:1::100")));
    // Host bits are dropped, as nmap reads a CIDR target.
    EXPECT_EQ(parse_ipv6_prefix("fd00::1:2/112")->str(), "fd00::1:0/112");
    EXPECT_EQ(parse_ipv6_prefix("2001:db8::5/128")->host_count(), 1u);
    EXPECT_EQ(parse_ipv6_prefix("2001:db8::/65")->host_count(), std::uint64_t{1} << 63);
    EXPECT_EQ(parse_ipv6_prefix("2001:db8::/65")->last().str(), "2001:db8::7fff:ffff:ffff:ffff");
    EXPECT_EQ(parse_ipv6_prefix("2001:db8:1:2:3::/64")->last().str(), "2001:db8:1:2:ffff:ffff:ffff:ffff");
    EXPECT_EQ(parse_ipv6_prefix("2001:db8:1:2:3::/64")->first().str(), "2001:db8:1:2::");
    EXPECT_EQ(parse_ipv6_prefix("fd00::/8")->last().str(), "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

// Too large to walk: a /64 or shorter holds 2^64 or more addresses; host_count says UINT64_MAX.
TEST(Ipv6Prefix, SaysWhenTooLargeToWalk) {
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    EXPECT_EQ(parse_ipv6_prefix("2001:db8::/64")->host_count(), kMax);
    EXPECT_EQ(parse_ipv6_prefix("::/0")->host_count(), kMax);
    EXPECT_EQ(parse_ipv6_prefix("::/0")->last().str(), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    EXPECT_EQ(parse_ipv6_prefix("2001:db8::/104")->host_count(), 1u << 24);
}

TEST(Ipv6Prefix, RefusesMalformedText) {
    for (const char* text : {"2001:db8::", "2001:db8::/", "2001:db8::/129", "2001:db8::/-1", "2001:db8::/ 64",
                             "2001:db8::/64/64", "2001:db8::/6x", "/64", "10.0.0.0/8", "1::2::3/64"})
        EXPECT_FALSE(parse_ipv6_prefix(text)) << text;
    EXPECT_EQ(parse_ipv6_prefix("2001:db8::/129").error(),
              "'2001:db8::/129' is not an IPv6 prefix: the length is not a number from 0 to 128");
    EXPECT_EQ(parse_ipv6_prefix("1::2::3/64").error(), "'1::2::3' is not an IPv6 address: '::' appears twice");
}

TEST(Ipv6Range, ParsesAndCounts) {
    auto range = parse_ipv6_range("fd00::1-fd00::ff");
    ASSERT_TRUE(range) << range.error();
    EXPECT_EQ(range->first.str(), "fd00::1");
    EXPECT_EQ(range->last.str(), "fd00::ff");
    EXPECT_EQ(range->host_count(), 255u);
    EXPECT_TRUE(range->contains(*Ipv6::parse("fd00::80")));
    EXPECT_FALSE(range->contains(*Ipv6::parse("fd00::100")));
    EXPECT_EQ(parse_ipv6_range("fd00::1-fd00::1")->host_count(), 1u);
    EXPECT_EQ(parse_ipv6_range("::ffff:ffff:ffff:ffff-0:0:0:1::")->host_count(), 2u);  // across the halves
    EXPECT_EQ(parse_ipv6_range("::-::ffff:ffff:ffff:fffd")->host_count(), std::numeric_limits<std::uint64_t>::max() - 1);
    EXPECT_EQ(parse_ipv6_range("::-ffff::")->host_count(), std::numeric_limits<std::uint64_t>::max());
}

TEST(Ipv6Range, RefusesMalformedText) {
    for (const char* text : {"fd00::ff-fd00::1", "fd00::1", "fd00::1-", "-fd00::1", "fd00::1-fd00::2-fd00::3",
                             "fd00::1-ff", "fd00::1 - fd00::2"})
        EXPECT_FALSE(parse_ipv6_range(text)) << text;
    EXPECT_EQ(parse_ipv6_range("fd00::ff-fd00::1").error(),
              "'fd00::ff-fd00::1' is not an IPv6 range: its end comes before its start");
}

// RFC 8200 8.1 pseudo-header; the expected value computed apart (Python, RFC 1071 sum) for an
// echo request fe80::1 -> fe80::2, id 0x1234, seq 1, data "abc".
TEST(Ipv6Checksum, PseudoHeaderKnownAnswer) {
    std::vector<std::uint8_t> echo{128, 0, 0, 0, 0x12, 0x34, 0, 1, 'a', 'b', 'c'};
    const Ipv6 src = *Ipv6::parse("fe80::1"), dst = *Ipv6::parse("fe80::2");
    const std::uint16_t sum = transport_checksum(src, dst, 58, echo);
    EXPECT_EQ(sum, 0xac1d);
    echo[2] = static_cast<std::uint8_t>(sum >> 8);
    echo[3] = static_cast<std::uint8_t>(sum);
    EXPECT_EQ(transport_checksum(src, dst, 58, echo), 0);  // verifying: 0 over a correct message
    EXPECT_NE(transport_checksum(dst, src, 59, echo), 0);  // next header is covered
}

}  // namespace
}  // namespace flagscan

// Tests for AddressBook: IPv6 addresses under 0.0.0.0/8 keys, both ways, and its limits.
#include <gtest/gtest.h>

#include "flagscan/net/address_book.hpp"

namespace flagscan {
namespace {

Ipv6 v6(std::string_view text) { return *Ipv6::parse(text); }

TEST(AddressBook, RangesTakeConsecutiveKeysInOrderAndMapBack) {
    AddressBook book;
    auto first = book.add(Ipv6Range{v6("fd77:1::100"), v6("fd77:1::1ff")});
    ASSERT_TRUE(first) << first.error();
    EXPECT_EQ(first->value(), 1u);
    auto second = book.add(Ipv6Range{v6("fd00::1"), v6("fd00::1")});
    ASSERT_TRUE(second);
    EXPECT_EQ(second->value(), 257u);
    EXPECT_EQ(book.size(), 257u);
    EXPECT_EQ(book.key_of(v6("fd77:1::100"))->value(), 1u);
    EXPECT_EQ(book.key_of(v6("fd77:1::1ff"))->value(), 256u);
    EXPECT_EQ(book.key_of(v6("fd00::1"))->value(), 257u);
    EXPECT_FALSE(book.key_of(v6("fd77:1::200")));
    EXPECT_FALSE(book.key_of(v6("fd00::")));
    EXPECT_EQ(book.address_of(Ipv4{0x11})->str(), "fd77:1::110");
    EXPECT_EQ(book.address_of(Ipv4{257})->str(), "fd00::1");
    EXPECT_FALSE(book.address_of(Ipv4{258}));
    EXPECT_FALSE(book.address_of(Ipv4{0}));
}

TEST(AddressBook, TextWritesKeysAsIpv6AndOtherAddressesAsThemselves) {
    AddressBook book;
    ASSERT_TRUE(book.add(Ipv6Range{v6("fd77:1::2"), v6("fd77:1::2")}));
    EXPECT_EQ(book.text(Ipv4{1}), "fd77:1::2");
    EXPECT_EQ(book.text(Ipv4{10, 0, 0, 1}), "10.0.0.1");
    EXPECT_EQ(book.text(Ipv4{2}), "0.0.0.2");  // a key not given out is no address of the book
}

TEST(AddressBook, KeyForAddsAnAddressOnceOnFirstSight) {
    AddressBook book;
    const Ipv4 a = *book.key_for(v6("fe80::1"));
    const Ipv4 b = *book.key_for(v6("fd00::9"));
    EXPECT_NE(a, b);
    EXPECT_EQ(*book.key_for(v6("fe80::1")), a);
    EXPECT_EQ(book.size(), 2u);
}

TEST(AddressBook, RangeAcrossTheHalvesMapsBothWays) {
    AddressBook book;
    ASSERT_TRUE(book.add(Ipv6Range{v6("fd00:0:0:1:ffff:ffff:ffff:fff0"), v6("fd00:0:0:2::f")}));
    EXPECT_EQ(book.size(), 32u);
    EXPECT_EQ(book.key_of(v6("fd00:0:0:2::"))->value(), 17u);
    EXPECT_EQ(book.address_of(Ipv4{17})->str(), "fd00:0:0:2::");
}

TEST(AddressBook, RefusesOverlapsAndMoreThanItsCapacity) {
    AddressBook book;
    ASSERT_TRUE(book.add(Ipv6Range{v6("fd00::10"), v6("fd00::20")}));
    auto overlap = book.add(Ipv6Range{v6("fd00::1"), v6("fd00::10")});
    ASSERT_FALSE(overlap);
    EXPECT_NE(overlap.error().find("overlaps"), std::string::npos) << overlap.error();
    auto huge = book.add(Ipv6Range{v6("fd01::"), v6("fd01::ffff:ffff")});
    ASSERT_FALSE(huge);
    EXPECT_NE(huge.error().find("at most 16777215"), std::string::npos) << huge.error();
    EXPECT_TRUE(book.add(Ipv6Range{v6("fd02::"), v6("fd02::fe:ffff")}));  // 16,711,680 more still fit
}

}  // namespace
}  // namespace flagscan

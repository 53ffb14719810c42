// Tests for SipHash-2-4 and the probe cookie.
#include <gtest/gtest.h>

#include <set>

#include "flagscan/probe/cookie.hpp"

namespace flagscan {
namespace {

TEST(SipHash, ReferenceVectorFor16Bytes) {
    // SipHash reference implementation's test vector: key 00..0f, message 00..0f.
    std::array<std::uint8_t, 16> message{};
    for (std::uint8_t i = 0; i < 16; ++i) message[i] = i;
    EXPECT_EQ(siphash24(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, message), 0x3f2acc7f57c29bdbULL);
}

TEST(Cookie, DependsOnEveryField) {
    const CookieKey key{1, 2};
    const Ipv4 a{10, 0, 0, 1}, b{10, 0, 0, 2};
    const std::uint32_t base = key(a, b, Port{22}, Port{40000});
    EXPECT_EQ(base, key(a, b, Port{22}, Port{40000}));
    EXPECT_NE(base, key(b, a, Port{22}, Port{40000}));
    EXPECT_NE(base, key(a, Ipv4{10, 0, 0, 3}, Port{22}, Port{40000}));
    EXPECT_NE(base, key(a, b, Port{23}, Port{40000}));
    EXPECT_NE(base, key(a, b, Port{22}, Port{40001}));
    EXPECT_NE(base, CookieKey(1, 3)(a, b, Port{22}, Port{40000}));
}

TEST(Cookie, SpreadsOverTheSequenceSpace) {
    const CookieKey key{0x1234, 0x5678};
    std::set<std::uint32_t> seen;
    for (std::uint16_t port = 1; port <= 10000; ++port) seen.insert(key(Ipv4{10, 0, 0, 1}, Ipv4{10, 0, 0, 2}, Port{port}, Port{40000}));
    EXPECT_GE(seen.size(), 9990u);  // 32-bit values: collisions among 10,000 are rare
}

}  // namespace
}  // namespace flagscan

// Unit tests for Permutation: a bijection for every size, seeded, and far from the identity.
#include "flagscan/targets/permutation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <set>
#include <vector>

namespace flagscan {
namespace {

// True when p visits every index in [0, size) exactly once.
bool is_bijection(const Permutation& p) {
    std::vector<bool> seen(p.size(), false);
    for (std::uint64_t i = 0; i < p.size(); ++i) {
        const std::uint64_t v = p(i);
        if (v >= p.size() || seen[v]) return false;
        seen[v] = true;
    }
    return true;
}

std::vector<std::uint64_t> order(const Permutation& p) {
    std::vector<std::uint64_t> out;
    for (std::uint64_t i = 0; i < p.size(); ++i) out.push_back(p(i));
    return out;
}

TEST(Permutation, EmptyAndSingleton) {
    const Permutation empty(0, 42);
    EXPECT_EQ(empty.size(), 0u);
    EXPECT_TRUE(is_bijection(empty));
    const Permutation one(1, 42);
    EXPECT_EQ(one(0), 0u);
}

TEST(Permutation, BijectionForManySizes) {
    const std::vector<std::uint64_t> sizes{1,   2,   3,    4,     5,     6,     7,     8,     9,         10,
                                           15,  16,  17,   31,    97,    100,   255,   256,   257,       1000,
                                           1023, 1024, 4095, 65535, 65536, 65537, 99991, 131072, 3 * 65535};
    for (std::uint64_t size : sizes)
        for (std::uint64_t seed : {0ULL, 1ULL, 0xdeadbeefcafef00dULL, ~0ULL})
            EXPECT_TRUE(is_bijection(Permutation(size, seed))) << "size " << size << " seed " << seed;
}

TEST(Permutation, EverySmallSize) {
    for (std::uint64_t size = 0; size < 600; ++size)
        ASSERT_TRUE(is_bijection(Permutation(size, size * 7919))) << "size " << size;
}

TEST(Permutation, SameSeedSameOrderOtherSeedOtherOrder) {
    const Permutation a(1000, 1234), b(1000, 1234), c(1000, 1235), d(1000, 1234ULL << 40);
    EXPECT_EQ(order(a), order(b));
    std::size_t differ_c = 0, differ_d = 0;
    for (std::uint64_t i = 0; i < 1000; ++i) {
        differ_c += a(i) != c(i);
        differ_d += a(i) != d(i);
    }
    EXPECT_GT(differ_c, 950u);  // a random pair of permutations agrees in about 1 place
    EXPECT_GT(differ_d, 950u);
}

TEST(Permutation, TinySizesAreShuffledBySeed) {
    std::set<std::vector<std::uint64_t>> seen2, seen3;
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        seen2.insert(order(Permutation(2, seed)));
        seen3.insert(order(Permutation(3, seed)));
    }
    EXPECT_EQ(seen2.size(), 2u);
    EXPECT_EQ(seen3.size(), 6u);
}

TEST(Permutation, FarFromIdentityAndRoughlyUniform) {
    const std::uint64_t n = 100000;
    const Permutation p(n, 99);
    std::size_t fixed = 0, neighbours = 0, low_to_low = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t v = p(i);
        fixed += v == i;
        if (i > 0) {
            const std::uint64_t prev = p(i - 1);
            neighbours += (v > prev ? v - prev : prev - v) == 1;
        }
        if (i < n / 2) low_to_low += v < n / 2;
    }
    EXPECT_LT(fixed, 20u);       // expected about 1
    EXPECT_LT(neighbours, 40u);  // expected about 2
    EXPECT_NEAR(static_cast<double>(low_to_low), n / 4.0, 1000.0);  // sd about 112
    // The first thousand positions are spread over the whole range, not clustered.
    std::vector<std::size_t> buckets(10, 0);
    for (std::uint64_t i = 0; i < 1000; ++i) ++buckets[p(i) * 10 / n];
    for (std::size_t count : buckets) EXPECT_NEAR(static_cast<double>(count), 100.0, 45.0);
}

TEST(Permutation, HugeSizesStayInRangeAndInjectiveOnASample) {
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    for (std::uint64_t size : {std::uint64_t{1} << 48, (std::uint64_t{1} << 48) - 12345, max - 5, max}) {
        const Permutation p(size, 5);
        std::set<std::uint64_t> values;
        for (std::uint64_t i = 0; i < 20000; ++i) {
            const std::uint64_t v = p(size - 1 - i);
            ASSERT_LT(v, size);
            values.insert(v);
            values.insert(p(i));
        }
        EXPECT_EQ(values.size(), 40000u) << size;
    }
}

TEST(Permutation, OutOfRangePositionDoesNotHang) {
    const Permutation p(10, 3);
    EXPECT_EQ(p(10), 10u);
    EXPECT_EQ(p(std::numeric_limits<std::uint64_t>::max()), std::numeric_limits<std::uint64_t>::max());
}

// --shard I/N: for every size and shard count, the N walks visit disjoint indices whose union is
// [0, size) (each index exactly once over all shards), and each walk's size() is its share.
TEST(ShardWalk, ShardsPartitionThePermutation) {
    for (std::uint64_t size : {0u, 1u, 2u, 3u, 5u, 7u, 16u, 17u, 100u, 257u, 1000u}) {
        for (std::uint64_t count : {1u, 2u, 3u, 4u, 7u, 16u, 300u}) {
            std::vector<int> visits(size, 0);
            std::uint64_t total = 0;
            for (std::uint64_t index = 0; index < count; ++index) {
                const ShardWalk walk(size, 99, Shard{index, count});
                EXPECT_EQ(walk.size(), size > index ? (size - index + count - 1) / count : 0) << size << " " << index << "/" << count;
                for (std::uint64_t step = 0; step < walk.size(); ++step) {
                    const std::uint64_t visited = walk(step);
                    ASSERT_LT(visited, size);
                    ++visits[visited];
                }
                total += walk.size();
            }
            EXPECT_EQ(total, size);
            EXPECT_TRUE(std::all_of(visits.begin(), visits.end(), [](int n) { return n == 1; })) << size << " / " << count;
        }
    }
}

// The shards are a split of the one permutation: shard I's k-th step is position I + k*N of it,
// so the same seed gives the same union whatever N is, and one shard of one is the whole walk.
TEST(ShardWalk, StepsArePositionsOfTheSeededPermutation) {
    const Permutation whole(1000, 7);
    const ShardWalk one(1000, 7);
    for (std::uint64_t i = 0; i < 1000; ++i) EXPECT_EQ(one(i), whole(i));
    const ShardWalk third(1000, 7, Shard{2, 4});
    for (std::uint64_t k = 0; k < third.size(); ++k) EXPECT_EQ(third(k), whole(2 + 4 * k));
    EXPECT_EQ(ShardWalk(1000, 7, Shard{0, 0}).size(), 0u);  // no shards: nothing (never built so)
}

}  // namespace
}  // namespace flagscan

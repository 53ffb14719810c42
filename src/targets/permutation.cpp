// Permutation: a seeded Feistel network over [0, a*b), cycle-walked down to [0, size).
#include "flagscan/targets/permutation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace flagscan {

namespace {

constexpr std::uint64_t max_half = std::uint64_t{1} << 32;

// splitmix64's output function (Stafford's mix13): every input bit affects every output bit.
constexpr std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The next value of a splitmix64 stream: turns one 64-bit seed into independent round keys.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
    state += 0x9e3779b97f4a7c15ULL;
    return mix64(state);
}

// floor(sqrt(n)), exact for all 64-bit n (the double estimate can be off by one).
std::uint64_t isqrt(std::uint64_t n) {
    auto r = std::min<std::uint64_t>(static_cast<std::uint64_t>(std::sqrt(static_cast<double>(n))), max_half - 1);
    while (r * r > n) --r;
    while (r < max_half - 1 && (r + 1) * (r + 1) <= n) ++r;
    return r;
}

}  // namespace

// Why a x b with a = floor(sqrt(size)): a*b - size < a, so under 1/sqrt(size) of the domain
// lies outside [0, size) and cycle walking rarely takes a second step. Both halves get at least
// two values so even tiny sizes are shuffled by the seed rather than fixed.
Permutation::Permutation(std::uint64_t size, std::uint64_t seed) : size_(size) {
    std::uint64_t state = seed;
    for (std::uint64_t& key : keys_) key = splitmix64(state);
    if (size_ < 2) return;  // a_ = b_ = 1: the only permutation
    a_ = std::max<std::uint64_t>(2, isqrt(size_));
    b_ = std::max<std::uint64_t>(2, size_ / a_ + (size_ % a_ != 0 ? 1 : 0));
    if (b_ > std::numeric_limits<std::uint64_t>::max() / a_) a_ = b_ = max_half;  // domain: all of uint64
}

std::uint64_t Permutation::round(int r, std::uint64_t value) const {
    return mix64(value ^ keys_[static_cast<unsigned>(r)]);
}

// Why: value = a*R + L is split into L in [0,a) and R in [0,b). Each round maps (L, R) to
// (R, (L + F(R)) mod m), with m alternating a, b so that the new right half always fits the
// modulus it is reduced by; each round is invertible (L = (R' - F(L')) mod m), so the whole is a
// bijection on [0, a*b). After an even number of rounds L is back in [0,a) and R in [0,b).
std::uint64_t Permutation::encrypt(std::uint64_t value) const {
    std::uint64_t left = value % a_;
    std::uint64_t right = value / a_;
    for (int r = 0; r < 4; ++r) {
        const std::uint64_t modulus = r % 2 == 0 ? a_ : b_;
        std::uint64_t next = left + round(r, right) % modulus;  // < 2 * modulus: one subtraction reduces it
        if (next >= modulus) next -= modulus;
        left = right;
        right = next;
    }
    return a_ * right + left;
}

// Cycle walking: the Feistel output may land in [size, a*b); following the permutation's cycle
// from there must come back into [0, size) (the start is in it), and distinct inputs stay distinct.
std::uint64_t Permutation::operator()(std::uint64_t i) const {
    if (i >= size_ || size_ < 2) return i;
    std::uint64_t value = encrypt(i);
    while (value >= size_) value = encrypt(value);
    return value;
}

ShardWalk::ShardWalk(std::uint64_t size, std::uint64_t seed, Shard shard)
    : order_(size, seed),
      shard_(shard),
      steps_(shard.count == 0 || shard.index >= size ? 0 : (size - shard.index + shard.count - 1) / shard.count) {}

}  // namespace flagscan

// Permutation: a seeded bijection over [0, size) used to walk host x port indices in random order.
#pragma once

#include <cstdint>

namespace flagscan {

// Why: a scan must visit every (host, port) exactly once, in an order that spreads load across
// hosts and ports and hides the scan's pattern, without storing a shuffled array of up to 2^48
// entries. A Feistel network over a domain a x b >= size (a, b about sqrt(size)) is a bijection
// on [0, a*b); "cycle walking" (re-encrypting values that fall outside [0, size)) restricts it
// to a bijection on [0, size). Each lookup is O(1) expected and needs no memory.
class Permutation {
public:
    Permutation(std::uint64_t size, std::uint64_t seed);

    std::uint64_t size() const { return size_; }
    // The index visited at position i (i < size()).
    std::uint64_t operator()(std::uint64_t i) const;

private:
    std::uint64_t round(int r, std::uint64_t value) const;
    std::uint64_t encrypt(std::uint64_t value) const;

    std::uint64_t size_;
    std::uint64_t a_ = 1;
    std::uint64_t b_ = 1;
    std::uint64_t keys_[4] = {};
};

// Which part of one scan this process runs (--shard I/N): shard `index` of `count` takes the
// positions index, index + count, index + 2*count, ... of the scan's permutation. With the same
// seed on every shard they are disjoint and together the whole walk, whatever N is.
struct Shard {
    std::uint64_t index = 0;
    std::uint64_t count = 1;
    friend bool operator==(const Shard&, const Shard&) = default;
};

// The walk one shard makes over the seeded permutation of [0, size): its k-th step visits
// permutation(shard.index + k * shard.count). Positions here are the shard's own (0, 1, 2, ...).
class ShardWalk {
public:
    ShardWalk(std::uint64_t size, std::uint64_t seed, Shard shard = {});

    std::uint64_t size() const { return steps_; }  // how many indices this shard visits
    std::uint64_t operator()(std::uint64_t step) const { return order_(shard_.index + step * shard_.count); }
    const Permutation& permutation() const { return order_; }
    Shard shard() const { return shard_; }

private:
    Permutation order_;
    Shard shard_;
    std::uint64_t steps_;
};

}  // namespace flagscan

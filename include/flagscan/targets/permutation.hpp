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

}  // namespace flagscan

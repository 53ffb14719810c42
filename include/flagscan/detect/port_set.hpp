// PortSet: a set of ports that is small while it holds few (a sorted list), a bitmap once many.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace flagscan {

// An alert holds two (ports touched, ports found open); a sensor under a flood of scanning sources
// holds tens of thousands of alerts, most with a few ports: 16 KiB of bitmaps each would be a GiB.
class PortSet {
public:
    void set(std::uint16_t port);
    bool test(std::uint16_t port) const;
    std::size_t count() const { return count_; }
    bool empty() const { return count_ == 0; }
    // The ports, ascending.
    std::vector<std::uint16_t> sorted() const;
    bool operator==(const PortSet& other) const { return sorted() == other.sorted(); }

private:
    static constexpr std::size_t kListMost = 512;  // 1 KiB as a list; past it, the 8 KiB bitmap
    std::vector<std::uint16_t> list_;              // sorted, while words_ is empty
    std::vector<std::uint64_t> words_;             // the bitmap, 1024 words, once in use
    std::size_t count_ = 0;
};

}  // namespace flagscan

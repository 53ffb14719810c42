// PortSet: a sorted list of ports until it grows past kListMost, then a bitmap.
#include "flagscan/detect/port_set.hpp"

#include <algorithm>

namespace flagscan {

void PortSet::set(std::uint16_t port) {
    if (!words_.empty()) {
        std::uint64_t& word = words_[port / 64];
        const std::uint64_t bit = std::uint64_t{1} << (port % 64);
        count_ += (word & bit) ? 0 : 1;
        word |= bit;
        return;
    }
    auto it = std::lower_bound(list_.begin(), list_.end(), port);
    if (it != list_.end() && *it == port) return;
    list_.insert(it, port);
    ++count_;
    if (list_.size() <= kListMost) return;
    words_.assign(65536 / 64, 0);
    for (const std::uint16_t p : list_) words_[p / 64] |= std::uint64_t{1} << (p % 64);
    list_ = {};
}

bool PortSet::test(std::uint16_t port) const {
    if (!words_.empty()) return (words_[port / 64] >> (port % 64)) & 1;
    return std::binary_search(list_.begin(), list_.end(), port);
}

std::vector<std::uint16_t> PortSet::sorted() const {
    if (words_.empty()) return list_;
    std::vector<std::uint16_t> ports;
    ports.reserve(count_);
    for (std::size_t w = 0; w < words_.size(); ++w)
        for (std::uint64_t bits = words_[w]; bits != 0; bits &= bits - 1)
            ports.push_back(static_cast<std::uint16_t>(w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits))));
    return ports;
}

}  // namespace flagscan

// Frame helpers.
#include "flagscan/wire/frame.hpp"

#include <algorithm>

namespace flagscan {

void Frame::assign(std::span<const std::uint8_t> data, Micros when) {
    ts = when;
    length = static_cast<std::uint16_t>(std::min(data.size(), kCapacity));
    std::copy_n(data.begin(), length, bytes.begin());
}

}  // namespace flagscan

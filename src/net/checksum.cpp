// RFC 1071 Internet checksum.
#include "flagscan/net/checksum.hpp"

namespace flagscan {

std::uint32_t checksum_add(std::span<const std::uint8_t> bytes, std::uint32_t sum) {
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) sum += static_cast<std::uint32_t>((bytes[i] << 8) | bytes[i + 1]);
    if (i < bytes.size()) sum += static_cast<std::uint32_t>(bytes[i] << 8);  // odd length: pad with zero
    return sum;
}

std::uint16_t checksum_finish(std::uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

std::uint16_t transport_checksum(Ipv4 src, Ipv4 dst, std::uint8_t protocol, std::span<const std::uint8_t> segment) {
    std::uint32_t sum = (src.value() >> 16) + (src.value() & 0xffff) + (dst.value() >> 16) + (dst.value() & 0xffff);
    sum += protocol;
    sum += static_cast<std::uint32_t>(segment.size());
    return checksum_finish(checksum_add(segment, sum));
}

}  // namespace flagscan

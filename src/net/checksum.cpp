// RFC 1071 Internet checksum, with the RFC 793 (IPv4) and RFC 8200 8.1 (IPv6) pseudo-headers.
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

std::uint16_t transport_checksum(const Ipv6& src, const Ipv6& dst, std::uint8_t next_header,
                                 std::span<const std::uint8_t> segment) {
    const auto src_bytes = src.bytes();
    const auto dst_bytes = dst.bytes();
    std::uint32_t sum = checksum_add(dst_bytes, checksum_add(src_bytes));
    const auto length = static_cast<std::uint32_t>(segment.size());
    sum += (length >> 16) + (length & 0xffff) + next_header;
    return checksum_finish(checksum_add(segment, sum));
}

}  // namespace flagscan

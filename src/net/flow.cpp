// Flow: the 4-tuple of a TCP or UDP packet, hashed for the conversation tables.
#include "flagscan/net/flow.hpp"

#include <functional>

namespace flagscan {

std::size_t FlowHash::operator()(const Flow& flow) const noexcept {
    const std::uint64_t ends = (std::uint64_t{flow.src} << 32) | flow.dst;
    const std::uint64_t ports = (std::uint64_t{flow.sport} << 16) | flow.dport;
    return std::hash<std::uint64_t>{}(ends ^ (ports * 0x9e3779b97f4a7c15ull));
}

std::optional<Flow> flow_of(const DecodedPacket& packet) {
    const std::uint32_t src = packet.ip.src.value(), dst = packet.ip.dst.value();
    if (packet.tcp) return Flow{src, dst, packet.tcp->sport.value(), packet.tcp->dport.value()};
    if (packet.udp) return Flow{src, dst, packet.udp->sport.value(), packet.udp->dport.value()};
    return std::nullopt;
}

std::uint32_t tcp_data_length(const DecodedPacket& packet) {
    if (!packet.tcp) return 0;
    const std::uint32_t headers = std::uint32_t{packet.ip.header_length} + packet.tcp->header_length;
    return packet.ip.total_length > headers ? packet.ip.total_length - headers : 0;
}

}  // namespace flagscan

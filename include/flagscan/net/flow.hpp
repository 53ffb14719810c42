// Flow: one direction of a TCP or UDP conversation, the key of every per-conversation table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "flagscan/net/decode.hpp"

namespace flagscan {

// One direction of a TCP or UDP conversation: from (src, sport) to (dst, dport).
struct Flow {
    std::uint32_t src = 0, dst = 0;
    std::uint16_t sport = 0, dport = 0;
    Flow reversed() const { return {dst, src, dport, sport}; }
    bool operator==(const Flow&) const = default;
};
struct FlowHash {
    std::size_t operator()(const Flow& flow) const noexcept;
};
// The packet's flow; nullopt for anything but TCP and UDP with their headers.
std::optional<Flow> flow_of(const DecodedPacket& packet);

// Bytes of data a TCP segment says it carries: the IP total length less both headers (RFC 791
// 3.1 total length, RFC 793 3.1 data offset); 0 for no TCP header or lengths that do not add up.
std::uint32_t tcp_data_length(const DecodedPacket& packet);

}  // namespace flagscan

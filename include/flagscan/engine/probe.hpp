// Probe: one packet the engine asks the sender to put on the wire.
#pragma once

#include <cstdint>

#include "flagscan/net/ipv4.hpp"

namespace flagscan {

struct Probe {
    std::uint64_t index = 0;  // position in the TargetSet
    std::uint8_t lane = 0;    // which of the scan's probe kinds (TargetSet slot lane)
    Ipv4 src;
    Ipv4 dst;
    Port sport;  // ICMP queries: their identifier
    Port dport;  // 0 for ICMP queries
    std::uint32_t seq = 0;  // the cookie (ICMP queries carry its low 16 bits as their sequence)
    std::uint32_t ack = 0;  // the cookie too, for kinds that set ACK (their RST echoes it as seq)
    std::uint16_t ip_id = 0;  // UDP probes: 16 bits of the cookie (an ICMP error quotes it)
    std::uint8_t try_no = 0;  // 0 for the first send
    std::uint16_t data_length = 0;  // TCP data bytes after the header (a replayed capture's; ours carry none)
};

// The IP identification of a scan's first probe, drawn from its seed; each probe sent after it
// takes the next one (RFC 6864: only unique per flow while fragments may be in flight).
constexpr std::uint16_t first_ip_id(std::uint64_t seed) { return static_cast<std::uint16_t>(seed * 0x9e3779b97f4a7c15ULL >> 48); }

}  // namespace flagscan

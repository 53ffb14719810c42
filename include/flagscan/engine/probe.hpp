// Probe: one packet the engine asks the sender to put on the wire.
#pragma once

#include <cstdint>

#include "flagscan/net/ipv4.hpp"

namespace flagscan {

struct Probe {
    std::uint64_t index = 0;  // position in the TargetSet
    Ipv4 src;
    Ipv4 dst;
    Port sport;
    Port dport;
    std::uint32_t seq = 0;  // the cookie
    std::uint32_t ack = 0;  // the cookie too, for kinds that set ACK (their RST echoes it as seq)
    std::uint16_t ip_id = 0;
    std::uint8_t try_no = 0;  // 0 for the first send
};

}  // namespace flagscan

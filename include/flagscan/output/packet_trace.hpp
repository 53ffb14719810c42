// --packet-trace: one line per packet sent or received, flags spelled out.
#pragma once

#include <string>

#include "flagscan/engine/engine.hpp"
#include "flagscan/net/decode.hpp"

namespace flagscan {

// "SENT  10.0.0.1:61232 > 10.0.0.2:22 FIN seq=3735928559 ttl=64"
std::string trace_sent(const DecodedPacket& probe);

// "RCVD  10.0.0.2:22 > 10.0.0.1:61232 RST,ACK ack=3735928560 ttl=64 win=0 (0.05 ms)"
// "RCVD  10.0.0.2 > 10.0.0.1 ICMP 3/13 admin-prohibited about 10.0.0.1:61232 > 10.0.0.2:113 ttl=64"
// Packets that are not an answer say what they were instead: "[stray]", "[duplicate]", ...
std::string trace_received(const DecodedPacket& reply, const PacketOutcome& outcome);

// A connect scan's step (-sT), as nmap prints it: error is connect()'s errno, or the socket's
// error when the connection ended (0: it was established).
// "CONN (0.0245s) TCP localhost > 10.0.0.2:135 => Operation now in progress"
// "CONN (0.0250s) TCP localhost > 10.0.0.2:23 => Connection refused"
std::string trace_connect(Ipv4 target, Port port, int error, Micros since_start);

}  // namespace flagscan

// --packet-trace: one line per packet sent or received, flags spelled out.
#pragma once

#include <string>

#include "flagscan/engine/engine.hpp"
#include "flagscan/net/address_book.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/decode6.hpp"

namespace flagscan {

// "SENT  10.0.0.1:61232 > 10.0.0.2:22 FIN seq=3735928559 ttl=64". `book`: an IPv6 scan's, through
// which a translated packet's keys are written as their addresses (null: an IPv4 scan).
std::string trace_sent(const DecodedPacket& probe, const AddressBook* book = nullptr);

// "RCVD  10.0.0.2:22 > 10.0.0.1:61232 RST,ACK ack=3735928560 ttl=64 win=0 (0.05 ms)"
// "RCVD  10.0.0.2 > 10.0.0.1 ICMP 3/13 admin-prohibited about 10.0.0.1:61232 > 10.0.0.2:113 ttl=64"
// Packets that are not an answer say what they were instead: "[stray]", "[duplicate]", ...
std::string trace_received(const DecodedPacket& reply, const PacketOutcome& outcome, const AddressBook* book = nullptr);

// An IPv6 packet as the wire carried it (a probe, or the frame a reply was translated from), its
// ICMPv6 by RFC 4443's types and codes and its hop limit as hlim:
// "SENT  [fd77:1::1]:61232 > [fd77:1::2]:22 SYN seq=1000 hlim=64"
// "RCVD  fd77:1::2 > fd77:1::1 ICMPv6 1/4 port-unreach about [fd77:1::1]:61232 > [fd77:1::2]:53 hlim=64 (0.05 ms)"
std::string trace_sent6(const DecodedPacket6& probe);
std::string trace_received6(const DecodedPacket6& reply, const PacketOutcome& outcome);

// A connect scan's step (-sT), as nmap prints it: error is connect()'s errno, or the socket's
// error when the connection ended (0: it was established).
// "CONN (0.0245s) TCP localhost > 10.0.0.2:135 => Operation now in progress"
// "CONN (0.0250s) TCP localhost > 10.0.0.2:23 => Connection refused"
std::string trace_connect(Ipv4 target, Port port, int error, Micros since_start, const AddressBook* book = nullptr);

}  // namespace flagscan

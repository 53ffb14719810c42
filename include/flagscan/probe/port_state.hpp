// PortState and Reason: the verdicts a scan gives and the evidence word nmap prints beside each.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace flagscan {

enum class PortState : std::uint8_t {
    unscanned,  // no verdict yet (only while the scan runs)
    open,
    closed,
    filtered,
    unfiltered,
    open_filtered,
    closed_filtered,
};
inline constexpr int kPortStateCount = 7;

std::string_view to_string(PortState state);  // nmap's words: "open|filtered", ...

enum class Reason : std::uint8_t {
    none,
    syn_ack,
    syn,  // a bare SYN back: simultaneous open / split handshake
    reset,
    no_response,
    net_unreach,
    host_unreach,
    proto_unreach,
    port_unreach,
    net_prohibited,
    host_prohibited,
    admin_prohibited,
    icmp_unreach,  // other ICMP unreachable codes
    udp_response,
    user_set,      // host assumed up (-Pn)
    conn_refused,  // connect() failed with ECONNREFUSED: the kernel saw a RST
    echo_reply,       // host discovery: ICMP echo reply
    timestamp_reply,  // host discovery: ICMP timestamp reply
    arp_response,     // host discovery: ARP reply
    localhost_response,  // host discovery: the target is our own address
    ftp_transfer,        // FTP bounce: 125/150 then 226 to LIST, the server's data connection was made
    ftp_cant_connect,    // FTP bounce: 425, the server could not open the data connection
};

std::string_view to_string(Reason reason);  // nmap's words: "syn-ack", "admin-prohibited", ...

// The reason for an ICMP destination unreachable code (RFC 792, RFC 1812 section 5.2.7.1).
Reason reason_for_icmp_unreachable(std::uint8_t code);

}  // namespace flagscan

// The words nmap prints for port states and reasons.
#include "flagscan/probe/port_state.hpp"

namespace flagscan {

std::string_view to_string(PortState state) {
    switch (state) {
        case PortState::unscanned: return "unscanned";
        case PortState::open: return "open";
        case PortState::closed: return "closed";
        case PortState::filtered: return "filtered";
        case PortState::unfiltered: return "unfiltered";
        case PortState::open_filtered: return "open|filtered";
        case PortState::closed_filtered: return "closed|filtered";
    }
    return "unknown";
}

std::string_view to_string(Reason reason) {
    switch (reason) {
        case Reason::none: return "none";
        case Reason::syn_ack: return "syn-ack";
        case Reason::syn: return "split-handshake-syn";
        case Reason::reset: return "reset";
        case Reason::no_response: return "no-response";
        case Reason::net_unreach: return "net-unreach";
        case Reason::host_unreach: return "host-unreach";
        case Reason::proto_unreach: return "proto-unreach";
        case Reason::port_unreach: return "port-unreach";
        case Reason::net_prohibited: return "net-prohibited";
        case Reason::host_prohibited: return "host-prohibited";
        case Reason::admin_prohibited: return "admin-prohibited";
        case Reason::icmp_unreach: return "icmp-unreach";
        case Reason::udp_response: return "udp-response";
        case Reason::user_set: return "user-set";
        case Reason::conn_refused: return "conn-refused";
        case Reason::echo_reply: return "echo-reply";
        case Reason::timestamp_reply: return "timestamp-reply";
        case Reason::arp_response: return "arp-response";
        case Reason::localhost_response: return "localhost-response";
        case Reason::ftp_transfer: return "ftp-transfer";
        case Reason::ftp_cant_connect: return "ftp-cant-connect";
    }
    return "unknown";
}

Reason reason_for_icmp_unreachable(std::uint8_t code) {
    switch (code) {
        case 0: return Reason::net_unreach;
        case 1: return Reason::host_unreach;
        case 2: return Reason::proto_unreach;
        case 3: return Reason::port_unreach;
        case 9: return Reason::net_prohibited;
        case 10: return Reason::host_prohibited;
        case 13: return Reason::admin_prohibited;
        default: return Reason::icmp_unreach;
    }
}

}  // namespace flagscan

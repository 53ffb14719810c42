// What a decoded packet is to a scan detector: a probe of some kind, a target's reply, or neither.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "flagscan/net/decode.hpp"

namespace flagscan {

// The scan kinds `flagscan detect` names; the TCP ones come from the probe kinds' flags
// (probe/probe_kind.hpp), so the scanner and the detector share one definition.
enum class ScanKind : std::uint8_t {
    syn, connect, fin, null, xmas, ack_window, maimon, odd_flags, udp, icmp_echo, icmp_timestamp, arp, fragments,
};
inline constexpr std::size_t kScanKinds = 13;

// "syn", "ack/window", "icmp-echo": the JSON and table spelling.
std::string_view scan_kind_name(ScanKind kind);

// The kind a TCP probe's flags say, from the ProbeKind table (ECE and CWR masked off: Linux
// clients set them on SYNs to negotiate ECN, RFC 3168 6.1.1). -sA and -sW send the very same
// ACK, so both read "ack/window". Flag sets without ACK that no kind sends (SYN+FIN, URG alone)
// are odd-flags; nullopt for sets with ACK other than the table's (PSH+ACK...): those are
// session traffic, not probes.
std::optional<ScanKind> kind_of_tcp_flags(std::uint8_t flags);

// A packet as the detector reads it.
struct Observed {
    enum class Role : std::uint8_t {
        probe,          // from `from` to `to`:`port`, of `kind`
        positive,       // `to` answered `from`'s probe to `port` (SYN+ACK, UDP data, echo reply, ARP reply)
        negative,       // `to` refused it (RST, ICMP unreachable)
        ack,            // a TCP ACK (maybe completing a handshake, maybe session traffic, maybe an ACK probe)
        other,          // nothing a scan detector reads
    };
    Role role = Role::other;
    ScanKind kind = ScanKind::syn;  // probe: its kind; positive/negative: the protocol's first kind
    std::uint8_t protocol = 0;      // ipproto of the probe side
    Ipv4 from;                      // the prober (for replies: the address the reply goes to)
    Ipv4 to;                        // the target
    Port port;                      // the target's port (0 for ICMP and ARP)
    bool payload = false;           // TCP with data: a session, not a probe
};

// Reads one decoded packet; FRAGMENTED marks a datagram that came in IP fragments (its probe is
// then of kind `fragments`, whatever its flags: nmap -f).
Observed observe(const DecodedPacket& packet, bool fragmented);

}  // namespace flagscan

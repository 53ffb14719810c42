// OsProbes: nmap's second-generation OS detection probes (SEQ/OPS/WIN, IE, U1, ECN, T2-T7) as data.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "flagscan/engine/clock.hpp"
#include "flagscan/net/bytes.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/tcp_flags.hpp"

namespace flagscan {

// Which probe, in nmap's order of sending (osscan2.cc): the six SEQ SYNs (their replies are also
// OPS O1-O6, WIN W1-W6, and SEQ1's is T1), then the two ICMP echoes, the closed-port UDP probe,
// the ECN SYN and T2-T7. T1 has no probe of its own: nmap resends SEQ1's packet as T1 only when
// every SEQ probe went unanswered.
enum class OsProbeId : std::uint8_t { seq1, seq2, seq3, seq4, seq5, seq6, ie1, ie2, u1, ecn, t2, t3, t4, t5, t6, t7 };
inline constexpr std::size_t kOsProbeCount = 16;

// The port a probe goes to: one the port scan found open (TCP), closed (TCP), closed (UDP), or
// none (ICMP echo).
enum class OsTarget : std::uint8_t { open_tcp, closed_tcp, closed_udp, icmp };

// How a TCP probe's sequence and acknowledgment numbers are made from the round's two random
// numbers (nmap's tcpSeqBase and tcpAck, new each round): seq = seq_base + seq_offset; ack =
// ack_base when carries_ack, else 0 (only ECN sends 0). The tests compare replies with these (S, A).
struct OsTcpFields {
    TcpFlags flags;
    std::uint16_t window = 0;
    std::uint16_t urgent = 0;
    std::uint8_t reserved = 0;  // the 4 reserved bits of byte 12 (ECN sets 0x8)
    std::uint8_t seq_offset = 0;
    bool carries_ack = true;
    std::span<const std::uint8_t> options;  // exact bytes, in order (4-byte aligned)
};

struct OsIcmpFields {
    std::uint8_t code = 0;       // IE1 sends code 9 in an echo request, IE2 code 0
    std::uint16_t id_offset = 0; // id = the round's random echo id + id_offset
    std::uint16_t seq = 0;       // 295, 296
    std::uint16_t data_length = 0;  // zero bytes after the 8-byte header: 120, 150
};

struct OsUdpFields {
    std::uint8_t fill = 'C';
    std::uint16_t data_length = 300;
};

struct OsProbe {
    OsProbeId id = OsProbeId::seq1;
    std::string_view name;  // "SEQ1".."SEQ6", "IE1", "IE2", "U1", "ECN", "T2".."T7"
    std::uint8_t protocol = 0;  // ipproto::tcp / icmp / udp
    OsTarget target = OsTarget::open_tcp;
    // nmap's source port is its round's random base port plus this (SEQ i: i-1, ECN 12, T2-T7
    // 14-19; its OPS/WIN resends take 6-11 and T1's resend 13); U1 uses a second random base + 0.
    std::uint8_t source_port_offset = 0;
    // When to send, from the start of the probe's phase: the SEQ phase (100 ms apart, for the
    // ISN rate and the timestamp rate), then the other probes' phase, which nmap paces with its
    // congestion control (the capture shows them 25 ms apart; nothing depends on it).
    Micros send_offset = 0;
    // IP fields. The IP id is random per packet unless fixed (U1: 0x1042, which RID checks); the
    // TTL is the sender's (nmap: random per round for U1, whose quoted TTL gives the hop count).
    std::uint8_t tos = 0;
    bool dont_fragment = false;
    std::optional<std::uint16_t> ip_id;
    OsTcpFields tcp;    // when protocol is TCP
    OsIcmpFields icmp;  // when ICMP (type 8, echo request)
    OsUdpFields udp;    // when UDP
};

// nmap's resends of the SEQ packets (osscan2.cc buildTUIProbeList), from the try's base source
// port plus these: SEQ i's packet again (sequence number the try's base) for O_i and W_i when SEQ
// i went unanswered; SEQ1's for T1 when all six did.
inline constexpr std::uint8_t kOsOpsResendPortOffset = 6;  // + i (0-5)
inline constexpr std::uint8_t kOsT1ResendPortOffset = 13;
inline constexpr std::size_t kOsSeqProbes = 6;

// Every probe, in sending order (index = OsProbeId).
std::span<const OsProbe> os_probes();
const OsProbe& os_probe(OsProbeId id);

// Which of nmap's probes a captured packet is, by its signature (protocol, flags, window,
// options bytes, ICMP code/TOS/seq/length, UDP payload and IP id); nullopt for any other packet.
// `packet` is the IPv4 packet the decode came from (for the options and payload bytes).
// SEQ1's signature is also T1's resend.
std::optional<OsProbeId> identify_os_probe(const DecodedPacket& decoded, ByteView packet);

}  // namespace flagscan

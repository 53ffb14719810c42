// ProbeKind: one scan type as data: what the probe looks like and the rules that read its replies.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "flagscan/net/tcp_flags.hpp"
#include "flagscan/probe/port_state.hpp"

namespace flagscan {

// What came back for a probe, reduced to what the rules look at.
struct ReplyEvidence {
    // icmp_reply: the answer to an ICMP query (echo reply to echo, timestamp reply to timestamp).
    // arp_reply: the target answered our ARP request for its address.
    enum class Kind : std::uint8_t { none, tcp, udp, icmp_unreachable, icmp_reply, arp_reply };
    Kind kind = Kind::none;
    TcpFlags flags;            // tcp
    std::uint16_t window = 0;  // tcp
    std::uint8_t icmp_code = 0;
    std::uint8_t ttl = 0;
    bool from_elsewhere = false;  // icmp_unreachable: sent by another address than the probe's target (a router)
};

// One row of a rule table: a reply pattern, the state it means, and why.
struct Rule {
    ReplyEvidence::Kind kind;
    std::uint8_t flags_mask = 0;   // tcp: (flags & mask) == value
    std::uint8_t flags_value = 0;
    enum class Window : std::uint8_t { any, zero, nonzero } window = Window::any;
    std::uint16_t icmp_codes = 0;  // icmp: bit i set = matches code i (codes 0-15)
    PortState state = PortState::unscanned;
    Reason reason = Reason::none;  // Reason::none with icmp rows: derived from the code
    std::string_view reply_text;   // "SYN+ACK", "RST", "ICMP 3/13", "nothing"
    std::string_view basis;        // the RFC rule or observed stack behaviour behind the row
    // icmp: who must have sent the error; `target`: the probe's destination itself, `elsewhere`:
    // any other address (a router or firewall on the path).
    enum class Sender : std::uint8_t { any, target, elsewhere } sender = Sender::any;
};

// What a kind's verdicts speak of. A port scan's rows give port states; a host discovery
// kind's rows speak of the host: `open` means the host answered (it is up), `filtered` that it
// gave no sign of life (down, or hidden behind a filter).
enum class Purpose : std::uint8_t { port_scan, host_discovery };

struct ProbeKind {
    std::string_view name;       // "SYN"
    std::string_view nmap_flag;  // "-sS"
    std::string_view long_flag;  // "--syn"
    std::uint8_t protocol;       // ipproto::tcp / ipproto::udp / ipproto::icmp
    TcpFlags flags;              // the probe's TCP flags
    std::span<const Rule> rules;
    std::string_view caveat;     // what this scan cannot tell, in plain words (for --explain)
    Purpose purpose = Purpose::port_scan;
    std::uint8_t icmp_type = 0;  // ICMP kinds: the query sent (8 echo, 13 timestamp)
};

// A probe kind with the caller's flags (--scanflags) that reads replies like `base`.
ProbeKind custom_flags_kind(TcpFlags flags, const ProbeKind& base);

// The kinds flagscan knows, looked up by their nmap letter ('S' for -sS).
const ProbeKind* probe_kind_by_letter(char letter);
// TCP and UDP probes go to a port; ICMP queries and ARP requests do not.
inline bool uses_ports(const ProbeKind& kind) { return kind.protocol == 6 || kind.protocol == 17; }

const ProbeKind& syn_kind();
const ProbeKind& udp_kind();  // -sU
// The connect scan (-sT): the kernel's own handshake through connect(); its replies come from
// the socket's outcome, not from captured packets, so it is not among the raw kinds.
const ProbeKind& connect_kind();
bool is_connect_scan(const ProbeKind& kind);
// The FTP bounce scan (-b): an FTP server connects to each port for us (service/ftp_bounce.hpp).
const ProbeKind& ftp_bounce_kind();
bool is_bounce_scan(const ProbeKind& kind);
std::span<const ProbeKind> all_probe_kinds();  // the raw TCP port scans

// Host discovery (nmap's -PE -PP -PS -PA -PU): their rows say whether the host is up.
const ProbeKind& ping_echo_kind();
const ProbeKind& ping_timestamp_kind();
const ProbeKind& ping_syn_kind();
const ProbeKind& ping_ack_kind();
const ProbeKind& ping_udp_kind();
const ProbeKind& ping_arp_kind();  // -PR: on the directly attached Ethernet only
std::span<const ProbeKind> all_ping_kinds();
// Every kind with a rule table to print (--explain-rules): port scans, UDP, then discovery.
std::vector<const ProbeKind*> all_documented_kinds();

// The matching row for a reply (or for silence when evidence.kind == none); nullptr when no row
// matches, which means the reply says nothing about the port (e.g. a stray flag combination).
const Rule* match_rule(const ProbeKind& kind, const ReplyEvidence& evidence);

// True when an ICMP unreachable (admin-prohibited, say) gives a port another state than
// silence would: closed vs open|filtered for UDP, filtered vs open|filtered for FIN, NULL, XMAS
// and Maimon. Such kinds must not take silence for an answer while the target may be holding
// back its ICMP errors (RFC 1812 4.3.2.8 lets it rate-limit them).
bool icmp_error_decides(const ProbeKind& kind);

// The reason a matched row gives for this evidence (rows may derive it from the ICMP code).
Reason rule_reason(const Rule& rule, const ReplyEvidence& evidence);

}  // namespace flagscan

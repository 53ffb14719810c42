// The probe kinds and their rule tables: adding a scan type means adding a descriptor and rows here.
#include "flagscan/probe/probe_kind.hpp"

#include <array>

#include "flagscan/net/decode.hpp"

namespace flagscan {
namespace {

using K = ReplyEvidence::Kind;
using F = TcpFlags;

// ICMP destination unreachable codes that mean "a filter or router refused it" (RFC 1122
// 3.2.2.1, RFC 1812 5.2.7.1): net, host, protocol, port unreachable and the three prohibited.
constexpr std::uint16_t kFilterCodes = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 9) | (1u << 10) | (1u << 13);

constexpr std::string_view kIcmpBasis =
    "RFC 1122 3.2.2.1 / RFC 1812 5.2.7.1: a router or the host's firewall refused the probe and said so "
    "with ICMP destination unreachable, so a filter stands between us and the port";

constexpr Rule icmp_filtered() {
    return Rule{K::icmp_unreachable, 0, 0, Rule::Window::any, kFilterCodes, PortState::filtered, Reason::none,
                "ICMP unreachable", kIcmpBasis};
}

constexpr Rule rst_means(PortState state, std::string_view basis) {
    return Rule{K::tcp, F::rst, F::rst, Rule::Window::any, 0, state, Reason::reset, "RST", basis};
}

constexpr Rule silence_means(PortState state, std::string_view basis) {
    return Rule{K::none, 0, 0, Rule::Window::any, 0, state, Reason::no_response, "nothing", basis};
}

constexpr std::array kSynRules{
    Rule{K::tcp, F::syn | F::ack | F::rst, F::syn | F::ack, Rule::Window::any, 0, PortState::open, Reason::syn_ack,
         "SYN+ACK",
         "RFC 793 3.4 (three-way handshake): a socket in LISTEN answers a SYN with SYN,ACK. We never "
         "send the final ACK; our own kernel, which knows no such connection, answers the SYN,ACK with "
         "RST and the half-open connection is torn down (RFC 793 3.4, reset generation)"},
    Rule{K::tcp, F::syn | F::ack | F::rst, F::syn, Rule::Window::any, 0, PortState::open, Reason::syn, "SYN",
         "RFC 793 3.4 (simultaneous open): a bare SYN from the port means something there is opening "
         "a connection back; rare, but only a listening application does it"},
    rst_means(PortState::closed,
              "RFC 793 3.4 (reset generation, group 1): a segment arriving for a connection that does "
              "not exist (CLOSED) is answered with RST; nothing listens on the port"),
    icmp_filtered(),
    silence_means(PortState::filtered,
                  "no answer to any try: a listening or a closed port always answers a SYN (RFC 793), "
                  "so silence means a firewall dropped the probe or its answer"),
};

// The connect scan reads the kernel's verdict on its own SYN: connect() succeeds on SYN,ACK,
// fails with ECONNREFUSED on RST and with EHOSTUNREACH / ENETUNREACH on ICMP unreachable.
constexpr std::array kConnectRules{
    Rule{K::tcp, F::syn | F::ack | F::rst, F::syn | F::ack, Rule::Window::any, 0, PortState::open, Reason::syn_ack,
         "SYN+ACK (connect() succeeded)",
         "RFC 793 3.4: the kernel completed the three-way handshake; flagscan closes the connection at "
         "once with a RST (SO_LINGER 0), so the service sees a connection that was reset"},
    Rule{K::tcp, F::rst, F::rst, Rule::Window::any, 0, PortState::closed, Reason::conn_refused,
         "RST (connect() refused)",
         "RFC 793 3.4 (reset generation): nothing listens, the target answered the kernel's SYN with "
         "RST, and connect() failed with ECONNREFUSED"},
    Rule{K::icmp_unreachable, 0, 0, Rule::Window::any, kFilterCodes, PortState::filtered, Reason::none,
         "ICMP unreachable (connect() failed: no route)",
         "RFC 1122 4.2.3.9: an ICMP destination unreachable to a SYN aborts the connection; connect() "
         "fails with EHOSTUNREACH or ENETUNREACH, so something refused the probe on the way"},
    Rule{K::none, 0, 0, Rule::Window::any, 0, PortState::filtered, Reason::no_response, "nothing",
         "connect() did not complete within the timeout on any try: a firewall dropped the SYN or its answer"},
};

// FIN, NULL and XMAS share their rows: only the probe's flags differ.
constexpr std::array kStealthRules{
    rst_means(PortState::closed,
              "RFC 793 p.65 (SEGMENT ARRIVES, state CLOSED): an incoming segment without RST is answered "
              "with RST"),
    icmp_filtered(),
    silence_means(PortState::open_filtered,
                  "RFC 793 p.65-66 (SEGMENT ARRIVES, state LISTEN): a segment with neither SYN, ACK nor "
                  "RST is dropped without an answer, so an open port is silent; so is a filtered one, "
                  "and the two cannot be told apart. Stacks that ignore this rule (Windows, some "
                  "embedded ones) answer RST on open ports too and make every port look closed"),
};

constexpr std::array kAckRules{
    rst_means(PortState::unfiltered,
              "RFC 793 p.65-66: an ACK to a port in LISTEN or CLOSED is answered with "
              "<SEQ=SEG.ACK><CTL=RST>, open or not; the RST only shows the probe got through a filter"),
    icmp_filtered(),
    silence_means(PortState::filtered,
                  "every reachable port answers an unexpected ACK with RST (RFC 793), so silence means a "
                  "stateful firewall dropped it"),
};

constexpr std::array kWindowRules{
    Rule{K::tcp, F::rst, F::rst, Rule::Window::nonzero, 0, PortState::open, Reason::reset, "RST, window > 0",
         "observed stack behaviour, not an RFC rule: some systems (older BSDs, HP-UX, AIX) send RSTs "
         "from listening ports with a non-zero window"},
    Rule{K::tcp, F::rst, F::rst, Rule::Window::zero, 0, PortState::closed, Reason::reset, "RST, window = 0",
         "observed stack behaviour: a RST with window 0 comes from a closed port on the stacks above; "
         "most modern stacks (Linux included) always use 0, so every port looks closed"},
    icmp_filtered(),
    silence_means(PortState::filtered, "an ACK is always answered with RST (RFC 793); silence means a filter"),
};

constexpr std::array kMaimonRules{
    rst_means(PortState::closed,
              "RFC 793 p.65-66: a FIN/ACK should draw a RST from any port, open or closed"),
    icmp_filtered(),
    silence_means(PortState::open_filtered,
                  "Uriel Maimon (Phrack 49): BSD-derived stacks drop a FIN/ACK sent to a listening port "
                  "instead of answering RST, so silence may mean open; or a filter dropped it"),
};

constexpr std::uint8_t kTcp = ipproto::tcp;

constexpr std::string_view kSynCaveat =
    "A SYN scan sees what a client would see: a port that answers SYN,ACK accepts connections. It "
    "cannot tell a port dropped by a firewall from a host that is down, and a firewall that answers "
    "for the host (SYN proxies, some load balancers) makes closed ports look open.";
constexpr std::string_view kStealthCaveat =
    "A FIN, NULL or XMAS scan cannot tell open from filtered: an open port and a firewall that drops "
    "the probe both stay silent. It relies on RFC 793's rule that a listening port ignores such "
    "segments; Windows and some other stacks answer RST on open ports too, so against them such a "
    "scan says closed everywhere.";
constexpr std::string_view kAckCaveat =
    "An ACK scan maps firewall rules, not open ports: open and closed ports both answer RST, so "
    "'unfiltered' means only that the probe got through; 'filtered' means something dropped it.";
constexpr std::string_view kWindowCaveat =
    "A Window scan trusts a quirk of a few stacks (RSTs from open ports with a non-zero window). "
    "Most stacks, Linux included, always send window 0, so every port looks closed; a result with "
    "a few open ports among thousands of closed ones is the quirk at work, the reverse is suspect.";
constexpr std::string_view kMaimonCaveat =
    "A Maimon scan only finds open ports on BSD-derived stacks, which drop a FIN/ACK to a listening "
    "port; Linux and Windows answer RST everywhere, so against them every port looks closed.";

constexpr std::array kKinds{
    ProbeKind{"SYN", "-sS", "--syn", kTcp, F{F::syn}, kSynRules, kSynCaveat},
    ProbeKind{"FIN", "-sF", "--fin", kTcp, F{F::fin}, kStealthRules, kStealthCaveat},
    ProbeKind{"NULL", "-sN", "--null", kTcp, F{0}, kStealthRules, kStealthCaveat},
    ProbeKind{"XMAS", "-sX", "--xmas", kTcp, F{F::fin | F::psh | F::urg}, kStealthRules, kStealthCaveat},
    ProbeKind{"ACK", "-sA", "--ack", kTcp, F{F::ack}, kAckRules, kAckCaveat},
    ProbeKind{"Window", "-sW", "--window", kTcp, F{F::ack}, kWindowRules, kWindowCaveat},
    ProbeKind{"Maimon", "-sM", "--maimon", kTcp, F{F::fin | F::ack}, kMaimonRules, kMaimonCaveat},
};

constexpr std::string_view kConnectCaveat =
    "A connect scan completes the handshake, so the service (and its logs) sees a connection that "
    "was reset at once; it tells open from closed as a SYN scan does, needs no root, and is slower "
    "because every probe is a socket.";

constexpr ProbeKind kConnect{"Connect", "-sT", "--connect", kTcp, F{F::syn}, kConnectRules, kConnectCaveat};

// The FTP bounce scan (nmap -b) reads the FTP server's own connect() to the port, as the server
// tells it in its replies to PORT and LIST (RFC 959 4.2, 5.4): the rows speak of that connection
// in a connect scan's terms (SYN+ACK: made, RST: refused) so --explain reads them alike.
constexpr std::array kBounceRules{
    Rule{K::tcp, F::syn | F::ack | F::rst, F::syn | F::ack, Rule::Window::any, 0, PortState::open, Reason::ftp_transfer,
         "125/150 then 226 to LIST, or 125/150 alone (the server's data connection was made)",
         "RFC 959 4.1.2 and 5.4: after PORT a,b,c,d,p1,p2 the server itself connects to that address and port "
         "for LIST's data; 125/150 then 226 (or 250) means the connection was accepted and the listing went "
         "through it; servers send 125/150 once their connect() succeeded (425 when it failed), so a 125/150 "
         "whose result never comes says so too: something listens on the port"},
    Rule{K::tcp, F::rst, F::rst, Rule::Window::any, 0, PortState::closed, Reason::ftp_cant_connect,
         "425 to PORT or LIST (the server could not open the data connection)",
         "RFC 959 4.2: 425 \"Can't open data connection\": the server's connect() to the port failed, as it "
         "does when the target answers its SYN with RST (nothing listens)"},
    Rule{K::none, 0, 0, Rule::Window::any, 0, PortState::filtered, Reason::no_response,
         "no reply to PORT, or none to LIST, in time",
         "the server's connection attempt hangs: a firewall between it and the target drops the SYN (nmap "
         "reads the same silence as filtered)"},
};

constexpr std::string_view kBounceCaveat =
    "An FTP bounce scan sees the target from the FTP server's place in the network, not ours: it "
    "tells what the server may reach, hides our address from the target (not from the server, which "
    "logs the session), and is slow, one port after the other over one control connection. Most "
    "servers refuse PORT to a third address (RFC 2577), and then nothing can be told.";

constexpr ProbeKind kBounce{"FTP bounce", "-b", "--ftp-bounce", kTcp, F{F::syn}, kBounceRules, kBounceCaveat};

// UDP (RFC 768) has no handshake: only an answering service or an ICMP error says anything.
constexpr std::uint16_t kUdpFilterCodes = kFilterCodes & ~(1u << 3);

constexpr std::array kUdpRules{
    Rule{K::udp, 0, 0, Rule::Window::any, 0, PortState::open, Reason::udp_response, "UDP datagram",
         "RFC 768: a service bound to the port read the probe (its protocol payload, when flagscan "
         "knows one) and answered from that port"},
    Rule{K::icmp_unreachable, 0, 0, Rule::Window::any, 1u << 3, PortState::closed, Reason::port_unreach,
         "ICMP 3/3 port unreachable from the target",
         "RFC 1122 3.2.2.1 / RFC 792: the host's UDP layer found no socket on the port and said so with "
         "ICMP port unreachable (Linux limits these per destination, by default about one per second)",
         Rule::Sender::target},
    Rule{K::icmp_unreachable, 0, 0, Rule::Window::any, 1u << 3, PortState::filtered, Reason::port_unreach,
         "ICMP 3/3 port unreachable from another address",
         "RFC 1122 3.2.2.1: only the destination's own UDP layer knows the port has no socket; the same "
         "code from another address (a router or firewall on the path) says the probe was refused on the "
         "way, not that the port is closed (nmap's rule)",
         Rule::Sender::elsewhere},
    Rule{K::icmp_unreachable, 0, 0, Rule::Window::any, kUdpFilterCodes, PortState::filtered, Reason::none,
         "ICMP unreachable", kIcmpBasis},
    silence_means(PortState::open_filtered,
                  "RFC 768 has no acknowledgement: an open port whose service ignores the probe is silent, "
                  "and so is a port behind a filter that drops it; the two cannot be told apart"),
};

// Host discovery rows: `open` = the host is up, `filtered` = no sign of it (see Purpose).
constexpr std::string_view kHostSilent =
    "no answer to any try: the host is down, or a filter drops this probe and its answer";
constexpr std::string_view kRouterSaysNo =
    "RFC 792 / RFC 1812 5.2.7.1: a router (or the host's firewall) answered for the host that it "
    "cannot or may not be reached, so it is not counted as up";

constexpr Rule host_silent() { return silence_means(PortState::filtered, kHostSilent); }

constexpr Rule host_unreachable() {
    return Rule{K::icmp_unreachable, 0, 0, Rule::Window::any, 0xffff, PortState::filtered, Reason::none,
                "ICMP unreachable", kRouterSaysNo};
}

constexpr std::array kEchoPingRules{
    Rule{K::icmp_reply, 0, 0, Rule::Window::any, 0, PortState::open, Reason::echo_reply, "ICMP echo reply",
         "RFC 1122 3.2.2.6: every host MUST implement an ICMP echo server that answers echo requests "
         "(RFC 792 type 8) with an echo reply (type 0)"},
    host_unreachable(),
    host_silent(),
};

constexpr std::array kTimestampPingRules{
    Rule{K::icmp_reply, 0, 0, Rule::Window::any, 0, PortState::open, Reason::timestamp_reply,
         "ICMP timestamp reply",
         "RFC 792 (type 13/14) and RFC 1122 3.2.2.8: a host that implements the timestamp server "
         "answers; firewalls that block echo often forget timestamp"},
    host_unreachable(),
    host_silent(),
};

constexpr std::array kSynPingRules{
    Rule{K::tcp, F::syn | F::ack | F::rst, F::syn | F::ack, Rule::Window::any, 0, PortState::open, Reason::syn_ack,
         "SYN+ACK", "RFC 793 3.4: a listening port answers a SYN with SYN,ACK, so the host is up"},
    Rule{K::tcp, F::rst, F::rst, Rule::Window::any, 0, PortState::open, Reason::reset, "RST",
         "RFC 793 3.4 (reset generation): a closed port answers a SYN with RST; either way the host is up"},
    host_unreachable(),
    host_silent(),
};

constexpr std::array kAckPingRules{
    Rule{K::tcp, F::rst, F::rst, Rule::Window::any, 0, PortState::open, Reason::reset, "RST",
         "RFC 793 p.65-66: an ACK for no connection draws <SEQ=SEG.ACK><CTL=RST> from any port, open or "
         "closed, so the host is up; stateful firewalls drop it, which is why SYN pings go too"},
    host_unreachable(),
    host_silent(),
};

constexpr std::array kUdpPingRules{
    Rule{K::udp, 0, 0, Rule::Window::any, 0, PortState::open, Reason::udp_response, "UDP datagram",
         "RFC 768: a service answered, so the host is up"},
    Rule{K::icmp_unreachable, 0, 0, Rule::Window::any, 1u << 3, PortState::open, Reason::port_unreach,
         "ICMP 3/3 port unreachable from the target",
         "RFC 1122 3.2.2.1: only the destination host itself says port unreachable, so it is up (this is "
         "why the UDP ping goes to an unlikely port)",
         Rule::Sender::target},
    host_unreachable(),
    host_silent(),
};

constexpr std::array kArpPingRules{
    Rule{K::arp_reply, 0, 0, Rule::Window::any, 0, PortState::open, Reason::arp_response, "ARP reply",
         "RFC 826: a host answers an ARP request for its own protocol address with its hardware address; "
         "the kernel does it below any IP firewall, so a host that drops every ping still answers"},
    host_silent(),
};

constexpr std::string_view kArpCaveat =
    "ARP reaches only the directly attached network, and tells nothing of ports: a reply shows that "
    "a machine holds the address (or that something answers for it: proxy ARP). It carries no cookie, "
    "so a reply is trusted on its addresses alone.";

constexpr std::string_view kUdpCaveat =
    "A UDP scan hears back only from services that answer the probe's payload and from hosts that "
    "send ICMP port unreachable for closed ports. Silence is 'open|filtered'. Most systems limit ICMP "
    "errors (Linux: about one per second per destination), so closed ports answer slowly; flagscan "
    "slows down to that rate instead of calling them open|filtered.";
constexpr std::string_view kPingCaveat =
    "Host discovery sees hosts that answer at least one probe; a host behind a firewall that drops "
    "every probe looks down. -Pn scans every target without asking.";

constexpr ProbeKind kUdp{"UDP", "-sU", "--udp", ipproto::udp, F{0}, kUdpRules, kUdpCaveat};

constexpr std::uint8_t kIcmp = ipproto::icmp;
constexpr auto kHost = Purpose::host_discovery;
constexpr std::array kPingKinds{
    ProbeKind{"ICMP echo", "-PE", "--ping-echo", kIcmp, F{0}, kEchoPingRules, kPingCaveat, kHost, icmp_type::echo},
    ProbeKind{"TCP SYN ping", "-PS", "--ping-syn", kTcp, F{F::syn}, kSynPingRules, kPingCaveat, kHost},
    ProbeKind{"TCP ACK ping", "-PA", "--ping-ack", kTcp, F{F::ack}, kAckPingRules, kPingCaveat, kHost},
    ProbeKind{"ICMP timestamp", "-PP", "--ping-timestamp", kIcmp, F{0}, kTimestampPingRules, kPingCaveat, kHost,
              icmp_type::timestamp},
    ProbeKind{"UDP ping", "-PU", "--ping-udp", ipproto::udp, F{0}, kUdpPingRules, kPingCaveat, kHost},
    ProbeKind{"ARP", "-PR", "--ping-arp", ipproto::arp, F{0}, kArpPingRules, kArpCaveat, kHost},
};

bool window_matches(Rule::Window rule, std::uint16_t window) {
    switch (rule) {
        case Rule::Window::any: return true;
        case Rule::Window::zero: return window == 0;
        case Rule::Window::nonzero: return window != 0;
    }
    return false;
}

bool sender_matches(Rule::Sender rule, bool from_elsewhere) {
    switch (rule) {
        case Rule::Sender::any: return true;
        case Rule::Sender::target: return !from_elsewhere;
        case Rule::Sender::elsewhere: return from_elsewhere;
    }
    return false;
}

bool row_matches(const Rule& row, const ReplyEvidence& evidence) {
    if (row.kind != evidence.kind) return false;
    switch (row.kind) {
        case K::tcp:
            return (evidence.flags.bits() & row.flags_mask) == row.flags_value && window_matches(row.window, evidence.window);
        case K::icmp_unreachable:
            return evidence.icmp_code < 16 && (row.icmp_codes & (1u << evidence.icmp_code)) != 0 &&
                   sender_matches(row.sender, evidence.from_elsewhere);
        case K::udp:
        case K::icmp_reply:
        case K::arp_reply:
        case K::none:
            return true;
    }
    return false;
}

}  // namespace

std::span<const ProbeKind> all_probe_kinds() { return kKinds; }

const ProbeKind& syn_kind() { return kKinds[0]; }

const ProbeKind& connect_kind() { return kConnect; }

const ProbeKind& udp_kind() { return kUdp; }

const ProbeKind& ftp_bounce_kind() { return kBounce; }

const ProbeKind& ping_echo_kind() { return kPingKinds[0]; }
const ProbeKind& ping_syn_kind() { return kPingKinds[1]; }
const ProbeKind& ping_ack_kind() { return kPingKinds[2]; }
const ProbeKind& ping_timestamp_kind() { return kPingKinds[3]; }
const ProbeKind& ping_udp_kind() { return kPingKinds[4]; }
const ProbeKind& ping_arp_kind() { return kPingKinds[5]; }
std::span<const ProbeKind> all_ping_kinds() { return kPingKinds; }

std::vector<const ProbeKind*> all_documented_kinds() {
    std::vector<const ProbeKind*> kinds;
    for (const auto& kind : kKinds) kinds.push_back(&kind);
    kinds.push_back(&kConnect);
    kinds.push_back(&kBounce);
    kinds.push_back(&kUdp);
    for (const auto& kind : kPingKinds) kinds.push_back(&kind);
    return kinds;
}

bool is_connect_scan(const ProbeKind& kind) { return kind.rules.data() == kConnectRules.data(); }
bool is_bounce_scan(const ProbeKind& kind) { return kind.rules.data() == kBounceRules.data(); }

ProbeKind custom_flags_kind(TcpFlags flags, const ProbeKind& base) {
    ProbeKind kind = base;
    kind.name = "custom flags";
    kind.nmap_flag = "--scanflags";
    kind.long_flag = "--scanflags";
    kind.flags = flags;
    return kind;
}

const ProbeKind* probe_kind_by_letter(char letter) {
    for (const auto& kind : kKinds) {
        if (kind.nmap_flag.size() == 3 && kind.nmap_flag[2] == letter) return &kind;
    }
    return nullptr;
}

bool icmp_error_decides(const ProbeKind& kind) {
    const Rule* rejected = match_rule(kind, ReplyEvidence{ReplyEvidence::Kind::icmp_unreachable, {}, 0, 13, 0});
    const Rule* silent = match_rule(kind, ReplyEvidence{});
    return rejected != nullptr && silent != nullptr && rejected->state != silent->state;
}

const Rule* match_rule(const ProbeKind& kind, const ReplyEvidence& evidence) {
    for (const auto& row : kind.rules) {
        if (row_matches(row, evidence)) return &row;
    }
    return nullptr;
}

Reason rule_reason(const Rule& rule, const ReplyEvidence& evidence) {
    if (rule.reason != Reason::none) return rule.reason;
    return reason_for_icmp_unreachable(evidence.icmp_code);
}

}  // namespace flagscan

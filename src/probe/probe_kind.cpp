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

bool window_matches(Rule::Window rule, std::uint16_t window) {
    switch (rule) {
        case Rule::Window::any: return true;
        case Rule::Window::zero: return window == 0;
        case Rule::Window::nonzero: return window != 0;
    }
    return false;
}

bool row_matches(const Rule& row, const ReplyEvidence& evidence) {
    if (row.kind != evidence.kind) return false;
    switch (row.kind) {
        case K::tcp:
            return (evidence.flags.bits() & row.flags_mask) == row.flags_value && window_matches(row.window, evidence.window);
        case K::icmp_unreachable:
            return evidence.icmp_code < 16 && (row.icmp_codes & (1u << evidence.icmp_code)) != 0;
        case K::udp:
        case K::none:
            return true;
    }
    return false;
}

}  // namespace

std::span<const ProbeKind> all_probe_kinds() { return kKinds; }

const ProbeKind& syn_kind() { return kKinds[0]; }

const ProbeKind& connect_kind() { return kConnect; }

bool is_connect_scan(const ProbeKind& kind) { return kind.rules.data() == kConnectRules.data(); }

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

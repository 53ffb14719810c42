// The passive OS hint: a SYN-ACK's facts and the family its signature table names (p0f's idea).
#include "flagscan/os/os_hint.hpp"

#include <algorithm>
#include <array>

#include "flagscan/os/os_tests.hpp"

namespace flagscan {
namespace {

// --- the signature table (data; each row cites its source) ---
// Layouts use nmap's option letters in order: M MSS, N NOP, W window scale, S SACK permitted,
// T timestamps, L end of list (p0f's mss, nop, ws, sok, ts, eol+n).

constexpr std::array<std::uint16_t, 1> kWindow65535{65535};
constexpr std::array<std::uint16_t, 1> kWindow16384{16384};
constexpr std::array<std::uint16_t, 3> kWindowsOfWindows{8192, 16384, 65535};

// p0f.fp [tcp:response] s:unix:FreeBSD:8.x, 9.x, 8.x-9.x and s:unix:Mac OS X:10.x: window
// 65535, TTL 64, DF. "M" alone is derived, not p0f's: a SYN-ACK carries SACK permitted, window
// scale and timestamps only when the SYN offered them (RFC 2018 2, RFC 7323 1.3), and a port
// scanner's SYN (flagscan's, nmap's) offers an MSS alone; p0f's rows answer richer SYNs.
constexpr std::array<std::string_view, 10> kBsdLayouts{
    "M", "M,N,W", "M,N,W,S,T", "M,N,W,S,L", "M,N,W,N,N,T", "M,S,T", "M,S,L", "M,N,N,T", "M,N,N,T,S,L", "M,N,W,N,N,T,S,L"};
// p0f.fp [tcp:response] s:unix:OpenBSD:5.x: window 16384, TTL 64, DF.
constexpr std::array<std::string_view, 7> kOpenBsdLayouts{"M,N,N,S", "M,N,W",     "M,N,N,S,N,W", "M,N,N,T",
                                                          "M,N,N,S,N,N,T", "M,N,W,N,N,T", "M,N,N,S,N,W,N,N,T"};
// p0f.fp [tcp:response] s:unix:Linux:3.x, 2.4-2.6, 2.4.x, 2.6.x: TTL 64, DF (MSS first, window
// scale last, the eight combinations of SACK, timestamps and window scale).
constexpr std::array<std::string_view, 8> kLinuxLayouts{"M",         "M,S,T",       "M,N,N,T",     "M,N,N,S",
                                                        "M,N,W",     "M,S,T,N,W",   "M,N,N,T,N,W", "M,N,N,S,N,W"};
// p0f.fp [tcp:response] s:win:Windows:XP (windows 65535, 16384) and s:win:Windows:7 or 8
// (window 8192): TTL 128, DF.
constexpr std::array<std::string_view, 10> kWindowsLayouts{
    "M",       "M,N,W",       "M,N,N,S",       "M,N,N,T",       "M,N,W,N,N,S",
    "M,N,W,N,N,T", "M,N,N,T,N,N,S", "M,N,W,N,N,T,N,N,S", "M,S,T", "M,N,W,S,T"};

constexpr std::array<HintSignature, 5> kSignatures{{
    {"FreeBSD or macOS", 64, kWindow65535, kBsdLayouts, true,
     "p0f.fp [tcp:response] FreeBSD 8.x/9.x, Mac OS X 10.x"},
    {"OpenBSD", 64, kWindow16384, kOpenBsdLayouts, true, "p0f.fp [tcp:response] OpenBSD 5.x"},
    // The window is left free: p0f's mss*4 / mss*10 predate the 64 KiB initial window of later
    // kernels (64240 without timestamps, 65160 with them: measured on the lab's Linux 6.x).
    {"Linux 2.6+", 64, {}, kLinuxLayouts, true, "p0f.fp [tcp:response] Linux 2.4-2.6, 3.x (option orders)"},
    {"Windows", 128, kWindowsOfWindows, kWindowsLayouts, true, "p0f.fp [tcp:response] Windows XP, 7 or 8"},
    // nmap-os-db: 529 fingerprints answer T1 with TG=FF, most of them switches and routers
    // (Cisco IOS's); p0f.fp [tcp:response] s:unix:Solaris:6 has TTL 255 too.
    {"network device or Solaris", 255, {}, {}, false, "nmap-os-db T1 TG=FF; p0f.fp Solaris 6"},
}};

// nmap's option string ("M5B4ST11NW7") read back token by token: a letter, then hex digits
// (none of L N M W S T is a hex digit, so the letters split it unambiguously).
struct OptionToken {
    char letter;
    std::uint32_t value;
};

std::uint32_t hex_value(std::string_view digits) {
    std::uint32_t value = 0;
    for (char c : digits) value = value * 16 + static_cast<std::uint32_t>(c <= '9' ? c - '0' : c - 'A' + 10);
    return value;
}

template <typename Visit>
void each_token(std::string_view nmap_options, Visit visit) {
    std::size_t i = 0;
    while (i < nmap_options.size()) {
        const char letter = nmap_options[i++];
        const std::size_t start = i;
        while (i < nmap_options.size() && std::string_view{"LNMWST"}.find(nmap_options[i]) == std::string_view::npos) ++i;
        visit(OptionToken{letter, hex_value(nmap_options.substr(start, i - start))});
    }
}

void add_option(SynAckFacts& facts, const OptionToken& token) {
    // An end of list is followed by zero padding, which nmap spells L too: one L says it.
    if (token.letter == 'L' && !facts.layout.empty() && facts.layout.back() == 'L') return;
    const char* comma = facts.layout.empty() ? "" : ",";
    facts.layout += comma;
    facts.layout += token.letter;
    facts.options += comma;
    facts.options += token.letter;
    switch (token.letter) {
        case 'M': facts.mss = static_cast<std::uint16_t>(token.value); break;
        case 'W':
            facts.wscale = static_cast<std::uint8_t>(token.value);
            facts.options += std::to_string(token.value);
            break;
        case 'S': facts.sack = true; break;
        case 'T': facts.timestamps = true; break;
        default: break;
    }
}

template <typename T>
bool among(std::span<const T> allowed, const T& value) {
    return allowed.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

}  // namespace

std::span<const HintSignature> hint_signatures() { return kSignatures; }

SynAckFacts syn_ack_facts(std::uint8_t ttl, bool df, std::uint16_t window, ByteView options) {
    SynAckFacts facts;
    facts.ttl = ttl;
    facts.initial_ttl = initial_ttl_guess(ttl);
    facts.hops = static_cast<std::uint8_t>(facts.initial_ttl - ttl);
    facts.window = window;
    facts.df = df;
    const std::string nmap_options = tcp_option_string(options);
    facts.malformed = nmap_options.empty() && options.size() > 0;
    each_token(nmap_options, [&](const OptionToken& token) { add_option(facts, token); });
    return facts;
}

const HintSignature* match_hint(const SynAckFacts& facts) {
    if (facts.malformed) return nullptr;
    for (const HintSignature& row : kSignatures) {
        if (row.initial_ttl != facts.initial_ttl || (row.df && !facts.df)) continue;
        if (among(row.windows, facts.window) && among(row.layouts, std::string_view{facts.layout})) return &row;
    }
    return nullptr;
}

OsHint os_hint(std::uint8_t ttl, bool df, std::uint16_t window, ByteView options) {
    OsHint hint;
    hint.facts = syn_ack_facts(ttl, df, window, options);
    if (const HintSignature* row = match_hint(hint.facts)) hint.family = row->family;
    return hint;
}

std::string os_hint_text(const OsHint& hint) {
    const SynAckFacts& f = hint.facts;
    std::string text{hint.family};
    text += " (TTL " + std::to_string(f.initial_ttl);
    if (!f.df) text += ", no DF";
    text += ", window " + std::to_string(f.window);
    if (f.mss) text += ", MSS " + std::to_string(*f.mss);
    text += f.malformed ? ", options malformed" : f.options.empty() ? ", no options" : ", options " + f.options;
    text += "; distance " + std::to_string(f.hops + 1) + ")";  // nmap's Network Distance: a neighbour is 1
    return text;
}

}  // namespace flagscan

// OsHint: a passive OS guess from one SYN-ACK (p0f's idea): TTL, window, MSS, window scale, option order.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "flagscan/net/bytes.hpp"

namespace flagscan {

// What one SYN-ACK shows of the stack that sent it.
struct SynAckFacts {
    std::uint8_t ttl = 0;          // as received
    std::uint8_t initial_ttl = 0;  // rounded up to 32, 64, 128 or 255 (initial_ttl_guess)
    std::uint8_t hops = 0;         // initial_ttl - ttl: routers on the way
    std::uint16_t window = 0;      // unscaled, as carried (RFC 7323 2.2: never scaled in a SYN)
    std::optional<std::uint16_t> mss;    // RFC 793 3.1
    std::optional<std::uint8_t> wscale;  // RFC 7323 2.2
    bool sack = false;        // SACK permitted (RFC 2018)
    bool timestamps = false;  // RFC 7323 3.2
    bool df = false;          // IP don't fragment (RFC 791 3.1)
    bool malformed = false;   // an option's length is broken: no order to read
    std::string options;      // the order, p0f-style with nmap's letters: "M,S,T,N,W7" (L: end of list)
    std::string layout;       // the same without values ("M,S,T,N,W"): what signatures compare
};

// One row of the signature table: a family and what its SYN-ACKs look like.
struct HintSignature {
    std::string_view family;
    std::uint8_t initial_ttl;
    std::span<const std::uint16_t> windows;      // empty: any window
    std::span<const std::string_view> layouts;   // empty: any option order
    bool df;                                     // DF must be set
    std::string_view source;                     // where the row's facts come from
};

// The table, most specific rows first (the first that matches names the family).
std::span<const HintSignature> hint_signatures();

struct OsHint {
    SynAckFacts facts;
    std::string_view family = "unknown";  // "unknown" when no row matches
};

// The facts of a SYN-ACK from its IP TTL, DF bit, TCP window and options bytes.
SynAckFacts syn_ack_facts(std::uint8_t ttl, bool df, std::uint16_t window, ByteView options);
// The first row that FACTS match, or nullptr.
const HintSignature* match_hint(const SynAckFacts& facts);
OsHint os_hint(std::uint8_t ttl, bool df, std::uint16_t window, ByteView options);

// "Linux 2.6+ (TTL 64, window 64240, MSS 1460, options M,S,T,N,W7; distance 1)": the normal
// output's "OS hint:" line and JSON's "os_hint".
std::string os_hint_text(const OsHint& hint);

}  // namespace flagscan

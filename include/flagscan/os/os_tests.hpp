// OsTests: nmap's fingerprint test values (SEQ OPS WIN ECN T1-T7 U1 IE SCAN) from the probes sent and their replies.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/os/fingerprint.hpp"
#include "flagscan/os/os_probes.hpp"

namespace flagscan {

// One probe as it went out: what the tests compare its reply with.
struct OsSent {
    Micros at = 0;              // send time (SEQ's rates are per second of send time, as nmap's)
    std::uint32_t seq = 0;      // TCP: our sequence number (A: Z / S / S+ / O)
    std::uint32_t ack = 0;      // TCP: our acknowledgment number (S: Z / A / A+ / O)
    std::uint8_t ttl = 0;       // U1: our TTL (hop count = ttl - quoted TTL + 1)
    std::uint16_t ip_id = 0;    // U1: RID's expected value (0x1042)
    std::uint16_t udp_checksum = 0;  // U1: RUCK's expected value
    bool retransmitted = false;      // IE: a resent echo's reply does not count for II (nmap)
};

// One reply as captured: its decode and the IPv4 packet's bytes (from the IP header on).
struct OsReply {
    Micros at = 0;
    DecodedPacket decoded;
    std::vector<std::uint8_t> packet;
};

// One probe of a round and the first reply to it.
struct OsExchange {
    std::optional<OsSent> sent;
    std::optional<OsReply> reply;
};

// One try of nmap's OS scan: every probe (indexed by OsProbeId) and what the port scan knew.
struct OsRound {
    std::array<OsExchange, kOsProbeCount> probes{};
    // Replies to nmap's OPS/WIN resends of SEQ probes left unanswered (source ports +6..+11):
    // they count for O1-O6 and W1-W6 only, never for SEQ.
    std::array<std::optional<OsReply>, 6> ops_resend_replies{};
    // The reply to nmap's T1 resend (SEQ1's packet from source port +13), sent when all six SEQ
    // probes went unanswered: T1 reads it when SEQ1 has no reply.
    std::optional<OsReply> t1_resend_reply;
    // The first reply's Ethernet source, its first three bytes (SCAN's M when on the link).
    std::optional<std::array<std::uint8_t, 3>> reply_mac_prefix;
    bool open_tcp_known = false;    // an open TCP port was probed (SEQ/OPS/WIN/ECN/T1-T4)
    bool closed_tcp_known = false;  // a closed TCP port was probed (T5-T7)

    OsExchange& operator[](OsProbeId id) { return probes[static_cast<std::size_t>(id)]; }
    const OsExchange& operator[](OsProbeId id) const { return probes[static_cast<std::size_t>(id)]; }
};

// --- building blocks, each nmap's rule (osscan2.cc, nmap.org/book/osdetect-methods.html) ---

// nmap's O value of a TCP options block: L (end of list, per byte), N, M<mss hex>, W<shift hex>,
// S (SACK permitted), T<0|1><0|1> (TSval, TSecr nonzero); other kinds are skipped by their
// length; "" when an option is malformed (a length below 2 or past the end, or a known option
// shorter than its size).
std::string tcp_option_string(ByteView options);

// nmap's IP ID sequence classes.
enum class IpIdClass : std::uint8_t { unknown, zero, constant, incremental, incremental_by_2, broken_incremental,
                                      random_positive, random };
// Classifies 16-bit IP ids in the order received (nmap's get_ipid_sequence_16, not from localhost):
// all zero Z; a difference above 20000 (3 or more samples, differences in 32 bits, so a step
// back counts) RD; all differences 0 constant; one above 1000 and not a multiple of 256 below
// 25600 RI; all multiples of 256 up to 5120 BI; all even "I by 2"; all at most 9 I; else unknown.
IpIdClass classify_ip_ids(std::span<const std::uint16_t> ids);
// TI/CI/II's value: Z, RD, RI, BI, I (also for "by 2"), the id in hex when constant; nullopt
// (omitted) when unknown.
std::optional<std::string> ip_id_value(IpIdClass c, std::uint16_t first);
// "All zeros", "Incremental", "Randomized", ...: nmap's "IP ID Sequence Generation: ..." text.
const char* ip_id_text(IpIdClass c);

// TG: the initial TTL guessed from a received one, rounded up to 32, 64, 128 or 255.
std::uint8_t initial_ttl_guess(std::uint8_t ttl);
// "Trivial joke" ... "Good luck!": nmap's words for a SEQ difficulty index (SP).
const char* sequence_difficulty_text(unsigned index);
// Standard CRC-32 (IEEE 802.3, as zlib's and nmap's nbase_crc32): RD of RST data.
std::uint32_t crc32(std::span<const std::uint8_t> bytes);
// Upper-case hex without 0x, nmap's encoding of every number.
std::string hex(std::uint64_t value);

// What the SEQ probes showed, beside the SEQ test itself.
struct SeqAnalysis {
    int responses = 0;                    // SEQ replies counted (SYN-ACKs with a nonzero ISN)
    std::vector<std::uint32_t> isns;      // theirs, in probe order
    std::optional<unsigned> index;        // SP (difficulty), with GCD and ISR: 4 replies or more
    std::optional<std::uint32_t> gcd;
    std::optional<unsigned> isr;
    IpIdClass tcp_ip_ids = IpIdClass::unknown;  // TI (nmap's "IP ID Sequence Generation")
    IpIdClass closed_ip_ids = IpIdClass::unknown;
    IpIdClass icmp_ip_ids = IpIdClass::unknown;
    // The ids classified: SEQ replies (probe order), T5-T7's, IE1-IE2's (not resent probes').
    std::vector<std::uint16_t> tcp_ids, closed_ids, icmp_ids;
    std::optional<std::string> ts;        // TS: 0, U, or log2 of the rate (1, 7, 8 for 2, 100, 200 Hz)
    double timestamp_hz = 0;
    std::vector<std::uint32_t> timestamps;  // the SEQ replies' TSvals with a rate (<tcptssequence values>)
    // Seconds up before the first SEQ probe (0 when over 2 years, or when the timestamps did not
    // move); set whenever nmap prints "Uptime guess" (last boot = that probe's send time - uptime).
    std::optional<std::int64_t> uptime;
};
SeqAnalysis analyse_seq(const OsRound& round);
// "Difficulty=261 (Good luck!)", nullopt with fewer than 4 replies (nmap prints nothing).
std::optional<std::string> sequence_prediction_text(const SeqAnalysis& seq);

// --- the tests (each nullopt where nmap writes no test; T holds the received TTL until
// resolve_ttls below turns it into T or TG) ---

FingerprintTest seq_test(const OsRound& round);
std::optional<FingerprintTest> ops_test(const OsRound& round);  // O1-O6: all six replies or none
std::optional<FingerprintTest> win_test(const OsRound& round);  // W1-W6: likewise
std::optional<FingerprintTest> ecn_test(const OsRound& round);
std::optional<FingerprintTest> t_test(const OsRound& round, int n);  // n = 1..7; T1 is SEQ1's reply
std::optional<FingerprintTest> u1_test(const OsRound& round);
std::optional<FingerprintTest> ie_test(const OsRound& round);

// The hop count from U1's reply: our TTL minus the TTL the quoted probe arrived with, plus 1.
std::optional<int> u1_distance(const OsRound& round);
// nmap's end of a try: tests that should have answered and did not get R=N (ECN and T1-T4 when
// an open TCP port was probed, T5-T7 when a closed one was, U1 and IE always); each received TTL
// becomes T = ttl + distance - 1 when U1 gave the distance, else TG = initial_ttl_guess(ttl)
// and no T.
Fingerprint round_fingerprint(const OsRound& round);

// The SCAN line's facts (nmap's WriteSInfo).
struct OsScanFacts {
    std::string version;                 // V
    int month = 0, day = 0;              // D=M/D (local time)
    std::optional<std::uint16_t> open_tcp, closed_tcp, closed_udp;  // OT CT CU (empty when unknown)
    bool private_address = false;        // PV: the target is in a reserved range
    std::optional<int> distance;         // DS
    char distance_method = 0;            // DC: L localhost, D direct (same link), I (U1's ICMP), T traceroute; 0 none
    bool good = false;                   // G: fit for submission
    std::optional<std::array<std::uint8_t, 3>> mac_prefix;  // M, when on the same link
    std::int64_t time = 0;               // TM: Unix time, hex
    std::string platform;                // P, e.g. x86_64-pc-linux-gnu
};
FingerprintTest scan_test(const OsScanFacts& facts);

// nmap's fingerprint of several tries: SCAN first, then per test name (SEQ OPS WIN ECN T1-T7 U1
// IE) each distinct test once, in the order of its values (nmap's mergeFPs).
Fingerprint merge_fingerprints(const FingerprintTest& scan, std::span<const Fingerprint> tries);

// nmap's timing check of a try: the SEQ probes' spread over the 500 ms they should take.
double seq_timing_ratio(const OsRound& round);

}  // namespace flagscan

// Which tool sent a scan's probes, told from header habits each tool's source fixes.
#pragma once

#include <cstdint>
#include <string>

#include "flagscan/net/decode.hpp"

namespace flagscan {

// Counts of the header habits seen in one scan's probes (only the counts: flat memory).
struct ToolEvidence {
    std::uint64_t tcp = 0, syn = 0;
    std::uint64_t window_1024 = 0;     // nmap, masscan, flagscan raw probes (nmap tcpip.cc, masscan templ-pkt.c)
    std::uint64_t window_512 = 0;      // hping3: its default window (the man page says 64; the lab captures show 512)
    std::uint64_t window_65535 = 0;    // zmap's SYN
    std::uint64_t syn_mss_only = 0;    // SYN with 4 option bytes: MSS alone (nmap TCP_SYN_PROBE_OPTIONS, masscan, flagscan)
    std::uint64_t syn_os_options = 0;  // SYN with >= 12 option bytes: an OS stack's connect() (SACK, timestamps, WS)
    std::uint64_t ip_id_54321 = 0;     // zmap's fixed IP identification
    std::uint64_t ip_id_masscan = 0;   // masscan: id = (dst ^ dport ^ seq) & 0xffff
    std::uint64_t ip_id_next = 0;      // id = previous probe's id + 1 (flagscan's counter, engine.cpp)
    std::uint64_t ttl_nmap = 0;        // TTL 37-59 at the sensor: nmap picks 37 + rand % 23 (tcpip.cc)
    std::uint64_t ttl_255 = 0;         // masscan and zmap send TTL 255
    std::uint64_t udp = 0;
    std::uint64_t udp_ttl64_no_df = 0; // flagscan's UDP template: TTL 64, DF clear (OS stacks set DF)
    std::uint64_t udp_same_sport = 0;  // from the previous UDP probe's source port (one port per try)
    std::uint64_t udp_marked = 0;      // a payload with flagscan's built-in marks ("FS", "FSCN", "FLAGSCAN", "flagscan")
    std::uint64_t probes = 0;
    std::uint16_t last_id = 0;
    bool have_last_id = false;
    std::uint16_t last_udp_sport = 0;

    void add(const DecodedPacket& probe);

private:
    void add_udp(const DecodedPacket& probe);
};

// True when a UDP payload's first bytes carry the identifiers flagscan's built-in payloads set
// (probe/builtin_udp_payloads.cpp): "FLAGSCAN", "flagscan", "FSCN" anywhere, or a leading "FS" ID.
bool has_flagscan_marks(const UdpHeader& udp);

struct ToolGuess {
    std::string tool;      // nmap, masscan, zmap, hping3, flagscan, unknown
    std::string evidence;  // the counts that decided it
};

// The tool whose habits most of the probes show; CONNECT: the handshakes were the OS stack's.
ToolGuess guess_tool(const ToolEvidence& e, bool connect);

}  // namespace flagscan

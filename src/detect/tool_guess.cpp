// Tool guesses from header habits: facts read in each tool's source (never its code).
#include "flagscan/detect/tool_guess.hpp"

#include <algorithm>
#include <string>
#include <string_view>

namespace flagscan {
namespace {

bool most(std::uint64_t part, std::uint64_t whole) { return whole > 0 && part * 10 >= whole * 8; }

std::string count(std::uint64_t part, std::uint64_t whole, const char* what) {
    return std::to_string(part) + "/" + std::to_string(whole) + " " + what;
}

bool contains(const UdpHeader& u, std::string_view mark) {
    const auto* begin = u.head.data();
    const auto* end = begin + u.head_length;
    return std::search(begin, end, mark.begin(), mark.end(), [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); }) != end;
}

}  // namespace

// The built-in payloads' identifiers spell "FS", "FSCN" or "FLAGSCAN" where the protocol lets the
// sender choose them (DNS, NetBIOS and memcached IDs, RPC xid, SNMP request id, NTP transmit
// time, IKE cookie), and TFTP's file and SIP's names say flagscan. With nmap-payloads installed,
// flagscan sends nmap's payloads instead: then only the header habits tell (guess_tool).
bool has_flagscan_marks(const UdpHeader& u) {
    const bool leading_fs = u.head_length >= 2 && u.head[0] == 'F' && u.head[1] == 'S';
    return leading_fs || contains(u, "FSCN") || contains(u, "FLAGSCAN") || contains(u, "flagscan");
}

// flagscan's UDP probes (probe_builder.cpp's template, correlator.cpp's cookie): TTL 64 and no DF
// (libnet's header, fragment field 0), the IP id a keyed hash (random to anyone without the key),
// and every first try of a scan from one source port, retries from the next ones.
void ToolEvidence::add_udp(const DecodedPacket& p) {
    ++udp;
    if (p.ip.ttl == 64 && !p.ip.dont_fragment) ++udp_ttl64_no_df;
    if (udp > 1 && p.udp->sport.value() == last_udp_sport) ++udp_same_sport;
    last_udp_sport = p.udp->sport.value();
    if (has_flagscan_marks(*p.udp)) ++udp_marked;
}

void ToolEvidence::add(const DecodedPacket& p) {
    ++probes;
    // IP id habits: zmap writes 54321 (src/probe_modules/packet.c), masscan a hash of the target
    // and the cookie (templ-pkt.c: ip_them ^ port_them ^ seqno), flagscan a counter (+1 per probe).
    if (p.ip.id == 54321) ++ip_id_54321;
    if (have_last_id && p.ip.id == static_cast<std::uint16_t>(last_id + 1)) ++ip_id_next;
    last_id = p.ip.id;
    have_last_id = true;
    if (p.ip.ttl >= 37 && p.ip.ttl <= 59) ++ttl_nmap;
    if (p.ip.ttl == 255) ++ttl_255;
    if (p.udp) add_udp(p);
    if (!p.tcp) return;
    ++tcp;
    const TcpHeader& t = *p.tcp;
    if (t.window == 1024) ++window_1024;
    if (t.window == 512 && t.header_length == 20) ++window_512;
    if (t.window == 65535) ++window_65535;
    const auto masscan_id = static_cast<std::uint16_t>(p.ip.dst.value() ^ t.dport.value() ^ t.seq);
    if (t.flags.has(TcpFlags::syn) && masscan_id == p.ip.id) ++ip_id_masscan;
    if (!t.flags.has(TcpFlags::syn)) return;
    ++syn;
    if (t.header_length == 24) ++syn_mss_only;
    if (t.header_length >= 32) ++syn_os_options;
}

// Order matters: the most specific habit first. masscan and nmap share window 1024 and the lone
// MSS option; the IP id tells them apart (masscan's hash, flagscan's counter, nmap's random).
ToolGuess guess_tool(const ToolEvidence& e, bool connect) {
    const auto n = e.probes;
    if (most(e.ip_id_54321, n))
        return {"zmap", count(e.ip_id_54321, n, "probes with IP id 54321") + ", " + count(e.window_65535, e.tcp, "window 65535")};
    if (e.syn > 0 && most(e.ip_id_masscan, e.syn))
        return {"masscan", count(e.ip_id_masscan, e.syn, "SYNs with IP id = dst^dport^seq") + ", " + count(e.ttl_255, n, "TTL 255")};
    if (connect || (e.syn > 0 && most(e.syn_os_options, e.syn)))
        return {"unknown", "OS stack handshakes (connect()): " + count(e.syn_os_options, e.syn, "SYNs with full OS options") +
                               "; nmap -sT or any client"};
    if (e.tcp > 0 && most(e.window_512, e.tcp))
        return {"hping3", count(e.window_512, e.tcp, "probes with window 512 and no TCP options")};
    if (n > 1 && most(e.ip_id_next + 1, n) && (e.tcp == 0 || most(e.window_1024, e.tcp)))
        return {"flagscan", count(e.ip_id_next, n - 1, "consecutive IP ids (+1)") + ", " + count(e.window_1024, e.tcp, "window 1024")};
    if (e.tcp > 0 && most(e.window_1024, e.tcp) && (e.syn == 0 || most(e.syn_mss_only, e.syn)))
        return {"nmap", count(e.window_1024, e.tcp, "probes with window 1024") + ", " +
                            count(e.syn_mss_only, e.syn, "SYNs with MSS alone") + ", " + count(e.ttl_nmap, n, "TTL 37-59") +
                            ", IP ids random"};
    if (e.tcp == 0 && n > 0 && most(e.ttl_nmap, n)) return {"nmap", count(e.ttl_nmap, n, "probes with TTL 37-59")};
    if (e.tcp == 0 && e.udp > 0 && most(e.udp_ttl64_no_df, e.udp) && (e.udp_marked > 0 || most(e.udp_same_sport + 1, e.udp)))
        return {"flagscan", count(e.udp_ttl64_no_df, e.udp, "UDP probes with TTL 64 and DF clear") + ", " +
                                count(e.udp_same_sport, e.udp - 1, "from the previous probe's source port") + ", " +
                                count(e.udp_marked, e.udp, "with flagscan's payload marks (FS, FSCN, FLAGSCAN)") +
                                ", IP ids random (keyed cookie)"};
    return {"unknown", "no tool habit in most probes (" + std::to_string(n) + " probes)"};
}

}  // namespace flagscan

// Tool guesses from header habits: facts read in each tool's source (never its code).
#include "flagscan/detect/tool_guess.hpp"

#include <string>

namespace flagscan {
namespace {

bool most(std::uint64_t part, std::uint64_t whole) { return whole > 0 && part * 10 >= whole * 8; }

std::string count(std::uint64_t part, std::uint64_t whole, const char* what) {
    return std::to_string(part) + "/" + std::to_string(whole) + " " + what;
}

}  // namespace

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
    return {"unknown", "no tool habit in most probes (" + std::to_string(n) + " probes)"};
}

}  // namespace flagscan

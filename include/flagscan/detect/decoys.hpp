// Decoys (nmap -D): which of several sources probing in lockstep is the real scanner, from what each did besides probing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flagscan/net/decode.hpp"

namespace flagscan {

// What a source did besides its probes, and which machine sent its frames (flat: counts and two
// addresses). Why these: nmap builds one copy of each probe per decoy and sends every copy through
// its own Ethernet handle (scan_engine_raw.cc, sendIPScanProbe: same IP id, source port,
// sequence number; only the source address differs), so a spoofed source never hears the
// target's replies and a real one does: its kernel answers the SYN+ACKs it never asked for with
// RST (RFC 793 3.4), it answers ARP for its address (RFC 826), it holds sessions.
struct Presence {
    std::uint32_t synacks = 0;      // SYN+ACKs the target sent to it
    std::uint32_t resets = 0;       // its RSTs into sessions the other side had accepted (SYN+ACKed)
    std::uint32_t arp_asked = 0;    // ARP requests for its address
    std::uint32_t arp_sent = 0;     // ARP replies or requests naming it as sender: it holds the address on this link
    std::uint32_t data = 0;         // TCP segments with data it sent: a real session (-sV, a client)
    std::optional<MacAddress> probe_mac;  // link sender of its probes, when every one had the same
    bool probe_mac_mixed = false;
    std::optional<MacAddress> own_mac;    // link sender of its own frames (RSTs, ARP, data)
    bool own_mac_mixed = false;

    void saw_probe(const std::optional<MacAddress>& mac);
    void saw_own(const std::optional<MacAddress>& mac);
    bool answered() const { return resets > 0 || arp_sent > 0 || data > 0; }
    bool asked() const { return synacks > 0 || arp_asked > 0; }
};

// One source of a lockstep group, with what the sensor saw of it (null: no state left, evicted).
struct GroupMember {
    Ipv4 address;
    const Presence* presence = nullptr;
};

struct DecoyVerdict {
    std::optional<Ipv4> scanner;  // nullopt: the capture cannot tell
    std::vector<Ipv4> decoys;     // the group but the scanner (empty when it is unknown)
    std::string evidence;         // why, in words
};

// The scanner of a lockstep group: the one source whose own frames come from the machine that
// sent every probe (one MAC for all the group's probes), else the one source that answered the
// target while the others were asked (SYN+ACK, ARP) and never answered. Anything else: unknown,
// and the evidence says why. Never a guess.
DecoyVerdict judge_decoys(const std::vector<GroupMember>& group);

}  // namespace flagscan

// OsCapture: -O's tries rebuilt from a capture: each OS probe recognised by its signature (os_probes), each reply given to the probe it answers.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/net/bytes.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/ipv4.hpp"
#include "flagscan/os/os_tests.hpp"

namespace flagscan {

// What a capture shows of the OS scan of one target: its tries, in order, and the ports probed.
struct OsCaptured {
    std::vector<OsRound> rounds;
    std::optional<Port> open_tcp;    // where the SEQ probes went
    std::optional<Port> closed_tcp;  // where T5 went
    std::optional<Port> closed_udp;  // where U1 went
    std::optional<std::array<std::uint8_t, 3>> mac_prefix;  // the target's MAC prefix (SCAN's M), on Ethernet
};

// Fed the capture's packets in order. A try starts at each SEQ1 probe (nmap sends SEQ1 first);
// a SEQ packet again from the try's base port + 6 + i is SEQ i's OPS/WIN resend, SEQ1's from
// + 13 the T1 resend (their signatures are SEQ's); a resent probe marks the first as
// retransmitted; a reply goes to the probe it answers (TCP: the probe's source port; echo: its
// id; port unreachable: the quoted source port) of the current try, first reply only.
class OsCapture {
public:
    // `ip`: the packet from its IP header on; `ethernet_destination`: the frame's first bytes
    // when its link is Ethernet (empty otherwise). True when the packet was an OS probe or a
    // reply to one: not the port scan's.
    bool add(const DecodedPacket& decoded, ByteView ip, ByteView ethernet_destination, Micros at);
    // Per target address (host order), the targets whose OS probes the capture holds.
    const std::map<std::uint32_t, OsCaptured>& targets() const { return found_; }

private:
    struct Pending {  // the current try's probes, to find what a reply answers
        std::map<OsProbeId, Port> source_ports;
        std::map<OsProbeId, std::uint16_t> echo_ids;
        std::map<Port, std::size_t> resend_ports;  // an OPS/WIN resend's port -> its SEQ index; T1's -> 6
    };
    static bool record_seq_resend(OsCaptured& t, Pending& p, const DecodedPacket& decoded, OsProbeId id);
    static bool add_seq_resend_reply(OsCaptured& t, const Pending& p, const DecodedPacket& decoded, ByteView ip, Micros at);
    void record_probe(OsCaptured& t, Pending& p, const DecodedPacket& decoded, ByteView ethernet_destination, Micros at,
                      OsProbeId id);
    static std::optional<OsProbeId> answered_probe(const Pending& p, const DecodedPacket& d);

    std::map<std::uint32_t, OsCaptured> found_;
    std::map<std::uint32_t, Pending> pending_;
};

}  // namespace flagscan

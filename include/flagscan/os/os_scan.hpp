// OsScan: one host's -O, nmap's tries of the 16 probes: packets built from the OsProbe table, replies matched, a state machine taking `now`.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/os/os_match.hpp"
#include "flagscan/os/os_probes.hpp"
#include "flagscan/os/os_tests.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

// What one probe's packet carries beside the table's fixed fields: addresses, ports, the try's
// random numbers (nmap's tcpSeqBase, tcpAck, icmpEchoId), IP id and TTL.
struct OsProbeFields {
    Ipv4 src, dst;
    Port source_port;       // TCP: the try's base + the probe's offset; UDP: U1's port
    Port target_port;       // the open or closed port it goes to (0 for ICMP)
    std::uint32_t seq_base = 0;
    std::uint32_t ack = 0;
    std::uint16_t echo_id = 0;
    std::uint16_t ip_id = 0;  // used unless the probe fixes its own (U1)
    std::uint8_t ttl = 64;
};

// One probe's packet (from the IP header on) and what its reply is compared with.
struct OsBuilt {
    std::vector<std::uint8_t> packet;
    OsSent sent;  // `at` left 0: set when it goes out
};
Result<OsBuilt> build_os_probe(const OsProbe& probe, const OsProbeFields& fields);

// The ports one try probes and where its own source ports start: TCP probes from
// first_source_port + their offset (0-19), U1 from first_source_port + kOsPortsPerTry - 1.
inline constexpr std::uint16_t kOsPortsPerTry = 21;
struct OsTryPlan {
    Ipv4 src, dst;
    Port open_tcp, closed_tcp, closed_udp;
    bool open_known = false;    // from the port scan; else a guess (nmap: results may be unreliable)
    bool closed_known = false;
    Port first_source_port;
    std::uint8_t ttl = 64;
    Micros wait = 300 * kMillisecond;  // after the last probe, before resending the unanswered ones or ending
    std::uint64_t seed = 0;
};

// One try: the six SEQ probes 100 ms apart, then IE1 IE2 U1 ECN T2-T7 25 ms apart (os_probes'
// send_offset). Then, each `wait` after the last send, every probe still unanswered goes again,
// up to nmap's 4 sends of a probe (osscan2.cc updateActiveTUIProbes: expired at tryno 3); never
// the SEQ probes, whose timing is their test. At the first of these steps come nmap's OPS/WIN
// resends of each SEQ packet unanswered, and its T1 resend when no SEQ was answered
// (buildTUIProbeList), sent and resent the same way. The try ends once all are answered, or
// `wait` after the last send when nothing is left to send.
inline constexpr std::uint8_t kOsMaxSends = 4;
class OsTry {
public:
    static Result<OsTry> create(const OsTryPlan& plan);

    // The packets due by `now` (the first call starts the try), recorded as sent at `now`.
    std::vector<std::span<const std::uint8_t>> due(Micros now);
    // A captured packet: kept when it is the first reply to one of this try's probes.
    bool on_reply(const DecodedPacket& decoded, std::span<const std::uint8_t> packet, Micros at);
    // The Ethernet source of a reply kept (the target's MAC, when it is on the link).
    void note_reply_mac(std::span<const std::uint8_t> source_mac);
    bool finished(Micros now) const;
    // When due() or finished() next changes its answer.
    Micros next_event() const;

    const OsRound& round() const { return round_; }
    // Probes answered, of the 16.
    int answered() const;

private:
    explicit OsTry(const OsTryPlan& plan) : plan_(plan) {}
    std::optional<OsProbeId> answered_probe(const DecodedPacket& decoded) const;
    bool on_seq_resend_reply(const DecodedPacket& decoded, std::span<const std::uint8_t> packet, Micros at);
    bool all_answered() const;
    bool wanted(std::size_t probe) const;

    // What a resend step may send: the 16 probes (0-15), the OPS/WIN resends (16-21), T1's (22).
    static constexpr std::size_t kOpsSlot = kOsProbeCount, kT1Slot = kOsProbeCount + kOsSeqProbes, kSlots = kT1Slot + 1;
    bool answered(std::size_t slot) const;
    bool in_play(std::size_t slot) const;  // this try sends it at all
    std::span<const std::uint8_t> packet(std::size_t slot) const;
    // The slots the next resend step sends: in play, unanswered, sent fewer than kOsMaxSends times.
    std::vector<std::size_t> to_resend() const;

    OsTryPlan plan_;
    std::array<OsBuilt, kOsProbeCount> built_{};
    std::array<OsBuilt, kOsSeqProbes> ops_built_{};  // SEQ i's packet from port +6+i
    OsBuilt t1_built_;                               // SEQ1's from port +13
    std::array<std::uint8_t, kSlots> sends_{};
    std::array<bool, kOsSeqProbes + 1> seq_resends_{};  // chosen at the first resend step: OPS i, T1
    bool resending_ = false;                             // a resend step has been taken
    std::uint16_t echo_id_ = 0;
    OsRound round_;
    Micros start_ = -1;
    std::size_t next_ = 0;  // next probe of the first pass
    Micros last_sent_ = 0;
};

// nmap's rule for another try (osscan2.cc): none after a perfect match or after `max_tries`;
// only 2 (STANDARD_OS2_TRIES) when the fingerprint is not fit for submission.
bool os_try_again(const OsMatches& matches, int tries, int max_tries, bool ideal);

// RFC 1918 (and loopback, link-local): nmap's PV=Y.
bool os_private_address(Ipv4 address);

}  // namespace flagscan

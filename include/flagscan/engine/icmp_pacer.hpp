// IcmpPacer: notices targets that rate-limit their ICMP errors and paces the probes that need them.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "flagscan/engine/clock.hpp"

namespace flagscan {

// Why: a UDP scan learns that a port is closed only from an ICMP port unreachable, and most
// systems limit those (Linux: one per second per destination after a burst of six,
// icmp_ratelimit / XRLIM_BURST_FACTOR; and host-wide, icmp_msgs_per_sec 1000 after a burst of
// 50). Sent faster, the probes to closed ports go unanswered and would be called open|filtered.
// So: a host that has answered with ICMP errors and then goes silent while probes keep going
// to it is paced. The pace starts at the rate its errors came at from its first unanswered
// probe on (the errors before it were the bucket's burst); when too few came to measure, at
// one probe per second (the Linux per-destination default), or, when the host is past what a
// Linux peer limit gives (a burst larger than six, or more errors than six plus one per second
// since its first: a host-wide budget that an earlier scan had spent; beyond_peer_limit), at
// that burst per second. Every epoch (six sends at the pace, at least kEpoch,
// or kMinEpoch for a host past a peer limit) the pace adapts: when a
// retransmission sent under the pace was answered (a loss under the limit), it drops towards
// the rate at which errors actually came; when none was and the pace was used, it grows by a
// quarter, past a peer limit it doubles while the errors grow with it (so a host-wide limit
// of 1000/s is found in a few epochs), while a peer-like limit keeps its slow, safe growth.
class IcmpPacer {
public:
    static constexpr double kStartRate = 1.0;   // probes per second when pacing begins
    static constexpr double kMinRate = 0.5;
    static constexpr double kMaxRate = 20000;   // beyond this, pacing is over
    static constexpr std::uint32_t kSilencesToSuspect = 4;  // and at least a quarter of the errors
    static constexpr Micros kEpoch = 2 * kSecond;              // a paced epoch at least, for a peer-like limit
    static constexpr Micros kMinEpoch = 250 * kMillisecond;    // for a host-wide budget (see start_rate)
    static constexpr Micros kTokenGap = 1100 * kMillisecond;  // a Linux ICMP token is 1 s; a little more
    static constexpr std::uint32_t kErrorsOfNoLimit = 50;     // Linux's largest burst (icmp_msgs_burst)
    static constexpr std::uint32_t kLinuxBurst = 6;            // XRLIM_BURST_FACTOR: errors a fresh peer may get at once
    static constexpr Micros kGlobalGap = 50 * kMillisecond;   // Linux's host-wide budget refills 20 ms after it ran out; a little more
    static constexpr std::uint32_t kRefillsToMeasure = 4;     // errors past the burst that a start rate is measured from
    static constexpr std::size_t kMaxSamples = 4096;           // send times of answered probes kept until pacing begins

    // A probe to `host` drew an ICMP error; `lost_under_pace`: it answered a retransmission
    // whose earlier try had been sent under the pace.
    // `sent`: when the answered try went out (-1: not known); `retry`: it was not the port's first.
    void on_error(std::uint32_t host, Micros now, Micros sent, bool retry, bool lost_under_pace);
    // A probe to `host` (of a kind read from ICMP errors) timed out. True when this starts the
    // host's pacing (it has sent an ICMP error, one of them to a port's later try after an
    // earlier one went unanswered, and then went silent for at least kSilencesToSuspect probes
    // and a quarter of its errors): the caller then sends again, for
    // free, what it gave up on before.
    // `suspect_after`: errors the host must have sent before its silence is suspect (1 for
    // UDP, whose closed ports all answer with ICMP; a Linux burst less one for TCP flag scans,
    // whose closed ports answer RST and whose open ports are silent anyway).
    // `sent`: when the silent try went out.
    bool on_silence(std::uint32_t host, Micros now, Micros sent, std::uint32_t suspect_after = 1);

    bool paced(std::uint32_t host) const;
    // True while the host has sent too few ICMP errors to rule out a per-second limit (none
    // too: its budget may have been spent before the scan began).
    // With suspect_after > 0, only once it has sent that many (see on_silence).
    bool may_be_limited(std::uint32_t host, std::uint32_t suspect_after = 0) const;
    Micros paced_since(std::uint32_t host) const;  // -1 when not paced
    // A send to a paced host: true when its pace allows one now (always for others).
    bool take(std::uint32_t host, Micros now);
    Micros next(std::uint32_t host, Micros now) const;
    // How long after a try to `host` its silence starts to mean something: until a token of its
    // limit could have come back (kTokenGap, a little more than Linux's 1 s, while its limit is
    // not known; kGlobalGap after a burst larger than a Linux peer's, which only the host-wide
    // budget gives; a little more than one interval of its pace once it is paced).
    Micros token_gap(std::uint32_t host) const;
    // The rate the host's ICMP errors were found limited to (0: never paced), for the report.
    double limit(std::uint32_t host) const;

private:
    struct Host {
        std::uint32_t errors = 0;
        Micros first_error = -1;        // when the first error came
        std::vector<Micros> answered_sends;  // until pacing begins: when each answered try went out
        Micros first_silent = -1;       // when the first try found silent went out
        Micros last_silent = -1;        // and the latest
        bool host_wide = false;         // more errors than a Linux peer limit gives: epochs kMinEpoch, doubling
        bool settled = false;           // its limit was met (a loss, or errors that stopped growing): growth turns gentle
        double last_delivered = 0;      // errors per second in the epoch before
        std::uint32_t silences = 0;  // timeouts since the last error
        bool retry_answered = false; // a port silent once answered a later try: silence is not just its own
        bool paced = false;
        Micros since = -1;
        double rate = 0;
        double limit = 0;               // errors per second since pacing began
        std::uint32_t paced_errors = 0;
        Micros next_send = 0;
        Micros epoch_start = 0;
        std::uint32_t epoch_errors = 0;
        std::uint32_t epoch_sends = 0;
        bool epoch_loss = false;
    };
    void adapt(Host& host, Micros now);
    static double start_rate(const Host& host);
    static std::uint32_t burst_of(const Host& host);  // errors to tries sent before the first silent one
    static bool beyond_peer_limit(const Host& host, Micros now);

    std::unordered_map<std::uint32_t, Host> hosts_;
};

}  // namespace flagscan

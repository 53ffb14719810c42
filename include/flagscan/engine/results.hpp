// Results: one verdict per (host, port) with its evidence, and what each host showed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/checks_found.hpp"
#include "flagscan/engine/services_found.hpp"
#include "flagscan/net/ipv4.hpp"
#include "flagscan/probe/port_state.hpp"
#include "flagscan/probe/probe_kind.hpp"
#include "flagscan/targets/target_set.hpp"

namespace flagscan {

// Why a packet about a port decided nothing (--explain says what came and why it was not used).
enum class Unused : std::uint8_t {
    none,       // no such packet
    stray,      // from the probed port (or an ICMP error about it) but echoing none of its probes
    unmatched,  // an answer to a probe that no row of the kind's rule table reads
    cut,        // cut short by the capture's snaplen before its transport header ends
};
inline constexpr std::uint8_t kLastUnused = static_cast<std::uint8_t>(Unused::cut);

struct PortResult {
    PortState state = PortState::unscanned;
    Reason reason = Reason::none;
    std::uint8_t ttl = 0;     // of the reply (0 when none)
    std::uint8_t tries = 0;   // sends made for this port
    std::uint8_t answered_try = 0;
    std::uint8_t rule = 0;    // row of the probe kind's rule table that matched
    ReplyEvidence::Kind reply_kind = ReplyEvidence::Kind::none;
    std::uint8_t reply_flags = 0;   // TCP flags of the reply
    std::uint8_t icmp_code = 0;     // of an ICMP unreachable reply
    std::uint16_t reply_window = 0;
    std::uint32_t rtt_us = 0;  // of the answered try, when known
};
// Every port of every scan has one: it stays this small so large scans keep memory flat
// (what --explain alone reads is PortEvidence, kept only when asked for).
static_assert(sizeof(PortResult) <= 16);

// What the wire showed of a port beyond its verdict, for --explain (a replay: the capture's own
// ports and times). Kept in Results only when --explain asks for it.
struct PortEvidence {
    std::uint16_t sport = 0;          // our source port of the answered try, or of the last try
    std::uint16_t first_sport = 0;    // of the first try
    std::uint32_t tries_span_us = 0;  // from the first try to the last
    std::uint32_t waited_us = 0;      // no answer: from the last try to the verdict (a replay: to the capture's end)
    Ipv4 reply_from;                  // sender of the reply, or of the unused packet (an ICMP error: maybe a router)
    Unused unused = Unused::none;     // a packet about the port that decided nothing (the verdict's reply stays empty)
    std::uint8_t unused_protocol = 0; // its IP protocol
    std::uint8_t unused_detail = 0;   // its TCP flags, or its ICMP type
    std::uint8_t unused_code = 0;     // its ICMP code
    bool tries_known = false;         // the tries' fields above were recorded (not so for a port restored by --resume)
};

struct HostResult {
    std::uint32_t replies = 0;       // replies of any kind that came from the host
    Micros min_rtt = -1;             // lowest RTT measured to it (-1: none)
    double icmp_limit = 0;           // ICMP errors per second it was found to allow (0: no limit met)
    std::array<std::uint32_t, kPortStateCount> counts{};  // ports per PortState
};

class Results {
public:
    // kinds[lane]: the probe kind of each lane of the target set (reports and --explain read
    // every slot's verdict through its kind). keep_evidence: also keep each port's PortEvidence
    // (for --explain); without it the notes below cost one branch and store nothing.
    Results(const TargetSet& targets, std::vector<const ProbeKind*> kinds, bool keep_evidence = false);

    void set(std::uint64_t index, const PortResult& result);
    void note_reply(std::uint32_t host_index, Micros rtt);
    // The evidence notes (kept only with keep_evidence). The tries behind the verdict set() last
    // (`tries`: its tries' fields); a verdict of silence keeps the note of an unused packet.
    void note_tries(std::uint64_t index, const PortEvidence& tries);
    // The reply that decided the port came from `from` to our source port `sport` (a verdict's
    // evidence, not a new verdict: no count changes).
    void note_reply_packet(std::uint64_t index, Ipv4 from, Port sport);
    // A packet about the port that decided nothing (its unused_* fields and reply_from); the first
    // one is kept, and only while no reply decided.
    void note_unused(std::uint64_t index, const PortEvidence& packet);
    void note_icmp_limit(std::uint32_t host_index, double per_second) { hosts_[host_index].icmp_limit = per_second; }
    // A resumed scan: what the host showed before the interrupt (replies, min_rtt, icmp_limit;
    // its counts follow from the verdicts set()).
    void restore_host(std::uint32_t host_index, const HostResult& evidence);

    const TargetSet& targets() const { return *targets_; }
    const ProbeKind& kind(std::uint8_t lane) const { return *kinds_[lane]; }
    const std::vector<const ProbeKind*>& kinds() const { return kinds_; }
    const PortResult& port(std::uint64_t index) const { return ports_[index]; }
    bool keeps_evidence() const { return !evidence_.empty(); }
    // What was noted of the port; empty (tries_known false, nothing unused) when none was kept.
    PortEvidence evidence(std::uint64_t index) const { return evidence_.empty() ? PortEvidence{} : evidence_[index]; }
    const HostResult& host(std::uint32_t host_index) const { return hosts_[host_index]; }
    std::uint64_t decided() const { return decided_; }
    // Ports in one state over every host (the open count a status line shows).
    std::uint64_t state_total(PortState state) const { return totals_[static_cast<int>(state)]; }
    // The hosts whose every port got a verdict since the last call, in the order they finished
    // (so outputs can write a host the moment it is done).
    std::vector<std::uint32_t> take_finished_hosts();

    // --banners: the first bytes the service on the port sent, escaped (printable text); kept
    // only for the ports that sent some, so large scans stay flat.
    void set_banner(std::uint64_t index, std::string escaped) { banners_[index] = std::move(escaped); }
    const std::string* banner(std::uint64_t index) const {
        const auto found = banners_.find(index);
        return found == banners_.end() ? nullptr : &found->second;
    }
    // What service detection (-sV) found, by the same index as port(): only the ports it
    // looked at have an entry, so the verdicts above stay 16 bytes a port.
    ServicesFound& services() { return services_; }
    const ServicesFound& services() const { return services_; }
    // What the weakness checks (--checks) found, by the same index: ports with findings only.
    ChecksFound& checks() { return checks_; }
    const ChecksFound& checks() const { return checks_; }

private:
    static void keep_unused(PortEvidence& slot, const PortEvidence& before);

    const TargetSet* targets_;
    std::vector<const ProbeKind*> kinds_;
    std::vector<PortResult> ports_;
    std::vector<PortEvidence> evidence_;  // parallel to ports_ with keep_evidence, else empty
    std::vector<HostResult> hosts_;
    std::uint64_t decided_ = 0;
    std::array<std::uint64_t, kPortStateCount> totals_{};
    std::vector<std::uint32_t> finished_;  // hosts done, not yet taken
    std::unordered_map<std::uint64_t, std::string> banners_;  // by port index
    ServicesFound services_;
    ChecksFound checks_;
};

// An open TCP port of a scan, with its index in Results.
struct OpenTcpPort {
    std::uint64_t index;
    Ipv4 address;
    Port port;
};

// Every open TCP port of RESULTS, host by host, each host's in report order (the walk the
// phases after the port scan share: --banners, -sV).
std::vector<OpenTcpPort> open_tcp_ports(const Results& results);

}  // namespace flagscan

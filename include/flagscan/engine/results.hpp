// Results: one verdict per (host, port) with its evidence, and what each host showed.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/checks_found.hpp"
#include "flagscan/engine/os_found.hpp"
#include "flagscan/engine/services_found.hpp"
#include "flagscan/net/decode.hpp"
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
    std::uint8_t dropped_states = 0;  // Keep::listed: bit s: the ports in state s were dropped (folded)
};

// The first SYN-ACK a host sent to one of the scan's probes, as the passive OS hint reads it
// (os_hint): 46 bytes, kept only for the hosts that sent one.
struct SynAckSeen {
    std::uint8_t ttl = 0;
    bool df = false;
    std::uint16_t window = 0;
    TcpOptionBytes options;
};

// The ports of one host that share a state, a lane (so a protocol) and a reason: what a
// report's "Not shown" line counts. `first` is the first of them in report order (lane, then
// port: lane << 16 | port), which orders groups of equal size as nmap does.
struct PortGroup {
    PortState state = PortState::unscanned;
    std::uint8_t lane = 0;
    Reason reason = Reason::none;
    std::uint32_t count = 0;
    std::uint32_t first = 0;
};

// How much of each host's ports Results keeps.
enum class Keep : std::uint8_t {
    // Every verdict, 16 bytes a probe: scans of up to kEveryPortUpTo probes and kEveryHostUpTo
    // hosts, and --explain.
    every_port,
    // Only what a report lists: every open port, and the ports of each state while the host
    // has at most 25 in it (past that nmap folds the state into "Not shown", which needs only
    // the counts per group). Memory follows what is reported, not the scan's size.
    listed,
};

class Results {
public:
    // Up to this many probes (host x slot) every verdict is kept (16 MiB); past it, Keep::listed.
    static constexpr std::uint64_t kEveryPortUpTo = std::uint64_t{1} << 20;
    // ... and of up to this many hosts (a record each, and a report written in address order).
    static constexpr std::uint64_t kEveryHostUpTo = std::uint64_t{1} << 16;
    static constexpr std::uint32_t kListedUpTo = 25;  // nmap's isIgnoredState threshold

    // kinds[lane]: the probe kind of each lane of the target set (reports and --explain read
    // every slot's verdict through its kind). keep_evidence: also keep each port's PortEvidence
    // (for --explain, which implies Keep::every_port); without it the notes below cost one branch
    // and store nothing. `keep`: nullopt chooses by the scan's size (kEveryPortUpTo).
    Results(const TargetSet& targets, std::vector<const ProbeKind*> kinds, bool keep_evidence = false,
            std::optional<Keep> keep = std::nullopt);

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
    // A SYN-ACK from the host answered one of the scan's probes: the first one is kept.
    void note_syn_ack(std::uint32_t host_index, const SynAckSeen& seen) { syn_acks_.try_emplace(host_index, seen); }
    void note_icmp_limit(std::uint32_t host_index, double per_second) { record(host_index).result.icmp_limit = per_second; }
    // A resumed scan: what the host showed before the interrupt (replies, min_rtt, icmp_limit;
    // its counts follow from the verdicts set()).
    void restore_host(std::uint32_t host_index, const HostResult& evidence);
    // A resumed scan under Keep::listed: ports of a group the report folds, restored by count.
    void restore_group(std::uint32_t host_index, const PortGroup& group);

    const TargetSet& targets() const { return *targets_; }
    const ProbeKind& kind(std::uint8_t lane) const { return *kinds_[lane]; }
    const std::vector<const ProbeKind*>& kinds() const { return kinds_; }
    Keep keeps() const { return keep_; }
    // The port's verdict. Under Keep::listed a port folded into its host's "Not shown" counts
    // reads as unscanned, unless it is one of the latest silent verdicts (kept so that a late
    // reply can still overturn it).
    PortResult port(std::uint64_t index) const;
    bool keeps_evidence() const { return !evidence_.empty(); }
    // What was noted of the port; empty (tries_known false, nothing unused) when none was kept.
    PortEvidence evidence(std::uint64_t index) const { return evidence_.empty() ? PortEvidence{} : evidence_[index]; }
    // What the host showed. A host never heard of (or forgotten by forget_host) reads as every
    // port unscanned.
    HostResult host(std::uint32_t host_index) const;
    // The host's first SYN-ACK, or nullptr (none, or the host was forgotten).
    const SynAckSeen* syn_ack(std::uint32_t host_index) const {
        const auto found = syn_acks_.find(host_index);
        return found == syn_acks_.end() ? nullptr : &found->second;
    }
    // The host's ports grouped by (state, lane, reason), in the order their first port comes.
    std::vector<PortGroup> groups(std::uint32_t host_index) const;
    std::uint64_t decided() const { return decided_; }
    // Ports in one state over every host (the open count a status line shows).
    std::uint64_t state_total(PortState state) const { return totals_[static_cast<int>(state)]; }
    // Hosts that sent any reply, and hosts with an open port (-sn: the hosts found up), over the
    // whole scan, forgotten hosts included.
    std::uint64_t hosts_replied() const { return hosts_replied_; }
    std::uint64_t hosts_with_open() const { return hosts_with_open_; }
    // The hosts whose every port got a verdict since the last call, in the order they finished
    // (so outputs can write a host the moment it is done).
    std::vector<std::uint32_t> take_finished_hosts();
    // The hosts a report may hold, in address order: under Keep::every_port every host; under
    // Keep::listed those heard of and not forgotten.
    std::vector<std::uint32_t> hosts_held() const;
    // Verdicts held one by one under Keep::listed (0 under Keep::every_port, which holds all).
    std::size_t ports_held() const { return listed_.size() + silent_.size(); }
    // A host written out and done with (Keep::listed): its ports, banners and counts are dropped,
    // so that a scan of the whole address space holds only the hosts still being scanned.
    void forget_host(std::uint32_t host_index);

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
    // What OS detection (-O) found, by host index.
    OsTable& os() { return os_; }
    const OsTable& os() const { return os_; }

private:
    struct HostRecord {
        HostResult result;
        std::vector<PortGroup> groups;
    };
    static void keep_unused(PortEvidence& slot, const PortEvidence& before);
    HostRecord& record(std::uint32_t host);
    bool folded(const HostRecord& host, PortState state) const;
    void count(HostRecord& host, std::uint64_t index, const PortResult& port, int step);
    void store(std::uint64_t index, const PortResult& port, const HostRecord& host);
    void fold(std::uint32_t host, PortState state);
    void remember_silent(std::uint64_t index, const PortResult& port);

    const TargetSet* targets_;
    std::vector<const ProbeKind*> kinds_;
    Keep keep_;
    std::vector<PortResult> ports_;       // Keep::every_port: by index
    std::unordered_map<std::uint64_t, PortResult> listed_;  // Keep::listed: the ports a report lists
    std::unordered_map<std::uint64_t, PortResult> silent_;  // Keep::listed: the latest folded silent verdicts
    std::deque<std::uint64_t> silent_order_;                // their indices, oldest first
    std::vector<PortEvidence> evidence_;  // parallel to ports_ with keep_evidence, else empty
    std::unordered_map<std::uint32_t, HostRecord> hosts_;  // the hosts heard of, not forgotten
    std::unordered_map<std::uint32_t, SynAckSeen> syn_acks_;  // the hosts that sent a SYN-ACK, not forgotten
    std::uint64_t decided_ = 0;
    std::uint64_t hosts_replied_ = 0;
    std::uint64_t hosts_with_open_ = 0;
    std::array<std::uint64_t, kPortStateCount> totals_{};
    std::vector<std::uint32_t> finished_;  // hosts done, not yet taken
    std::unordered_map<std::uint64_t, std::string> banners_;  // by port index
    ServicesFound services_;
    ChecksFound checks_;
    OsTable os_;
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

// Engine: the single-threaded core of a scan: what to send when, and what each reply means.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <span>
#include <unordered_map>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/congestion.hpp"
#include "flagscan/engine/correlator.hpp"
#include "flagscan/engine/host_timing.hpp"
#include "flagscan/engine/icmp_pacer.hpp"
#include "flagscan/engine/results.hpp"
#include "flagscan/engine/rtt.hpp"
#include "flagscan/engine/timing.hpp"
#include "flagscan/engine/token_bucket.hpp"
#include "flagscan/targets/permutation.hpp"
#include "flagscan/targets/target_set.hpp"

namespace flagscan {

// Where an interrupted scan stopped: the next position of the walk over the permutation, and
// every index before it still without a verdict (in flight, parked, held, waiting for a
// resend or for its verdict of silence). A scan resumed from it sends those first, then walks
// on from `position`: together they are exactly the indices the first scan left undecided.
struct ResumePoint {
    std::uint64_t position = 0;
    std::vector<std::uint64_t> pending;
};

// The probe kinds come from Results (one per lane of the target set).
struct EngineConfig {
    ScannerIdentity me;  // me.lanes is raised to the target set's lane count
    Timing timing;
    std::uint64_t seed = 0;       // order of the walk over host x port
    Shard shard{};                // the part of that walk this process runs (--shard I/N)
    Micros delivery_slack = 0;    // how late the frame source may hand a reply over (capture batching)
    EchoCheck echo = EchoCheck::keyed;  // recorded: a replay, whose probes come from a capture
    std::uint16_t tcp_data_length = 0;  // --data-length: the data bytes every TCP probe carries
    // Continue an interrupted scan (same targets and seed): its Results hold the verdicts restored
    // from the resume file, which are never sent again.
    std::optional<ResumePoint> resume;
};

struct EngineStats {
    std::uint64_t sent = 0;
    std::uint64_t retransmitted = 0;
    std::uint64_t replies = 0;          // replies that passed the cookie check
    std::uint64_t strays = 0;           // packets that did not
    std::uint64_t duplicates = 0;       // replies for ports already decided
    std::uint64_t late = 0;             // replies that overturned a no-response verdict
    std::uint64_t drops_seen = 0;       // replies that answered a retransmission
    std::uint64_t unmatched = 0;        // replies no rule row explains
    Micros first_send = -1;             // when the first probe went out
    Micros last_first_try = -1;         // when the last port got its first probe
};

// What became of one captured packet, for --packet-trace.
struct PacketOutcome {
    enum class Kind : std::uint8_t { stray, answer, duplicate, late, unmatched, own } kind = Kind::stray;
    Micros rtt = -1;  // when the packet answers the latest send of its probe
    std::optional<std::uint64_t> index{};  // the port an answer or a late reply settled
};

// The engine never reads a clock, sleeps, or touches a socket: `now` comes in as an argument,
// so the same code runs a live scan, a replay and a test against a simulated target.
class Engine {
public:
    Engine(const TargetSet& targets, const EngineConfig& config, const CookieKey& key, Results& results);

    // Fills `out` with the probes due at `now` (retransmissions first), stamped and recorded as
    // sent at `now`. Returns how many.
    std::size_t poll_sends(Micros now, std::span<Probe> out);
    // The scan's targets (an IPv6 scan's carry its AddressBook: how its frames are read).
    const TargetSet& targets() const { return *targets_; }
    // A decoded packet the capture saw at time `ts`.
    PacketOutcome on_packet(const DecodedPacket& packet, Micros ts);
    // An answer known without a packet to decode: what a connect() scan's socket reported.
    PacketOutcome on_answer(const Answer& answer, Micros ts);
    // When the engine next has work (a timer or a rate token) if no reply comes first.
    Micros next_deadline(Micros now);
    // Every probe answered or out of tries: the scan is over. Gives silent ports their verdict.
    bool finished();
    // Ctrl-C: from now on poll_sends sends nothing (no new probe, no resend) but still runs the
    // timers, so that in_flight() falls as replies come or tries time out.
    void stop_sending() { draining_ = true; }
    bool draining() const { return draining_; }
    // Where the scan stands, for a resume file (see ResumePoint).
    ResumePoint resume_point() const;

    // Replay: a probe found in a capture, as if this engine had sent it at `ts`; a second probe
    // to the same port before its answer is the next try. False when it is not one of ours, or
    // is the same datagram as the port's latest try, captured twice (Correlator::repeats_latest).
    bool replay_probe(const DecodedPacket& probe, Micros ts);
    // Replay: the capture is over (its last timestamp: `end`); every probe still unanswered gets
    // the verdict for silence.
    void finish_replay(Micros end);
    // A packet whose transport header the capture cut short, from source port `sport` (the bytes
    // held it): noted for --explain on the port it comes from.
    void note_cut(const DecodedPacket& packet, Port sport);

    const EngineStats& stats() const { return stats_; }
    double window() const { return congestion_.window(); }
    std::size_t in_flight() const { return correlator_.in_flight(); }
    // Probes with no verdict that the engine holds an entry for (in flight, waiting for a
    // resend, out of tries): what a scan's memory grows with besides Results.
    std::size_t open_probes() const { return correlator_.open_count(); }
    // The timeout over every reply of the scan (what -v and --explain report); each host's
    // own decides when its probes are retried (host_rto).
    Micros rto() const { return rtt_.rto() + config_.delivery_slack; }
    Micros host_rto(Ipv4 host) const;
    std::uint32_t host_window_cuts(Ipv4 host) const;  // 0 once the host is done (its timing is forgotten)
    std::uint64_t planned() const { return order_.size(); }  // this shard's indices
    std::uint64_t decided() const { return results_->decided(); }
    // Tries a silent port of the host gets; without a host, the most any host has earned.
    std::uint8_t allowed_tries() const;
    std::uint8_t allowed_tries(std::uint32_t host) const;

private:
    struct Candidate {
        std::uint64_t index;
        std::uint64_t key;                // the correlator key of a resend
        Correlator::Entry* resend;        // null: the first try of a new index
        bool resumed = false;             // a first try left pending by the interrupted scan
    };
    // A candidate whose host had no room in its window, waiting for it (the resend's entry
    // is looked up again when it leaves: it may have been answered meanwhile).
    struct Parked {
        std::uint64_t index;
        std::uint64_t key;
        bool resend;
    };
    struct ParkedQueue {
        std::deque<Parked> resends;
        std::deque<Parked> first_tries;
        bool empty() const { return resends.empty() && first_tries.empty(); }
    };
    std::optional<Candidate> take_candidate();
    std::optional<Candidate> next_first_try();
    bool decided_index(std::uint64_t index) const { return results_->port(index).state != PortState::unscanned; }
    // A probe held for its host's ICMP pace: a first try, or the resend of an open probe.
    struct Held {
        std::uint64_t index;
        bool resend;
    };
    void put_back(const Candidate& candidate);
    enum class Admission : std::uint8_t { send, park, wait };
    Admission admit(std::uint64_t index, Micros now);
    void park(const Candidate& candidate);
    bool paced_host(std::uint64_t index) const;
    std::size_t release_parked(Micros now, std::span<Probe> out);
    std::optional<Probe> send_parked(const Parked& parked);
    bool host_has_room(std::uint32_t host);
    HostTiming& timing_of(std::uint32_t host);
    Micros rto_of(std::uint32_t host) const;
    Micros rto_of(const HostTiming* timing) const;  // null: a host without timing yet
    static bool heard(const HostTiming* timing);
    Micros host_timeout(std::uint32_t host) const;
    Micros next_look(std::uint32_t host, Micros sent, Micros now) const;
    Micros loss_epoch(Micros timeout) const;
    void learn_rtt(std::uint32_t host, Micros rtt);
    Micros answered_send_time(std::uint64_t key, const Correlator::Entry& entry, std::uint8_t try_no) const;
    void forget_if_done(std::uint32_t host, Ipv4 address);  // address: the host's, known to the caller
    void expire(Micros now);
    bool spaced_retry(std::uint64_t key, Correlator::Entry& entry, Micros now);
    void retry_or_give_up(std::uint64_t key, Correlator::Entry& entry, Micros now);
    template <typename Pick>
    void requeue_exhausted(Pick pick, bool repeat);
    void resend_lost_to_cut(std::optional<std::uint32_t> host, Micros cut);
    void grant_tries(std::optional<std::uint32_t> host);
    std::uint8_t tries_at(std::uint64_t index) const;  // tries a silent probe of `index` gets now
    std::uint8_t tries_beyond(std::uint8_t answered_try, unsigned extra) const;
    void settle(const Answer& answer, std::uint64_t index, const Rule& rule, std::uint8_t tries, Micros rtt,
                const Correlator::Entry* entry);
    PortEvidence tries_seen(std::uint64_t index, const Correlator::Entry* entry, bool silent) const;
    void note_unused(const DecodedPacket& packet, Unused why, std::optional<std::uint64_t> index);
    void note_syn_ack(const DecodedPacket& packet, std::uint32_t host);
    std::optional<std::uint64_t> port_spoken_of(const DecodedPacket& packet) const;
    void give_up_silent();
    void give_up_silent(std::uint32_t host);
    void give_up_key(std::uint64_t key);
    void settle_silent(Ipv4 target, std::uint8_t lane, Port port, std::uint64_t index, const Correlator::Entry* entry);
    void close_found_host(std::uint32_t host);
    bool closed_discovery(std::uint64_t index) const;
    void start_aging(std::uint32_t host, std::uint64_t key, Micros now);
    void give_up_aged(Micros now);
    void settle_if_quiet(std::uint32_t host);
    bool has_work();
    Probe make_probe(std::uint64_t index, std::uint8_t try_no);
    std::optional<std::uint64_t> index_of(Ipv4 target, std::uint8_t lane, Port port) const;
    const ProbeKind& kind(std::uint8_t lane) const { return results_->kind(lane); }
    bool host_found_up(std::uint64_t index) const;
    std::optional<std::uint8_t> replay_lane(std::uint8_t protocol) const;
    std::uint32_t host_of(std::uint64_t index) const { return targets_->host_of(index); }
    bool icmp_paced_lane(std::uint8_t lane) const;
    std::uint32_t errors_to_suspect(std::uint8_t lane) const;
    bool hold_for_pace(std::uint64_t index, bool resend, Micros now);
    std::size_t release_paced(Micros now, std::span<Probe> out);
    const Correlator::Entry* held_resend(std::uint64_t index);
    void resend_given_up(std::uint32_t host);
    Probe next_try(const Correlator::Entry& entry);

    const TargetSet* targets_;
    EngineConfig config_;
    Correlator correlator_;
    Results* results_;
    ShardWalk order_;                       // this shard's walk over the seeded permutation
    RttEstimator rtt_;
    CongestionControl congestion_;
    EngineStats stats_;

    std::uint64_t next_position_ = 0;       // next step of the shard's walk
    std::deque<std::uint64_t> resumed_;     // first tries left pending by an interrupted scan, sent before the walk
    bool draining_ = false;                 // stop_sending() was called
    std::deque<std::uint64_t> retransmit_;  // correlator keys waiting for a resend
    // Per host: correlator keys out of tries, verdict pending (a window cut or ICMP pacing may
    // still send them again). Settled when nothing else of the host is undecided.
    std::unordered_map<std::uint32_t, std::vector<std::uint64_t>> exhausted_;
    // Ports out of tries, by when they are given their verdict of silence even while their host
    // has ports undecided (give_up_aged). `since`: when it ran out (a later send makes it stale).
    struct Aging {
        Micros due;
        Micros since;
        std::uint64_t key;
        friend bool operator>(const Aging& a, const Aging& b) { return a.due > b.due; }
    };
    std::priority_queue<Aging, std::vector<Aging>, std::greater<>> aging_;
    HostTimings hosts_;                     // per-host RTT, timeout, window and tries
    std::unordered_map<std::uint32_t, ParkedQueue> parked_;  // per host whose window is full
    std::size_t parked_count_ = 0;
    std::vector<bool> icmp_lanes_;          // per lane: an ICMP error decides what silence cannot (icmp_error_decides)
    IcmpPacer icmp_pacer_;
    std::map<std::uint32_t, std::deque<Held>> held_;  // per paced host: indices waiting for its pace
    using Spaced = std::pair<Micros, std::uint64_t>;  // (due, key): a timed-out try waiting out its host's token gap
    std::priority_queue<Spaced, std::vector<Spaced>, std::greater<>> spaced_;
    TokenBucket pace_;   // --max-rate / --scan-delay ceiling
    TokenBucket floor_;  // --min-rate: sends allowed even when the window is full
    std::uint16_t ip_id_ = 0;
    Micros replay_end_ = -1;  // a replay: the capture's last timestamp (silence lasted until it)
};

}  // namespace flagscan

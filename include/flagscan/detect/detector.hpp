// Detector: port scans recognised from decoded packets, per source, in bounded memory; `now` is an argument.
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "flagscan/detect/decoys.hpp"
#include "flagscan/detect/port_set.hpp"
#include "flagscan/detect/probe_class.hpp"
#include "flagscan/detect/tool_guess.hpp"
#include "flagscan/engine/clock.hpp"
#include "flagscan/net/decode.hpp"

namespace flagscan {

// Defaults, and why. scanlogd alerts at 7 ports in 3 s (weights 3 for ports < 1024, 1 else, score
// 21); Snort's sfPortscan "low" sensitivity counts 5 refused ports in 60 s, "medium" 5 in 90 s.
// A 5 s window with 10 distinct ports or 10 distinct hosts catches nmap at -T2 (one probe per
// 0.4 s) and above, and masscan and zmap at any rate; 10 (not 7) leaves room for the few ports a
// desktop tries on one server (80, 443, 8080...). Benign fan-out (a browser, a resolver) is kept
// quiet by the failure rule (see Window), not by the thresholds.
struct DetectConfig {
    Micros window = 5 * kSecond;       // --window
    std::uint32_t ports_threshold = 10;  // --ports-threshold: distinct ports on the source's targets
    std::uint32_t hosts_threshold = 10;  // --hosts-threshold: distinct hosts
    Micros slow_window = 0;            // --slow-window: 0 = off; else the same thresholds over this long
    std::size_t max_sources = 65536;   // --max-sources: per-source state kept, least recent evicted
    // A probe unanswered after this long counts as failed (TRW's "failed connection attempt").
    Micros answer_grace = 1 * kSecond;
};

enum class ScanShape : std::uint8_t { vertical, horizontal, block };
std::string_view scan_shape_name(ScanShape shape);

// A distributed scan is seen from one of two sides: the ports of one target split between its
// sources (a vertical scan in slices), or the hosts probed on one port (a sweep in slices).
enum class SliceAxis : std::uint8_t { ports_of_target, hosts_of_port };
struct SliceKey {
    SliceAxis axis = SliceAxis::ports_of_target;
    std::uint32_t key = 0;  // the target's address, or the port
    ScanKind kind = ScanKind::syn;
    auto operator<=>(const SliceKey&) const = default;
};

// One scan: a source (or a group of sources) and a kind, with everything it touched.
struct Alert {
    std::uint64_t id = 0;
    std::vector<Ipv4> sources;
    ScanKind kind = ScanKind::syn;
    std::set<Ipv4> targets;              // at most kMaxListedTargets listed ...
    std::uint64_t target_count = 0;      // ... all counted
    PortSet ports;
    PortSet open;
    bool uses_ports = true;
    std::uint64_t probes = 0;
    Micros first = 0;
    Micros last = 0;
    bool slow = false;
    bool distributed = false;
    std::uint64_t handshakes = 0;        // SYN, SYN+ACK, then the source's ACK: a connect() scan
    ToolEvidence evidence;
    std::string note;                    // remarks (distributed: how many sources)
    std::vector<Ipv4> lockstep;          // other sources probing the same targets at once (decoys)
    DecoyVerdict decoys;                 // with lockstep: which source is the scanner (set when it closes)
    std::string remarks() const;         // note, and the lockstep sources and their verdict in words
    ScanKind track_kind = ScanKind::syn; // the per-source track it grew from (syn for connect)
    SliceKey view;                       // distributed: the view (target or port) that raised it
    std::uint64_t lockstep_key = 0;      // its decoy group's signature (its targets when raised)

    static constexpr std::size_t kMaxListedTargets = 4096;
    ScanShape shape() const;
    double rate_pps() const;
    ToolGuess tool() const { return guess_tool(evidence, kind == ScanKind::connect); }
    void add_target(Ipv4 target);
};

struct DetectStats {
    std::uint64_t packets = 0;
    std::uint64_t sources_tracked = 0;  // sources given state, ever
    std::uint64_t sources_evicted = 0;  // by the --max-sources cap
    std::uint64_t alerts = 0;
    std::uint64_t alerts_cut = 0;  // open alerts ended early to keep at most --max-sources open
};

// A FIFO over one vector that grows by doubling: unlike std::deque, an empty one allocates
// nothing, which matters with 65536 sources most of which touch one port.
template <class T>
class Ring {
public:
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    T& operator[](std::size_t i) { return buf_[(head_ + i) & (buf_.size() - 1)]; }
    const T& operator[](std::size_t i) const { return buf_[(head_ + i) & (buf_.size() - 1)]; }
    T& front() { return (*this)[0]; }
    const T& front() const { return (*this)[0]; }
    void push_back(const T& value) {
        if (size_ == buf_.size()) grow();
        buf_[(head_ + size_++) & (buf_.size() - 1)] = value;
    }
    void pop_front() {
        head_ = (head_ + 1) & (buf_.size() - 1);
        --size_;
    }

private:
    void grow() {
        std::vector<T> bigger(buf_.empty() ? 4 : buf_.size() * 2);
        for (std::size_t i = 0; i < size_; ++i) bigger[i] = (*this)[i];
        buf_.swap(bigger);
        head_ = 0;
    }
    std::vector<T> buf_;  // a power of two long
    std::size_t head_ = 0, size_ = 0;
};

// Distinct touches (target, port) in a sliding window, with how each was answered.
// Why the failure rule: Jung et al., "Fast Portscan Detection Using Sequential Hypothesis
// Testing" (IEEE S&P 2004, TRW): benign hosts' first contacts mostly succeed, scanners' mostly
// fail (refused or unanswered); Zeek's scan.zeek likewise counts failed attempts only. A browser
// that opens 40 sites in 5 s succeeds 40 times and is not a scan; nmap's 1000 ports fail ~997 times.
class TouchWindow {
public:
    enum class Answer : std::uint8_t { pending, positive, negative };
    struct Touch {
        Micros at = 0;
        std::uint32_t target = 0;
        std::uint16_t port = 0;
        Answer answer = Answer::pending;
        bool aged = false;  // counted as failed for want of an answer
        bool completed = false;  // positive, then the prober's ACK: a full handshake
        bool data = false;       // the prober sent data in it: a real session
        bool accepted = false;   // answered positive once (an open port), even if aborted since
    };
    static constexpr std::size_t kMaxTouches = 8192;  // older touches fall out first (decay)

    // True when (target, port) is new in the window.
    bool add(Micros now, Ipv4 target, Port port);
    // Answer A to (target, port); false when the window holds no such touch.
    bool answer(Ipv4 target, Port port, Answer a);
    void expire(Micros now, Micros window, Micros grace);
    // complete(): the prober ACKed a positive answer (a handshake); true the first time.
    bool complete(Ipv4 target, Port port);
    void saw_data(Ipv4 target, Port port);
    // The prober reset a touch the target had accepted, before any data: a half-open (SYN scan)
    // or an empty connect(); true when that turned a success into a failure.
    bool abort(Ipv4 target, Port port);

    std::size_t distinct_ports() const { return ports_.size(); }
    std::uint32_t touches_of_port(Port port) const {
        auto it = ports_.find(port.value());
        return it == ports_.end() ? 0 : it->second;
    }
    std::size_t distinct_hosts() const { return hosts_.size(); }
    std::uint32_t touches_of_host(Ipv4 host) const {
        auto it = hosts_.find(host.value());
        return it == hosts_.end() ? 0 : it->second;
    }
    // Touches neither answered nor aged yet.
    std::uint64_t pending() const { return touches_.size() - successes_ - failures_; }
    std::uint64_t successes() const { return successes_; }
    std::uint64_t failures() const { return failures_; }
    // kMaxTouches distinct touches inside one window: no client does that (a scan at 1,600+/s).
    bool saturated() const { return touches_.size() >= kMaxTouches; }
    const Ring<Touch>& touches() const { return touches_; }
    void clear();

private:
    static std::uint64_t key(Ipv4 t, Port p) { return (std::uint64_t{t.value()} << 16) | p.value(); }
    void pop_front();
    Touch* find(Ipv4 target, Port port);

    Ring<Touch> touches_;
    std::uint64_t base_ = 0;  // sequence number of touches_.front()
    std::size_t aged_upto_ = 0;  // touches_[0, aged_upto_) were looked at for ageing
    std::unordered_map<std::uint64_t, std::uint64_t> index_;  // key -> sequence number
    std::unordered_map<std::uint16_t, std::uint32_t> ports_;
    std::unordered_map<std::uint32_t, std::uint32_t> hosts_;
    std::uint64_t successes_ = 0, failures_ = 0;
};

class Detector {
public:
    explicit Detector(const DetectConfig& config);

    // One decoded packet seen at NOW (microseconds since the epoch). FRAGMENTED: it came as IP
    // fragments. Packets must come in time order (several sensors: merged first).
    void on_packet(const DecodedPacket& packet, Micros now, bool fragmented = false);
    // Alerts raised since the last call (for the table, printed once as they are raised).
    std::vector<const Alert*> take_raised();
    // Alerts whose scan is over (idle for the window) at NOW, then removed; at the end of input
    // finish() returns every alert still open.
    std::vector<std::unique_ptr<Alert>> take_finished(Micros now);
    std::vector<std::unique_ptr<Alert>> finish();

    const DetectStats& stats() const { return stats_; }
    std::size_t sources_in_memory() const { return sources_.size(); }

private:
    struct Track {
        TouchWindow fast;
        TouchWindow slow;
        ToolEvidence evidence;  // before an alert: the window's probes
        std::uint64_t probes = 0;
        std::uint64_t handshakes = 0;
        bool candidate = false;
        std::unique_ptr<Alert> draft;  // a candidate's alert-to-be: what it touches from then on
        Alert* alert = nullptr;
    };
    struct Source {
        Ipv4 address;
        std::map<ScanKind, Track> tracks;
        Presence presence;  // what it did besides probing: tells a scanner from its decoys
    };
    using SourceList = std::list<Source>;

    Source& source_for(Ipv4 address);
    Source* find_source(Ipv4 address);
    static Track* find_track(Source* s, ScanKind kind);  // nullptr when S is or has none
    void on_probe(const Observed& o, const DecodedPacket& packet, Micros now);
    bool on_answer(const Observed& o, Micros now);
    void on_ack(const Observed& o, const DecodedPacket& packet, Micros now);
    void on_prober_reset(const DecodedPacket& packet, Micros now);
    void note_presence(const DecodedPacket& packet, const Observed& o);
    void judge_lockstep(Alert& alert);
    bool answers_udp(const DecodedPacket& p, Micros now);
    bool answers_session(const DecodedPacket& p);
    void evaluate(Source& s, ScanKind kind, Track& t, Micros now);
    bool is_scan(ScanKind kind, const TouchWindow& w, bool fast) const;
    bool reaches_threshold(ScanKind kind, const TouchWindow& w) const;
    Alert& raise(Source& s, ScanKind kind, Track& t, bool slow, Micros now);
    bool try_raise(Source& s, ScanKind kind, Track& t, Micros now);
    bool near_threshold(ScanKind kind, const Track& t) const;
    std::unique_ptr<Alert> draft_from(const Source& s, ScanKind kind, const TouchWindow& w, Micros now) const;
    void close_alert(Alert* alert);
    void open_alert(std::unique_ptr<Alert> alert);
    // nmap -D: alerts of one kind raised on the same targets at once, grouped by a signature of
    // (kind, targets); a group past nmap's 128 decoys is a crowd, not decoys, and stops growing.
    static constexpr std::size_t kMaxDecoys = 128;
    static std::uint64_t lockstep_signature(const Alert& a);
    void note_lockstep(Alert& a, Ipv4 source);
    void forget_lockstep(const Alert* a);
    struct LockstepGroup {
        std::vector<Alert*> members;
        bool crowd = false;
    };
    std::unordered_map<std::uint64_t, LockstepGroup> lockstep_;
    void retire(Alert* alert);
    Micros idle_limit(const Alert& a) const;
    bool note_distributed_answer(const Observed& o);
    void note_opened_before(Alert& a, Ipv4 source, ScanKind kind);
    void note_distributed(SliceAxis axis, const Observed& o, const DecodedPacket* packet, Micros now);
    void feed_distributed(const Observed& o, const DecodedPacket& packet, const Track& t, Micros now);
    struct SliceView;
    bool note_view_answer(const SliceKey& key, const SliceView& view, const Observed& o);
    bool known_flow(const DecodedPacket& p) const;
    void remember_flow(const DecodedPacket& p);

    DetectConfig config_;
    DetectStats stats_;
    SourceList sources_;  // most recent first
    std::unordered_map<std::uint32_t, SourceList::iterator> by_address_;
    std::deque<std::unique_ptr<Alert>> open_;  // in the order raised: the oldest ends first when too many
    std::vector<std::unique_ptr<Alert>> closed_;
    std::vector<const Alert*> raised_;
    std::uint64_t next_id_ = 1;
    Micros latest_ = 0;  // the latest packet's time
    // Sessions seen (SYN+ACK or data), hashed, one slot each: ACK and FIN+ACK inside them are not
    // probes. Fixed size: a collision forgets an older session, which at worst lets an ACK count.
    std::vector<std::uint64_t> flows_;

    // Distributed scans: per (target, kind) the sources' ports, and per (port, kind) the sources'
    // hosts, in the window, counted as they come and go so that each probe costs O(1).
    struct SliceTouch {
        Micros at = 0;
        std::uint32_t source = 0;
        std::uint32_t item = 0;  // the port (ports_of_target) or the host (hosts_of_port)
    };
    struct SliceView {
        std::deque<SliceTouch> touches;
        std::unordered_map<std::uint64_t, std::uint32_t> pairs;         // (source, item) -> touches
        std::unordered_map<std::uint32_t, std::uint32_t> source_items;  // source -> distinct items
        std::unordered_map<std::uint32_t, std::uint32_t> item_sources;  // item -> distinct sources
        std::uint32_t slices = 0;  // sources with 2 items or more
        std::uint32_t whole = 0;   // sources at the threshold on their own
        ToolEvidence evidence;     // of the probes seen since the view began
        Alert* alert = nullptr;
        bool candidate = false;    // shaped like a distributed scan, its answers still awaited
    };
    std::map<SliceKey, SliceView> views_;
    std::uint32_t slice_threshold(SliceAxis axis) const;
    void push_slice(SliceAxis axis, SliceView& v, const SliceTouch& t);
    void pop_slice(SliceAxis axis, SliceView& v);
    void expire_view(SliceAxis axis, SliceView& v, Micros now);
    void feed_view(SliceAxis axis, const Observed& o, const DecodedPacket& packet, const Track& t, Micros now);
    enum class SliceVerdict : std::uint8_t { no, wait, yes };
    SliceVerdict slices_failed(const SliceKey& key, const SliceView& v, Micros now);
    void evaluate_view(const SliceKey& key, SliceView& v, Micros now);
    std::vector<SliceKey> view_candidates_;
    void recheck_views(Micros now);
    // Sources whose window reached a threshold while its touches still waited for answers: looked
    // at again by take_finished, when the unanswered ones have aged into failures.
    std::vector<std::pair<std::uint32_t, ScanKind>> candidates_;
    void recheck_candidates(Micros now);
};

}  // namespace flagscan

// Scan detection per source: sliding windows of distinct touches, the failure rule, LRU-bounded state.
#include "flagscan/detect/detector.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <utility>

namespace flagscan {
namespace {

constexpr std::size_t kFlowSlots = std::size_t{1} << 16;
constexpr std::size_t kMaxTargetTouches = 1024;
constexpr Micros kForever = std::numeric_limits<Micros>::max() / 2;

bool is_tcp_kind(ScanKind k) { return k != ScanKind::udp && k != ScanKind::icmp_echo && k != ScanKind::icmp_timestamp && k != ScanKind::arp; }
bool kind_uses_ports(ScanKind k) { return k != ScanKind::icmp_echo && k != ScanKind::icmp_timestamp && k != ScanKind::arp; }
// Kinds whose benign look-alikes exist (clients connect, resolvers query; a session the capture
// joined mid-flight sends bare ACKs as keep-alives and FIN+ACK as it closes): the failure rule
// applies. An ACK or Maimon probe fails when refused (RST) or unanswered; a session's peer
// acknowledges (answers_session).
bool needs_failures(ScanKind k) {
    return k == ScanKind::syn || k == ScanKind::udp || k == ScanKind::ack_window || k == ScanKind::maimon;
}

// Both directions of a TCP session hash alike.
std::uint64_t flow_hash(const DecodedPacket& p) {
    std::uint64_t a = (std::uint64_t{p.ip.src.value()} << 16) | p.tcp->sport.value();
    std::uint64_t b = (std::uint64_t{p.ip.dst.value()} << 16) | p.tcp->dport.value();
    if (a > b) std::swap(a, b);
    std::uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL) * 0xc2b2ae3d27d4eb4fULL;
    return h | 1;  // 0 marks an empty slot
}

}  // namespace

std::string_view scan_shape_name(ScanShape shape) {
    switch (shape) {
        case ScanShape::vertical: return "vertical";
        case ScanShape::horizontal: return "horizontal";
        case ScanShape::block: return "block";
    }
    return "block";
}

// One host = vertical, one port (or no ports: ICMP, ARP) on several hosts = horizontal.
ScanShape Alert::shape() const {
    if (target_count <= 1) return ScanShape::vertical;
    if (!uses_ports || ports.count() <= 1) return ScanShape::horizontal;
    return ScanShape::block;
}

std::string Alert::remarks() const {
    const std::string slices = view.axis == SliceAxis::ports_of_target ? " sources, disjoint port slices of one target" : " sources, disjoint host slices of one port";
    const std::string note = distributed ? std::to_string(sources.size()) + slices : this->note;
    if (lockstep.empty()) return note;
    std::string text = "lockstep with ";
    for (std::size_t i = 0; i < lockstep.size(); ++i) text += (i ? "," : "") + lockstep[i].str();
    text += " (decoys, nmap -D): ";
    text += decoys.scanner ? "the scanner is " + decoys.scanner->str() : std::string("the scanner is not known");
    return note.empty() ? text : note + "; " + text;
}

double Alert::rate_pps() const {
    const double seconds = static_cast<double>(last - first) / kSecond;
    return seconds > 0 ? static_cast<double>(probes) / seconds : static_cast<double>(probes);
}

void Alert::add_target(Ipv4 target) {
    if (targets.count(target)) return;
    ++target_count;
    if (targets.size() < kMaxListedTargets) targets.insert(target);
}

// --- TouchWindow ---------------------------------------------------------------------------

bool TouchWindow::add(Micros now, Ipv4 target, Port port) {
    const auto k = key(target, port);
    if (index_.count(k)) return false;
    if (touches_.size() >= kMaxTouches) pop_front();
    index_[k] = base_ + touches_.size();
    touches_.push_back(Touch{now, target.value(), port.value()});
    ++ports_[port.value()];
    ++hosts_[target.value()];
    return true;
}

TouchWindow::Touch* TouchWindow::find(Ipv4 target, Port port) {
    auto it = index_.find(key(target, port));
    return it == index_.end() ? nullptr : &touches_[it->second - base_];
}

bool TouchWindow::answer(Ipv4 target, Port port, Answer a) {
    Touch* t = find(target, port);
    if (!t) return false;
    if (t->answer == Answer::positive) --successes_;
    if (t->answer == Answer::negative || t->aged) --failures_;
    t->aged = false;
    t->answer = a;
    if (a == Answer::positive) ++successes_, t->accepted = true;
    if (a == Answer::negative) ++failures_;
    return true;
}

bool TouchWindow::complete(Ipv4 target, Port port) {
    Touch* t = find(target, port);
    if (!t || t->answer != Answer::positive || t->completed) return false;
    t->completed = true;
    return true;
}

void TouchWindow::saw_data(Ipv4 target, Port port) {
    if (Touch* t = find(target, port)) t->data = true;
}

bool TouchWindow::abort(Ipv4 target, Port port) {
    Touch* t = find(target, port);
    if (!t || t->answer != Answer::positive || t->data) return false;
    answer(target, port, Answer::negative);
    return true;
}

void TouchWindow::pop_front() {
    const Touch& t = touches_.front();
    index_.erase(key(Ipv4{t.target}, Port{t.port}));
    if (auto p = ports_.find(t.port); p != ports_.end() && --p->second == 0) ports_.erase(p);
    if (auto h = hosts_.find(t.target); h != hosts_.end() && --h->second == 0) hosts_.erase(h);
    if (t.answer == Answer::positive) --successes_;
    if (t.answer == Answer::negative || t.aged) --failures_;
    touches_.pop_front();
    ++base_;
    if (aged_upto_ > 0) --aged_upto_;
}

// Drops touches older than WINDOW; a touch left unanswered for GRACE counts as failed (a
// filtered port, an absent host), once.
void TouchWindow::expire(Micros now, Micros window, Micros grace) {
    while (!touches_.empty() && now - touches_.front().at > window) pop_front();
    while (aged_upto_ < touches_.size() && now - touches_[aged_upto_].at > grace) {
        Touch& t = touches_[aged_upto_++];
        if (t.answer == Answer::pending && !t.aged) {
            t.aged = true;
            ++failures_;
        }
    }
}

void TouchWindow::clear() { *this = TouchWindow{}; }

// --- Detector ------------------------------------------------------------------------------

Detector::Detector(const DetectConfig& config) : config_(config), flows_(kFlowSlots, 0) {
    config_.max_sources = std::max<std::size_t>(1, config_.max_sources);
}

Detector::Source* Detector::find_source(Ipv4 address) {
    auto it = by_address_.find(address.value());
    return it == by_address_.end() ? nullptr : &*it->second;
}

// Least recently used first out: a sensor under a flood of sources keeps a fixed memory, and
// says how many it forgot (an evicted source's open alert stays open, without more updates).
Detector::Source& Detector::source_for(Ipv4 address) {
    if (auto it = by_address_.find(address.value()); it != by_address_.end()) {
        sources_.splice(sources_.begin(), sources_, it->second);
        return sources_.front();
    }
    if (sources_.size() >= config_.max_sources) {
        Source& old = sources_.back();
        for (auto& [kind, track] : old.tracks)
            track.alert = nullptr;  // stays open, closed by time
        by_address_.erase(old.address.value());
        sources_.pop_back();
        ++stats_.sources_evicted;
    }
    sources_.push_front(Source{address, {}, {}});
    by_address_[address.value()] = sources_.begin();
    ++stats_.sources_tracked;
    return sources_.front();
}

Detector::Track* Detector::find_track(Source* s, ScanKind kind) {
    if (!s) return nullptr;
    auto it = s->tracks.find(kind);
    return it == s->tracks.end() ? nullptr : &it->second;
}

bool Detector::known_flow(const DecodedPacket& p) const {
    const std::uint64_t h = flow_hash(p);
    return flows_[h % kFlowSlots] == h;
}

void Detector::remember_flow(const DecodedPacket& p) {
    const std::uint64_t h = flow_hash(p);
    flows_[h % kFlowSlots] = h;
}

void Detector::on_packet(const DecodedPacket& packet, Micros now, bool fragmented) {
    ++stats_.packets;
    latest_ = std::max(latest_, now);
    const Observed o = observe(packet, fragmented);
    if (packet.tcp && (o.payload || o.role == Observed::Role::positive)) remember_flow(packet);
    note_presence(packet, o);
    if (answers_session(packet)) return;
    switch (o.role) {
        case Observed::Role::probe:
            if (packet.udp && answers_udp(packet, now)) return;
            if (o.kind == ScanKind::maimon && (o.payload || known_flow(packet))) return;  // a session's close
            on_probe(o, packet, now);
            return;
        case Observed::Role::positive: on_answer(o, now); return;
        case Observed::Role::negative:
            if (!on_answer(o, now) && packet.tcp) on_prober_reset(packet, now);
            return;
        case Observed::Role::ack: on_ack(o, packet, now); return;
        case Observed::Role::other: return;
    }
}

// A segment with ACK (not RST) back to the one that sent an ACK or FIN+ACK in that flow: not a
// probe's answer (RFC 793 3.4: a segment for no connection gets RST) but the peer of a session
// whose start the capture missed (a keep-alive acknowledged, a close answered). That touch is a
// success; the flow is a session from now on.
bool Detector::answers_session(const DecodedPacket& p) {
    if (!p.tcp || !p.tcp->flags.has(TcpFlags::ack) || p.tcp->flags.has(TcpFlags::rst) || p.tcp->flags.has(TcpFlags::syn)) return false;
    Source* s = find_source(p.ip.dst);
    if (s == nullptr) return false;
    bool hit = false;
    for (const ScanKind kind : {ScanKind::ack_window, ScanKind::maimon}) {
        auto it = s->tracks.find(kind);
        if (it == s->tracks.end() || it->second.alert) continue;
        const bool in_fast = it->second.fast.answer(p.ip.src, p.tcp->sport, TouchWindow::Answer::positive);
        const bool in_slow = it->second.slow.answer(p.ip.src, p.tcp->sport, TouchWindow::Answer::positive);
        hit = hit || in_fast || in_slow;
    }
    if (hit) remember_flow(p);
    return hit;
}

// A UDP datagram back from a port the other side probed is its answer (RFC 768 has no
// handshake; an open service replies from the port it was sent to), not a probe of its own.
bool Detector::answers_udp(const DecodedPacket& p, Micros now) {
    return on_answer(Observed{Observed::Role::positive, ScanKind::udp, ipproto::udp, p.ip.dst, p.ip.src, p.udp->sport}, now);
}

// What sources do besides probing (for decoys): ARP for and from them, the SYN+ACKs they are
// sent and the RSTs their kernel answers them with (RFC 793 3.4: a segment for no connection),
// their sessions' data; with the link sender of their own frames.
void Detector::note_presence(const DecodedPacket& p, const Observed& o) {
    if (p.arp) {
        if (Source* asked = p.arp->operation == 1 ? find_source(p.arp->target_ip) : nullptr) ++asked->presence.arp_asked;
        if (Source* s = find_source(p.arp->sender_ip)) {
            ++s->presence.arp_sent;
            s->presence.saw_own(p.arp->sender_mac);
        }
        return;
    }
    if (!p.tcp) return;
    const bool synack = p.tcp->flags.has(TcpFlags::syn) && p.tcp->flags.has(TcpFlags::ack);
    if (synack) {
        if (Source* s = find_source(p.ip.dst)) ++s->presence.synacks;
        return;
    }
    const bool reset = p.tcp->flags.has(TcpFlags::rst) && known_flow(p);
    if (!reset && !o.payload) return;
    if (Source* s = find_source(p.ip.src)) {
        ++(reset ? s->presence.resets : s->presence.data);
        s->presence.saw_own(p.link_src);
    }
}

void Detector::on_probe(const Observed& o, const DecodedPacket& packet, Micros now) {
    Source& s = source_for(o.from);
    s.presence.saw_probe(packet.link_src);
    Track& t = s.tracks[o.kind];
    if (t.alert && now - t.alert->last > idle_limit(*t.alert)) retire(t.alert);  // that scan was over: a new one
    if (Alert* a = t.alert) {  // a raised scan grows its alert only: its windows stay as they were
        ++a->probes;
        a->add_target(o.to);
        a->ports.set(o.port.value());
        a->last = now;
        a->evidence.add(packet);
        return;
    }
    t.fast.expire(now, config_.window, config_.answer_grace);
    const bool fresh = t.fast.add(now, o.to, o.port);
    if (config_.slow_window > 0) {
        t.slow.expire(now, config_.slow_window, config_.answer_grace);
        t.slow.add(now, o.to, o.port);
    }
    if (Alert* a = t.draft.get()) {
        a->add_target(o.to);
        a->ports.set(o.port.value());
    }
    ++t.probes;
    t.evidence.add(packet);
    evaluate(s, o.kind, t, now);
    if (!t.alert && fresh) feed_distributed(o, packet, t, now);
}

// Only sources with two ports (two hosts) or more can hold a slice: single touches (a client,
// each of a flood's sources) never reach the views, which keeps them cheap.
void Detector::feed_distributed(const Observed& o, const DecodedPacket& packet, const Track& t, Micros now) {
    if (kind_uses_ports(o.kind)) feed_view(SliceAxis::ports_of_target, o, packet, t, now);
    feed_view(SliceAxis::hosts_of_port, o, packet, t, now);  // ICMP and ARP sweeps: port 0
}

// When a source reaches its second item on an axis, its window so far goes in too.
void Detector::feed_view(SliceAxis axis, const Observed& o, const DecodedPacket& packet, const Track& t, Micros now) {
    const bool by_port = axis == SliceAxis::ports_of_target;
    const std::size_t items = by_port ? t.fast.distinct_ports() : t.fast.distinct_hosts();
    if (items < 2) return;
    const std::uint32_t touches_of_item = by_port ? t.fast.touches_of_port(o.port) : t.fast.touches_of_host(o.to);
    if (items > 2 || touches_of_item > 1) return note_distributed(axis, o, &packet, now);
    for (std::size_t i = 0; i < t.fast.touches().size(); ++i) {
        const auto& touch = t.fast.touches()[i];
        Observed earlier = o;
        earlier.to = Ipv4{touch.target};
        earlier.port = Port{touch.port};
        note_distributed(axis, earlier, i + 1 == t.fast.touches().size() ? &packet : nullptr, now);
    }
}

bool Detector::on_answer(const Observed& o, Micros now) {
    Source* s = find_source(o.from);
    if (!s) return false;
    bool any = false;
    const auto a = o.role == Observed::Role::positive ? TouchWindow::Answer::positive : TouchWindow::Answer::negative;
    for (auto& [kind, t] : s->tracks) {
        const bool same = o.protocol == ipproto::tcp ? is_tcp_kind(kind) : (kind == o.kind || kind == ScanKind::fragments);
        if (!same) continue;
        if (Alert* alert = t.alert) {  // its windows are frozen: the alert's own ports tell
            const bool known = (kind_uses_ports(kind) ? alert->ports.test(o.port.value()) : true) &&
                               (alert->targets.count(o.to) > 0 || alert->target_count > alert->targets.size());
            if (!known) continue;
            any = true;
            if (a == TouchWindow::Answer::positive && kind_uses_ports(kind)) alert->open.set(o.port.value());
            continue;
        }
        const bool in_fast = t.fast.answer(o.to, o.port, a);
        const bool in_slow = t.slow.answer(o.to, o.port, a);
        const bool hit = in_fast || in_slow;
        if (!hit) continue;
        any = true;
        Alert* alert = t.alert ? t.alert : t.draft.get();
        if (alert && a == TouchWindow::Answer::positive && kind_uses_ports(kind)) alert->open.set(o.port.value());
        evaluate(*s, kind, t, now);
    }
    return note_distributed_answer(o) || any;
}

// A reply to a prober that is one of a distributed scan's sources: the port it found open (only
// the views of the reply's target and of its port are looked at: this runs for every reply).
bool Detector::note_distributed_answer(const Observed& o) {
    bool any = false;
    const std::pair<SliceAxis, std::uint32_t> sides[] = {{SliceAxis::ports_of_target, o.to.value()},
                                                         {SliceAxis::hosts_of_port, o.port.value()}};
    for (const auto& [axis, key] : sides)
        for (auto it = views_.lower_bound({axis, key, ScanKind{}}); it != views_.end() && it->first.axis == axis && it->first.key == key; ++it)
            any = note_view_answer(it->first, it->second, o) || any;
    return any;
}

bool Detector::note_view_answer(const SliceKey& key, const SliceView& view, const Observed& o) {
    Alert* alert = view.alert;
    if (alert == nullptr || !kind_uses_ports(key.kind)) return false;
    const bool same = o.protocol == ipproto::tcp ? is_tcp_kind(key.kind) : key.kind == o.kind;
    const bool ours = std::find(alert->sources.begin(), alert->sources.end(), o.from) != alert->sources.end();
    const bool touched = alert->ports.test(o.port.value()) && alert->targets.count(o.to) > 0;
    if (!same || !ours || !touched) return false;
    if (o.role == Observed::Role::positive) alert->open.set(o.port.value());
    return true;
}

// Why: TRW counts a connection as a success only when it was established; a SYN scanner's kernel
// resets every SYN+ACK (the scanner never asked for the connection), and nmap -sT closes each
// connect() at once with a RST. So an accepted touch the prober itself resets before sending
// any data counts as failed: a half-open probe, not a client's session.
void Detector::on_prober_reset(const DecodedPacket& packet, Micros now) {
    Source* s = find_source(packet.ip.src);
    Track* t = find_track(s, ScanKind::syn);
    if (!t) return;
    const bool in_fast = t->fast.abort(packet.ip.dst, packet.tcp->dport);
    const bool in_slow = t->slow.abort(packet.ip.dst, packet.tcp->dport);
    const bool changed = in_fast || in_slow;
    if (changed) evaluate(*s, ScanKind::syn, *t, now);
}

// A bare ACK: the third step of a handshake the source began (a connect scan, or any client),
// session traffic, or else an ACK probe (-sA / -sW).
void Detector::on_ack(const Observed& o, const DecodedPacket& packet, Micros now) {
    if (Track* t = find_track(find_source(o.from), ScanKind::syn)) {
        Track& syn = *t;
        if (syn.alert && !o.payload && syn.alert->open.test(o.port.value())) {
            ++syn.alert->handshakes;  // an ACK to a port found open: the connect scan's third step
            return;
        }
        if (syn.fast.complete(o.to, o.port)) {
            ++syn.handshakes;
            if (syn.alert) ++syn.alert->handshakes;
            return;
        }
        if (o.payload) {
            syn.fast.saw_data(o.to, o.port);
            syn.slow.saw_data(o.to, o.port);
        }
    }
    if (o.payload || known_flow(packet) || !packet.tcp || packet.tcp->flags.bits() != TcpFlags::ack) return;
    Observed probe = o;
    probe.role = Observed::Role::probe;
    on_probe(probe, packet, now);
}

// Threshold P distinct ports or H distinct hosts in the window; where benign fan-out exists
// (SYN: clients; UDP: resolvers), most of the attempts must also have failed (TRW).
bool Detector::is_scan(ScanKind kind, const TouchWindow& w, bool fast) const {
    const bool by_ports = kind_uses_ports(kind) && w.distinct_ports() >= config_.ports_threshold;
    const bool by_hosts = w.distinct_hosts() >= config_.hosts_threshold;
    if (!by_ports && !by_hosts) return false;
    if (!needs_failures(kind) || (fast && w.saturated())) return true;  // a long window may fill up benignly
    const std::uint64_t need = (by_ports ? config_.ports_threshold : config_.hosts_threshold + 1) / 2;
    return w.failures() >= need && w.failures() >= w.successes();
}

// Enough distinct touches, not yet enough failures: answers (or their absence) decide later.
bool Detector::reaches_threshold(ScanKind kind, const TouchWindow& w) const {
    return (kind_uses_ports(kind) && w.distinct_ports() >= config_.ports_threshold) || w.distinct_hosts() >= config_.hosts_threshold;
}

bool Detector::near_threshold(ScanKind kind, const Track& t) const {
    return reaches_threshold(kind, t.fast) || (config_.slow_window > 0 && reaches_threshold(kind, t.slow));
}

bool Detector::try_raise(Source& s, ScanKind kind, Track& t, Micros now) {
    if (is_scan(kind, t.fast, true)) raise(s, kind, t, false, now);
    else if (config_.slow_window > 0 && is_scan(kind, t.slow, false)) raise(s, kind, t, true, now);
    return t.alert != nullptr;
}

void Detector::evaluate(Source& s, ScanKind kind, Track& t, Micros now) {
    if (t.alert || try_raise(s, kind, t, now)) return;
    if (t.candidate || candidates_.size() >= config_.max_sources || !near_threshold(kind, t)) return;
    t.candidate = true;
    t.draft = draft_from(s, kind, reaches_threshold(kind, t.fast) ? t.fast : t.slow, now);
    candidates_.emplace_back(s.address.value(), kind);
}

// Candidates whose unanswered touches have aged since: raised, kept, or let go.
void Detector::recheck_candidates(Micros now) {
    std::erase_if(candidates_, [&](const auto& c) {
        Source* s = find_source(Ipv4{c.first});
        if (!s) return true;
        auto it = s->tracks.find(c.second);
        if (it == s->tracks.end() || !it->second.candidate) return true;
        Track& t = it->second;
        // Age first, drop later: after a quiet gap in a capture the touches have both aged and
        // left the window; they were a scan while they were in it.
        t.fast.expire(now, kForever, config_.answer_grace);
        t.slow.expire(now, kForever, config_.answer_grace);
        if (t.alert || try_raise(*s, c.second, t, now)) return true;
        t.fast.expire(now, config_.window, config_.answer_grace);
        if (config_.slow_window > 0) t.slow.expire(now, config_.slow_window, config_.answer_grace);
        if (near_threshold(c.second, t)) return false;
        t.candidate = false;
        t.draft.reset();
        return true;
    });
}

// The SYN track is reported as connect when the source completed handshakes itself, or when its
// SYNs carry an OS stack's full option list (raw scanners send MSS alone or nothing).
static ScanKind reported_kind(const Alert& a) {
    if (a.track_kind != ScanKind::syn) return a.track_kind;
    const auto& e = a.evidence;
    const bool os_syns = e.syn > 0 && e.syn_os_options * 10 >= e.syn * 8;
    return a.handshakes > 0 || os_syns ? ScanKind::connect : ScanKind::syn;
}

// A new alert's first state: the window's touches (its distinct targets and ports).
std::unique_ptr<Alert> Detector::draft_from(const Source& s, ScanKind kind, const TouchWindow& w, Micros now) const {
    auto alert = std::make_unique<Alert>();
    Alert& a = *alert;
    a.sources = {s.address};
    a.track_kind = kind;
    a.uses_ports = kind_uses_ports(kind);
    a.first = w.touches().empty() ? now : w.touches().front().at;
    for (std::size_t i = 0; i < w.touches().size(); ++i) {
        const auto& touch = w.touches()[i];
        a.add_target(Ipv4{touch.target});
        a.ports.set(touch.port);
        if (touch.accepted && a.uses_ports) a.open.set(touch.port);
    }
    return alert;
}

Alert& Detector::raise(Source& s, ScanKind kind, Track& t, bool slow, Micros now) {
    auto alert = t.draft ? std::move(t.draft) : draft_from(s, kind, slow ? t.slow : t.fast, now);
    t.candidate = false;
    Alert& a = *alert;
    a.id = next_id_++;
    a.probes = t.probes;
    const TouchWindow& w = slow ? t.slow : t.fast;
    a.last = w.touches().empty() ? now : std::max(a.first, w.touches()[w.touches().size() - 1].at);  // the last probe
    a.slow = slow;
    a.handshakes = t.handshakes;
    a.evidence = t.evidence;
    a.kind = reported_kind(a);
    note_lockstep(a, s.address);
    t.alert = &a;
    t.fast.clear();  // from now on the alert holds what the scan touches
    t.slow.clear();
    open_alert(std::move(alert));
    return a;
}

// At most --max-sources alerts open: past that the oldest raised one is ended now (reported as it
// stands) rather than the sensor growing without bound under a flood of scanning sources.
void Detector::open_alert(std::unique_ptr<Alert> alert) {
    if (open_.size() >= config_.max_sources) {
        retire(open_.front().get());
        ++stats_.alerts_cut;
    }
    raised_.push_back(alert.get());
    open_.push_back(std::move(alert));
    ++stats_.alerts;
}

std::uint64_t Detector::lockstep_signature(const Alert& a) {
    std::uint64_t h = 1469598103934665603ull ^ static_cast<std::uint64_t>(a.track_kind);
    for (const Ipv4 t : a.targets) h = (h ^ t.value()) * 1099511628211ull;
    return (h ^ a.target_count) * 1099511628211ull;
}

// nmap -D: the same probes from several addresses at once; the probes' headers cannot tell which
// is real: each is reported, naming the others; judge_lockstep names the real one when what the
// sources did besides probing proves it (decoys.hpp).
void Detector::note_lockstep(Alert& a, Ipv4 source) {
    a.lockstep_key = lockstep_signature(a);
    LockstepGroup& g = lockstep_[a.lockstep_key];
    if (g.crowd) return;
    if (g.members.size() == kMaxDecoys) {  // more than nmap can send: not decoys
        for (Alert* other : g.members) other->lockstep.clear();
        g.members.clear();
        g.crowd = true;
        return;
    }
    for (Alert* other : g.members)
        if (other->targets == a.targets && std::llabs(a.first - other->first) <= config_.window) {
            a.lockstep.push_back(other->sources.front());
            other->lockstep.push_back(source);
        }
    g.members.push_back(&a);
}

void Detector::forget_lockstep(const Alert* a) {
    auto it = lockstep_.find(a->lockstep_key);
    if (it == lockstep_.end()) return;
    std::erase(it->second.members, a);
    if (it->second.members.empty()) lockstep_.erase(it);
}

std::vector<const Alert*> Detector::take_raised() { return std::exchange(raised_, {}); }

// A lockstep alert's verdict: its source and the others, judged on what each did.
void Detector::judge_lockstep(Alert& alert) {
    std::vector<GroupMember> group;
    for (const Ipv4 member : alert.sources) group.push_back({member, nullptr});
    for (const Ipv4 member : alert.lockstep) group.push_back({member, nullptr});
    for (auto& m : group)
        if (const Source* s = find_source(m.address)) m.presence = &s->presence;
    alert.decoys = judge_decoys(group);
}

// Detaches an alert from whatever feeds it (its source's track, its target view).
void Detector::close_alert(Alert* alert) {
    alert->kind = reported_kind(*alert);
    if (!alert->lockstep.empty()) judge_lockstep(*alert);
    forget_lockstep(alert);
    if (alert->distributed) {
        if (auto v = views_.find(alert->view); v != views_.end()) v->second.alert = nullptr;
        return;
    }
    if (Source* s = find_source(alert->sources.front()))
        if (auto t = s->tracks.find(alert->track_kind); t != s->tracks.end() && t->second.alert == alert) {
            t->second.alert = nullptr;
            t->second.fast.clear();
            t->second.slow.clear();
            t->second.probes = 0;
            t->second.handshakes = 0;
            t->second.evidence = ToolEvidence{};
            t->second.draft.reset();
            t->second.candidate = false;
        }
}

Micros Detector::idle_limit(const Alert& a) const { return a.slow ? config_.slow_window : config_.window; }

// Moves an open alert to the finished ones (its scan is over).
void Detector::retire(Alert* alert) {
    close_alert(alert);
    auto it = std::find_if(open_.begin(), open_.end(), [&](const auto& a) { return a.get() == alert; });
    if (it == open_.end()) return;
    closed_.push_back(std::move(*it));
    open_.erase(it);
}

// A scan is over when it has been idle for its window (the slow window for slow scans).
std::vector<std::unique_ptr<Alert>> Detector::take_finished(Micros now) {
    recheck_candidates(now);
    recheck_views(now);
    std::vector<std::unique_ptr<Alert>> done = std::exchange(closed_, {});
    for (auto& alert : open_) {
        if (now - alert->last <= idle_limit(*alert)) continue;
        close_alert(alert.get());
        done.push_back(std::move(alert));
    }
    std::erase(open_, nullptr);
    return done;
}

// At the end of input, probes still unanswered count as failed (the capture ends after the
// scan: its last answers would have come within the grace).
std::vector<std::unique_ptr<Alert>> Detector::finish() {
    recheck_candidates(latest_ + config_.answer_grace + 1);
    recheck_views(latest_ + config_.answer_grace + 1);
    for (auto& alert : open_) close_alert(alert.get());
    auto done = std::exchange(closed_, {});
    for (auto& alert : open_) done.push_back(std::move(alert));
    open_.clear();
    return done;
}

// --- distributed scans ---------------------------------------------------------------------

std::uint32_t Detector::slice_threshold(SliceAxis axis) const {
    return axis == SliceAxis::ports_of_target ? config_.ports_threshold : config_.hosts_threshold;
}

void Detector::push_slice(SliceAxis axis, SliceView& v, const SliceTouch& t) {
    v.touches.push_back(t);
    if (v.pairs[(std::uint64_t{t.source} << 32) | t.item]++ > 0) return;
    const auto items = ++v.source_items[t.source];
    if (items == 2) ++v.slices;
    if (items == slice_threshold(axis)) ++v.whole;
    ++v.item_sources[t.item];
}

void Detector::pop_slice(SliceAxis axis, SliceView& v) {
    const SliceTouch t = v.touches.front();
    v.touches.pop_front();
    auto pair = v.pairs.find((std::uint64_t{t.source} << 32) | t.item);
    if (pair == v.pairs.end() || --pair->second > 0) return;
    v.pairs.erase(pair);
    auto items = v.source_items.find(t.source);
    if (items->second == 2) --v.slices;
    if (items->second == slice_threshold(axis)) --v.whole;
    if (--items->second == 0) v.source_items.erase(items);
    auto sources = v.item_sources.find(t.item);
    if (--sources->second == 0) v.item_sources.erase(sources);
}

void Detector::expire_view(SliceAxis axis, SliceView& v, Micros now) {
    while (!v.touches.empty() && (now - v.touches.front().at > config_.window || v.touches.size() >= kMaxTargetTouches))
        pop_slice(axis, v);
}

// Sources below the threshold: recorded per (target, kind) and per (port, kind), so that
// disjoint slices of one port range, or of one target set, from several sources add up to one scan.
void Detector::note_distributed(SliceAxis axis, const Observed& o, const DecodedPacket* packet, Micros now) {
    const bool by_port = axis == SliceAxis::ports_of_target;
    const SliceKey key{axis, by_port ? o.to.value() : std::uint32_t{o.port.value()}, o.kind};
    auto it = views_.find(key);
    if (it == views_.end()) {
        if (views_.size() >= config_.max_sources) {  // bounded like the sources: drop the idle ones
            std::erase_if(views_, [&](const auto& e) {
                return !e.second.alert && !e.second.candidate && (e.second.touches.empty() || now - e.second.touches.back().at > config_.window);
            });
            if (views_.size() >= config_.max_sources) return;
        }
        it = views_.emplace(key, SliceView{}).first;
    }
    SliceView& v = it->second;
    expire_view(axis, v, now);
    push_slice(axis, v, SliceTouch{now, o.from.value(), by_port ? std::uint32_t{o.port.value()} : o.to.value()});
    if (packet) v.evidence.add(*packet);
    if (Alert* a = v.alert) {
        if (packet) a->evidence.add(*packet);
        ++a->probes;
        a->ports.set(o.port.value());
        a->add_target(o.to);
        a->last = now;
        if (std::find(a->sources.begin(), a->sources.end(), o.from) == a->sources.end()) {
            a->sources.push_back(o.from);
            note_opened_before(*a, o.from, o.kind);
        }
        return;
    }
    evaluate_view(key, v, now);
}

// The ports of the alert's targets that already answered `source` positively, before the alert
// was raised.
void Detector::note_opened_before(Alert& a, Ipv4 source, ScanKind kind) {
    const Track* t = find_track(find_source(source), kind);
    if (!t) return;
    const auto& touches = t->fast.touches();
    for (std::size_t i = 0; i < touches.size(); ++i)
        if (touches[i].accepted && a.targets.count(Ipv4{touches[i].target}) && a.ports.test(touches[i].port)) a.open.set(touches[i].port);
}

// The slices' own windows, answered: where benign fan-out exists (SYN: clients of many sites;
// UDP: resolvers), most of the slices' attempts must have failed, as for one source (TRW);
// `wait` while unanswered attempts could still decide it.
Detector::SliceVerdict Detector::slices_failed(const SliceKey& key, const SliceView& v, Micros now) {
    if (!needs_failures(key.kind)) return SliceVerdict::yes;
    std::uint64_t failures = 0, successes = 0, pending = 0;
    for (const auto& [source, n] : v.source_items) {
        if (n < 2) continue;
        Track* t = find_track(find_source(Ipv4{source}), key.kind);
        if (!t) continue;
        t->fast.expire(now, kForever, config_.answer_grace);  // ages, drops nothing
        failures += t->fast.failures();
        successes += t->fast.successes();
        pending += t->fast.pending();
    }
    const std::uint64_t need = slice_threshold(key.axis) / 2;
    if (failures >= need && failures >= successes) return SliceVerdict::yes;
    const bool could = failures + pending >= need && failures + pending >= successes;
    return could ? SliceVerdict::wait : SliceVerdict::no;
}

// A distributed scan: at least two sources with a slice of two items or more each (a client
// touches one or two services), none a scan on its own, the slices (nearly) disjoint (distinct
// items at least 90% of distinct (source, item) pairs: clients of one server overlap), their
// union at the threshold, and the slices failing as one scanner's probes do.
void Detector::evaluate_view(const SliceKey& key, SliceView& v, Micros now) {
    const std::size_t items = v.item_sources.size();
    if (v.slices < 2 || v.whole > 0 || items < slice_threshold(key.axis) || items * 10 < v.pairs.size() * 9) return;
    switch (slices_failed(key, v, now)) {
        case SliceVerdict::no: return;
        case SliceVerdict::wait:
            if (!v.candidate && view_candidates_.size() < config_.max_sources) {
                v.candidate = true;
                view_candidates_.push_back(key);
            }
            return;
        case SliceVerdict::yes: break;
    }
    auto alert = std::make_unique<Alert>();
    Alert& a = *alert;
    a.id = next_id_++;
    a.track_kind = key.kind;
    a.kind = key.kind;
    a.distributed = true;
    a.view = key;
    a.first = v.touches.front().at;
    a.last = v.touches.back().at;
    for (const auto& [source, n] : v.source_items)
        if (n >= 2) a.sources.push_back(Ipv4{source});
    std::sort(a.sources.begin(), a.sources.end());
    for (const auto& t : v.touches) {
        const bool by_port = key.axis == SliceAxis::ports_of_target;
        a.add_target(Ipv4{by_port ? key.key : t.item});
        a.ports.set(by_port ? t.item : key.key);
    }
    for (const Ipv4 source : a.sources) note_opened_before(a, source, key.kind);
    a.probes = v.touches.size();
    a.evidence = v.evidence;
    v.alert = &a;
    open_alert(std::move(alert));
}

// Views waiting for answers: looked at again once their probes have had time to be answered.
void Detector::recheck_views(Micros now) {
    std::erase_if(view_candidates_, [&](const SliceKey& key) {
        auto it = views_.find(key);
        if (it == views_.end()) return true;
        SliceView& v = it->second;
        if (!v.alert) evaluate_view(key, v, now);
        if (!v.alert && !v.touches.empty() && now - v.touches.back().at <= config_.window + config_.answer_grace) return false;
        v.candidate = false;
        return true;
    });
}

}  // namespace flagscan

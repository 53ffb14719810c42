// Replaying a captured scan: conversations, then the scans in it, then the same engine over the frames.
#include "flagscan/engine/replay.hpp"

#include <algorithm>
#include <deque>
#include <unordered_map>

#include "flagscan/net/address_text.hpp"
#include "flagscan/os/os_probes.hpp"

namespace flagscan {

void Conversations::add(const DecodedPacket& packet, std::uint64_t ordinal, ByteView ip) {
    if (ip.size() > 0 && identify_os_probe(packet, ip)) os_probes_.insert(ordinal);
    const auto flow = flow_of(packet);
    if (!flow) return;
    if (packet.tcp) {
        if (tcp_data_length(packet) > 0) tcp_data_.insert(*flow);
        if (packet.tcp->flags.has(TcpFlags::syn | TcpFlags::ack)) syn_acked_.insert(flow->reversed());
        return;
    }
    udp_first_.try_emplace(*flow, ordinal);  // ordinals only grow: the first one stays
}

// A TCP conversation with data both ways is a connection (RFC 793 3.4: data flows once both
// sides are ESTABLISHED), whatever its flags; no scan sends data and gets data back. After a
// SYN,ACK, the SYN's side continues a handshake (a connect scan's ACK), and what the side that
// accepted sends on it (a banner, a FIN) is no probe either. A datagram whose
// reverse flow spoke first answers it (a DNS answer, an open UDP port's reply). nmap's -O
// probes (T4, T6 are ACKs, T2 a bare segment) are set aside, not read as a port scan's.
Traffic Conversations::classify(const DecodedPacket& packet, std::uint64_t ordinal) const {
    const auto flow = flow_of(packet);
    if (os_probes_.contains(ordinal)) return Traffic::os_probe;
    if (!flow) return Traffic::reply;
    if (packet.tcp) {
        if (tcp_data_.contains(*flow) && tcp_data_.contains(flow->reversed())) return Traffic::connection;
        const TcpFlags flags = packet.tcp->flags;
        if (flags.any(TcpFlags::rst) || flags.has(TcpFlags::syn | TcpFlags::ack)) return Traffic::reply;
        const bool accepted = syn_acked_.contains(*flow) || syn_acked_.contains(flow->reversed());  // either side of it
        if (!flags.any(TcpFlags::syn) && accepted) return Traffic::handshake;
        return Traffic::probe;
    }
    const auto back = udp_first_.find(flow->reversed());
    return back != udp_first_.end() && back->second < ordinal ? Traffic::reply : Traffic::probe;
}

ProbeSignature ProbeSignature::of(const DecodedPacket& packet) {
    return ProbeSignature{packet.ip.protocol, packet.tcp ? packet.tcp->flags.bits() : std::uint8_t{0}};
}

std::string ProbeSignature::str(std::uint64_t count) const {
    const std::string plural = count == 1 ? "" : "s";
    if (protocol == ipproto::udp) return "UDP datagram" + plural;
    return TcpFlags{flags}.str() + " probe" + plural;
}

std::string ScanRun::name() const {
    std::string out;
    for (const auto& kind : kinds) out += (out.empty() ? "" : " and ") + std::string(kind.name);
    return out;
}

bool ScanRun::takes(const DecodedPacket& packet) const {
    return (packet.tcp || packet.udp) && std::ranges::find(shapes, ProbeSignature::of(packet)) != shapes.end();
}

void ScanSurvey::add(const DecodedPacket& packet, Traffic traffic, std::uint64_t ordinal) {
    if (traffic == Traffic::connection) ++connection_packets_;
    if (traffic == Traffic::handshake) ++handshake_packets_;
    if (traffic != Traffic::probe) return;
    Group& group = senders_[packet.ip.src].groups[ProbeSignature::of(packet)];
    if (group.probes++ == 0) group.first = ordinal;
    group.add(packet.ip.dst.value(), packet.tcp ? packet.tcp->dport.value() : packet.udp->dport.value());
}

void ScanSurvey::Group::add(std::uint32_t host, std::uint16_t port) {
    hosts.insert(host);
    if (!ports[port]) ++port_count;
    ports[port] = true;
    probed.push_back((std::uint64_t{host} << 16) | port);
    if (probed.size() >= 2 * unique_probed + 1024) make_unique();  // retries: memory stays per probed port
}

void ScanSurvey::Group::make_unique() {
    std::ranges::sort(probed);
    probed.erase(std::unique(probed.begin(), probed.end()), probed.end());
    unique_probed = probed.size();
}

std::uint64_t ScanSurvey::Sender::scan_probes() const {
    std::uint64_t sum = 0;
    for (const auto& [shape, group] : groups) sum += group.is_scan() ? group.probes : 0;
    return sum;
}

std::uint64_t ScanSurvey::Sender::probes() const {
    std::uint64_t sum = 0;
    for (const auto& [shape, group] : groups) sum += group.probes;
    return sum;
}

namespace {

ProbeKind kind_for_signature(ProbeSignature shape) {
    if (shape.protocol == ipproto::udp) return udp_kind();
    for (const auto& kind : all_probe_kinds()) {
        if (kind.flags.bits() == shape.flags) return kind;  // ACK before Window: the same probe
    }
    return custom_flags_kind(TcpFlags{shape.flags}, syn_kind());
}

// The option that replays the probes of SHAPE: "-sF", "-sU", "--scanflags FIN,PSH".
std::string option_for(ProbeSignature shape) {
    const ProbeKind kind = kind_for_signature(shape);
    if (kind.nmap_flag == "--scanflags") return "--scanflags " + TcpFlags{shape.flags}.str();
    return std::string(kind.nmap_flag);
}

}  // namespace

Ipv4 ScanSurvey::pick_scanner(const Choice& choice) const {
    if (choice.scanner) return *choice.scanner;
    return std::max_element(senders_.begin(), senders_.end(), [](const auto& a, const auto& b) {
               return std::pair{a.second.scan_probes(), a.second.probes()} < std::pair{b.second.scan_probes(), b.second.probes()};
           })->first;
}

// Every other address whose probes look like a scan: said, with how to replay it instead.
std::vector<std::string> ScanSurvey::scanner_notes(Ipv4 scanner, const Choice& choice) const {
    std::vector<std::string> notes;
    const bool given = choice.scanner.has_value();
    const auto it = senders_.find(scanner);
    const std::uint64_t mine = it == senders_.end() ? 0 : it->second.probes();
    for (const auto& [address, sender] : senders_) {
        if (address == scanner || sender.scan_probes() == 0) continue;
        const std::string other = address_text(choice.book, address);
        notes.push_back("a second scanner is in the capture: " + other + " sent " + std::to_string(sender.scan_probes()) +
                        " probes; replaying " + address_text(choice.book, scanner) + "'s " + std::to_string(mine) +
                        (given ? ", as --scanner asks" : " (the most; --scanner " + other + " replays the other)"));
    }
    return notes;
}

namespace {

void add_lane(ScanRun& run, const ProbeKind& kind, ProbeSignature shape, const std::vector<std::uint64_t>& probed) {
    const auto lane = static_cast<std::uint8_t>(run.kinds.size());
    run.kinds.push_back(kind);
    run.shapes.push_back(shape);
    run.probed.reserve(run.probed.size() + probed.size());
    for (const std::uint64_t pair : probed)
        run.probed.push_back(ProbedSlot{Ipv4{static_cast<std::uint32_t>(pair >> 16)}, Slot{Port{static_cast<std::uint16_t>(pair)}, lane}});
}

}  // namespace

// The busiest group of PROTOCOL: first those with FLAGS (when given), then those that look like a scan.
std::optional<std::size_t> ScanSurvey::busiest(const Ordered& order, std::uint8_t protocol, std::optional<std::uint8_t> flags) {
    const auto rank = [&](std::size_t i) {
        const Group& g = *order[i].second;
        return std::tuple{!flags || order[i].first.flags == *flags, g.is_scan(), g.probes};
    };
    std::optional<std::size_t> pick;
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (order[i].first.protocol == protocol && (!pick || rank(*pick) < rank(i))) pick = i;
    }
    return pick;
}

void ScanSurvey::add_group(ScanRun& run, const Ordered& order, std::size_t i, const ProbeKind& kind, std::vector<bool>& used) {
    add_lane(run, kind, order[i].first, order[i].second->probed);
    used[i] = true;
}

// -sS...-sM and/or -sU: one run of the probes with those kinds' flags (or, said, the busiest).
Result<ScanRun> ScanSurvey::given_run(const Choice& choice, const Ordered& order, std::vector<bool>& used, Conclusion& out) {
    ScanRun run;
    run.kind_inferred = false;
    const std::string& scanner = out.scanner_text;
    if (choice.tcp != nullptr) {
        const ProbeKind& kind = *choice.tcp;
        const auto pick = busiest(order, ipproto::tcp, kind.flags.bits());
        if (!pick)
            return Error{"the capture holds no TCP probes from " + scanner + " (" + std::string(kind.nmap_flag) + " was given)"};
        if (order[*pick].first.flags != kind.flags.bits())
            out.notes.push_back(std::string(kind.nmap_flag) + " was given, but " + scanner + " sent no " + kind.flags.str() +
                                " probes: replaying its " + order[*pick].first.str() + " as a " + std::string(kind.name) +
                                " scan, as asked");
        add_group(run, order, *pick, kind, used);
    }
    if (choice.udp) {
        const auto pick = busiest(order, ipproto::udp, std::nullopt);
        if (pick) add_group(run, order, *pick, udp_kind(), used);
        else if (choice.tcp == nullptr) return Error{"the capture holds no UDP probes from " + scanner + " (-sU was given)"};
        else out.notes.push_back("-sU was given, but " + scanner + " sent no UDP datagrams");
    }
    return run;
}

// Nothing given: every group that looks like a scan is one, in capture order; when none does,
// the busiest group is the scan.
std::vector<ScanRun> ScanSurvey::found_runs(const Ordered& order, std::vector<bool>& used) {
    std::vector<ScanRun> runs;
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (!order[i].second->is_scan()) continue;
        add_group(runs.emplace_back(), order, i, kind_for_signature(order[i].first), used);
    }
    if (runs.empty()) {
        const auto most =
            std::ranges::max_element(order, [](const auto& a, const auto& b) { return a.second->probes < b.second->probes; });
        const auto i = static_cast<std::size_t>(most - order.begin());
        add_group(runs.emplace_back(), order, i, kind_for_signature(order[i].first), used);
    }
    return runs;
}

// What the runs leave out, each with its reason.
void ScanSurvey::left_out_notes(const Ordered& order, const std::vector<bool>& used, Conclusion& out) const {
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (used[i]) continue;
        const Group& g = *order[i].second;
        const std::string why =
            g.is_scan() ? "another scan (" + option_for(order[i].first) + " replays it)" : "one port of one host is no scan";
        out.notes.push_back("left out " + std::to_string(g.probes) + " " + order[i].first.str(g.probes) + " of " +
                            out.scanner_text + " to " + std::to_string(g.hosts.size()) +
                            (g.hosts.size() == 1 ? " host, " : " hosts, ") + std::to_string(g.port_count) +
                            (g.port_count == 1 ? " port: " : " ports: ") + why);
    }
    if (connection_packets_ > 0)
        out.notes.push_back("left out " + std::to_string(connection_packets_) +
                            " packets of TCP connections that carried data both ways (no scan's)");
    if (handshake_packets_ > 0)
        out.notes.push_back("left out " + std::to_string(handshake_packets_) +
                            " segments that continue a handshake a SYN,ACK answered (not probes)");
}

Result<ScanSurvey::Conclusion> ScanSurvey::conclude(const Choice& choice) const {
    if (senders_.empty()) return Error{"the capture holds no TCP or UDP probes (no scan to replay)"};
    const Ipv4 scanner = pick_scanner(choice);
    const auto it = senders_.find(scanner);
    if (it == senders_.end()) return Error{"the capture holds no probes from the scanner " + address_text(choice.book, scanner)};
    Conclusion out{scanner, address_text(choice.book, scanner), {}, scanner_notes(scanner, choice)};
    Ordered order;  // the scanner's probe groups, in capture order
    for (const auto& [signature, group] : it->second.groups) order.emplace_back(signature, &group);
    std::ranges::sort(order, [](const auto& a, const auto& b) { return a.second->first < b.second->first; });
    std::vector<bool> used(order.size());
    if (choice.tcp != nullptr || choice.udp) {
        auto run = given_run(choice, order, used, out);
        if (!run) return Error{run.error()};
        out.runs.push_back(std::move(*run));
    } else {
        out.runs = found_runs(order, used);
    }
    left_out_notes(order, used, out);
    return out;
}

namespace {

void widen(ReplayCounts& counts, Micros ts) {
    counts.first = counts.first < 0 ? ts : std::min(counts.first, ts);
    counts.last = std::max(counts.last, ts);
}

// The (target, port) a reply speaks about: its source for TCP, the quoted probe's target for
// an ICMP error.
std::optional<std::uint64_t> reply_key(const DecodedPacket& packet) {
    if (packet.tcp) return Correlator::key(packet.ip.src, 0, packet.tcp->sport);
    if (packet.udp) return Correlator::key(packet.ip.src, 0, packet.udp->sport);
    if (packet.icmp && packet.icmp->quoted) return Correlator::key(packet.icmp->quoted->ip.dst, 0, packet.icmp->quoted->dport);
    return std::nullopt;
}

// Why: `tcpdump -i any` on a machine with several cores can file a reply before the probe that
// caused it (each core timestamps its own packets). A reply that matches nothing is kept for a
// while, and offered again when a probe to its (target, port) turns up.
class EarlyReplies {
public:
    void keep(const DecodedPacket& packet, Micros ts) {
        auto key = reply_key(packet);
        if (!key) return;
        if (order_.size() == kLimit) {
            waiting_.erase(order_.front());
            order_.pop_front();
        }
        waiting_.emplace(*key, Held{packet, ts});
        order_.push_back(*key);
    }
    // Replies kept for the probe just recorded, handed to the engine.
    void release(Engine& engine, const DecodedPacket& probe, ReplayCounts& counts) {
        const auto key = Correlator::key(probe.ip.dst, 0, probe.tcp ? probe.tcp->dport : probe.udp->dport);
        auto [first, last] = waiting_.equal_range(key);
        for (auto it = first; it != last; ++it) {
            const PacketOutcome outcome = engine.on_packet(it->second.packet, it->second.ts);
            if (outcome.kind != PacketOutcome::Kind::stray) widen(counts, it->second.ts);
        }
        waiting_.erase(first, last);
    }

private:
    static constexpr std::size_t kLimit = 4096;
    struct Held {
        DecodedPacket packet;
        Micros ts;
    };
    std::unordered_multimap<std::uint64_t, Held> waiting_;
    std::deque<std::uint64_t> order_;  // oldest first, for eviction (stale keys are harmless)
};

bool answers(PacketOutcome::Kind kind) { return kind != PacketOutcome::Kind::stray && kind != PacketOutcome::Kind::own; }

// The source port of a TCP or UDP packet whose header the capture cut short (decoded without
// it), when the bytes still hold it.
std::optional<Port> cut_source_port(const Frame& frame, const DecodedPacket& packet) {
    const bool transport = packet.ip.protocol == ipproto::tcp || packet.ip.protocol == ipproto::udp;
    if (!transport || packet.tcp || packet.udp || packet.ip.later_fragment) return std::nullopt;
    const auto port = ByteView{frame.span()}.be16(std::size_t{packet.link_header} + packet.ip.header_length);
    return port ? std::optional<Port>{Port{*port}} : std::nullopt;
}

}  // namespace

ReplayCounts replay_capture(Engine& engine, LinkType link, const std::function<std::optional<Frame>()>& next,
                            const Conversations& conversations, const ScanRun& run, Ipv4 scanner, const LoopHooks& hooks,
                            const FrameDecoder& decoder) {
    ReplayCounts counts;
    EarlyReplies early;
    Micros end = -1;  // the capture's latest timestamp: how long silence was waited for
    while (auto frame = next()) {
        const std::uint64_t ordinal = counts.frames++;
        end = std::max(end, frame->ts);
        if (hooks.tick) hooks.tick(frame->ts);  // what the frames before this one settled
        auto packet = decoder.decode(frame->link.value_or(link), ByteView{frame->span()});
        if (!packet) {
            ++counts.undecodable;
            continue;
        }
        const Traffic traffic = conversations.classify(*packet, ordinal);
        if (traffic == Traffic::connection || traffic == Traffic::handshake || traffic == Traffic::os_probe) continue;
        const bool own_probe = traffic == Traffic::probe && packet->ip.src == scanner;
        if (own_probe && run.takes(*packet) && engine.replay_probe(*packet, frame->ts)) {
            ++counts.probes;
            widen(counts, frame->ts);
            if (hooks.sent) hooks.sent(Probe{}, frame->span().subspan(packet->link_header), frame->ts);
            early.release(engine, *packet, counts);
            continue;
        }
        if (own_probe) continue;  // another scan's probe, or no scan's: the survey said so
        const PacketOutcome outcome = engine.on_packet(*packet, frame->ts);
        if (outcome.kind == PacketOutcome::Kind::stray) early.keep(*packet, frame->ts);
        if (answers(outcome.kind)) widen(counts, frame->ts);
        if (auto sport = cut_source_port(*frame, *packet)) engine.note_cut(*packet, *sport);
        if (hooks.received) hooks.received(*frame, *packet, outcome);
    }
    engine.finish_replay(end);
    return counts;
}

}  // namespace flagscan

// OsDetection: nmap's -O over the hosts a port scan left, one host at a time: ports chosen, tries run, fingerprints matched and reported.
#include "flagscan/os/os_detection.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <cstdio>
#include <ctime>
#include <random>


namespace flagscan {
namespace {

// nmap's random closed port when the scan found none (osscan2.cc: 30000 + random % 14781).
Port random_closed_port(std::mt19937_64& random) { return Port{static_cast<std::uint16_t>(30000 + random() % 14781)}; }

std::string hex_list(const std::vector<std::uint32_t>& values) {
    std::string out;
    for (const auto v : values) out += (out.empty() ? "" : ",") + hex(v);
    return out;
}

std::string hex_list(const std::vector<std::uint16_t>& values) {
    std::vector<std::uint32_t> wide(values.begin(), values.end());
    return hex_list(wide);
}

// ctime without its newline: nmap's "since" and lastboot text.
std::string ctime_line(std::time_t when) {
    char text[64] = {};
    std::strftime(text, sizeof text, "%a %b %e %H:%M:%S %Y", std::localtime(&when));
    return text;
}

// One host's tries: their fingerprints, the best try's round and matches.
struct HostTries {
    std::vector<Fingerprint> fingerprints;
    std::vector<OsRound> rounds;
    std::size_t best = 0;
    OsMatches matches;
    double max_timing_ratio = 0;
    bool interrupted = false;
};

double top_accuracy(const OsMatches& m) { return m.matches.empty() ? 0 : m.matches.front().accuracy; }

OsScanConditions conditions_of(const OsPortChoice& ports, const OsDetectionSettings& s, std::optional<int> distance,
                               double timing_ratio) {
    OsScanConditions c;
    c.open_tcp_port = ports.open_tcp ? ports.open_tcp->value() : -1;
    c.closed_tcp_port = ports.closed_tcp_known ? ports.closed_tcp.value() : -1;
    c.closed_udp_port = ports.closed_udp.value();  // nmap counts its random one too (G=Y without -sU)
    c.udp_scan = s.udp_scan;
    c.distance = distance.value_or(-1);
    c.timing_level = s.timing_level;
    c.max_timing_ratio = timing_ratio;
    return c;
}

// A try done: its fingerprint matched, kept as the best when its top match beats the others'.
void add_try(HostTries& out, const OsRound& round, const OsDb& db) {
    out.rounds.push_back(round);
    out.fingerprints.push_back(round_fingerprint(round));
    out.max_timing_ratio = std::max(out.max_timing_ratio, seq_timing_ratio(round));
    OsMatches matches = match_fingerprint(db, out.fingerprints.back());
    if (out.fingerprints.size() == 1 || top_accuracy(matches) > top_accuracy(out.matches)) {
        out.best = out.fingerprints.size() - 1;
        out.matches = std::move(matches);
    }
}

// nmap OS-scans hosts in groups; this many at once, each host's SEQ probes still on time.
constexpr std::size_t kOsParallelHosts = 16;

// One host's -O under way: its ports, the tries done, the one in flight.
struct HostJob {
    std::uint32_t host = 0;
    Ipv4 target;
    OsPortChoice ports;
    OsTryPlan plan;
    HostTries tries;
    std::optional<OsTry> current;
    int attempt = 0;
    bool on_link = false;  // on our Ethernet: SCAN's DC=D and M
};

// `rtt`: the host's own round trip as the port scan measured it (0: none measured, then the
// slowest host's), so a near host's tries do not wait as long as a far one's.
OsTryPlan try_plan(Ipv4 target, const OsPortChoice& ports, const OsDetectionSettings& s, Micros rtt) {
    OsTryPlan plan;
    plan.src = s.source;
    plan.dst = target;
    plan.open_tcp = ports.open_tcp.value_or(Port{});
    plan.open_known = ports.open_tcp.has_value();
    plan.closed_tcp = ports.closed_tcp;
    plan.closed_known = ports.closed_tcp_known;
    plan.closed_udp = ports.closed_udp;
    plan.ttl = s.ttl;
    // A round trip and a half and 100 ms: long enough for a reply from a slow host, short enough
    // that the probes Linux never answers (T2, T3), sent four times, cost little (nmap resends
    // by its RTT estimate likewise). A reply after its resend still counts.
    const Micros round_trip = rtt > 0 ? rtt : s.rtt;
    plan.wait = std::clamp<Micros>(round_trip + round_trip / 2 + 100 * kMillisecond, 150 * kMillisecond, 2 * kSecond);
    return plan;
}

// The job's next try, from its own block of source ports; false when it cannot be built.
bool start_try(HostJob& job, const OsDetectionSettings& s, std::mt19937_64& random) {
    job.plan.first_source_port = Port{static_cast<std::uint16_t>(s.first_source_port.value() + job.attempt * kOsPortsPerTry)};
    job.plan.seed = random();
    auto made = OsTry::create(job.plan);
    if (!made) return false;
    job.current.emplace(std::move(made).value());
    return true;
}

// A try ended: kept, and the next one started when nmap's rule asks for it. False: the host is done.
bool end_try(HostJob& job, const OsDb& db, const OsDetectionSettings& s, std::mt19937_64& random) {
    add_try(job.tries, job.current->round(), db);
    job.current.reset();
    ++job.attempt;
    const auto ideal = !os_not_ideal_reason(conditions_of(job.ports, s, u1_distance(job.tries.rounds.back()), job.tries.max_timing_ratio));
    return os_try_again(job.tries.matches, job.attempt, s.max_tries, ideal) && start_try(job, s, random);
}

// A captured frame to the try of the host it comes from.
void deliver(std::vector<HostJob>& active, const Frame& frame, LinkType link) {
    const auto decoded = decode_frame(frame.link.value_or(link), ByteView{frame.span()});
    if (!decoded || decoded->arp) return;
    for (HostJob& job : active) {
        if (job.target != decoded->ip.src || !job.current) continue;
        const bool kept = job.current->on_reply(*decoded, frame.span().subspan(decoded->link_header), frame.ts);
        if (kept && frame.link.value_or(link) == LinkType::ethernet && frame.span().size() >= 12)
            job.current->note_reply_mac(frame.span().subspan(6, 6));
        return;
    }
}

int probes_answered(const OsRound& round) {
    int n = 0;
    for (const auto& e : round.probes) n += e.reply ? 1 : 0;
    return n;
}

OsMatchFound match_found(const OsDb& db, const OsMatch& m) {
    const OsEntry& entry = db.entry(m.entry);
    OsMatchFound found{entry.name, m.percent(), entry.line, {}};
    for (const OsClass& c : entry.classes) {
        OsClassFound cls{c.device_type, c.vendor, c.family, c.generation, m.percent(), {}};
        for (const OsCpe& cpe : c.cpe) cls.cpe.push_back(cpe.name);
        found.classes.push_back(std::move(cls));
    }
    return found;
}

// nmap's <tcptssequence class> (osscan2.cc tsseq classes by the timestamps' mean rate).
std::string timestamp_class(const SeqAnalysis& seq) {
    if (!seq.ts) return {};
    if (*seq.ts == "0") return "zero timestamp";
    if (*seq.ts == "U") return "none returned (unsupported)";
    const double hz = seq.timestamp_hz;
    if (hz > 0 && hz < 5.66) return "2HZ";
    if (hz > 70 && hz < 150) return "100HZ";
    if (hz > 724 && hz < 1448) return "1000HZ";
    return "other";
}

// nmap's lines after the verdict (output.cc printosscanoutput): uptime and sequence lines need -v.
void add_sequence_facts(OsFound& found, const SeqAnalysis& seq, std::optional<int> distance, std::time_t now, int verbose) {
    if (seq.uptime) {
        found.uptime = *seq.uptime;
        found.lastboot = ctime_line(now - static_cast<std::time_t>(*seq.uptime));
        char line[160];
        std::snprintf(line, sizeof line, "Uptime guess: %.3f days (since %s)", double(*seq.uptime) / 86400.0, found.lastboot.c_str());
        if (verbose > 0) found.after_lines.push_back(line);
    }
    if (distance) {
        found.distance = *distance;
        found.after_lines.push_back("Network Distance: " + std::to_string(*distance) + (*distance == 1 ? " hop" : " hops"));
    }
    if (const auto text = sequence_prediction_text(seq)) {
        found.seq_index = seq.index;
        found.seq_difficulty = sequence_difficulty_text(seq.index.value_or(0));
        found.seq_values = hex_list(seq.isns);
        if (verbose > 0) found.after_lines.push_back("TCP Sequence Prediction: " + *text);
    }
    found.ts_class = timestamp_class(seq);
    found.ts_values = hex_list(seq.timestamps);
    found.ipid_class = ip_id_text(seq.tcp_ip_ids);
    found.ipid_values = hex_list(seq.tcp_ids);
    if (verbose > 0) found.after_lines.push_back("IP ID Sequence Generation: " + found.ipid_class);
}

OsScanFacts scan_facts(Ipv4 target, const OsPortChoice& ports, const OsDetectionSettings& s, std::optional<int> distance,
                       bool good, std::time_t now) {
    std::tm local{};
    localtime_r(&now, &local);
    OsScanFacts f;
    f.version = s.version;
    f.month = local.tm_mon + 1;
    f.day = local.tm_mday;
    if (ports.open_tcp) f.open_tcp = ports.open_tcp->value();
    f.closed_tcp = ports.closed_tcp.value();
    f.closed_udp = ports.closed_udp.value();
    f.private_address = os_private_address(target);
    f.distance = distance;
    f.distance_method = s.on_link ? 'D' : distance ? 'I' : 0;
    f.good = good;
    f.time = static_cast<std::int64_t>(now);
    f.platform = "x86_64-pc-linux-gnu";
    f.mac_prefix = s.mac_prefix;
    return f;
}

OsFound verdict(Ipv4 target, const OsPortChoice& ports, const HostTries& tries, const OsDb& db, const OsDetectionSettings& s) {
    const OsRound& round = tries.rounds[tries.best];
    std::optional<int> distance = u1_distance(round);
    if (!distance && s.on_link) distance = 1;
    const auto not_ideal = os_not_ideal_reason(conditions_of(ports, s, distance, tries.max_timing_ratio));
    OsReportOptions options;
    options.osscan_guess = s.guess;
    options.not_ideal = not_ideal;
    options.unreliable = !ports.open_tcp || !ports.closed_tcp_known;
    options.verbose = s.verbose;
    const OsReport report = os_report(db, tries.matches, options);
    const std::time_t now = s.now_unix ? static_cast<std::time_t>(*s.now_unix) : std::time(nullptr);
    OsFound found;
    if (ports.open_tcp) found.ports_used.push_back({"open", "tcp", ports.open_tcp->value()});
    if (ports.closed_tcp_known) found.ports_used.push_back({"closed", "tcp", ports.closed_tcp.value()});
    found.ports_used.push_back({"closed", "udp", ports.closed_udp.value()});  // nmap lists its random one too
    for (const OsMatch& m : report.listed) found.matches.push_back(match_found(db, m));
    OsScanFacts facts = scan_facts(target, ports, s, distance, !not_ideal, now);
    if (!facts.mac_prefix && s.on_link) facts.mac_prefix = round.reply_mac_prefix;  // live: the replies' source
    const Fingerprint merged = merge_fingerprints(scan_test(facts), tries.fingerprints);
    found.fingerprint = wrap_fingerprint(merged);
    found.lines = report.lines();
    found.print_fingerprint = report.print_fingerprint || s.print_fingerprint;
    add_sequence_facts(found, analyse_seq(round), distance, now, s.verbose);
    found.tries = static_cast<int>(tries.rounds.size());
    found.answered = probes_answered(round);
    return found;
}

}  // namespace

OsFound os_verdict(Ipv4 target, const OsPortChoice& ports, const std::vector<OsRound>& rounds, const OsDb& db,
                   const OsDetectionSettings& settings) {
    HostTries tries;
    for (const OsRound& round : rounds) add_try(tries, round, db);
    return verdict(target, ports, tries, db, settings);
}

OsPortChoice choose_os_ports(const Results& results, std::uint32_t host, std::uint64_t seed) {
    std::mt19937_64 random{seed};
    OsPortChoice choice;
    auto closed = [&](std::uint8_t protocol, Port port) {  // the first of each protocol
        if (protocol == ipproto::tcp && !choice.closed_tcp_known) {
            choice.closed_tcp = port;
            choice.closed_tcp_known = true;
        }
        if (protocol == ipproto::udp && !choice.closed_udp_known) {
            choice.closed_udp = port;
            choice.closed_udp_known = true;
        }
    };
    for (const PlacedSlot placed : results.targets().slots_of(host)) {
        const std::uint8_t protocol = results.kind(placed.slot.lane).protocol;
        const PortState state = results.port(placed.index).state;
        if (protocol == ipproto::tcp && state == PortState::open && !choice.open_tcp) choice.open_tcp = placed.slot.port;
        if (state == PortState::closed) closed(protocol, placed.slot.port);
    }
    // A large scan folds a host's closed ports into "Not shown" and drops their records: the
    // group still knows its lowest port.
    for (const PortGroup& group : results.groups(host))
        if (group.state == PortState::closed && group.count > 0)
            closed(results.kind(group.lane).protocol, Port{static_cast<std::uint16_t>(group.first & 0xFFFF)});
    if (!choice.closed_tcp_known) choice.closed_tcp = random_closed_port(random);
    if (!choice.closed_udp_known) choice.closed_udp = random_closed_port(random);
    return choice;
}

OsDetectionRun detect_os(Results& results, const OsDb& db, const OsDetectionSettings& settings, FrameSink& sink,
                         FrameSource& source, const Clock& clock, const std::atomic<bool>& stop) {
    OsDetectionRun run;
    results.os().mark_performed();
    std::mt19937_64 random{settings.seed};
    std::deque<HostJob> waiting;
    for (const std::uint32_t host : results.hosts_held()) {
        if (results.host(host).replies == 0) continue;
        const Ipv4 target = results.targets().hosts().at(host);
        const OsPortChoice ports = choose_os_ports(results, host, random());
        if (settings.limit && (!ports.open_tcp || !ports.closed_tcp_known)) {
            run.notes.push_back(results.targets().address_text(target) +
                                ": skipped (--osscan-limit): no open and closed TCP port both found");
            continue;
        }
        const bool on_link = settings.on_link || (settings.link_subnet && settings.link_subnet->first <= target &&
                                                  target <= settings.link_subnet->last);
        waiting.push_back(HostJob{host, target, ports, try_plan(target, ports, settings, results.host(host).min_rtt), {},
                                  std::nullopt, 0, on_link});
    }
    auto conclude = [&](HostJob& job) {  // the host's verdict from the tries it finished
        if (job.tries.rounds.empty()) return;
        OsDetectionSettings own = settings;
        own.on_link = job.on_link;
        OsFound found = verdict(job.target, job.ports, job.tries, db, own);
        ++run.hosts;
        run.matched += found.matches.empty() ? 0 : 1;
        run.notes.push_back(results.targets().address_text(job.target) + ": " + std::to_string(found.tries) +
                            (found.tries == 1 ? " try" : " tries") + ", " + std::to_string(found.answered) +
                            " of 16 probes answered in the best");
        results.os().set(job.host, std::move(found));
    };
    std::vector<HostJob> active;
    std::vector<std::span<const std::uint8_t>> packets;
    std::vector<Frame> frames;
    for (;;) {
        while (active.size() < kOsParallelHosts && !waiting.empty()) {
            HostJob job = std::move(waiting.front());
            waiting.pop_front();
            if (start_try(job, settings, random)) active.push_back(std::move(job));
        }
        if (active.empty()) break;
        if (stop.load()) {
            run.interrupted = true;
            for (HostJob& job : active) conclude(job);
            break;
        }
        const Micros now = clock.now();
        packets.clear();
        for (HostJob& job : active) {
            const auto due = job.current->due(now);
            packets.insert(packets.end(), due.begin(), due.end());
        }
        if (!packets.empty()) sink.send(packets);
        for (auto job = active.begin(); job != active.end();) {
            if (!job->current->finished(now) || end_try(*job, db, settings, random)) {
                ++job;
                continue;
            }
            conclude(*job);
            job = active.erase(job);
        }
        Micros next = now + kSecond;
        for (const HostJob& job : active) next = std::min(next, job.current->next_event());
        frames.clear();
        source.wait(std::max(next, now + kMillisecond), frames);
        for (const Frame& frame : frames) deliver(active, frame, source.link());
    }
    return run;
}

}  // namespace flagscan

// The replay command: every verdict re-derived from a saved capture, no root, nothing sent.
#include <filesystem>
#include <set>

#include "flagscan/capture/frame_tally.hpp"
#include "flagscan/capture/pcap_file.hpp"
#include "flagscan/cli/reporting.hpp"
#include "flagscan/cli/runner.hpp"
#include "flagscan/engine/replay.hpp"
#include "flagscan/os/os_capture.hpp"
#include "flagscan/os/os_detection.hpp"
#include "flagscan/service/load.hpp"
#include "flagscan/service/replay_versions.hpp"
#include "flagscan/version.hpp"

namespace flagscan {
namespace {

// ARP replies in the capture, as (who answered, whom): how a live scan judged a host on the
// attached Ethernet up, even with -Pn.
using ArpReplies = std::set<std::pair<std::uint32_t, std::uint32_t>>;

// What the passes before the replay learn: the conversations, the scans, who answered ARP.
struct Survey {
    Conversations conversations;
    ScanSurvey::Conclusion scans;
    ArpReplies arp;
    FrameTally tally;                          // what the frames were, for "no probes" errors
    std::optional<std::string> why_no_probes;  // the tally's reason when no frame was a probe
};

// Any datagram, or a TCP segment that is neither a reset nor a SYN,ACK: what the tally counts as
// a probe when it explains a capture without any.
bool could_be_probe(const DecodedPacket& packet) {
    if (packet.udp) return true;
    return packet.tcp && !packet.tcp->flags.any(TcpFlags::rst) && !packet.tcp->flags.has(TcpFlags::syn | TcpFlags::ack);
}

// The first pass: conversations (a packet's place among them needs the whole capture) and ARP.
Result<PcapFile> learn_conversations(const ScanConfig& config, Survey& survey, std::ostream& err) {
    auto file = PcapFile::open(config.replay_path);
    if (!file) return Error{file.error()};
    for (std::uint64_t ordinal = 0; auto frame = file->next(); ++ordinal) {
        const LinkType link = frame->link.value_or(file->link());
        auto packet = decode_frame(link, ByteView{frame->span()});
        survey.tally.count(link, ByteView{frame->span()}, packet, packet && could_be_probe(*packet));
        if (!packet) continue;
        const ByteView whole{file->record().empty() ? frame->span() : file->record()};
        survey.conversations.add(*packet, ordinal, ByteView{whole.span().subspan(packet->link_header)});
        if (packet->arp && packet->arp->operation == 2)
            survey.arp.insert({packet->arp->sender_ip.value(), packet->arp->target_ip.value()});
    }
    if (!file->damage().empty())
        err << "flagscan: " << config.replay_path << " is cut short (" << file->damage()
            << "): replaying what precedes the cut\n";
    survey.why_no_probes = survey.tally.why_no_probes(*file);
    return PcapFile::open(config.replay_path);
}

// The second pass: who scanned, how, whom; each scan in the capture becomes a run.
Result<Survey> survey_capture(const ScanConfig& config, std::ostream& err) {
    Survey survey;
    auto file = learn_conversations(config, survey, err);
    if (!file) return Error{file.error()};
    ScanSurvey scans;
    for (std::uint64_t ordinal = 0; auto frame = file->next(); ++ordinal) {
        auto packet = decode_frame(frame->link.value_or(file->link()), ByteView{frame->span()});
        if (packet) scans.add(*packet, survey.conversations.classify(*packet, ordinal), ordinal);
    }
    const ScanSurvey::Choice choice{config.scanner, config.kind_given ? &config.kind : nullptr, config.udp_scan};
    auto concluded = scans.conclude(choice);
    if (!concluded) return Error{config.replay_path + ": " + survey.why_no_probes.value_or(concluded.error())};
    survey.scans = std::move(*concluded);
    return survey;
}

// How each host was judged up: arp-response when the capture holds its ARP reply to the
// scanner, else unknown (the capture shows no evidence, and not whether -Pn was given).
std::vector<Reason> replayed_reasons(const TargetSet& targets, Ipv4 scanner, const ArpReplies& arp) {
    std::vector<Reason> reasons;
    for (std::uint64_t host = 0; host < targets.host_count(); ++host)
        reasons.push_back(arp.contains({targets.hosts().at(host).value(), scanner.value()}) ? Reason::arp_response
                                                                                             : Reason::none);
    return reasons;
}

EngineConfig replay_engine_config(const ScanConfig& config, Ipv4 scanner) {
    EngineConfig ec;
    ec.timing = config.timing;
    ec.me = ScannerIdentity{scanner, Port{0}, 255};
    ec.echo = EchoCheck::recorded;
    return ec;
}

// PATH with ".N" before its extension (out.xml -> out.2.xml); stdout ("-") and "" unchanged.
std::string numbered(const std::string& path, std::size_t n) {
    if (path.empty() || path == "-") return path;
    std::filesystem::path numbered_path = path;
    numbered_path.replace_filename(numbered_path.stem().string() + "." + std::to_string(n) + numbered_path.extension().string());
    return numbered_path.string();
}

// The outputs of the Nth scan (from 1) of a capture: the files given for the first, numbered
// files for the others (each file holds one scan, as nmap's formats do); stdout holds them all.
ScanConfig outputs_of_scan(const ScanConfig& config, std::size_t n) {
    if (n == 1) return config;
    ScanConfig copy = config;
    const OutputPaths paths = output_paths(config);
    copy.all_base.clear();
    copy.normal_path = numbered(paths.normal, n);
    copy.xml_path = numbered(paths.xml, n);
    copy.grepable_path = numbered(paths.grepable, n);
    copy.json_path = numbered(paths.jsonl, n);
    return copy;
}

// The files a scan's outputs write, for the note that says where scan N went.
std::string files_of(const ScanConfig& config) {
    const OutputPaths paths = output_paths(config);
    std::string out;
    for (const auto* path : {&paths.normal, &paths.xml, &paths.grepable, &paths.jsonl}) {
        if (!path->empty() && *path != "-") out += (out.empty() ? "" : ", ") + *path;
    }
    return out;
}

// The outputs start at the capture's first frame (its time is the scan's start) and get each
// host the moment its last port is decided (EACH_HOST; with -sV, at the end, as live), as in a live scan: a reply settles a port for good
// (a silent one only at the capture's end, since a later reply may still answer it).
void stream_hosts(LoopHooks& hooks, OutputSet& outputs, Results& results, const ScanView& view, ScanSummary& summary,
                  bool each_host) {
    LoopHooks starting;
    starting.tick = [&outputs, &view, &summary, started = false](Micros now) mutable {
        if (started) return;
        summary.start_unix = now / kSecond;
        summary.started = minute_text(summary.start_unix);
        outputs.start(view);
        started = true;
    };
    add_hooks(hooks, std::move(starting));
    if (each_host) add_streaming(hooks, outputs, results, view);
}

// -sV over the capture, after its port scan: the connections from the scanner to the open TCP
// ports, reassembled in one more pass, then each port's probe walk played over them.
void replay_versions_phase(const ScanConfig& config, Results& results, const LoadedProbes& probes, const ServiceTable& services,
                           Ipv4 scanner, std::ostream& err) {
    const std::vector<WalkedPort> ports = name_walked_ports(results, probes.db, services, false);
    auto file = PcapFile::open(config.replay_path);
    if (!file) return void(err << "flagscan: " << file.error() << '\n');
    TcpStreams streams{TcpStreams::Limits{}, connections_to(ports, scanner)};
    while (auto frame = file->next()) {
        const LinkType link = frame->link.value_or(file->link());
        const ByteView whole{file->record().empty() ? frame->span() : file->record()};
        if (auto packet = decode_frame(link, whole)) streams.add(*packet, whole, frame->ts);
    }
    streams.finish();
    const ReplayedVersions replayed = replay_versions(results, ports, probes.db, config.version_intensity, streams);
    if (replayed.tls_sessions > 0)
        err << "flagscan: -sV: " << replayed.tls_sessions << " TLS sessions in the capture cannot be read: their ports are "
            << "named from the handshake's plain-text side (\"ssl\")\n";
    if (replayed.unseen > 0)
        err << "flagscan: -sV: the capture holds no connection to " << replayed.unseen << " of " << ports.size()
            << " open TCP ports: named from the services table\n";
    if (streams.dropped_connections() > 0)
        err << "flagscan: -sV: " << streams.dropped_connections() << " connections were left out (too many to keep)\n";
    if (config.verbosity > 0)
        err << "flagscan: service detection (replayed): " << replayed.run.matched << " of " << replayed.run.ports
            << " open TCP ports named (" << replayed.run.stats.connections << " captured connections)\n";
}

// nmap's -O tries, as the scanner's OS probes and their replies in the capture show them.
struct CapturedOs {
    OsCapture capture;
    Micros last = 0;  // the last OS probe's or reply's time: when the fingerprint was taken
};

CapturedOs read_os_probes(const ScanConfig& config, Ipv4 scanner, std::ostream& err) {
    CapturedOs out;
    auto file = PcapFile::open(config.replay_path);
    if (!file) return err << "flagscan: " << file.error() << '\n', out;
    while (auto frame = file->next()) {
        const LinkType link = frame->link.value_or(file->link());
        const ByteView whole{file->record().empty() ? frame->span() : file->record()};
        const auto packet = decode_frame(link, whole);
        if (!packet || packet->arp || (packet->ip.src != scanner && packet->ip.dst != scanner)) continue;
        const ByteView ethernet = link == LinkType::ethernet ? whole : ByteView{};
        if (out.capture.add(*packet, ByteView{whole.span().subspan(packet->link_header)}, ethernet, frame->ts))
            out.last = std::max(out.last, frame->ts);
    }
    return out;
}

// The port scan found PORT closed on HOST (else the OS probes went to a port picked at random).
bool port_closed(const Results& results, std::uint32_t host, std::uint8_t protocol, Port port) {
    for (const PlacedSlot placed : results.targets().slots_of(host))
        if (placed.slot.port == port && results.kind(placed.slot.lane).protocol == protocol)
            return results.port(placed.index).state == PortState::closed;
    return false;
}

// -O over the capture, after its port scan: each host's tries rebuilt from the OS probes sent to
// it (os_capture) and judged as a live -O judges its own, from the ports the probes went to.
void replay_os_phase(const ScanConfig& config, Results& results, const OsDb& db, const ScanRun& run, Ipv4 scanner,
                     const ArpReplies& arp, std::ostream& err) {
    results.os().mark_performed();
    const CapturedOs captured = read_os_probes(config, scanner, err);
    OsDetectionSettings settings;
    settings.source = scanner;
    settings.guess = config.os.guess;
    settings.limit = config.os.limit;
    settings.print_fingerprint = config.os.print_fingerprint;
    settings.udp_scan = std::ranges::any_of(run.kinds, [](const ProbeKind& k) { return k.protocol == ipproto::udp; });
    settings.verbose = config.verbosity;
    settings.version = std::string(kVersion);
    settings.now_unix = captured.last / kSecond;
    int judged = 0;
    for (const std::uint32_t host : results.hosts_held()) {
        const Ipv4 target = results.targets().hosts().at(host);
        const auto found = captured.capture.targets().find(target.value());
        if (found == captured.capture.targets().end() || found->second.rounds.empty()) continue;
        const OsCaptured& tries = found->second;
        OsPortChoice ports = choose_os_ports(results, host, 0);
        if (tries.open_tcp) ports.open_tcp = tries.open_tcp;
        if (tries.closed_tcp && *tries.closed_tcp != ports.closed_tcp) {
            ports.closed_tcp = *tries.closed_tcp;
            ports.closed_tcp_known = port_closed(results, host, ipproto::tcp, ports.closed_tcp);
        }
        if (tries.closed_udp && *tries.closed_udp != ports.closed_udp) {
            ports.closed_udp = *tries.closed_udp;
            ports.closed_udp_known = port_closed(results, host, ipproto::udp, ports.closed_udp);
        }
        if (settings.limit && (!ports.open_tcp || !ports.closed_tcp_known)) {  // --osscan-limit, as live
            if (config.verbosity > 0)
                err << "flagscan: OS detection: " << results.targets().address_text(target) << ": skipped (--osscan-limit): no open and closed TCP port both found\n";
            continue;
        }
        OsDetectionSettings one = settings;
        one.on_link = arp.contains({target.value(), scanner.value()});
        if (one.on_link) one.mac_prefix = tries.mac_prefix;
        // --max-os-tries: the capture's first tries only, as a live scan would have stopped there.
        const auto kept = std::min<std::size_t>(tries.rounds.size(), static_cast<std::size_t>(std::max(1, config.os.max_tries)));
        const std::vector<OsRound> rounds(tries.rounds.begin(), tries.rounds.begin() + static_cast<std::ptrdiff_t>(kept));
        results.os().set(host, os_verdict(target, ports, rounds, db, one));
        ++judged;
    }
    if (config.verbosity > 0)
        err << "flagscan: OS detection (replayed): " << judged << " hosts with OS probes in the capture\n";
}

struct RunPlace {
    std::size_t n;      // from 1
    std::size_t count;  // scans replayed
};

// The third pass (one per scan): the engine over the frames, then the reports. False when a
// report could not be written.
bool replay_run(const ScanConfig& config, OutputSet& outputs, const Survey& survey, const ScanRun& run, RunPlace place,
                const LoadedProbes* probes, const OsDb* os_db, std::ostream& out, std::ostream& err) {
    auto file = PcapFile::open(config.replay_path);
    if (!file) return err << "flagscan: " << file.error() << '\n', false;
    const Ipv4 scanner = survey.scans.scanner;
    const TargetSet targets = run.targets();
    std::vector<const ProbeKind*> kinds;
    for (const auto& kind : run.kinds) kinds.push_back(&kind);
    // --explain alone reads the evidence; every port is kept: a capture may probe a port again
    // after its verdict, which only a kept verdict tells apart from a first probe
    Results results{targets, kinds, config.explain, Keep::every_port};
    const EngineConfig settings = replay_engine_config(config, scanner);
    Engine engine{targets, settings, CookieKey{0, 0}, results};
    LoopHooks hooks;
    if (config.packet_trace) add_packet_trace(hooks, side_stream(config, out, err), targets.address_book());
    if (!outputs.stdout_taken_by_other()) {
        out << (place.n > 1 ? "\n" : "") << "Replaying " << config.replay_path << ": " << run.name() << " scan by "
            << targets.address_text(scanner) << (run.kind_inferred ? " (both read from the capture" : " (scan type as given");
        if (place.count > 1) out << "; scan " << place.n << " of " << place.count;
        out << ")\n";
    }
    ScanSummary summary{run.name() + " scan", "", 0, false, {}};
    summary.host_reasons = replayed_reasons(targets, scanner, survey.arp);
    summary.command_line = config.command_line;
    summary.verbosity = config.verbosity;
    if (place.count > 1) summary.scan = run.name();
    if (!config.no_dns) summary.host_names = names_of_targets(targets);  // before any host streams out
    const ServiceTable services = ServiceTable::load_system();
    const ScanView view{results, services, config.report, summary, false};
    stream_hosts(hooks, outputs, results, view, summary, probes == nullptr && os_db == nullptr);  // -sV, -O: hosts written at the end
    const ReplayCounts counts = replay_capture(engine, file->link(), [&file] { return file->next(); },
                                               survey.conversations, run, scanner, hooks);
    if (counts.frames == 0) outputs.start(view);
    if (probes != nullptr) replay_versions_phase(config, results, *probes, services, scanner, err);
    if (os_db != nullptr) replay_os_phase(config, results, *os_db, run, scanner, survey.arp, err);
    summary.elapsed_seconds = counts.first < 0 ? 0 : double(counts.last - counts.first) / kSecond;  // max - min
    summary.start_unix = counts.first < 0 ? 0 : counts.first / kSecond;  // the capture's clock
    summary.end_unix = counts.last < 0 ? 0 : counts.last / kSecond;
    const bool written = finish_reports(config, outputs, view, ExplainContext{.replay = true}, out, err);
    if (counts.undecodable > 0 || config.verbosity > 0)
        err << "flagscan: " << counts.frames << " frames, " << counts.probes << " probes of the " << run.name()
            << " scan; skipped " << counts.undecodable << " that were not IPv4 or were malformed; "
            << engine.stats().strays << " packets answered nothing of this scan\n";
    return written;
}

}  // namespace

// Passes over the file: the first learns its conversations, the second who scanned how, then
// one replays each scan found (one report each, in capture order), or the one -s names.
int run_replay_command(const ScanConfig& config, std::ostream& out, std::ostream& err) {
    auto outputs = OutputSet::open(config, out);
    if (!outputs) return err << "flagscan: " << outputs.error() << '\n', 1;
    auto loaded = probes_for(config, err);  // -sV: read before the capture, as live
    if (!loaded) return err << "flagscan: " << loaded.error() << '\n', 1;
    const std::optional<LoadedProbes> probes = std::move(loaded).value();
    std::optional<OsDb> os_db;
    if (config.os.enabled) {  // read before the capture, as live
        auto db = OsDb::load(config.os.db_path);
        if (!db) return err << "flagscan: " << db.error() << '\n', 1;
        os_db.emplace(std::move(db).value());
    }
    auto survey = survey_capture(config, err);
    if (!survey) return err << "flagscan: " << survey.error() << '\n', 1;
    for (const auto& note : survey->scans.notes) err << "flagscan: " << note << '\n';
    const auto& runs = survey->scans.runs;
    bool written = true;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const ScanConfig scan_config = outputs_of_scan(config, i + 1);
        auto scan_outputs = i == 0 ? std::move(outputs) : OutputSet::open(scan_config, out);
        if (!scan_outputs) return err << "flagscan: " << scan_outputs.error() << '\n', 1;
        if (i > 0 && !files_of(scan_config).empty())
            err << "flagscan: the " << runs[i].name() << " scan (scan " << i + 1 << " of " << runs.size() << ") is written to "
                << files_of(scan_config) << '\n';
        written = replay_run(scan_config, *scan_outputs, *survey, runs[i], RunPlace{i + 1, runs.size()}, probes ? &*probes : nullptr,
                             os_db ? &*os_db : nullptr, out, err) && written;
    }
    return written ? 0 : 2;
}

}  // namespace flagscan

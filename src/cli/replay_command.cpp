// The replay command: every verdict re-derived from a saved capture, no root, nothing sent.
#include <set>

#include "flagscan/capture/pcap_file.hpp"
#include "flagscan/cli/reporting.hpp"
#include "flagscan/cli/runner.hpp"
#include "flagscan/engine/replay.hpp"

namespace flagscan {
namespace {

// ARP replies in the capture, as (who answered, whom): how a live scan judged a host on the
// attached Ethernet up, even with -Pn.
using ArpReplies = std::set<std::pair<std::uint32_t, std::uint32_t>>;

// The first pass over the file: who scanned, how, whom (and who answered ARP).
Result<ScanSurvey::Conclusion> survey_capture(const ScanConfig& config, ArpReplies& arp, std::ostream& err) {
    auto file = PcapFile::open(config.replay_path);
    if (!file) return Error{file.error()};
    ScanSurvey survey;
    while (auto frame = file->next()) {
        auto packet = decode_frame(file->link(), ByteView{frame->span()});
        if (!packet) continue;
        survey.add(*packet);
        if (packet->arp && packet->arp->operation == 2) arp.insert({packet->arp->sender_ip.value(), packet->arp->target_ip.value()});
    }
    if (!file->damage().empty())
        err << "flagscan: " << config.replay_path << " is cut short (" << file->damage() << "): replaying what precedes the cut\n";
    const ProbeKind* given = config.kind_given ? &config.kind : config.udp_scan ? &udp_kind() : nullptr;
    auto scan = survey.conclude(config.scanner, given);
    if (!scan) return Error{config.replay_path + ": " + scan.error()};
    return scan;
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

EngineConfig replay_engine_config(const ScanConfig& config, const ScanSurvey::Conclusion& scan) {
    EngineConfig ec;
    ec.timing = config.timing;
    ec.me = ScannerIdentity{scan.scanner, Port{0}, 255};
    ec.echo = EchoCheck::recorded;
    return ec;
}

}  // namespace

// Two passes over the file: the first learns who scanned how, the second replays.
int run_replay_command(const ScanConfig& config, std::ostream& out, std::ostream& err) {
    auto outputs = OutputSet::open(config, out);
    if (!outputs) return err << "flagscan: " << outputs.error() << '\n', 1;
    ArpReplies arp;
    auto scan = survey_capture(config, arp, err);
    if (!scan) return err << "flagscan: " << scan.error() << '\n', 1;
    auto file = PcapFile::open(config.replay_path);
    if (!file) return err << "flagscan: " << file.error() << '\n', 1;
    const TargetSet targets{scan->hosts, scan->ports};
    Results results{targets, {&scan->kind}, config.explain};  // --explain alone reads the evidence
    const EngineConfig settings = replay_engine_config(config, *scan);
    Engine engine{targets, settings, CookieKey{0, 0}, results};
    LoopHooks hooks;
    if (config.packet_trace) add_packet_trace(hooks, side_stream(config, out, err));
    if (!outputs->stdout_taken_by_other())
        out << "Replaying " << config.replay_path << ": " << scan->kind.name << " scan by " << scan->scanner.str()
            << (scan->kind_inferred ? " (both read from the capture)" : " (scan type as given)") << '\n';

    const ReplayCounts counts = replay_capture(engine, file->link(), [&file] { return file->next(); }, hooks);
    ScanSummary summary{std::string(scan->kind.name) + " scan", "", 0, false, {}};
    summary.elapsed_seconds = counts.first < 0 ? 0 : double(counts.last - counts.first) / kSecond;
    summary.host_reasons = replayed_reasons(targets, scan->scanner, arp);
    summary.command_line = config.command_line;
    summary.start_unix = counts.first < 0 ? 0 : counts.first / kSecond;  // the capture's clock
    summary.end_unix = counts.last < 0 ? 0 : counts.last / kSecond;
    summary.verbosity = config.verbosity;
    if (!config.no_dns) summary.host_names = names_of_reported_hosts(results, config.report);
    const ServiceTable services = ServiceTable::load_system();
    const ScanView view{results, services, config.report, summary, false};
    outputs->start(view);
    const bool written = finish_reports(config, *outputs, view, ExplainContext{.replay = true}, out, err);
    if (counts.undecodable > 0 || config.verbosity > 0)
        err << "flagscan: " << counts.frames << " frames, " << counts.probes << " probes; skipped " << counts.undecodable
            << " that were not IPv4 or were malformed; " << engine.stats().strays << " packets answered nothing of this scan\n";
    return written ? 0 : 2;
}

}  // namespace flagscan

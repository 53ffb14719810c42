// The live scan command: from a ScanConfig to reports on disk and stdout.
#include "flagscan/cli/runner.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <random>

#include "flagscan/capture/live_capture.hpp"
#include "flagscan/capture/pcap_file.hpp"
#include "flagscan/engine/replay.hpp"
#include "flagscan/cli/reverse_dns.hpp"
#include "flagscan/cli/route.hpp"
#include "flagscan/cli/signals.hpp"
#include "flagscan/engine/scan_loop.hpp"
#include "flagscan/output/explain.hpp"
#include "flagscan/output/packet_trace.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/targets/port_list.hpp"
#include "flagscan/wire/raw_socket_sink.hpp"

namespace flagscan {
namespace {

// Multicast (RFC 5771) and the limited broadcast address never get a unicast scan.
Result<bool> refuse_broadcast(const AddressSet& hosts) {
    const Ipv4Range forbidden[] = {{Ipv4{224, 0, 0, 0}, Ipv4{239, 255, 255, 255}},
                                   {Ipv4{255, 255, 255, 255}, Ipv4{255, 255, 255, 255}}};
    for (const auto& range : hosts.ranges()) {
        for (const auto& bad : forbidden) {
            if (range.first <= bad.last && bad.first <= range.last)
                return Error{"refusing to scan multicast or broadcast addresses (" + bad.first.str() + "-" + bad.last.str() + ")"};
        }
    }
    return true;
}

Result<AddressSet> prepare_hosts(const ScanConfig& config) {
    auto hosts = parse_targets(config.targets, resolve_with_system);
    if (!hosts) return Error{hosts.error()};
    if (!config.excludes.empty()) {
        auto excluded = parse_targets(config.excludes, resolve_with_system);
        if (!excluded) return Error{excluded.error()};
        hosts->subtract(*excluded);
    }
    if (hosts->empty()) return Error{"no targets left to scan after --exclude"};
    if (hosts->size() > (std::uint64_t{1} << 24)) return Error{"too many targets (more than a /8)"};
    if (auto ok = refuse_broadcast(*hosts); !ok) return Error{ok.error()};
    return hosts;
}

Result<std::vector<Port>> prepare_ports(const ScanConfig& config, const ServiceTable& services) {
    if (!config.ports_spec.empty()) return parse_ports(config.ports_spec);
    return services.top_ports(Protocol::tcp, config.top_ports);
}

// One scan goes out of one interface: every target range must route through it.
Result<RouteChoice> prepare_route(const AddressSet& hosts, const ScanConfig& config) {
    auto route = choose_route(hosts.ranges().front().first, config.interface, config.source);
    if (!route) return route;
    for (const auto& range : hosts.ranges()) {
        auto other = choose_route(range.first, config.interface, config.source);
        if (!other) return other;
        if (other->interface != route->interface)
            return Error{"targets are reached through different interfaces (" + route->interface + ", " +
                         other->interface + "): scan them separately or choose one with -e"};
    }
    return route;
}

Result<RawSocketSink> open_sink(const ScanConfig& config, const RouteChoice& route) {
    auto sink = RawSocketSink::open(config.interface.empty() ? std::string{} : route.interface);
    if (!sink && ::geteuid() != 0)
        return Error{"a " + std::string(config.kind.name) + " scan (" + std::string(config.kind.nmap_flag) +
                     ") sends raw packets and needs root (or CAP_NET_RAW): run it with sudo, or use -sT, the "
                     "connect scan, which needs no root"};
    return sink;
}

// Replies to us: TCP to our try ports, ICMP unreachables. With -w, also our own probes, so the
// file holds both directions in the kernel's order and with its timestamps.
CaptureOptions capture_options(const std::string& device, const ScannerIdentity& me, const std::string& write_path) {
    const std::string ports = std::to_string(me.sport_base.value()) + "-" + std::to_string(me.sport_base.value() + me.max_tries - 1);
    std::string filter = "dst host " + me.source.str() + " and ((tcp and dst portrange " + ports + ") or (icmp and icmp[0] == 3))";
    if (!write_path.empty()) filter = "(" + filter + ") or (src host " + me.source.str() + " and tcp src portrange " + ports + ")";
    CaptureOptions options;
    options.device = device;
    options.filter = filter;
    options.both_directions = !write_path.empty();
    options.dump_path = write_path;
    return options;
}

std::string now_text() {
    const std::time_t t = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[64];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
    return text;
}

std::uint64_t random_u64() {
    std::random_device device;
    return (std::uint64_t{device()} << 32) | device();
}

EngineConfig engine_config(const ScanConfig& config, const RouteChoice& route, Micros slack) {
    EngineConfig ec;
    ec.kind = &config.kind;
    ec.timing = config.timing;
    const auto tries = static_cast<std::uint8_t>(config.timing.max_retries + 1);
    const auto base = config.source_port ? config.source_port->value() : 33000 + random_u64() % (60000 - 33000);
    ec.me = ScannerIdentity{route.source, Port{static_cast<std::uint16_t>(std::min<unsigned>(base, 65535u - tries))}, tries};
    ec.seed = config.seed_given ? config.seed : random_u64();
    ec.delivery_slack = slack;
    return ec;
}

void write_reports(const ScanConfig& config, const Results& results, const ServiceTable& services,
                   const ScanSummary& summary, std::ostream& out, std::ostream& err) {
    if (config.json_path != "-") write_normal(out, results, services, config.report, summary);
    if (!config.normal_path.empty()) {
        std::ofstream file{config.normal_path};
        write_normal_header(file, summary);
        write_normal(file, results, services, config.report, summary);
        if (!file) err << "flagscan: cannot write '" << config.normal_path << "'\n";
    }
    if (config.json_path == "-") {
        write_jsonl(out, results, config.report, summary);
    } else if (!config.json_path.empty()) {
        std::ofstream file{config.json_path};
        write_jsonl(file, results, config.report, summary);
        if (!file) err << "flagscan: cannot write '" << config.json_path << "'\n";
    }
}

void write_stats(std::ostream& err, const Engine& engine, const SinkStats& sink, const CaptureStats& capture) {
    const auto& s = engine.stats();
    err << "flagscan: sent " << s.sent << " probes (" << s.retransmitted << " retransmitted), " << s.replies
        << " replies (" << s.drops_seen << " to retransmissions, " << s.duplicates << " duplicate, " << s.late
        << " late), " << s.strays << " strays; final window " << static_cast<long>(engine.window()) << ", rto "
        << engine.rto() / kMillisecond << " ms\n";
    err << "flagscan: every port had its first probe " << (s.last_first_try - s.first_send) / kMillisecond
        << " ms after the first one\n";
    err << "flagscan: send errors " << sink.failed << ", full-queue waits " << sink.stalls << "; capture saw "
        << capture.received << ", dropped " << capture.dropped << " (kernel) " << capture.if_dropped << " (interface)\n";
}

// nmap resolves the names of the hosts it reports unless told -n; so do we, for 2 s at most.
std::vector<std::string> names_of_reported_hosts(const Results& results, const ReportOptions& options) {
    std::vector<Ipv4> addresses;
    const auto hosts = static_cast<std::uint32_t>(results.targets().host_count());
    for (std::uint32_t host = 0; host < hosts; ++host)
        addresses.push_back(host_is_reported(results, host, options) ? results.targets().hosts().at(host) : Ipv4{});
    return reverse_names(addresses, 2 * kSecond);
}

void add_packet_trace(LoopHooks& hooks, std::ostream& trace) {
    hooks.sent = [&trace](const Probe&, std::span<const std::uint8_t> packet, Micros) {
        if (auto decoded = decode_ipv4(ByteView{packet})) trace << trace_sent(*decoded) << '\n';
    };
    hooks.received = [&trace](const Frame&, const DecodedPacket& packet, const PacketOutcome& outcome) {
        if (outcome.kind != PacketOutcome::Kind::own) trace << trace_received(packet, outcome) << '\n';
    };
}

struct Prepared {
    TargetSet targets;
    ServiceTable services;
    RouteChoice route;
};

Result<Prepared> prepare(const ScanConfig& config) {
    auto hosts = prepare_hosts(config);
    if (!hosts) return Error{hosts.error()};
    auto services = ServiceTable::load_system();
    auto ports = prepare_ports(config, services);
    if (!ports) return Error{ports.error()};
    auto route = prepare_route(*hosts, config);
    if (!route) return Error{route.error()};
    return Prepared{TargetSet{std::move(hosts).value(), std::move(ports).value()}, std::move(services), *route};
}

// The output every scan ends with, live or replayed.
void finish_reports(const ScanConfig& config, const Results& results, const ServiceTable& services,
                    const ScanSummary& summary, const ExplainContext& explain, std::ostream& out, std::ostream& err) {
    write_reports(config, results, services, summary, out, err);
    if (config.explain) write_explanations(config.json_path == "-" ? err : out, results, config.report, explain);
}

// Two passes over the file: the first learns who scanned how, the second replays.
int run_replay_command(const ScanConfig& config, std::ostream& out, std::ostream& err) {
    auto survey_file = PcapFile::open(config.replay_path);
    if (!survey_file) return err << "flagscan: " << survey_file.error() << '\n', 1;
    ScanSurvey survey;
    while (auto frame = survey_file->next()) {
        if (auto packet = decode_frame(survey_file->link(), ByteView{frame->span()})) survey.add(*packet);
    }
    if (!survey_file->damage().empty())
        err << "flagscan: " << config.replay_path << " is damaged (" << survey_file->damage() << "); replaying what precedes it\n";
    auto scan = survey.conclude(config.scanner, config.kind_given ? &config.kind : nullptr);
    if (!scan) return err << "flagscan: " << config.replay_path << ": " << scan.error() << '\n', 1;

    auto file = PcapFile::open(config.replay_path);
    if (!file) return err << "flagscan: " << file.error() << '\n', 1;
    const TargetSet targets{scan->hosts, scan->ports};
    EngineConfig ec;
    ec.kind = &scan->kind;
    ec.timing = config.timing;
    ec.me = ScannerIdentity{scan->scanner, Port{0}, 255};
    ec.echo = EchoCheck::recorded;
    Results results{targets};
    Engine engine{targets, ec, CookieKey{0, 0}, results};
    LoopHooks hooks;
    if (config.packet_trace) add_packet_trace(hooks, config.json_path == "-" ? err : out);

    ScanSummary summary{&scan->kind, "", 0, false, {}};
    if (config.json_path != "-")
        out << "Replaying " << config.replay_path << ": " << scan->kind.name << " scan by " << scan->scanner.str()
            << (scan->kind_inferred ? " (both read from the capture)" : " (scan type as given)") << '\n';
    const ReplayCounts counts = replay_capture(engine, file->link(), [&file] { return file->next(); }, hooks);
    summary.elapsed_seconds = counts.first < 0 ? 0 : double(counts.last - counts.first) / kSecond;
    if (!config.no_dns) summary.host_names = names_of_reported_hosts(results, config.report);
    const ServiceTable services = ServiceTable::load_system();
    finish_reports(config, results, services, summary, ExplainContext{&scan->kind, Port{0}, engine.rto()}, out, err);
    if (counts.undecodable > 0 || config.verbosity > 0)
        err << "flagscan: " << counts.frames << " frames, " << counts.probes << " probes; skipped " << counts.undecodable
            << " that were not IPv4 or were malformed; " << engine.stats().strays << " packets answered nothing of this scan\n";
    return 0;
}

int run_live_command(const ScanConfig& config, std::ostream& out, std::ostream& err) {
    InterruptWatcher interrupts;  // first, so that every thread started below inherits its signal mask
    if (!config.skip_discovery)
        err << "flagscan: host discovery is not built yet: every target is scanned as if -Pn was given\n";
    auto prepared = prepare(config);
    if (!prepared) return err << "flagscan: " << prepared.error() << '\n', 1;
    auto builder = ProbeBuilder::create(config.kind, ProbeShape{config.ttl, 1024, 1460});
    if (!builder) return err << "flagscan: " << builder.error() << '\n', 1;
    auto sink = open_sink(config, prepared->route);
    if (!sink) return err << "flagscan: " << sink.error() << '\n', 1;

    const auto ec = engine_config(config, prepared->route, 0);
    auto capture = LiveCapture::open(capture_options(prepared->route.interface, ec.me, config.write_path));
    if (!capture) return err << "flagscan: " << capture.error() << '\n', 1;
    auto engine_settings = ec;
    engine_settings.delivery_slack = (*capture)->delivery_slack();

    const SteadyClock clock;
    const Micros started = clock.now();
    ScanSummary summary{&config.kind, now_text(), 0, false, {}};
    if (config.json_path != "-") write_normal_header(out, summary);
    Results results{prepared->targets};
    Engine engine{prepared->targets, engine_settings, CookieKey::random(), results};
    (*capture)->start();
    LoopHooks hooks;
    std::ostream& trace = config.json_path == "-" ? err : out;  // never into JSON on stdout
    if (config.packet_trace) add_packet_trace(hooks, trace);
    Micros next_line = started;
    if (config.verbosity >= 2) {
        hooks.tick = [&](Micros now) {
            if (now < next_line) return;
            next_line = now + 50 * kMillisecond;
            err << "flagscan: +" << (now - started) / kMillisecond << " ms: sent " << engine.stats().sent << ", decided "
                << engine.decided() << "/" << engine.planned() << ", in flight " << engine.in_flight() << ", window "
                << static_cast<long>(engine.window()) << ", rto " << engine.rto() / kMillisecond << " ms\n";
        };
    }
    const ScanEnd end = run_scan(engine, *builder, *sink, **capture, clock, interrupts.flag(), hooks);
    summary.elapsed_seconds = double(clock.now() - started) / kSecond;
    const CaptureStats capture_stats = (*capture)->stop();
    if (config.verbosity > 0) err << "flagscan: capture stopped " << double(clock.now() - started) / kSecond << " s after the start\n";

    summary.interrupted = end == ScanEnd::interrupted;
    if (!config.no_dns) summary.host_names = names_of_reported_hosts(results, config.report);
    finish_reports(config, results, prepared->services, summary,
                   ExplainContext{&config.kind, engine_settings.me.sport_base, engine.rto()}, out, err);
    if (config.verbosity > 0 || capture_stats.dropped > 0) write_stats(err, engine, sink->stats(), capture_stats);
    return summary.interrupted ? 130 : 0;
}

}  // namespace

int run_scan_command(const ScanConfig& config, std::ostream& out, std::ostream& err) {
    return config.replay_path.empty() ? run_live_command(config, out, err) : run_replay_command(config, out, err);
}

}  // namespace flagscan

// The live scan command: targets, route, raw socket, capture, engine, reports.
#include <unistd.h>

#include <ctime>
#include <random>

#include "flagscan/capture/live_capture.hpp"
#include "flagscan/cli/reporting.hpp"
#include "flagscan/cli/route.hpp"
#include "flagscan/cli/runner.hpp"
#include "flagscan/cli/signals.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/targets/port_list.hpp"
#include "flagscan/wire/connect_driver.hpp"
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

EngineConfig engine_config(const ScanConfig& config, const RouteChoice& route) {
    EngineConfig ec;
    ec.kind = &config.kind;
    ec.timing = config.timing;
    const auto tries = static_cast<std::uint8_t>(config.timing.max_retries + 1);
    const auto base = config.source_port ? config.source_port->value() : 33000 + random_u64() % (60000 - 33000);
    ec.me = ScannerIdentity{route.source, Port{static_cast<std::uint16_t>(std::min<unsigned>(base, 65535u - tries))}, tries};
    ec.seed = config.seed_given ? config.seed : random_u64();
    return ec;
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

// -vv: a line every 50 ms with the engine's state, to watch the window and the timeout work.
void add_timeline(LoopHooks& hooks, const Engine& engine, Micros started, std::ostream& err) {
    hooks.tick = [&engine, &err, started, next_line = started](Micros now) mutable {
        if (now < next_line) return;
        next_line = now + 50 * kMillisecond;
        err << "flagscan: +" << (now - started) / kMillisecond << " ms: sent " << engine.stats().sent << ", decided "
            << engine.decided() << "/" << engine.planned() << ", in flight " << engine.in_flight() << ", window "
            << static_cast<long>(engine.window()) << ", rto " << engine.rto() / kMillisecond << " ms\n";
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

}  // namespace

// -sT: the kernel's connect() probes; no root, no raw socket, no capture.
int run_connect_scan_command(const ScanConfig& config, Prepared& prepared, InterruptWatcher& interrupts,
                             std::ostream& out, std::ostream& err) {
    const std::size_t files = raise_file_limit();
    if (files < 1100) err << "flagscan: only " << files << " open files allowed: at most " << files - 64
                          << " connections at once (raise it with ulimit -n)\n";
    auto settings = engine_config(config, prepared.route);
    settings.timing.max_window = std::min<double>(settings.timing.max_window, static_cast<double>(files - 64));
    auto driver = ConnectDriver::open(config.source, config.interface, settings.timing.max_rto + kSecond);
    if (!driver) return err << "flagscan: " << driver.error() << '\n', 1;

    const SteadyClock clock;
    const Micros started = clock.now();
    ScanSummary summary{&config.kind, now_text(), 0, false, {}};
    if (config.json_path != "-") write_normal_header(out, summary);
    Results results{prepared.targets};
    Engine engine{prepared.targets, settings, CookieKey::random(), results};
    LoopHooks hooks;
    if (config.verbosity >= 2) add_timeline(hooks, engine, started, err);
    const ScanEnd end = run_connect_scan(engine, *driver, clock, interrupts.flag(), hooks);
    summary.elapsed_seconds = double(clock.now() - started) / kSecond;
    summary.interrupted = end == ScanEnd::interrupted;
    if (!config.no_dns) summary.host_names = names_of_reported_hosts(results, config.report);
    finish_reports(config, results, prepared.services, summary, ExplainContext{&config.kind, Port{0}, engine.rto()}, out, err);
    return summary.interrupted ? 130 : 0;
}

int run_live_command(const ScanConfig& given, std::ostream& out, std::ostream& err) {
    InterruptWatcher interrupts;  // first, so that every thread started below inherits its signal mask
    ScanConfig config = given;
    if (!config.kind_given && ::geteuid() != 0) {  // as nmap does for users without raw sockets
        config.kind = connect_kind();
        err << "flagscan: not root: running a connect scan (-sT) instead of a SYN scan\n";
    }
    if (!config.skip_discovery)
        err << "flagscan: host discovery is not built yet: every target is scanned as if -Pn was given\n";
    auto prepared = prepare(config);
    if (!prepared) return err << "flagscan: " << prepared.error() << '\n', 1;
    if (is_connect_scan(config.kind)) return run_connect_scan_command(config, *prepared, interrupts, out, err);
    auto builder = ProbeBuilder::create(config.kind, ProbeShape{config.ttl, 1024, 1460});
    if (!builder) return err << "flagscan: " << builder.error() << '\n', 1;
    auto sink = open_sink(config, prepared->route);
    if (!sink) return err << "flagscan: " << sink.error() << '\n', 1;

    auto settings = engine_config(config, prepared->route);
    auto capture = LiveCapture::open(capture_options(prepared->route.interface, settings.me, config.write_path));
    if (!capture) return err << "flagscan: " << capture.error() << '\n', 1;
    settings.delivery_slack = (*capture)->delivery_slack();

    const SteadyClock clock;
    const Micros started = clock.now();
    ScanSummary summary{&config.kind, now_text(), 0, false, {}};
    if (config.json_path != "-") write_normal_header(out, summary);
    Results results{prepared->targets};
    Engine engine{prepared->targets, settings, CookieKey::random(), results};
    (*capture)->start();
    LoopHooks hooks;
    if (config.packet_trace) add_packet_trace(hooks, side_stream(config, out, err));
    if (config.verbosity >= 2) add_timeline(hooks, engine, started, err);
    const ScanEnd end = run_scan(engine, *builder, *sink, **capture, clock, interrupts.flag(), hooks);
    summary.elapsed_seconds = double(clock.now() - started) / kSecond;
    const CaptureStats capture_stats = (*capture)->stop();

    summary.interrupted = end == ScanEnd::interrupted;
    if (!config.no_dns) summary.host_names = names_of_reported_hosts(results, config.report);
    finish_reports(config, results, prepared->services, summary,
                   ExplainContext{&config.kind, settings.me.sport_base, engine.rto()}, out, err);
    if (config.verbosity > 0 || capture_stats.dropped > 0) write_stats(err, engine, sink->stats(), capture_stats);
    return summary.interrupted ? 130 : 0;
}

}  // namespace flagscan

// The live scan command: targets, route, raw socket, capture, engine, reports.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>

#include "flagscan/capture/live_capture.hpp"
#include "flagscan/cli/direct_link.hpp"
#include "flagscan/cli/hosts.hpp"
#include "flagscan/cli/merge.hpp"
#include "flagscan/cli/progress.hpp"
#include "flagscan/cli/reporting.hpp"
#include "flagscan/cli/resume_file.hpp"
#include "flagscan/cli/route.hpp"
#include "flagscan/cli/runner.hpp"
#include "flagscan/cli/scan_identity.hpp"
#include "flagscan/cli/scan_plan.hpp"
#include "flagscan/cli/signals.hpp"
#include "flagscan/cli/spoofed_link.hpp"
#include "flagscan/os/os_detection.hpp"
#include "flagscan/probe/spoof_mac.hpp"
#include "flagscan/output/packet_trace.hpp"
#include "flagscan/service/banner.hpp"
#include "flagscan/service/checks.hpp"
#include "flagscan/service/load.hpp"
#include "flagscan/service/version_detection.hpp"
#include "flagscan/service/ftp_bounce.hpp"
#include "flagscan/service/ident.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/targets/ipv6_targets.hpp"
#include "flagscan/targets/reserved.hpp"
#include "flagscan/version.hpp"
#include "flagscan/targets/port_list.hpp"
#include "flagscan/wire/connect_driver.hpp"
#include "flagscan/wire/decoys.hpp"
#include "flagscan/wire/fragments.hpp"
#include "flagscan/wire/raw_socket_sink.hpp"

namespace flagscan {
namespace {

// A scan's hosts as the engine walks them: IPv4 addresses, or an IPv6 scan's AddressBook keys
// (net/address_book.hpp) with the book and the addresses they stand for.
struct ScanHosts {
    AddressSet hosts;
    std::shared_ptr<AddressBook> book;  // IPv6: the targets' addresses under keys 0.0.0.1, ... in order; else null
    Ipv6Ranges addresses;               // IPv6: the targets, sorted and disjoint
};

// Any number of targets (up to all of IPv4; an IPv6 scan up to AddressBook::kCapacity): the walk
// and the outputs hold nothing per address that is not reported. Multicast and broadcast are
// never scanned (reserved.hpp).
Result<ScanHosts> prepare_hosts(const ScanConfig& config, std::ostream& err) {
    if (config.ipv6) {
        auto addresses = command_line_hosts6(config, resolve6_with_system, err);
        if (!addresses) return Error{addresses.error()};
        if (auto ok = refuse_never_unicast(*addresses); !ok) return Error{ok.error()};
        auto booked = book_targets(*addresses);
        if (!booked) return Error{booked.error()};
        return ScanHosts{std::move(booked->keys), std::move(booked->book), std::move(addresses).value()};
    }
    auto hosts = command_line_hosts(config, resolve_with_system, err);
    if (!hosts) return Error{hosts.error()};
    if (auto ok = refuse_never_unicast(*hosts); !ok) return Error{ok.error()};
    return ScanHosts{std::move(hosts).value(), nullptr, {}};
}

// One scan goes out of one interface: every target range must route through it. `choose` gives
// the route to an address (choose_route, choose_route6).
template <class Ranges, class Choose>
auto one_interface(const Ranges& ranges, Choose choose) -> decltype(choose(ranges.front().first)) {
    auto route = choose(ranges.front().first);
    if (!route) return route;
    for (const auto& range : ranges) {
        auto other = choose(range.first);
        if (!other) return other;
        if (other->interface != route->interface)
            return Error{"targets are reached through different interfaces (" + route->interface + ", " +
                         other->interface + "): scan them separately or choose one with -e"};
    }
    return route;
}

Result<RouteChoice> prepare_route(const AddressSet& hosts, const ScanConfig& config) {
    return one_interface(hosts.ranges(), [&](Ipv4 target) { return choose_route(target, config.interface, config.source); });
}

// The route of a scan: for IPv6, in addresses (route6) and in keys (route: the engine's, its
// source the key the source address takes in the book).
struct ScanRoute {
    RouteChoice route;
    std::optional<RouteChoice6> route6;
};

// An IPv6 scan's route: one interface for every target, as for IPv4; the targets are on the
// attached link (NDP discovery, the ARP lane) when the kernel's table routes each without a router.
Result<ScanRoute> prepare_route6(const ScanHosts& hosts, const ScanConfig& config) {
    auto route6 = one_interface(hosts.addresses, [&](Ipv6 target) { return choose_route6(target, config.interface, config.source6); });
    if (!route6) return Error{route6.error()};
    const auto routes = kernel_ipv6_routes();
    const bool attached = std::all_of(hosts.addresses.begin(), hosts.addresses.end(), [&](const Ipv6Range& range) {
        return on_link(routes, range.first, route6->interface) && on_link(routes, range.last, route6->interface);
    });
    auto keyed = keyed_route(*route6, hosts.addresses, attached, *hosts.book);
    if (!keyed) return Error{keyed.error()};
    return ScanRoute{*keyed, *route6};
}

Result<RawSocketSink> open_sink(const ScanConfig& config, const RouteChoice& route) {
    const std::string device = config.interface.empty() ? std::string{} : route.interface;
    auto sink = config.ipv6 ? RawSocketSink::open_ipv6(device) : RawSocketSink::open(device);
    if (!sink && ::geteuid() != 0 && config.udp_scan)
        return Error{"a UDP scan (-sU) sends raw packets and needs root (or CAP_NET_RAW): run it with sudo"};
    if (!sink && ::geteuid() != 0)
        return Error{"a " + std::string(config.kind.name) + " scan (" + std::string(config.kind.nmap_flag) +
                     ") sends raw packets and needs root (or CAP_NET_RAW): run it with sudo, or use -sT, the "
                     "connect scan, which needs no root"};
    return sink;
}

// Replies to us: TCP and UDP to our lane-and-try ports (or to the -g port), ICMP errors, echo
// and timestamp replies. With -w, also our own probes, so the file holds both directions in the
// kernel's order and with its timestamps. BOOK: an IPv6 scan's, whose SOURCE is a key: the filter
// is then `ip6` with our address, ICMPv6 errors (types 1-4, RFC 4443 3), echo replies (129) and
// Neighbor Advertisements (136, RFC 4861 4.4); a packet whose fixed header names an extension
// header next (hop-by-hop 0, routing 43, fragment 44, destination options 60, RFC 8200 4) is
// taken whole, since BPF reads ports and ICMPv6 types at fixed offsets: the decoder walks them.
CaptureOptions capture_options(const std::string& device, Ipv4 source, const std::string& ports, const std::string& write_path,
                               const AddressBook* book = nullptr) {
    const std::string me = book != nullptr ? book->text(source) : source.str();
    std::string filter =
        book != nullptr
            ? "ip6 dst host " + me + " and (((tcp or udp) and dst " + ports +
                  ") or (icmp6 and ((icmp6[0] >= 1 and icmp6[0] <= 4) or icmp6[0] == 129 or icmp6[0] == 136)) or "
                  "ip6[6] == 0 or ip6[6] == 43 or ip6[6] == 44 or ip6[6] == 60)"
            : "(dst host " + me + " and (((tcp or udp) and dst " + ports +
                  ") or (icmp and (icmp[0] == 3 or icmp[0] == 0 or icmp[0] == 14)))) or (arp dst host " + me + ")";
    if (!write_path.empty() && book != nullptr)  // our TCP, UDP, echo requests and solicitations
        filter = "(" + filter + ") or (ip6 src host " + me + " and (((tcp or udp) and src " + ports +
                 ") or (icmp6 and (icmp6[0] == 128 or icmp6[0] == 135))))";
    else if (!write_path.empty())
        filter = "(" + filter + ") or (src host " + me + " and (((tcp or udp) and src " + ports +
                 ") or (icmp and (icmp[0] == 8 or icmp[0] == 13)))) or (arp src host " + me + ")";
    CaptureOptions options;
    options.device = device;
    options.filter = filter;
    options.both_directions = !write_path.empty();
    options.dump_path = write_path;
    return options;
}

// first_lane: where in the block this phase's lanes start.
EngineConfig engine_config(const ScanConfig& config, const RouteChoice& route, const PortBlock& block,
                           std::uint8_t first_lane) {
    EngineConfig ec;
    ec.timing = config.timing;
    ec.me = scanner_identity(route.source, block, first_lane);
    ec.seed = config.seed;  // drawn once per scan (run_live_command), or the resume file's
    ec.tcp_data_length = config.data_length.value_or(0);  // a RST,ACK acknowledges it (RFC 793 3.3)
    return ec;
}

void write_stats(std::ostream& err, const Engine& engine) {
    const auto& s = engine.stats();
    err << "flagscan: sent " << s.sent << " probes (" << s.retransmitted << " retransmitted), " << s.replies
        << " replies (" << s.drops_seen << " to retransmissions, " << s.duplicates << " duplicate, " << s.late
        << " late), " << s.strays << " strays; final window " << static_cast<long>(engine.window()) << ", rto "
        << engine.rto() / kMillisecond << " ms\n";
    err << "flagscan: every port had its first probe " << (s.last_first_try - s.first_send) / kMillisecond
        << " ms after the first one\n";
}

// -vv: a line every 50 ms with the engine's state, to watch the window and the timeout work.
void add_timeline(LoopHooks& hooks, const Engine& engine, Micros started, std::ostream& err) {
    LoopHooks timeline;
    timeline.tick = [&engine, &err, started, next_line = started](Micros now) mutable {
        if (now < next_line) return;
        next_line = now + 50 * kMillisecond;
        err << "flagscan: +" << (now - started) / kMillisecond << " ms: sent " << engine.stats().sent << ", decided "
            << engine.decided() << "/" << engine.planned() << ", in flight " << engine.in_flight() << ", window "
            << static_cast<long>(engine.window()) << ", rto " << engine.rto() / kMillisecond << " ms\n";
    };
    add_hooks(hooks, std::move(timeline));
}

struct Prepared {
    AddressSet hosts;  // IPv6: the targets' keys in `book`
    ServiceTable services;
    ScanPlan ports;  // empty with -sn
    RouteChoice route;  // IPv6: source is our source address's key; subnet spans the targets' keys when all are on the link
    UdpPayloads payloads;
    std::optional<Ipv4> bounce_server;  // -b: the FTP server's address
    std::shared_ptr<AddressBook> book;   // IPv6: every address of the scan under its key (targets, then our source); else null
    std::optional<RouteChoice6> route6;  // IPv6: the route in addresses
    std::optional<MacAddress> spoofed_mac;  // --spoof-mac: the source of every frame we send
};

// The Ethernet source our frames carry (ARP, NDP, and with --spoof-mac every raw probe).
MacAddress frame_source(const Prepared& prepared) {
    return prepared.spoofed_mac.value_or(prepared.route.mac.value_or(MacAddress{}));
}

// A target set over `hosts` (the prepared ones or some of them) that writes an IPv6 scan's keys as
// their addresses: every TargetSet of a live scan is built here.
TargetSet scan_targets(const Prepared& prepared, const AddressSet& hosts, const std::vector<Slot>& slots) {
    TargetSet targets{hosts, slots};
    targets.set_address_book(prepared.book);
    return targets;
}

// -b: the FTP server's address; a name is resolved now, before anything is sent.
Result<std::optional<Ipv4>> bounce_address(const ScanConfig& config) {
    if (!config.ftp_bounce) return std::optional<Ipv4>{};
    const std::string& host = config.ftp_bounce->host;
    if (const auto address = Ipv4::parse(host)) return std::optional<Ipv4>{*address};
    const auto found = resolve_with_system(host);
    if (found.empty()) return Error{"-b: cannot resolve the FTP bounce server '" + host + "'"};
    return std::optional<Ipv4>{found.front()};
}

// The route a scan's packets take: to the targets, or with -b and -Pn, where nothing but the
// FTP server is talked to, to the server (the targets may be out of our reach: that is the point).
Result<ScanRoute> scan_route(const ScanHosts& hosts, const ScanConfig& config, std::optional<Ipv4> bounce_server) {
    if (hosts.book) return prepare_route6(hosts, config);  // -b is refused over IPv6 (options.cpp)
    auto route = bounce_server && config.skip_discovery ? choose_route(*bounce_server, config.interface, config.source)
                                                        : prepare_route(hosts.hosts, config);
    if (!route) return Error{route.error()};
    return ScanRoute{*route, std::nullopt};
}

// --explain keeps every probe's evidence (about 40 bytes each, Keep::every_port): a scan whose
// memory must stay flat cannot have it.
constexpr std::uint64_t kExplainUpTo = std::uint64_t{1} << 24;
Result<bool> explain_fits(const ScanConfig& config, const AddressSet& hosts, const ScanPlan& plan) {
    const std::uint64_t probes = hosts.size() * std::max<std::uint64_t>(plan.slots.size(), 1);
    if (!config.explain || probes <= kExplainUpTo) return true;
    return Error{"--explain keeps the evidence of every probe: at most " + std::to_string(kExplainUpTo) +
                 " probes, and this scan has " + std::to_string(probes) + " (explain a smaller part of it)"};
}

Result<Prepared> prepare(const ScanConfig& config, std::ostream& err) {
    auto hosts = prepare_hosts(config, err);
    if (!hosts) return Error{hosts.error()};
    auto services = ServiceTable::load_system();
    ScanPlan plan;
    if (!config.ping_only) {
        auto ports = port_scan_plan(config, services);
        if (!ports) return Error{ports.error()};
        plan = std::move(ports).value();
    }
    if (auto fits = explain_fits(config, hosts->hosts, plan); !fits) return Error{fits.error()};
    auto bounce = bounce_address(config);
    if (!bounce) return Error{bounce.error()};
    auto route = scan_route(*hosts, config, *bounce);
    if (!route) return Error{route.error()};
    auto payloads = config.udp_scan || !config.ping.udp.empty() ? UdpPayloads::load_system() : UdpPayloads{};
    return Prepared{std::move(hosts->hosts), std::move(services), std::move(plan), route->route, std::move(payloads), *bounce,
                    std::move(hosts->book), route->route6, std::nullopt};
}

// --spoof-mac: the MAC drawn from the scan's seed (a resumed scan draws the same), said as nmap
// says it; refused on an interface without an Ethernet address (loopback, tunnels).
Result<bool> choose_spoofed_mac(const ScanConfig& config, Prepared& prepared, std::ostream& err) {
    if (config.spoof_mac.empty()) return true;
    if (!prepared.route.mac)
        return Error{"--spoof-mac needs an Ethernet interface, and '" + prepared.route.interface + "' is not one"};
    const auto vendors = load_mac_prefixes();
    auto mac = parse_spoof_mac(config.spoof_mac, vendors, config.seed);
    if (!mac) return Error{mac.error()};
    prepared.spoofed_mac = *mac;
    err << "flagscan: " << spoofing_line(*mac, vendors) << '\n';
    return true;
}

// -v, an IPv6 scan: where its addresses went, in one line.
void describe_ipv6(const Prepared& prepared, std::ostream& err) {
    const RouteChoice& route = prepared.route;
    const auto& ranges = prepared.hosts.ranges();
    err << "flagscan: IPv6 targets: " << prepared.hosts.size() << ", as keys " << ranges.front().first.str() << "-"
        << ranges.back().last.str() << "; source " << prepared.route6->source.str() << " (key " << route.source.str()
        << ") on " << route.interface;
    if (prepared.route6->subnet) err << " (" << prepared.route6->subnet->str() << ")";
    err << "; targets on the link: " << (route.subnet ? "yes" : "no") << '\n';
}

// The raw edges of a scan: one socket to send, one capture for every phase's replies.
struct RawWire {
    std::unique_ptr<RawSocketSink> sink;   // on the heap: the direct link hands it what it cannot frame
    std::unique_ptr<SpoofedLink> spoofed;  // --spoof-mac, else null (before the capture, whose tap uses it)
    std::unique_ptr<DirectLink> direct;    // our own frames on an Ethernet interface, else null
    std::unique_ptr<LiveCapture> capture;
    // Where the raw IP probes go: with --spoof-mac the Ethernet framing from that MAC, else the direct link, else the raw socket.
    FrameSink& ip_sink() { return spoofed ? spoofed->sink() : direct ? direct->sink() : *sink; }
};

// The direct link, where there is one: an Ethernet interface (not loopback or a tunnel), IPv4,
// without --spoof-mac (which frames from its own MAC). Where it cannot open, the raw socket does it all.
std::unique_ptr<DirectLink> open_direct_link(const ScanConfig& config, const Prepared& prepared, FrameSink& fallback) {
    if (prepared.spoofed_mac || !prepared.route.mac || config.ipv6) return nullptr;
    auto direct = DirectLink::open(prepared.route, false, fallback);
    return direct ? std::move(direct).value() : nullptr;
}

Result<RawWire> open_wire(const ScanConfig& config, const Prepared& prepared, const PortBlock& block) {
    auto opened_sink = open_sink(config, prepared.route);
    if (!opened_sink) return Error{opened_sink.error()};
    auto sink = std::make_unique<RawSocketSink>(std::move(opened_sink).value());
    std::unique_ptr<SpoofedLink> spoofed;
    if (prepared.spoofed_mac) {
        auto opened = SpoofedLink::open(prepared.route, prepared.book.get(), *prepared.spoofed_mac,
                                        probe_shape(config, *prepared.spoofed_mac));
        if (!opened) return Error{opened.error()};
        spoofed = std::move(opened).value();
    }
    auto direct = open_direct_link(config, prepared, *sink);
    auto options = capture_options(prepared.route.interface, prepared.route.source, block.bpf_ports(), config.write_path,
                                   prepared.book.get());
    if (spoofed) {  // replies to the spoofed MAC (the ARP we send asks for them there) are seen, and teach it MACs
        options.promiscuous = true;
        options.tap = [link = spoofed.get()](std::span<const std::uint8_t> frame) { link->learn(LinkType::ethernet, frame); };
    }
    if (direct)  // the ARP replies to us (ours, the kernel's) teach the direct link its next hops' MACs
        options.tap = [link = direct.get()](std::span<const std::uint8_t> frame) { link->learn(LinkType::ethernet, frame); };
    auto capture = LiveCapture::open(options);
    if (!capture) return Error{capture.error()};
    (*capture)->start();
    if (auto resolved = spoofed ? spoofed->resolve_gateways(prepared.hosts) : Result<bool>{true}; !resolved)
        return Error{resolved.error()};
    return RawWire{std::move(sink), std::move(spoofed), std::move(direct), std::move(capture).value()};
}

// How one run of the engine went, for the verbose counters and --explain.
struct PhaseEnd {
    ScanEnd end = ScanEnd::finished;
    bool failed = false;   // the phase could not run or broke off (its reason already printed)
    bool refused = false;  // ... and could not even start: nothing was sent
    ResumePoint point;     // interrupted: where the walk stood, what was left in flight
};

PhaseEnd refused() { return PhaseEnd{ScanEnd::interrupted, true, true, {}}; }

// One run of the engine over one target set: discovery, or the port scan.
struct Phase {
    const ScanPlan* plan;
    const TargetSet* targets;
    Results* results;
    EngineConfig settings;
    const ScanView* stream = nullptr;  // the outputs' view when hosts are written as they finish
};

struct Wire {
    std::optional<RawWire> raw;  // absent without root: discovery and ports go through connect()
    PortBlock block;
};

// What every phase of one scan shares: the command's edges, opened once.
struct ScanContext {
    const ScanConfig& config;
    const Prepared& prepared;
    Wire& wire;
    InterruptWatcher& interrupts;
    OutputSet& outputs;
    const ResumeState* resume;  // --resume: the interrupted run's state, else null
    const LoadedProbes* probes;  // -sV: nmap-service-probes (or the built-in set), else null
    const OsDb* os_db;           // -O: nmap-os-db, else null
    std::ostream& out;
    std::ostream& err;
    const AddressSet& hosts;  // this shard's hosts when shards own whole hosts (discovery runs), else every host
    std::string identity;     // what the outputs record of the scan (cli/merge.hpp scan_identity)
};

// The observers every phase gets, in one place: packet trace, -vv timeline, streamed outputs.
// (A connect scan traces its connections itself: trace_packets false.)
// (A sink that sends copies of its own, -D, traces what it sends: sink_traces.)
LoopHooks phase_hooks(const ScanContext& context, const Phase& phase, const Engine& engine, Micros started,
                      bool trace_packets, bool sink_traces = false) {
    LoopHooks hooks;
    if (trace_packets && context.config.packet_trace)
        add_packet_trace(hooks, side_stream(context.config, context.out, context.err), phase.targets->address_book(),
                         !sink_traces);
    if (context.config.verbosity >= 2) add_timeline(hooks, engine, started, context.err);
    if (phase.stream != nullptr) add_streaming(hooks, context.outputs, *phase.results, *phase.stream);
    return hooks;
}

PhaseEnd run_raw_phase(const ScanContext& context, const Phase& phase, FrameSink& sink, LiveCapture& capture,
                       bool sink_traces = false) {
    const ScanConfig& config = context.config;
    const ProbeShape shape = probe_shape(config, frame_source(context.prepared));
    auto builder = ProbeBuilder::create(phase.plan->kinds, shape, &context.prepared.payloads, phase.targets->address_book());
    if (!builder) return context.err << "flagscan: " << builder.error() << '\n', refused();
    EngineConfig settings = phase.settings;
    settings.delivery_slack = capture.delivery_slack();
    Engine engine{*phase.targets, settings, CookieKey::random(), *phase.results};
    const SteadyClock clock;
    const LoopHooks hooks = phase_hooks(context, phase, engine, clock.now(), true, sink_traces);
    const PhaseWatch watch{config, phase.plan->title, engine, *phase.results, context.out, context.err};
    const ScanEnd end = run_watched(watch, clock, hooks, [&](const LoopHooks& all) {
        return run_scan(engine, *builder, sink, capture, clock, context.interrupts.flag(), all);
    });
    if (config.verbosity > 0) write_stats(context.err, engine);
    if (config.verbosity > 0 && context.wire.raw->direct && context.wire.raw->direct->stats().handed_back > 0)
        context.err << "flagscan: " << context.wire.raw->direct->stats().handed_back
                    << " probes went through the raw socket: their next hop's MAC was not known yet\n";
    if (config.verbosity > 0 && context.wire.raw->spoofed) {
        const EthernetSinkStats& framed = context.wire.raw->spoofed->stats();
        context.err << "flagscan: --spoof-mac: " << framed.unresolved << " probes waited for a next hop's MAC, "
                    << framed.asked << " ARP/NDP requests sent for one\n";
    }
    return PhaseEnd{end, false, false, end == ScanEnd::interrupted ? engine.resume_point() : ResumePoint{}};
}

// A connect scan holds one descriptor per connection in progress: its window is what the
// open-file limit leaves free (so a shortage never has to be waited out), said when it is small.
std::optional<double> connect_window(double wanted, std::ostream& err) {
    const std::size_t limit = raise_file_limit();
    const std::size_t open_now = open_descriptors();
    const auto budget = connection_budget(limit, open_now);
    if (!budget) return err << "flagscan: " << budget.error() << '\n', std::nullopt;
    const double window = std::min(wanted, static_cast<double>(*budget));
    if (*budget < 1000)
        err << "flagscan: only " << limit << " open files allowed (" << open_now << " open): at most " << *budget
            << " connections at once (raise it with ulimit -n)\n";
    return window;
}

// What sockets bind to with -S: an IPv6 scan's source is its key (the sockets find the address in the book).
std::optional<Ipv4> socket_source(const ScanContext& context) {
    const ScanConfig& config = context.config;
    return config.ipv6 && config.source6 ? std::optional{context.prepared.route.source} : config.source;
}

PhaseEnd run_connect_phase(const ScanContext& context, const Phase& phase) {
    const ScanConfig& config = context.config;
    EngineConfig settings = phase.settings;
    const auto window = connect_window(settings.timing.max_window, context.err);
    if (!window) return refused();
    settings.timing.max_window = *window;
    auto driver = ConnectDriver::open(socket_source(context), config.interface, settings.timing.max_rto + kSecond,
                                      static_cast<std::size_t>(*window), phase.targets->address_book());
    if (!driver) return context.err << "flagscan: " << driver.error() << '\n', refused();
    Engine engine{*phase.targets, settings, CookieKey::random(), *phase.results};
    const SteadyClock clock;
    const Micros started = clock.now();
    if (config.packet_trace) {
        driver->trace([&trace = side_stream(config, context.out, context.err), started,
                       book = phase.targets->address_book()](const ConnectEvent& event) {
            trace << trace_connect(event.target, event.port, event.error, event.when - started, book) << '\n';
        });
    }
    const LoopHooks hooks = phase_hooks(context, phase, engine, started, false);
    const PhaseWatch watch{config, phase.plan->title, engine, *phase.results, context.out, context.err};
    const ScanEnd end = run_watched(watch, clock, hooks, [&](const LoopHooks& all) {
        return run_connect_scan(engine, *driver, clock, context.interrupts.flag(), all);
    });
    if (config.verbosity > 0) write_stats(context.err, engine);
    if (driver->failure()) context.err << "flagscan: " << *driver->failure() << '\n';
    return PhaseEnd{end, driver->failure().has_value(), false,
                    end == ScanEnd::interrupted ? engine.resume_point() : ResumePoint{}};
}

// The hosts discovery found up, in address order (so adding them merges into ranges cheaply).
AddressSet hosts_up(const Results& results) {
    AddressSet up;
    const auto& hosts = results.targets().hosts();
    for (std::uint32_t host = 0; host < hosts.size(); ++host) {
        if (results.host(host).counts[static_cast<int>(PortState::open)] > 0) up.add(hosts.at(host));
    }
    return up;
}

// A port scan that follows discovery: each host starts with the latency discovery measured.
void carry_latency(const Results& discovery, Results& ports) {
    const auto& hosts = ports.targets().hosts();
    for (std::uint32_t host = 0; host < hosts.size(); ++host) {
        const auto found = discovery.targets().hosts().index_of(hosts.at(host));
        if (found) ports.note_reply(host, discovery.host(static_cast<std::uint32_t>(*found)).min_rtt);
    }
}

// How each host of the port scan was judged up: its discovery evidence (arp-response,
// echo-reply, syn-ack, ...), else user-set (-Pn), as nmap's "Host is up, received ...".
// Without discovery every host is user-set: ScanSummary::default_host_reason says it once.
std::vector<Reason> reasons_up(const TargetSet& targets, const Results* discovery) {
    const auto& hosts = targets.hosts();
    if (discovery == nullptr) return {};
    std::vector<Reason> reasons(hosts.size(), Reason::user_set);
    for (std::uint32_t host = 0; host < hosts.size(); ++host) {
        const auto found = discovery->targets().hosts().index_of(hosts.at(host));
        const auto evidence = found ? up_evidence(*discovery, static_cast<std::uint32_t>(*found)) : std::nullopt;
        if (evidence) reasons[host] = discovery->port(*evidence).reason;
    }
    return reasons;
}

// -b: the port scan through the FTP server, one port after the other over its control
// connection (service/ftp_bounce.hpp); a server that will not bounce ends it with one line.
PhaseEnd run_bounce_phase(const ScanContext& context, const Phase& phase) {
    const ScanConfig& config = context.config;
    BounceSettings settings;
    settings.server = *config.ftp_bounce;
    settings.server_address = *context.prepared.bounce_server;
    settings.limits.source = config.source;
    settings.limits.device = config.interface;
    const SteadyClock clock;
    const BounceRun run = bounce_scan(*phase.results, settings, clock, context.interrupts.flag());
    const std::string server = settings.server_address.str() + ":" + std::to_string(settings.server.port.value());
    for (const auto& note : run.notes) context.err << "flagscan: " << note << '\n';
    if (run.bounced)
        context.err << "flagscan: the FTP server " << server << " allows bouncing: it connected to the target for us\n";
    if (config.verbosity > 0)
        context.err << "flagscan: FTP bounce: " << run.ports << " ports of " << run.hosts << " hosts through " << server
                    << " in " << run.elapsed / kMillisecond << " ms, " << run.reconnections << " new logins\n";
    if (run.failure) {
        context.err << "flagscan: " << run.failure->message << '\n';
        return PhaseEnd{ScanEnd::finished, true, run.ports == 0, {}};  // exit 1 when nothing was scanned, else 2
    }
    return PhaseEnd{context.interrupts.interrupted() ? ScanEnd::interrupted : ScanEnd::finished, false, false, {}};
}

// The phase runner: the wire each phase's probes need (connect(), raw IP, or Ethernet for ARP),
// or the FTP server's control connection (-b).
PhaseEnd run_phase(const ScanContext& context, const Phase& phase) {
    Wire& wire = context.wire;
    if (is_bounce_scan(*phase.plan->kinds.front())) return run_bounce_phase(context, phase);
    if (is_connect_scan(*phase.plan->kinds.front()) || !wire.raw) return run_connect_phase(context, phase);
    if (phase.plan->kinds.front()->protocol != ipproto::arp) {
        const ScanConfig& config = context.config;
        FragmentingSink fragments{wire.raw->ip_sink(), config.fragment_data};  // -f, --mtu
        FrameSink& shaped = config.fragment_data > 0 ? static_cast<FrameSink&>(fragments) : wire.raw->ip_sink();
        if (config.decoys.empty()) return run_raw_phase(context, phase, shaped, *wire.raw->capture);
        DecoySink::Observer trace;  // -D: decoys first, then fragments; every copy traced in wire order
        if (config.packet_trace)
            trace = [&stream = side_stream(config, context.out, context.err)](std::span<const std::uint8_t> packet) {
                trace_sent_packet(stream, packet);
            };
        const auto& route6 = context.prepared.route6;  // an IPv6 scan: its decoys, RND drawn in our /64
        const auto source6 = route6 ? std::optional{route6->source} : std::nullopt;
        DecoySink decoys{shaped, plan_decoys(config.decoys, config.seed, source6), std::move(trace)};
        return run_raw_phase(context, phase, decoys, *wire.raw->capture, true);
    }
    auto link = LinkSink::open(context.prepared.route.interface);
    if (!link) return context.err << "flagscan: " << link.error() << '\n', refused();
    return run_raw_phase(context, phase, *link, *wire.raw->capture);
}

bool on_attached_ethernet(const Prepared& prepared) {
    bool on_link = prepared.route.mac.has_value();
    for (const auto& range : prepared.hosts.ranges())
        on_link = on_link && prepared.route.on_link(range.first) && prepared.route.on_link(range.last);
    return on_link;
}

// ARP replaces the IP pings when every target is on the directly attached Ethernet (nmap's
// rule); -PR asks for it, and is dropped with a notice when the targets are elsewhere.
bool use_arp(const ScanConfig& config, const Prepared& prepared, std::ostream& err) {
    if (config.ping.given() && !config.ping.arp) return false;
    const bool on_link = on_attached_ethernet(prepared);
    if (!on_link && config.ping.arp)
        err << "flagscan: -PR: the targets are not all on the directly attached Ethernet network: pinging them instead\n";
    return on_link;
}

// -Pn skips the pings but, when raw packets go out on the attached Ethernet, not ARP (nmap):
// a frame cannot even be addressed to a target that does not answer ARP (RFC 826), so it is
// down, not up with every port filtered. A connect scan leaves ARP to the kernel (user-set).
bool arp_despite_pn(const ScanConfig& config, const Wire& wire, const Prepared& prepared) {
    return config.skip_discovery && wire.raw && on_attached_ethernet(prepared);
}

// Our own address answers no ARP request of ours: like nmap, it is up (localhost-response;
// user-set under -Pn, which asked for no evidence).
void mark_ourselves(Results& found, Ipv4 source, Reason reason) {
    const auto host = found.targets().hosts().index_of(source);
    if (!host || up_evidence(found, static_cast<std::uint32_t>(*host))) return;
    PortResult self;
    self.state = PortState::open;
    self.reason = reason;
    found.set((*found.targets().slots_of(*host).begin()).index, self);
}

// What discovery found, and the exit code when the command ends with it (-sn, or Ctrl-C).
struct Discovery {
    std::unique_ptr<TargetSet> targets;
    std::optional<Results> found;
    std::optional<int> exit_code;
};

// The exit code of a scan: 1 when a phase refused to start (nothing sent), 2 when it broke off
// or an output could not be written, 130 interrupted, else 0.
int exit_code(const PhaseEnd& end, bool written) {
    if (end.refused) return 1;
    if (end.failed || !written) return 2;
    return end.end == ScanEnd::interrupted ? 130 : 0;
}

// A summary as every output needs it: the command line, the start, -v (XML, grepable).
ScanSummary summary_of(const ScanConfig& config, const std::string& title, std::uint64_t addresses) {
    ScanSummary summary{title, now_text(), 0, false, {}, addresses};
    summary.command_line = config.command_line;
    summary.start_unix = static_cast<std::int64_t>(std::time(nullptr));
    summary.verbosity = config.verbosity;
    return summary;
}

// The same for one phase of this scan, with what tells it from another scan and its shard.
ScanSummary scan_summary(const ScanContext& context, const std::string& title, std::uint64_t addresses) {
    ScanSummary summary = summary_of(context.config, title, addresses);
    summary.identity = context.identity;
    if (context.config.shard_given) summary.shard = describe_shard(context.config.shard);
    return summary;
}

// --resume: phase `name` of the interrupted run put into `results`, and its engine told where
// the walk stood. False (said) when the file does not fit the scan rebuilt from its command line.
bool resume_phase(const ScanContext& context, std::string_view name, Results& results, EngineConfig& settings) {
    const ResumePhase* phase = context.resume != nullptr ? context.resume->phase(name) : nullptr;
    if (phase == nullptr) return true;
    if (auto restored = restore_phase(*phase, results); !restored) {
        context.err << "flagscan: " << context.config.resume_path << ": " << restored.error() << '\n';
        return false;
    }
    settings.resume = phase->point;
    return true;
}

// A phase that ran to its end, as a resume file keeps it.
ResumePhase finished_phase(std::string name, const Results& results) {
    return capture_phase(std::move(name), results, ResumePoint{results.targets().size(), {}});
}

// Ctrl-C: every phase as far as it got, in the resume file (the one resumed from, else
// --resume-file), and how to go on.
void write_resume(const ScanContext& context, std::vector<ResumePhase> phases, const Results& last) {
    const ScanConfig& config = context.config;
    const std::string& path = config.resume_path.empty() ? config.resume_file : config.resume_path;
    const ResumeState state{config.args, config.seed, std::move(phases), config.shard.shard};
    if (auto written = write_resume_file(path, state); !written) {
        context.err << "flagscan: interrupted, and the resume file could not be written: " << written.error() << '\n';
        return;
    }
    context.err << "flagscan: interrupted with " << last.targets().size() - last.decided() << " of " << last.targets().size()
                << " probes undecided; to go on: flagscan --resume " << path << '\n';
}

// -sn, the discovery before a port scan, or the ARP that -Pn keeps on the attached Ethernet.
// With -sn its hosts are the report, streamed as they finish unless their names are looked up
// at the end (-n not given).
Discovery discover(const ScanContext& context) {
    const ScanConfig& config = context.config;
    const Prepared& prepared = context.prepared;
    const bool raw = context.wire.raw.has_value();
    const bool arp = raw && (config.skip_discovery || use_arp(config, prepared, context.err));
    const ScanPlan plan = arp ? arp_discovery_plan() : raw ? discovery_plan(config.ping, config.ipv6) : connect_discovery_plan();
    if (!raw && config.ping.given())
        context.err << "flagscan: not root: -P options need raw packets; discovering with connect() to 80 and 443\n";
    Discovery discovery{std::make_unique<TargetSet>(scan_targets(prepared, context.hosts, plan.slots)), std::nullopt, std::nullopt};
    Results& found = discovery.found.emplace(*discovery.targets, plan.kinds);
    const SteadyClock clock;
    const Micros started = clock.now();
    ScanSummary summary = scan_summary(context, plan.title, context.hosts.size());
    const ScanView view{found, prepared.services, config.report, summary, true};
    Phase phase{&plan, discovery.targets.get(), &found, engine_config(config, prepared.route, context.wire.block, 0)};
    if (!resume_phase(context, "discovery", found, phase.settings)) {
        discovery.exit_code = 1;
        return discovery;
    }
    if (config.ping_only) context.outputs.start(view);
    if (config.ping_only && config.no_dns) phase.stream = &view;
    const PhaseEnd end = run_phase(context, phase);
    if (end.end == ScanEnd::interrupted && !end.failed) write_resume(context, {capture_phase("discovery", found, end.point)}, found);
    if (arp) mark_ourselves(found, prepared.route.source, config.skip_discovery ? Reason::user_set : Reason::localhost_response);
    summary.elapsed_seconds = double(clock.now() - started) / kSecond;
    summary.interrupted = end.end == ScanEnd::interrupted;
    if (!config.ping_only && !summary.interrupted && !end.failed) return discovery;
    if (!config.no_dns) summary.host_names = names_of_hosts_up(found);
    const bool written = finish_reports(config, context.outputs, view, {}, context.out, context.err);
    discovery.exit_code = exit_code(end, written);
    return discovery;
}

// Options that shape raw packets do nothing to a connect scan, whose packets the kernel
// builds (nmap: "These options will not be honored for TCP Connect scan").
// The same holds for the FTP bounce scan (-b), whose connections are the FTP server's.
void warn_ignored_by_connect(const ScanConfig& config, std::ostream& err) {
    const bool bounce = is_bounce_scan(config.kind);
    if (config.ping_only || !(is_connect_scan(config.kind) || bounce)) return;
    const std::string scan = bounce ? "an FTP bounce scan (-b)" : "a connect scan (-sT)";
    const std::string scans = bounce ? "an FTP bounce scan's (-b)" : "a connect scan's (-sT)";
    if (config.ttl)
        err << "flagscan: warning: --ttl is not honored by " << scan << ": the kernel builds its packets\n";
    if (!config.ip_options.empty())
        err << "flagscan: warning: --ip-options is not honored by " << scan << ": the kernel builds its packets\n";
    if (!config.write_path.empty())
        err << "flagscan: warning: -w records flagscan's raw packets only; " << scans << " connections are "
            << (bounce ? "the FTP server's" : "the kernel's") << ": they are not recorded\n";
}

// The service phases' connections: from -S, through -e, and over IPv6 to the keys of an IPv6 scan's book.
ConversationLimits conversation_limits(const ScanContext& context, const Results& results) {
    ConversationLimits limits;
    limits.source = socket_source(context);
    limits.device = context.config.interface;
    limits.book = results.targets().address_book();
    return limits;
}

// --banners, the phase after the port scan: the first bytes each open TCP port sends, kept in
// `results` for every output.
void grab_banners_phase(const ScanContext& context, Results& results) {
    const ScanConfig& config = context.config;
    BannerSettings settings;
    settings.limits = conversation_limits(context, results);
    const SteadyClock clock;
    const BannerRun run = grab_banners(results, settings, clock, context.interrupts.flag());
    if (run.failure) context.err << "flagscan: --banners: " << *run.failure << '\n';
    if (config.verbosity > 0)
        context.err << "flagscan: banners: " << run.banners << " of " << run.ports << " open TCP ports sent one ("
                    << run.stats.connections << " connections, " << run.elapsed / kMillisecond << " ms)\n";
}

// -sV, the phase after the port scan (and --banners): nmap's probes walked over every open TCP
// port and every open or open|filtered UDP port, each port's service and version (or service
// fingerprint) kept in `results` for every output.
void detect_versions_phase(const ScanContext& context, Results& results, const LoadedProbes& probes) {
    const ScanConfig& config = context.config;
    const ConversationLimits limits = conversation_limits(context, results);
    const SteadyClock clock;
    const Micros started = clock.now();
    const FingerprintStamp stamp = fingerprint_stamp(kVersion, config.version_intensity, std::time(nullptr));
    const VersionRun run = detect_versions(results, probes.db, context.prepared.services, stamp, limits, clock,
                                           context.interrupts.flag());
    if (run.failure) context.err << "flagscan: -sV: " << *run.failure << '\n';
    if (config.verbosity > 0)
        context.err << "flagscan: service detection: " << run.matched << " of " << run.ports << " ports named, "
                    << run.opened << " open|filtered UDP ports answered (" << run.stats.connections << " connections, "
                    << (clock.now() - started) / kMillisecond << " ms)\n";
}

// -I, the phase after the port scan (and -sV): each open TCP port connected to and, while that
// connection is up, the target's identd on 113 asked who owns it (RFC 1413); the owners kept in
// `results` for every output. -v says why a host or port has none.
void lookup_owners_phase(const ScanContext& context, Results& results) {
    const ScanConfig& config = context.config;
    IdentSettings settings;
    settings.limits = conversation_limits(context, results);
    settings.limits.connect_timeout = 3 * kSecond;
    const SteadyClock clock;
    const IdentRun run = lookup_owners(results, settings, clock, context.interrupts.flag());
    if (run.failure) context.err << "flagscan: -I: " << *run.failure << '\n';
    if (config.verbosity == 0) return;
    for (const std::string& note : run.notes) context.err << "flagscan: ident: " << note << '\n';
    context.err << "flagscan: ident: " << run.owners << " of " << run.ports << " open TCP ports have an owner (" << run.reached
                << " of " << run.hosts << " hosts answer on 113; " << run.stats.connections << " connections, "
                << run.elapsed / kMillisecond << " ms)\n";
}

// --checks, the phase after -sV: each chosen check with every open TCP port whose service (as -sV
// named it) it applies to; findings kept in `results` for every output. -v says what each did.
void run_checks_phase(const ScanContext& context, Results& results) {
    const ScanConfig& config = context.config;
    ChecksSettings settings;
    settings.checks = config.checks;
    settings.limits = conversation_limits(context, results);
    settings.seed = random_u64();
    const SteadyClock clock;
    const ChecksRun run = run_checks(results, settings, clock, context.interrupts.flag());
    for (const auto& note : run.notes) context.err << "flagscan: " << note << '\n';
    if (run.failure) context.err << "flagscan: --checks: " << *run.failure << '\n';
    if (config.verbosity == 0) return;
    for (const auto& line : run.said) context.err << "flagscan: check " << line << '\n';
    context.err << "flagscan: checks: " << run.findings << " findings on " << run.ports << " open TCP ports ("
                << run.conversations << " conversations, " << run.elapsed / kMillisecond << " ms)\n";
}

// The slowest host's round trip as the port scan measured it (0: none measured).
Micros slowest_rtt(const Results& results) {
    Micros rtt = 0;
    for (const std::uint32_t host : results.hosts_held()) rtt = std::max(rtt, results.host(host).min_rtt);
    return rtt;
}

// -O, the phase after -sV: nmap's 16 OS probes to each host that answered, from the ports the scan
// found, through the scan's raw socket and capture; each host's verdict kept in `results`.
void detect_os_phase(const ScanContext& context, Results& results) {
    const ScanConfig& config = context.config;
    if (!context.wire.raw || context.os_db == nullptr) return;
    OsDetectionSettings settings;
    settings.source = context.prepared.route.source;
    settings.first_source_port = context.wire.block.os_base();
    settings.max_tries = config.os.max_tries;
    settings.guess = config.os.guess;
    settings.limit = config.os.limit;
    settings.print_fingerprint = config.os.print_fingerprint;
    settings.udp_scan = config.udp_scan;
    settings.on_link = on_attached_ethernet(context.prepared);
    if (context.prepared.route.mac) settings.link_subnet = context.prepared.route.subnet;  // per host when some are routed
    settings.verbose = config.verbosity;
    settings.ttl = config.ttl.value_or(64);
    settings.rtt = slowest_rtt(results);
    settings.version = std::string(kVersion);
    settings.seed = random_u64();
    const SteadyClock clock;
    const Micros started = clock.now();
    const OsDetectionRun run = detect_os(results, *context.os_db, settings, context.wire.raw->ip_sink(), *context.wire.raw->capture,
                                         clock, context.interrupts.flag());
    if (config.verbosity == 0) return;
    for (const std::string& note : run.notes) context.err << "flagscan: OS detection: " << note << '\n';
    context.err << "flagscan: OS detection: " << run.matched << " of " << run.hosts << " hosts matched ("
                << (clock.now() - started) / kMillisecond << " ms)\n";
}

// The port scan over the hosts discovery left up (all of them with -Pn), streamed to the outputs.
int scan_ports(const ScanContext& context, const AddressSet& hosts, const Results* discovery, Micros started) {
    const ScanConfig& config = context.config;
    const Prepared& prepared = context.prepared;
    const SteadyClock clock;
    const TargetSet targets = scan_targets(prepared, hosts, prepared.ports.slots);
    Results results{targets, prepared.ports.kinds, config.explain};  // --explain alone reads the evidence
    if (discovery != nullptr) carry_latency(*discovery, results);
    ScanSummary summary = scan_summary(context, prepared.ports.title, context.hosts.size());
    summary.host_reasons = reasons_up(targets, discovery);
    summary.default_host_reason = Reason::user_set;
    const ScanView view{results, prepared.services, config.report, summary, false};
    // The port scan's lanes take the second half of the source-port block (discovery the first).
    Phase phase{&prepared.ports, &targets, &results, engine_config(config, prepared.route, context.wire.block, PortBlock::kPortScanLane), &view};
    phase.settings.me.lanes = static_cast<std::uint8_t>(prepared.ports.kinds.size());
    // Without discovery the shards split the port scan's own walk over host x port (masscan's
    // --shard); after discovery each shard already owns whole hosts (context.hosts) and scans all of theirs.
    if (discovery == nullptr) phase.settings.shard = config.shard.shard;
    if (config.banners || config.version_detection || config.ftp_bounce || config.ident || config.os.enabled)
        phase.stream = nullptr;  // written when done (banners, services, owners in; -b: no engine streams)
    if (!resume_phase(context, "ports", results, phase.settings)) return 1;
    if (!config.no_dns) summary.host_names = names_of_targets(targets);  // before the scan, as nmap: names stream too
    context.outputs.start(view);
    PhaseEnd end;
    if (!hosts.empty()) end = run_phase(context, phase);
    if (config.banners && end.end == ScanEnd::finished && !end.failed) grab_banners_phase(context, results);
    if (context.probes && end.end == ScanEnd::finished && !end.failed) detect_versions_phase(context, results, *context.probes);
    if (config.os.enabled && end.end == ScanEnd::finished && !end.failed && !context.interrupts.interrupted())
        detect_os_phase(context, results);
    if (config.ident && end.end == ScanEnd::finished && !end.failed) lookup_owners_phase(context, results);
    if (!config.checks.empty() && end.end == ScanEnd::finished && !end.failed && !context.interrupts.interrupted())
        run_checks_phase(context, results);
    if (end.end == ScanEnd::interrupted && !end.failed) {
        std::vector<ResumePhase> phases;
        if (discovery != nullptr) phases.push_back(finished_phase("discovery", *discovery));
        phases.push_back(capture_phase("ports", results, end.point));
        write_resume(context, std::move(phases), results);
    }
    summary.elapsed_seconds = double(clock.now() - started) / kSecond;
    summary.interrupted = end.end == ScanEnd::interrupted;
    const CaptureStats capture_stats = context.wire.raw ? context.wire.raw->capture->stop() : CaptureStats{};
    const bool written = finish_reports(config, context.outputs, view, ExplainContext{.replay = false, .shaping = shaping_sentences(config)}, context.out, context.err);
    if (capture_stats.dropped > 0 || config.verbosity > 0)
        context.err << "flagscan: capture saw " << capture_stats.received << ", dropped " << capture_stats.dropped
                    << " (kernel) " << capture_stats.if_dropped << " (interface)\n";
    return exit_code(end, written);
}

// Discovery (unless -Pn keeps no ARP either), then the port scan of the hosts found up.
int scan(const ScanContext& context, Micros started) {
    const ScanConfig& config = context.config;
    if (config.skip_discovery && !arp_despite_pn(config, context.wire, context.prepared))
        return scan_ports(context, context.hosts, nullptr, started);
    const Discovery discovery = discover(context);
    if (discovery.exit_code) return *discovery.exit_code;
    return scan_ports(context, hosts_up(*discovery.found), &*discovery.found, started);
}

}  // namespace

// Everything that can refuse the scan is checked before the first packet: the outputs are
// opened, the targets, ports and route parsed, the sockets opened (exit 1 when any fails).
int run_live_command(const ScanConfig& given, std::ostream& out, std::ostream& err, const ResumeState* resume) {
    InterruptWatcher interrupts;  // first, so that every thread started below inherits its signal mask
    ScanConfig config = given;
    if (!config.seed_given) config.seed = random_u64();  // one order per scan, kept by a resume file
    const bool root = ::geteuid() == 0;
    if (config.os.enabled && !root)
        return err << "flagscan: OS detection (-O) sends raw packets and needs root (or CAP_NET_RAW): run it with sudo\n", 1;
    if (!config.decoys.empty() && !root)
        return err << "flagscan: -D sends raw packets from the decoys' addresses and needs root (or CAP_NET_RAW): run it with sudo\n", 1;
    if (!config.decoys.empty() && (config.version_detection || config.os.enabled || config.banners || config.ident))
        err << "flagscan: warning: -D decoys the raw probes only; -sV, -O, --banners and -I go from our own address alone\n";
    if (config.ipv6 && config.fragment_data > 0)  // fragments.hpp: what fragment_ipv6 does, and why
        err << "flagscan: note: over IPv6 each probe's first fragment holds its whole TCP/UDP/ICMPv6 header (RFC 8200 "
               "4.5), so a probe no longer than that goes whole (--data-length makes it longer); many networks drop "
               "IPv6 fragments (RFC 7872): ports filtered with -f may be that\n";
    if (!config.spoof_mac.empty() && !root)
        return err << "flagscan: --spoof-mac sends Ethernet frames and needs root (or CAP_NET_RAW): run it with sudo\n", 1;
    if (!config.spoof_mac.empty() && (config.version_detection || config.banners || config.ident || !config.checks.empty()))
        err << "flagscan: warning: --spoof-mac spoofs the raw probes only; -sV, --banners, -I and --checks connect from our own MAC\n";
    if (!config.kind_given && !config.udp_scan && !root) {  // as nmap does for users without raw sockets
        config.kind = connect_kind();
        err << "flagscan: not root: running a connect scan (-sT) instead of a SYN scan\n";
    }
    warn_ignored_by_connect(config, err);
    if (config.source_port && (!root || ((is_connect_scan(config.kind) || is_bounce_scan(config.kind)) && !config.ping_only)))  // as nmap warns
        err << "flagscan: warning: -g/--source-port is not used by a connect scan (-sT): use a raw scan such as -sS to "
               "set the source port\n";
    auto outputs = OutputSet::open(config, out);
    if (!outputs) return err << "flagscan: " << outputs.error() << '\n', 1;
    auto prepared = prepare(config, err);
    if (!prepared) return err << "flagscan: " << prepared.error() << '\n', 1;
    if (prepared->book && config.verbosity > 0) describe_ipv6(*prepared, err);
    if (auto spoofed = choose_spoofed_mac(config, *prepared, err); !spoofed) return err << "flagscan: " << spoofed.error() << '\n', 1;
    auto loaded = probes_for(config, err);  // read before the first packet: a bad file sends nothing
    if (!loaded) return err << "flagscan: " << loaded.error() << '\n', 1;
    const std::optional<LoadedProbes> probes = std::move(loaded).value();
    std::optional<OsDb> os_db;
    if (config.os.enabled) {  // read before the first packet: a missing or bad file sends nothing
        auto db = OsDb::load(config.os.db_path);
        if (!db) return err << "flagscan: " << db.error() << '\n', 1;
        os_db.emplace(std::move(db).value());
    }
    Wire wire{std::nullopt, port_block(config)};
    const bool socket_scan = is_connect_scan(config.kind) || is_bounce_scan(config.kind);  // no raw packets
    const bool raw_needed = config.udp_scan || config.os.enabled || (!config.ping_only && !socket_scan) ||
                            (!config.skip_discovery && root);
    if (raw_needed) {
        auto raw = open_wire(config, *prepared, wire.block);
        if (!raw) return err << "flagscan: " << raw.error() << '\n', 1;
        wire.raw.emplace(std::move(raw).value());
    }
    // Shards own whole hosts when discovery runs (each host is found up, and port-scanned, by one
    // shard only); with -Pn and no ARP they split the port scan's walk instead.
    const bool by_hosts = !config.skip_discovery || arp_despite_pn(config, wire, *prepared);
    const AddressSet shard_owned = by_hosts && config.shard.shard.count > 1
                                       ? shard_hosts(prepared->hosts, config.seed, config.shard.shard)
                                       : AddressSet{};
    const AddressSet& hosts = by_hosts && config.shard.shard.count > 1 ? shard_owned : prepared->hosts;
    if (config.shard_given)
        err << "flagscan: " << describe_shard(config.shard) << ": " << (by_hosts ? std::to_string(hosts.size()) + " of " +
                                                                           std::to_string(prepared->hosts.size()) + " hosts"
                                                                     : "every " + std::to_string(config.shard.shard.count) +
                                                                           "th probe of the port scan") << '\n';
    const ScanContext context{config, *prepared, wire, interrupts, *outputs, resume, probes ? &*probes : nullptr,
                              os_db ? &*os_db : nullptr, out, err,
                              hosts, scan_identity(config, prepared->ports, by_hosts)};
    const SteadyClock clock;
    const Micros started = clock.now();  // the time reported covers discovery too, as nmap's
    const int code = scan(context, started);
    if (code == 0 && resume != nullptr && std::remove(config.resume_path.c_str()) == 0)
        err << "flagscan: the resumed scan is complete; " << config.resume_path << " removed\n";
    return code;
}

}  // namespace flagscan

// Service and version detection (-sV): the probe walk of each open port, and the phase that runs them all.
#include "flagscan/service/version_detection.hpp"

#include "flagscan/service/parallel_walk.hpp"

#include <memory>
#include <span>
#include <vector>

namespace flagscan {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// The connection is gone for good: nothing more can be learnt from this port.
bool unreachable(Ending ending) {
    return ending == Ending::refused || ending == Ending::unreachable || ending == Ending::connect_timeout ||
           ending == Ending::failed;
}

}  // namespace

ServiceFound found_by(const ServiceMatch& match, ServiceTunnel tunnel) {
    ServiceFound found = ServiceFound::probed(match.service, tunnel);
    found.product = match.product;
    found.version = match.version;
    found.extrainfo = match.extrainfo;
    found.hostname = match.hostname;
    found.ostype = match.ostype;
    found.devicetype = match.devicetype;
    found.cpe = match.cpe;
    return found;
}

VersionWalk::VersionWalk(const ServiceProbeDb& db, ServiceMatcher& matcher, Port port, int intensity, Protocol protocol,
                         const FingerprintStamp* stamp)
    : db_(&db),
      matcher_(&matcher),
      port_(port),
      intensity_(intensity),
      protocol_(protocol),
      stamp_(stamp),
      fingerprint_(port, protocol),
      plan_(db, port, protocol, intensity, false) {}

std::optional<ProbeAsk> VersionWalk::start() { return next_probe(Link::plain); }

Step probe_step(const ServiceProbeDb& db, const ProbeAsk& ask) {
    const ServiceProbe& probe = db.probe(ask.probe);
    return Step::probe(ask.link, std::string(probe.payload.begin(), probe.payload.end()), probe.totalwaitms * kMillisecond);
}

std::optional<ProbeAsk> VersionWalk::next_probe(Link link) {
    const auto probe = plan_.next();
    if (!probe) return std::nullopt;
    current_ = *probe;
    return ProbeAsk{*probe, link};
}

// nmap's SSL tunnel: the walk starts over, NULL probe first, inside TLS, with sslports (and a
// new fingerprint: nmap's resetProbes(true)).
std::optional<ProbeAsk> VersionWalk::into_tls() {
    tunnel_ = ServiceTunnel::ssl;
    plan_ = ProbePlan(*db_, port_, Protocol::tcp, intensity_, true);
    verdict_ = ServiceVerdict{};
    fingerprint_.clear();
    return next_probe(Link::tls);
}

// nmap adds an answer that named nothing when its wait ends (time out, EOF, 4096 bytes), not
// when the connection failed under it (a reset: the bytes are dropped).
void VersionWalk::fingerprint_answer(const Exchange& exchange) {
    if (stamp_ == nullptr || (exchange.ending != Ending::open && exchange.ending != Ending::peer_closed)) return;
    fingerprint_.add(*stamp_, db_->probe(current_).name, exchange.received, tunnel_ == ServiceTunnel::ssl);
}

std::optional<ServiceMatch> VersionWalk::match(std::size_t probe, std::string_view received) const {
    if (received.empty()) return std::nullopt;
    return matcher_->match(probe, bytes_of(received));
}

bool VersionWalk::hard_match(std::size_t probe, std::string_view received) const {
    const auto found = match(probe, received);
    return found && !found->soft;
}

std::optional<ProbeAsk> VersionWalk::next(const Exchange& exchange, const std::optional<ServiceMatch>& match) {
    if (!exchange.received.empty()) answered_ = true;
    // UDP: ECONNREFUSED is ICMP port unreachable for this datagram; nmap tries the next probe.
    if (protocol_ == Protocol::udp && exchange.ending == Ending::refused) return next_probe(Link::plain);
    if (unreachable(exchange.ending)) return std::nullopt;
    if (exchange.ending == Ending::tls_failed) return std::nullopt;  // "ssl" said, no handshake: the ssl match stands
    const ServiceProbe& probe = db_->probe(current_);
    if (probe.is_null() && is_tcpwrapped(exchange, probe.tcpwrappedms * kMillisecond)) {
        tcpwrapped_ = true;
        return std::nullopt;
    }
    if (match) {
        if (!match->soft && match->service == "ssl" && tunnel_ == ServiceTunnel::none) {
            verdict_.offer(*match);
            return into_tls();
        }
        if (verdict_.offer(*match)) return std::nullopt;
        plan_.soft_matched(match->service);
    }
    if (!exchange.received.empty()) fingerprint_answer(exchange);
    // nmap reuses the NULL probe's connection when it heard nothing and is still open.
    const bool reuse = probe.is_null() && exchange.received.empty() && exchange.ending == Ending::open;
    return next_probe(reuse ? Link::reuse : tunnel_ == ServiceTunnel::ssl ? Link::tls : Link::plain);
}

std::string VersionWalk::fingerprint() const {
    if (verdict_.settled() || (verdict_.best() && intensity_ < version_intensity_default)) return {};
    return fingerprint_.text();
}

std::optional<ServiceFound> VersionWalk::found() const {
    if (tcpwrapped_) return ServiceFound::wrapped(tunnel_);
    if (const auto& best = verdict_.best()) return found_by(*best, tunnel_);
    if (tunnel_ == ServiceTunnel::ssl) return ServiceFound::probed("ssl");  // TLS, and nothing inside it matched
    return std::nullopt;
}

namespace {

// The ports -sV walks (nmap's ServiceGroup): open TCP, open and open|filtered UDP.
bool walked(const PortResult& port, Protocol protocol) {
    return port.state == PortState::open || (protocol == Protocol::udp && port.state == PortState::open_filtered);
}

// nmap's adjustPortStateIfNecessary: an answer to a version probe shows the port open.
void mark_answered(Results& results, std::uint64_t index) {
    PortResult port = results.port(index);
    port.state = PortState::open;
    port.reason = Reason::udp_response;
    port.ttl = 0;  // nmap's setStateReason(..., ER_UDPRESPONSE, 0, NULL): no packet's TTL
    results.set(index, port);
}

}  // namespace

std::vector<WalkedPort> name_walked_ports(Results& results, const ServiceProbeDb& db, const ServiceTable& services,
                                          bool with_udp) {
    results.services().mark_performed();
    std::vector<WalkedPort> ports;
    const auto& targets = results.targets();
    for (const std::uint32_t host : results.hosts_held()) {
        const auto counts = results.host(host).counts;
        if (counts[static_cast<int>(PortState::open)] == 0 && counts[static_cast<int>(PortState::open_filtered)] == 0)
            continue;
        for (const PlacedSlot placed : targets.slots_of(host)) {
            const Protocol protocol = results.kind(placed.slot.lane).protocol == ipproto::udp ? Protocol::udp : Protocol::tcp;
            if ((protocol == Protocol::udp && !with_udp) || !walked(results.port(placed.index), protocol)) continue;
            results.services().set(placed.index, ServiceFound::table(std::string(services.name(placed.slot.port, protocol))));
            if (!db.excluded(placed.slot.port, protocol))
                ports.push_back({placed.index, targets.hosts().at(host), placed.slot.port, protocol});
        }
    }
    return ports;
}

bool keep_found(Results& results, std::uint64_t index, const VersionWalk& walk) {
    std::optional<ServiceFound> found = walk.found();
    const bool matched = found.has_value();
    if (!matched) found = *results.services().find(index);  // the table's name, as name_walked_ports set it
    found->fingerprint = walk.fingerprint();
    results.services().set(index, std::move(*found));
    return matched;
}

VersionRun detect_versions(Results& results, const ServiceProbeDb& db, const ServiceTable& services,
                           const FingerprintStamp& stamp, const ConversationLimits& limits, const Clock& clock,
                           const std::atomic<bool>& stop, const AheadSettings& ahead) {
    VersionRun run;
    const std::vector<WalkedPort> ports = name_walked_ports(results, db, services, true);
    run.ports = ports.size();
    auto driver = ConversationDriver::open(limits);
    if (!driver) {
        run.failure = driver.error();
        return run;
    }
    ServiceMatcher matcher{db};
    struct Walk {
        std::uint64_t index;
        std::unique_ptr<ParallelWalk> walk;  // the driver holds its dialogs: never moved
    };
    std::vector<Walk> walks;
    for (const WalkedPort& open : ports) {
        const Transport transport = open.protocol == Protocol::udp ? Transport::udp : Transport::tcp;
        walks.push_back(Walk{open.index, std::make_unique<ParallelWalk>(
                                             *driver, ConversationDriver::Endpoint{open.host, open.port, transport},
                                             VersionWalk{db, matcher, open.port, stamp.intensity, open.protocol, &stamp}, ahead)});
        walks.back().walk->start();
    }
    driver->run(clock, &stop);
    for (const Walk& walk : walks) {
        if (!walk.walk->done()) continue;  // stopped: the table's name stays
        if (walk.walk->walk().answered() && results.port(walk.index).state == PortState::open_filtered) {
            mark_answered(results, walk.index);
            ++run.opened;
        }
        run.matched += keep_found(results, walk.index, walk.walk->walk()) ? 1 : 0;
    }
    run.stats = driver->stats();
    run.failure = driver->failure();
    return run;
}

}  // namespace flagscan

// Service and version detection (-sV): the probe walk of each open port, and the phase that runs them all.
#include "flagscan/service/version_detection.hpp"

#include "flagscan/service/parallel_walk.hpp"

#include <memory>
#include <vector>
#include <span>

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

VersionWalk::VersionWalk(const ServiceProbeDb& db, ServiceMatcher& matcher, Port port, int intensity)
    : db_(&db), matcher_(&matcher), port_(port), intensity_(intensity), plan_(db, port, Protocol::tcp, intensity, false) {}

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

// nmap's SSL tunnel: the walk starts over, NULL probe first, inside TLS, with sslports.
std::optional<ProbeAsk> VersionWalk::into_tls() {
    tunnel_ = ServiceTunnel::ssl;
    plan_ = ProbePlan(*db_, port_, Protocol::tcp, intensity_, true);
    verdict_ = ServiceVerdict{};
    return next_probe(Link::tls);
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
    // nmap reuses the NULL probe's connection when it heard nothing and is still open.
    const bool reuse = probe.is_null() && exchange.received.empty() && exchange.ending == Ending::open;
    return next_probe(reuse ? Link::reuse : tunnel_ == ServiceTunnel::ssl ? Link::tls : Link::plain);
}

std::optional<ServiceFound> VersionWalk::found() const {
    if (tcpwrapped_) return ServiceFound::wrapped(tunnel_);
    if (const auto& best = verdict_.best()) return found_by(*best, tunnel_);
    if (tunnel_ == ServiceTunnel::ssl) return ServiceFound::probed("ssl");  // TLS, and nothing inside it matched
    return std::nullopt;
}

VersionRun detect_versions(Results& results, const ServiceProbeDb& db, const ServiceTable& services, int intensity,
                           const ConversationLimits& limits, const Clock& clock, const std::atomic<bool>& stop,
                           const AheadSettings& ahead) {
    VersionRun run;
    results.services().mark_performed();
    auto driver = ConversationDriver::open(limits);
    if (!driver) run.failure = driver.error();
    ServiceMatcher matcher{db};
    struct Walk {
        std::uint64_t index;
        std::unique_ptr<ParallelWalk> walk;  // the driver holds its dialogs: never moved
    };
    std::vector<Walk> walks;
    for (const OpenTcpPort& open : open_tcp_ports(results)) {
        results.services().set(open.index, ServiceFound::table(std::string(services.name(open.port, Protocol::tcp))));
        if (!driver || db.excluded(open.port, Protocol::tcp)) continue;
        walks.push_back(Walk{open.index, std::make_unique<ParallelWalk>(*driver, ConversationDriver::Endpoint{open.address, open.port, Transport::tcp},
                                                                        VersionWalk{db, matcher, open.port, intensity}, ahead)});
        walks.back().walk->start();
    }
    run.ports = walks.size();
    if (!driver) return run;
    driver->run(clock, &stop);
    for (const Walk& walk : walks) {
        auto found = walk.walk->found();
        if (!found || !walk.walk->done()) continue;
        results.services().set(walk.index, std::move(*found));
        ++run.matched;
    }
    run.stats = driver->stats();
    run.failure = driver->failure();
    return run;
}

}  // namespace flagscan

// Service and version detection (-sV): the probe walk of each open port, and the phase that runs them all.
#include "flagscan/service/version_detection.hpp"

#include <deque>
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

VersionDialog::VersionDialog(const ServiceProbeDb& db, ServiceMatcher& matcher, Port port, int intensity)
    : db_(&db), matcher_(&matcher), port_(port), intensity_(intensity), plan_(db, port, Protocol::tcp, intensity, false) {}

Step VersionDialog::start() { return next_probe(Link::plain); }

// The probe in flight, sent over LINK, listened to for its totalwaitms (a match ends it sooner).
Step VersionDialog::probe_step(Link link) const {
    const ServiceProbe& probe = db_->probe(current_);
    return Step::probe(link, std::string(probe.payload.begin(), probe.payload.end()), probe.totalwaitms * kMillisecond);
}

Step VersionDialog::next_probe(Link link) {
    const auto probe = plan_.next();
    if (!probe) return Step::finish();
    current_ = *probe;
    return probe_step(link);
}

// nmap's SSL tunnel: the walk starts over, NULL probe first, inside TLS, with sslports.
Step VersionDialog::into_tls() {
    tunnel_ = ServiceTunnel::ssl;
    plan_ = ProbePlan(*db_, port_, Protocol::tcp, intensity_, true);
    verdict_ = ServiceVerdict{};
    return next_probe(Link::tls);
}

// A hard match in the bytes so far ends the wait: a banner need not wait out 5 s.
bool VersionDialog::enough(std::string_view received) {
    const auto match = matcher_->match(current_, bytes_of(received));
    return match && !match->soft;
}

Step VersionDialog::next(const Exchange& exchange) {
    if (unreachable(exchange.ending)) return Step::finish();
    if (exchange.ending == Ending::tls_failed) return Step::finish();  // "ssl" said, no handshake: the ssl match stands
    const ServiceProbe& probe = db_->probe(current_);
    if (probe.is_null() && is_tcpwrapped(exchange, probe.tcpwrappedms * kMillisecond)) {
        tcpwrapped_ = true;
        return Step::finish();
    }
    if (!exchange.received.empty()) {
        if (const auto match = matcher_->match(current_, bytes_of(exchange.received))) {
            if (!match->soft && match->service == "ssl" && tunnel_ == ServiceTunnel::none) {
                verdict_.offer(*match);
                return into_tls();
            }
            if (verdict_.offer(*match)) return Step::finish();
            plan_.soft_matched(match->service);
        }
    }
    // nmap reuses the NULL probe's connection when it heard nothing and is still open.
    const bool reuse = probe.is_null() && exchange.received.empty() && exchange.ending == Ending::open;
    return next_probe(reuse ? Link::reuse : tunnel_ == ServiceTunnel::ssl ? Link::tls : Link::plain);
}

std::optional<ServiceFound> VersionDialog::found() const {
    if (tcpwrapped_) return ServiceFound::wrapped(tunnel_);
    if (const auto& best = verdict_.best()) return found_by(*best, tunnel_);
    if (tunnel_ == ServiceTunnel::ssl) return ServiceFound::probed("ssl");  // TLS, and nothing inside it matched
    return std::nullopt;
}

std::vector<OpenTcpPort> name_open_tcp_ports(Results& results, const ServiceProbeDb& db, const ServiceTable& services) {
    results.services().mark_performed();
    std::vector<OpenTcpPort> ports;
    const auto& targets = results.targets();
    for (std::uint32_t host = 0; host < targets.host_count(); ++host) {
        if (results.host(host).counts[static_cast<int>(PortState::open)] == 0) continue;
        for (const PlacedSlot placed : targets.slots_of(host)) {
            const bool tcp = results.kind(placed.slot.lane).protocol == ipproto::tcp;
            if (results.port(placed.index).state != PortState::open || !tcp) continue;
            results.services().set(placed.index, ServiceFound::table(std::string(services.name(placed.slot.port, Protocol::tcp))));
            if (!db.excluded(placed.slot.port, Protocol::tcp)) ports.push_back({placed.index, targets.hosts().at(host), placed.slot.port});
        }
    }
    return ports;
}

bool keep_found(Results& results, std::uint64_t index, const VersionDialog& dialog) {
    auto found = dialog.found();
    if (!found) return false;
    results.services().set(index, std::move(*found));
    return true;
}

VersionRun detect_versions(Results& results, const ServiceProbeDb& db, const ServiceTable& services, int intensity,
                           const ConversationLimits& limits, const Clock& clock, const std::atomic<bool>& stop) {
    VersionRun run;
    const std::vector<OpenTcpPort> ports = name_open_tcp_ports(results, db, services);
    run.ports = ports.size();
    auto driver = ConversationDriver::open(limits);
    if (!driver) {
        run.failure = driver.error();
        return run;
    }
    ServiceMatcher matcher{db};
    struct Walk {
        std::uint64_t index;
        VersionDialog dialog;
    };
    std::deque<Walk> walks;  // stable addresses: the driver holds the dialogs
    for (const OpenTcpPort& open : ports) {
        Walk& walk = walks.emplace_back(Walk{open.index, VersionDialog{db, matcher, open.port, intensity}});
        driver->add({open.host, open.port, Transport::tcp}, walk.dialog);
    }
    driver->run(clock, &stop);
    for (const Walk& walk : walks) run.matched += keep_found(results, walk.index, walk.dialog) ? 1 : 0;
    run.stats = driver->stats();
    run.failure = driver->failure();
    return run;
}

}  // namespace flagscan

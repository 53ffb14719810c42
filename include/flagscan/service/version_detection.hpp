// Service and version detection (-sV): nmap's walk through the probes of one open port, as a conversation.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/results.hpp"
#include "flagscan/engine/services_found.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/service/conversations.hpp"
#include "flagscan/service/matcher.hpp"
#include "flagscan/service/probe_db.hpp"
#include "flagscan/targets/services.hpp"

namespace flagscan {

// What a match line's verdict says, as the side table keeps it.
ServiceFound found_by(const ServiceMatch& match, ServiceTunnel tunnel);

// Where a walk goes next: a probe of the db, over a link (reuse: the previous probe's
// connection, which a silent NULL probe lends to the next one).
struct ProbeAsk {
    std::size_t probe = 0;
    Link link = Link::plain;
};

// One open TCP port's walk (nmap's service_scan.cc), as decisions only: the NULL probe
// (connect, listen for a banner for its totalwaitms), then the ProbePlan's probes, each on a
// new connection but the first after a NULL probe that heard nothing (nmap reuses that one).
// Each answer is matched against the probe's fallback chain: a hard match ends the walk, a
// softmatch narrows the probes left. A match naming "ssl" outside TLS starts the walk again
// inside a TLS connection (nmap's SSL tunnel, reported "ssl/http"). A connection the service
// closes at once without a byte is tcpwrapped. Copyable: a copy can be walked ahead on
// guesses (ParallelWalk) while the original takes only real answers, in nmap's order.
class VersionWalk {
public:
    VersionWalk(const ServiceProbeDb& db, ServiceMatcher& matcher, Port port, int intensity);
    // The NULL probe (or the first probe), nullopt when there is none.
    std::optional<ProbeAsk> start();
    // The answer to current(): what comes next, nullopt when the walk is over. MATCH is
    // match(current(), exchange.received), when the caller has it already.
    std::optional<ProbeAsk> next(const Exchange& exchange, const std::optional<ServiceMatch>& match);
    std::optional<ProbeAsk> next(const Exchange& exchange) { return next(exchange, match(current_, exchange.received)); }
    // PROBE's answer RECEIVED against its fallback chain; nullopt for no bytes or no match.
    std::optional<ServiceMatch> match(std::size_t probe, std::string_view received) const;
    bool hard_match(std::size_t probe, std::string_view received) const;

    std::size_t current() const { return current_; }
    ServiceTunnel tunnel() const { return tunnel_; }
    const ServiceProbeDb& db() const { return *db_; }
    // The verdict once the walk is over; nullopt when nothing matched and it was not tcpwrapped.
    std::optional<ServiceFound> found() const;

private:
    std::optional<ProbeAsk> next_probe(Link link);
    std::optional<ProbeAsk> into_tls();

    const ServiceProbeDb* db_;
    ServiceMatcher* matcher_;
    Port port_;
    int intensity_;
    ServiceTunnel tunnel_ = ServiceTunnel::none;
    ProbePlan plan_;
    std::size_t current_ = 0;  // the probe in flight
    ServiceVerdict verdict_;
    bool tcpwrapped_ = false;
};

// The step that sends ASK's probe and listens for its totalwaitms.
Step probe_step(const ServiceProbeDb& db, const ProbeAsk& ask);

// nmap's walk of one port as one conversation, a probe at a time (the reference ParallelWalk
// must agree with).
class VersionDialog final : public Dialog {
public:
    VersionDialog(const ServiceProbeDb& db, ServiceMatcher& matcher, Port port, int intensity)
        : walk_(db, matcher, port, intensity) {}
    Step start() override { return step(walk_.start()); }
    // A hard match in the bytes so far ends the wait: a banner need not wait out 5 s.
    bool enough(std::string_view received) override { return walk_.hard_match(walk_.current(), received); }
    Step next(const Exchange& exchange) override { return step(walk_.next(exchange)); }
    std::optional<ServiceFound> found() const { return walk_.found(); }
    ServiceTunnel tunnel() const { return walk_.tunnel(); }

private:
    Step step(const std::optional<ProbeAsk>& ask) const { return ask ? probe_step(walk_.db(), *ask) : Step::finish(); }
    VersionWalk walk_;
};

struct VersionRun {
    std::size_t ports = 0;    // open TCP ports walked
    std::size_t matched = 0;  // of those, the ones a match line (or tcpwrapped) named
    ConversationStats stats;
    std::optional<std::string> failure;  // the driver could not open or go on
};

struct AheadSettings {
    // Conversations of one port under way (or queued) at once; 0 or 1: nmap's one probe at a
    // time. The driver's per-host cap still bounds what one host gets.
    std::size_t ahead = 10;
    // The NULL probe listens this long alone before probes run beside it: a service that
    // greets at once (FTP, SSH, SMTP) is named by its banner without a second connection.
    Micros grace = 500 * kMillisecond;
};

// After the port scan: every open TCP port of `results` (but the probe file's Exclude ports)
// walked at once, each with its probes run ahead on parallel connections (ParallelWalk: nmap's
// verdicts, sooner), up to the limits' sockets; every open TCP port gets an entry in
// results.services() (a match, tcpwrapped, or the services table's name), and the table is
// marked performed. Stops early when `stop` is set (the ports not walked get the table's name).
VersionRun detect_versions(Results& results, const ServiceProbeDb& db, const ServiceTable& services, int intensity,
                           const ConversationLimits& limits, const Clock& clock, const std::atomic<bool>& stop,
                           const AheadSettings& ahead = {});

}  // namespace flagscan

// Service and version detection (-sV): nmap's walk through the probes of one open port, as a conversation.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/results.hpp"
#include "flagscan/engine/services_found.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/service/conversations.hpp"
#include "flagscan/service/matcher.hpp"
#include "flagscan/service/probe_db.hpp"
#include "flagscan/service/service_fingerprint.hpp"
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

// One port's walk (nmap's service_scan.cc), as decisions only. TCP: the NULL probe (connect,
// listen for a banner for its totalwaitms), then the ProbePlan's probes, each on a new
// connection but the first after a NULL probe that heard nothing (nmap reuses that one). UDP:
// no NULL probe; each probe is a datagram from a new connected socket, and an ICMP port
// unreachable (ECONNREFUSED) moves on to the next probe, as nmap does (the port's state stays
// what the scan said). Each answer is matched against the probe's fallback chain: a hard match
// ends the walk, a softmatch narrows the probes left. A match naming "ssl" outside TLS starts
// the walk again inside a TLS connection (nmap's SSL tunnel, reported "ssl/http"). A
// connection the service closes at once without a byte is tcpwrapped. Every answer that named
// nothing goes into the port's service fingerprint when a stamp is given. Copyable: a copy can
// be walked ahead on guesses (ParallelWalk) while the original takes only real answers, in
// nmap's order.
class VersionWalk {
public:
    VersionWalk(const ServiceProbeDb& db, ServiceMatcher& matcher, Port port, int intensity,
                Protocol protocol = Protocol::tcp, const FingerprintStamp* stamp = nullptr);
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
    // Whether any probe got bytes back (nmap: an open|filtered UDP port that answers is open).
    bool answered() const { return answered_; }
    // The service fingerprint the outputs print (nmap's shouldWePrintFingerprint): "" after a
    // hard match, and after a softmatch below intensity 7; else the answers that named nothing.
    std::string fingerprint() const;

private:
    std::optional<ProbeAsk> next_probe(Link link);
    std::optional<ProbeAsk> into_tls();
    void fingerprint_answer(const Exchange& exchange);

    const ServiceProbeDb* db_;
    ServiceMatcher* matcher_;
    Port port_;
    int intensity_;
    Protocol protocol_;
    const FingerprintStamp* stamp_;
    ServiceFingerprint fingerprint_;
    ServiceTunnel tunnel_ = ServiceTunnel::none;
    ProbePlan plan_;
    std::size_t current_ = 0;  // the probe in flight
    ServiceVerdict verdict_;
    bool tcpwrapped_ = false;
    bool answered_ = false;
};

// The step that sends ASK's probe and listens for its totalwaitms.
Step probe_step(const ServiceProbeDb& db, const ProbeAsk& ask);

// nmap's walk of one port as one conversation, a probe at a time (the reference ParallelWalk
// must agree with).
class VersionDialog final : public Dialog {
public:
    VersionDialog(const ServiceProbeDb& db, ServiceMatcher& matcher, Port port, int intensity,
                  Protocol protocol = Protocol::tcp, const FingerprintStamp* stamp = nullptr)
        : walk_(db, matcher, port, intensity, protocol, stamp) {}
    Step start() override { return step(walk_.start()); }
    // A hard match in the bytes so far ends the wait: a banner need not wait out 5 s.
    bool enough(std::string_view received) override { return walk_.hard_match(walk_.current(), received); }
    Step next(const Exchange& exchange) override { return step(walk_.next(exchange)); }
    std::optional<ServiceFound> found() const { return walk_.found(); }
    ServiceTunnel tunnel() const { return walk_.tunnel(); }
    bool answered() const { return walk_.answered(); }
    std::string fingerprint() const { return walk_.fingerprint(); }
    const VersionWalk& walk() const { return walk_; }

private:
    Step step(const std::optional<ProbeAsk>& ask) const { return ask ? probe_step(walk_.db(), *ask) : Step::finish(); }
    VersionWalk walk_;
};

struct VersionRun {
    std::size_t ports = 0;    // open TCP and open or open|filtered UDP ports walked
    std::size_t matched = 0;  // of those, the ones a match line (or tcpwrapped) named
    std::size_t opened = 0;   // open|filtered UDP ports that answered, now open (udp-response)
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

// A port -sV looks at: its index in Results, its address, port and protocol.
struct WalkedPort {
    std::uint64_t index = 0;
    Ipv4 host;
    Port port;
    Protocol protocol = Protocol::tcp;
};

// The first step of -sV, live or replayed: the table is marked performed and every open TCP
// port (and, `with_udp`, every open or open|filtered UDP port) of `results` gets the services
// table's name (what stays when nothing matches). Returns those ports but the probe file's
// Exclude ones, in target order.
std::vector<WalkedPort> name_walked_ports(Results& results, const ServiceProbeDb& db, const ServiceTable& services,
                                          bool with_udp);

// The last step of a finished walk: its verdict, when it found one, replaces the table's name;
// the service fingerprint of what answered is kept either way. True when a verdict was found.
bool keep_found(Results& results, std::uint64_t index, const VersionWalk& walk);

// After the port scan: every open TCP port and every open or open|filtered UDP port of
// `results` (but the probe file's Exclude ports) walked at once, each with its probes run ahead
// on parallel connections (ParallelWalk: nmap's verdicts, sooner), up to the limits' sockets;
// each gets an entry in results.services() (a match, tcpwrapped, or the services table's name,
// with the service fingerprint of what answered when nothing matched), and the table is marked
// performed. An open|filtered UDP port that answered becomes open, reason udp-response (nmap's
// adjustPortStateIfNecessary). Stops early when `stop` is set (the ports not walked get the
// table's name).
VersionRun detect_versions(Results& results, const ServiceProbeDb& db, const ServiceTable& services,
                           const FingerprintStamp& stamp, const ConversationLimits& limits, const Clock& clock,
                           const std::atomic<bool>& stop, const AheadSettings& ahead = {});

}  // namespace flagscan

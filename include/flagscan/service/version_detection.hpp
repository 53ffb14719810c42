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
#include "flagscan/targets/services.hpp"

namespace flagscan {

// What a match line's verdict says, as the side table keeps it.
ServiceFound found_by(const ServiceMatch& match, ServiceTunnel tunnel);

// One open TCP port's walk (nmap's service_scan.cc): the NULL probe (connect, listen for a
// banner for its totalwaitms), then the ProbePlan's probes, each on a new connection but the
// first after a NULL probe that heard nothing (nmap reuses that one). Each answer is matched
// against the probe's fallback chain: a hard match ends the walk, a softmatch narrows the
// probes left. A match naming "ssl" outside TLS starts the walk again inside a TLS connection
// (nmap's SSL tunnel, reported "ssl/http"). A connection the service closes at once without a
// byte is tcpwrapped.
class VersionDialog final : public Dialog {
public:
    VersionDialog(const ServiceProbeDb& db, ServiceMatcher& matcher, Port port, int intensity);
    Step start() override;
    bool enough(std::string_view received) override;
    Step next(const Exchange& exchange) override;
    // The verdict once the walk is over; nullopt when nothing matched and it was not tcpwrapped.
    std::optional<ServiceFound> found() const;
    ServiceTunnel tunnel() const { return tunnel_; }

private:
    Step probe_step(Link link) const;
    Step next_probe(Link link);
    Step into_tls();

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

struct VersionRun {
    std::size_t ports = 0;    // open TCP ports walked
    std::size_t matched = 0;  // of those, the ones a match line (or tcpwrapped) named
    ConversationStats stats;
    std::optional<std::string> failure;  // the driver could not open or go on
};

// An open TCP port that -sV looks at: its index in Results, its address and port.
struct OpenTcpPort {
    std::uint64_t index = 0;
    Ipv4 host;
    Port port;
};

// The first step of -sV, live or replayed: the table is marked performed and every open TCP
// port of `results` gets the services table's name (what stays when nothing matches). Returns
// those ports but the probe file's Exclude ones, in target order.
std::vector<OpenTcpPort> name_open_tcp_ports(Results& results, const ServiceProbeDb& db, const ServiceTable& services);

// The last step: the walk's verdict, when it found one, replaces the table's name. True when it did.
bool keep_found(Results& results, std::uint64_t index, const VersionDialog& dialog);

// After the port scan: every open TCP port of `results` (but the probe file's Exclude ports)
// walked at once, up to the limits' sockets; every open TCP port gets an entry in
// results.services() (a match, tcpwrapped, or the services table's name), and the table is
// marked performed. Stops early when `stop` is set (the ports not walked get the table's name).
VersionRun detect_versions(Results& results, const ServiceProbeDb& db, const ServiceTable& services, int intensity,
                           const ConversationLimits& limits, const Clock& clock, const std::atomic<bool>& stop);

}  // namespace flagscan

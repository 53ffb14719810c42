// Replayed -sV: each open port's probe walk played over the connections a capture holds instead of sockets.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "flagscan/net/tcp_streams.hpp"
#include "flagscan/service/version_detection.hpp"

namespace flagscan {

// Why: the walk is the live one (VersionDialog: which probe comes next, the fallback chain,
// softmatches, tcpwrapped, the SSL tunnel); only the answers come from the capture. Each step
// the dialog asks for is answered by the first connection to the port, in the order they began,
// not used yet, whose client sent exactly the step's payload:
//   - the NULL probe (nothing sent): the first connection that carried data or that the server
//     closed; its answer is what the server sent before the client's first byte (nmap and
//     flagscan send the next probe over a NULL probe's connection that heard nothing: the next
//     step, asking to reuse it, is then answered by the rest of it);
//   - a probe: the connection whose client bytes equal its payload; its answer is all the server
//     sent (a banner before the answer included, as a live walk hears it);
//   - inside TLS (after a plain-text match said "ssl"): the capture cannot be decrypted, so the
//     step ends as a failed handshake ends it live: the walk stops and "ssl" stands.
// A step the capture holds no connection for is answered by silence, as an unanswered probe
// (a capture of a walk with other probes, or cut short, says less, never something false).
// A connection whose client closed before either side sent a byte is a connect scan's probe,
// no walk's. Answers are what the capture kept (TcpStreams: in order, up to a hole).
class CapturedPort {
public:
    explicit CapturedPort(std::vector<const TcpConnection*> connections);
    // Plays DIALOG to its end over the connections (at most kMaxSteps steps).
    void play(Dialog& dialog);
    std::size_t used() const { return used_count_; }
    std::size_t tls_sessions() const { return tls_; }  // TLS connections met that could not be read

    static constexpr std::size_t kMaxSteps = 1024;

private:
    Exchange answer(const Step& step);
    Exchange null_probe();
    Exchange probe(std::string_view payload);
    Exchange reused(std::string_view payload);
    Exchange tls();
    const TcpConnection* take(std::size_t i);

    std::vector<const TcpConnection*> connections_;
    std::vector<bool> used_;
    std::size_t used_count_ = 0;
    std::size_t tls_ = 0;
    const TcpConnection* open_null_ = nullptr;  // the NULL probe's connection, while the client had more to send on it
};

struct ReplayedVersions {
    VersionRun run;               // ports walked, named, connections used (stats.connections)
    std::size_t unseen = 0;       // open ports the capture holds no connection to
    std::size_t tls_sessions = 0;
};

// The connections worth keeping while the capture is read: from SCANNER to one of PORTS.
TcpStreams::Want connections_to(std::span<const WalkedPort> ports, Ipv4 scanner);

// Every port of PORTS (name_walked_ports' list, TCP only) walked over the capture's connections to it;
// a verdict replaces the table's name, as live.
ReplayedVersions replay_versions(Results& results, std::span<const WalkedPort> ports, const ServiceProbeDb& db,
                                 int intensity, const TcpStreams& streams);

}  // namespace flagscan

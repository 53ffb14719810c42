// Replayed -sV: the live VersionDialog answered from reassembled captured connections.
#include "flagscan/service/replay_versions.hpp"

#include <algorithm>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace flagscan {
namespace {

std::uint64_t port_key(std::uint32_t host, std::uint16_t port) { return (std::uint64_t{host} << 16) | port; }

// TLS begins with a handshake record (RFC 8446 5.1: content type 22, legacy version 3.x).
bool starts_tls(const std::string& bytes) {
    return bytes.size() >= 2 && static_cast<std::uint8_t>(bytes[0]) == 0x16 && bytes[1] == 0x03;
}

// A connect scan's probe: accepted, then closed by the client before a byte either way.
bool scan_only(const TcpConnection& conn) {
    const bool quiet = conn.from_client.bytes.empty() && conn.from_server.bytes.empty();
    const std::int64_t client_closed = conn.from_client.closed(), server_closed = conn.from_server.closed();
    return quiet && client_closed >= 0 && (server_closed < 0 || client_closed <= server_closed);
}

// How the server's side stood at AT (-1: the capture's end): closed by FIN or RST, or open.
Ending server_ending(const TcpConnection& conn, std::int64_t at) {
    const TcpSide& server = conn.from_server;
    const std::int64_t closed = server.closed();
    if (closed < 0 || (at >= 0 && closed > at)) return Ending::open;
    return closed == server.rst ? Ending::reset : Ending::peer_closed;
}

// An answer from a connection: BYTES, the server's state at AT, and how long it had been
// connected then (the tcpwrapped rule's clock).
Exchange exchange_of(const TcpConnection& conn, std::string_view bytes, std::int64_t at) {
    Exchange ex;
    ex.received = bytes;
    ex.ending = server_ending(conn, at);
    const std::int64_t closed = conn.from_server.closed();
    const std::int64_t end = ex.ending == Ending::open ? at : closed;
    ex.connected_for = conn.established >= 0 && end >= conn.established ? end - conn.established : -1;
    ex.wait_end = ex.ending == Ending::open ? WaitEnd::full : WaitEnd::closed;
    return ex;
}

Exchange silence() { return Exchange{}; }

// BYTES from AT on (nothing when AT is past the end); and up to AT.
std::string_view after(const std::string& bytes, std::size_t at) {
    return std::string_view{bytes}.substr(std::min(at, bytes.size()));
}
std::string_view before(const std::string& bytes, std::size_t at) { return std::string_view{bytes}.substr(0, at); }

}  // namespace

CapturedPort::CapturedPort(std::vector<const TcpConnection*> connections)
    : connections_(std::move(connections)), used_(connections_.size()) {}

const TcpConnection* CapturedPort::take(std::size_t i) {
    used_[i] = true;
    ++used_count_;
    return connections_[i];
}

void CapturedPort::play(Dialog& dialog) {
    Step step = dialog.start();
    for (std::size_t n = 0; !step.done && n < kMaxSteps; ++n) step = dialog.next(answer(step));
}

Exchange CapturedPort::answer(const Step& step) {
    const TcpConnection* previous = std::exchange(open_null_, nullptr);
    if (step.link == Link::tls) return tls();
    if (step.link == Link::reuse && previous != nullptr && previous->from_client.bytes == step.payload)
        return exchange_of(*previous, after(previous->from_server.bytes, previous->server_before_client), -1);
    return step.payload.empty() ? null_probe() : probe(step.payload);
}

Exchange CapturedPort::null_probe() {
    for (std::size_t i = 0; i < connections_.size(); ++i) {
        const TcpConnection& conn = *connections_[i];
        if (used_[i] || conn.established < 0 || !conn.client_went_on || scan_only(conn) || starts_tls(conn.from_client.bytes))
            continue;
        take(i);
        if (conn.from_client.bytes.empty()) return exchange_of(conn, conn.from_server.bytes, -1);
        open_null_ = &conn;  // the client spoke later on it: the next probe went over it
        return exchange_of(conn, before(conn.from_server.bytes, conn.server_before_client), conn.from_client.first_data);
    }
    return silence();
}

Exchange CapturedPort::probe(std::string_view payload) {
    for (std::size_t i = 0; i < connections_.size(); ++i) {
        if (used_[i] || connections_[i]->from_client.bytes != payload) continue;
        const TcpConnection& conn = *take(i);
        return exchange_of(conn, conn.from_server.bytes, -1);
    }
    return silence();
}

Exchange CapturedPort::tls() {
    for (std::size_t i = 0; i < connections_.size(); ++i) {
        if (used_[i] || !starts_tls(connections_[i]->from_client.bytes)) continue;
        take(i);
        ++tls_;
        break;
    }
    Exchange ex;
    ex.ending = Ending::tls_failed;  // what the capture cannot show: the walk stops, "ssl" stands
    return ex;
}

TcpStreams::Want connections_to(std::span<const WalkedPort> ports, Ipv4 scanner) {
    auto wanted = std::make_shared<std::unordered_set<std::uint64_t>>();
    for (const WalkedPort& open : ports) wanted->insert(port_key(open.host.value(), open.port.value()));
    return [wanted, me = scanner.value()](const Flow& client) {
        return client.src == me && wanted->contains(port_key(client.dst, client.dport));
    };
}

ReplayedVersions replay_versions(Results& results, std::span<const WalkedPort> ports, const ServiceProbeDb& db,
                                 int intensity, const TcpStreams& streams) {
    std::unordered_map<std::uint64_t, std::vector<const TcpConnection*>> by_port;
    for (const TcpConnection& conn : streams.connections()) by_port[port_key(conn.client.dst, conn.client.dport)].push_back(&conn);
    ReplayedVersions out;
    out.run.ports = ports.size();
    ServiceMatcher matcher{db};
    for (const WalkedPort& open : ports) {
        const auto it = by_port.find(port_key(open.host.value(), open.port.value()));
        if (it == by_port.end()) {  // nothing to learn: every step would be silence
            ++out.unseen;
            continue;
        }
        VersionDialog dialog{db, matcher, open.port, intensity};
        CapturedPort captured{it->second};
        captured.play(dialog);
        out.run.matched += keep_found(results, open.index, dialog.walk()) ? 1 : 0;
        out.run.stats.connections += captured.used();
        out.tls_sessions += captured.tls_sessions();
    }
    return out;
}

}  // namespace flagscan

// TCP stream reassembly over captured segments: sequence numbers (RFC 793 3.3), overlaps, holes, bounds.
#include "flagscan/net/tcp_streams.hpp"

#include <algorithm>
#include <utility>

namespace flagscan {

std::int64_t TcpSide::closed() const {
    if (fin < 0) return rst;
    if (rst < 0) return fin;
    return std::min(fin, rst);
}

TcpStreams::TcpStreams(Limits limits, Want want) : limits_(limits), want_(std::move(want)) {}

namespace {

// A sequence number's place in a stream that starts at BASE, as a signed distance (RFC 793 3.3:
// the space wraps at 2^32, so "before" and "after" are within half of it).
std::int64_t distance(std::uint32_t base, std::uint32_t seq) { return static_cast<std::int32_t>(seq - base); }

}  // namespace

// A SYN from the client (a new connection, unless it repeats the latest one's), or a SYN,ACK whose
// SYN the capture missed: the client's first byte then follows the number the SYN,ACK acknowledges.
TcpConnection* TcpStreams::start(const Flow& client, const TcpHeader& tcp, bool syn_ack, std::int64_t now) {
    const std::uint32_t client_base = syn_ack ? tcp.ack : tcp.seq + 1;
    if (const auto it = latest_.find(client); it != latest_.end()) {
        State& state = states_[it->second];
        if (!state.client.known || state.client.base == client_base) return &connections_[it->second];
        if (syn_ack) return nullptr;  // a SYN,ACK to an older SYN than the latest: no connection of ours
    }
    if (!want_(client)) return nullptr;
    if (connections_.size() >= limits_.connections) {
        ++dropped_connections_;
        return nullptr;
    }
    TcpConnection& conn = connections_.emplace_back();
    conn.client = client;
    if (!syn_ack) conn.syn = now;
    State& state = states_.emplace_back();
    state.client.base = client_base;
    state.client.known = true;
    latest_[client] = connections_.size() - 1;
    return &conn;
}

void TcpStreams::add(const DecodedPacket& packet, ByteView frame, std::int64_t now) {
    if (!packet.tcp) return;
    const TcpHeader& tcp = *packet.tcp;
    const auto flow = flow_of(packet);
    const bool syn = tcp.flags.any(TcpFlags::syn), ack = tcp.flags.any(TcpFlags::ack);
    const bool rst = tcp.flags.any(TcpFlags::rst);
    if (syn && !ack && !rst) start(*flow, tcp, false, now);
    if (syn && ack && !rst && start(flow->reversed(), tcp, true, now) == nullptr) return;
    bool from_client = true;
    auto it = latest_.find(*flow);
    if (it == latest_.end()) {
        it = latest_.find(flow->reversed());
        from_client = false;
    }
    if (it == latest_.end()) return;
    // The payload: what the headers say (RFC 791 total length, RFC 793 data offset), as far as
    // the capture kept it; less than they say is a snaplen cut.
    const std::uint32_t length = tcp_data_length(packet);
    const std::size_t offset = std::size_t{packet.link_header} + packet.ip.header_length + tcp.header_length;
    const auto rest = frame.from(offset);
    const ByteView data = rest ? rest->first(length) : ByteView{};
    segment(connections_[it->second], states_[it->second], from_client, tcp, data, data.size() < length, now);
}

void TcpStreams::segment(TcpConnection& conn, State& state, bool from_client, const TcpHeader& tcp, ByteView data,
                         bool cut, std::int64_t now) {
    TcpSide& side = from_client ? conn.from_client : conn.from_server;
    Direction& dir = from_client ? state.client : state.server;
    const bool syn = tcp.flags.any(TcpFlags::syn), rst = tcp.flags.any(TcpFlags::rst);
    if (!from_client && syn && !rst && !dir.known) {  // the SYN,ACK: the server's numbering starts here
        dir.base = tcp.seq + 1;
        dir.known = true;
        conn.established = now;
    }
    if (rst) {
        if (side.rst < 0) side.rst = now;
        return;  // RFC 793 3.4: a reset's data is no stream's
    }
    if (from_client && conn.established >= 0 && !syn) conn.client_went_on = true;
    if (!dir.known) return;  // the server's data before its SYN,ACK: nowhere to place it
    const std::int64_t at = distance(dir.base, tcp.seq + (syn ? 1u : 0u));
    if (data.size() > 0 && !side.hole) {
        const std::size_t before = side.bytes.size();
        if (at >= 0) place(side, dir, static_cast<std::uint32_t>(at), data);
        else if (static_cast<std::uint64_t>(-at) < data.size())  // overlaps the start: the new part only
            place(side, dir, 0, *data.from(static_cast<std::size_t>(-at)));
        if (side.first_data < 0 && side.bytes.size() > before) side.first_data = now;
        if (from_client && before == 0 && !side.bytes.empty()) conn.server_before_client = conn.from_server.bytes.size();
        if (cut) side.hole = true;  // the capture kept less than the segment carried
    }
    if (tcp.flags.any(TcpFlags::fin) && side.fin < 0) side.fin = now;
}

// Data at OFFSET: appended when it continues the stream (its old part skipped), held when it
// is ahead, dropped (a hole) when nothing more can be held.
void TcpStreams::place(TcpSide& side, Direction& dir, std::uint32_t offset, ByteView data) {
    const std::size_t have = side.bytes.size();
    if (offset <= have) {
        const std::size_t old = have - offset;
        if (old < data.size()) append(side, *data.from(old));
        drain(side, dir);
        return;
    }
    if (offset >= limits_.side_bytes) {  // beyond what is kept anyway
        side.bounded = true;
        return;
    }
    if (dir.waiting.size() >= limits_.waiting_segments || !room_for(data.size())) {
        side.hole = true;
        return;
    }
    const auto span = data.span();
    dir.waiting.push_back(Waiting{offset, std::string(span.begin(), span.end())});
    total_ += data.size();
}

void TcpStreams::append(TcpSide& side, ByteView data) {
    const std::size_t space = limits_.side_bytes - std::min(limits_.side_bytes, side.bytes.size());
    std::size_t n = std::min(space, data.size());
    if (!room_for(n)) n = 0;
    if (n < data.size()) side.bounded = true;
    const auto span = data.first(n).span();
    side.bytes.append(span.begin(), span.end());
    total_ += n;
}

// Waiting segments that the stream has reached, in offset order, until none is reached.
void TcpStreams::drain(TcpSide& side, Direction& dir) {
    for (bool moved = true; moved && !dir.waiting.empty();) {
        moved = false;
        for (std::size_t i = 0; i < dir.waiting.size(); ++i) {
            if (dir.waiting[i].offset > side.bytes.size()) continue;
            Waiting held = std::move(dir.waiting[i]);
            dir.waiting.erase(dir.waiting.begin() + static_cast<std::ptrdiff_t>(i));
            total_ -= held.bytes.size();
            const auto* bytes = reinterpret_cast<const std::uint8_t*>(held.bytes.data());
            const std::size_t old = side.bytes.size() - held.offset;
            if (old < held.bytes.size()) append(side, ByteView{std::span<const std::uint8_t>{bytes + old, held.bytes.size() - old}});
            moved = true;
            break;
        }
    }
}

void TcpStreams::finish() {
    for (std::size_t i = 0; i < states_.size(); ++i) {
        for (auto [dir, side] : {std::pair{&states_[i].client, &connections_[i].from_client},
                                 std::pair{&states_[i].server, &connections_[i].from_server}}) {
            if (!dir->waiting.empty()) side->hole = true;
            for (const Waiting& held : dir->waiting) total_ -= held.bytes.size();
            dir->waiting.clear();
        }
    }
}

}  // namespace flagscan

// TcpStreams: the two byte streams of each captured TCP connection, put back in order, in bounded memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/flow.hpp"

namespace flagscan {

// One direction of a connection: its data in sequence order, from the byte after its SYN.
// Times are the capture's, in microseconds; -1: never.
struct TcpSide {
    std::string bytes;            // contiguous from the first byte; stops at a hole or at the bound
    bool hole = false;            // bytes are missing after `bytes` (lost, or cut by the snaplen): the rest is unknown
    bool bounded = false;         // it sent more than the bound keeps
    std::int64_t first_data = -1;
    std::int64_t fin = -1;        // its FIN (RFC 793 3.5: it will send no more)
    std::int64_t rst = -1;        // its RST
    std::int64_t closed() const;  // the earlier of fin and rst
};

// One connection as the capture shows it. The client is the side that sent the SYN.
struct TcpConnection {
    Flow client;                        // client -> server
    std::int64_t syn = -1;              // the client's SYN
    std::int64_t established = -1;      // the server's SYN,ACK (RFC 793 3.4: the connection is accepted)
    bool client_went_on = false;        // the client sent something but a RST after the SYN,ACK (not a half-open probe)
    TcpSide from_client, from_server;
    std::size_t server_before_client = 0;  // server bytes in order when the client's first byte came
};

// Why: a probe's answer can span segments that the capture holds retransmitted, overlapping or
// out of order. Each direction is rebuilt by sequence number (RFC 793 3.3, modulo 2^32) from the
// byte after its SYN: a retransmission or an overlap adds only what is new (the first copy of
// a byte wins), a segment ahead of the next expected byte waits (a few per direction) until the
// gap is filled; what never fills it is a hole, and the stream is known up to there. Memory is
// bounded whatever the capture holds: bytes per direction, segments waiting, connections, and
// bytes in all; past a bound data is dropped and said so (`bounded`, `hole`), never read past.
class TcpStreams {
public:
    struct Limits {
        std::size_t side_bytes = 64 * 1024;          // per direction (the live -sV driver's bound)
        std::size_t waiting_segments = 32;           // out-of-order segments held per direction
        std::size_t connections = 16384;
        std::size_t total_bytes = 32 * 1024 * 1024;  // every connection's bytes, waiting ones included
    };
    // Which connections to keep, by their client -> server flow (others cost nothing).
    using Want = std::function<bool(const Flow& client)>;

    TcpStreams(Limits limits, Want want);

    // A decoded TCP packet and the whole frame it came from (its payload is read from there,
    // bounds-checked), seen at NOW (microseconds). Anything else is ignored.
    void add(const DecodedPacket& packet, ByteView frame, std::int64_t now);
    // After the last packet: segments still waiting become holes.
    void finish();

    // In the order their SYN (or SYN,ACK) came.
    const std::deque<TcpConnection>& connections() const { return connections_; }
    std::uint64_t dropped_connections() const { return dropped_connections_; }

private:
    struct Waiting {
        std::uint32_t offset = 0;
        std::string bytes;
    };
    struct Direction {
        std::uint32_t base = 0;  // sequence number of byte 0 (ISN + 1)
        bool known = false;      // base is known (its SYN was seen)
        std::vector<Waiting> waiting;
    };
    struct State {
        Direction client, server;
    };

    TcpConnection* start(const Flow& client, const TcpHeader& tcp, bool syn_ack, std::int64_t now);
    void segment(TcpConnection& conn, State& state, bool from_client, const TcpHeader& tcp, ByteView data,
                 bool cut, std::int64_t now);
    void place(TcpSide& side, Direction& dir, std::uint32_t offset, ByteView data);
    void append(TcpSide& side, ByteView data);
    void drain(TcpSide& side, Direction& dir);
    bool room_for(std::size_t n) const { return total_ + n <= limits_.total_bytes; }

    Limits limits_;
    Want want_;
    std::deque<TcpConnection> connections_;
    std::vector<State> states_;  // beside connections_, same index
    std::unordered_map<Flow, std::size_t, FlowHash> latest_;  // client flow -> its latest connection
    std::size_t total_ = 0;
    std::uint64_t dropped_connections_ = 0;
};

}  // namespace flagscan

// TcpStreams: captured TCP segments back into each connection's two byte streams (RFC 793 3.3).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/tcp_streams.hpp"
#include "flagscan/wire/sim_network.hpp"

namespace flagscan {
namespace {

using Bytes = std::vector<std::uint8_t>;

TcpFlags f(int bits) { return TcpFlags{static_cast<std::uint8_t>(bits)}; }

const Ipv4 kClient{0xC0000201};  // 192.0.2.1
const Ipv4 kServer{0xC000020A};  // 192.0.2.10
constexpr std::uint16_t kClientPort = 40000, kServerPort = 21;

// A segment with DATA, its IP total length and header checksum fixed up (decode does not check
// the TCP checksum). CUT drops that many bytes off the end of the frame (a snaplen).
Bytes segment(bool from_client, std::uint32_t seq, std::uint32_t ack, TcpFlags flags, std::string_view data = {},
              std::size_t cut = 0) {
    Bytes p = from_client ? make_tcp_packet(kClient, kServer, Port{kClientPort}, Port{kServerPort}, seq, ack, flags, 65535, 64)
                          : make_tcp_packet(kServer, kClient, Port{kServerPort}, Port{kClientPort}, seq, ack, flags, 65535, 64);
    p.insert(p.end(), data.begin(), data.end());
    put_be16(p, 2, static_cast<std::uint16_t>(p.size()));
    put_be16(p, 10, 0);
    put_be16(p, 10, ipv4_header_checksum(std::span<const std::uint8_t>{p}.first(20)));
    p.resize(p.size() - cut);
    return p;
}

class Streams : public ::testing::Test {
protected:
    void feed(const Bytes& p, std::int64_t now = 0) {
        const auto packet = decode_ipv4(ByteView{p});
        ASSERT_TRUE(packet.has_value());
        streams.add(*packet, ByteView{p}, now);
    }
    // The handshake: client ISN C, server ISN S.
    void handshake(std::uint32_t c = 1000, std::uint32_t s = 5000) {
        feed(segment(true, c, 0, f(TcpFlags::syn)), 10);
        feed(segment(false, s, c + 1, TcpFlags{TcpFlags::syn | TcpFlags::ack}), 20);
        feed(segment(true, c + 1, s + 1, f(TcpFlags::ack)), 30);
    }
    const TcpConnection& only() {
        EXPECT_EQ(streams.connections().size(), 1u);
        return streams.connections().front();
    }
    TcpStreams::Limits limits;
    TcpStreams streams{limits, [](const Flow&) { return true; }};
};

TEST_F(Streams, InOrderBothWays) {
    handshake();
    feed(segment(false, 5001, 1001, TcpFlags{TcpFlags::psh | TcpFlags::ack}, "220 (vsFTPd 3.0.3)\r\n"), 40);
    feed(segment(true, 1001, 5021, TcpFlags{TcpFlags::psh | TcpFlags::ack}, "HELP\r\n"), 50);
    feed(segment(false, 5021, 1007, TcpFlags{TcpFlags::psh | TcpFlags::ack}, "214 ok\r\n"), 60);
    feed(segment(false, 5029, 1007, TcpFlags{TcpFlags::fin | TcpFlags::ack}), 70);
    streams.finish();
    const TcpConnection& c = only();
    EXPECT_EQ(c.from_server.bytes, "220 (vsFTPd 3.0.3)\r\n214 ok\r\n");
    EXPECT_EQ(c.from_client.bytes, "HELP\r\n");
    EXPECT_EQ(c.server_before_client, 20u);  // the banner came before the client spoke
    EXPECT_EQ(c.syn, 10);
    EXPECT_EQ(c.established, 20);
    EXPECT_TRUE(c.client_went_on);
    EXPECT_EQ(c.from_server.fin, 70);
    EXPECT_EQ(c.from_server.first_data, 40);
    EXPECT_FALSE(c.from_server.hole);
}

// Retransmissions and overlaps add only what is new; the first copy of a byte wins.
TEST_F(Streams, RetransmissionsAndOverlaps) {
    handshake();
    feed(segment(false, 5001, 1001, f(TcpFlags::ack), "HELLO"));
    feed(segment(false, 5001, 1001, f(TcpFlags::ack), "HELLO"));
    feed(segment(false, 5003, 1001, f(TcpFlags::ack), "xxO WORLD"));
    feed(segment(false, 4990, 1001, f(TcpFlags::ack), "0123456789abcdef"));  // starts before the stream: its new part
    streams.finish();
    EXPECT_EQ(only().from_server.bytes, "HELLO WORLD");
}

TEST_F(Streams, OutOfOrderWaitsForTheGap) {
    handshake();
    feed(segment(false, 5007, 1001, f(TcpFlags::ack), "WORLD"));
    feed(segment(false, 5013, 1001, f(TcpFlags::ack), "!"));
    EXPECT_EQ(only().from_server.bytes, "");
    feed(segment(false, 5001, 1001, f(TcpFlags::ack), "HELLO "));
    streams.finish();
    EXPECT_EQ(only().from_server.bytes, "HELLO WORLD");  // "!" is after a byte never seen
    EXPECT_TRUE(only().from_server.hole);
}

TEST_F(Streams, SnaplenCutIsAHole) {
    handshake();
    feed(segment(false, 5001, 1001, f(TcpFlags::ack), "HELLO WORLD", 6));
    feed(segment(false, 5012, 1001, f(TcpFlags::ack), "MORE"));
    streams.finish();
    EXPECT_EQ(only().from_server.bytes, "HELLO");
    EXPECT_TRUE(only().from_server.hole);
}

TEST_F(Streams, SequenceNumbersWrap) {
    handshake(1000, 0xfffffffdu);
    feed(segment(false, 0xfffffffeu, 1001, f(TcpFlags::ack), "ABCD"));  // 0xfffffffe .. 0x1
    feed(segment(false, 0x2u, 1001, f(TcpFlags::ack), "EF"));
    streams.finish();
    EXPECT_EQ(only().from_server.bytes, "ABCDEF");
}

TEST_F(Streams, ResetEndsAndCarriesNoData) {
    handshake();
    feed(segment(false, 5001, 1001, TcpFlags{TcpFlags::rst | TcpFlags::ack}, "junk"), 99);
    streams.finish();
    EXPECT_EQ(only().from_server.bytes, "");
    EXPECT_EQ(only().from_server.rst, 99);
    EXPECT_EQ(only().from_server.closed(), 99);
}

// A SYN scan's half-open probe (the client resets at the SYN,ACK) is no conversation; a new SYN
// on the same ports with another ISN is a new connection; a repeated SYN is the same one.
TEST_F(Streams, NewConnectionOnTheSamePorts) {
    feed(segment(true, 77, 0, f(TcpFlags::syn)));
    feed(segment(false, 9000, 78, TcpFlags{TcpFlags::syn | TcpFlags::ack}));
    feed(segment(true, 78, 0, f(TcpFlags::rst)));
    handshake();
    feed(segment(true, 1000, 0, f(TcpFlags::syn)));
    ASSERT_EQ(streams.connections().size(), 2u);
    EXPECT_FALSE(streams.connections()[0].client_went_on);
    EXPECT_TRUE(streams.connections()[1].client_went_on);
}

TEST_F(Streams, MissedSynTakesTheSynAcksNumbers) {
    feed(segment(false, 5000, 1001, TcpFlags{TcpFlags::syn | TcpFlags::ack}));
    feed(segment(true, 1001, 5001, f(TcpFlags::ack), "PING\r\n"));
    streams.finish();
    EXPECT_EQ(only().from_client.bytes, "PING\r\n");
    EXPECT_EQ(only().syn, -1);
}

TEST(StreamsBounds, BytesSegmentsAndConnectionsAreBounded) {
    TcpStreams::Limits limits;
    limits.side_bytes = 8;
    limits.waiting_segments = 2;
    limits.connections = 1;
    TcpStreams streams{limits, [](const Flow&) { return true; }};
    auto feed = [&](const Bytes& p) { streams.add(*decode_ipv4(ByteView{p}), ByteView{p}, 0); };
    feed(segment(true, 1000, 0, f(TcpFlags::syn)));
    feed(segment(false, 5000, 1001, TcpFlags{TcpFlags::syn | TcpFlags::ack}));
    feed(segment(false, 5001, 1001, f(TcpFlags::ack), "0123456789"));
    feed(segment(true, 1003, 5001, f(TcpFlags::ack), "c"));
    feed(segment(true, 1005, 5001, f(TcpFlags::ack), "e"));
    feed(segment(true, 1007, 5001, f(TcpFlags::ack), "g"));  // a third waiting segment: dropped
    feed(segment(true, 1100, 5001, f(TcpFlags::ack), "far"));  // beyond the bound
    const Bytes other = make_tcp_packet(kClient, kServer, Port{1}, Port{2}, 1, 0, f(TcpFlags::syn), 1024, 64);
    feed(other);
    streams.finish();
    ASSERT_EQ(streams.connections().size(), 1u);
    const TcpConnection& c = streams.connections().front();
    EXPECT_EQ(c.from_server.bytes, "01234567");
    EXPECT_TRUE(c.from_server.bounded);
    EXPECT_TRUE(c.from_client.hole);
    EXPECT_EQ(streams.dropped_connections(), 1u);
}

TEST(StreamsBounds, UnwantedConnectionsAreNotKept) {
    TcpStreams streams{TcpStreams::Limits{}, [](const Flow& f) { return f.dport != kServerPort; }};
    const Bytes syn = segment(true, 1000, 0, f(TcpFlags::syn));
    streams.add(*decode_ipv4(ByteView{syn}), ByteView{syn}, 0);
    EXPECT_TRUE(streams.connections().empty());
}

// Garbage: random flags, numbers and lengths on a few flows never crash nor outgrow the bounds.
TEST(StreamsBounds, RandomSegmentsStayBounded) {
    TcpStreams::Limits limits;
    limits.side_bytes = 4096;
    limits.total_bytes = 64 * 1024;
    TcpStreams streams{limits, [](const Flow&) { return true; }};
    std::mt19937 rng{12};
    const std::string data(1400, 'x');
    for (int i = 0; i < 20000; ++i) {
        const bool from_client = rng() % 2;
        const std::uint32_t seq = rng() % 4 == 0 ? rng() : 1000 + rng() % 8192;
        const auto flags = static_cast<std::uint8_t>(rng() % 64);
        const Bytes p = segment(from_client, seq, rng(), TcpFlags{flags}, std::string_view{data}.substr(0, rng() % 1400));
        streams.add(*decode_ipv4(ByteView{p}), ByteView{p}, i);
    }
    streams.finish();
    std::size_t total = 0;
    for (const TcpConnection& c : streams.connections()) {
        EXPECT_LE(c.from_client.bytes.size(), 4096u);
        EXPECT_LE(c.from_server.bytes.size(), 4096u);
        total += c.from_client.bytes.size() + c.from_server.bytes.size();
    }
    EXPECT_LE(total, 64u * 1024u);
}

}  // namespace
}  // namespace flagscan

// Tests for the simulated network's UDP, ICMP query and ICMP rate-limit answers, with real bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/wire/sim_network.hpp"

namespace flagscan {
namespace {

const Ipv4 kUs{10, 77, 0, 1};
const Ipv4 kThem{10, 77, 0, 2};
const Ipv4 kNobody{10, 77, 0, 99};
constexpr Micros kStart = 1'000'000;
constexpr Micros kLatency = 200;
using Bytes = std::vector<std::uint8_t>;

SimHost linux_host() {
    SimHost host;
    host.open_udp = {53};
    host.rejected_udp = {161};
    host.dropped_udp = {123};
    return host;
}

// The network, its clock, and helpers that send a probe and gather what comes back.
struct Lab {
    FakeClock clock{kStart};
    SimNetwork net;

    explicit Lab(SimHost host, double loss = 0.0) : net(config(std::move(host), loss), clock) {}

    static SimConfig config(SimHost host, double loss) {
        SimConfig c;
        c.latency = kLatency;
        c.loss = loss;
        c.hosts[kThem] = std::move(host);
        return c;
    }

    void send(const Bytes& probe) {
        const std::span<const std::uint8_t> one{probe};
        net.send(std::span{&one, 1});
    }
    // Every frame that arrives until a deadline well past the round trip.
    std::vector<Bytes> collect() {
        const Micros until = clock.now() + 10 * kLatency;
        std::vector<Frame> frames;
        while (clock.now() < until) net.wait(until, frames);
        std::vector<Bytes> out;
        for (const auto& f : frames) out.emplace_back(f.span().begin(), f.span().end());
        return out;
    }
    std::vector<Bytes> exchange(const Bytes& probe) {
        send(probe);
        return collect();
    }
};

Bytes udp_probe(std::uint16_t sport, std::uint16_t dport, const std::string& text = "") {
    const Bytes payload(text.begin(), text.end());
    return make_udp_packet(kUs, kThem, Port{sport}, Port{dport}, payload, 64);
}

DecodedPacket decode(const Bytes& bytes) {
    auto decoded = decode_ipv4(ByteView{bytes});
    EXPECT_TRUE(decoded);
    return decoded.value_or(DecodedPacket{});
}

// A reply's IPv4 header and transport (UDP: with pseudo-header; ICMP: plain) checksums both verify.
void expect_checksums_valid(const Bytes& packet) {
    ASSERT_GE(packet.size(), 20u);
    const std::span<const std::uint8_t> all{packet};
    EXPECT_EQ(ipv4_header_checksum(all.first(20)), 0);
    const auto transport = all.subspan(20);
    if (packet[9] == ipproto::icmp) {
        EXPECT_EQ(checksum_finish(checksum_add(transport)), 0);
    } else if (packet[9] == ipproto::udp) {
        EXPECT_EQ(transport_checksum(kThem, kUs, ipproto::udp, transport), 0);
    }
}

TEST(SimNetworkBuilders, UdpPacketBytes) {
    const Bytes payload{'a', 'b', 'c'};
    const Bytes p = make_udp_packet(kUs, kThem, Port{40000}, Port{53}, payload, 64);
    ASSERT_EQ(p.size(), 31u);
    EXPECT_EQ(p[9], ipproto::udp);
    EXPECT_EQ((p[20] << 8) | p[21], 40000);
    EXPECT_EQ((p[22] << 8) | p[23], 53);
    EXPECT_EQ((p[24] << 8) | p[25], 11);  // UDP length: header + payload
    EXPECT_NE((p[26] << 8) | p[27], 0);   // a checksum is present
    EXPECT_EQ(Bytes(p.begin() + 28, p.end()), payload);
    EXPECT_EQ(ipv4_header_checksum(std::span{p}.first(20)), 0);
    EXPECT_EQ(transport_checksum(kUs, kThem, ipproto::udp, std::span{p}.subspan(20)), 0);
    const auto d = decode(p);
    ASSERT_TRUE(d.udp);
    EXPECT_EQ(d.udp->sport, Port{40000});
    EXPECT_EQ(d.udp->dport, Port{53});
}

TEST(SimNetworkBuilders, IcmpQueryBytes) {
    const Bytes data{1, 2, 3, 4, 5};
    const Bytes p = make_icmp_query(kUs, kThem, icmp_type::echo, 0x1234, 0x0007, data, 64);
    ASSERT_EQ(p.size(), 33u);
    EXPECT_EQ(p[9], ipproto::icmp);
    EXPECT_EQ(p[20], icmp_type::echo);
    EXPECT_EQ(p[21], 0);
    EXPECT_EQ(Bytes(p.begin() + 28, p.end()), data);
    EXPECT_EQ(ipv4_header_checksum(std::span{p}.first(20)), 0);
    EXPECT_EQ(checksum_finish(checksum_add(std::span{p}.subspan(20))), 0);  // odd length too
    const auto d = decode(p);
    ASSERT_TRUE(d.icmp);
    EXPECT_EQ(d.icmp->id, 0x1234);
    EXPECT_EQ(d.icmp->seq, 0x0007);
}

TEST(SimNetworkUdp, OpenPortAnswersFromThatPort) {
    Lab lab{linux_host()};
    const auto replies = lab.exchange(udp_probe(40000, 53, "hello"));
    ASSERT_EQ(replies.size(), 1u);
    const auto d = decode(replies[0]);
    EXPECT_EQ(d.ip.src, kThem);
    EXPECT_EQ(d.ip.dst, kUs);
    ASSERT_TRUE(d.udp);
    EXPECT_EQ(d.udp->sport, Port{53});
    EXPECT_EQ(d.udp->dport, Port{40000});
    EXPECT_EQ(std::string(replies[0].begin() + 28, replies[0].end()), "hello");
    expect_checksums_valid(replies[0]);
    EXPECT_GE(lab.clock.now(), kStart + 2 * kLatency);
}

TEST(SimNetworkUdp, OpenPortAnswersAnEmptyDatagramWithData) {
    Lab lab{linux_host()};
    const auto replies = lab.exchange(udp_probe(40001, 53));
    ASSERT_EQ(replies.size(), 1u);
    const auto d = decode(replies[0]);
    ASSERT_TRUE(d.udp);
    EXPECT_GT(d.udp->length, 8);
    expect_checksums_valid(replies[0]);
}

TEST(SimNetworkUdp, ClosedPortIsPortUnreachableQuotingTheProbe) {
    Lab lab{linux_host()};
    const auto replies = lab.exchange(udp_probe(40002, 9999));
    ASSERT_EQ(replies.size(), 1u);
    const auto d = decode(replies[0]);
    EXPECT_EQ(d.ip.src, kThem);
    ASSERT_TRUE(d.icmp);
    EXPECT_EQ(d.icmp->type, icmp_type::unreachable);
    EXPECT_EQ(d.icmp->code, 3);
    ASSERT_TRUE(d.icmp->quoted);
    EXPECT_EQ(d.icmp->quoted->ip.protocol, ipproto::udp);
    EXPECT_EQ(d.icmp->quoted->ip.src, kUs);
    EXPECT_EQ(d.icmp->quoted->ip.dst, kThem);
    EXPECT_EQ(d.icmp->quoted->sport, Port{40002});
    EXPECT_EQ(d.icmp->quoted->dport, Port{9999});
    expect_checksums_valid(replies[0]);
}

TEST(SimNetworkUdp, RejectedPortIsAdminProhibited) {
    Lab lab{linux_host()};
    const auto replies = lab.exchange(udp_probe(40003, 161));
    ASSERT_EQ(replies.size(), 1u);
    const auto d = decode(replies[0]);
    ASSERT_TRUE(d.icmp);
    EXPECT_EQ(d.icmp->type, icmp_type::unreachable);
    EXPECT_EQ(d.icmp->code, 13);
    ASSERT_TRUE(d.icmp->quoted);
    EXPECT_EQ(d.icmp->quoted->dport, Port{161});
}

TEST(SimNetworkUdp, DroppedPortDropAllHostAndMissingHostAreSilent) {
    Lab lab{linux_host()};
    EXPECT_TRUE(lab.exchange(udp_probe(40004, 123)).empty());
    EXPECT_TRUE(lab.exchange(make_udp_packet(kUs, kNobody, Port{40004}, Port{9999}, {}, 64)).empty());
    SimHost walled = linux_host();
    walled.drop_all = true;
    Lab behind{walled};
    EXPECT_TRUE(behind.exchange(udp_probe(40004, 53)).empty());
    EXPECT_TRUE(behind.exchange(udp_probe(40004, 9999)).empty());
    EXPECT_TRUE(behind.exchange(make_icmp_query(kUs, kThem, icmp_type::echo, 1, 1, {}, 64)).empty());
    EXPECT_EQ(behind.net.counters().replies, 0u);
}

TEST(SimNetworkIcmp, EchoGetsEchoReplyWithSameIdSeqAndData) {
    Lab lab{linux_host()};
    const Bytes data{'p', 'i', 'n', 'g', 0, 1, 2};
    const auto replies = lab.exchange(make_icmp_query(kUs, kThem, icmp_type::echo, 0xbeef, 42, data, 64));
    ASSERT_EQ(replies.size(), 1u);
    const auto d = decode(replies[0]);
    EXPECT_EQ(d.ip.src, kThem);
    EXPECT_EQ(d.ip.dst, kUs);
    ASSERT_TRUE(d.icmp);
    EXPECT_EQ(d.icmp->type, icmp_type::echo_reply);
    EXPECT_EQ(d.icmp->code, 0);
    EXPECT_EQ(d.icmp->id, 0xbeef);
    EXPECT_EQ(d.icmp->seq, 42);
    EXPECT_EQ(Bytes(replies[0].begin() + 28, replies[0].end()), data);
    expect_checksums_valid(replies[0]);
}

TEST(SimNetworkIcmp, TimestampGetsTimestampReply) {
    Lab lab{linux_host()};
    const Bytes times{0x00, 0x01, 0x02, 0x03, 0, 0, 0, 0, 0, 0, 0, 0};
    const auto replies = lab.exchange(make_icmp_query(kUs, kThem, icmp_type::timestamp, 7, 9, times, 64));
    ASSERT_EQ(replies.size(), 1u);
    const auto& r = replies[0];
    const auto d = decode(r);
    ASSERT_TRUE(d.icmp);
    EXPECT_EQ(d.icmp->type, icmp_type::timestamp_reply);
    EXPECT_EQ(d.icmp->id, 7);
    EXPECT_EQ(d.icmp->seq, 9);
    ASSERT_EQ(r.size(), 20u + 20u);
    EXPECT_EQ(Bytes(r.begin() + 28, r.begin() + 32), Bytes(times.begin(), times.begin() + 4));  // originate
    const auto be32 = [&](std::size_t at) { return *ByteView{r}.be32(at); };
    const auto arrived_ms = static_cast<std::uint32_t>((kStart + kLatency) / kMillisecond);
    EXPECT_EQ(be32(32), arrived_ms);  // receive
    EXPECT_EQ(be32(36), arrived_ms);  // transmit
    expect_checksums_valid(r);
}

TEST(SimNetworkIcmp, QueriesCanBeTurnedOff) {
    SimHost host = linux_host();
    host.answers_ping = false;
    host.answers_timestamp = false;
    Lab lab{host};
    const Bytes times(12, 0);
    EXPECT_TRUE(lab.exchange(make_icmp_query(kUs, kThem, icmp_type::echo, 1, 1, {}, 64)).empty());
    EXPECT_TRUE(lab.exchange(make_icmp_query(kUs, kThem, icmp_type::timestamp, 1, 1, times, 64)).empty());
    EXPECT_EQ(lab.exchange(udp_probe(40005, 9999)).size(), 1u);  // the host is still there
}

TEST(SimNetworkIcmp, EchoToMissingHostIsSilent) {
    Lab lab{linux_host()};
    EXPECT_TRUE(lab.exchange(make_icmp_query(kUs, kNobody, icmp_type::echo, 1, 1, {}, 64)).empty());
}

std::size_t unreachables(const std::vector<Bytes>& replies) {
    std::size_t n = 0;
    for (const auto& r : replies) {
        const auto d = decode(r);
        if (d.icmp && d.icmp->type == icmp_type::unreachable) ++n;
    }
    return n;
}

TEST(SimNetworkRateLimit, LinuxDefaultsSendABurstOfSixThenOnePerSecond) {
    SimHost host = linux_host();
    host.icmp_errors_per_s = 1.0;
    Lab lab{host};
    const Micros t0 = lab.clock.now();
    for (std::uint16_t i = 0; i < 20; ++i) lab.send(udp_probe(40000, static_cast<std::uint16_t>(1000 + i)));
    EXPECT_EQ(unreachables(lab.collect()), 6u);
    EXPECT_EQ(lab.net.counters().icmp_limited, 14u);
    lab.clock.set(t0 + kSecond);
    lab.send(udp_probe(40000, 2000));
    lab.send(udp_probe(40000, 2001));
    const auto later = lab.collect();
    ASSERT_EQ(unreachables(later), 1u);
    EXPECT_EQ(decode(later[0]).icmp->quoted->dport, Port{2000});
    EXPECT_EQ(lab.net.counters().icmp_limited, 15u);
}

TEST(SimNetworkRateLimit, RejectedTcpAndUdpShareTheBucketButUdpRepliesDoNot) {
    SimHost host = linux_host();
    host.rejected = {113};
    host.icmp_errors_per_s = 1.0;
    host.icmp_burst = 2;
    Lab lab{host};
    lab.send(make_tcp_packet(kUs, kThem, Port{40000}, Port{113}, 1, 0, TcpFlags{TcpFlags::syn}, 1024, 64));
    lab.send(udp_probe(40000, 161));
    lab.send(udp_probe(40000, 9999));
    for (int i = 0; i < 5; ++i) lab.send(udp_probe(40000, 53));
    for (int i = 0; i < 5; ++i) lab.send(make_icmp_query(kUs, kThem, icmp_type::echo, 1, std::uint16_t(i), {}, 64));
    const auto replies = lab.collect();
    EXPECT_EQ(unreachables(replies), 2u);
    EXPECT_EQ(replies.size(), 2u + 5u + 5u);
    EXPECT_EQ(lab.net.counters().icmp_limited, 1u);
}

TEST(SimNetworkRateLimit, BucketsArePerDestination) {
    SimHost host = linux_host();
    host.icmp_errors_per_s = 1.0;
    Lab lab{host};
    const Ipv4 other{10, 77, 0, 3};
    for (int i = 0; i < 10; ++i) lab.send(udp_probe(40000, 9999));
    for (int i = 0; i < 10; ++i) lab.send(make_udp_packet(other, kThem, Port{40000}, Port{9999}, {}, 64));
    EXPECT_EQ(unreachables(lab.collect()), 12u);
}

TEST(SimNetworkRateLimit, UnlimitedHostAnswersEveryProbe) {
    Lab lab{linux_host()};
    for (std::uint16_t i = 0; i < 20; ++i) lab.send(udp_probe(40000, static_cast<std::uint16_t>(1000 + i)));
    const auto replies = lab.collect();
    EXPECT_EQ(unreachables(replies), 20u);
    EXPECT_EQ(lab.net.counters().icmp_limited, 0u);
    for (const auto& r : replies) expect_checksums_valid(r);
}

TEST(SimNetworkLoss, LossAppliesToUdpAndIcmpReplies) {
    Lab lab{linux_host(), 1.0};
    lab.send(udp_probe(40000, 53));
    lab.send(udp_probe(40000, 9999));
    lab.send(make_icmp_query(kUs, kThem, icmp_type::echo, 1, 1, {}, 64));
    EXPECT_TRUE(lab.collect().empty());
    EXPECT_EQ(lab.net.counters().lost, 3u);
}

}  // namespace
}  // namespace flagscan

// The correlator's matching rules on real reply bytes: what a reply must echo of a probe that
// carried data, which sender an ICMP error names, and a probe captured twice.
#include <gtest/gtest.h>

#include "flagscan/engine/correlator.hpp"
#include "flagscan/wire/sim_network.hpp"

namespace flagscan {
namespace {

const Ipv4 kScanner{10, 77, 0, 1};
const Ipv4 kTarget{10, 77, 0, 2};
const Ipv4 kRouter{10, 77, 9, 254};
constexpr std::uint8_t kRstAck = TcpFlags::rst | TcpFlags::ack;
constexpr std::uint8_t kSynAck = TcpFlags::syn | TcpFlags::ack;

// A replay's correlator: it checks replies against the probes it is shown (EchoCheck::recorded).
Correlator recorded(const ProbeKind& kind) {
    return Correlator{ScannerIdentity{kScanner, Port{0}, 255}, CookieKey{0, 0}, {&kind}, EchoCheck::recorded};
}

Probe captured(std::uint16_t sport, std::uint32_t seq, std::uint16_t data_length, std::uint8_t try_no = 0,
               std::uint16_t ip_id = 0) {
    Probe probe;
    probe.src = kScanner;
    probe.dst = kTarget;
    probe.sport = Port{sport};
    probe.dport = Port{80};
    probe.seq = seq;
    probe.ip_id = ip_id;
    probe.try_no = try_no;
    probe.data_length = data_length;
    return probe;
}

std::optional<Answer> identify(const Correlator& correlator, const std::vector<std::uint8_t>& packet) {
    return correlator.identify(*decode_ipv4(ByteView{packet}));
}

std::vector<std::uint8_t> reply(std::uint32_t ack, std::uint8_t flags, std::uint16_t to_port = 40000) {
    return make_tcp_packet(kTarget, kScanner, Port{80}, Port{to_port}, 7, ack, TcpFlags{flags}, 0, 64);
}

// RFC 793 p.65-66: the RST to a SYN with 20 bytes of data acknowledges SEG.SEQ + 1 + 20; the
// SYN,ACK from a listening port acknowledges the SYN alone (the data waits for the handshake).
TEST(Correlator, ARstToASynWithDataAcknowledgesItsData) {
    Correlator correlator = recorded(syn_kind());
    correlator.record(captured(40000, 1000, 20), 10, kSecond);
    const auto rst = identify(correlator, reply(1021, kRstAck));
    ASSERT_TRUE(rst);
    EXPECT_EQ(rst->evidence.flags.bits(), kRstAck);
    EXPECT_EQ(rst->port, Port{80});
    EXPECT_FALSE(identify(correlator, reply(1001, kRstAck)));  // as if the data were not there
    EXPECT_TRUE(identify(correlator, reply(1001, kSynAck)));
    EXPECT_FALSE(identify(correlator, reply(1021, kSynAck)));
}

// A live scan's own probes with --data-length 40: the keyed check (no table) expects the RST,ACK
// to acknowledge the data too, also from a fixed source port (-g), where the ack names the try.
TEST(Correlator, KeyedProbesWithDataAreAcknowledgedWithIt) {
    for (const Port fixed : {Port{}, Port{53}}) {
        const ScannerIdentity me{kScanner, Port{40000}, 3, 1, fixed};
        const Correlator correlator{me, CookieKey{1, 2}, {&syn_kind()}, EchoCheck::keyed, 40};
        const Probe probe = correlator.probe_for(Target{kTarget, Port{80}, 0, 0}, 0, 1, 7);
        EXPECT_EQ(probe.data_length, 40);
        const std::uint16_t to = probe.sport.value();
        const auto rst = identify(correlator, reply(probe.seq + 41, kRstAck, to));
        ASSERT_TRUE(rst) << fixed.value();
        EXPECT_EQ(rst->try_no, 1);
        EXPECT_FALSE(identify(correlator, reply(probe.seq + 1, kRstAck, to)));
        EXPECT_TRUE(identify(correlator, reply(probe.seq + 1, kSynAck, to)));
    }
}

// The same for a FIN with data: SEG.LEN = 1 (FIN) + 20.
TEST(Correlator, ARstToAFinWithDataAcknowledgesItsData) {
    Correlator correlator = recorded(*probe_kind_by_letter('F'));
    correlator.record(captured(40000, 5000, 20), 10, kSecond);
    EXPECT_TRUE(identify(correlator, reply(5021, kRstAck)));
    EXPECT_FALSE(identify(correlator, reply(5001, kRstAck)));
    EXPECT_FALSE(identify(correlator, reply(5020, kRstAck)));
}

// Without data the count is the flags' alone, as before (a plain nmap or flagscan capture).
TEST(Correlator, ARstToAProbeWithoutDataAcknowledgesItsFlags) {
    Correlator correlator = recorded(syn_kind());
    correlator.record(captured(40000, 1000, 0), 10, kSecond);
    EXPECT_TRUE(identify(correlator, reply(1001, kRstAck)));
    EXPECT_FALSE(identify(correlator, reply(1000, kRstAck)));
}

// An ICMP error says whether the target itself sent it or another address on the path did.
TEST(Correlator, AnIcmpErrorNamesItsSender) {
    Correlator correlator = recorded(udp_kind());
    Probe probe = captured(40000, 0, 0, 0, 0x1234);
    correlator.record(probe, 10, kSecond);
    const auto datagram = make_udp_packet(kScanner, kTarget, Port{40000}, Port{80}, {}, 64);
    std::vector<std::uint8_t> with_id = datagram;
    with_id[4] = 0x12;
    with_id[5] = 0x34;
    const auto from_target = identify(correlator, make_icmp_error(kTarget, 3, 3, with_id, 64));
    const auto from_router = identify(correlator, make_icmp_error(kRouter, 3, 3, with_id, 250));
    ASSERT_TRUE(from_target);
    ASSERT_TRUE(from_router);
    EXPECT_FALSE(from_target->evidence.from_elsewhere);
    EXPECT_TRUE(from_router->evidence.from_elsewhere);
    EXPECT_EQ(from_router->target, kTarget);  // the error still speaks of the target's port
}

// RFC 1122 3.2.2.1: port unreachable is the target's own word on its port (closed); from a
// router it means the probe was refused on the way (filtered, nmap's rule). The UDP ping reads
// it the same way: the target saying it is up, a router saying nothing of the host.
TEST(Correlator, PortUnreachableFromARouterIsNotClosed) {
    ReplyEvidence target{ReplyEvidence::Kind::icmp_unreachable, TcpFlags{}, 0, 3, 64};
    ReplyEvidence router = target;
    router.from_elsewhere = true;
    const Rule* closed = match_rule(udp_kind(), target);
    const Rule* refused = match_rule(udp_kind(), router);
    ASSERT_NE(closed, nullptr);
    ASSERT_NE(refused, nullptr);
    EXPECT_EQ(closed->state, PortState::closed);
    EXPECT_EQ(refused->state, PortState::filtered);
    EXPECT_EQ(rule_reason(*refused, router), Reason::port_unreach);
    EXPECT_EQ(match_rule(ping_udp_kind(), target)->state, PortState::open);
    EXPECT_EQ(match_rule(ping_udp_kind(), router)->state, PortState::filtered);
    // Every other code means filtered from anyone; a SYN scan's 3/3 is filtered from anyone.
    ReplyEvidence prohibited = target;
    prohibited.icmp_code = 13;
    EXPECT_EQ(match_rule(udp_kind(), prohibited)->state, PortState::filtered);
    EXPECT_EQ(match_rule(syn_kind(), target)->state, PortState::filtered);
    EXPECT_EQ(match_rule(syn_kind(), router)->state, PortState::filtered);
}

// With one source port for every try (hping3 -2 -k, nmap -sU -g 53), UDP tries differ only in
// their IP identification: an ICMP error quoting an earlier try's names that try; a service's
// answer names no try and is taken as the latest's.
TEST(Correlator, ReplayedUdpTriesFromOnePortAreToldApartByIpId) {
    Correlator correlator = recorded(udp_kind());
    correlator.record(captured(53, 0, 0, 0, 0x0100), 10, kSecond);
    correlator.record(captured(53, 0, 0, 1, 0x0101), 20, kSecond);
    const auto quoting = [](std::uint16_t ip_id) {
        auto datagram = make_udp_packet(kScanner, kTarget, Port{53}, Port{80}, {}, 64);
        datagram[4] = static_cast<std::uint8_t>(ip_id >> 8);
        datagram[5] = static_cast<std::uint8_t>(ip_id);
        return make_icmp_error(kTarget, 3, 3, datagram, 64);
    };
    ASSERT_TRUE(identify(correlator, quoting(0x0100)));
    EXPECT_EQ(identify(correlator, quoting(0x0100))->try_no, 0);
    EXPECT_EQ(identify(correlator, quoting(0x0101))->try_no, 1);
    EXPECT_FALSE(identify(correlator, quoting(0x0102)));
    const std::vector<std::uint8_t> text{'h', 'i'};
    const auto answer = identify(correlator, make_udp_packet(kTarget, kScanner, Port{80}, Port{53}, text, 64));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->try_no, 1);
}

// A capture on a bridge and its port holds each frame twice, microseconds apart: the same
// datagram is its port's latest try seen again. A resend of the very bytes after a timeout
// (nmap's way), or another datagram at once, is not.
TEST(Correlator, ADatagramCapturedTwiceRepeatsTheLatestTry) {
    Correlator correlator = recorded(syn_kind());
    const Probe probe = captured(40000, 1000, 0, 0, 0x4242);
    EXPECT_FALSE(correlator.repeats_latest(probe, 1000));  // nothing recorded yet
    correlator.record(probe, 1000, kSecond);
    EXPECT_TRUE(correlator.repeats_latest(probe, 1004));
    EXPECT_TRUE(correlator.repeats_latest(probe, 996));  // filed first by another core
    EXPECT_FALSE(correlator.repeats_latest(probe, 1000 + Correlator::kSameDatagram));
    EXPECT_FALSE(correlator.repeats_latest(captured(40000, 1000, 0, 0, 0x4243), 1004));
    EXPECT_FALSE(correlator.repeats_latest(captured(40000, 1001, 0, 0, 0x4242), 1004));
    EXPECT_FALSE(correlator.repeats_latest(captured(40001, 1000, 0, 0, 0x4242), 1004));
    EXPECT_FALSE(correlator.repeats_latest(captured(40000, 1000, 20, 0, 0x4242), 1004));
}

}  // namespace
}  // namespace flagscan

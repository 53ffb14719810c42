// OsScan: each OS probe built with libnet is the OsProbe table's packet (recognised by identify_os_probe), and a try's schedule and matching.
#include <gtest/gtest.h>

#include "flagscan/net/checksum.hpp"
#include "flagscan/os/os_scan.hpp"

namespace {

using namespace flagscan;

const Ipv4 kUs{(10u << 24) | (77u << 16) | (27u << 8) | 1u};
const Ipv4 kTarget{(10u << 24) | (77u << 16) | (27u << 8) | 2u};

OsProbeFields fields_for(const OsProbe& probe) {
    OsProbeFields f{kUs, kTarget, Port{static_cast<std::uint16_t>(40000 + probe.source_port_offset)}, Port{22},
                    0x11223344, 0x55667788, 0x4242, 0x1234, 51};
    if (probe.protocol == ipproto::udp) f.target_port = Port{40125};
    return f;
}

TEST(OsProbeBuild, EveryProbeIsRecognisedAsItself) {
    for (const OsProbe& probe : os_probes()) {
        auto built = build_os_probe(probe, fields_for(probe));
        ASSERT_TRUE(built) << probe.name << ": " << built.error();
        auto decoded = decode_ipv4(ByteView{built->packet});  // checks the IP header checksum
        ASSERT_TRUE(decoded) << probe.name;
        EXPECT_EQ(identify_os_probe(*decoded, ByteView{built->packet}), probe.id) << probe.name;
        EXPECT_EQ(decoded->ip.tos, probe.tos) << probe.name;
        EXPECT_EQ(decoded->ip.dont_fragment, probe.dont_fragment) << probe.name;
        EXPECT_EQ(decoded->ip.ttl, 51) << probe.name;
        EXPECT_EQ(decoded->ip.id, probe.ip_id.value_or(0x1234)) << probe.name;
        EXPECT_EQ(built->sent.ip_id, decoded->ip.id);
    }
}

TEST(OsProbeBuild, TcpFieldsAndChecksums) {
    for (const OsProbe& probe : os_probes()) {
        if (probe.protocol != ipproto::tcp) continue;
        auto built = build_os_probe(probe, fields_for(probe));
        ASSERT_TRUE(built);
        auto decoded = decode_ipv4(ByteView{built->packet});
        ASSERT_TRUE(decoded && decoded->tcp);
        const auto& tcp = *decoded->tcp;
        EXPECT_EQ(tcp.seq, 0x11223344u + probe.tcp.seq_offset) << probe.name;
        EXPECT_EQ(tcp.ack, probe.tcp.carries_ack ? 0x55667788u : 0u) << probe.name;
        EXPECT_EQ(tcp.reserved, probe.tcp.reserved) << probe.name;  // ECN: 0x8
        EXPECT_EQ(tcp.urgent, probe.tcp.urgent) << probe.name;
        EXPECT_EQ(built->sent.seq, tcp.seq);
        const std::span<const std::uint8_t> segment{built->packet.data() + 20, built->packet.size() - 20};
        EXPECT_EQ(transport_checksum(kUs, kTarget, ipproto::tcp, segment), 0) << probe.name;  // RFC 1071: sums to 0
    }
}

TEST(OsProbeBuild, EchoAndUdp) {
    auto ie1 = build_os_probe(os_probe(OsProbeId::ie1), fields_for(os_probe(OsProbeId::ie1)));
    auto ie2 = build_os_probe(os_probe(OsProbeId::ie2), fields_for(os_probe(OsProbeId::ie2)));
    ASSERT_TRUE(ie1 && ie2);
    EXPECT_EQ(ie1->packet.size(), 20u + 8 + 120);
    EXPECT_EQ(decode_ipv4(ByteView{ie1->packet})->icmp->id, 0x4242);
    EXPECT_EQ(decode_ipv4(ByteView{ie2->packet})->icmp->id, 0x4243);
    const std::span<const std::uint8_t> icmp{ie2->packet.data() + 20, ie2->packet.size() - 20};
    EXPECT_EQ(checksum_finish(checksum_add(icmp)), 0);
    auto u1 = build_os_probe(os_probe(OsProbeId::u1), fields_for(os_probe(OsProbeId::u1)));
    ASSERT_TRUE(u1);
    EXPECT_EQ(u1->packet.size(), 328u);  // RIPL's G
    const auto d = decode_ipv4(ByteView{u1->packet});
    EXPECT_EQ(d->udp->checksum, u1->sent.udp_checksum);
    const std::span<const std::uint8_t> udp{u1->packet.data() + 20, u1->packet.size() - 20};
    EXPECT_EQ(transport_checksum(kUs, kTarget, ipproto::udp, udp), 0);
}

OsTryPlan plan() {
    OsTryPlan p;
    p.src = kUs;
    p.dst = kTarget;
    p.open_tcp = Port{22};
    p.closed_tcp = Port{1};
    p.closed_udp = Port{40125};
    p.open_known = p.closed_known = true;
    p.first_source_port = Port{40000};
    p.seed = 7;
    return p;
}

TEST(OsTry, SendsOnNmapsScheduleThenResendsTheUnansweredUpToFourSends) {
    auto attempt = OsTry::create(plan());
    ASSERT_TRUE(attempt);
    EXPECT_EQ(attempt->due(0).size(), 1u);  // SEQ1
    EXPECT_EQ(attempt->due(99 * kMillisecond).size(), 0u);
    EXPECT_EQ(attempt->due(100 * kMillisecond).size(), 1u);
    EXPECT_EQ(attempt->due(750 * kMillisecond).size(), 14u);  // everything else now due
    EXPECT_FALSE(attempt->finished(750 * kMillisecond));
    // IE1 IE2 U1 ECN T2-T7, not SEQ; and nmap's OPS/WIN resends of the six SEQ packets, and T1's.
    EXPECT_EQ(attempt->due(1050 * kMillisecond).size(), 10u + 6 + 1);
    EXPECT_FALSE(attempt->finished(1100 * kMillisecond));
    EXPECT_EQ(attempt->due(1349 * kMillisecond).size(), 0u);
    EXPECT_EQ(attempt->due(1350 * kMillisecond).size(), 10u + 6 + 1);
    EXPECT_EQ(attempt->due(1650 * kMillisecond).size(), 10u + 6 + 1);  // the probes' 4th send
    EXPECT_EQ(attempt->due(1950 * kMillisecond).size(), 6u + 1);       // the SEQ resends' 4th
    EXPECT_FALSE(attempt->finished(2249 * kMillisecond));
    EXPECT_TRUE(attempt->finished(2250 * kMillisecond));
    EXPECT_EQ(attempt->due(2500 * kMillisecond).size(), 0u);
    EXPECT_TRUE(attempt->round()[OsProbeId::ie1].sent->retransmitted);
}

DecodedPacket tcp_reply_to(std::uint16_t our_port, std::uint16_t their_port) {
    DecodedPacket reply;
    reply.ip.src = kTarget;
    reply.ip.dst = kUs;
    reply.ip.protocol = ipproto::tcp;
    TcpHeader tcp;
    tcp.sport = Port{their_port};
    tcp.dport = Port{our_port};
    reply.tcp = tcp;
    return reply;
}

// nmap's buildTUIProbeList: SEQ3 unanswered, so its packet goes again from port +6+2 (sequence
// number the try's base) and the reply fills O3 and W3; no T1 resend, since SEQ1 was answered.
TEST(OsTry, ResendsAnUnansweredSeqPacketForOpsAndWin) {
    auto attempt = OsTry::create(plan());
    ASSERT_TRUE(attempt);
    const std::vector<std::uint8_t> bytes(40, 0);
    attempt->due(0);
    attempt->due(750 * kMillisecond);
    for (std::uint16_t i : {0, 1, 3, 4, 5}) EXPECT_TRUE(attempt->on_reply(tcp_reply_to(40000 + i, 22), bytes, 760 * kMillisecond));
    const auto resent = attempt->due(1050 * kMillisecond);
    ASSERT_EQ(resent.size(), 10u + 1);
    const auto ops = decode_ipv4(ByteView{resent.back()});
    ASSERT_TRUE(ops && ops->tcp);
    EXPECT_EQ(identify_os_probe(*ops, ByteView{resent.back()}), OsProbeId::seq3);  // SEQ3's options and window
    EXPECT_EQ(ops->tcp->sport, Port{40008});
    EXPECT_EQ(ops->tcp->dport, Port{22});
    EXPECT_EQ(ops->tcp->seq, attempt->round()[OsProbeId::seq1].sent->seq);  // nmap's tcpSeqBase
    EXPECT_FALSE(attempt->on_reply(tcp_reply_to(40000 + 13, 22), bytes, 1051 * kMillisecond));  // no T1 resend went
    EXPECT_TRUE(attempt->on_reply(tcp_reply_to(40008, 22), bytes, 1052 * kMillisecond));
    EXPECT_FALSE(attempt->on_reply(tcp_reply_to(40008, 22), bytes, 1053 * kMillisecond));  // the first only
    EXPECT_TRUE(attempt->round().ops_resend_replies[2]);
    EXPECT_FALSE(attempt->round()[OsProbeId::seq3].reply);  // never a SEQ sample
    EXPECT_EQ(attempt->due(1350 * kMillisecond).size(), 10u);  // the others again, not OPS3's resend
    EXPECT_EQ(attempt->due(1650 * kMillisecond).size(), 10u);
    EXPECT_EQ(attempt->due(1950 * kMillisecond).size(), 0u);  // four sends each
    EXPECT_FALSE(attempt->finished(1949 * kMillisecond));
    EXPECT_TRUE(attempt->finished(1950 * kMillisecond));
}

TEST(OsTry, MatchesATcpReplyByPortsAndKeepsTheFirst) {
    auto attempt = OsTry::create(plan());
    ASSERT_TRUE(attempt);
    attempt->due(0);
    attempt->due(800 * kMillisecond);
    DecodedPacket reply;
    reply.ip.src = kTarget;
    reply.ip.dst = kUs;
    reply.ip.protocol = ipproto::tcp;
    TcpHeader tcp;
    tcp.sport = Port{1};
    tcp.dport = Port{40000 + 17};  // T5's port
    reply.tcp = tcp;
    const std::vector<std::uint8_t> bytes(40, 0);
    EXPECT_TRUE(attempt->on_reply(reply, bytes, 801 * kMillisecond));
    EXPECT_FALSE(attempt->on_reply(reply, bytes, 802 * kMillisecond));  // a second reply
    EXPECT_TRUE(attempt->round()[OsProbeId::t5].reply);
    reply.tcp->sport = Port{22};  // T6's port of ours, from the wrong port of theirs
    reply.tcp->dport = Port{40000 + 18};
    EXPECT_FALSE(attempt->on_reply(reply, bytes, 803 * kMillisecond));
    EXPECT_EQ(attempt->answered(), 1);
}

TEST(OsTry, TriesAgainAsNmapDoes) {
    OsMatches none;
    EXPECT_TRUE(os_try_again(none, 1, 5, false));
    EXPECT_FALSE(os_try_again(none, 2, 5, false));  // not ideal: STANDARD_OS2_TRIES
    EXPECT_TRUE(os_try_again(none, 4, 5, true));
    EXPECT_FALSE(os_try_again(none, 5, 5, true));
    OsMatches perfect;
    perfect.perfect = 1;
    EXPECT_FALSE(os_try_again(perfect, 1, 5, true));
}

}  // namespace

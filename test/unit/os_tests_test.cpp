// OS detection: nmap's probes as data and each fingerprint test's value from hand-built reply packets.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "flagscan/net/checksum.hpp"
#include "flagscan/os/os_tests.hpp"

namespace {

using namespace flagscan;
using Bytes = std::vector<std::uint8_t>;

const Ipv4 kUs{0x0a4d1b01}, kTarget{0x0a4d1b02};

void put16(Bytes& b, std::size_t at, std::uint16_t v) {
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}
void put32(Bytes& b, std::size_t at, std::uint32_t v) {
    put16(b, at, static_cast<std::uint16_t>(v >> 16));
    put16(b, at + 2, static_cast<std::uint16_t>(v));
}

struct IpFields {
    std::uint8_t ttl = 64;
    std::uint16_t id = 0;
    bool df = false;
    std::uint8_t tos = 0;
    Ipv4 src = kTarget, dst = kUs;
};

// An IPv4 packet with a correct header checksum around `payload`.
Bytes ipv4(std::uint8_t protocol, const IpFields& f, const Bytes& payload) {
    Bytes p(20);
    p[0] = 0x45;
    p[1] = f.tos;
    put16(p, 2, static_cast<std::uint16_t>(20 + payload.size()));
    put16(p, 4, f.id);
    put16(p, 6, f.df ? 0x4000 : 0);
    p[8] = f.ttl;
    p[9] = protocol;
    put32(p, 12, f.src.value());
    put32(p, 16, f.dst.value());
    put16(p, 10, ipv4_header_checksum(p));
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

struct TcpFields {
    std::uint16_t sport = 22, dport = 40000;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = TcpFlags::syn | TcpFlags::ack;
    std::uint16_t window = 64240, urgent = 0;
    std::uint8_t reserved = 0;
    Bytes options, data;
};

Bytes tcp(const TcpFields& f) {
    Bytes t(20);
    put16(t, 0, f.sport);
    put16(t, 2, f.dport);
    put32(t, 4, f.seq);
    put32(t, 8, f.ack);
    t[12] = static_cast<std::uint8_t>(((20 + f.options.size()) / 4) << 4 | f.reserved);
    t[13] = f.flags;
    put16(t, 14, f.window);
    put16(t, 18, f.urgent);
    t.insert(t.end(), f.options.begin(), f.options.end());
    t.insert(t.end(), f.data.begin(), f.data.end());
    return t;
}

OsReply reply(Micros at, Bytes packet) {
    auto decoded = decode_ipv4(ByteView{packet});
    EXPECT_TRUE(decoded);
    return OsReply{at, decoded.value_or(DecodedPacket{}), std::move(packet)};
}

OsReply tcp_reply(const TcpFields& t, const IpFields& ip = {}, Micros at = 0) {
    return reply(at, ipv4(ipproto::tcp, ip, tcp(t)));
}

// Linux's SYN-ACK options: M5B4 S T11 N W7.
Bytes linux_options(std::uint32_t tsval = 1000) {
    Bytes o{0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x01, 0x03, 0x03, 0x07};
    put32(o, 8, tsval);
    return o;
}

std::string test_str(const std::optional<FingerprintTest>& t) { return t ? t->str() : "(none)"; }

// ---- OsProbes ----

TEST(OsProbesTable, SixSeqSynsHundredMillisecondsApartWithNmapsWindowsAndOptions) {
    const std::uint16_t windows[] = {1, 63, 4, 4, 16, 512};
    const char* options[] = {"WANM5B4T10S", "M578W0ST10L", "T10NNW5NM280", "ST10WAL", "M218ST10WAL", "M109ST10"};
    for (int i = 0; i < 6; ++i) {
        const auto& p = os_probe(static_cast<OsProbeId>(i));
        EXPECT_EQ(p.name, "SEQ" + std::to_string(i + 1));
        EXPECT_EQ(p.protocol, ipproto::tcp);
        EXPECT_EQ(p.target, OsTarget::open_tcp);
        EXPECT_EQ(p.tcp.flags, TcpFlags{TcpFlags::syn});
        EXPECT_EQ(p.tcp.window, windows[i]);
        EXPECT_EQ(p.tcp.seq_offset, i);
        EXPECT_EQ(p.send_offset, i * 100000);
        EXPECT_FALSE(p.dont_fragment);
        EXPECT_EQ(tcp_option_string(ByteView{p.tcp.options}), options[i]) << p.name;
    }
}

TEST(OsProbesTable, EchoesUdpAndEcn) {
    const auto& ie1 = os_probe(OsProbeId::ie1);
    EXPECT_TRUE(ie1.dont_fragment);
    EXPECT_EQ(ie1.tos, 0);
    EXPECT_EQ(ie1.icmp.code, 9);
    EXPECT_EQ(ie1.icmp.seq, 295);
    EXPECT_EQ(ie1.icmp.data_length, 120);
    const auto& ie2 = os_probe(OsProbeId::ie2);
    EXPECT_FALSE(ie2.dont_fragment);
    EXPECT_EQ(ie2.tos, 0x04);
    EXPECT_EQ(ie2.icmp.code, 0);
    EXPECT_EQ(ie2.icmp.id_offset, 1);
    EXPECT_EQ(ie2.icmp.seq, 296);
    EXPECT_EQ(ie2.icmp.data_length, 150);
    const auto& u1 = os_probe(OsProbeId::u1);
    EXPECT_EQ(u1.target, OsTarget::closed_udp);
    EXPECT_EQ(u1.ip_id, 0x1042);
    EXPECT_EQ(u1.udp.fill, 'C');
    EXPECT_EQ(u1.udp.data_length, 300);
    const auto& ecn = os_probe(OsProbeId::ecn);
    EXPECT_EQ(ecn.tcp.flags, TcpFlags{TcpFlags::cwr | TcpFlags::ece | TcpFlags::syn});
    EXPECT_EQ(ecn.tcp.urgent, 63477);
    EXPECT_EQ(ecn.tcp.reserved, 0x8);
    EXPECT_EQ(ecn.tcp.window, 3);
    EXPECT_FALSE(ecn.tcp.carries_ack);
    EXPECT_EQ(tcp_option_string(ByteView{ecn.tcp.options}), "WANM5B4SNN");
}

TEST(OsProbesTable, T2ToT7FlagsWindowsDfAndPorts) {
    struct Want {
        OsProbeId id;
        std::uint8_t flags;
        std::uint16_t window;
        bool df;
        OsTarget target;
        const char* options;
    };
    const Want want[] = {
        {OsProbeId::t2, 0, 128, true, OsTarget::open_tcp, "WANM109T10S"},
        {OsProbeId::t3, TcpFlags::syn | TcpFlags::fin | TcpFlags::urg | TcpFlags::psh, 256, false, OsTarget::open_tcp, "WANM109T10S"},
        {OsProbeId::t4, TcpFlags::ack, 1024, true, OsTarget::open_tcp, "WANM109T10S"},
        {OsProbeId::t5, TcpFlags::syn, 31337, false, OsTarget::closed_tcp, "WANM109T10S"},
        {OsProbeId::t6, TcpFlags::ack, 32768, true, OsTarget::closed_tcp, "WANM109T10S"},
        {OsProbeId::t7, TcpFlags::fin | TcpFlags::psh | TcpFlags::urg, 65535, false, OsTarget::closed_tcp, "WFNM109T10S"},
    };
    for (const auto& w : want) {
        const auto& p = os_probe(w.id);
        EXPECT_EQ(p.tcp.flags, TcpFlags{w.flags}) << p.name;
        EXPECT_EQ(p.tcp.window, w.window) << p.name;
        EXPECT_EQ(p.dont_fragment, w.df) << p.name;
        EXPECT_EQ(p.target, w.target) << p.name;
        EXPECT_EQ(tcp_option_string(ByteView{p.tcp.options}), w.options) << p.name;
    }
}

// A probe built from the table's fields, as a sender would.
Bytes build_probe(const OsProbe& p) {
    IpFields ip{55, p.ip_id.value_or(1234), p.dont_fragment, p.tos, kUs, kTarget};
    if (p.protocol == ipproto::tcp) {
        TcpFields t{40000, 22, 77, p.tcp.carries_ack ? 99u : 0u, p.tcp.flags.bits(), p.tcp.window, p.tcp.urgent, p.tcp.reserved,
                    Bytes(p.tcp.options.begin(), p.tcp.options.end()), {}};
        return ipv4(ipproto::tcp, ip, tcp(t));
    }
    if (p.protocol == ipproto::icmp) {
        Bytes m(8 + p.icmp.data_length, 0);
        m[0] = icmp_type::echo;
        m[1] = p.icmp.code;
        put16(m, 6, p.icmp.seq);
        return ipv4(ipproto::icmp, ip, m);
    }
    Bytes u(8 + p.udp.data_length, p.udp.fill);
    put16(u, 0, 40000);
    put16(u, 2, 33333);
    put16(u, 4, static_cast<std::uint16_t>(u.size()));
    put16(u, 6, 0);
    return ipv4(ipproto::udp, ip, u);
}

TEST(OsProbesIdentify, EveryProbeIsKnownByItsSignatureAndAPortScanSynIsNot) {
    for (const auto& p : os_probes()) {
        const Bytes bytes = build_probe(p);
        auto d = decode_ipv4(ByteView{bytes});
        ASSERT_TRUE(d) << p.name;
        EXPECT_EQ(identify_os_probe(*d, ByteView{bytes}), p.id) << p.name;
    }
    const Bytes syn = ipv4(ipproto::tcp, {55, 1, false, 0, kUs, kTarget},
                           tcp({40000, 22, 1, 0, TcpFlags::syn, 1024, 0, 0, {0x02, 0x04, 0x05, 0xb4}, {}}));
    EXPECT_EQ(identify_os_probe(*decode_ipv4(ByteView{syn}), ByteView{syn}), std::nullopt);
    // IE1's signature without DF is no probe of nmap's.
    auto ie1 = os_probe(OsProbeId::ie1);
    ie1.dont_fragment = false;
    const Bytes odd = build_probe(ie1);
    EXPECT_EQ(identify_os_probe(*decode_ipv4(ByteView{odd}), ByteView{odd}), std::nullopt);
}

// ---- building blocks ----

TEST(OsTestsOptions, EveryKindEncodedAsNmap) {
    const Bytes all{0x02, 0x04, 0x05, 0xb4,                          // M5B4
                    0x04, 0x02,                                      // S
                    0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0,              // T10
                    0x01,                                            // N
                    0x03, 0x03, 0x07,                                // W7
                    0x1e, 0x04, 0xaa, 0xbb,                          // kind 30: not in the string
                    0x08, 0x0a, 0, 0, 0, 0, 0, 0, 0, 9,              // T01
                    0x00, 0x00};                                     // LL (EOL does not stop)
    EXPECT_EQ(tcp_option_string(ByteView{all}), "M5B4ST10NW7T01LL");
    EXPECT_EQ(tcp_option_string(ByteView{Bytes{0x08, 0x0a, 1, 0, 0, 0, 0, 0, 0, 1}}), "T11");
    EXPECT_EQ(tcp_option_string(ByteView{Bytes{}}), "");
}

TEST(OsTestsOptions, MalformedGivesEmpty) {
    EXPECT_EQ(tcp_option_string(ByteView{Bytes{0x01, 0x02, 0x04, 0x05}}), "");        // MSS cut short
    EXPECT_EQ(tcp_option_string(ByteView{Bytes{0x01, 0x02, 0x03, 0x05, 0xb4}}), "");  // MSS of length 3
    EXPECT_EQ(tcp_option_string(ByteView{Bytes{0x1e, 0x01, 0x01, 0x01}}), "");        // length below 2
    EXPECT_EQ(tcp_option_string(ByteView{Bytes{0x01, 0x03}}), "");                    // no length byte
}

TEST(OsTestsIpIds, EveryClassAndItsValue) {
    auto cls = [](std::vector<std::uint16_t> ids) { return classify_ip_ids(ids); };
    EXPECT_EQ(cls({0, 0, 0, 0, 0, 0}), IpIdClass::zero);
    EXPECT_EQ(cls({5, 5, 5}), IpIdClass::constant);
    EXPECT_EQ(cls({100, 101, 103, 104}), IpIdClass::incremental);
    EXPECT_EQ(cls({100, 102, 104}), IpIdClass::incremental_by_2);
    EXPECT_EQ(cls({256, 512, 1024}), IpIdClass::broken_incremental);  // little-endian counter seen big-endian
    EXPECT_EQ(cls({100, 2100, 5000}), IpIdClass::random_positive);
    EXPECT_EQ(cls({100, 40000, 3}), IpIdClass::random);
    EXPECT_EQ(cls({500, 400, 600}), IpIdClass::random);  // a step back is a 32-bit jump (nmap)
    EXPECT_EQ(cls({500, 400}), IpIdClass::random_positive);  // two samples: no RD, the 16-bit step
    EXPECT_EQ(cls({1, 20, 40}), IpIdClass::unknown);
    EXPECT_EQ(cls({7}), IpIdClass::unknown);
    EXPECT_EQ(ip_id_value(IpIdClass::zero, 0), "Z");
    EXPECT_EQ(ip_id_value(IpIdClass::constant, 0x1234), "1234");
    EXPECT_EQ(ip_id_value(IpIdClass::incremental, 1), "I");
    EXPECT_EQ(ip_id_value(IpIdClass::incremental_by_2, 1), "I");
    EXPECT_EQ(ip_id_value(IpIdClass::broken_incremental, 1), "BI");
    EXPECT_EQ(ip_id_value(IpIdClass::random_positive, 1), "RI");
    EXPECT_EQ(ip_id_value(IpIdClass::random, 1), "RD");
    EXPECT_EQ(ip_id_value(IpIdClass::unknown, 1), std::nullopt);
    EXPECT_STREQ(ip_id_text(IpIdClass::zero), "All zeros");
    EXPECT_STREQ(ip_id_text(IpIdClass::incremental), "Incremental");
    EXPECT_STREQ(ip_id_text(IpIdClass::random), "Randomized");
}

TEST(OsTestsTtl, GuessRoundsUp) {
    EXPECT_EQ(initial_ttl_guess(1), 32);
    EXPECT_EQ(initial_ttl_guess(32), 32);
    EXPECT_EQ(initial_ttl_guess(33), 64);
    EXPECT_EQ(initial_ttl_guess(64), 64);
    EXPECT_EQ(initial_ttl_guess(65), 128);
    EXPECT_EQ(initial_ttl_guess(128), 128);
    EXPECT_EQ(initial_ttl_guess(129), 255);
    EXPECT_EQ(initial_ttl_guess(255), 255);
}

TEST(OsTestsMisc, Crc32HexAndDifficulty) {
    const std::string check = "123456789";
    EXPECT_EQ(crc32(std::span(reinterpret_cast<const std::uint8_t*>(check.data()), check.size())), 0xCBF43926u);
    EXPECT_EQ(hex(0xfaf0), "FAF0");
    EXPECT_EQ(hex(0), "0");
    EXPECT_STREQ(sequence_difficulty_text(2), "Trivial joke");
    EXPECT_STREQ(sequence_difficulty_text(5), "Easy");
    EXPECT_STREQ(sequence_difficulty_text(10), "Medium");
    EXPECT_STREQ(sequence_difficulty_text(11), "Formidable");
    EXPECT_STREQ(sequence_difficulty_text(15), "Worthy challenge");
    EXPECT_STREQ(sequence_difficulty_text(16), "Good luck!");
}

// ---- SEQ ----

// A round whose six SEQ probes went out 100 ms apart and got SYN-ACKs with these ISNs, IP ids
// and timestamps (none when tsvals is empty).
OsRound seq_round(std::vector<std::uint32_t> isns, std::vector<std::uint16_t> ids, std::vector<std::uint32_t> tsvals) {
    OsRound round;
    round.open_tcp_known = true;
    for (std::size_t i = 0; i < isns.size(); ++i) {
        const auto id = static_cast<OsProbeId>(i);
        const Micros at = static_cast<Micros>(i) * 100000;
        round[id].sent = OsSent{at, 1000 + static_cast<std::uint32_t>(i), 5000, 50, 0, 0, false};
        TcpFields t;
        t.seq = isns[i];
        t.ack = 1001 + static_cast<std::uint32_t>(i);
        t.options = tsvals.empty() ? Bytes{0x02, 0x04, 0x05, 0xb4} : linux_options(tsvals[i]);
        IpFields ip;
        ip.id = ids.empty() ? 0 : ids[i];
        ip.df = true;
        round[id].reply = tcp_reply(t, ip, at + 50);
    }
    return round;
}

TEST(OsTestsSeq, GcdRateAndDeviationOfIsnSteps) {
    // Steps of exactly 64000 every 100 ms: GCD FA00, rate 640000/s (ISR = 8 log2 = 154 = 9A), no
    // deviation (SP 0), and a 100 Hz timestamp (TS 7, uptime tsval/100).
    std::vector<std::uint32_t> isns, ts;
    for (std::uint32_t i = 0; i < 6; ++i) isns.push_back(1000000 + 64000 * i), ts.push_back(500000 + 10 * i);
    const auto round = seq_round(isns, {}, ts);
    const auto t = seq_test(round);
    EXPECT_EQ(t.str(), "SEQ(SP=0%GCD=FA00%ISR=9A%TI=Z%TS=7)");
    const auto a = analyse_seq(round);
    EXPECT_EQ(a.responses, 6);
    EXPECT_EQ(a.uptime, 5000);
    EXPECT_EQ(sequence_prediction_text(a), "Difficulty=0 (Trivial joke)");
}

TEST(OsTestsSeq, RandomIsnsAndTheirDeviation) {
    const auto t = seq_test(seq_round({0x5A63A956, 0xFF419644, 0x201B8D81, 0x09C39D1F, 0x94A288E4, 0x3DE2BD6C}, {}, {}));
    EXPECT_EQ(*t.find("GCD"), "1");
    EXPECT_GE(std::stoul(*t.find("SP"), nullptr, 16), 0xF0u);
    EXPECT_EQ(*t.find("TS"), "U");  // no timestamp option
}

TEST(OsTestsSeq, ConstantIsnAndTooFewReplies) {
    EXPECT_EQ(seq_test(seq_round({7, 7, 7, 7, 7, 7}, {}, {})).str(), "SEQ(SP=0%GCD=0%ISR=0%TI=Z%TS=U)");
    // Three replies: no SP/GCD/ISR (nmap needs 4); TI from three ids.
    auto t = seq_test(seq_round({10, 20, 30}, {1, 2, 3}, {1, 2, 3}));
    EXPECT_EQ(t.find("SP"), nullptr);
    EXPECT_EQ(*t.find("TI"), "I");
    EXPECT_EQ(*t.find("TS"), "3");  // 10 Hz: log2 3.3, rounded
}

TEST(OsTestsSeq, ZeroTimestampAndThousandHertz) {
    EXPECT_EQ(*seq_test(seq_round({1, 2, 3, 4}, {}, {0, 0, 0, 0})).find("TS"), "0");
    EXPECT_EQ(*seq_test(seq_round({1, 2, 3, 4}, {}, {1000, 1100, 1200, 1300})).find("TS"), "A");
}

TEST(OsTestsSeq, SharedIpIdSequence) {
    // TI incremental 100..105; II: the echo replies' ids continue it (S) or not (O).
    for (auto [first_icmp, want] : {std::pair{106, "S"}, std::pair{30000, "O"}}) {
        auto round = seq_round({1, 2, 3, 4, 5, 6}, {100, 101, 102, 103, 104, 105}, {});
        Bytes echo(8 + 120, 0);
        round[OsProbeId::ie1].sent = OsSent{};
        round[OsProbeId::ie2].sent = OsSent{};
        round[OsProbeId::ie1].reply = reply(1, ipv4(ipproto::icmp, {64, static_cast<std::uint16_t>(first_icmp)}, echo));
        round[OsProbeId::ie2].reply = reply(2, ipv4(ipproto::icmp, {64, static_cast<std::uint16_t>(first_icmp + 1)}, echo));
        const auto t = seq_test(round);
        EXPECT_EQ(*t.find("TI"), "I");
        ASSERT_TRUE(t.find("SS"));
        EXPECT_EQ(*t.find("SS"), want);
    }
}

TEST(OsTestsSeq, DuplicateIpIdIsDroppedAsNmapDoes) {
    // A nonzero IP id equal to the previous SEQ reply's is taken for a duplicate: 5 replies count.
    const auto a = analyse_seq(seq_round({1, 2, 3, 4, 5, 6}, {9, 9, 10, 11, 12, 13}, {}));
    EXPECT_EQ(a.responses, 5);
}

// ---- OPS, WIN, ECN, T1-T7 ----

TEST(OsTestsOpsWin, AllSixRepliesOrNothing) {
    auto round = seq_round({1, 2, 3, 4, 5, 6}, {}, {1, 2, 3, 4, 5, 6});
    EXPECT_EQ(test_str(ops_test(round)), "OPS(O1=M5B4ST11NW7%O2=M5B4ST11NW7%O3=M5B4ST11NW7%O4=M5B4ST11NW7%O5=M5B4ST11NW7%O6=M5B4ST11NW7)");
    EXPECT_EQ(test_str(win_test(round)), "WIN(W1=FAF0%W2=FAF0%W3=FAF0%W4=FAF0%W5=FAF0%W6=FAF0)");
    round[OsProbeId::seq4].reply.reset();
    EXPECT_EQ(ops_test(round), std::nullopt);
    round.ops_resend_replies[3] = tcp_reply({22, 40009, 1, 1, TcpFlags::syn | TcpFlags::ack, 1024, 0, 0, {}, {}});
    EXPECT_EQ(*ops_test(round)->find("O4"), "");
    EXPECT_EQ(*win_test(round)->find("W4"), "400");
}

TEST(OsTestsEcn, CongestionControlAndQuirks) {
    struct Case {
        std::uint8_t flags;
        const char* cc;
    };
    for (auto c : {Case{TcpFlags::syn | TcpFlags::ack | TcpFlags::ece, "Y"}, Case{TcpFlags::syn | TcpFlags::ack, "N"},
                   Case{TcpFlags::syn | TcpFlags::ack | TcpFlags::ece | TcpFlags::cwr, "S"},
                   Case{TcpFlags::syn | TcpFlags::ack | TcpFlags::cwr, "O"}}) {
        OsRound round;
        round[OsProbeId::ecn].sent = OsSent{};
        round[OsProbeId::ecn].reply = tcp_reply({22, 40012, 1, 0, c.flags, 64240, 0, 0, {0x02, 0x04, 0x05, 0xb4}, {}}, {64, 0, true});
        EXPECT_EQ(test_str(ecn_test(round)), std::string("ECN(R=Y%DF=Y%T=40%W=FAF0%O=M5B4%CC=") + c.cc + "%Q=)");
    }
    OsRound round;
    round[OsProbeId::ecn].reply = tcp_reply({22, 40012, 1, 0, TcpFlags::syn | TcpFlags::ack, 0, 7, 0x2, {}, {}});
    EXPECT_EQ(*ecn_test(round)->find("Q"), "RU");
}

TEST(OsTestsT, SeqAckFlagsAndResetData) {
    OsRound round;
    round.open_tcp_known = round.closed_tcp_known = true;
    // T5: RST+ACK, seq 0, ack = our seq + 1.
    round[OsProbeId::t5].sent = OsSent{0, 7000, 9000, 0, 0, 0, false};
    round[OsProbeId::t5].reply = tcp_reply({1, 40017, 0, 7001, TcpFlags::rst | TcpFlags::ack, 0, 0, 0, {}, {}}, {64, 0, true});
    EXPECT_EQ(test_str(t_test(round, 5)), "T5(R=Y%DF=Y%T=40%W=0%S=Z%A=S+%F=AR%O=%RD=0%Q=)");
    // T6: RST with seq = our ack, ack 0; T7: seq = our ack + 1, ack = our seq, a RST carrying text.
    round[OsProbeId::t6].sent = OsSent{0, 7000, 9000, 0, 0, 0, false};
    round[OsProbeId::t6].reply = tcp_reply({1, 40018, 9000, 0, TcpFlags::rst, 0, 0, 0, {}, {}});
    EXPECT_EQ(test_str(t_test(round, 6)), "T6(R=Y%DF=N%T=40%W=0%S=A%A=Z%F=R%O=%RD=0%Q=)");
    const std::string why = "no listener";
    round[OsProbeId::t7].sent = OsSent{0, 7000, 9000, 0, 0, 0, false};
    round[OsProbeId::t7].reply = tcp_reply({1, 40019, 9001, 7000, TcpFlags::rst, 0, 0, 0, {}, Bytes(why.begin(), why.end())});
    const auto crc = crc32(std::span(reinterpret_cast<const std::uint8_t*>(why.data()), why.size()));
    EXPECT_EQ(test_str(t_test(round, 7)), "T7(R=Y%DF=N%T=40%W=0%S=A+%A=S%F=R%O=%RD=" + hex(crc) + "%Q=)");
    // Other numbers: O; every flag in nmap's order E U A P R S F.
    round[OsProbeId::t4].sent = OsSent{0, 7000, 9000, 0, 0, 0, false};
    round[OsProbeId::t4].reply = tcp_reply({22, 40016, 5, 6, 0xff & ~TcpFlags::cwr, 0, 0, 0, {}, {}});
    EXPECT_EQ(*t_test(round, 4)->find("S"), "O");
    EXPECT_EQ(*t_test(round, 4)->find("A"), "O");
    EXPECT_EQ(*t_test(round, 4)->find("F"), "EUAPRSF");
}

TEST(OsTestsT, T1IsSeq1sReplyWithoutWindowOrOptions) {
    auto round = seq_round({1, 2, 3, 4, 5, 6}, {}, {1, 2, 3, 4, 5, 6});
    EXPECT_EQ(test_str(t_test(round, 1)), "T1(R=Y%DF=Y%T=40%S=O%A=S+%F=AS%RD=0%Q=)");
}

// Every SEQ probe lost: nmap resends SEQ1's packet as T1 (same sequence and ack numbers), and T1
// reads its reply.
TEST(OsTestsT, T1FromItsResendWhenSeq1WentUnanswered) {
    auto round = seq_round({1, 2, 3, 4, 5, 6}, {}, {1, 2, 3, 4, 5, 6});
    const OsReply answer = *round[OsProbeId::seq1].reply;
    for (std::size_t i = 0; i < kOsSeqProbes; ++i) round.probes[i].reply.reset();
    EXPECT_EQ(t_test(round, 1), std::nullopt);
    round.t1_resend_reply = answer;
    EXPECT_EQ(test_str(t_test(round, 1)), "T1(R=Y%DF=Y%T=40%S=O%A=S+%F=AS%RD=0%Q=)");
}

// ---- U1, IE ----

constexpr std::uint16_t kUdpSum = 0xbeef;

// The U1 probe as sent (IP id 0x1042, TTL `ttl`, 300 x 'C'), and the port unreachable quoting it.
Bytes u1_probe(std::uint8_t ttl) {
    Bytes u(308, 'C');
    put16(u, 0, 40000);
    put16(u, 2, 33333);
    put16(u, 4, 308);
    put16(u, 6, kUdpSum);
    return ipv4(ipproto::udp, {ttl, 0x1042, false, 0, kUs, kTarget}, u);
}
Bytes unreachable(const Bytes& quoted, std::uint32_t unused = 0) {
    Bytes m(8);
    m[0] = icmp_type::unreachable;
    m[1] = 3;
    put32(m, 4, unused);
    m.insert(m.end(), quoted.begin(), quoted.end());
    put16(m, 2, checksum_finish(checksum_add(m)));
    return ipv4(ipproto::icmp, {64, 0, false, 0xc0}, m);
}
OsRound u1_round(const Bytes& quoted, std::uint8_t sent_ttl = 59) {
    OsRound round;
    round[OsProbeId::u1].sent = OsSent{0, 0, 0, sent_ttl, 0x1042, kUdpSum, false};
    round[OsProbeId::u1].reply = reply(10, unreachable(quoted));
    return round;
}

TEST(OsTestsU1, IntactQuoteIsAllGood) {
    const auto round = u1_round(u1_probe(59));
    EXPECT_EQ(test_str(u1_test(round)), "U1(R=Y%DF=N%T=40%IPL=164%UN=0%RIPL=G%RID=G%RIPCK=G%RUCK=G%RUD=G)");
    EXPECT_EQ(u1_distance(round), 1);
}

TEST(OsTestsU1, ChangedQuotes) {
    Bytes q = u1_probe(59);
    put16(q, 2, 0x0148 + 0x100);  // length changed (the header checksum no longer holds)
    put16(q, 4, 0x4210);          // id changed
    auto t = u1_test(u1_round(q));
    EXPECT_EQ(*t->find("RIPL"), "248");
    EXPECT_EQ(*t->find("RID"), "4210");
    EXPECT_EQ(*t->find("RIPCK"), "I");
    q = u1_probe(59);
    put16(q, 10, 0);  // checksum zeroed
    put16(q, 26, 0x1234);  // UDP checksum changed
    q[100] = 'X';          // payload changed
    t = u1_test(u1_round(q));
    EXPECT_EQ(*t->find("RIPCK"), "Z");
    EXPECT_EQ(*t->find("RUCK"), "1234");
    EXPECT_EQ(*t->find("RUD"), "I");
    // A quote cut after the UDP header: no data to differ (nmap: RUD=G); UN as carried.
    const Bytes whole = u1_probe(59);
    const Bytes cut(whole.begin(), whole.begin() + 28);
    OsRound round;
    round[OsProbeId::u1].sent = OsSent{0, 0, 0, 59, 0x1042, kUdpSum, false};
    round[OsProbeId::u1].reply = reply(10, unreachable(cut, 0x00000101));
    t = u1_test(round);
    EXPECT_EQ(*t->find("RUD"), "G");
    EXPECT_EQ(*t->find("UN"), "101");
    EXPECT_EQ(*t->find("IPL"), "38");
}

IcmpHeader* echo_into(OsRound& round, OsProbeId id, Micros at, bool df, std::uint8_t code, std::uint8_t ttl) {
    Bytes m(8 + 120, 0);
    m[0] = icmp_type::echo_reply;
    m[1] = code;
    round[id].sent = OsSent{};
    round[id].reply = reply(at, ipv4(ipproto::icmp, {ttl, 1, df}, m));
    return &*round[id].reply->decoded.icmp;
}

TEST(OsTestsIe, DontFragmentAndCodeCases) {
    struct Case {
        bool df1, df2;
        std::uint8_t c1, c2;
        const char* want;
    };
    for (auto c : {Case{false, false, 9, 0, "IE(R=Y%DFI=N%T=3F%CD=S)"}, Case{true, true, 0, 0, "IE(R=Y%DFI=Y%T=3F%CD=Z)"},
                   Case{true, false, 9, 9, "IE(R=Y%DFI=S%T=3F%CD=9)"}, Case{false, true, 0, 9, "IE(R=Y%DFI=O%T=3F%CD=O)"}}) {
        OsRound round;
        echo_into(round, OsProbeId::ie1, 1, c.df1, c.c1, 64);
        echo_into(round, OsProbeId::ie2, 2, c.df2, c.c2, 63);  // the later reply's TTL
        EXPECT_EQ(test_str(ie_test(round)), c.want);
    }
    OsRound one;
    echo_into(one, OsProbeId::ie1, 1, false, 0, 64);
    EXPECT_EQ(ie_test(one), std::nullopt);
}

// ---- the round's fingerprint ----

TEST(OsTestsRound, NoReplyIsRNAndTtlIsExactWithU1) {
    auto round = u1_round(u1_probe(59), 60);  // quoted TTL 59 of 60 sent: 2 hops
    round.open_tcp_known = true;
    round.closed_tcp_known = true;
    round[OsProbeId::t5].sent = OsSent{};
    round[OsProbeId::t5].reply = tcp_reply({1, 40017, 0, 1, TcpFlags::rst | TcpFlags::ack, 0, 0, 0, {}, {}}, {63});
    const auto fp = round_fingerprint(round);
    EXPECT_EQ(fp.find("T5")->str(), "T5(R=Y%DF=N%T=40%W=0%S=Z%A=S+%F=AR%O=%RD=0%Q=)");  // 63 + 2 - 1
    EXPECT_EQ(fp.find("U1")->find("T")->c_str(), std::string("41"));                       // 64 + 2 - 1
    for (const char* name : {"ECN", "T1", "T2", "T3", "T4", "T6", "T7", "IE"}) EXPECT_EQ(fp.find(name)->str(), std::string(name) + "(R=N)");
    EXPECT_EQ(fp.find("OPS"), nullptr);
    EXPECT_EQ(fp.find("WIN"), nullptr);
    EXPECT_EQ(fp.find("SEQ")->str(), "SEQ()");
}

TEST(OsTestsRound, WithoutU1TheTtlIsGuessedAsTG) {
    OsRound round;
    round.closed_tcp_known = true;  // no open port: ECN and T1-T4 are left out
    round[OsProbeId::t5].sent = OsSent{};
    round[OsProbeId::t5].reply = tcp_reply({1, 40017, 0, 1, TcpFlags::rst | TcpFlags::ack, 0, 0, 0, {}, {}}, {118});
    const auto fp = round_fingerprint(round);
    EXPECT_EQ(fp.find("T5")->str(), "T5(R=Y%DF=N%TG=80%W=0%S=Z%A=S+%F=AR%O=%RD=0%Q=)");
    EXPECT_EQ(fp.find("ECN"), nullptr);
    EXPECT_EQ(fp.find("T1"), nullptr);
    EXPECT_EQ(fp.find("U1")->str(), "U1(R=N)");
}

TEST(OsTestsMerge, DistinctTestsInNmapsOrder) {
    Fingerprint a, b;
    a.tests = {{"SEQ", {{"SP", "105"}, {"TS", "21"}}}, {"T2", {{"R", "N"}}}};
    b.tests = {{"SEQ", {{"SP", "FF"}, {"TS", "21"}}}, {"T2", {{"R", "N"}}}};
    const std::vector<Fingerprint> tries{a, b, a};
    const auto merged = merge_fingerprints({"SCAN", {{"V", "x"}}}, tries);
    EXPECT_EQ(merged.str(), "SCAN(V=x)\nSEQ(SP=105%TS=21)\nSEQ(SP=FF%TS=21)\nT2(R=N)\n");
}

TEST(OsTestsScan, NmapsScanLine) {
    OsScanFacts f;
    f.version = "7.93";
    f.month = 12;
    f.day = 3;
    f.open_tcp = 22;
    f.closed_tcp = 1;
    f.private_address = true;
    f.good = true;
    f.time = 0x6B10EEDF;
    f.platform = "x86_64-pc-linux-gnu";
    EXPECT_EQ(scan_test(f).str(), "SCAN(V=7.93%E=4%D=12/3%OT=22%CT=1%CU=%PV=Y%G=Y%TM=6B10EEDF%P=x86_64-pc-linux-gnu)");
    f.distance = 3;
    f.distance_method = 'I';
    f.mac_prefix = std::array<std::uint8_t, 3>{0x0a, 0x60, 0x58};
    EXPECT_EQ(scan_test(f).str(),
              "SCAN(V=7.93%E=4%D=12/3%OT=22%CT=1%CU=%PV=Y%DS=3%DC=I%G=Y%M=0A6058%TM=6B10EEDF%P=x86_64-pc-linux-gnu)");
}

}  // namespace

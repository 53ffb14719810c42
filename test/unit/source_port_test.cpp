// A fixed source port (-g): every TCP and UDP probe leaves from it, replies still name their
// lane and try (through the cookie field), strays are still refused, and scans stay exact.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "flagscan/cli/options.hpp"
#include "flagscan/output/explain.hpp"
#include "sim_scan.hpp"

namespace flagscan {
namespace {

using testing::kScanner;
using testing::one_host;
using testing::port_range;
using testing::SimScan;

const Ipv4 kTarget{10, 77, 0, 2};
const Port kFixed{53};
const CookieKey kKey{5, 6};
constexpr std::uint8_t kTries = 3;

// Three lanes, as a discovery or a -sS -sU scan has: SYN, ACK (whose RST echoes the probe's
// ack, not its seq) and UDP.
std::vector<const ProbeKind*> three_lanes() { return {&syn_kind(), probe_kind_by_letter('A'), &udp_kind()}; }

ScannerIdentity fixed_identity(Port fixed = kFixed) {
    ScannerIdentity me{kScanner, Port{40000}, kTries, 3};
    me.fixed_sport = fixed;
    return me;
}

// A probe as the engine makes it: the lane-and-try port, then stamped.
Probe stamped(const Correlator& correlator, std::uint8_t lane, std::uint8_t try_no, Port dport = Port{80}) {
    Probe probe;
    probe.sport = fixed_identity().port_for(lane, try_no);
    probe.src = kScanner;
    probe.dst = kTarget;
    probe.dport = dport;
    probe.lane = lane;
    probe.try_no = try_no;
    correlator.stamp(probe);
    return probe;
}

// The packet bytes the probe goes out as.
std::vector<std::uint8_t> bytes_of(const ProbeKind& kind, const Probe& probe) {
    auto builder = ProbeBuilder::create(kind, ProbeShape{});
    std::vector<std::uint8_t> bytes(builder->size());
    builder->build(probe, bytes);
    return bytes;
}

// What a Linux target answers: SYN,ACK to the SYN (RFC 793: ack = seq + 1), RST <SEQ=SEG.ACK>
// to the ACK probe, an ICMP port unreachable quoting the UDP probe (RFC 792).
std::vector<std::uint8_t> reply_to(const Probe& probe, std::uint8_t lane) {
    if (lane == 0)
        return make_tcp_packet(kTarget, kScanner, probe.dport, probe.sport, 7, probe.seq + 1,
                               TcpFlags{TcpFlags::syn | TcpFlags::ack}, 512, 64);
    if (lane == 1)
        return make_tcp_packet(kTarget, kScanner, probe.dport, probe.sport, probe.ack, 0, TcpFlags{TcpFlags::rst}, 0, 64);
    return make_icmp_error(kTarget, 3, 3, bytes_of(udp_kind(), probe), 64);
}

std::optional<Answer> identify(const Correlator& correlator, const std::vector<std::uint8_t>& packet) {
    return correlator.identify(*decode_ipv4(ByteView{packet}));
}

TEST(SourcePort, EveryLaneAndTryLeavesFromTheFixedPortAndComesBackNamed) {
    const Correlator correlator{fixed_identity(), kKey, three_lanes()};
    std::set<std::uint32_t> seqs;
    std::set<std::uint16_t> udp_ids;
    for (std::uint8_t lane = 0; lane < 3; ++lane) {
        for (std::uint8_t try_no = 0; try_no < kTries; ++try_no) {
            const Probe probe = stamped(correlator, lane, try_no);
            EXPECT_EQ(probe.sport, kFixed);
            if (lane < 2) seqs.insert(probe.seq);
            if (lane == 2) {
                udp_ids.insert(probe.ip_id);
                EXPECT_NE(probe.ip_id, 0) << "the kernel would overwrite a zero IP id";
            }
            const auto answer = identify(correlator, reply_to(probe, lane));
            ASSERT_TRUE(answer) << "lane " << int{lane} << " try " << int{try_no};
            EXPECT_EQ(answer->lane, lane);
            EXPECT_EQ(answer->try_no, try_no);
            EXPECT_EQ(answer->port, Port{80});
            EXPECT_EQ(answer->target, kTarget);
        }
    }
    EXPECT_EQ(seqs.size(), 6u);  // every TCP lane and try carries its own sequence number
    EXPECT_EQ(udp_ids.size(), 3u);
}

TEST(SourcePort, RepliesWhoseEchoNamesNoProbeOfOursAreRefused) {
    const Correlator correlator{fixed_identity(), kKey, three_lanes()};
    const Probe syn = stamped(correlator, 0, 0);
    const auto synack = [&](std::uint32_t ack, Port to) {
        return make_tcp_packet(kTarget, kScanner, Port{80}, to, 7, ack, TcpFlags{TcpFlags::syn | TcpFlags::ack}, 512, 64);
    };
    ASSERT_TRUE(identify(correlator, synack(syn.seq + 1, kFixed)));
    // A number past the last lane and try, one below the cookie, one between two tries: refused.
    const std::uint32_t stride = fixed_identity().seq_stride();
    EXPECT_FALSE(identify(correlator, synack(syn.seq + 1 + 3 * kTries * stride, kFixed)));
    EXPECT_FALSE(identify(correlator, synack(syn.seq, kFixed)));
    EXPECT_FALSE(identify(correlator, synack(syn.seq + 2, kFixed)));
    EXPECT_FALSE(identify(correlator, synack(syn.seq + 1 + stride / 2, kFixed)));
    // A number that names the ACK lane is that lane's, never the SYN lane's.
    const Probe ack_lane = stamped(correlator, 1, 0);
    const auto answer = identify(correlator, synack(ack_lane.seq + 1, kFixed));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->lane, 1);
    // The right echo to another port, or from another target port.
    EXPECT_FALSE(identify(correlator, synack(syn.seq + 1, Port{54})));
    EXPECT_FALSE(identify(correlator, synack(syn.seq + 1, Port{40000})));
    const auto other_port = make_tcp_packet(kTarget, kScanner, Port{81}, kFixed, 7, syn.seq + 1,
                                            TcpFlags{TcpFlags::syn | TcpFlags::ack}, 512, 64);
    EXPECT_FALSE(identify(correlator, other_port));
    // A UDP probe's ICMP error whose quoted IP id is off by the lanes' whole span.
    Probe udp = stamped(correlator, 2, 0);
    udp.ip_id = udp_ip_id(kKey(kScanner, kTarget, Port{80}, kFixed), 3 * kTries);
    EXPECT_FALSE(identify(correlator, reply_to(udp, 2)));
}

// Every try shares one 4-tuple: a retry's SYN must fall outside the window (at most 2^16 without
// window scaling) of the half-open connection an earlier try left behind, or the target answers
// it with a RST that reads as a closed port (RFC 793 p.71). Checked for the spans a scan can
// have, up to 8 lanes of 51 tries.
TEST(SourcePort, TheTriesOfOnePortStandOutsideEachOthersWindow) {
    for (const std::uint8_t tries : {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{11}, std::uint8_t{51}}) {
        for (const std::uint8_t lanes : {std::uint8_t{1}, std::uint8_t{3}, std::uint8_t{8}}) {
            ScannerIdentity me{kScanner, Port{40000}, tries, lanes};
            me.fixed_sport = kFixed;
            const Correlator correlator{me, kKey, std::vector<const ProbeKind*>(lanes, &syn_kind())};
            std::vector<std::uint32_t> seqs;
            for (std::uint8_t lane = 0; lane < lanes; ++lane) {
                for (std::uint8_t try_no = 0; try_no < tries; ++try_no) {
                    Probe probe;
                    probe.src = kScanner, probe.dst = kTarget, probe.dport = Port{80};
                    probe.lane = lane, probe.try_no = try_no;
                    correlator.stamp(probe);
                    for (const std::uint32_t earlier : seqs) {
                        const std::uint32_t ahead = probe.seq - (earlier + 1);  // past the earlier SYN
                        EXPECT_GE(ahead, 65536u) << int{tries} << " tries, " << int{lanes} << " lanes";
                    }
                    seqs.push_back(probe.seq);
                    const auto synack = make_tcp_packet(kTarget, kScanner, Port{80}, kFixed, 7, probe.seq + 1,
                                                        TcpFlags{TcpFlags::syn | TcpFlags::ack}, 512, 64);
                    const auto answer = identify(correlator, synack);
                    ASSERT_TRUE(answer);
                    EXPECT_EQ(answer->lane, lane);
                    EXPECT_EQ(answer->try_no, try_no);
                }
            }
        }
    }
}

// A UDP datagram echoes nothing: it answers the UDP lane, and names no try (the engine takes
// it as the latest, like an ARP reply).
TEST(SourcePort, AUdpReplyNamesItsLaneButNoTry) {
    const Correlator correlator{fixed_identity(), kKey, three_lanes()};
    const std::uint8_t payload[] = {1};
    const auto datagram = make_udp_packet(kTarget, kScanner, Port{53}, kFixed, payload, 64);
    const auto answer = identify(correlator, datagram);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->lane, 2);
    EXPECT_EQ(answer->try_no, Answer::kUnknownTry);
    EXPECT_FALSE(identify(correlator, make_udp_packet(kTarget, kScanner, Port{53}, Port{40000}, payload, 64)));
}

// ICMP queries keep the identifier scheme: -g is about ports, as in nmap.
TEST(SourcePort, IcmpQueriesKeepTheirIdentifiers) {
    ScannerIdentity me = fixed_identity();
    const Correlator correlator{me, kKey, {&syn_kind(), &ping_echo_kind()}};
    const Probe echo = stamped(correlator, 1, 2, Port{});
    EXPECT_EQ(echo.sport, me.port_for(1, 2));
    EXPECT_EQ(me.sport_for(1, 2, ipproto::icmp), me.port_for(1, 2));
    EXPECT_EQ(me.sport_for(0, 2, ipproto::tcp), kFixed);
    const std::uint8_t data[] = {0};
    const auto reply = make_icmp_query(kTarget, kScanner, icmp_type::echo_reply, echo.sport.value(),
                                       static_cast<std::uint16_t>(echo.seq), data, 64);
    const auto answer = identify(correlator, reply);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->lane, 1);
    EXPECT_EQ(answer->try_no, 2);
}

TEST(SourcePort, UdpIpIdCarriesTheNumberAndIsNeverZero) {
    for (const std::uint32_t cookie : {0u, 0x0000ffffu, 0x00010000u, 0xfffe0000u, 0xffff0000u, 0xffffffffu, 0x12345678u}) {
        const std::uint32_t top = cookie >> 16;
        EXPECT_EQ(udp_ip_id(cookie, 0), top != 0 ? top : 65535u) << "offset 0: the cookie's top half";
        for (std::uint32_t offset = 0; offset < 500; ++offset) {
            const std::uint16_t id = udp_ip_id(cookie, offset);
            EXPECT_NE(id, 0);
            EXPECT_EQ(udp_id_offset(cookie, id), offset) << std::hex << cookie << " " << std::dec << offset;
        }
    }
}

TEST(SourcePort, PortSixtyFiveThousandFiveHundredThirtyFiveIsKept) {
    const Correlator correlator{fixed_identity(Port{65535}), kKey, three_lanes()};
    const Probe probe = stamped(correlator, 2, kTries - 1);
    EXPECT_EQ(probe.sport, Port{65535});
    const auto answer = identify(correlator, reply_to(probe, 2));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->try_no, kTries - 1);
}

TEST(SourcePort, OptionsKeepTheGivenPort) {
    for (const char* given : {"53", "20", "1", "65535"}) {
        std::vector<const char*> argv{"flagscan", "-g", given, "-n", "10.0.0.1"};
        const auto line = parse_command_line(static_cast<int>(argv.size()), argv.data());
        ASSERT_TRUE(line) << line.error();
        ASSERT_TRUE(line->config.source_port);
        EXPECT_EQ(line->config.source_port->value(), std::stoi(given));
    }
    std::vector<const char*> zero{"flagscan", "--source-port", "0", "10.0.0.1"};
    EXPECT_FALSE(parse_command_line(static_cast<int>(zero.size()), zero.data()));
}

// Replays match on what the capture shows: with one source port for every try (nmap's way,
// ours with -g), an answer to an earlier try is still found by its echo.
TEST(SourcePort, ReplayMatchesAnEarlierTryFromTheSamePort) {
    ScannerIdentity me{kScanner, Port{0}, 255};
    Correlator correlator{me, CookieKey{0, 0}, {&syn_kind()}, EchoCheck::recorded};
    for (std::uint8_t try_no = 0; try_no < 2; ++try_no) {
        Probe probe;
        probe.src = kScanner;
        probe.dst = kTarget;
        probe.dport = Port{80};
        probe.sport = Port{61000};
        probe.seq = 1000u + 100u * try_no;
        probe.try_no = try_no;
        correlator.record(probe, 10 * (try_no + 1), 1 * kSecond);
    }
    const auto reply = [&](std::uint32_t ack) {
        return make_tcp_packet(kTarget, kScanner, Port{80}, Port{61000}, 7, ack, TcpFlags{TcpFlags::rst | TcpFlags::ack}, 0, 64);
    };
    ASSERT_TRUE(identify(correlator, reply(1001)));
    EXPECT_EQ(identify(correlator, reply(1001))->try_no, 0);
    EXPECT_EQ(identify(correlator, reply(1101))->try_no, 1);
    EXPECT_FALSE(identify(correlator, reply(1201)));
}

// ---- the engine, with a fixed source port -----------------------------------------------

SimHost lab_host() {
    SimHost host;
    host.open = {22, 80, 443, 3306, 8080, 31337, 60000};
    host.rejected = {113, 1003, 8443};
    host.dropped = {135, 445, 1007, 50000};
    host.open_udp = {53, 123, 161};
    host.rejected_udp = {1004};
    host.dropped_udp = {69, 514};
    return host;
}

PortState expected_tcp(const SimHost& host, std::uint16_t port) {
    if (host.dropped.contains(port) || host.rejected.contains(port)) return PortState::filtered;
    return host.open.contains(port) ? PortState::open : PortState::closed;
}

PortState expected_udp(const SimHost& host, std::uint16_t port) {
    if (host.dropped_udp.contains(port)) return PortState::open_filtered;
    if (host.rejected_udp.contains(port)) return PortState::filtered;
    return host.open_udp.contains(port) ? PortState::open : PortState::closed;
}

// Every TCP (lane 0) and UDP (lane 1) port against the host; returns the wrong verdicts.
int count_wrong(const SimScan& scan, const SimHost& host) {
    int wrong = 0;
    for (const Slot& slot : scan.targets.slots()) {
        const auto port = slot.port.value();
        const PortState want = slot.lane == 0 ? expected_tcp(host, port) : expected_udp(host, port);
        const PortState got = scan.at(kTarget, port, slot.lane).state;
        if (got == want) continue;
        ADD_FAILURE() << port << (slot.lane == 0 ? "/tcp" : "/udp") << " is " << to_string(got);
        ++wrong;
    }
    return wrong;
}

// Counts the probes sent and those not from the fixed port, through the packet-trace hook.
struct SourcePorts {
    std::uint64_t probes = 0;
    std::uint64_t elsewhere = 0;
};

LoopHooks watch(SourcePorts& seen) {
    LoopHooks hooks;
    hooks.sent = [&seen](const Probe& probe, std::span<const std::uint8_t>, Micros) {
        ++seen.probes;
        seen.elsewhere += probe.sport == kFixed ? 0 : 1;
    };
    return hooks;
}

TEST(SourcePort, SynScanFromPort53IsExact) {
    SimConfig net;
    net.hosts[kTarget] = lab_host();
    SimScan scan{one_host(kTarget), port_range(1, 65535), net};
    scan.config.me.fixed_sport = kFixed;
    SourcePorts seen;
    scan.run(watch(seen));
    EXPECT_EQ(count_wrong(scan, net.hosts[kTarget]), 0);
    EXPECT_EQ(scan.at(kTarget, 22).reason, Reason::syn_ack);
    EXPECT_EQ(scan.at(kTarget, 113).reason, Reason::admin_prohibited);
    EXPECT_GE(seen.probes, 65535u);
    EXPECT_EQ(seen.elsewhere, 0u);
}

TEST(SourcePort, SynAndUdpFromPort53WithLossAreExact) {
    SimConfig net;
    net.loss = 0.05;
    net.hosts[kTarget] = lab_host();
    std::vector<Slot> slots;
    for (std::uint16_t p = 1; p <= 1100; ++p) slots.push_back(Slot{Port{p}, 0});
    for (std::uint16_t p = 1; p <= 1100; ++p) slots.push_back(Slot{Port{p}, 1});
    SimScan scan{one_host(kTarget), slots, {&syn_kind(), &udp_kind()}, net};
    scan.config.me.fixed_sport = kFixed;
    SourcePorts seen;
    scan.run(watch(seen));
    EXPECT_EQ(count_wrong(scan, net.hosts[kTarget]), 0);
    EXPECT_GT(scan.engine->stats().retransmitted, 0u);
    EXPECT_EQ(seen.elsewhere, 0u);
}

// Sends until the engine has sent try 1 of the one port; returns both tries' probes.
std::vector<Probe> first_two_tries(SimScan& scan) {
    std::vector<Probe> sent;
    std::array<Probe, 4> probes;
    for (int step = 0; step < 2000 && sent.size() < 2; ++step) {
        scan.clock.advance(10 * kMillisecond);
        const auto n = scan.engine->poll_sends(scan.clock.now(), probes);
        sent.insert(sent.end(), probes.begin(), probes.begin() + static_cast<std::ptrdiff_t>(n));
    }
    return sent;
}

void start(SimScan& scan) {
    scan.config.me.fixed_sport = kFixed;
    scan.results = std::make_unique<Results>(scan.targets, scan.kinds);
    scan.engine = std::make_unique<Engine>(scan.targets, scan.config, CookieKey{11, 22}, *scan.results);
}

// With one port for every try, the try is in the sequence number: a SYN,ACK to try 0 that
// arrives after try 1 went out still counts, as try 0's answer.
TEST(SourcePort, ALateAnswerToAnEarlierTryCounts) {
    SimScan scan{one_host(kTarget), port_range(80, 80), SimConfig{}};
    start(scan);
    const auto sent = first_two_tries(scan);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].sport, kFixed);
    EXPECT_EQ(sent[1].sport, kFixed);
    EXPECT_EQ(sent[1].try_no, 1);
    EXPECT_NE(sent[0].seq, sent[1].seq);
    const auto late = make_tcp_packet(kTarget, kScanner, Port{80}, kFixed, 7, sent[0].seq + 1,
                                      TcpFlags{TcpFlags::syn | TcpFlags::ack}, 512, 64);
    scan.engine->on_packet(*decode_ipv4(ByteView{late}), scan.clock.now());
    EXPECT_EQ(scan.at(kTarget, 80).state, PortState::open);
    EXPECT_EQ(scan.at(kTarget, 80).answered_try, 0);
    EXPECT_EQ(scan.at(kTarget, 80).tries, 2);
}

// The same for UDP: an ICMP error quoting try 0's IP id names try 0.
TEST(SourcePort, ALateIcmpErrorToAnEarlierUdpTryCounts) {
    SimScan scan{one_host(kTarget), {Slot{Port{1005}, 0}}, {&udp_kind()}, SimConfig{}};
    start(scan);
    const auto sent = first_two_tries(scan);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_NE(sent[0].ip_id, sent[1].ip_id);
    const auto error = make_icmp_error(kTarget, 3, 3, bytes_of(udp_kind(), sent[0]), 64);
    scan.engine->on_packet(*decode_ipv4(ByteView{error}), scan.clock.now());
    EXPECT_EQ(scan.at(kTarget, 1005, 0).state, PortState::closed);
    EXPECT_EQ(scan.at(kTarget, 1005, 0).answered_try, 0);
}

TEST(SourcePort, ExplainNamesTheFixedPort) {
    SimConfig net;
    net.hosts[kTarget] = lab_host();
    SimScan scan{one_host(kTarget), {Port{22}, Port{135}}, net};
    scan.config.me.fixed_sport = kFixed;
    scan.evidence = true;
    scan.run();
    std::ostringstream out;
    ReportOptions options;
    options.all_ports = true;
    write_explanations(out, *scan.results, options, ExplainContext{});
    std::string text;  // wrapped lines joined again, so phrases can be searched for whole
    for (char c : out.str()) {
        if (c == '\n') c = ' ';
        if (c == ' ' && !text.empty() && text.back() == ' ') continue;
        text += c;
    }
    EXPECT_NE(text.find("from source port 53."), std::string::npos) << text;  // 22: answered
    EXPECT_NE(text.find("from source port 53;"), std::string::npos) << text;  // 135: silent
    EXPECT_EQ(text.find("4000"), std::string::npos) << text;
}

}  // namespace
}  // namespace flagscan

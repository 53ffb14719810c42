// Teaching output: rule tables, per-port narratives with their caveats, packet trace lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "flagscan/engine/rtt.hpp"
#include "flagscan/output/explain.hpp"
#include "flagscan/output/packet_trace.hpp"
#include "sim_scan.hpp"

namespace flagscan {
namespace {

using testing::kScanner;
using testing::one_host;
using testing::SimScan;

const Ipv4 kTarget{10, 77, 0, 2};

// A FIN scan of ports 20-25 (22 open, 24 dropped) against a Linux or a Windows-like stack;
// returns the --explain text.
std::string explain_fin_scan(bool windows_like) {
    SimConfig net;
    SimHost host;
    host.open = {22};
    host.dropped = {24};
    host.windows_like = windows_like;
    net.hosts[kTarget] = host;
    SimScan scan{one_host(kTarget), testing::port_range(20, 55), net, *probe_kind_by_letter('F')};
    scan.evidence = true;
    scan.run();
    std::ostringstream out;
    write_explanations(out, *scan.results, ReportOptions{}, ExplainContext{});
    std::string text;  // wrapped lines joined again, so phrases can be searched for whole
    for (char c : out.str()) {
        if (c == '\n' || (c == ' ' && !text.empty() && text.back() == ' ')) c = ' ';
        if (c == ' ' && !text.empty() && text.back() == ' ') continue;
        text += c;
    }
    return text;
}

TEST(Explain, LinuxFinScanNarratesSilenceAndCarriesTheCaveat) {
    const std::string text = explain_fin_scan(false);
    EXPECT_NE(text.find("22/tcp is open|filtered"), std::string::npos) << text;
    EXPECT_NE(text.find("Back: nothing."), std::string::npos) << text;
    // The tries' own ports and waits: three from the lane's ports, each after the host's timeout
    // (the simulated path is fast and steady: the timeout is the floor that follows the path,
    // RttEstimator::floor), the last one waited out too.
    EXPECT_NE(text.find("3 tries from source ports 40000 (the first) to 40002 (the last)"), std::string::npos) << text;
    SimScan shape{one_host(kTarget), {Port{1}}, SimConfig{}, *probe_kind_by_letter('F')};
    const Timing& timing = shape.config.timing;
    const double floor_ms =
        1.0 * std::clamp(RttEstimator::kFloorRtts * 2 * SimConfig{}.latency, timing.near_min_rto, timing.min_rto) / kMillisecond;
    char waited[128];
    std::snprintf(waited, sizeof waited, "spread them over %.2f ms (%.2f ms apart on average); after the last one flagscan waited %.2f ms",
                  2.0 * floor_ms, floor_ms, floor_ms);
    EXPECT_NE(text.find(waited), std::string::npos) << waited << "\n" << text;
    EXPECT_NE(text.find("cannot tell open from filtered"), std::string::npos) << text;
    EXPECT_NE(text.find("Windows"), std::string::npos) << text;  // the caveat names the stacks that break it
    EXPECT_NE(text.find("RFC 793 p.65-66"), std::string::npos) << text;
    EXPECT_NE(text.find("a sample of the 34 closed ports"), std::string::npos) << text;
}

TEST(Explain, WindowsLikeStackSaysClosedEverywhereAndTheCaveatSaysWhy) {
    const std::string text = explain_fin_scan(true);
    EXPECT_EQ(text.find("22/tcp is open|filtered"), std::string::npos) << text;  // the open port looks closed
    EXPECT_NE(text.find("Back: RST,ACK from 10.77.0.2:"), std::string::npos) << text;
    EXPECT_NE(text.find("says closed everywhere"), std::string::npos) << text;
}

// Issue 11 item 10: a folded group's sample has the group's evidence. Thirty silent SYN ports,
// two of which also drew an ICMP 3/4 from a router that no row reads: each kind of evidence
// gets its own sample, with how many ports it stands for.
TEST(Explain, FoldedGroupSamplesEachKindOfEvidence) {
    const TargetSet targets{one_host(kTarget), testing::port_range(1, 30)};
    Results results{targets, {&syn_kind()}, true};
    PortResult silent;
    silent.state = PortState::filtered;
    silent.reason = Reason::no_response;
    silent.tries = 1;
    silent.rule = 4;
    for (std::uint64_t i = 0; i < 30; ++i) results.set(i, silent);
    PortEvidence mtu;
    mtu.unused = Unused::unmatched;
    mtu.unused_protocol = ipproto::icmp;
    mtu.unused_detail = icmp_type::unreachable;
    mtu.unused_code = 4;
    mtu.reply_from = Ipv4{198, 51, 100, 254};
    for (std::uint64_t i : {0u, 17u}) results.note_unused(i, mtu);
    std::ostringstream out;
    write_explanations(out, results, ReportOptions{}, ExplainContext{.replay = true});
    const std::string text = out.str();
    EXPECT_NE(text.find("  2/tcp is filtered (a sample of the 30 filtered ports not listed with reason no-response; 28 of "
                        "them, this one included, were decided on this evidence)\n    Sent:   SYN probe, 1 try"),
              std::string::npos) << text;
    EXPECT_NE(text.find("  1/tcp is filtered (a sample of the 30 filtered ports not listed with reason no-response; 2 of "
                        "them, this one included, were decided on this evidence)\n"),
              std::string::npos) << text;
    const auto one = text.find("  1/tcp is filtered"), two = text.find("  2/tcp is filtered");
    EXPECT_NE(text.find("Back:   nothing.", two), std::string::npos) << text;
    EXPECT_LT(text.find("from 198.51.100.254, a router, not the target", one), two) << text;
    EXPECT_EQ(text.find("18/tcp is"), std::string::npos) << "one sample per kind of evidence\n" << text;
}

// A port without evidence (the scan kept none, or the port was restored by --resume) is told
// with what its verdict holds: the same words, no source ports and no invented waits.
TEST(Explain, APortWithoutEvidenceIsToldWithoutNumbers) {
    const TargetSet targets{one_host(kTarget), {Port{22}, Port{23}}};
    Results results{targets, {&syn_kind()}, true};
    PortResult open;
    open.state = PortState::open;
    open.reason = Reason::syn_ack;
    open.ttl = 64;
    open.tries = 2;
    open.answered_try = 1;
    open.rule = 0;
    open.reply_kind = ReplyEvidence::Kind::tcp;
    open.reply_flags = TcpFlags{TcpFlags::syn | TcpFlags::ack}.bits();
    open.reply_window = 29200;
    results.set(0, open);
    PortResult silent;
    silent.state = PortState::filtered;
    silent.reason = Reason::no_response;
    silent.tries = 2;
    silent.rule = 4;
    results.set(1, silent);
    ReportOptions options;
    options.all_ports = true;
    std::ostringstream live, replay;
    write_explanations(live, results, options, ExplainContext{});
    write_explanations(replay, results, options, ExplainContext{.replay = true});
    EXPECT_NE(live.str().find("Sent:   SYN probe, try 2 of 2.\n    Back:   SYN,ACK from 10.77.0.2:22, ttl 64, window 29200.\n"),
              std::string::npos) << live.str();
    EXPECT_NE(live.str().find("Sent:   SYN probe, 2 tries; after the last one flagscan waited out this host's\n"),
              std::string::npos) << live.str();
    EXPECT_NE(replay.str().find("Sent:   SYN probe, 2 tries; the capture shows no answer that decides after the last one.\n"),
              std::string::npos) << replay.str();
    for (const std::string& text : {live.str(), replay.str()}) {
        EXPECT_EQ(text.find(" ms"), std::string::npos) << text;
        EXPECT_EQ(text.find("source port"), std::string::npos) << text;
    }
}

// A live scan that keeps no evidence (no --explain) explains the same way: the engine noted nothing.
TEST(Explain, AScanWithoutEvidenceNotesNothing) {
    SimConfig net;
    SimHost host;
    host.dropped = {24};
    net.hosts[kTarget] = host;
    SimScan scan{one_host(kTarget), {Port{24}}, net};
    scan.run();
    ASSERT_FALSE(scan.results->keeps_evidence());
    EXPECT_FALSE(scan.results->evidence(0).tries_known);
    std::ostringstream out;
    write_explanations(out, *scan.results, ReportOptions{}, ExplainContext{});
    EXPECT_NE(out.str().find("Sent:   SYN probe, 3 tries; after the last one flagscan waited out this host's\n"), std::string::npos)
        << out.str();
    EXPECT_EQ(out.str().find(" ms"), std::string::npos) << out.str();
}

TEST(Explain, RuleTablesNameEveryRowAndItsBasis) {
    for (const auto& kind : all_probe_kinds()) {
        std::ostringstream out;
        write_rule_table(out, kind);
        const std::string text = out.str();
        for (std::size_t i = 0; i < kind.rules.size(); ++i) {
            EXPECT_NE(text.find(std::to_string(i + 1) + ". " + describe_rule(kind.rules[i]).substr(0, 20)), std::string::npos)
                << kind.name << " row " << i << "\n" << text;
        }
        EXPECT_NE(text.find("Caveat: "), std::string::npos);
        EXPECT_NE(text.find(std::string(kind.nmap_flag)), std::string::npos);
    }
}

TEST(PacketTrace, SentAndReceivedLines) {
    auto probe = make_tcp_packet(kScanner, kTarget, Port{61232}, Port{22}, 1000, 0, TcpFlags{TcpFlags::fin}, 1024, 64);
    EXPECT_EQ(trace_sent(*decode_ipv4(ByteView{probe})), "SENT  10.77.0.1:61232 > 10.77.0.2:22 FIN seq=1000 ttl=64");
    auto rst = make_tcp_packet(kTarget, kScanner, Port{22}, Port{61232}, 0, 1001, TcpFlags{TcpFlags::rst | TcpFlags::ack}, 0, 64);
    EXPECT_EQ(trace_received(*decode_ipv4(ByteView{rst}), PacketOutcome{PacketOutcome::Kind::answer, 50}),
              "RCVD  10.77.0.2:22 > 10.77.0.1:61232 RST,ACK ack=1001 ttl=64 win=0 (0.05 ms)");
    auto icmp = make_icmp_error(kTarget, 3, 13, probe, 63);
    EXPECT_EQ(trace_received(*decode_ipv4(ByteView{icmp}), PacketOutcome{PacketOutcome::Kind::stray, -1}),
              "RCVD  10.77.0.2 > 10.77.0.1 ICMP 3/13 admin-prohibited about 10.77.0.1:61232 > 10.77.0.2:22 ttl=63 "
              "[stray: not an answer to this scan]");
}

TEST(ScanFlags, CustomFlagsReadLikeTheirBase) {
    SimConfig net;
    SimHost host;
    host.open = {22};
    net.hosts[kTarget] = host;
    const ProbeKind synfin = custom_flags_kind(TcpFlags{TcpFlags::syn | TcpFlags::fin}, syn_kind());
    SimScan scan{one_host(kTarget), {Port{22}, Port{23}}, net, synfin};
    scan.run();
    EXPECT_EQ(scan.at(kTarget, 22).state, PortState::open);  // the simulated stack answers SYN+FIN like SYN
    EXPECT_EQ(scan.at(kTarget, 23).state, PortState::closed);
}

TEST(Explain, DiscoveryRowsSpeakOfTheHost) {
    std::ostringstream out;
    write_rule_table(out, ping_echo_kind());
    const std::string text = out.str();
    EXPECT_NE(text.find("ICMP echo discovery (-PE)"), std::string::npos) << text;
    EXPECT_NE(text.find("ICMP echo reply back -> host up (echo-reply)"), std::string::npos) << text;
    EXPECT_NE(text.find("-> host not seen (no-response)"), std::string::npos) << text;
    EXPECT_NE(text.find("says nothing about the host"), std::string::npos) << text;
    for (const auto& kind : all_ping_kinds()) EXPECT_FALSE(kind.rules.empty()) << kind.name;
}

}  // namespace
}  // namespace flagscan

// Replay: verdicts re-derived from captured frames, captures of other tools, bad files.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "flagscan/capture/pcap_file.hpp"
#include "flagscan/engine/replay.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/os/os_scan.hpp"
#include "flagscan/wire/sim_network.hpp"

namespace flagscan {
namespace {

const Ipv4 kScanner{10, 77, 0, 1};
const Ipv4 kTarget{10, 77, 0, 2};

struct Capture {
    std::vector<Frame> frames;
    Micros now = 1'700'000'000'000'000;

    void add(const std::vector<std::uint8_t>& packet, Micros after = 100) {
        now += after;
        frames.emplace_back().assign(packet, now);
    }
    void probe(std::uint16_t port, std::uint32_t seq, std::uint16_t sport = 50000, std::uint8_t flags = TcpFlags::syn) {
        add(make_tcp_packet(kScanner, kTarget, Port{sport}, Port{port}, seq, 0, TcpFlags{flags}, 1024, 64));
    }
    void reply(std::uint16_t port, std::uint32_t ack, std::uint8_t flags, std::uint16_t sport = 50000) {
        add(make_tcp_packet(kTarget, kScanner, Port{port}, Port{sport}, 7, ack, TcpFlags{flags}, 0, 64));
    }
};

struct Replayed {
    ScanSurvey::Conclusion survey;
    ScanRun scan;
    std::unique_ptr<TargetSet> targets;
    std::unique_ptr<Results> results;
    std::unique_ptr<Engine> engine;
    ReplayCounts counts;

    PortResult at(std::uint16_t port) const {
        return results->port(targets->index_of(0, 0, Port{port}).value());
    }
};

// The command's passes over CAPTURE: conversations, the scans, then the engine over run RUN.
ScanSurvey::Conclusion survey(const Capture& capture, const ScanSurvey::Choice& choice, Conversations& conversations) {
    for (std::size_t i = 0; i < capture.frames.size(); ++i) {
        const auto& frame = capture.frames[i];
        conversations.add(*decode_ipv4(ByteView{frame.span()}), i, ByteView{frame.span()});
    }
    ScanSurvey scans;
    for (std::size_t i = 0; i < capture.frames.size(); ++i) {
        const auto packet = *decode_ipv4(ByteView{capture.frames[i].span()});
        scans.add(packet, conversations.classify(packet, i), i);
    }
    return scans.conclude(choice).value();
}

Replayed replay(const Capture& capture, const ProbeKind* kind = nullptr, std::size_t run = 0) {
    Conversations conversations;
    Replayed out;
    out.survey = survey(capture, ScanSurvey::Choice{std::nullopt, kind, false}, conversations);
    out.scan = out.survey.runs.at(run);
    out.targets = std::make_unique<TargetSet>(out.scan.targets());
    std::vector<const ProbeKind*> kinds;
    for (const auto& k : out.scan.kinds) kinds.push_back(&k);
    out.results = std::make_unique<Results>(*out.targets, kinds);
    EngineConfig config;
    config.me = ScannerIdentity{out.survey.scanner, Port{0}, 255};
    config.echo = EchoCheck::recorded;
    out.engine = std::make_unique<Engine>(*out.targets, config, CookieKey{0, 0}, *out.results);
    std::size_t next = 0;
    out.counts = replay_capture(*out.engine, LinkType::raw_ip, [&]() -> std::optional<Frame> {
        if (next == capture.frames.size()) return std::nullopt;
        return capture.frames[next++];
    }, conversations, out.scan, out.survey.scanner);
    return out;
}

TEST(Replay, ForeignSynScanIsReadLikeALiveOne) {
    Capture c;  // sequence numbers that are no cookie of ours, one source port, as nmap sends
    c.probe(22, 1000);
    c.probe(23, 2000);
    c.probe(113, 3000);
    c.probe(135, 4000);
    c.reply(22, 1001, TcpFlags::syn | TcpFlags::ack);
    c.reply(23, 2001, TcpFlags::rst | TcpFlags::ack);
    auto quoted = make_tcp_packet(kScanner, kTarget, Port{50000}, Port{113}, 3000, 0, TcpFlags{TcpFlags::syn}, 1024, 64);
    c.add(make_icmp_error(kTarget, 3, 13, quoted, 64));
    const auto r = replay(c);
    EXPECT_EQ(r.survey.scanner, kScanner);
    EXPECT_EQ(r.scan.name(), "SYN");
    EXPECT_EQ(r.at(22).state, PortState::open);
    EXPECT_EQ(r.at(23).state, PortState::closed);
    EXPECT_EQ(r.at(113).reason, Reason::admin_prohibited);
    EXPECT_EQ(r.at(135).state, PortState::filtered);
    EXPECT_EQ(r.at(135).reason, Reason::no_response);
    EXPECT_EQ(r.at(22).rtt_us, 400u);  // timestamps of the capture are the clock
}

TEST(Replay, RetransmissionsAreTriesAndALateReplyStillCounts) {
    Capture c;
    c.probe(80, 100, 50000);
    c.probe(80, 200, 50001, TcpFlags::syn);  // the second try, from the next port
    c.probe(81, 300, 50000);
    c.probe(81, 400, 50001);
    c.reply(80, 201, TcpFlags::rst | TcpFlags::ack, 50001);   // answers try 2
    c.reply(81, 101 + 200, TcpFlags::rst | TcpFlags::ack, 50000);  // answers try 1 of port 81, late
    const auto r = replay(c);
    EXPECT_EQ(r.at(80).tries, 2);
    EXPECT_EQ(r.at(80).answered_try, 1);
    EXPECT_EQ(r.at(81).state, PortState::closed);
    EXPECT_EQ(r.at(81).answered_try, 0);
    EXPECT_EQ(r.engine->stats().retransmitted, 2u);
}

TEST(Replay, DuplicateRepliesCountOnceAndForgedOnesNotAtAll) {
    Capture c;
    c.probe(22, 1000);
    c.reply(22, 1001, TcpFlags::syn | TcpFlags::ack);
    c.reply(22, 1001, TcpFlags::syn | TcpFlags::ack);  // the target retransmits its SYN,ACK
    c.probe(23, 2000);
    c.reply(23, 9999, TcpFlags::rst | TcpFlags::ack);  // acknowledges nothing we sent
    const auto r = replay(c);
    EXPECT_EQ(r.at(22).state, PortState::open);
    EXPECT_EQ(r.engine->stats().duplicates, 1u);
    EXPECT_EQ(r.engine->stats().strays, 1u);
    EXPECT_EQ(r.at(23).state, PortState::filtered);
}

TEST(Replay, AReplyFiledBeforeItsProbeStillCounts) {
    Capture c;  // tcpdump -i any on several cores can file them in this order
    c.probe(22, 1000);
    c.reply(23, 2001, TcpFlags::rst | TcpFlags::ack);
    c.probe(23, 2000);
    c.reply(22, 1001, TcpFlags::syn | TcpFlags::ack);
    const auto r = replay(c);
    EXPECT_EQ(r.at(23).state, PortState::closed);
    EXPECT_EQ(r.at(23).reason, Reason::reset);
    EXPECT_EQ(r.at(22).state, PortState::open);
}

TEST(Replay, SurveyInfersTheScanType) {
    for (const auto& kind : all_probe_kinds()) {
        Capture c;
        c.probe(22, 1000, 50000, kind.flags.bits());
        c.probe(23, 2000, 50000, kind.flags.bits());
        const auto r = replay(c);
        const std::string_view expected = kind.name == "Window" ? "ACK" : kind.name;  // the same probe
        EXPECT_EQ(r.scan.name(), expected);
    }
}

TEST(Replay, GivenKindOverridesInference) {
    Capture c;
    c.probe(22, 1000, 50000, TcpFlags::ack);
    c.add(make_tcp_packet(kTarget, kScanner, Port{22}, Port{50000}, 0, 0, TcpFlags{TcpFlags::rst}, 512, 64));
    // RST <SEQ=SEG.ACK> with a non-zero window: an ACK scan reads it as unfiltered, a Window
    // scan (same probe, so only the user can say which was meant) as open.
    EXPECT_EQ(replay(c).at(22).state, PortState::unfiltered);
    EXPECT_EQ(replay(c, probe_kind_by_letter('W')).at(22).state, PortState::open);
}

TEST(Replay, MalformedFramesAreSkippedAndCounted) {
    Capture c;
    c.probe(22, 1000);
    auto bad = make_tcp_packet(kTarget, kScanner, Port{22}, Port{50000}, 7, 1001, TcpFlags{TcpFlags::syn | TcpFlags::ack}, 0, 64);
    bad[10] ^= 0x55;  // IP header checksum broken
    c.add(bad);
    c.add(std::vector<std::uint8_t>{0x45, 0x00, 0x00});  // three bytes of an IP header
    c.reply(22, 1001, TcpFlags::syn | TcpFlags::ack);
    const auto r = replay(c);
    EXPECT_EQ(r.counts.undecodable, 2u);
    EXPECT_EQ(r.at(22).state, PortState::open);
}

// A segment with DATA after its header (total length and IP checksum follow; TCP checksums are
// not read by the decoder).
std::vector<std::uint8_t> with_data(std::vector<std::uint8_t> packet, std::size_t data) {
    packet.resize(packet.size() + data, 'd');
    put_be16(std::span<std::uint8_t>{packet}, 2, static_cast<std::uint16_t>(packet.size()));
    put_be16(std::span<std::uint8_t>{packet}, 10, 0);
    put_be16(std::span<std::uint8_t>{packet}, 10, ipv4_header_checksum(std::span<const std::uint8_t>{packet}.first(20)));
    return packet;
}

const Ipv4 kServer{10, 77, 0, 50};

TEST(ReplaySurvey, AConnectionWithDataBothWaysIsNoScan) {
    Capture c;
    c.add(make_tcp_packet(kScanner, kServer, Port{50022}, Port{22}, 1, 0, TcpFlags{TcpFlags::syn}, 64240, 64));
    c.add(make_tcp_packet(kServer, kScanner, Port{22}, Port{50022}, 9, 2, TcpFlags{TcpFlags::syn | TcpFlags::ack}, 64240, 64));
    const std::uint8_t pa = TcpFlags::psh | TcpFlags::ack;
    c.add(with_data(make_tcp_packet(kScanner, kServer, Port{50022}, Port{22}, 2, 10, TcpFlags{pa}, 501, 64), 20));
    c.add(with_data(make_tcp_packet(kServer, kScanner, Port{22}, Port{50022}, 10, 22, TcpFlags{pa}, 501, 64), 30));
    c.probe(80, 1000);
    c.probe(81, 2000);
    const auto r = replay(c);
    EXPECT_EQ(r.survey.runs.size(), 1u);
    EXPECT_EQ(r.scan.name(), "SYN");
    EXPECT_EQ(r.targets->host_count(), 1u);  // the SSH server is not a target
    EXPECT_EQ(r.targets->slot_count(), 2u);
    ASSERT_FALSE(r.survey.notes.empty());
    EXPECT_NE(r.survey.notes.back().find("left out 4 packets of TCP connections"), std::string::npos);
}

TEST(ReplaySurvey, DataOneWayOnlyIsStillAProbe) {
    Capture c;  // nmap --data-length 20: SYNs with data, RSTs without
    c.add(with_data(make_tcp_packet(kScanner, kTarget, Port{50000}, Port{22}, 1000, 0, TcpFlags{TcpFlags::syn}, 1024, 64), 20));
    c.add(with_data(make_tcp_packet(kScanner, kTarget, Port{50000}, Port{23}, 2000, 0, TcpFlags{TcpFlags::syn}, 1024, 64), 20));
    const auto r = replay(c);
    EXPECT_EQ(r.targets->slot_count(), 2u);
    EXPECT_EQ(r.counts.probes, 2u);
}

TEST(ReplaySurvey, AHandshakesAckIsNoAckScan) {
    Capture c;  // a connect scan: SYN, SYN,ACK, the kernel's ACK, then RST
    c.probe(22, 1000);
    c.probe(23, 2000);
    c.reply(22, 1001, TcpFlags::syn | TcpFlags::ack);
    c.add(make_tcp_packet(kScanner, kTarget, Port{50000}, Port{22}, 1001, 8, TcpFlags{TcpFlags::ack}, 1024, 64));
    c.add(make_tcp_packet(kScanner, kTarget, Port{50000}, Port{24}, 1001, 8, TcpFlags{TcpFlags::ack}, 1024, 64));
    const auto r = replay(c);
    // The ACK after port 22's SYN,ACK continues its handshake; the lone ACK to 24 is no scan.
    ASSERT_EQ(r.survey.runs.size(), 1u);
    EXPECT_EQ(r.scan.name(), "SYN");
    EXPECT_EQ(r.at(22).state, PortState::open);
}

TEST(ReplaySurvey, OsProbesAreSetAsideNotAnAckScan) {
    Capture c;  // a SYN scan, then -O's T4 (ACK to the open port) and T6 (ACK to the closed one)
    c.probe(22, 1000);
    c.probe(23, 2000);
    c.reply(22, 1001, TcpFlags::syn | TcpFlags::ack);
    c.reply(23, 2001, TcpFlags::rst | TcpFlags::ack);
    for (const auto& [id, port] : {std::pair{OsProbeId::t4, 22}, std::pair{OsProbeId::t6, 23}}) {
        OsProbeFields fields{kScanner, kTarget, Port{40000}, Port{static_cast<std::uint16_t>(port)}, 5000, 6000, 0, 7, 64};
        auto built = build_os_probe(os_probe(id), fields);
        ASSERT_TRUE(built);
        c.add(built->packet);
    }
    const auto r = replay(c);  // without the OS probes set aside: an ACK scan of 22 and 23 too
    ASSERT_EQ(r.survey.runs.size(), 1u);
    EXPECT_EQ(r.scan.name(), "SYN");
    EXPECT_EQ(r.counts.probes, 2u);
    EXPECT_EQ(r.at(22).state, PortState::open);
    EXPECT_EQ(r.at(23).state, PortState::closed);
}

TEST(ReplaySurvey, TwoScansAreTwoRunsInCaptureOrder) {
    Capture c;
    c.probe(30, 1000, 50000, TcpFlags::fin);
    c.probe(31, 2000, 50000, TcpFlags::fin);
    c.probe(20, 3000, 50001, TcpFlags::syn);
    c.probe(30, 4000, 50001, TcpFlags::syn);
    c.reply(30, 4001, TcpFlags::rst | TcpFlags::ack, 50001);
    const auto fin = replay(c, nullptr, 0);
    ASSERT_EQ(fin.survey.runs.size(), 2u);
    EXPECT_EQ(fin.scan.name(), "FIN");
    EXPECT_EQ(fin.at(30).tries, 1);  // the SYN to 30 is no try of the FIN scan
    EXPECT_EQ(fin.at(30).state, PortState::open_filtered);
    const auto syn = replay(c, nullptr, 1);
    EXPECT_EQ(syn.scan.name(), "SYN");
    EXPECT_EQ(syn.at(30).state, PortState::closed);
    const auto given = replay(c, probe_kind_by_letter('S'));
    ASSERT_EQ(given.survey.runs.size(), 1u);
    EXPECT_EQ(given.scan.name(), "SYN");
    EXPECT_NE(given.survey.notes.back().find("another scan (-sF replays it)"), std::string::npos);
}

TEST(ReplaySurvey, TcpAndUdpGivenMakeOneRunOfTwoLanes) {
    Capture c;
    c.probe(22, 1000);
    c.add(make_udp_packet(kScanner, kTarget, Port{40000}, Port{53}, {}, 64));
    c.probe(23, 2000);
    c.add(make_udp_packet(kScanner, kTarget, Port{40000}, Port{161}, {}, 64));
    c.add(make_udp_packet(kTarget, kScanner, Port{53}, Port{40000}, {}, 64));  // an answer, no probe
    Conversations conversations;
    const auto both = survey(c, ScanSurvey::Choice{std::nullopt, probe_kind_by_letter('S'), true}, conversations);
    ASSERT_EQ(both.runs.size(), 1u);
    EXPECT_EQ(both.runs[0].name(), "SYN and UDP");
    EXPECT_EQ(both.runs[0].targets().slot_count(), 4u);
    EXPECT_EQ(both.runs[0].targets().host_count(), 1u);
    EXPECT_TRUE(both.notes.empty());  // the target's answer is no second scanner
    Conversations again;
    EXPECT_EQ(survey(c, ScanSurvey::Choice{}, again).runs.size(), 2u);  // nothing given: two scans
}

TEST(ReplaySurvey, SpanIsLatestMinusEarliest) {
    Capture c;
    c.probe(22, 1000);
    c.now -= 5 * kSecond;  // the second record is 5 s older than the first
    c.probe(23, 2000);
    const auto r = replay(c);
    EXPECT_EQ(r.counts.last - r.counts.first, 5 * kSecond - 100);
}

std::string temp_path(const char* name) { return ::testing::TempDir() + name; }

TEST(PcapFile, MissingNotACaptureAndTruncated) {
    auto missing = PcapFile::open(temp_path("no-such-capture.pcap"));
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().find("no such file"), std::string::npos);

    const std::string text = temp_path("not-a-capture.pcap");
    std::ofstream{text} << "this is not a capture\n";
    auto not_capture = PcapFile::open(text);
    ASSERT_FALSE(not_capture);
    EXPECT_NE(not_capture.error().find("not-a-capture.pcap"), std::string::npos);

    const std::string cut = temp_path("truncated.pcap");
    {
        PcapHandle dead{pcap_open_dead(DLT_RAW, 256)};
        pcap_dumper_t* dumper = pcap_dump_open(dead.get(), cut.c_str());
        ASSERT_NE(dumper, nullptr);
        auto packet = make_tcp_packet(kScanner, kTarget, Port{50000}, Port{22}, 1, 0, TcpFlags{TcpFlags::syn}, 1024, 64);
        pcap_pkthdr header{};
        header.caplen = header.len = static_cast<bpf_u_int32>(packet.size());
        for (int i = 0; i < 3; ++i) pcap_dump(reinterpret_cast<u_char*>(dumper), &header, packet.data());
        pcap_dump_close(dumper);
    }
    std::filesystem::resize_file(cut, std::filesystem::file_size(cut) - 10);  // the last packet cut short
    auto file = PcapFile::open(cut);
    ASSERT_TRUE(file) << file.error();
    int frames = 0;
    while (file->next()) ++frames;
    EXPECT_EQ(frames, 2);
    EXPECT_FALSE(file->damage().empty());
}

}  // namespace
}  // namespace flagscan

// Replay: verdicts re-derived from captured frames, captures of other tools, bad files.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "flagscan/capture/pcap_file.hpp"
#include "flagscan/engine/replay.hpp"
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

    const PortResult& at(std::uint16_t port) const {
        return results->port(static_cast<std::uint64_t>(targets->port_index(Port{port})));
    }
};

// The command's passes over CAPTURE: conversations, the scans, then the engine over run RUN.
ScanSurvey::Conclusion survey(const Capture& capture, const ScanSurvey::Choice& choice, Conversations& conversations) {
    for (std::size_t i = 0; i < capture.frames.size(); ++i) {
        const auto& frame = capture.frames[i];
        conversations.add(*decode_ipv4(ByteView{frame.span()}), ByteView{frame.span()}, i);
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
    out.targets = std::make_unique<TargetSet>(out.scan.hosts, out.scan.slots);
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

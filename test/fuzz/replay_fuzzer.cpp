// libFuzzer target: the replay path on one input, read as a whole capture file.
//
// The input is opened as a pcap or pcapng file (PcapFile over the bytes in memory, libpcap
// parsing the file format, IPv4 fragments reassembled); the survey of its frames decides who
// scanned how (ScanSurvey, FrameTally for the "why no probes" line); when it finds a scan, the
// engine replays the file again from the start, as `flagscan --replay` does, then -sV's path as
// `--replay -sV` takes it (TcpStreams over the file once more, the built-in probes' walks played
// over the connections to the open ports: CapturedPort). Seeds: the hand-built
// captures of pcap-fixtures/ (tools/test.sh copies pcap-fixtures/built-*.pcap* in).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "flagscan/capture/frame_tally.hpp"
#include "flagscan/capture/pcap_file.hpp"
#include "flagscan/engine/engine.hpp"
#include "flagscan/engine/replay.hpp"
#include "flagscan/service/load.hpp"
#include "flagscan/service/replay_versions.hpp"
#include "flagscan/targets/services.hpp"

namespace {

using namespace flagscan;

// What the capture's passes learn before the replay (as the replay command's): conversations,
// then the scans; nullopt when it holds no scan (the one-line error is built all the same).
struct Surveyed {
    Conversations conversations;
    ScanSurvey::Conclusion scans;
};

std::optional<Surveyed> survey(std::span<const std::uint8_t> bytes) {
    auto file = PcapFile::open_bytes(bytes, "fuzz input");
    if (!file) return std::nullopt;
    Surveyed surveyed;
    FrameTally tally;
    for (std::uint64_t ordinal = 0; auto frame = file->next(); ++ordinal) {
        const LinkType link = frame->link.value_or(file->link());
        auto packet = decode_frame(link, ByteView{frame->span()});
        tally.count(link, ByteView{frame->span()}, packet, packet.has_value());
        if (packet) surveyed.conversations.add(*packet, ordinal);
    }
    const auto why = tally.why_no_probes(*file);
    auto again = PcapFile::open_bytes(bytes, "fuzz input");
    if (!again) return std::nullopt;
    ScanSurvey scans;
    for (std::uint64_t ordinal = 0; auto frame = again->next(); ++ordinal) {
        auto packet = decode_frame(frame->link.value_or(again->link()), ByteView{frame->span()});
        if (packet) scans.add(*packet, surveyed.conversations.classify(*packet, ordinal), ordinal);
    }
    auto concluded = scans.conclude(ScanSurvey::Choice{std::nullopt, nullptr, false});
    if (!concluded) {
        volatile std::size_t length = why.value_or(concluded.error()).size();
        (void)length;
        return std::nullopt;
    }
    surveyed.scans = std::move(*concluded);
    return surveyed;
}

// -sV over the replayed results: the connections to the open TCP ports, then each port's walk.
void replay_versions_of(std::span<const std::uint8_t> bytes, Results& results, Ipv4 scanner) {
    const auto db = builtin_service_probes();  // small: parsed per input, no global state
    if (!db) return;
    const ServiceTable services;
    const std::vector<WalkedPort> ports = name_walked_ports(results, *db, services, false);
    auto file = PcapFile::open_bytes(bytes, "fuzz input");
    if (!file) return;
    TcpStreams::Limits limits;
    limits.total_bytes = 4 * 1024 * 1024;
    TcpStreams streams{limits, connections_to(ports, scanner)};
    while (auto frame = file->next()) {
        const ByteView whole{file->record().empty() ? frame->span() : file->record()};
        if (auto packet = decode_frame(frame->link.value_or(file->link()), whole)) streams.add(*packet, whole, frame->ts);
    }
    streams.finish();
    const ReplayedVersions replayed = replay_versions(results, ports, *db, 7, streams);
    volatile std::size_t sink = replayed.run.matched + replayed.unseen + replayed.tls_sessions;
    (void)sink;
}

// The last pass, per scan: the engine over the same frames, its clock the capture's timestamps.
void replay(std::span<const std::uint8_t> bytes, const Surveyed& surveyed, const ScanRun& run) {
    auto file = PcapFile::open_bytes(bytes, "fuzz input");
    if (!file) return;
    const TargetSet targets = run.targets();
    std::vector<const ProbeKind*> kinds;
    for (const auto& kind : run.kinds) kinds.push_back(&kind);
    Results results{targets, kinds, true};
    EngineConfig settings;
    settings.me = ScannerIdentity{surveyed.scans.scanner, Port{0}, 255};
    settings.echo = EchoCheck::recorded;
    Engine engine{targets, settings, CookieKey{0, 0}, results};
    const ReplayCounts counts = replay_capture(engine, file->link(), [&file] { return file->next(); },
                                               surveyed.conversations, run, surveyed.scans.scanner);
    volatile std::uint64_t sink = counts.frames + counts.probes + engine.stats().strays;
    (void)sink;
    replay_versions_of(bytes, results, surveyed.scans.scanner);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes{data, size};
    if (const auto surveyed = survey(bytes)) {
        for (const ScanRun& run : surveyed->scans.runs) replay(bytes, *surveyed, run);
    }
    return 0;
}

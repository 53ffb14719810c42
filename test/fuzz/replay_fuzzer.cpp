// libFuzzer target: the replay path on one input, read as a whole capture file.
//
// The input is opened as a pcap or pcapng file (PcapFile over the bytes in memory, libpcap
// parsing the file format, IPv4 fragments reassembled); the survey of its frames decides who
// scanned how (ScanSurvey, FrameTally for the "why no probes" line); when it finds a scan, the
// engine replays the file again from the start, as `flagscan --replay` does. Seeds: the hand-built
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

namespace {

using namespace flagscan;

// The first pass: what the capture shows; nullopt when it holds no scan (the one-line error).
std::optional<ScanSurvey::Conclusion> survey(std::span<const std::uint8_t> bytes) {
    auto file = PcapFile::open_bytes(bytes, "fuzz input");
    if (!file) return std::nullopt;
    ScanSurvey survey;
    FrameTally tally;
    while (auto frame = file->next()) {
        const LinkType link = frame->link.value_or(file->link());
        auto packet = decode_frame(link, ByteView{frame->span()});
        tally.count(link, ByteView{frame->span()}, packet, packet && ScanSurvey::is_probe(*packet));
        if (packet) survey.add(*packet);
    }
    auto scan = survey.conclude(std::nullopt, nullptr);
    if (!scan) {
        volatile std::size_t length = tally.why_no_probes(*file).value_or(scan.error()).size();
        (void)length;
        return std::nullopt;
    }
    return *scan;
}

// The second pass: the engine over the same frames, its clock the capture's timestamps.
void replay(std::span<const std::uint8_t> bytes, const ScanSurvey::Conclusion& scan) {
    auto file = PcapFile::open_bytes(bytes, "fuzz input");
    if (!file) return;
    const TargetSet targets{scan.hosts, scan.ports};
    Results results{targets, {&scan.kind}};
    EngineConfig settings;
    settings.me = ScannerIdentity{scan.scanner, Port{0}, 255};
    settings.echo = EchoCheck::recorded;
    Engine engine{targets, settings, CookieKey{0, 0}, results};
    const ReplayCounts counts = replay_capture(engine, file->link(), [&file] { return file->next(); });
    volatile std::uint64_t sink = counts.frames + counts.probes + engine.stats().strays;
    (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes{data, size};
    if (auto scan = survey(bytes)) replay(bytes, *scan);
    return 0;
}

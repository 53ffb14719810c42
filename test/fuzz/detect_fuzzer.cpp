// libFuzzer target: the scan detector over an arbitrary capture, in bounded memory.
//
// The input is opened as a pcap or pcapng file (PcapFile over the bytes, as `flagscan detect
// FILE` reads it) and every frame goes through decode_frame to a Detector with small caps; an
// input that is not a capture is read instead as a stream of records (a 2-byte length, a 2-byte
// time step in microseconds, a flags byte, then that many bytes of an IPv4 packet), which
// reaches the detector's rules more often than mutated pcap files do. The alerts are written
// as the CLI writes them (table and JSON lines), to a string that is thrown away. Seeds:
// pcap-fixtures/*.pcap (the lab captures hold real nmap, hping3 and flagscan scans).
#include <cstddef>
#include <cstdint>
#include <span>
#include <sstream>

#include "flagscan/capture/pcap_file.hpp"
#include "flagscan/detect/detector.hpp"
#include "flagscan/net/reassembly.hpp"
#include "flagscan/output/detect_report.hpp"

namespace {

using namespace flagscan;

DetectConfig small_config() {
    DetectConfig c;
    c.max_sources = 64;  // eviction happens often: its paths are fuzzed too
    c.ports_threshold = 4;
    c.hosts_threshold = 4;
    c.slow_window = 60 * kSecond;
    return c;
}

void report(Detector& d, std::vector<std::unique_ptr<Alert>> alerts, std::ostream& out) {
    for (const Alert* a : d.take_raised()) write_alert_line(out, *a);
    for (const auto& a : alerts) write_alert_json(out, *a), write_alert_block(out, *a);
}

void from_capture(PcapFile& file, Detector& d, std::ostream& out) {
    while (auto frame = file.next()) {
        auto packet = decode_frame(frame->link.value_or(file.link()), ByteView{frame->span()});
        if (!packet) continue;
        d.on_packet(*packet, frame->ts, file.record().empty() || Ipv4Reassembler::is_fragment(packet->ip));
        report(d, d.take_finished(frame->ts), out);
    }
}

void from_records(std::span<const std::uint8_t> bytes, Detector& d, std::ostream& out) {
    Micros now = 1'700'000'000 * kSecond;
    while (bytes.size() >= 5) {
        const std::size_t length = std::min<std::size_t>((bytes[0] << 8 | bytes[1]), bytes.size() - 5);
        now += (bytes[2] << 8 | bytes[3]) * std::int64_t{bytes[4] & 0x80 ? 1000 : 1};
        const bool fragmented = bytes[4] & 1;
        if (auto packet = decode_ipv4(ByteView{bytes.subspan(5, length)})) d.on_packet(*packet, now, fragmented);
        report(d, d.take_finished(now), out);
        bytes = bytes.subspan(5 + length);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> bytes{data, size};
    Detector detector(small_config());
    std::ostringstream out;
    if (auto file = PcapFile::open_bytes(bytes, "fuzz input")) from_capture(*file, detector, out);
    else from_records(bytes, detector, out);
    report(detector, detector.finish(), out);
    write_summary_json(out, detector.stats());
    if (detector.sources_in_memory() > 64) __builtin_trap();  // the cap holds
    return 0;
}

// flagscan detect: reads captures or an interface, feeds the Detector, prints alerts as raised and at the end.
#include <charconv>
#include <chrono>
#include <cmath>
#include <cxxopts.hpp>
#include <fstream>
#include <memory>

#include "flagscan/capture/live_capture.hpp"
#include "flagscan/capture/pcap_file.hpp"
#include "flagscan/cli/detect.hpp"
#include "flagscan/cli/signals.hpp"
#include "flagscan/net/reassembly.hpp"
#include "flagscan/output/detect_report.hpp"
#include "flagscan/net/text.hpp"

namespace flagscan {
namespace {

cxxopts::Options detect_options() {
    cxxopts::Options o("flagscan detect", "flagscan detect: port scans recognised in captures or live traffic");
    o.positional_help("FILE.pcap... | -e IF");
    o.add_options()
        ("e,interface", "capture live on IF (root)", cxxopts::value<std::string>())
        ("window", "seconds of the sliding window (default 5)", cxxopts::value<std::string>())
        ("ports-threshold", "distinct ports within the window that make a scan (default 10)", cxxopts::value<std::string>())
        ("hosts-threshold", "distinct hosts within the window that make a sweep (default 10)", cxxopts::value<std::string>())
        ("slow-window", "also look for slow scans over this many seconds (default off)", cxxopts::value<std::string>())
        ("max-sources", "sources kept in memory, least recent evicted (default 65536)", cxxopts::value<std::string>())
        ("output-json", "JSON lines to FILE (- for stdout)  [-oJ]", cxxopts::value<std::string>())
        ("duration", "live: stop after this many seconds (default: at Ctrl-C)", cxxopts::value<std::string>())
        ("h,help", "this help")
        ("files", "captures", cxxopts::value<std::vector<std::string>>());
    o.parse_positional({"files"});
    return o;
}

Result<Micros> seconds_option(const cxxopts::ParseResult& p, const char* name, Micros fallback, bool zero_ok) {
    if (!p.count(name)) return fallback;
    const auto s = parse_whole<double>(p[name].as<std::string>());
    if (!s || !std::isfinite(*s) || *s < 0 || (*s == 0 && !zero_ok) || *s > 1e9)
        return Error{std::string("--") + name + ": want a number of seconds" + (zero_ok ? "" : " above 0") + ", not '" +
                     p[name].as<std::string>() + "'"};
    return static_cast<Micros>(*s * kSecond);
}

Result<std::uint64_t> count_option(const cxxopts::ParseResult& p, const char* name, std::uint64_t fallback, long long most) {
    if (!p.count(name)) return fallback;
    const auto n = parse_whole<long long>(p[name].as<std::string>());
    if (!n || *n < 1 || *n > most)
        return Error{std::string("--") + name + ": want a whole number from 1 to " + std::to_string(most) + ", not '" +
                     p[name].as<std::string>() + "'"};
    return static_cast<std::uint64_t>(*n);
}

Result<DetectOptions> read_options(const cxxopts::ParseResult& p) {
    DetectOptions d;
    auto window = seconds_option(p, "window", d.config.window, false);
    auto slow = seconds_option(p, "slow-window", d.config.slow_window, true);
    auto duration = seconds_option(p, "duration", 0, true);
    auto ports = count_option(p, "ports-threshold", d.config.ports_threshold, 65536);
    auto hosts = count_option(p, "hosts-threshold", d.config.hosts_threshold, 1 << 24);
    auto sources = count_option(p, "max-sources", d.config.max_sources, 1 << 26);
    for (const auto* e : {&window.error(), &slow.error(), &duration.error(), &ports.error(), &hosts.error(), &sources.error()})
        if (!e->empty()) return Error{*e};
    d.config.window = *window;
    d.config.slow_window = *slow;
    d.duration = *duration;
    d.config.ports_threshold = static_cast<std::uint32_t>(*ports);
    d.config.hosts_threshold = static_cast<std::uint32_t>(*hosts);
    d.config.max_sources = *sources;
    if (p.count("interface")) d.interface = p["interface"].as<std::string>();
    if (p.count("output-json")) d.json_path = p["output-json"].as<std::string>();
    if (p.count("files")) d.files = p["files"].as<std::vector<std::string>>();
    if (d.files.empty() == d.interface.empty())
        return Error{d.files.empty() ? "detect: give capture files or -e INTERFACE (--help lists options)"
                                     : "detect: give capture files or -e INTERFACE, not both"};
    return d;
}

// Writes what the detector says: table lines as alerts are raised, JSON lines as scans end,
// the final table and the summary at the end.
class Reporter {
public:
    Reporter(std::ostream& out, std::ostream* json) : out_(out), json_(json) {}
    void raised(Detector& d) {
        for (const Alert* a : d.take_raised()) write_alert_line(out_, *a);
        out_.flush();
    }
    void finished(std::vector<std::unique_ptr<Alert>> alerts) {
        for (auto& a : alerts) {
            if (json_) write_alert_json(*json_, *a), json_->flush();
            done_.push_back(std::move(a));
        }
    }
    void end(Detector& d) {
        auto last = d.finish();  // may raise alerts too (probes left unanswered at the end)
        raised(d);
        finished(std::move(last));
        if (!done_.empty()) out_ << '\n';
        for (const auto& a : done_) write_alert_block(out_, *a);
        write_summary_normal(out_, d.stats());
        if (json_) write_summary_json(*json_, d.stats());
        out_.flush();
        if (json_) json_->flush();
    }

private:
    std::ostream& out_;
    std::ostream* json_;
    std::vector<std::unique_ptr<Alert>> done_;
};

// One capture's packets into the detector. Fragments: PcapFile hands the rebuilt datagram (its
// record is then empty) or a first fragment that holds its headers (MF set).
void feed(Detector& d, const Frame& frame, LinkType link, bool rebuilt) {
    auto packet = decode_frame(frame.link.value_or(link), ByteView{frame.span()});
    if (!packet) return;
    d.on_packet(*packet, frame.ts, rebuilt || Ipv4Reassembler::is_fragment(packet->ip));
}

// Several captures are several sensors: read as one stream in timestamp order (a k-way merge).
int run_files(const DetectOptions& o, Detector& d, Reporter& r, std::ostream& err) {
    std::vector<PcapFile> files;
    for (const auto& path : o.files) {
        auto file = PcapFile::open(path);
        if (!file) {
            err << "flagscan: " << file.error() << '\n';
            return 1;
        }
        files.push_back(std::move(file).value());
    }
    std::vector<std::optional<Frame>> heads;
    for (auto& f : files) heads.push_back(f.next());
    Micros checked = 0;
    for (;;) {
        std::size_t best = heads.size();
        for (std::size_t i = 0; i < heads.size(); ++i)
            if (heads[i] && (best == heads.size() || heads[i]->ts < heads[best]->ts)) best = i;
        if (best == heads.size()) break;
        const Frame& frame = *heads[best];
        if (frame.ts - checked >= kSecond) r.finished(d.take_finished(checked = frame.ts));
        feed(d, frame, files[best].link(), files[best].record().empty());
        r.raised(d);
        heads[best] = files[best].next();
    }
    for (std::size_t i = 0; i < files.size(); ++i)
        if (!files[i].damage().empty()) err << "flagscan: " << o.files[i] << " is cut short (" << files[i].damage() << ")\n";
    r.end(d);
    return 0;
}

Micros wall_now() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Live frames: fragments are rebuilt here (nmap -f puts the flags in a later piece).
void feed_live(Detector& d, Ipv4Reassembler& reassembler, const Frame& frame, LinkType link, Micros ts) {
    const LinkType l = frame.link.value_or(link);
    auto packet = decode_frame(l, ByteView{frame.span()});
    if (!packet) return;
    if (!Ipv4Reassembler::is_fragment(packet->ip)) return d.on_packet(*packet, ts, false);
    const bool whole_headers = !packet->ip.later_fragment && (packet->tcp || packet->udp || packet->icmp);
    if (whole_headers) d.on_packet(*packet, ts, true);
    auto rebuilt = reassembler.add(ByteView{frame.span().subspan(packet->link_header)}, ts, whole_headers);
    if (!rebuilt) return;
    if (auto whole = decode_ipv4(ByteView{*rebuilt})) d.on_packet(*whole, ts, true);
}

int run_live(const DetectOptions& o, Detector& d, Reporter& r, std::ostream& err) {
    InterruptWatcher interrupts;  // before the capture thread: it inherits the signal mask
    CaptureOptions c;
    c.device = o.interface;
    c.both_directions = true;  // a sensor sees both ways: probes and the targets' replies
    auto capture = LiveCapture::open(c);
    if (!capture) {
        err << "flagscan: " << capture.error() << '\n';
        return 1;
    }
    const Micros offset = wall_now() - SteadyClock{}.now();  // the capture's clock to the wall clock
    const Micros stop_at = o.duration > 0 ? SteadyClock{}.now() + o.duration : 0;
    Ipv4Reassembler reassembler;
    (*capture)->start();
    std::vector<Frame> frames;
    while (!interrupts.interrupted() && (stop_at == 0 || SteadyClock{}.now() < stop_at)) {
        frames.clear();
        (*capture)->wait(SteadyClock{}.now() + 200 * kMillisecond, frames);
        for (const Frame& f : frames) feed_live(d, reassembler, f, (*capture)->link(), f.ts + offset);
        r.raised(d);
        r.finished(d.take_finished(wall_now()));
    }
    (*capture)->stop();
    r.end(d);
    return interrupts.interrupted() ? 130 : 0;  // as an interrupted scan: what it held is written
}

}  // namespace

Result<DetectOptions> parse_detect_options(const std::vector<std::string>& args) {
    std::vector<std::string> translated{"flagscan detect"};
    for (const auto& a : args) translated.push_back(a == "-oJ" ? "--output-json" : a.rfind("-oJ", 0) == 0 ? "--output-json=" + a.substr(3) : a);
    std::vector<const char*> argv;
    for (const auto& a : translated) argv.push_back(a.c_str());
    auto options = detect_options();
    try {
        auto parsed = options.parse(static_cast<int>(argv.size()), argv.data());
        if (parsed.count("help")) {
            DetectOptions d;
            d.help = true;
            d.help_text = options.help();
            return d;
        }
        return read_options(parsed);
    } catch (const cxxopts::exceptions::exception& e) {
        return Error{std::string("detect: ") + e.what()};
    }
}

int run_detect_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    auto options = parse_detect_options(args);
    if (!options) {
        err << "flagscan: " << options.error() << '\n';
        return 1;
    }
    if (options->help) {
        out << options->help_text;
        return 0;
    }
    std::ofstream file;
    std::ostream* json = nullptr;
    if (options->json_path == "-") json = &out;
    else if (!options->json_path.empty()) {
        file.open(options->json_path, std::ios::trunc);
        if (!file) {
            err << "flagscan: cannot write " << options->json_path << '\n';
            return 2;
        }
        json = &file;
    }
    Detector detector(options->config);
    // -oJ -: stdout carries the JSON lines alone (a pipe into jq), the table goes to stderr.
    Reporter reporter(json == &out ? err : out, json);
    return options->interface.empty() ? run_files(*options, detector, reporter, err) : run_live(*options, detector, reporter, err);
}

}  // namespace flagscan

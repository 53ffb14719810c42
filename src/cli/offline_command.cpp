// --offline (--dryrun): the port scan's probes crafted and paced as a live scan sends them, counted or written to -w, none sent.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <thread>

#include "flagscan/cli/hosts.hpp"
#include "flagscan/cli/reporting.hpp"
#include "flagscan/cli/route.hpp"
#include "flagscan/cli/runner.hpp"
#include "flagscan/cli/scan_identity.hpp"
#include "flagscan/cli/scan_plan.hpp"
#include "flagscan/cli/signals.hpp"
#include "flagscan/cli/text_outputs.hpp"
#include "flagscan/engine/offline.hpp"
#include "flagscan/net/text.hpp"
#include "flagscan/targets/reserved.hpp"
#include "flagscan/wire/fragments.hpp"
#include "flagscan/wire/pcap_writer.hpp"

namespace flagscan {
namespace {

// The address the probes come from: -S, else the one the kernel would pick for the first target
// (asked through a connected UDP socket: nothing is sent, no raw or netlink socket opened), else
// 0.0.0.0 (no route: offline, a scan of anything is allowed to have none). -e is not consulted.
Ipv4 offline_source(const ScanConfig& config, const AddressSet& hosts) {
    if (config.source) return *config.source;
    const auto source = kernel_source_for(hosts.ranges().front().first);
    return source ? *source : Ipv4{};
}

// Where the probes go: a pcap file (-w) or a count.
struct OfflineSink {
    std::optional<PcapWriter> file;
    CountingSink count;
    FrameSink& sink() { return file ? static_cast<FrameSink&>(*file) : count; }
};

Result<OfflineSink> open_offline_sink(const ScanConfig& config) {
    OfflineSink sink;
    if (config.write_path.empty()) return sink;
    auto file = PcapWriter::open(config.write_path);
    if (!file) return Error{file.error()};
    sink.file.emplace(std::move(file).value());
    return sink;
}

// "3702258432 probes crafted in 612.3 s (6.05 M/s), none sent"
std::string offline_line(const OfflineRun& run, const ScanConfig& config) {
    const double seconds = double(run.elapsed) / kSecond;
    const double rate = seconds > 0 ? double(run.crafted) / seconds : 0;
    char pace[48];
    if (rate >= 1e6) std::snprintf(pace, sizeof pace, "%.2f M/s", rate / 1e6);
    else std::snprintf(pace, sizeof pace, "%.0f/s", rate);
    char text[160];
    std::snprintf(text, sizeof text, "offline: %llu probes crafted in %.1f s (%s), none sent",
                  static_cast<unsigned long long>(run.crafted), seconds, pace);
    std::string line = text;
    if (!config.write_path.empty()) line += "; written to " + config.write_path;
    return line;
}

void write_offline_json(std::ostream& json, const OfflineRun& run, const ScanConfig& config, const TargetSet& targets,
                        const std::string& title) {
    const double seconds = double(run.elapsed) / kSecond;
    char numbers[96];
    std::snprintf(numbers, sizeof numbers, R"("seconds":%.3f,"rate":%.0f)", seconds, seconds > 0 ? double(run.crafted) / seconds : 0.0);
    json << R"({"offline":true,"scan":")" << json_string(title) << R"(","addresses":)" << targets.host_count()
         << R"(,"slots":)" << targets.slot_count() << R"(,"probes":)" << run.crafted << R"(,"sent":0,)" << numbers
         << R"(,"seed":)" << config.seed << R"(,"complete":)" << (run.interrupted ? "false" : "true");
    if (!config.write_path.empty()) json << R"(,"pcap":")" << json_string(config.write_path) << '"';
    json << "}\n";
}

struct OfflineScan {
    AddressSet hosts;
    ScanPlan plan;
    UdpPayloads payloads;
};

Result<OfflineScan> prepare_offline(const ScanConfig& config, std::ostream& err) {
    auto hosts = command_line_hosts(config, resolve_with_system, err);
    if (!hosts) return Error{hosts.error()};
    if (auto ok = refuse_never_unicast(*hosts); !ok) return Error{ok.error()};
    auto plan = port_scan_plan(config, ServiceTable::load_system());
    if (!plan) return Error{plan.error()};
    auto payloads = config.udp_scan ? UdpPayloads::load_system() : UdpPayloads{};
    return OfflineScan{std::move(hosts).value(), std::move(plan).value(), std::move(payloads)};
}

}  // namespace

// Why no Engine and no Results: they keep state per probe in flight and per (host, port); an
// offline run needs neither, and a /0 with every port is 2^48 of them. The walk, the stamping and
// the template are the engine's own (ShardWalk with the scan's seed, Correlator::probe_for,
// ProbeBuilder), so the probes are those a live scan's first tries would be, in its order.
int run_offline_command(const ScanConfig& given, std::ostream& out, std::ostream& err) {
    InterruptWatcher interrupts;
    ScanConfig config = given;
    if (!config.seed_given) config.seed = random_u64();
    if (!config.xml_path.empty() || !config.grepable_path.empty() || !config.all_base.empty())
        return err << "flagscan: --offline writes the normal report (-oN) and JSON lines (-oJ) only\n", 1;
    auto scan = prepare_offline(config, err);
    if (!scan) return err << "flagscan: " << scan.error() << '\n', 1;
    const ProbeShape shape = probe_shape(config, MacAddress{});
    auto builder = ProbeBuilder::create(scan->plan.kinds, shape, &scan->payloads);
    if (!builder) return err << "flagscan: " << builder.error() << '\n', 1;
    auto sink = open_offline_sink(config);
    if (!sink) return err << "flagscan: " << sink.error() << '\n', 1;
    TextOutputs outputs = TextOutputs::open(config, out);
    if (const auto bad = outputs.failed()) return err << "flagscan: cannot write '" << *bad << "'\n", 1;

    const TargetSet targets{scan->hosts, scan->plan.slots};
    const ShardWalk walk{targets.size(), config.seed, config.shard.shard};
    const auto lanes = static_cast<std::uint8_t>(scan->plan.kinds.size());
    const ScannerIdentity me = scanner_identity(offline_source(config, scan->hosts), port_block(config),
                                                PortBlock::kPortScanLane, lanes);
    const Correlator stamps{me, CookieKey::random(), scan->plan.kinds};
    // The engine's pace; its burst widened to 20 ms of probes, so that a sleep that overshoots
    // (a millisecond or two on a busy machine) does not cost the tokens it slept through.
    const double rate = ceiling_rate(config.timing);
    const double burst = std::max(burst_for(rate, config.timing), rate * 0.02);
    const OfflinePlan plan{targets, walk, stamps, *builder, first_ip_id(config.seed), rate, burst};

    const std::string title = scan->plan.title + ", offline: nothing sent";
    ScanSummary summary{title, now_text(), 0, false, {}, scan->hosts.size()};
    for (std::ostream* normal : outputs.normal) write_normal_header(*normal, summary);
    err << "flagscan: offline: " << walk.size() << " probes (" << targets.host_count() << " addresses x "
        << targets.slot_count() << " ports) from " << targets.address_text(me.source) << ", seed " << config.seed << '\n';
    const SteadyClock clock;
    const auto sleep_until = [&clock](Micros when) { std::this_thread::sleep_for(std::chrono::microseconds(when - clock.now())); };
    FragmentingSink fragments{sink->sink(), config.fragment_data};  // -f, --mtu: the pieces a live scan sends
    FrameSink& target = config.fragment_data > 0 ? static_cast<FrameSink&>(fragments) : sink->sink();
    const OfflineRun run = craft_offline(plan, target, clock, interrupts.flag(), sleep_until);

    const bool written = !sink->file || sink->file->finish();
    if (!written) err << "flagscan: " << sink->file->error() << '\n';
    summary.elapsed_seconds = double(run.elapsed) / kSecond;
    summary.interrupted = run.interrupted;
    for (std::ostream* normal : outputs.normal) {
        *normal << offline_line(run, config) << '\n';
        write_normal_footer(*normal, scan->hosts.size(), 0, summary);
    }
    if (outputs.json != nullptr) write_offline_json(*outputs.json, run, config, targets, scan->plan.title);
    if (const auto bad = outputs.failed()) return err << "flagscan: cannot write '" << *bad << "'\n", 2;
    if (!written) return 2;
    return run.interrupted ? 130 : 0;
}

}  // namespace flagscan

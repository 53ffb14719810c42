// Reports, packet trace and reverse DNS for the scan commands.
#include "flagscan/cli/reporting.hpp"

#include <fstream>

#include "flagscan/cli/reverse_dns.hpp"
#include "flagscan/output/packet_trace.hpp"

namespace flagscan {
namespace {

void write_reports(const ScanConfig& config, const Results& results, const ServiceTable& services,
                   const ScanSummary& summary, std::ostream& out, std::ostream& err) {
    if (config.json_path != "-") write_normal(out, results, services, config.report, summary);
    if (!config.normal_path.empty()) {
        std::ofstream file{config.normal_path};
        write_normal_header(file, summary);
        write_normal(file, results, services, config.report, summary);
        if (!file) err << "flagscan: cannot write '" << config.normal_path << "'\n";
    }
    if (config.json_path == "-") {
        write_jsonl(out, results, config.report, summary);
    } else if (!config.json_path.empty()) {
        std::ofstream file{config.json_path};
        write_jsonl(file, results, config.report, summary);
        if (!file) err << "flagscan: cannot write '" << config.json_path << "'\n";
    }
}

}  // namespace

std::ostream& side_stream(const ScanConfig& config, std::ostream& out, std::ostream& err) {
    return config.json_path == "-" ? err : out;
}

void finish_reports(const ScanConfig& config, const Results& results, const ServiceTable& services,
                    const ScanSummary& summary, const ExplainContext& explain, std::ostream& out, std::ostream& err) {
    write_reports(config, results, services, summary, out, err);
    if (config.explain) write_explanations(side_stream(config, out, err), results, config.report, explain);
}

std::vector<std::string> names_of_reported_hosts(const Results& results, const ReportOptions& options) {
    std::vector<Ipv4> addresses;
    const auto hosts = static_cast<std::uint32_t>(results.targets().host_count());
    for (std::uint32_t host = 0; host < hosts; ++host)
        addresses.push_back(host_is_reported(results, host, options) ? results.targets().hosts().at(host) : Ipv4{});
    return reverse_names(addresses, 2 * kSecond);
}

void add_packet_trace(LoopHooks& hooks, std::ostream& trace) {
    hooks.sent = [&trace](const Probe&, std::span<const std::uint8_t> packet, Micros) {
        if (auto decoded = decode_ipv4(ByteView{packet})) trace << trace_sent(*decoded) << '\n';
    };
    hooks.received = [&trace](const Frame&, const DecodedPacket& packet, const PacketOutcome& outcome) {
        if (outcome.kind != PacketOutcome::Kind::own) trace << trace_received(packet, outcome) << '\n';
    };
}

}  // namespace flagscan

// Reports, packet trace and reverse DNS for the scan commands.
#include "flagscan/cli/reporting.hpp"

#include <ctime>
#include <fstream>
#include <functional>

#include "flagscan/cli/reverse_dns.hpp"
#include "flagscan/output/packet_trace.hpp"

namespace flagscan {
namespace {

using Writer = std::function<void(std::ostream&)>;

void write_file(const std::string& path, const Writer& write, std::ostream& err) {
    std::ofstream file{path};
    write(file);
    if (!file) err << "flagscan: cannot write '" << path << "'\n";
}

// The normal report on stdout (unless JSON lines go there) and to -oN; JSON lines to -oJ.
void write_outputs(const ScanConfig& config, const ScanSummary& summary, const Writer& normal, const Writer& jsonl,
                   std::ostream& out, std::ostream& err) {
    if (config.json_path != "-") normal(out);
    if (!config.normal_path.empty()) {
        write_file(config.normal_path, [&](std::ostream& file) {
            write_normal_header(file, summary);
            normal(file);
        }, err);
    }
    if (config.json_path == "-") jsonl(out);
    else if (!config.json_path.empty()) write_file(config.json_path, jsonl, err);
}

}  // namespace

std::string now_text() {
    const std::time_t t = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[64];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
    return text;
}

std::ostream& side_stream(const ScanConfig& config, std::ostream& out, std::ostream& err) {
    return config.json_path == "-" ? err : out;
}

void finish_reports(const ScanConfig& config, const Results& results, const ServiceTable& services,
                    const ScanSummary& summary, const ExplainContext& explain, std::ostream& out, std::ostream& err) {
    write_outputs(
        config, summary, [&](std::ostream& to) { write_normal(to, results, services, config.report, summary); },
        [&](std::ostream& to) { write_jsonl(to, results, config.report, summary); }, out, err);
    if (config.explain) write_explanations(side_stream(config, out, err), results, config.report, explain);
}

void finish_discovery_reports(const ScanConfig& config, const Results& discovery, const ScanSummary& summary,
                              std::ostream& out, std::ostream& err) {
    write_outputs(
        config, summary, [&](std::ostream& to) { write_discovery_normal(to, discovery, summary); },
        [&](std::ostream& to) { write_discovery_jsonl(to, discovery, summary); }, out, err);
}

std::vector<std::string> names_of_hosts_up(const Results& discovery) {
    std::vector<Ipv4> addresses;
    const auto hosts = static_cast<std::uint32_t>(discovery.targets().host_count());
    for (std::uint32_t host = 0; host < hosts; ++host)
        addresses.push_back(up_evidence(discovery, host) ? discovery.targets().hosts().at(host) : Ipv4{});
    return reverse_names(addresses, 2 * kSecond);
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
        auto decoded = decode_ipv4(ByteView{packet});
        if (!decoded) decoded = decode_frame(LinkType::ethernet, ByteView{packet});  // an ARP request
        if (decoded) trace << trace_sent(*decoded) << '\n';
    };
    hooks.received = [&trace](const Frame&, const DecodedPacket& packet, const PacketOutcome& outcome) {
        if (outcome.kind != PacketOutcome::Kind::own) trace << trace_received(packet, outcome) << '\n';
    };
}

}  // namespace flagscan

// Reports, packet trace and reverse DNS for the scan commands.
#include "flagscan/cli/reporting.hpp"

#include <ctime>

#include "flagscan/cli/reverse_dns.hpp"
#include "flagscan/output/packet_trace.hpp"

namespace flagscan {
namespace {

// Reverse DNS for more hosts than this is not tried (a table of names per host, and a query
// each): a large scan's reports give addresses, as with -n.
constexpr std::uint64_t kNamedHostsUpTo = std::uint64_t{1} << 16;

}  // namespace

std::string now_text() { return minute_text(std::time(nullptr)); }

std::string minute_text(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[64];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
    return text;
}

std::ostream& side_stream(const ScanConfig& config, std::ostream& out, std::ostream& err) {
    const OutputPaths paths = output_paths(config);
    const bool stdout_taken = paths.xml == "-" || paths.grepable == "-" || paths.jsonl == "-";
    return stdout_taken ? err : out;
}

bool finish_reports(const ScanConfig& config, OutputSet& outputs, const ScanView& view, const ExplainContext& explain,
                    std::ostream& out, std::ostream& err) {
    const bool written = outputs.finish(view, err);
    if (config.explain && !view.discovery)
        write_explanations(side_stream(config, out, err), view.results, config.report, explain);
    return written;
}

void add_streaming(LoopHooks& hooks, OutputSet& outputs, Results& results, const ScanView& view) {
    LoopHooks streaming;
    streaming.tick = [&outputs, &results, &view](Micros) {
        const bool forget = results.keeps() == Keep::listed && outputs.streams_all(view);
        for (const std::uint32_t host : results.take_finished_hosts()) {
            outputs.host_finished(view, host);
            if (!forget) continue;
            results.forget_host(host);  // written everywhere: a large scan holds it no more
            outputs.forget(host);
        }
        outputs.flush();
    };
    add_hooks(hooks, std::move(streaming));
}

std::vector<std::string> names_of_hosts_up(const Results& discovery) {
    if (discovery.targets().host_count() > kNamedHostsUpTo) return {};
    std::vector<Ipv4> addresses;
    const auto hosts = static_cast<std::uint32_t>(discovery.targets().host_count());
    for (std::uint32_t host = 0; host < hosts; ++host)
        addresses.push_back(up_evidence(discovery, host) ? discovery.targets().hosts().at(host) : Ipv4{});
    return reverse_names(addresses, 2 * kSecond, discovery.targets().address_book());
}

std::vector<std::string> names_of_targets(const TargetSet& targets) {
    if (targets.host_count() > kNamedHostsUpTo) return {};
    std::vector<Ipv4> addresses;
    for (std::uint64_t host = 0; host < targets.host_count(); ++host) addresses.push_back(targets.hosts().at(host));
    return reverse_names(addresses, 2 * kSecond, targets.address_book());
}

namespace {

// A probe as sent: an IPv4 or IPv6 packet, or an Ethernet frame (ARP, or IPv6's neighbor solicitation).
std::optional<std::string> sent_text(std::span<const std::uint8_t> packet) {
    if (auto v4 = decode_ipv4(ByteView{packet})) return trace_sent(*v4);
    if (auto v6 = decode_ipv6(ByteView{packet})) return trace_sent6(*v6);
    if (auto arp = decode_frame(LinkType::ethernet, ByteView{packet})) return trace_sent(*arp);
    if (auto ndp = decode_frame6(LinkType::ethernet, ByteView{packet})) return trace_sent6(*ndp);
    return std::nullopt;
}

// A reply of an IPv6 scan came as IPv6 and was translated (keys for addresses, ICMP for ICMPv6):
// the trace shows the packet as it came, read again from its frame; without one, the translated
// packet with its keys written through the book.
std::string received_text(const Frame& frame, const DecodedPacket& packet, const PacketOutcome& outcome,
                          const AddressBook* book) {
    const auto bytes = frame.span();
    if (book != nullptr && packet.link_header < bytes.size()) {
        if (auto original = decode_ipv6(ByteView{bytes.subspan(packet.link_header)})) return trace_received6(*original, outcome);
    }
    return trace_received(packet, outcome, book);
}

}  // namespace

void trace_sent_packet(std::ostream& trace, std::span<const std::uint8_t> packet) {
    if (auto line = sent_text(packet)) trace << *line << '\n';
}

void add_packet_trace(LoopHooks& hooks, std::ostream& trace, const AddressBook* book, bool sent) {
    if (sent)
        hooks.sent = [&trace](const Probe&, std::span<const std::uint8_t> packet, Micros) { trace_sent_packet(trace, packet); };
    hooks.received = [&trace, book](const Frame& frame, const DecodedPacket& packet, const PacketOutcome& outcome) {
        if (outcome.kind != PacketOutcome::Kind::own) trace << received_text(frame, packet, outcome, book) << '\n';
    };
}

Result<std::optional<LoadedProbes>> probes_for(const ScanConfig& config, std::ostream& err) {
    if (!config.version_detection) return std::optional<LoadedProbes>{};
    auto loaded = load_service_probes(config.probe_files);
    if (!loaded) return Error{loaded.error()};
    if (loaded->builtin || config.verbosity > 0) err << "flagscan: " << loaded->describe() << '\n';
    return std::optional<LoadedProbes>{std::move(loaded).value()};
}

}  // namespace flagscan

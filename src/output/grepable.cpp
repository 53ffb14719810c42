// nmap's grepable output (-oG): one "Host:" line per host and field, tab separated, as output.cc writes it.
#include <algorithm>
#include <string>

#include "flagscan/output/formats.hpp"
#include "flagscan/output/service_report.hpp"

namespace flagscan {
namespace {

// "Host: 10.0.0.2 (name)": nmap's first field, the name empty when none was looked up.
std::string host_field(const Results& results, std::uint32_t host, const ScanSummary& summary) {
    return "Host: " + results.targets().host_text(host) + " (" + std::string(host_name(summary, host)) + ")";
}

// "# Ports scanned: TCP(3;22,80-81) UDP(0;) SCTP(0;) PROTOCOLS(0;)": what -v adds to the header.
// A ping scan (-sn) scans no ports, whatever ports its probes went to.
void write_ports_scanned(std::ostream& out, const Results& results) {
    std::vector<std::uint16_t> tcp, udp;
    for (std::uint8_t lane = 0; !is_discovery(results) && lane < results.targets().lane_count(); ++lane) {
        const auto ports = lane_ports(results.targets(), lane);
        auto& list = results.kind(lane).protocol == ipproto::udp ? udp : tcp;
        list.insert(list.end(), ports.begin(), ports.end());
    }
    out << "# Ports scanned: TCP(" << tcp.size() << ';' << port_ranges(tcp) << ") UDP(" << udp.size() << ';'
        << port_ranges(udp) << ") SCTP(0;) PROTOCOLS(0;)\n";
}

// "22/open/tcp//ssh//OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)/": port, state, protocol,
// owner (identd's answer with -I, else empty), service (empty when no name is known), RPC info
// (none), version (empty without -sV); '/' in the owner, service and version turned '|' as nmap does.
std::string port_field(const Results& results, std::uint64_t index, const ServiceTable& services) {
    const Target target = results.targets().at(index);
    const ServiceFound service = port_service(results, index, services);
    std::string name = names_service(service) ? shown_service(results, index, services) : "";
    std::string version = full_version(service);
    const std::string* identd = results.services().owner(index);
    std::string owner = identd != nullptr ? *identd : std::string{};
    for (std::string* text : {&owner, &name, &version}) std::replace(text->begin(), text->end(), '/', '|');
    return std::to_string(target.port.value()) + '/' + std::string(to_string(results.port(index).state)) + '/' +
           std::string(protocol_name(results.kind(target.lane))) + '/' + owner + '/' + name + "//" + version + '/';
}

// -O, as nmap's -oG: "<TAB>OS: a | b" (the perfect matches), "<TAB>Seq Index: 262", "<TAB>IP ID Seq: All zeros".
void write_os_fields(std::ostream& out, const OsFound& os) {
    std::string names;
    for (const OsMatchFound& m : os.matches)
        if (m.accuracy == 100) names += (names.empty() ? "" : " | ") + m.name;
    if (!names.empty()) out << "\tOS: " << names;
    if (os.seq_index) out << "\tSeq Index: " << *os.seq_index;
    if (!os.ipid_class.empty()) out << "\tIP ID Seq: " << os.ipid_class;
}

// "<TAB>Ports: a, b<TAB>Ignored State: closed (997)": the Ignored State only when a single state
// is folded (nmap: "Grepable output supports only one ignored state").
void write_ports_line(std::ostream& out, const Results& results, std::uint32_t host, const ServiceTable& services,
                      const ReportOptions& options, const ScanSummary& summary) {
    const HostListing listing = host_listing(results, host, options);
    if (listing.scanned() == 0) return;
    out << host_field(results, host, summary) << "\tPorts: ";
    const char* separator = "";
    for_each_listed_port(results, host, listing, [&](std::uint64_t index) {
        out << separator << port_field(results, index, services);
        separator = ", ";
    });
    int folded_states = 0;
    PortState ignored = PortState::unscanned;
    for (int s = 0; s < kPortStateCount; ++s) {
        if (!listing.folded[s]) continue;
        ++folded_states;
        ignored = static_cast<PortState>(s);
    }
    if (folded_states == 1)
        out << "\tIgnored State: " << to_string(ignored) << " (" << listing.counts[static_cast<int>(ignored)] << ')';
    if (const OsFound* os = results.os().find(host)) write_os_fields(out, *os);
    out << '\n';
}

}  // namespace

void write_comment_header(std::ostream& out, const ScanSummary& summary) {
    out << "# flagscan " << summary.version << " scan initiated " << ctime_text(summary.start_unix)
        << " as: " << summary.command_line << '\n';
}

void write_comment_footer(std::ostream& out, const Results& results, const ReportOptions& options, const ScanSummary& summary) {
    out << "# flagscan done at " << ctime_text(end_unix(summary)) << " -- "
        << scanned_text(host_counts(results, options, summary), summary) << '\n';
}

void write_grepable_start(std::ostream& out, const Results& results, const ScanSummary& summary) {
    write_comment_header(out, summary);
    if (summary.verbosity > 0) write_ports_scanned(out, results);
}

void write_grepable_host(std::ostream& out, const Results& results, std::uint32_t host, const ServiceTable& services,
                         const ReportOptions& options, const ScanSummary& summary) {
    const HostStatus status = host_status(results, host, options, summary);
    if (!status.written) return;
    out << host_field(results, host, summary) << (status.up ? "\tStatus: Up\n" : "\tStatus: Down\n");
    if (status.up && !is_discovery(results)) write_ports_line(out, results, host, services, options, summary);
}

void write_grepable_end(std::ostream& out, const Results& results, const ReportOptions& options,
                        const ScanSummary& summary) {
    write_comment_footer(out, results, options, summary);
}

void write_grepable(std::ostream& out, const Results& results, const ServiceTable& services,
                    const ReportOptions& options, const ScanSummary& summary) {
    write_grepable_start(out, results, summary);
    for (const std::uint32_t host : results.hosts_held()) write_grepable_host(out, results, host, services, options, summary);
    write_grepable_end(out, results, options, summary);
}

}  // namespace flagscan

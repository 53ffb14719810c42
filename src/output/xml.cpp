// nmap's XML output (-oX), element by element as nmap's output.cc writes it, valid against nmap.dtd.
#include <algorithm>
#include <cstdio>

#include "flagscan/output/check_report.hpp"
#include "flagscan/output/formats.hpp"
#include "flagscan/output/service_report.hpp"

namespace flagscan {
namespace {

// ' name="value"', the value escaped.
std::string attribute(std::string_view name, std::string_view value) {
    return ' ' + std::string(name) + "=\"" + xml_escape(value) + '"';
}

std::string attribute(std::string_view name, std::int64_t value) { return attribute(name, std::to_string(value)); }

// nmap's scanflags attribute for --scanflags: the flag names in its order (FIN SYN RST PSH ACK URG ECE CWR).
std::string scanflags_attribute(const ProbeKind& kind) {
    if (kind.nmap_flag != "--scanflags") return "";
    constexpr std::pair<std::uint8_t, std::string_view> kNames[] = {
        {TcpFlags::fin, "FIN"}, {TcpFlags::syn, "SYN"}, {TcpFlags::rst, "RST"}, {TcpFlags::psh, "PSH"},
        {TcpFlags::ack, "ACK"}, {TcpFlags::urg, "URG"}, {TcpFlags::ece, "ECE"}, {TcpFlags::cwr, "CWR"}};
    std::string names;
    for (const auto& [bit, name] : kNames)
        if (kind.flags.has(bit)) names += name;
    return attribute("scanflags", names);
}

void write_scaninfo(std::ostream& out, const Results& results) {
    if (is_discovery(results)) return;  // nmap's -sn has none
    for (std::uint8_t lane = 0; lane < results.targets().lane_count(); ++lane) {
        const ProbeKind& kind = results.kind(lane);
        const auto ports = lane_ports(results.targets(), lane);
        out << "<scaninfo" << attribute("type", nmap_scan_type(kind)) << scanflags_attribute(kind)
            << attribute("protocol", protocol_name(kind)) << attribute("numservices", std::int64_t(ports.size()))
            << attribute("services", port_ranges(ports)) << "/>\n";
    }
}

// <status>, <address> and, for a host up or named, <hostnames> (write_xml_initial_hostinfo).
void write_host_header(std::ostream& out, const Results& results, std::uint32_t host, const HostStatus& status,
                       const ScanSummary& summary) {
    out << "<status" << attribute("state", status.up ? "up" : "down") << attribute("reason", status.reason)
        << attribute("reason_ttl", status.reason_ttl) << "/>\n";
    const TargetSet& targets = results.targets();  // nmap.dtd: addrtype (ipv4 | ipv6 | mac)
    out << "<address" << attribute("addr", targets.host_text(host)) << attribute("addrtype", targets.ipv6() ? "ipv6" : "ipv4")
        << "/>\n";
    const std::string_view name = host_name(summary, host);
    if (!status.up && name.empty()) return;
    out << "<hostnames>\n";
    if (!name.empty()) out << "<hostname" << attribute("name", name) << attribute("type", "PTR") << "/>\n";
    out << "</hostnames>\n";
}

// The ports of each "Not shown" group, ascending: extrareasons' ports attribute.
std::vector<std::vector<std::uint16_t>> folded_ports(const Results& results, std::uint32_t host,
                                                     const HostListing& listing) {
    const auto& targets = results.targets();
    std::vector<std::vector<std::uint16_t>> ports(listing.not_shown.size());
    if (results.keeps() == Keep::listed) return ports;  // a large scan counts them, no more
    for (const PlacedSlot placed : targets.slots_of(host)) {
        const PortResult& port = results.port(placed.index);
        const Slot slot = placed.slot;  // a variable, not a binding: the lambda below takes it
        const auto group = std::find_if(listing.not_shown.begin(), listing.not_shown.end(), [&](const NotShown& g) {
            return g.state == port.state && g.lane == slot.lane && g.reason == port.reason;
        });
        if (group != listing.not_shown.end()) ports[group - listing.not_shown.begin()].push_back(slot.port.value());
    }
    return ports;
}

// One <extraports> per folded state, its <extrareasons> inside, in the normal report's order.
void write_extraports(std::ostream& out, const Results& results, std::uint32_t host, const HostListing& listing) {
    const auto ports = folded_ports(results, host, listing);
    for (std::size_t g = 0; g < listing.not_shown.size(); ++g) {
        const NotShown& group = listing.not_shown[g];
        const bool opens = g == 0 || listing.not_shown[g - 1].state != group.state;
        const bool closes = g + 1 == listing.not_shown.size() || listing.not_shown[g + 1].state != group.state;
        if (opens)
            out << "<extraports" << attribute("state", to_string(group.state))
                << attribute("count", listing.counts[static_cast<int>(group.state)]) << ">\n";
        out << "<extrareasons" << attribute("reason", to_string(group.reason)) << attribute("count", group.count)
            << attribute("proto", protocol_name(results.kind(group.lane)));
        if (!ports[g].empty()) out << attribute("ports", port_ranges(ports[g]));  // (#IMPLIED in nmap.dtd)
        out << "/>\n";
        if (closes) out << "</extraports>\n";
    }
}

// nmap's servicefp attribute: the fingerprint's lines joined again (each "\nSF:" dropped).
std::string joined_fingerprint(std::string_view fingerprint) {
    std::string joined;
    for (std::size_t at = 0; at < fingerprint.size();) {
        if (fingerprint.substr(at, 4) == "\nSF:") {
            at += 4;
            continue;
        }
        joined += fingerprint[at++];
    }
    return joined;
}

// nmap's print_xml_service: the attributes in its order, then a <cpe> per CPE.
void write_service(std::ostream& out, const ServiceFound& service) {
    out << "<service" << attribute("name", service.name.empty() ? "unknown" : service.name);
    const std::pair<std::string_view, const std::string*> texts[] = {
        {"product", &service.product}, {"version", &service.version},   {"extrainfo", &service.extrainfo},
        {"hostname", &service.hostname}, {"ostype", &service.ostype}, {"devicetype", &service.devicetype}};
    for (const auto& [name, value] : texts)
        if (!value->empty()) out << attribute(name, *value);
    if (!service.fingerprint.empty()) out << attribute("servicefp", joined_fingerprint(service.fingerprint));
    if (service.tunnel == ServiceTunnel::ssl) out << attribute("tunnel", "ssl");
    out << attribute("method", service.method == ServiceMethod::probed ? "probed" : "table")
        << attribute("conf", service.confidence);
    if (service.cpe.empty()) {
        out << "/>";
        return;
    }
    out << '>';
    for (const std::string& cpe : service.cpe) out << "<cpe>" << xml_escape(cpe) << "</cpe>";
    out << "</service>";
}

void write_port(std::ostream& out, const Results& results, std::uint64_t index, const ServiceTable& services) {
    const PortResult& port = results.port(index);
    const Target target = results.targets().at(index);
    out << "<port" << attribute("protocol", protocol_name(results.kind(target.lane))) << attribute("portid", target.port.value())
        << '>' << "<state" << attribute("state", to_string(port.state)) << attribute("reason", to_string(port.reason))
        << attribute("reason_ttl", port.ttl) << "/>";
    if (const std::string* owner = results.services().owner(index))  // -I; nmap.dtd: state, owner?, service?
        out << "<owner" << attribute("name", *owner) << "/>";
    // nmap: no <service> for a port with no name (one its table does not list), no fingerprint, no tunnel
    if (const ServiceFound service = port_service(results, index, services); names_service(service))
        write_service(out, service);
    if (const std::string* banner = results.banner(index))  // as nmap's banner script reports it
        out << "<script" << attribute("id", "banner") << attribute("output", *banner) << "/>";
    write_check_scripts(out, results, index);
    out << "</port>\n";
}

// <ports> as nmap's printportoutput writes it: nothing when no port was scanned.
void write_ports(std::ostream& out, const Results& results, std::uint32_t host, const ServiceTable& services,
                 const ReportOptions& options) {
    const HostListing listing = host_listing(results, host, options);
    if (listing.scanned() == 0) return;
    out << "<ports>";
    write_extraports(out, results, host, listing);
    for_each_listed_port(results, host, listing, [&](std::uint64_t index) { write_port(out, results, index, services); });
    out << "</ports>\n";
}

// -O, as nmap's output.cc writes it: <os> (portused, osmatch with osclass and cpe, osfingerprint),
// then uptime, distance, tcpsequence, ipidsequence.
void write_os(std::ostream& out, const OsFound& os) {
    out << "<os>";
    for (const OsPortUsed& p : os.ports_used)
        out << "<portused" << attribute("state", p.state) << attribute("proto", p.proto) << attribute("portid", p.port) << "/>\n";
    for (const OsMatchFound& m : os.matches) {
        out << "<osmatch" << attribute("name", m.name) << attribute("accuracy", m.accuracy) << attribute("line", m.line) << ">\n";
        for (const OsClassFound& c : m.classes) {
            out << "<osclass" << attribute("type", c.type) << attribute("vendor", c.vendor) << attribute("osfamily", c.family);
            if (!c.generation.empty()) out << attribute("osgen", c.generation);
            out << attribute("accuracy", c.accuracy) << ">";
            for (const std::string& cpe : c.cpe) out << "<cpe>" << xml_escape(cpe) << "</cpe>";
            out << "</osclass>\n";
        }
        out << "</osmatch>\n";
    }
    out << "<osfingerprint" << attribute("fingerprint", os.fingerprint) << "/>\n</os>\n";
    if (os.uptime) out << "<uptime" << attribute("seconds", *os.uptime) << attribute("lastboot", os.lastboot) << "/>\n";
    if (os.distance) out << "<distance" << attribute("value", *os.distance) << "/>\n";
    if (os.seq_index)
        out << "<tcpsequence" << attribute("index", std::int64_t{*os.seq_index}) << attribute("difficulty", os.seq_difficulty)
            << attribute("values", os.seq_values) << "/>\n";
    if (!os.ipid_class.empty())
        out << "<ipidsequence" << attribute("class", os.ipid_class) << attribute("values", os.ipid_values) << "/>\n";
    if (!os.ts_class.empty())
        out << "<tcptssequence" << attribute("class", os.ts_class) << (os.ts_values.empty() ? "" : attribute("values", os.ts_values))
            << "/>\n";
}

// RFC 6298 2.2, the estimate after a first measurement R: SRTT = R, RTTVAR = R/2, RTO = SRTT +
// 4 RTTVAR, here never below the scan's floor (nmap's --min-rtt-timeout). Microseconds, as nmap.
void write_times(std::ostream& out, Micros rtt, const ScanSummary& summary) {
    const Micros rttvar = rtt / 2;
    out << "<times" << attribute("srtt", rtt) << attribute("rttvar", rttvar)
        << attribute("to", std::max(rtt + 4 * rttvar, summary.min_rtt_timeout)) << "/>\n";
}

}  // namespace

void write_xml_start(std::ostream& out, const Results& results, const ScanSummary& summary) {
    const std::string started = ctime_text(summary.start_unix);
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n";
    out << "<!--" << xml_escape(" flagscan " + summary.version + " scan initiated " + started + " as: " + summary.command_line + ' ')
        << "-->\n";
    // For `flagscan merge`: what identifies the scan, as JSON (its "--" broken, as a comment needs).
    if (!summary.identity.empty()) out << "<!-- flagscan-scan {" << xml_comment_json(summary.identity) << "} -->\n";
    out << "<nmaprun" << attribute("scanner", "nmap") << attribute("args", summary.command_line)
        << attribute("start", summary.start_unix) << attribute("startstr", started) << attribute("version", summary.version)
        << attribute("xmloutputversion", "1.05") << ">\n";
    write_scaninfo(out, results);
    out << "<verbose" << attribute("level", summary.verbosity) << "/>\n<debugging level=\"0\"/>\n";
}

void write_xml_host(std::ostream& out, const Results& results, std::uint32_t host, const ServiceTable& services,
                    const ReportOptions& options, const ScanSummary& summary) {
    const HostStatus status = host_status(results, host, options, summary);
    if (!status.written) return;
    out << "<host>";
    write_host_header(out, results, host, status, summary);
    if (status.up && !is_discovery(results)) write_ports(out, results, host, services, options);
    if (const OsFound* os = results.os().find(host); status.up && os != nullptr) write_os(out, *os);
    if (status.up && status.rtt >= 0) write_times(out, status.rtt, summary);
    out << "</host>\n";
}

void write_xml_end(std::ostream& out, const Results& results, const ReportOptions& options, const ScanSummary& summary,
                   bool exit_ok, std::string_view error_message) {
    const HostCounts counts = host_counts(results, options, summary);
    const std::int64_t ended = end_unix(summary);
    const std::string ended_text = ctime_text(ended);
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.2f", summary.elapsed_seconds);
    out << "<runstats><finished" << attribute("time", ended) << attribute("timestr", ended_text)
        << attribute("summary", "flagscan done at " + ended_text + "; " + scanned_text(counts, summary))
        << attribute("elapsed", elapsed) << attribute("exit", exit_ok ? "success" : "error");
    if (!exit_ok && !error_message.empty()) out << attribute("errormsg", error_message);
    out << "/><hosts" << attribute("up", std::int64_t(counts.up)) << attribute("down", std::int64_t(counts.total - counts.up))
        << attribute("total", std::int64_t(counts.total)) << "/>\n</runstats>\n</nmaprun>\n";
}

void write_xml(std::ostream& out, const Results& results, const ServiceTable& services, const ReportOptions& options,
               const ScanSummary& summary) {
    write_xml_start(out, results, summary);
    for (const std::uint32_t host : results.hosts_held()) write_xml_host(out, results, host, services, options, summary);
    write_xml_end(out, results, options, summary, !summary.interrupted, summary.interrupted ? "interrupted" : "");
}

}  // namespace flagscan

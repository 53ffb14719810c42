// nmap's XML (-oX) and grepable (-oG) outputs, written a host at a time as the scan finishes them.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/output/report.hpp"

namespace flagscan {

// Each format is a trio, so that a host can be written the moment it is done (streaming):
//   start, once, before any host; host, once per host (any host: those the format leaves out
//   are skipped inside); end, once, after the last. write_*_host may be called for the hosts in
//   any order. A Results whose probe kinds are all host discovery (-sn) is written the way nmap
//   writes a ping scan: no scaninfo, no ports, a host up by its quickest answer
//   (up_evidence). ReportOptions are the ones of the normal report (--open, --all-ports, -Pn),
//   and the ports listed and folded are the normal report's (host_listing).

// nmap's XML, valid against nmap.dtd: the prologue, a comment naming flagscan and the command,
// <nmaprun> (scanner="nmap": the DTD allows no other value), a <scaninfo> per lane, <verbose>
// and <debugging>.
void write_xml_start(std::ostream& out, const Results& results, const ScanSummary& summary);
// One <host>: status and reason, address, hostnames, ports (extraports with extrareasons for
// what the normal report folds into "Not shown", then the listed ports with their service
// from the table), times. Nothing for a host the report leaves out (down unless -v, --open).
void write_xml_host(std::ostream& out, const Results& results, std::uint32_t host, const ServiceTable& services,
                    const ReportOptions& options, const ScanSummary& summary);
// <runstats>: finished (time, elapsed, summary, exit="success", or "error" with errormsg when
// exit_ok is false) and the hosts up, down and total; closes <nmaprun>.
void write_xml_end(std::ostream& out, const Results& results, const ReportOptions& options, const ScanSummary& summary,
                   bool exit_ok = true, std::string_view error_message = {});
// The whole document: start, every host in address order, end.
void write_xml(std::ostream& out, const Results& results, const ServiceTable& services, const ReportOptions& options,
               const ScanSummary& summary);

// nmap's grepable output: "# flagscan 0.1.0 scan initiated <date> as: <command>" (and with -v
// the "# Ports scanned:" line).
// nmap's comment lines around a saved report (-oN, -oG): "# flagscan 0.2.0 scan initiated
// <ctime> as: <command line>" and "# flagscan done at <ctime> -- 1 IP address (1 host up)
// scanned in 0.65 seconds".
void write_comment_header(std::ostream& out, const ScanSummary& summary);
void write_comment_footer(std::ostream& out, const Results& results, const ReportOptions& options, const ScanSummary& summary);
void write_grepable_start(std::ostream& out, const Results& results, const ScanSummary& summary);
// "Host: 10.0.0.2 ()<TAB>Status: Up", then "Host: 10.0.0.2 ()<TAB>Ports: 22/open/tcp//ssh///,
// ...<TAB>Ignored State: closed (997)" (the Ignored State only when one state is folded).
void write_grepable_host(std::ostream& out, const Results& results, std::uint32_t host, const ServiceTable& services,
                         const ReportOptions& options, const ScanSummary& summary);
// "# flagscan done at <date> -- 256 IP addresses (3 hosts up) scanned in 1.20 seconds".
void write_grepable_end(std::ostream& out, const Results& results, const ReportOptions& options,
                        const ScanSummary& summary);
void write_grepable(std::ostream& out, const Results& results, const ServiceTable& services,
                    const ReportOptions& options, const ScanSummary& summary);

// --- pieces both formats share, exposed for their tests and for the caller -----------------

// nmap's way of quoting the command line it echoes: arguments joined by spaces, one holding
// white space put in double quotes, '"' and '\' escaped with '\'.
std::string quoted_command_line(std::span<const std::string> args);
// An attribute value or comment text for XML: <>&"' as entities, "--" broken, bytes above
// 0x7f as character references (nmap's), tab/LF/CR as references, other control bytes
// (which XML 1.0 cannot carry at all) as '?'.
std::string xml_escape(std::string_view text);
// JSON text that may stand in an XML comment (XML 1.0 section 2.5: no "--"): each '-' that
// follows a '-' becomes \u002d, which reads back as the same JSON string.
std::string xml_comment_json(std::string_view json);
// Ascending ports as nmap compresses them: "1-3,5,7-9".
std::string port_ranges(const std::vector<std::uint16_t>& ascending);
// nmap's name of a scan kind in <scaninfo type=...>: syn, fin, null, xmas, ack, window, maimon,
// connect, udp; a --scanflags kind takes the name of the kind whose rules it reads replies by.
std::string_view nmap_scan_type(const ProbeKind& kind);
// ctime's form in local time, as nmap prints dates: "Wed Dec  2 05:25:50 2026".
std::string ctime_text(std::int64_t unix_seconds);

// The ports a lane scans, ascending (for scaninfo and the "# Ports scanned:" line).
std::vector<std::uint16_t> lane_ports(const TargetSet& targets, std::uint8_t lane);
// When the scan ended: summary.end_unix, else its start plus the time it took.
std::int64_t end_unix(const ScanSummary& summary);

// Host counts as the run's end reports them: total (summary.addresses, else every host) and up.
struct HostCounts {
    std::uint64_t total = 0;
    std::uint64_t up = 0;
};
HostCounts host_counts(const Results& results, const ReportOptions& options, const ScanSummary& summary);
// True when every probe kind of the Results is host discovery (-sn).
bool is_discovery(const Results& results);
// "2 IP addresses (1 host up) scanned in 2.44 seconds": the end of nmap's "done" lines.
std::string scanned_text(const HostCounts& counts, const ScanSummary& summary);

// What both formats say of one host: whether it is up, whether the output names it at all,
// and the evidence of its <status> and <times>.
struct HostStatus {
    bool up = false;
    bool written = false;           // up and reported (--open), or down and -v (nmap's rule)
    std::string_view reason;        // "syn-ack", "echo-reply", "user-set", "no-response", ...
    std::uint8_t reason_ttl = 0;
    Micros rtt = -1;                // the lowest round trip measured to it; -1: none
};
HostStatus host_status(const Results& results, std::uint32_t host, const ReportOptions& options,
                       const ScanSummary& summary);

}  // namespace flagscan

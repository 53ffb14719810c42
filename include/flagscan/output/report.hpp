// Reports: the nmap-like table and JSON lines, written from Results after (or during) a scan.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/engine/results.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/probe/probe_kind.hpp"
#include "flagscan/targets/services.hpp"
#include "flagscan/version.hpp"

namespace flagscan {

struct ReportOptions {
    bool reason = false;     // --reason: the REASON column
    bool open_only = false;  // --open: list only open, open|filtered and unfiltered ports (nmap's)
    bool all_ports = false;  // --all-ports: list every port, summarise none
    bool hosts_assumed_up = true;  // -Pn: a host with no reply is still reported (nmap's user-set)
};

struct ScanSummary {
    std::string title;         // "SYN scan", "SYN and UDP scan", "host discovery"
    std::string started;       // "2026-11-22 01:02 UTC"
    double elapsed_seconds = 0;
    bool interrupted = false;
    std::vector<std::string> host_names;  // reverse DNS per host index; empty: none looked up
    std::uint64_t addresses = 0;  // targets given (discovery may leave fewer to port-scan); 0: the scanned hosts
    std::vector<Reason> host_reasons{};  // how each host was judged up (arp-response, user-set, ...); empty: unknown
    Reason default_host_reason = Reason::none;  // the reason of a host past host_reasons (-Pn: user-set, for every host)
    // What XML (-oX) and grepable (-oG) outputs name, as nmap does:
    std::string command_line{};          // the command as typed, quoted as nmap quotes it (quoted_command_line)
    std::int64_t start_unix = 0;         // when the scan began, seconds since 1970
    std::int64_t end_unix = 0;           // when it ended; 0: start_unix + elapsed_seconds
    std::string version{kVersion};       // flagscan's version
    int verbosity = 0;                   // -v count: nmap lists down hosts and the ports scanned from 1
    Micros min_rtt_timeout = 100 * kMillisecond;  // the floor of a host's timeout (<times to=...>)
    std::string scan{};  // a replay of a capture holding several scans: this one's name ("FIN"), on each JSON line
    // What tells this scan from another, for `flagscan merge` of its shards: the members of a JSON
    // object without its braces ("\"seed\":7,\"targets\":[...],...", see cli/merge.hpp), written as
    // the first JSON line {"type":"scan",...} and in an XML comment; "" : none written.
    std::string identity{};
    std::string shard{};  // "shard 2/4 (from OMPI_COMM_WORLD_RANK)"; "" : the whole scan
};

// The host's name from reverse DNS, or "" (none, or not looked up).
std::string_view host_name(const ScanSummary& summary, std::uint32_t host);
// How the host was judged up, or Reason::none when not known (a replay).
Reason host_reason(const ScanSummary& summary, std::uint32_t host);

// One part of a host's "Not shown" line: the ports of one state, one lane (so one protocol)
// and one reason ("3003 filtered tcp ports (no-response)").
struct NotShown {
    PortState state = PortState::unscanned;
    std::uint8_t lane = 0;
    Reason reason = Reason::none;
    std::uint32_t count = 0;
};

// What the report of one host lists and what it folds into "Not shown", by nmap's rules
// (portlist.cc isIgnoredState, output.cc printportoutput): a state with more than 25 of the
// host's ports is folded, every such state, never open; --open folds every state but open,
// open|filtered and unfiltered (which still fold above 25). Ports without a verdict (an
// interrupted scan) are neither listed nor folded: they are counted as not scanned.
struct HostListing {
    std::array<std::uint32_t, kPortStateCount> counts{};  // ports per state; [unscanned]: not scanned
    std::array<bool, kPortStateCount> folded{};           // the states "Not shown" holds
    std::vector<NotShown> not_shown;  // nmap's order: states by size, then each state's reasons by size

    bool lists(PortState state) const { return state != PortState::unscanned && !folded[static_cast<int>(state)]; }
    std::uint32_t not_scanned() const { return counts[static_cast<int>(PortState::unscanned)]; }
    std::uint32_t scanned() const;
    std::uint32_t folded_ports() const;
};
HostListing host_listing(const Results& results, std::uint32_t host, const ReportOptions& options);

// Calls `visit` for every port of the host the report lists, in report order (lane by lane,
// port by port).
void for_each_listed_port(const Results& results, std::uint32_t host, const ReportOptions& options,
                          const std::function<void(std::uint64_t index)>& visit);
void for_each_listed_port(const Results& results, std::uint32_t host, const HostListing& listing,
                          const std::function<void(std::uint64_t index)>& visit);

// How a host was found up, in nmap's words (to_string), except that an IPv6 scan's ARP lane is
// neighbor discovery (RFC 4861 7.2), whose answer nmap -6 calls "nd-response".
std::string_view host_reason_name(const TargetSet& targets, Reason reason);
// How reports name a discovery method (a ProbeKind's name): over IPv6, ARP is "neighbor
// solicitation" and ICMP echo "ICMPv6 echo".
std::string_view ping_method_name(const TargetSet& targets, const ProbeKind& kind);

// "tcp", "udp", "icmp": the protocol a kind's probes use, as nmap prints it after a port.
std::string_view protocol_name(const ProbeKind& kind);

// The passive OS hint of the host from its first SYN-ACK (os_hint_text), nullopt when it sent none.
std::optional<std::string> os_hint_of(const Results& results, std::uint32_t host);

// Up: it answered, or -Pn assumed it up. Reported: up, and with --open, holding at least one
// open, open|filtered or unfiltered port (nmap leaves the others out, yet counts them up).
bool host_is_up(const Results& results, std::uint32_t host, const ReportOptions& options);
bool host_is_reported(const Results& results, std::uint32_t host, const ReportOptions& options);
// How many hosts of a port scan are up (host_is_up), forgotten ones included.
std::uint64_t hosts_up(const Results& results, const ReportOptions& options);

void write_normal_header(std::ostream& out, const ScanSummary& summary);
// "flagscan done: 256 IP addresses (3 hosts up) scanned in 1.20 seconds".
void write_normal_footer(std::ostream& out, std::uint64_t addresses, std::uint64_t up, const ScanSummary& summary);
void write_normal(std::ostream& out, const Results& results, const ServiceTable& services,
                  const ReportOptions& options, const ScanSummary& summary);
// The host reports alone (what a saved -oN file holds between its comment lines); returns the
// number of hosts up.
// One host's report, if the report lists the host (a large scan's normal report streams them).
void write_normal_host(std::ostream& out, const Results& results, std::uint32_t host, const ServiceTable& services,
                       const ReportOptions& options, const ScanSummary& summary);
// The footer alone ("flagscan done: ..."), from the scan's tallies.
void write_normal_end(std::ostream& out, const Results& results, const ReportOptions& options, const ScanSummary& summary);
std::uint32_t write_normal_hosts(std::ostream& out, const Results& results, const ServiceTable& services,
                                 const ReportOptions& options, const ScanSummary& summary);
void write_jsonl(std::ostream& out, const Results& results, const ReportOptions& options, const ScanSummary& summary);
// One host's lines (its listed ports, then the host), if the report lists the host.
void write_jsonl_host(std::ostream& out, const Results& results, std::uint32_t host, const ReportOptions& options,
                      const ScanSummary& summary);

// -oJ's first and last lines: {"type":"scan",<identity>} and {"type":"summary","addresses":N,
// "up":M,"elapsed":S,"interrupted":B} (nothing first when the summary has no identity).
void write_jsonl_start(std::ostream& out, const ScanSummary& summary);
void write_jsonl_end(std::ostream& out, std::uint64_t addresses, std::uint64_t up, const ScanSummary& summary);

// A JSON string's contents: quotes, backslashes and non-printable bytes escaped.
std::string json_string(std::string_view text);

// Host discovery (-sn): the slot whose answer showed the host up (the quickest), if any.
std::optional<std::uint64_t> up_evidence(const Results& discovery, std::uint32_t host);
// "flagscan scan report for X / Host is up, received echo-reply ttl 64 (0.00012s latency)."
void write_discovery_normal(std::ostream& out, const Results& discovery, const ScanSummary& summary);
void write_discovery_normal_hosts(std::ostream& out, const Results& discovery, const ScanSummary& summary);
// One host's lines, if it was found up.
void write_discovery_normal_host(std::ostream& out, const Results& discovery, std::uint32_t host, const ScanSummary& summary);
// One JSON object per host found up: ip, status, reason, ttl, rtt_us, method.
void write_discovery_jsonl(std::ostream& out, const Results& discovery, const ScanSummary& summary);
// One host's JSON object, if it was found up.
void write_discovery_jsonl_host(std::ostream& out, const Results& discovery, std::uint32_t host, const ScanSummary& summary);

}  // namespace flagscan

// Reports: the nmap-like table and JSON lines, written from Results after (or during) a scan.
#pragma once

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

namespace flagscan {

struct ReportOptions {
    bool reason = false;     // --reason: the REASON column
    bool open_only = false;  // --open: list only open ports
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
};

// The host's name from reverse DNS, or "" (none, or not looked up).
std::string_view host_name(const ScanSummary& summary, std::uint32_t host);
// How the host was judged up, or Reason::none when not known (a replay).
Reason host_reason(const ScanSummary& summary, std::uint32_t host);

// What a host's report says in one line instead of listing, per lane: the lane's most common
// state, how many ports are in it, and their most common reason ("Not shown: 997 closed tcp
// ports (reset)"). count is 0 when nothing is summarised (--all-ports, or nothing decided).
struct Summarised {
    PortState state = PortState::unscanned;
    std::uint32_t count = 0;
    Reason reason = Reason::none;
    std::uint32_t decided = 0;  // the lane's ports with a verdict
};
std::vector<Summarised> summarised_states(const Results& results, std::uint32_t host, const ReportOptions& options);

// Calls `visit` for every port of the host the report lists, in slot order (lane by lane).
void for_each_listed_port(const Results& results, std::uint32_t host, const ReportOptions& options,
                          const std::function<void(std::uint64_t index)>& visit);

// "tcp", "udp", "icmp": the protocol a kind's probes use, as nmap prints it after a port.
std::string_view protocol_name(const ProbeKind& kind);

bool host_is_reported(const Results& results, std::uint32_t host, const ReportOptions& options);

void write_normal_header(std::ostream& out, const ScanSummary& summary);
// "flagscan done: 256 IP addresses (3 hosts up) scanned in 1.20 seconds".
void write_normal_footer(std::ostream& out, std::uint64_t addresses, std::uint64_t up, const ScanSummary& summary);
void write_normal(std::ostream& out, const Results& results, const ServiceTable& services,
                  const ReportOptions& options, const ScanSummary& summary);
void write_jsonl(std::ostream& out, const Results& results, const ReportOptions& options, const ScanSummary& summary);

// A JSON string's contents: quotes, backslashes and non-printable bytes escaped.
std::string json_string(std::string_view text);

// Host discovery (-sn): the slot whose answer showed the host up (the quickest), if any.
std::optional<std::uint64_t> up_evidence(const Results& discovery, std::uint32_t host);
// "flagscan scan report for X / Host is up, received echo-reply ttl 64 (0.00012s latency)."
void write_discovery_normal(std::ostream& out, const Results& discovery, const ScanSummary& summary);
// One JSON object per host found up: ip, status, reason, ttl, rtt_us, method.
void write_discovery_jsonl(std::ostream& out, const Results& discovery, const ScanSummary& summary);

}  // namespace flagscan

// Reports: the nmap-like table and JSON lines, written from Results after (or during) a scan.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/engine/results.hpp"
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
    const ProbeKind* kind = nullptr;
    std::string started;       // "2026-11-22 01:02 UTC"
    double elapsed_seconds = 0;
    bool interrupted = false;
    std::vector<std::string> host_names;  // reverse DNS per host index; empty: none looked up
};

// The host's name from reverse DNS, or "" (none, or not looked up).
std::string_view host_name(const ScanSummary& summary, std::uint32_t host);

// Calls `visit` for every port of the host the report lists, in port order.
void for_each_listed_port(const Results& results, std::uint32_t host, const ReportOptions& options,
                          const std::function<void(std::uint64_t index)>& visit);

// The host's most common reason among ports in `state` (for "Not shown: ... (reset)").
Reason most_common_reason(const Results& results, std::uint32_t host, PortState state);

bool host_is_reported(const Results& results, std::uint32_t host, const ReportOptions& options);

void write_normal_header(std::ostream& out, const ScanSummary& summary);
void write_normal(std::ostream& out, const Results& results, const ServiceTable& services,
                  const ReportOptions& options, const ScanSummary& summary);
void write_jsonl(std::ostream& out, const Results& results, const ReportOptions& options, const ScanSummary& summary);

}  // namespace flagscan

// What every scan command shares at its edges: reports, packet trace, host names.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "flagscan/cli/options.hpp"
#include "flagscan/engine/scan_loop.hpp"
#include "flagscan/output/explain.hpp"
#include "flagscan/output/report.hpp"

namespace flagscan {

// The scan's start as the normal report's header gives it: "2026-11-22 01:02 UTC".
std::string now_text();

// Where the packet trace and the explanations go: stdout, unless JSON lines are written there.
std::ostream& side_stream(const ScanConfig& config, std::ostream& out, std::ostream& err);

// The normal report on stdout and to -oN, JSON lines to -oJ, then --explain.
void finish_reports(const ScanConfig& config, const Results& results, const ServiceTable& services,
                    const ScanSummary& summary, const ExplainContext& explain, std::ostream& out, std::ostream& err);

// -sn: the hosts found up, on stdout and to -oN / -oJ.
void finish_discovery_reports(const ScanConfig& config, const Results& discovery, const ScanSummary& summary,
                              std::ostream& out, std::ostream& err);
std::vector<std::string> names_of_hosts_up(const Results& discovery);

// nmap resolves the names of the hosts it reports unless told -n; so do we, for 2 s at most.
std::vector<std::string> names_of_reported_hosts(const Results& results, const ReportOptions& options);

// --packet-trace: a line per probe sent and per packet captured.
void add_packet_trace(LoopHooks& hooks, std::ostream& trace);

}  // namespace flagscan

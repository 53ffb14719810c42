// What every scan command shares at its edges: reports, packet trace, host names.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "flagscan/cli/options.hpp"
#include "flagscan/cli/outputs.hpp"
#include "flagscan/engine/scan_loop.hpp"
#include "flagscan/output/explain.hpp"
#include "flagscan/output/report.hpp"
#include "flagscan/service/load.hpp"

namespace flagscan {

// The scan's start as the normal report's header gives it: "2026-11-22 01:02 UTC".
std::string now_text();
// The same for a given time (a capture's first frame).
std::string minute_text(std::int64_t unix_seconds);

// Where the packet trace and the explanations go: stdout, unless an output (-oX - ...) is written there.
std::ostream& side_stream(const ScanConfig& config, std::ostream& out, std::ostream& err);

// Every output's hosts not written yet and footers (see OutputSet::finish), then --explain.
// False when an output could not be written (said on `err`).
bool finish_reports(const ScanConfig& config, OutputSet& outputs, const ScanView& view, const ExplainContext& explain,
                    std::ostream& out, std::ostream& err);

// Streams each host to the outputs when its last port is decided, after each round of the loop.
void add_streaming(LoopHooks& hooks, OutputSet& outputs, Results& results, const ScanView& view);

std::vector<std::string> names_of_hosts_up(const Results& discovery);

// -sV's probes, read before the scan (live or replayed), with the line that says where they
// came from (always when built-in, with -v otherwise); nullopt without -sV.
Result<std::optional<LoadedProbes>> probes_for(const ScanConfig& config, std::ostream& err);

// nmap resolves the names of the hosts it reports unless told -n; so do we, for 2 s at most:
// the hosts a port scan is about to scan (before it, so that hosts stream out with their
// names), or the hosts a replay is about to replay.
std::vector<std::string> names_of_targets(const TargetSet& targets);

// --packet-trace: a line per probe sent and per packet captured. `book`: an IPv6 scan's (its
// packets are shown as the wire carried them, IPv6 addresses and ICMPv6), null for IPv4.
void add_packet_trace(LoopHooks& hooks, std::ostream& trace, const AddressBook* book = nullptr);

}  // namespace flagscan

// flagscan merge: the outputs of a scan's shards (--shard) combined into the one report a single
// process would have written; and the scan identity each output records so that merge can tell.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "flagscan/cli/options.hpp"
#include "flagscan/cli/scan_plan.hpp"
#include "flagscan/net/result.hpp"

namespace flagscan {

// What tells one scan from another, as JSON members without braces: "version", "seed", "targets"
// (and " exclude ..."), "ports" ("tcp:1-1000;udp:53"), "scan" ("syn,udp" or "ping"), "listing"
// (default, open, all), "shard" ("2/4"), "shard_by" ("hosts": discovery ran and each shard owns
// whole hosts; "probes": -Pn, each shard owns every N-th (host, port) of the permutation) and
// "shard_from" (the variable --shard auto read, or ""). Shards of one scan differ in "shard" and
// "shard_from" only.
std::string scan_identity(const ScanConfig& config, const ScanPlan& plan, bool shard_by_hosts);

// One output to merge: its name (for errors) and its bytes.
struct MergeInput {
    std::string name;
    std::string text;
};

// The merged report, and what the caller must say: a missing shard ("shard 3/4 missing").
struct Merged {
    std::string text;
    std::vector<std::string> missing;
};

// JSON lines (-oJ) and nmap XML (-oX) of the shards of one scan into one report: hosts in
// address order; a host several shards scanned (shard_by probes) gets its ports together and its
// counts summed; the summary (JSON) or <runstats> (XML) counted again. Refused, one line naming
// the file: a file that is not such an output or is cut short, outputs of different scans, the
// same shard twice.
Result<Merged> merge_jsonl(const std::vector<MergeInput>& inputs);
Result<Merged> merge_xml(const std::vector<MergeInput>& inputs);

// `flagscan merge OUT... -o FILE`: the format is the first file's (XML when it starts with
// "<?xml"). Exit 0 merged; 1 refused (nothing written), or merged with a shard missing (the
// file is written, the missing shards named on `err`); 2 the output could not be written.
int run_merge_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace flagscan

// Teaching output: --explain-rules prints a scan kind's rule table; --explain narrates each verdict.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "flagscan/engine/results.hpp"
#include "flagscan/output/report.hpp"
#include "flagscan/probe/probe_kind.hpp"

namespace flagscan {

// What the narrative needs to know about the scan that made the results.
// (The ports, times and senders themselves are each port's evidence, in Results.)
struct ExplainContext {
    // The verdicts were re-derived from a capture: its sender is "the scanner" (flagscan's own
    // waits are not what the capture shows), and silence lasted until the capture's end.
    bool replay = false;
    // What the probe-shaping options (-f, --data-length, --badsum) did to the probes, a sentence each.
    std::vector<std::string> shaping{};
};

// Every row of the kind's rule table, with the RFC rule or stack behaviour behind it.
void write_rule_table(std::ostream& out, const ProbeKind& kind);

// For each listed port, and one port of each group of a host's "Not shown" line: the probe, what came
// back (or that nothing did, after how many tries), the rule row that matched, the state, why;
// then the kind's caveat.
void write_explanations(std::ostream& out, const Results& results, const ReportOptions& options,
                        const ExplainContext& context);

// One row in words: "RST back -> closed (reset)".
std::string describe_rule(const Rule& rule, Purpose purpose = Purpose::port_scan);

}  // namespace flagscan

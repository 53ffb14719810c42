// Resume files: an interrupted scan's command line, seed, and each phase's progress and verdicts, as checked text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flagscan/cli/options.hpp"
#include "flagscan/engine/engine.hpp"
#include "flagscan/engine/results.hpp"
#include "flagscan/net/result.hpp"

namespace flagscan {

// The first line of a resume file names this number; a new layout of the file takes a new one.
inline constexpr int kResumeFormat = 1;

// One phase of a scan (discovery, the port scan) as the interrupt left it: where its walk over
// the permutation stood, every verdict it had reached, and what each host that answered showed.
struct ResumePhase {
    std::string name;           // one word: "discovery", "ports"
    std::uint64_t planned = 0;  // size of the phase's target set; the resumed scan must rebuild the same
    ResumePoint point;
    std::vector<std::pair<std::uint64_t, PortResult>> ports;  // decided ones only, by index
    std::vector<std::pair<std::uint32_t, HostResult>> hosts;  // hosts with replies; counts are not kept (recounted)
    // Keep::listed: the groups of ports whose verdicts were folded away, by count
    std::vector<std::pair<std::uint32_t, PortGroup>> groups;
};

struct ResumeState {
    std::vector<std::string> args;  // the command line after the program name
    std::uint64_t seed = 0;         // of the permutation: the resumed scan walks the same order
    std::vector<ResumePhase> phases;
    Shard shard{};                  // --shard: the part of the scan this file's process ran ("shard I N" line)

    const ResumePhase* phase(std::string_view name) const;  // nullptr when the file has none of that name
};

// What `results` and the engine's `point` hold of one phase. Reads every slot of every host
// Results holds: O(planned) for a small scan; a large one (Keep::listed) keeps its folded
// ports as "group" lines, and the hosts already written and forgotten are not in it.
ResumePhase capture_phase(std::string name, const Results& results, const ResumePoint& point);
// Puts a phase's verdicts and host evidence into fresh `results` of the rebuilt target set.
// An error, and `results` untouched, when the phase does not fit that set (another size, an
// index out of range, a pending index twice, a rule row the lane's kind does not have).
Result<bool> restore_phase(const ResumePhase& phase, Results& results);

// The file's text: "flagscan-resume 1", "version X", one "arg" line per argument (bytes outside
// printable ASCII, spaces and '%' as %XX), "seed N", then per phase a "phase NAME planned N
// position N" line followed by its "pending INDEX", "port INDEX <fields>" and "host INDEX
// <evidence>" and "group HOST STATE LANE REASON COUNT FIRST" lines, and last "checksum H", the FNV-1a 64 of every byte before that line.
// Size: one line per decided port, ~40 bytes: 2.6 MB for 65535 ports of one host. An internet
// scale scan (10^9 ports) would need tens of GB; it would have to keep only the ports worth
// listing (open, and what --reason shows) and count the rest, as the reports do.
std::string serialize(const ResumeState& state);
// Never throws and never reads past `text`. One-line errors: "not a flagscan resume file",
// "resume file from flagscan X, this is Y", "resume file is corrupt (checksum)" (also a
// truncated file), "resume file line N: ...".
Result<ResumeState> parse_resume(std::string_view text);

// Written to PATH.tmp, flushed to disk, then renamed over PATH: a crash leaves the old file or
// the new one, never half of one.
Result<bool> write_resume_file(const std::string& path, const ResumeState& state);
Result<ResumeState> read_resume_file(const std::string& path);

// The scan the file records: its arguments parsed again, with the file's seed (seed_given set).
// "resume file's command line no longer parses: ..." when they do not.
Result<CommandLine> command_line_from_resume(const ResumeState& state);

}  // namespace flagscan

// Outputs: every report a scan writes (stdout, -oN -oX -oG -oJ, -oA), opened before the first
// packet and written host by host as hosts finish.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <unordered_set>
#include <vector>

#include "flagscan/cli/options.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/output/report.hpp"

namespace flagscan {

// normal: the report on stdout; normal_file: the same saved with -oN, between nmap's comment lines.
enum class OutputFormat : std::uint8_t { normal, normal_file, xml, grepable, jsonl };

// What the reports are written from: one scan's Results, and how to show them.
struct ScanView {
    const Results& results;
    const ServiceTable& services;
    const ReportOptions& options;
    const ScanSummary& summary;
    bool discovery = false;  // -sn: the hosts found up, no ports
};

// Where each report goes. Formats that are read while a scan runs (JSON lines, grepable, XML)
// get each host the moment its last port is decided, flushed at the end of the scan loop's round
// (flush(): one write a round, not one a host: -p 81 over a /16 made 67,839 writes, now ~3,200), so a
// killed scan leaves every finished host on disk; the normal report is written whole at the
// end, in address order.
class OutputSet {
public:
    // Opens (creates or truncates) every file the options name. Fails, with a one-line error,
    // when one cannot be written: checked before anything is sent.
    static Result<OutputSet> open(const ScanConfig& config, std::ostream& out);
    // The output that takes stdout, if any (the normal report unless another is sent there).
    bool stdout_taken_by_other() const { return stdout_other_; }

    // Headers, for the scan `view` describes (its Results must outlive the calls below).
    void start(const ScanView& view);
    // A host whose every port has its verdict: the streaming formats write it now.
    void host_finished(const ScanView& view, std::uint32_t host);
    // What host_finished wrote goes out now.
    void flush();
    // Every output writes hosts as they finish (a large scan's normal report too): then a host
    // once written is needed no more.
    bool streams_all(const ScanView& view) const;
    // A host written and forgotten by its Results: no need to remember it was written.
    void forget(std::uint32_t host) { written_.erase(host); }
    // The hosts not written yet (an interrupted scan's, or all of them), the normal reports and
    // every footer. False, said on `err`, when any write failed during the scan or now.
    bool finish(const ScanView& view, std::ostream& err);

private:
    struct Destination {
        OutputFormat format;
        std::string path;                      // "" : stdout
        std::unique_ptr<std::ofstream> file;   // null: stdout
        std::ostream* stream = nullptr;
        bool failed = false;
        bool unflushed = false;                // written since its last flush
        int error = 0;                         // errno of the first failed write
    };
    void add(OutputFormat format, const std::string& path, std::ostream& out);
    bool streams(const Destination& destination, const ScanView& view) const;
    void check(Destination& destination);

    std::vector<Destination> destinations_;
    std::unordered_set<std::uint32_t> written_;  // hosts of the current view written out
    bool stdout_other_ = false;
};

// The files -oA BASE stands for: BASE.nmap, BASE.xml, BASE.gnmap and BASE.jsonl.
struct OutputPaths {
    std::string normal, xml, grepable, jsonl;
};
OutputPaths output_paths(const ScanConfig& config);

}  // namespace flagscan

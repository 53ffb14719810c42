// Every report a scan writes: opened before the first packet, streamed host by host, checked.
#include "flagscan/cli/outputs.hpp"

#include <cerrno>
#include <cstring>
#include <tuple>

#include "flagscan/output/formats.hpp"
#include "flagscan/output/service_report.hpp"

namespace flagscan {
namespace {

// One format's three moments; a null one writes nothing then.
struct Writers {
    void (*start)(std::ostream&, const ScanView&) = nullptr;
    void (*host)(std::ostream&, const ScanView&, std::uint32_t) = nullptr;
    void (*end)(std::ostream&, const ScanView&) = nullptr;
};

void normal_start(std::ostream& out, const ScanView& view) { write_normal_header(out, view.summary); }
void normal_end(std::ostream& out, const ScanView& view) {
    if (view.discovery) write_discovery_normal(out, view.results, view.summary);
    else if (view.results.keeps() == Keep::listed) write_normal_end(out, view.results, view.options, view.summary);
    else write_normal(out, view.results, view.services, view.options, view.summary);
}
// A large scan's normal report (Keep::listed) streams its hosts as they finish, in that order:
// holding them for an address-ordered report would hold the whole scan.
void normal_host(std::ostream& out, const ScanView& view, std::uint32_t host) {
    if (view.discovery) write_discovery_normal_host(out, view.results, host, view.summary);
    else write_normal_host(out, view.results, host, view.services, view.options, view.summary);
}
// A saved normal report, as nmap's -oN: "# ... scan initiated ... as: ...", the host reports,
// "# ... done at ... -- N IP addresses (M hosts up) scanned in S seconds".
void normal_file_start(std::ostream& out, const ScanView& view) { write_comment_header(out, view.summary); }
void normal_file_end(std::ostream& out, const ScanView& view) {
    if (view.results.keeps() == Keep::listed) {
        write_service_detection_note(out, view.results, static_cast<std::uint32_t>(hosts_up(view.results, view.options)));
    } else if (view.discovery) {
        write_discovery_normal_hosts(out, view.results, view.summary);
    } else {
        const std::uint32_t up = write_normal_hosts(out, view.results, view.services, view.options, view.summary);
        write_service_detection_note(out, view.results, up);
    }
    if (view.summary.interrupted) out << "Scan interrupted: the results above are what was found so far.\n";
    write_comment_footer(out, view.results, view.options, view.summary);
}
void jsonl_start(std::ostream& out, const ScanView& view) { write_jsonl_start(out, view.summary); }
void jsonl_end(std::ostream& out, const ScanView& view) {
    if (view.summary.identity.empty()) return;  // a replay: no scan line, so no summary either
    const HostCounts counts = host_counts(view.results, view.options, view.summary);
    write_jsonl_end(out, counts.total, counts.up, view.summary);
}
void jsonl_host(std::ostream& out, const ScanView& view, std::uint32_t host) {
    if (view.discovery) write_discovery_jsonl_host(out, view.results, host, view.summary);
    else write_jsonl_host(out, view.results, host, view.options, view.summary);
}

// nmap's XML and grepable writers tell a discovery (-sn) Results by its probe kinds.
void xml_start(std::ostream& out, const ScanView& view) { write_xml_start(out, view.results, view.summary); }
void xml_host(std::ostream& out, const ScanView& view, std::uint32_t host) {
    write_xml_host(out, view.results, host, view.services, view.options, view.summary);
}
void xml_end(std::ostream& out, const ScanView& view) {
    write_xml_end(out, view.results, view.options, view.summary, !view.summary.interrupted,
                  view.summary.interrupted ? "interrupted" : "");
}
void grepable_start(std::ostream& out, const ScanView& view) { write_grepable_start(out, view.results, view.summary); }
void grepable_host(std::ostream& out, const ScanView& view, std::uint32_t host) {
    write_grepable_host(out, view.results, host, view.services, view.options, view.summary);
}
void grepable_end(std::ostream& out, const ScanView& view) {
    write_grepable_end(out, view.results, view.options, view.summary);
}

Writers writers(OutputFormat format) {
    switch (format) {
        case OutputFormat::normal: return {normal_start, normal_host, normal_end};
        case OutputFormat::normal_file: return {normal_file_start, normal_host, normal_file_end};
        case OutputFormat::jsonl: return {jsonl_start, jsonl_host, jsonl_end};
        case OutputFormat::xml: return {xml_start, xml_host, xml_end};
        case OutputFormat::grepable: return {grepable_start, grepable_host, grepable_end};
    }
    return {};
}

std::string_view format_option(OutputFormat format) {
    switch (format) {
        case OutputFormat::normal:
        case OutputFormat::normal_file: return "-oN";
        case OutputFormat::xml: return "-oX";
        case OutputFormat::grepable: return "-oG";
        case OutputFormat::jsonl: return "-oJ";
    }
    return "";
}

std::string with_suffix(const std::string& base, std::string_view suffix, const std::string& given) {
    if (!given.empty() || base.empty()) return given;
    return base + std::string(suffix);
}

}  // namespace

OutputPaths output_paths(const ScanConfig& config) {
    return OutputPaths{with_suffix(config.all_base, ".nmap", config.normal_path),
                       with_suffix(config.all_base, ".xml", config.xml_path),
                       with_suffix(config.all_base, ".gnmap", config.grepable_path),
                       with_suffix(config.all_base, ".jsonl", config.json_path)};
}

Result<OutputSet> OutputSet::open(const ScanConfig& config, std::ostream& out) {
    const OutputPaths paths = output_paths(config);
    // Each format's path, and whether the user named it (else it is one of -oA BASE's files).
    const std::tuple<OutputFormat, const std::string*, bool> asked[] = {
        {OutputFormat::normal, &paths.normal, !config.normal_path.empty()},
        {OutputFormat::xml, &paths.xml, !config.xml_path.empty()},
        {OutputFormat::grepable, &paths.grepable, !config.grepable_path.empty()},
        {OutputFormat::jsonl, &paths.jsonl, !config.json_path.empty()}};
    OutputSet set;
    for (const auto& [format, path, named] : asked) set.stdout_other_ = set.stdout_other_ || (format != OutputFormat::normal && *path == "-");
    if (!set.stdout_other_) set.add(OutputFormat::normal, "", out);
    for (const auto& [format, path, named] : asked) {
        if (path->empty() || (format == OutputFormat::normal && *path == "-")) continue;
        set.add(format, *path == "-" ? "" : *path, out);
        const Destination& added = set.destinations_.back();
        if (added.file && !*added.file)
            return Error{"cannot write '" + *path + "' (" + (named ? std::string(format_option(format)) : "-oA") +
                         "): " + std::strerror(added.error != 0 ? added.error : EIO)};
    }
    return set;
}

void OutputSet::add(OutputFormat format, const std::string& path, std::ostream& out) {
    if (format == OutputFormat::normal && !path.empty()) format = OutputFormat::normal_file;
    Destination destination{format, path, nullptr, &out};
    if (!path.empty()) {
        errno = 0;
        destination.file = std::make_unique<std::ofstream>(path, std::ios::out | std::ios::trunc);
        destination.error = errno;
        destination.stream = destination.file.get();
    }
    destinations_.push_back(std::move(destination));
}

bool OutputSet::streams(const Destination& destination, const ScanView& view) const {
    const bool normal = destination.format == OutputFormat::normal || destination.format == OutputFormat::normal_file;
    return writers(destination.format).host != nullptr && (!normal || view.results.keeps() == Keep::listed);
}

bool OutputSet::streams_all(const ScanView& view) const {
    return std::all_of(destinations_.begin(), destinations_.end(),
                       [&](const Destination& destination) { return streams(destination, view); });
}

// A write that failed (a full disk, a closed pipe) is remembered with its errno, and said at
// the end: the scan goes on, since the other outputs may still be good.
void OutputSet::check(Destination& destination) {
    errno = 0;
    destination.stream->flush();
    destination.unflushed = false;
    if (*destination.stream || destination.failed) return;
    destination.failed = true;
    destination.error = errno != 0 ? errno : EIO;
}

void OutputSet::start(const ScanView& view) {
    written_.clear();
    for (auto& destination : destinations_) {
        if (const auto start = writers(destination.format).start) start(*destination.stream, view);
        check(destination);
    }
}

void OutputSet::host_finished(const ScanView& view, std::uint32_t host) {
    if (!written_.insert(host).second) return;
    for (auto& destination : destinations_) {
        if (!streams(destination, view)) continue;
        writers(destination.format).host(*destination.stream, view, host);
        destination.unflushed = true;
    }
}

void OutputSet::flush() {
    for (auto& destination : destinations_) {
        if (destination.unflushed) check(destination);  // check() flushes
    }
}

bool OutputSet::finish(const ScanView& view, std::ostream& err) {
    for (const std::uint32_t host : view.results.hosts_held()) host_finished(view, host);
    bool good = true;
    for (auto& destination : destinations_) {
        if (const auto end = writers(destination.format).end) end(*destination.stream, view);
        check(destination);
        if (destination.file) destination.file->close();
        if (destination.file && !*destination.file && !destination.failed) {
            destination.failed = true;
            destination.error = EIO;
        }
        if (!destination.failed) continue;
        good = false;
        err << "flagscan: cannot write '" << (destination.path.empty() ? "stdout" : destination.path)
            << "': " << std::strerror(destination.error) << '\n';
    }
    return good;
}

}  // namespace flagscan

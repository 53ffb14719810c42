// load_service_probes: choosing and reading the probe file, falling back to the built-in set.
#include "flagscan/service/load.hpp"

#include <array>
#include <utility>

#include "flagscan/net/text.hpp"

namespace flagscan {

namespace {

constexpr std::string_view file_name = "nmap-service-probes";
constexpr std::array<const char*, 2> system_paths = {"/usr/share/nmap/nmap-service-probes",
                                                      "/usr/local/share/nmap/nmap-service-probes"};

Result<LoadedProbes> load_file(const std::string& path, const std::string& text) {
    Result<ServiceProbeDb> db = ServiceProbeDb::parse(text, path);
    if (!db) return Error{db.error()};
    return LoadedProbes{std::move(db).value(), path, false};
}

}  // namespace

std::string LoadedProbes::describe() const {
    const std::string probes = std::to_string(db.probes().size()) + " probes";
    if (builtin) return std::string(file_name) + " not found; using flagscan's built-in set of " + probes;
    return "service probes: " + source + " (" + probes + ", " + std::to_string(db.rule_count()) + " rules)";
}

Result<ServiceProbeDb> builtin_service_probes() {
    return ServiceProbeDb::parse(builtin_service_probes_text(), "built-in service probes");
}

Result<LoadedProbes> load_service_probes(const ProbeFileChoice& choice) {
    if (choice.versiondb) {
        const std::optional<std::string> text = read_text_file(*choice.versiondb);
        if (!text) return Error{*choice.versiondb + ": cannot read the file"};
        return load_file(*choice.versiondb, *text);
    }
    std::vector<std::string> candidates;
    if (choice.datadir) candidates.push_back(*choice.datadir + "/" + std::string(file_name));
    for (const char* path : system_paths) candidates.emplace_back(path);
    for (const std::string& path : candidates) {
        if (const std::optional<std::string> text = read_text_file(path)) return load_file(path, *text);
    }
    Result<ServiceProbeDb> db = builtin_service_probes();
    if (!db) return Error{db.error()};
    return LoadedProbes{std::move(db).value(), "built-in", true};
}

Result<LoadedProbes> load_service_probes(const std::optional<std::string>& versiondb) {
    return load_service_probes(ProbeFileChoice{versiondb, std::nullopt});
}

}  // namespace flagscan

// Resolving the command line's targets and exclusions into the set of hosts to scan or list.
#include "flagscan/cli/hosts.hpp"

namespace flagscan {

Result<AddressSet> command_line_hosts(const ScanConfig& config, const Resolver& resolve, std::ostream& err) {
    auto targets = parse_target_list(config.targets, resolve);
    if (!targets) return Error{targets.error()};
    const auto& unresolved = targets->unresolved;
    if (targets->addresses.empty() && !unresolved.empty()) {
        const std::string more = unresolved.size() > 1 ? " (and " + std::to_string(unresolved.size() - 1) + " more)" : "";
        return Error{"nothing to scan: no target resolved: " + unresolved.front() + more};
    }
    for (const auto& line : unresolved) err << "flagscan: warning: " << line << "; skipping it\n";
    AddressSet hosts = std::move(targets->addresses);
    if (!config.excludes.empty()) {
        auto excluded = parse_target_list(config.excludes, resolve);
        if (!excluded) return Error{excluded.error()};
        if (!excluded->unresolved.empty()) return Error{"--exclude: " + excluded->unresolved.front()};
        hosts.subtract(excluded->addresses);
    }
    if (hosts.empty()) return Error{"no targets left to scan after --exclude"};
    return hosts;
}

}  // namespace flagscan

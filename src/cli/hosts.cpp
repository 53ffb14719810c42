// Resolving the command line's targets and exclusions into the set of hosts to scan or list.
#include "flagscan/cli/hosts.hpp"

#include "flagscan/targets/reserved.hpp"

namespace flagscan {

Result<AddressSet> command_line_hosts(const ScanConfig& config, const Resolver& resolve, std::ostream& err) {
    const ReservedRule rule = config.include_reserved ? ReservedRule::skip_multicast : ReservedRule::skip_implied;
    auto targets = parse_target_list(config.targets, resolve, rule);
    if (!targets) return Error{targets.error()};
    const auto& unresolved = targets->unresolved;
    if (targets->addresses.empty() && !unresolved.empty()) {
        const std::string more = unresolved.size() > 1 ? " (and " + std::to_string(unresolved.size() - 1) + " more)" : "";
        return Error{"nothing to scan: no target resolved: " + unresolved.front() + more};
    }
    for (const auto& line : unresolved) err << "flagscan: warning: " << line << "; skipping it\n";
    if (!targets->reserved_left_out.empty()) err << "flagscan: " << reserved_note(targets->reserved_left_out, rule) << '\n';
    AddressSet hosts = std::move(targets->addresses);
    if (!config.excludes.empty()) {
        auto excluded = parse_target_list(config.excludes, resolve);
        if (!excluded) return Error{excluded.error()};
        if (!excluded->unresolved.empty()) return Error{"--exclude: " + excluded->unresolved.front()};
        hosts.subtract(excluded->addresses);
    }
    if (hosts.empty() && !targets->reserved_left_out.empty() && config.excludes.empty())
        return Error{"no targets left to scan: they are all reserved addresses (RFC 6890) inside a larger range"};
    if (hosts.empty()) return Error{"no targets left to scan after --exclude"};
    return hosts;
}

}  // namespace flagscan

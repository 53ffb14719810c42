// Resolving the command line's targets and exclusions into the set of hosts to scan or list (IPv4 or IPv6).
#include "flagscan/cli/hosts.hpp"

#include "flagscan/net/text.hpp"
#include "flagscan/targets/reserved.hpp"

namespace flagscan {
namespace {

// Names that did not resolve: an error when nothing else did (`none_resolved`), else a warning each.
Result<bool> tell_unresolved(bool none_resolved, const std::vector<std::string>& unresolved, std::ostream& err) {
    if (none_resolved && !unresolved.empty()) {
        const std::string more = unresolved.size() > 1 ? " (and " + std::to_string(unresolved.size() - 1) + " more)" : "";
        return Error{"nothing to scan: no target resolved: " + unresolved.front() + more};
    }
    for (const auto& line : unresolved) err << "flagscan: warning: " << line << "; skipping it\n";
    return true;
}

// The --exclude and --excludefile expressions that may name the scan's hosts: names, and the
// addresses of its family. A blocklist may hold both families (zmap's and masscan's do), and an
// address of the other family cannot be a target anyway.
std::vector<TargetExpression> excludes_for(const ScanConfig& config, bool ipv6) {
    std::vector<TargetExpression> kept;
    for (const auto& expression : config.excludes) {
        const std::string_view text = trim_space(expression.text);
        const bool other = ipv6 ? is_ipv4_syntax(text.substr(0, text.find('/'))) : names_ipv6(text);
        if (!other) kept.push_back(expression);
    }
    return kept;
}

Error unresolved_exclude(const std::vector<std::string>& unresolved) { return Error{"--exclude: " + unresolved.front()}; }

}  // namespace

Result<AddressSet> command_line_hosts(const ScanConfig& config, const Resolver& resolve, std::ostream& err) {
    const ReservedRule rule = config.include_reserved ? ReservedRule::skip_multicast : ReservedRule::skip_implied;
    auto targets = parse_target_list(config.targets, resolve, rule);
    if (!targets) return Error{targets.error()};
    if (auto told = tell_unresolved(targets->addresses.empty(), targets->unresolved, err); !told) return Error{told.error()};
    if (!targets->reserved_left_out.empty()) err << "flagscan: " << reserved_note(targets->reserved_left_out, rule) << '\n';
    AddressSet hosts = std::move(targets->addresses);
    const auto excludes = excludes_for(config, false);
    if (!excludes.empty()) {
        auto excluded = parse_target_list(excludes, resolve);
        if (!excluded) return Error{excluded.error()};
        if (!excluded->unresolved.empty()) return unresolved_exclude(excluded->unresolved);
        hosts.subtract(excluded->addresses);
    }
    if (hosts.empty() && !targets->reserved_left_out.empty() && config.excludes.empty())
        return Error{"no targets left to scan: they are all reserved addresses (RFC 6890) inside a larger range"};
    if (hosts.empty()) return Error{"no targets left to scan after --exclude"};
    return hosts;
}

Result<Ipv6Ranges> command_line_hosts6(const ScanConfig& config, const Resolver6& resolve, std::ostream& err) {
    auto targets = parse_target_list6(config.targets, resolve);
    if (!targets) return Error{targets.error()};
    if (auto told = tell_unresolved(targets->addresses.empty(), targets->unresolved, err); !told) return Error{told.error()};
    Ipv6Ranges hosts = std::move(targets->addresses);
    const auto excludes = excludes_for(config, true);
    if (!excludes.empty()) {
        auto excluded = parse_target_list6(excludes, resolve);
        if (!excluded) return Error{excluded.error()};
        if (!excluded->unresolved.empty()) return unresolved_exclude(excluded->unresolved);
        hosts = subtract_ranges(hosts, excluded->addresses);
    }
    if (hosts.empty()) return Error{"no targets left to scan after --exclude"};
    return hosts;
}

}  // namespace flagscan

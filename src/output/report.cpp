// What a report lists: shared by every output format so they always agree.
#include "flagscan/output/report.hpp"

#include <algorithm>

#include "flagscan/os/os_hint.hpp"

namespace flagscan {

std::string_view host_name(const ScanSummary& summary, std::uint32_t host) {
    return host < summary.host_names.size() ? std::string_view{summary.host_names[host]} : std::string_view{};
}

Reason host_reason(const ScanSummary& summary, std::uint32_t host) {
    return host < summary.host_reasons.size() ? summary.host_reasons[host] : summary.default_host_reason;
}

std::optional<std::string> os_hint_of(const Results& results, std::uint32_t host) {
    const SynAckSeen* seen = results.syn_ack(host);
    if (seen == nullptr) return std::nullopt;
    return os_hint_text(os_hint(seen->ttl, seen->df, seen->window, seen->options.view()));
}

bool host_is_up(const Results& results, std::uint32_t host, const ReportOptions& options) {
    return options.hosts_assumed_up || results.host(host).replies > 0;
}

// nmap's PortList::hasOpenPorts: what --open keeps a host for.
bool host_is_reported(const Results& results, std::uint32_t host, const ReportOptions& options) {
    if (!host_is_up(results, host, options)) return false;
    if (!options.open_only) return true;
    const auto counts = results.host(host).counts;
    return counts[static_cast<int>(PortState::open)] + counts[static_cast<int>(PortState::open_filtered)] +
               counts[static_cast<int>(PortState::unfiltered)] >
           0;
}

std::uint64_t hosts_up(const Results& results, const ReportOptions& options) {
    return options.hosts_assumed_up ? results.targets().host_count() : results.hosts_replied();
}

std::string_view host_reason_name(const TargetSet& targets, Reason reason) {
    if (targets.ipv6() && reason == Reason::arp_response) return "nd-response";
    return to_string(reason);
}

// IPv6's ARP is Neighbor Discovery (RFC 4861) and its echo is ICMPv6's (RFC 4443 4.1).
std::string_view ping_method_name(const TargetSet& targets, const ProbeKind& kind) {
    if (!targets.ipv6()) return kind.name;
    if (kind.protocol == ipproto::arp) return "neighbor solicitation";
    if (kind.name == "ICMP echo") return "ICMPv6 echo";
    return kind.name;
}

std::string_view protocol_name(const ProbeKind& kind) {
    switch (kind.protocol) {
        case ipproto::tcp: return "tcp";
        case ipproto::udp: return "udp";
        case ipproto::icmp: return "icmp";
        default: return "ip";
    }
}

namespace {

constexpr std::uint32_t kListedUpTo = Results::kListedUpTo;

// nmap's isIgnoredState: open is always listed; --open folds every state that cannot be open;
// the others fold when more than 25 ports are in them (--all-ports: never).
bool folds(PortState state, std::uint32_t count, const ReportOptions& options) {
    if (state == PortState::unscanned || state == PortState::open || count == 0) return false;
    if (options.open_only && state != PortState::open_filtered && state != PortState::unfiltered) return true;
    return !options.all_ports && count > kListedUpTo;
}

// The folded ports grouped by (state, lane, reason), groups in the order their first port comes.
std::vector<NotShown> group_folded(const Results& results, std::uint32_t host, const HostListing& listing) {
    std::vector<NotShown> groups;
    for (const PortGroup& group : results.groups(host)) {
        if (listing.folded[static_cast<int>(group.state)])
            groups.push_back(NotShown{group.state, group.lane, group.reason, group.count});
    }
    return groups;
}

}  // namespace

std::uint32_t HostListing::scanned() const {
    std::uint32_t total = 0;
    for (int s = 1; s < kPortStateCount; ++s) total += counts[s];
    return total;
}

std::uint32_t HostListing::folded_ports() const {
    std::uint32_t total = 0;
    for (int s = 0; s < kPortStateCount; ++s) total += folded[s] ? counts[s] : 0;
    return total;
}

// nmap's order (PortList::nextIgnoredState, then reason_sort): the biggest state first (a tie:
// the lower state number, nmap's and ours agree: closed, filtered, unfiltered, open|filtered,
// closed|filtered); inside a state the biggest group first, equal ones latest port first (nmap's
// merge sort takes the later of two equal groups first).
HostListing host_listing(const Results& results, std::uint32_t host, const ReportOptions& options) {
    HostListing listing;
    const HostResult shown = results.host(host);
    listing.counts = shown.counts;
    for (int s = 0; s < kPortStateCount; ++s) {
        const bool dropped = (shown.dropped_states >> s & 1) != 0;  // Keep::listed no longer has them
        listing.folded[s] = folds(static_cast<PortState>(s), listing.counts[s], options) || dropped;
    }
    listing.not_shown = group_folded(results, host, listing);
    std::reverse(listing.not_shown.begin(), listing.not_shown.end());
    const auto& counts = listing.counts;
    std::stable_sort(listing.not_shown.begin(), listing.not_shown.end(), [&](const NotShown& a, const NotShown& b) {
        const auto sa = static_cast<int>(a.state), sb = static_cast<int>(b.state);
        if (sa != sb) return counts[sa] != counts[sb] ? counts[sa] > counts[sb] : sa < sb;
        return a.count > b.count;
    });
    return listing;
}

void for_each_listed_port(const Results& results, std::uint32_t host, const ReportOptions& options,
                          const std::function<void(std::uint64_t index)>& visit) {
    for_each_listed_port(results, host, host_listing(results, host, options), visit);
}

void for_each_listed_port(const Results& results, std::uint32_t host, const HostListing& listing,
                          const std::function<void(std::uint64_t index)>& visit) {
    for (const auto [index, slot] : results.targets().slots_of(host)) {
        if (listing.lists(results.port(index).state)) visit(index);
    }
}

}  // namespace flagscan

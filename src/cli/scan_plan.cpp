// Building the lanes of a scan from the command line: port scans and host discovery.
#include "flagscan/cli/scan_plan.hpp"
#include "flagscan/probe/spoof_mac.hpp"

#include <algorithm>

#include "flagscan/targets/port_list.hpp"

namespace flagscan {
namespace {

void add_lane(ScanPlan& plan, const ProbeKind& kind, const std::vector<Port>& ports) {
    const auto lane = static_cast<std::uint8_t>(plan.kinds.size());
    plan.kinds.push_back(&kind);
    for (const Port port : ports) plan.slots.push_back(Slot{port, lane});
}

// --top-ports N -p SPEC: the N most common ports among those of SPEC, as nmap picks them.
std::vector<Port> most_common_of(const std::vector<Port>& given, const ServiceTable& services, Protocol proto,
                                 std::size_t n) {
    std::vector<Port> ports;
    for (const Port port : services.top_ports(proto, 65536)) {
        if (ports.size() == n) break;
        if (std::binary_search(given.begin(), given.end(), port)) ports.push_back(port);
    }
    return ports;
}

Result<std::vector<Port>> ports_for(const ScanConfig& config, const ServiceTable& services, Protocol proto) {
    if (!config.ports_spec.empty()) {
        auto spec = parse_port_spec(config.ports_spec, services);
        if (!spec) return Error{spec.error()};
        const std::vector<Port>& given = proto == Protocol::tcp ? spec->tcp : spec->udp;
        if (!config.top_ports_given) return given;
        return most_common_of(given, services, proto, config.top_ports);
    }
    auto ports = services.top_ports(proto, config.top_ports);
    if (ports.empty())
        return Error{"no ranking of common UDP ports here (nmap-services is not installed): give the ports with -p"};
    return ports;
}

}  // namespace

Result<ScanPlan> port_scan_plan(const ScanConfig& config, const ServiceTable& services) {
    ScanPlan plan;
    if (config.tcp_scan) {
        auto ports = ports_for(config, services, Protocol::tcp);
        if (!ports) return Error{ports.error()};
        add_lane(plan, config.kind, *ports);
        plan.title = std::string(config.kind.name) + " scan";
    }
    if (config.udp_scan) {
        auto ports = ports_for(config, services, Protocol::udp);
        if (!ports) return Error{ports.error()};
        add_lane(plan, udp_kind(), *ports);
        plan.title = plan.title.empty() ? "UDP scan" : std::string(config.kind.name) + " and UDP scan";
    }
    if (plan.slots.empty()) return Error{"no ports to scan"};
    return plan;
}

ScanPlan discovery_plan(const PingPlan& ping, bool ipv6) {
    ScanPlan plan;
    plan.title = "host discovery";
    PingPlan ip_methods = ping;
    ip_methods.arp = false;
    if (!ip_methods.given()) {  // none, or only -PR for targets off the local network
        add_lane(plan, ping_echo_kind(), {Port{0}});
        add_lane(plan, ping_syn_kind(), {Port{443}});
        add_lane(plan, ping_ack_kind(), {Port{80}});
        if (!ipv6) add_lane(plan, ping_timestamp_kind(), {Port{0}});
        return plan;
    }
    if (ping.echo) add_lane(plan, ping_echo_kind(), {Port{0}});
    if (!ping.syn.empty()) add_lane(plan, ping_syn_kind(), ping.syn);
    if (!ping.ack.empty()) add_lane(plan, ping_ack_kind(), ping.ack);
    if (ping.timestamp) add_lane(plan, ping_timestamp_kind(), {Port{0}});
    if (!ping.udp.empty()) add_lane(plan, ping_udp_kind(), ping.udp);
    return plan;
}

ScanPlan arp_discovery_plan() {
    ScanPlan plan;
    plan.title = "host discovery (ARP)";
    add_lane(plan, ping_arp_kind(), {Port{0}});
    return plan;
}

ScanPlan connect_discovery_plan() {
    ScanPlan plan;
    plan.title = "host discovery (connect)";
    add_lane(plan, ping_syn_kind(), {Port{80}, Port{443}});
    return plan;
}

ProbeShape probe_shape(const ScanConfig& config, MacAddress mac) {
    ProbeShape shape{config.ttl.value_or(64), 1024, 1460, mac};
    if (config.data_length) shape.data = random_data(*config.data_length, config.seed);
    shape.badsum = config.badsum;
    shape.ip_options = config.ip_options;
    return shape;
}

namespace {

// -D: the sources every probe went out from, ours among them (the first 8 named).
// An IPv6 scan's RND addresses are drawn in the /64 of a source the route picks later: named so.
std::string decoy_sentence(const DecoyPlan& plan, std::span<const DecoyEntry> entries, bool ipv6) {
    std::vector<std::string> named;
    for (const Ipv4 ip : plan.decoys) named.push_back(ip.str());
    std::uint32_t random6 = 0;
    for (const auto& entry : entries) {
        if (ipv6 && entry.kind == DecoyEntry::Kind::address6) named.push_back(entry.address6.str());
        if (ipv6 && entry.kind == DecoyEntry::Kind::random) random6 += entry.count;
    }
    if (random6 > 0) named.push_back(std::to_string(random6) + " random in our own /64");
    std::string names;
    for (std::size_t i = 0; i < named.size() && i < 8; ++i) names += (i ? ", " : "") + named[i];
    if (named.size() > 8) names += ", ...";
    const std::size_t decoys = plan.copies() - 1;
    return "Each probe also went out from " + std::to_string(decoys) + " decoy source address" +
           (decoys == 1 ? "" : "es") + " (" + names + "), ours as copy " + std::to_string(plan.me_at + 1) +
           " of " + std::to_string(plan.copies()) + "; a target answers each copy to its source address, so the "
           "decoys' replies never reach us and no verdict rests on them.";
}

// --spoof-mac: what changed on the wire, and what did not.
std::string spoof_mac_sentence(const ScanConfig& config) {
    const auto vendors = load_mac_prefixes();
    const auto mac = parse_spoof_mac(config.spoof_mac, vendors, config.seed);
    const std::string which = mac ? spoofing_line(*mac, vendors).substr(21) : config.spoof_mac;
    return "Each probe went out as an Ethernet frame from MAC " + which + " instead of the interface's own "
           "(--spoof-mac): only the link header's source changed, and only the first hop sees it. Replies came back "
           "to our IP address, framed to our real MAC (whose ARP the interface answers) or to the spoofed one when "
           "the target learned it from our ARP request or Neighbor Solicitation (RFC 826, RFC 4861 7.2.3); the "
           "capture, promiscuous, saw both.";
}

}  // namespace

std::vector<std::string> shaping_sentences(const ScanConfig& config) {
    std::vector<std::string> said;
    if (config.fragment_data > 0)
        said.push_back(config.ipv6
                           ? "Each probe went out as IPv6 fragments (RFC 8200 4.5: one Fragment header "
                             "Identification, M on all but the last), the first holding its whole TCP, UDP or "
                             "ICMPv6 header (a target discards a first fragment without it and answers Parameter "
                             "Problem code 3), the later ones " + std::to_string(config.fragment_data) +
                                 " data bytes; the target put it back together before answering, unless it or a "
                                 "filter on the way dropped the pieces (many networks drop IPv6 fragments, RFC 7872)."
                           : "Each probe went out as IP fragments of at most " + std::to_string(config.fragment_data) +
                                 " data bytes (RFC 791 3.2: same IP id, MF on all but the last); the target put it "
                                 "back together before answering, unless a filter on the way dropped the pieces.");
    if (config.data_length)
        said.push_back("Each TCP, UDP and ICMP probe carried " + std::to_string(*config.data_length) +
                       " random data bytes after its header" +
                       (config.udp_scan ? std::string(", instead of any UDP protocol payload") : std::string()) + ".");
    if (config.ttl)
        said.push_back("Each probe left with " + std::string(config.ipv6 ? "hop limit " : "TTL ") + std::to_string(*config.ttl) +
                       (config.ipv6 ? " (RFC 8200 3)" : " (RFC 791 3.1)") +
                       ": each router on the way takes one off, and the one that takes the last drops the probe and "
                       "may answer with an ICMP time exceeded (RFC 792; RFC 4443 3.3 over IPv6), so a probe with "
                       "too few hops never reaches the target and its port reads as if filtered.");
    if (config.badsum)
        said.push_back("Each TCP and UDP probe had a wrong checksum on purpose: a real stack drops it unanswered "
                       "(RFC 1122 4.1.3.4, 4.2.2.7), so a reply came from something that did not check it, a "
                       "firewall or middlebox.");
    if (!config.ip_options.empty())
        said.push_back("Each probe's IP header carried " + std::to_string(config.ip_options.bytes.size()) +
                       " bytes of options (RFC 791 3.1): " + describe_ip_options(config.ip_options) +
                       "; routers and hosts may drop such packets, and a reply does not echo them.");
    if (!config.decoys.empty()) {
        const auto source6 = config.ipv6 ? std::optional{config.source6.value_or(Ipv6{})} : std::nullopt;
        said.push_back(decoy_sentence(plan_decoys(config.decoys, config.seed, source6), config.decoys, config.ipv6));
    }
    if (!config.spoof_mac.empty()) said.push_back(spoof_mac_sentence(config));
    return said;
}

}  // namespace flagscan

// ScanPlan: which probe kinds a command line sends, to which ports: the lanes of a target set.
#pragma once

#include <string>
#include <vector>

#include "flagscan/cli/options.hpp"
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/targets/services.hpp"
#include "flagscan/targets/target_set.hpp"

namespace flagscan {

// The lanes of one engine run: kinds[lane] is sent to every slot of that lane.
struct ScanPlan {
    std::vector<const ProbeKind*> kinds;
    std::vector<Slot> slots;
    std::string title;  // "SYN scan", "SYN and UDP scan", "host discovery"
};

// The port scan: the TCP kind (lane 0) and/or UDP (next lane), over -p or the top ports.
// Kinds point into `config` or the static tables, so config must outlive the plan.
Result<ScanPlan> port_scan_plan(const ScanConfig& config, const ServiceTable& services);

// Host discovery: one lane per method. With no -P option, nmap's default for root: ICMP echo,
// TCP SYN to 443, TCP ACK to 80, and over IPv4 ICMP timestamp (IPv6 has none: ICMPv6 echo, SYN, ACK).
ScanPlan discovery_plan(const PingPlan& ping, bool ipv6 = false);

// Host discovery on the directly attached Ethernet: ARP requests only (-PR, nmap's default there).
ScanPlan arp_discovery_plan();

// Host discovery without root: connect() to 80 and 443 (a refused connection proves the host
// is up as well as an accepted one), read with the SYN ping's rows.
ScanPlan connect_discovery_plan();

// How the raw probes of a scan are shaped: --ttl, --data-length (random bytes from the scan's
// seed), --badsum; `mac` is the interface's, for ARP.
ProbeShape probe_shape(const ScanConfig& config, MacAddress mac);

// What the shaping options do to the probes, one sentence each, for --explain (none: empty).
std::vector<std::string> shaping_sentences(const ScanConfig& config);

}  // namespace flagscan

// The kernel's neighbour table (netlink) and routes: where --spoof-mac's and the direct link's frames go on the link.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/ipv6.hpp"

namespace flagscan {

// A neighbour the kernel has resolved: its address (IPv4 as ::ffff:a.b.c.d) and MAC.
struct Neighbor {
    Ipv6 address;
    MacAddress mac{};
};

// The Ethernet neighbours of `device` the kernel holds with a usable MAC (reachable, stale,
// delay, probe, permanent: not incomplete or failed), IPv4 (ARP, RFC 826) and IPv6 (NDP, RFC
// 4861 5.1), read with one RTM_GETNEIGH dump each; empty when netlink cannot be read.
std::vector<Neighbor> kernel_neighbors(const std::string& device);

// One route of /proc/net/route (addresses as the kernel prints them: hex, network order).
struct Ipv4Route {
    Ipv4 destination;
    Ipv4 mask;
    Ipv4 gateway;  // 0.0.0.0: the destination is on the link
    std::uint32_t metric = 0;
    std::string device;
};

// Every well-formed line of /proc/net/route's text ("Iface Destination Gateway Flags RefCnt Use
// Metric Mask ..."); the header and other lines are passed over.
std::vector<Ipv4Route> parse_ipv4_routes(std::string_view text);
// The kernel's IPv4 routes (/proc/net/route); empty when it cannot be read.
std::vector<Ipv4Route> kernel_ipv4_routes();
// Whom a packet to `target` out of `device` is handed to (RFC 1122 3.3.1.1): the target itself
// when its longest-matching route has no gateway, else the gateway; nullopt when no route of
// `device` matches.
std::optional<Ipv4> next_hop4(std::span<const Ipv4Route> routes, Ipv4 target, const std::string& device);

// Whom each destination's frames out of `device` are handed to, as the kernel's routes (read once, now) say
// (RFC 1122 3.3.1.1, RFC 4861 5.2): the destination itself on the link, else its gateway; nullopt when no route of
// `device` reaches it. IPv4 destinations as ::ffff:a.b.c.d (`ipv6` false), else IPv6 ones.
std::function<std::optional<Ipv6>(const Ipv6& destination)> kernel_next_hops(const std::string& device, bool ipv6);

}  // namespace flagscan

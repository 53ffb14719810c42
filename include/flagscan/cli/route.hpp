// Route: which local address and interface reach a target, as the kernel's routing table says.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/address_book.hpp"
#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/ipv6.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/targets/ipv6_targets.hpp"

namespace flagscan {

struct RouteChoice {
    Ipv4 source;
    std::string interface;
    std::optional<Ipv4Range> subnet;  // the directly attached network of `source` (none with -S spoofing)
    std::optional<MacAddress> mac;    // the interface's Ethernet address (none on loopback, tunnels)

    bool on_link(Ipv4 target) const { return subnet && subnet->first <= target && target <= subnet->last; }
};

// The source address the kernel would use for `target` (a connected UDP socket: no packet is
// sent) and the interface that holds it. `interface` / `source` override (-e / -S).
Result<RouteChoice> choose_route(Ipv4 target, const std::string& interface, std::optional<Ipv4> source);

// The source address the kernel's routing table picks for `target`, asked through a connected
// UDP socket: no packet is sent, no other socket opened.
Result<Ipv4> kernel_source_for(Ipv4 target);

// ---- IPv6 ----

// An IPv6 scan's route in addresses: our source, the interface holding it, the prefix it holds
// it under (its on-link prefix, RFC 4861 2.1) and the interface's Ethernet address.
struct RouteChoice6 {
    Ipv6 source;
    std::string interface;
    std::optional<Ipv6Prefix> subnet;  // none with -S spoofing an address no interface holds
    std::optional<MacAddress> mac;     // none on loopback, tunnels
};

// One route of the kernel's table as /proc/net/ipv6_route lists it (the same file nmap reads).
struct Ipv6Route {
    Ipv6Prefix destination;
    Ipv6 next_hop;  // :: when the destination is on the link
    std::uint32_t metric = 0;
    std::uint32_t flags = 0;  // RTF_* (linux/route.h, linux/ipv6_route.h)
    std::string device;
};

// Every well-formed line of /proc/net/ipv6_route's text: "dest plen src splen next_hop metric
// refcnt use flags device", addresses in 32 hex digits; other lines are passed over.
std::vector<Ipv6Route> parse_ipv6_routes(std::string_view text);
// The kernel's IPv6 routes, from /proc/net/ipv6_route; empty when it cannot be read.
std::vector<Ipv6Route> kernel_ipv6_routes();
// The route `target` takes: the longest matching prefix, then the lowest metric (RFC 4861 5.2's
// longest-prefix match), then one through `device` (fe80::/64 is on every link); nullopt when none matches.
std::optional<Ipv6Route> route_for(std::span<const Ipv6Route> routes, Ipv6 target, const std::string& device = {});
// True when `target` is reached on the link of `interface` without a router (no next hop, no
// gateway, not a reject route): a Neighbor Solicitation finds it (RFC 4861 7.2), as ARP does for IPv4.
bool on_link(std::span<const Ipv6Route> routes, Ipv6 target, const std::string& interface);

// The source address the kernel picks for `target` (RFC 6724's rules), asked through a connected
// UDP socket: no packet is sent. A link-local target (fe80::/10) is on the link of `interface`,
// which must be given (-e): a scan takes no zone index.
Result<Ipv6> kernel_source_for6(Ipv6 target, const std::string& interface);

// The same as choose_route for an IPv6 target. With -e and no -S, the interface's first address
// of the target's scope (link-local for a link-local target, else one that is not).
Result<RouteChoice6> choose_route6(Ipv6 target, const std::string& interface, std::optional<Ipv6> source);

// An IPv6 scan's route as the engine sees it, in AddressBook keys: `source` is the source's key
// (added to `book` when it is not a target), and `subnet` spans the targets' keys when every
// target is on the attached link (`targets_on_link`), so that on_link() says so of each target
// (the keys of sorted targets are consecutive); else no subnet. An error when the book is full.
Result<RouteChoice> keyed_route(const RouteChoice6& route, const Ipv6Ranges& targets, bool targets_on_link, AddressBook& book);

// True when an interface of that name exists.
bool interface_exists(const std::string& name);

}  // namespace flagscan

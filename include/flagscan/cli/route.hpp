// Route: which local address and interface reach a target, as the kernel's routing table says.
#pragma once

#include <optional>
#include <string>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/targets/address_set.hpp"

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

// True when an interface of that name exists.
bool interface_exists(const std::string& name);

}  // namespace flagscan

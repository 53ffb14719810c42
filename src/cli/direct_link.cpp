// The direct link of a live scan: our probes as Ethernet frames to next hops the kernel or the capture named, else the raw socket.
#include "flagscan/cli/direct_link.hpp"

#include "flagscan/cli/neighbors.hpp"

namespace flagscan {

Result<std::unique_ptr<DirectLink>> DirectLink::open(const RouteChoice& route, bool ipv6, FrameSink& fallback) {
    if (!route.mac) return Error{"'" + route.interface + "' has no Ethernet address"};
    auto link = LinkSink::open(route.interface);
    if (!link) return Error{link.error()};
    std::unique_ptr<DirectLink> direct{new DirectLink(std::move(link).value())};
    for (const Neighbor& neighbor : kernel_neighbors(route.interface)) direct->cache_.learn(neighbor.address, neighbor.mac);
    direct->ethernet_.emplace(direct->link_, *route.mac, kernel_next_hops(route.interface, ipv6), direct->cache_,
                              EthernetSink::Ask{}, &fallback);
    return direct;
}

}  // namespace flagscan

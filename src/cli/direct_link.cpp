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
    // Our own address is the raw socket's (the kernel loops it back): under -w the capture sees our
    // ARP replies, which would teach the cache our own MAC for it.
    auto next_hop = [hops = kernel_next_hops(route.interface, ipv6), self = Ipv6::mapped(route.source)](
                        const Ipv6& destination) { return destination == self ? std::nullopt : hops(destination); };
    direct->ethernet_.emplace(direct->link_, *route.mac, std::move(next_hop), direct->cache_, EthernetSink::Ask{}, &fallback);
    return direct;
}

}  // namespace flagscan

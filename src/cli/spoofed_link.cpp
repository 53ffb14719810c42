// --spoof-mac's edge of a live scan: next hops from the kernel's routes, their MACs from its neighbours or our own ARP / NS.
#include "flagscan/cli/spoofed_link.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "flagscan/cli/neighbors.hpp"

namespace flagscan {

Result<std::unique_ptr<SpoofedLink>> SpoofedLink::open(const RouteChoice& route, AddressBook* book, const MacAddress& mac,
                                                       const ProbeShape& shape) {
    auto link = LinkSink::open(route.interface);
    if (!link) return Error{link.error()};
    const ProbeKind* arp[] = {&ping_arp_kind()};
    auto asker = ProbeBuilder::create(arp, shape, nullptr, book);
    if (!asker) return Error{asker.error()};
    std::unique_ptr<SpoofedLink> spoofed{new SpoofedLink(std::move(link).value(), std::move(asker).value(), route, book)};
    spoofed->ethernet_.emplace(spoofed->link_, mac, kernel_next_hops(route.interface, book != nullptr), spoofed->cache_,
                               [raw = spoofed.get()](const Ipv6& hop) { return raw->request_for(hop); });
    return spoofed;
}

// The ARP request (RFC 826) or Neighbor Solicitation (RFC 4861 7.2.2) for `hop` from the spoofed
// MAC. An IPv6 router takes a key in the scan's book (the builder writes keys' addresses); only
// the engine's thread asks, and only it reads the book.
std::vector<std::uint8_t> SpoofedLink::request_for(const Ipv6& hop) {
    const auto key = book_ != nullptr ? book_->key_for(hop) : hop.v4_mapped();
    if (!key) return {};
    Probe probe;
    probe.src = route_.source;
    probe.dst = *key;
    std::vector<std::uint8_t> frame(asker_.size());
    frame.resize(asker_.build(probe, frame));
    return frame;
}

Result<bool> SpoofedLink::resolve_gateways(const AddressSet& hosts) {
    for (const Neighbor& neighbor : kernel_neighbors(route_.interface)) cache_.learn(neighbor.address, neighbor.mac);
    const auto next_hop = kernel_next_hops(route_.interface, book_ != nullptr);
    std::vector<Ipv6> gateways;
    for (const auto& range : hosts.ranges()) {
        const auto first = book_ != nullptr ? book_->address_of(range.first) : std::optional{Ipv6::mapped(range.first)};
        const auto hop = first ? next_hop(*first) : std::nullopt;
        if (hop && hop != first && std::ranges::find(gateways, *hop) == gateways.end()) gateways.push_back(*hop);
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (const Ipv6& gateway : gateways) {
        while (!cache_.find(gateway) && std::chrono::steady_clock::now() < until) {
            ethernet_->ask(gateway);  // again every EthernetSink::kAskEvery
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        const auto v4 = gateway.v4_mapped();
        if (!cache_.find(gateway))
            return Error{"--spoof-mac: cannot resolve the gateway " + (v4 ? v4->str() : gateway.str()) + " on " +
                         route_.interface + " (no neighbour entry, no answer to our " +
                         (v4 ? "ARP request" : "solicitation") + ")"};
    }
    return true;
}

}  // namespace flagscan

// SpoofedLink (--spoof-mac): a live scan's raw IP probes framed from the spoofed MAC, their next hops resolved.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "flagscan/cli/route.hpp"
#include "flagscan/net/address_book.hpp"
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/wire/ethernet_sink.hpp"
#include "flagscan/wire/raw_socket_sink.hpp"

namespace flagscan {

// The link-layer socket, the builder of our ARP requests / Neighbor Solicitations (from the
// spoofed MAC, as `shape` gives it), the neighbours' MACs (the kernel's table, then the replies
// the capture sees: feed it every captured frame through learn()), and the EthernetSink the
// probes go through. Not movable: the sink points into it.
class SpoofedLink {
public:
    // `book`: an IPv6 scan's (routers take keys in it when asked for), else null; it and `route`
    // must outlive the link.
    static Result<std::unique_ptr<SpoofedLink>> open(const RouteChoice& route, AddressBook* book, const MacAddress& mac,
                                                      const ProbeShape& shape);
    SpoofedLink(const SpoofedLink&) = delete;
    SpoofedLink& operator=(const SpoofedLink&) = delete;

    FrameSink& sink() { return *ethernet_; }
    const EthernetSinkStats& stats() const { return ethernet_->stats(); }
    // Called on the capture thread with every frame it takes.
    void learn(LinkType link, std::span<const std::uint8_t> frame) { cache_.learn_from(link, frame); }
    // Before the first probe, once the capture runs: the gateway of each range of `hosts` (IPv6:
    // keys of the book) resolved, from the kernel's table or by asking for up to a second; else
    // an error naming it. Targets on the link are resolved as the scan goes (ARP or NDP
    // discovery before the port scan finds them first).
    Result<bool> resolve_gateways(const AddressSet& hosts);

private:
    SpoofedLink(LinkSink link, ProbeBuilder asker, const RouteChoice& route, AddressBook* book)
        : link_(std::move(link)), asker_(std::move(asker)), route_(route), book_(book) {}
    std::vector<std::uint8_t> request_for(const Ipv6& hop);

    LinkSink link_;
    ProbeBuilder asker_;
    const RouteChoice& route_;
    AddressBook* book_;
    NeighborCache cache_;
    std::optional<EthernetSink> ethernet_;
};

}  // namespace flagscan

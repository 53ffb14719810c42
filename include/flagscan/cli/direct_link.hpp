// DirectLink: a live scan's raw IP probes framed from our own MAC straight to their next hop through an AF_PACKET socket.
#pragma once

#include <memory>
#include <optional>
#include <span>

#include "flagscan/cli/route.hpp"
#include "flagscan/wire/ethernet_sink.hpp"
#include "flagscan/wire/raw_socket_sink.hpp"

namespace flagscan {

// Why: a raw IP socket has the kernel route every packet, run it through netfilter's OUTPUT
// hooks and look up its neighbour; handed finished frames, an AF_PACKET socket skips all three
// (about a tenth of a full-range scan's CPU time here: bench/README.md, "Profile"). Without
// PACKET_QDISC_BYPASS: that bought nothing measurable on top, and it hides every probe from the
// interface's taps (tcpdump, our own -w capture). The next hop's MAC is taken only where it is sure:
// the kernel's neighbour table when the link opens, then the ARP replies and Neighbor
// Advertisements the capture sees (feed it every captured frame through learn()). A packet whose
// next hop is not known yet goes through `fallback`, the raw socket, whose kernel resolves it; the
// reply teaches the cache, and the next packets go as frames. Not movable: the sink points into it.
class DirectLink {
public:
    // `route` must have an Ethernet address (route.mac); `fallback` must outlive the link.
    static Result<std::unique_ptr<DirectLink>> open(const RouteChoice& route, bool ipv6, FrameSink& fallback);
    DirectLink(const DirectLink&) = delete;
    DirectLink& operator=(const DirectLink&) = delete;

    FrameSink& sink() { return *ethernet_; }
    const EthernetSinkStats& stats() const { return ethernet_->stats(); }
    // Called on the capture thread with every frame it takes.
    void learn(LinkType link, std::span<const std::uint8_t> frame) { cache_.learn_from(link, frame); }

private:
    explicit DirectLink(LinkSink link) : link_(std::move(link)) {}

    LinkSink link_;
    NeighborCache cache_;
    std::optional<EthernetSink> ethernet_;
};

}  // namespace flagscan

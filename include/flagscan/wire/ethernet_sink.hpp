// EthernetSink (--spoof-mac, the direct link): IP packets sent as Ethernet frames from a MAC of our choosing to their next hop's MAC.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "flagscan/net/decode.hpp"
#include "flagscan/net/ipv6.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

// Neighbours' MACs by address (an IPv4 address as ::ffff:a.b.c.d), filled from the kernel's
// table and from the replies the capture sees; read by the sender, written by the capture
// thread, hence the lock.
class NeighborCache {
public:
    void learn(const Ipv6& address, const MacAddress& mac);
    std::optional<MacAddress> find(const Ipv6& address) const;
    // Grows whenever learn() adds an address or changes its MAC: an answer read before still holds while it is the same.
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
    // Learns from a captured frame: an ARP reply's sender (RFC 826), or a Neighbor Advertisement's
    // target with its Target Link-Layer Address option (RFC 4861 4.4, 4.6.1). Others pass.
    void learn_from(LinkType link, std::span<const std::uint8_t> frame);

private:
    mutable std::mutex mutex_;
    std::map<Ipv6, MacAddress> known_;
    std::atomic<std::uint64_t> generation_{0};
};

// `packet` (IPv4 or IPv6) behind an Ethernet II header from `source` to `destination`, its
// EtherType from the IP version (RFC 894 0x0800, RFC 2464 0x86dd), written into `out`, which
// holds 14 + packet.size() bytes.
void write_ethernet_frame(const MacAddress& destination, const MacAddress& source, std::span<const std::uint8_t> packet,
                          std::span<std::uint8_t> out);

// The IP destination of a finished IPv4 or IPv6 packet (IPv4 as ::ffff:a.b.c.d); nullopt for other bytes.
std::optional<Ipv6> packet_destination(std::span<const std::uint8_t> packet);

struct EthernetSinkStats {
    std::uint64_t unresolved = 0;   // packets dropped: their next hop's MAC was not known yet
    std::uint64_t handed_back = 0;  // packets given to the fallback sink instead, for the same reason
    std::uint64_t asked = 0;        // ARP requests / Neighbor Solicitations sent for a next hop
};

// Hands every packet to `link` (a LinkSink) as a frame from `source` to the MAC of its next hop,
// as the kernel would address it (RFC 1122 3.3.1: the destination on the link, else the
// gateway; `next_hop` says which, nullopt when none routes it). A next hop the cache does not
// know is asked for (`ask` gives the ARP request or Neighbor Solicitation from `source`, at most
// every kAskEvery) and its packet dropped, to be retransmitted by the engine like a lost one,
// or, given a `fallback` sink (the raw IP socket, whose kernel resolves the MAC itself), handed
// to it; the reply reaches the cache through the capture (NeighborCache::learn_from).
class EthernetSink final : public FrameSink {
public:
    using NextHop = std::function<std::optional<Ipv6>(const Ipv6& destination)>;
    using Ask = std::function<std::vector<std::uint8_t>(const Ipv6& hop)>;  // empty: cannot be asked
    static constexpr std::chrono::milliseconds kAskEvery{200};

    EthernetSink(FrameSink& link, const MacAddress& source, NextHop next_hop, const NeighborCache& cache, Ask ask,
                 FrameSink* fallback = nullptr)
        : link_(link), source_(source), next_hop_(std::move(next_hop)), cache_(cache), ask_(std::move(ask)),
          fallback_(fallback) {}
    // Returns how many of `packets` were handled (sent, or dropped for want of a MAC).
    std::size_t send(std::span<const std::span<const std::uint8_t>> packets) override;
    // Asks for `hop` now unless it was asked for within kAskEvery.
    void ask(const Ipv6& hop);
    const EthernetSinkStats& stats() const { return stats_; }

private:
    // A destination's next hop and, when the cache knows it, that hop's MAC.
    struct Resolved {
        Ipv6 destination;
        std::optional<Ipv6> hop;
        std::optional<MacAddress> mac;
        std::uint64_t generation = 0;  // the cache's when it was looked up
    };
    const Resolved& resolve(const Ipv6& destination);

    FrameSink& link_;
    MacAddress source_;
    NextHop next_hop_;
    const NeighborCache& cache_;
    Ask ask_;
    FrameSink* fallback_;
    std::map<Ipv6, std::chrono::steady_clock::time_point> asked_;
    EthernetSinkStats stats_;
    std::optional<Resolved> last_;  // the last destination's answer: a scan asks the same one again and again
    std::vector<std::uint8_t> frames_;  // one batch's frames, end to end (kept: no allocation per batch)
    std::vector<std::span<const std::uint8_t>> framed_, unframed_;
};

}  // namespace flagscan

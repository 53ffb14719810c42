// ProbeBuilder: libnet-built packet templates, one per lane, patched per probe (addresses, ports, cookie, checksums).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "flagscan/engine/probe.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/probe/probe_kind.hpp"
#include "flagscan/probe/udp_payloads.hpp"

namespace flagscan {

struct ProbeShape {
    std::uint8_t ttl = 64;
    std::uint16_t window = 1024;  // what nmap's raw SYN uses
    std::uint16_t mss = 1460;     // 0: no options
    MacAddress source_mac{};      // ARP probes: our interface's address
};

class ProbeBuilder {
public:
    // Builds each lane's template once with libnet (context LIBNET_NONE: construction only, no
    // root). kinds[lane] is the lane's probe kind; UDP probes carry payloads[port] when known
    // (payloads may be null: empty datagrams). The payload table must outlive the builder.
    static Result<ProbeBuilder> create(std::span<const ProbeKind* const> kinds, const ProbeShape& shape,
                                       const UdpPayloads* payloads = nullptr);
    static Result<ProbeBuilder> create(const ProbeKind& kind, const ProbeShape& shape);

    // The largest probe this builder writes: the IPv4 packet, no link header (an ARP probe is
    // a whole Ethernet frame: it goes out through a link-layer socket).
    std::size_t size() const { return max_size_; }
    // Writes the probe's packet into out (out.size() >= size()); returns its length.
    std::size_t build(const Probe& probe, std::span<std::uint8_t> out) const;

private:
    struct Lane {
        std::uint8_t protocol = 0;
        std::vector<std::uint8_t> bytes;  // IPv4 header + transport header (+ ICMP data)
    };
    ProbeBuilder(std::vector<Lane> lanes, const UdpPayloads* payloads);
    std::size_t build_tcp(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const;
    std::size_t build_udp(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const;
    std::size_t build_icmp(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const;
    std::size_t build_arp(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const;

    std::vector<Lane> lanes_;
    const UdpPayloads* payloads_ = nullptr;
    std::size_t max_size_ = 0;
};

}  // namespace flagscan

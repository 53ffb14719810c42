// ProbeBuilder: libnet-built packet templates, one per lane, patched per probe (addresses, ports, cookie, checksums).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "flagscan/engine/probe.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/probe/probe_kind.hpp"
#include "flagscan/probe/udp_payloads.hpp"

namespace flagscan {

class AddressBook;

struct ProbeShape {
    std::uint8_t ttl = 64;
    std::uint16_t window = 1024;  // what nmap's raw SYN uses
    std::uint16_t mss = 1460;     // 0: no options
    MacAddress source_mac{};      // ARP probes: our interface's address
    // --data-length: bytes appended to every TCP, UDP and ICMP probe; UDP sends them instead of
    // its protocol payloads (nmap). None: TCP and ICMP bare, UDP with the payload table's.
    std::optional<std::vector<std::uint8_t>> data{};
    bool badsum = false;          // --badsum: TCP and UDP checksums wrong on purpose (wrong_checksum)
};

// --badsum's checksum: CORRECT with its low byte inverted, or the high one when that would give 0.
// Why this rule: a receiver adds the field into its one's-complement sum, where 0x0000 and 0xffff
// are the same number (RFC 1071), and a UDP checksum of 0 means "none" (RFC 768): the value
// returned is neither the correct one, nor its other spelling, nor 0.
std::uint16_t wrong_checksum(std::uint16_t correct);

// N bytes for --data-length, the same for the same seed (so an offline run is reproducible).
std::vector<std::uint8_t> random_data(std::size_t n, std::uint64_t seed);

class ProbeBuilder {
public:
    // Builds each lane's template once with libnet (context LIBNET_NONE: construction only, no
    // root). kinds[lane] is the lane's probe kind; UDP probes carry payloads[port] when known
    // (payloads may be null: empty datagrams). The payload table must outlive the builder.
    // With a `book` (an IPv6 scan: Probe.src and dst are its keys, IPV6.md) every probe is an
    // IPv6 packet to and from the keys' addresses, and the ARP lane a Neighbor Solicitation;
    // the book must outlive the builder. Null: IPv4.
    static Result<ProbeBuilder> create(std::span<const ProbeKind* const> kinds, const ProbeShape& shape,
                                       const UdpPayloads* payloads = nullptr, const AddressBook* book = nullptr);
    static Result<ProbeBuilder> create(const ProbeKind& kind, const ProbeShape& shape);

    // The largest probe this builder writes: the IPv4 or IPv6 packet, no link header (an ARP or
    // NDP probe is a whole Ethernet frame: it goes out through a link-layer socket).
    std::size_t size() const { return max_size_; }
    // Writes the probe's packet into out (out.size() >= size()); returns its length, 0 (nothing
    // to send) for an IPv6 probe whose src or dst is not a key of the book.
    std::size_t build(const Probe& probe, std::span<std::uint8_t> out) const;

private:
    struct Lane {
        std::uint8_t protocol = 0;
        std::vector<std::uint8_t> bytes;  // IPv4 header + transport header (+ ICMP data)
    };
    ProbeBuilder(std::vector<Lane> lanes, const UdpPayloads* payloads, bool badsum);
    std::size_t build_tcp(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const;
    std::size_t build_udp(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const;
    std::size_t build_icmp(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const;
    std::size_t build_arp(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const;
    // IPv6 (probe_builder6.cpp): lanes' bytes are IPv6 packets (or NDP frames), patched by build6.
    static Result<ProbeBuilder> create6(std::span<const ProbeKind* const> kinds, const ProbeShape& shape,
                                        const UdpPayloads* payloads, const AddressBook* book);
    std::size_t build6(const Probe& probe, const Lane& lane, std::span<std::uint8_t> out) const;

    std::vector<Lane> lanes_;
    const UdpPayloads* payloads_ = nullptr;
    bool badsum_ = false;
    const AddressBook* book_ = nullptr;  // an IPv6 scan's (create6)
    std::size_t max_size_ = 0;
};

}  // namespace flagscan

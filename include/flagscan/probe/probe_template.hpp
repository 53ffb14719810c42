// The libnet steps and per-probe patches the IPv4 and IPv6 probe templates share (probe_builder.cpp, probe_builder6.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "flagscan/engine/probe.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/probe/probe_kind.hpp"

struct libnet_context;  // libnet_t (libnet-structures.h), kept out of the headers that include this one

namespace flagscan {

// RAII for a libnet context.
struct LibnetDeleter {
    void operator()(libnet_context* l) const;
};
using LibnetHandle = std::unique_ptr<libnet_context, LibnetDeleter>;

// A context for construction only (LIBNET_NONE: nothing is sent, no root needed).
Result<LibnetHandle> construction_context();
// Joins the blocks built in `l` into the bytes of one packet.
Result<std::vector<std::uint8_t>> coalesce(libnet_context* l);
// The TCP header of `kind`'s probes (flags, window, the MSS option unless shape.mss is 0) as the
// first block of `l`; returns its length. Ports, cookie and checksum are written per probe.
Result<std::uint32_t> build_tcp_header(libnet_context* l, const ProbeKind& kind, const ProbeShape& shape);
// --data-length's bytes after the transport header (and the ICMP header): the checksums computed
// per probe cover them, the IP length is written per probe. An ARP or NDP frame has no data.
void append_data(std::vector<std::uint8_t>& bytes, const ProbeKind& kind, const ProbeShape& shape);

// The fields of a TCP header (RFC 793 3.1) a probe sets: ports, and the cookie in seq and ack.
void patch_tcp(const Probe& probe, std::span<std::uint8_t> tcp);
// The same for UDP (RFC 768): ports, and the length of `udp` (header and payload).
void patch_udp(const Probe& probe, std::span<std::uint8_t> udp);
// The UDP checksum field for a computed `sum`: 0 is sent as 0xffff (RFC 768; over IPv6 a 0
// would even be invalid, RFC 8200 8.1), and --badsum's wrong one when asked.
std::uint16_t udp_checksum_field(std::uint16_t sum, bool badsum);

// The IPv6 template of `kind`'s probes (probe_builder6.cpp): an IPv6 packet (RFC 8200) with its
// TCP, UDP or ICMPv6 echo header, or for the ARP lane an Ethernet frame with a Neighbor
// Solicitation (RFC 4861 4.3). Addresses are left zero: they are written per probe. ICMP
// timestamp requests have no IPv6 counterpart: a one-line error, as nmap gives.
Result<std::vector<std::uint8_t>> build_template6(const ProbeKind& kind, const ProbeShape& shape);

}  // namespace flagscan

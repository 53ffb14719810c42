// The libnet steps the IPv4 and IPv6 probe templates share (probe_builder.cpp, probe_builder6.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

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
// The IPv6 template of `kind`'s probes (probe_builder6.cpp): an IPv6 packet (RFC 8200) with its
// TCP, UDP or ICMPv6 echo header, or for the ARP lane an Ethernet frame with a Neighbor
// Solicitation (RFC 4861 4.3). Addresses are left zero: they are written per probe. ICMP
// timestamp requests have no IPv6 counterpart: a one-line error, as nmap gives.
Result<std::vector<std::uint8_t>> build_template6(const ProbeKind& kind, const ProbeShape& shape);

}  // namespace flagscan

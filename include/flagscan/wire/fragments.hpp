// IPv4 and IPv6 fragmentation of finished probes (-f, -ff, --mtu) and the FrameSink that sends them so.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "flagscan/wire/frame.hpp"

namespace flagscan {

// Splits one finished IPv4 packet into fragments carrying at most `data_per_fragment` bytes of
// its data each (a positive multiple of 8: RFC 791 3.2 counts offsets in 8-byte units). Every
// fragment keeps the packet's id, protocol and addresses; all but the last have MF set; each has
// its own total length and header checksum. A packet that fits, has DF set, or is no IPv4
// packet comes back whole, as the only element.
std::vector<std::vector<std::uint8_t>> fragment_ipv4(std::span<const std::uint8_t> packet,
                                                     std::size_t data_per_fragment);

// Splits one finished IPv6 packet as RFC 8200 4.5 says: each fragment repeats the unfragmentable
// part (the IPv6 header and any Hop-by-Hop / Routing headers, the last of them now naming 44),
// then a Fragment header (the next header that followed, the offset in 8-byte units, M on all
// but the last, `identification`), then its piece of the rest; its own payload length.
// The first fragment holds the whole header chain through the TCP, UDP or ICMPv6 header
// (RFC 8200 4.5, RFC 7112 5: a receiver discards a first fragment without it; Linux answers
// Parameter Problem code 3), rounded up to 8 bytes, and at least `data_per_fragment`; later
// ones `data_per_fragment` each. A packet that fits its first fragment, that is already a
// fragment, or that is no IPv6 packet comes back whole, as the only element.
std::vector<std::vector<std::uint8_t>> fragment_ipv6(std::span<const std::uint8_t> packet,
                                                     std::size_t data_per_fragment, std::uint32_t identification);

// Hands every packet to `inner` as its fragments (nmap's -f), IPv4 or IPv6 by its version: the
// engine builds, records and matches the whole probe as always; only the wire sees the pieces,
// and the target's reply to the datagram it reassembles is an ordinary packet.
class FragmentingSink final : public FrameSink {
public:
    FragmentingSink(FrameSink& inner, std::size_t data_per_fragment) : inner_(inner), per_fragment_(data_per_fragment) {}
    // Returns how many of `packets` went out with all their fragments.
    std::size_t send(std::span<const std::span<const std::uint8_t>> packets) override;

private:
    FrameSink& inner_;
    std::size_t per_fragment_;
    std::uint32_t sent_ = 0;  // IPv6 packets split so far: part of each one's Identification
};

}  // namespace flagscan

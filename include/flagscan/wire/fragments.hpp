// IPv4 fragmentation of finished probes (-f, -ff, --mtu) and the FrameSink that sends them so.
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

// Hands every packet to `inner` as its fragments (nmap's -f): the engine builds, records and
// matches the whole probe as always; only the wire sees the pieces, and the target's reply to
// the datagram it reassembles is an ordinary packet.
class FragmentingSink final : public FrameSink {
public:
    FragmentingSink(FrameSink& inner, std::size_t data_per_fragment) : inner_(inner), per_fragment_(data_per_fragment) {}
    // Returns how many of `packets` went out with all their fragments.
    std::size_t send(std::span<const std::span<const std::uint8_t>> packets) override;

private:
    FrameSink& inner_;
    std::size_t per_fragment_;
};

}  // namespace flagscan

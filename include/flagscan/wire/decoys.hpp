// Decoy sources (-D, nmap's decoys): every raw probe sent again from other addresses, and the FrameSink that does it.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

// nmap's limit (MAX_DECOYS 128, less our own place): more would only multiply the packets.
constexpr std::size_t kMaxDecoys = 127;

// One element of -D as typed: an address, ME (our own place among them), or RND / RND:N.
struct DecoyEntry {
    enum class Kind { address, me, random };
    Kind kind = Kind::address;
    Ipv4 address;            // Kind::address
    std::uint32_t count = 0; // Kind::random: how many random addresses
    bool operator==(const DecoyEntry&) const = default;
};

// "10.0.0.5,ME,RND:3,10.0.0.7": IPv4 literals only (flagscan resolves no names for -D), ME at
// most once, RND = RND:1; at most kMaxDecoys decoys in all; no multicast or broadcast source
// (RFC 1122 3.2.1.3). Errors are one line.
Result<std::vector<DecoyEntry>> parse_decoys(std::string_view text);

// The copies each probe goes out as: `decoys` in order, our own real probe before decoys[me_at]
// (me_at == decoys.size(): last).
struct DecoyPlan {
    std::vector<Ipv4> decoys;
    std::size_t me_at = 0;
    std::size_t copies() const { return decoys.size() + 1; }
};

// RND:N drawn from `seed` (the scan's, so an offline run reproduces); without ME our place is
// drawn from it too, once for the whole scan (nmap: "If you don't use ME, Nmap will put you in
// a random position").
DecoyPlan plan_decoys(std::span<const DecoyEntry> entries, std::uint64_t seed);

// The random decoy `n` of `seed`: a unicast address in no reserved or special-purpose block
// (RFC 6890; multicast, RFC 5771), as nmap's RND.
Ipv4 random_decoy(std::uint64_t seed, std::uint64_t n);

// A copy of the IPv4 `packet` from `source`: the header checksum recomputed, and a TCP or UDP
// checksum (whose pseudo-header holds the source, RFC 793 3.1, RFC 768) adjusted by RFC 1624's
// incremental update, so a checksum wrong on purpose (--badsum) stays wrong. A UDP checksum of
// 0 (none sent) stays 0. Anything else (not IPv4) comes back unchanged.
std::vector<std::uint8_t> with_source(std::span<const std::uint8_t> packet, Ipv4 source);

// Hands every IPv4 packet to `inner` as plan.copies() packets, each decoy's copy and our own in
// the plan's order; anything else (an ARP frame) once. Replies to the decoys go to them, not to
// us: the capture filter and the correlator take only packets addressed to our source.
// `observer` sees every copy that went out, in wire order (--packet-trace).
class DecoySink final : public FrameSink {
public:
    using Observer = std::function<void(std::span<const std::uint8_t>)>;
    DecoySink(FrameSink& inner, DecoyPlan plan, Observer observer = {})
        : inner_(inner), plan_(std::move(plan)), observer_(std::move(observer)) {}
    // Returns how many of `packets` went out with all their copies.
    std::size_t send(std::span<const std::span<const std::uint8_t>> packets) override;

private:
    FrameSink& inner_;
    DecoyPlan plan_;
    Observer observer_;
};

}  // namespace flagscan

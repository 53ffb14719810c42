// Decoy sources (-D, nmap's decoys): every raw probe sent again from other addresses, and the FrameSink that does it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/ipv6.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

// nmap's limit (MAX_DECOYS 128, less our own place): more would only multiply the packets.
constexpr std::size_t kMaxDecoys = 127;

// One element of -D as typed: an IPv4 or IPv6 address, ME (our own place among them), or RND / RND:N.
struct DecoyEntry {
    enum class Kind { address, me, random, address6 };
    Kind kind = Kind::address;
    Ipv4 address;            // Kind::address
    std::uint32_t count = 0; // Kind::random: how many random addresses
    Ipv6 address6{};         // Kind::address6
    bool operator==(const DecoyEntry&) const = default;
};

// "10.0.0.5,ME,RND:3,10.0.0.7" or "fd77::5,ME,RND:2": IPv4 or IPv6 literals (flagscan resolves
// no names for -D), ME at most once, RND = RND:1; at most kMaxDecoys decoys in all; no multicast
// or broadcast source (RFC 1122 3.2.1.3, RFC 4291 2.7), nor :: (RFC 4291 2.5.2). Errors are one
// line. Whether the addresses suit the scan's version is decoys_refused's to say.
Result<std::vector<DecoyEntry>> parse_decoys(std::string_view text);

// The one line refusing decoys of the other IP version than the scan's (a packet has one
// version: an IPv6 probe cannot come from an IPv4 address), nullopt when they all suit it.
std::optional<std::string> decoys_refused(std::span<const DecoyEntry> entries, bool ipv6);

// The copies each probe goes out as: the decoys of its version in order (an IPv4 scan's
// `decoys`, an IPv6 scan's `decoys6`), our own real probe before the decoy at me_at (me_at ==
// the count: last).
struct DecoyPlan {
    std::vector<Ipv4> decoys;
    std::vector<Ipv6> decoys6;
    std::size_t me_at = 0;
    std::size_t copies() const { return decoys.size() + decoys6.size() + 1; }
};

// RND:N drawn from `seed` (the scan's, so an offline run reproduces); without ME our place is
// drawn from it too, once for the whole scan (nmap: "If you don't use ME, Nmap will put you in
// a random position"). With `source6` (an IPv6 scan's own address) RND draws IPv6 decoys
// (random_decoy6) and the addresses are the IPv6 ones.
DecoyPlan plan_decoys(std::span<const DecoyEntry> entries, std::uint64_t seed, std::optional<Ipv6> source6 = {});

// The random decoy `n` of `seed`: a unicast address in no reserved or special-purpose block
// (RFC 6890; multicast, RFC 5771), as nmap's RND.
Ipv4 random_decoy(std::uint64_t seed, std::uint64_t n);

// The random IPv6 decoy `n` of `seed` for a scan from `source`: a random interface identifier
// in the source's own /64 (RFC 4291 2.5.1). Why there: an address of our own subnet is as
// plausible a scanner as ours, and it passes the source-address filters (BCP 38, RFC 2827) that
// drop a random global address at the first router. Never our own address, the Subnet-Router
// anycast (IID 0, RFC 4291 2.6.1) or the reserved subnet anycast IIDs (RFC 2526: the top 128).
Ipv6 random_decoy6(std::uint64_t seed, std::uint64_t n, const Ipv6& source);

// A copy of the IPv4 `packet` from `source`: the header checksum recomputed, and a TCP or UDP
// checksum (whose pseudo-header holds the source, RFC 793 3.1, RFC 768) adjusted by RFC 1624's
// incremental update, so a checksum wrong on purpose (--badsum) stays wrong. A UDP checksum of
// 0 (none sent) stays 0. Anything else (not IPv4) comes back unchanged.
std::vector<std::uint8_t> with_source(std::span<const std::uint8_t> packet, Ipv4 source);
// The same for an IPv6 `packet` (RFC 8200 8.1: the TCP, UDP and ICMPv6 checksums cover the
// IPv6 pseudo-header's source too; RFC 1624 over its eight 16-bit words). Anything else (not
// IPv6) comes back unchanged.
std::vector<std::uint8_t> with_source(std::span<const std::uint8_t> packet, const Ipv6& source);

// Hands every IPv4 or IPv6 packet to `inner` as plan.copies() packets, each decoy's copy and our
// own in the plan's order; anything else (an ARP frame) once. Replies to the decoys go to them, not to
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

// Cookie: a keyed hash of a probe's addresses and ports, carried in its sequence number.
#pragma once

#include <array>
#include <cstdint>

#include "flagscan/net/ipv4.hpp"

namespace flagscan {

// Why: a reply must be tied to the probe that caused it, and strays (another scan, a late
// reply from a previous run, a spoofed packet) rejected, before any table lookup. The probe's
// sequence number is a keyed hash of (source, target, target port, source port): a genuine
// reply echoes it (SYN,ACK and RST acknowledge seq + 1; ICMP errors quote it), a forger who has
// not seen the probe cannot guess it, and no per-probe state is needed to check it. SipHash-2-4
// (Aumasson & Bernstein, 2012) is a short-input PRF made for exactly this; the key is random
// per scan.
class CookieKey {
public:
    CookieKey(std::uint64_t k0, std::uint64_t k1) : k0_(k0), k1_(k1) {}
    static CookieKey random();  // from std::random_device

    std::uint32_t operator()(Ipv4 src, Ipv4 dst, Port dport, Port sport) const;

private:
    std::uint64_t k0_;
    std::uint64_t k1_;
};

// A UDP probe's cookie goes in its IP identification (RFC 791), the one field an ICMP error
// quotes (RFC 792) that a UDP datagram lets us choose: 16 bits of the cookie plus `offset` (the
// lane-and-try number when every probe leaves from one source port, -g; else 0), counted
// modulo 65535 in 1-65535, never 0, which the kernel would overwrite (raw(7): IP_HDRINCL fills
// a zero id). With offset 0 this is the cookie's top 16 bits (65535 where they are 0).
std::uint16_t udp_ip_id(std::uint32_t cookie, std::uint32_t offset);
// The offset a UDP probe's IP identification carries on top of its cookie (udp_ip_id's inverse,
// for offsets below 65535).
std::uint32_t udp_id_offset(std::uint32_t cookie, std::uint16_t ip_id);

// SipHash-2-4 of one 16-byte message; exposed for its test vectors.
std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, const std::array<std::uint8_t, 16>& message);

}  // namespace flagscan

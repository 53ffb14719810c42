// RawSocketSink and LinkSink: send finished IPv4 or IPv6 packets (or Ethernet frames) many per system call.
#pragma once

#include <string>

#include "flagscan/net/result.hpp"
#include "flagscan/wire/fd.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

struct SinkStats {
    std::uint64_t sent = 0;
    std::uint64_t failed = 0;   // packets the kernel refused (e.g. a local firewall: EPERM)
    std::uint64_t stalls = 0;   // times the queue was full (ENOBUFS) and we waited
};

// Why a raw IPv4 socket and not a link-layer one: the kernel then routes each packet and
// resolves the next hop's MAC (ARP), so any target that `ip route get` reaches is scanned the
// same way, loopback included. sendmmsg() hands a whole batch over in one system call, which
// is what bounds the send rate here (see DESIGN.md, "Measured").
class RawSocketSink final : public FrameSink {
public:
    // Needs root or CAP_NET_RAW. `device` (may be empty) pins the socket to an interface (-e).
    static Result<RawSocketSink> open(const std::string& device);
    // The same for IPv6 packets (from their fixed header on, as ProbeBuilder writes them with an
    // AddressBook): an AF_INET6 raw socket, which Linux gives IPV6_HDRINCL for IPPROTO_RAW, so
    // the kernel routes each packet by its destination and sends its header as written.
    static Result<RawSocketSink> open_ipv6(const std::string& device);

    std::size_t send(std::span<const std::span<const std::uint8_t>> packets) override;
    const SinkStats& stats() const { return stats_; }

private:
    RawSocketSink(Fd fd, bool ipv6, std::uint32_t scope) : fd_(std::move(fd)), ipv6_(ipv6), scope_(scope) {}
    Fd fd_;
    bool ipv6_ = false;
    std::uint32_t scope_ = 0;  // IPv6: -e's interface index, the zone of a link-local destination (RFC 4007)
    SinkStats stats_;
};

// LinkSink: sends finished Ethernet frames (ARP requests, NDP, --spoof-mac's and the direct link's IP frames) out of
// one interface, many per system call, through an AF_PACKET socket: ARP is below IP, so a raw IPv4 socket cannot carry
// it, and an IP frame handed over whole skips the kernel's routing, netfilter and neighbour lookups per packet.
class LinkSink final : public FrameSink {
public:
    // Needs root or CAP_NET_RAW.
    static Result<LinkSink> open(const std::string& device);

    std::size_t send(std::span<const std::span<const std::uint8_t>> packets) override;
    const SinkStats& stats() const { return stats_; }

private:
    LinkSink(Fd fd, int ifindex) : fd_(std::move(fd)), ifindex_(ifindex) {}
    Fd fd_;
    int ifindex_;
    SinkStats stats_;
};

}  // namespace flagscan

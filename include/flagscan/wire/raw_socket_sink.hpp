// RawSocketSink and LinkSink: send finished IPv4 packets (or Ethernet frames) many per system call.
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

    std::size_t send(std::span<const std::span<const std::uint8_t>> packets) override;
    const SinkStats& stats() const { return stats_; }

private:
    explicit RawSocketSink(Fd fd) : fd_(std::move(fd)) {}
    Fd fd_;
    SinkStats stats_;
};

// LinkSink: sends finished Ethernet frames (ARP requests) out of one interface, many per
// system call, through an AF_PACKET socket: ARP is below IP, so a raw IPv4 socket cannot carry it.
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

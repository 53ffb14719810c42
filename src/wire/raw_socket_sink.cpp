// Batched sending over a raw IPv4 or IPv6 socket (header included via IPPROTO_RAW) with sendmmsg.
#include "flagscan/wire/raw_socket_sink.hpp"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

#include "flagscan/net/bytes.hpp"

namespace flagscan {
namespace {

constexpr std::size_t kMaxBatch = 64;
constexpr int kSendBuffer = 8 << 20;
constexpr int kMaxStalls = 2000;  // 100 ms of a full queue: then the packet counts as failed

sockaddr_in destination_of(std::span<const std::uint8_t> packet) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(ByteView{packet}.be32(16).value_or(0));
    return to;
}

// RFC 8200 3: the destination is bytes 24-39 of the fixed header. The port stays 0: a raw
// IPv6 socket refuses any other than its own protocol there (raw(7)).
sockaddr_in6 destination6_of(std::span<const std::uint8_t> packet, std::uint32_t scope) {
    constexpr std::size_t kOffDst = 24;
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_scope_id = scope;
    if (packet.size() >= kOffDst + sizeof to.sin6_addr)
        std::memcpy(&to.sin6_addr, packet.data() + kOffDst, sizeof to.sin6_addr);
    return to;
}

// A send-only raw socket of `family` that takes whole IP packets (IPPROTO_RAW: the header is
// ours), with a large send buffer, pinned to `device` when one is named.
Result<Fd> open_raw(int family, const std::string& device) {
    Fd fd{::socket(family, SOCK_RAW, IPPROTO_RAW)};
    const char* which = family == AF_INET6 ? "raw IPv6 socket" : "raw socket";
    if (!fd) return Error{std::string("cannot open a ") + which + ": " + std::strerror(errno)};
    int size = kSendBuffer;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (!device.empty() &&
        ::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), static_cast<socklen_t>(device.size())) != 0)
        return Error{std::string("cannot bind the ") + which + " to '" + device + "': " + std::strerror(errno)};
    return fd;
}

}  // namespace

Result<RawSocketSink> RawSocketSink::open(const std::string& device) {
    auto fd = open_raw(AF_INET, device);
    if (!fd) return Error{fd.error()};
    return RawSocketSink{std::move(fd).value(), false, 0};
}

Result<RawSocketSink> RawSocketSink::open_ipv6(const std::string& device) {
    auto fd = open_raw(AF_INET6, device);
    if (!fd) return Error{fd.error()};
    return RawSocketSink{std::move(fd).value(), true, device.empty() ? 0 : if_nametoindex(device.c_str())};
}

namespace {

// Hands packets to the kernel in batches of kMaxBatch, each with the address `address_of` gives,
// waiting out a full queue a little before counting a packet as failed.
template <typename Address, typename AddressOf>
std::size_t send_batches(int fd, std::span<const std::span<const std::uint8_t>> packets, AddressOf address_of,
                         SinkStats& stats) {
    std::size_t done = 0;
    int stalled = 0;
    while (done < packets.size()) {
        const std::size_t n = std::min(kMaxBatch, packets.size() - done);
        std::array<mmsghdr, kMaxBatch> messages{};
        std::array<iovec, kMaxBatch> iov{};
        std::array<Address, kMaxBatch> to{};
        for (std::size_t i = 0; i < n; ++i) {
            auto packet = packets[done + i];
            to[i] = address_of(packet);
            iov[i] = iovec{const_cast<std::uint8_t*>(packet.data()), packet.size()};
            messages[i].msg_hdr.msg_name = &to[i];
            messages[i].msg_hdr.msg_namelen = sizeof(Address);
            messages[i].msg_hdr.msg_iov = &iov[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        const int sent = ::sendmmsg(fd, messages.data(), static_cast<unsigned>(n), 0);
        if (sent > 0) {
            done += static_cast<std::size_t>(sent);
            stats.sent += static_cast<std::uint64_t>(sent);
            stalled = 0;
        } else if ((errno == ENOBUFS || errno == EAGAIN || errno == EINTR) && ++stalled < kMaxStalls) {
            ++stats.stalls;  // the device queue is full: give it a moment, then go on
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        } else {
            ++stats.failed;  // this packet is refused (EPERM from a firewall, EHOSTUNREACH): skip it
            ++done;
            stalled = 0;
        }
    }
    return done;
}

}  // namespace

std::size_t RawSocketSink::send(std::span<const std::span<const std::uint8_t>> packets) {
    if (ipv6_) {
        const auto address_of = [this](std::span<const std::uint8_t> packet) { return destination6_of(packet, scope_); };
        return send_batches<sockaddr_in6>(fd_.get(), packets, address_of, stats_);
    }
    return send_batches<sockaddr_in>(fd_.get(), packets, destination_of, stats_);
}

// Protocol 0: a send-only socket, which the kernel hands no received frame (packet(7)); each frame's
// protocol is given with it (send()).
Result<LinkSink> LinkSink::open(const std::string& device) {
    const unsigned index = if_nametoindex(device.c_str());
    if (index == 0) return Error{"unknown interface '" + device + "'"};
    Fd fd{::socket(AF_PACKET, SOCK_RAW, 0)};
    if (!fd) return Error{std::string("cannot open a link-layer socket: ") + std::strerror(errno)};
    int size = kSendBuffer;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    return LinkSink{std::move(fd), static_cast<int>(index)};
}

// The frames are complete (Ethernet header included): the address names the interface and the
// frame's protocol (the kernel's skb protocol, as taps and traffic control read it).
std::size_t LinkSink::send(std::span<const std::span<const std::uint8_t>> packets) {
    const auto address_of = [this](std::span<const std::uint8_t> frame) {
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_protocol = htons(ByteView{frame}.be16(12).value_or(ETH_P_ARP));  // the frame's EtherType
        to.sll_ifindex = ifindex_;
        to.sll_halen = 6;
        std::fill(std::begin(to.sll_addr), std::begin(to.sll_addr) + 6, 0xff);
        return to;
    };
    return send_batches<sockaddr_ll>(fd_.get(), packets, address_of, stats_);
}

}  // namespace flagscan

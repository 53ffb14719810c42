// Batched sending over a raw IPv4 socket (IP_HDRINCL via IPPROTO_RAW) with sendmmsg.
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

}  // namespace

Result<RawSocketSink> RawSocketSink::open(const std::string& device) {
    Fd fd{::socket(AF_INET, SOCK_RAW, IPPROTO_RAW)};
    if (!fd) return Error{std::string("cannot open a raw socket: ") + std::strerror(errno)};
    int size = kSendBuffer;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (!device.empty() &&
        ::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), static_cast<socklen_t>(device.size())) != 0)
        return Error{"cannot bind the raw socket to '" + device + "': " + std::strerror(errno)};
    return RawSocketSink{std::move(fd)};
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
    return send_batches<sockaddr_in>(fd_.get(), packets, destination_of, stats_);
}

Result<LinkSink> LinkSink::open(const std::string& device) {
    const unsigned index = if_nametoindex(device.c_str());
    if (index == 0) return Error{"unknown interface '" + device + "'"};
    Fd fd{::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP))};
    if (!fd) return Error{std::string("cannot open a link-layer socket: ") + std::strerror(errno)};
    int size = kSendBuffer;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    return LinkSink{std::move(fd), static_cast<int>(index)};
}

// The frames are complete (Ethernet header included): the address only names the interface.
std::size_t LinkSink::send(std::span<const std::span<const std::uint8_t>> packets) {
    const auto address_of = [this](std::span<const std::uint8_t>) {
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_ifindex = ifindex_;
        to.sll_halen = 6;
        std::fill(std::begin(to.sll_addr), std::begin(to.sll_addr) + 6, 0xff);
        return to;
    };
    return send_batches<sockaddr_ll>(fd_.get(), packets, address_of, stats_);
}

}  // namespace flagscan

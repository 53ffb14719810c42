// Batched sending over a raw IPv4 socket (IP_HDRINCL via IPPROTO_RAW) with sendmmsg.
#include "flagscan/wire/raw_socket_sink.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

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

std::size_t RawSocketSink::send(std::span<const std::span<const std::uint8_t>> packets) {
    std::size_t done = 0;
    int stalled = 0;
    while (done < packets.size()) {
        const std::size_t n = std::min(kMaxBatch, packets.size() - done);
        std::array<mmsghdr, kMaxBatch> messages{};
        std::array<iovec, kMaxBatch> iov{};
        std::array<sockaddr_in, kMaxBatch> to{};
        for (std::size_t i = 0; i < n; ++i) {
            auto packet = packets[done + i];
            to[i] = destination_of(packet);
            iov[i] = iovec{const_cast<std::uint8_t*>(packet.data()), packet.size()};
            messages[i].msg_hdr.msg_name = &to[i];
            messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
            messages[i].msg_hdr.msg_iov = &iov[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        const int sent = ::sendmmsg(fd_.get(), messages.data(), static_cast<unsigned>(n), 0);
        if (sent > 0) {
            done += static_cast<std::size_t>(sent);
            stats_.sent += static_cast<std::uint64_t>(sent);
            stalled = 0;
        } else if ((errno == ENOBUFS || errno == EAGAIN || errno == EINTR) && ++stalled < kMaxStalls) {
            ++stats_.stalls;  // the device queue is full: give it a moment, then go on
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        } else {
            ++stats_.failed;  // this packet is refused (EPERM from a firewall, EHOSTUNREACH): skip it
            ++done;
            stalled = 0;
        }
    }
    return done;
}

}  // namespace flagscan

// lab-listener: holds TCP listeners and UDP echo sockets on 0.0.0.0:PORT and [::]:PORT so the lab's open ports answer.
//
// Each port gets an IPv4 socket and, when the kernel has IPv6, a separate IPv6-only one
// (IPV6_V6ONLY): the IPv4 side stays exactly as it was, and each family answers from the
// address its probe reached (IP_PKTINFO / IPV6_PKTINFO, RFC 3542 6), AnyIP ones included.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

namespace {

constexpr int kBacklog = 1024;
constexpr int kMaxEvents = 64;
constexpr int kMaxDatagramsPerEvent = 64;  // then back to epoll_wait, so no socket starves the rest
constexpr std::size_t kMaxDatagram = 65536;

enum class Proto { tcp, udp };

struct Endpoint {
    Proto proto;
    std::uint16_t port;
};

struct Socket {
    int fd;
    Proto proto;
};

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value == 0 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

// Parses "[tcp:]PORT" or "udp:PORT"; a bare PORT is TCP (the original command line).
std::optional<Endpoint> parse_endpoint(std::string_view text) {
    Proto proto = Proto::tcp;
    if (text.starts_with("udp:")) {
        proto = Proto::udp;
        text.remove_prefix(4);
    } else if (text.starts_with("tcp:")) {
        text.remove_prefix(4);
    }
    const auto port = parse_port(text);
    if (!port) {
        return std::nullopt;
    }
    return Endpoint{proto, *port};
}

// Sets the socket's options, binds it to 0.0.0.0:port and, if TCP, listens; false on error (errno).
bool bind_endpoint(int fd, Endpoint endpoint) {
    const int one = 1;
    const bool tcp = endpoint.proto == Proto::tcp;
    // TCP: SO_REUSEADDR (a restarted lab binds past TIME_WAIT). UDP: not set, so a second
    // listener on a port fails instead of silently sharing it; IP_PKTINFO tells which local
    // address (AnyIP, LAN) a datagram reached, so the reply leaves from it and not from .2.
    const bool configured = tcp ? setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0
                                : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(endpoint.port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    return configured && bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
           (!tcp || listen(fd, kBacklog) == 0);
}

// The IPv6 twin of bind_endpoint: [::]:port, IPv6 only (the IPv4 socket holds IPv4). UDP also
// gets IPV6_RECVPKTINFO and IP_FREEBIND: the reply's IPV6_PKTINFO source is an AnyIP address,
// which the kernel accepts only from a socket allowed to use non-local addresses.
bool bind_endpoint6(int fd, Endpoint endpoint) {
    const int one = 1;
    const bool tcp = endpoint.proto == Proto::tcp;
    const bool configured =
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0 &&
        (tcp ? setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0
             : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) == 0 &&
                   setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one) == 0);
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(endpoint.port);
    addr.sin6_addr = in6addr_any;
    return configured && bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
           (!tcp || listen(fd, kBacklog) == 0);
}

// Returns a non-blocking socket of FAMILY bound to the wildcard address's port (listening if
// TCP), or -1 after printing why. An IPv6 socket on a kernel without IPv6 is -2, silently.
int open_socket(Endpoint endpoint, int family) {
    const int type = endpoint.proto == Proto::udp ? SOCK_DGRAM : SOCK_STREAM;
    const int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (family == AF_INET6 && errno == EAFNOSUPPORT) {
            return -2;
        }
        std::fprintf(stderr, "lab-listener: socket: %s\n", std::strerror(errno));
        return -1;
    }
    if (!(family == AF_INET6 ? bind_endpoint6(fd, endpoint) : bind_endpoint(fd, endpoint))) {
        const char* proto = endpoint.proto == Proto::udp ? "udp " : "";
        const char* v6 = family == AF_INET6 ? " (IPv6)" : "";
        std::fprintf(stderr, "lab-listener: %sport %u%s: %s\n", proto, endpoint.port, v6, std::strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

// Accepts every pending connection on a listener and closes it at once.
void drain_accepts(int listen_fd) {
    for (;;) {
        const int conn = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) {
            return;  // EAGAIN (queue empty) or a transient error: wait for the next event.
        }
        close(conn);
    }
}

// Copies the control message LEVEL/TYPE of MSG (a pktinfo) into OUT; false if absent.
template <typename Info>
bool control_of(msghdr& msg, int level, int type, Info& out) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == level && c->cmsg_type == type) {
            std::memcpy(&out, CMSG_DATA(c), sizeof out);
            return true;
        }
    }
    return false;
}

// Sends LEN bytes of DATA to PEER, with INFO (an in_pktinfo or in6_pktinfo naming the local
// address the probe reached) as control message LEVEL/TYPE when SET; else the route picks it.
template <typename Peer, typename Info>
void send_reply(int fd, Peer peer, int level, int type, const Info& info, bool set, const char* data,
                std::size_t len) {
    iovec iov{const_cast<char*>(data), len};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(Info))] = {};
    msghdr msg{};
    msg.msg_name = &peer;
    msg.msg_namelen = sizeof peer;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (set) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = level;
        c->cmsg_type = type;
        c->cmsg_len = CMSG_LEN(sizeof(Info));
        std::memcpy(CMSG_DATA(c), &info, sizeof info);
    }
    // A failed send (buffer full, no route) loses one reply, as the network would: never fatal.
    (void)sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

// Echoes one received datagram (DATA, LEN) to PEER from the local address MSG's pktinfo names:
// IP_PKTINFO's destination becomes the reply's ipi_spec_dst, IPV6_PKTINFO's its ipi6_addr.
void reply_from_destination(int fd, const sockaddr_storage& peer, msghdr& msg, const char* data,
                            std::size_t len) {
    if (peer.ss_family == AF_INET && msg.msg_namelen == sizeof(sockaddr_in)) {
        sockaddr_in to{};
        std::memcpy(&to, &peer, sizeof to);
        in_pktinfo got{};
        const bool set = control_of(msg, IPPROTO_IP, IP_PKTINFO, got) && got.ipi_addr.s_addr != htonl(INADDR_ANY);
        in_pktinfo info{};
        info.ipi_spec_dst = got.ipi_addr;
        send_reply(fd, to, IPPROTO_IP, IP_PKTINFO, info, set, data, len);
    } else if (peer.ss_family == AF_INET6 && msg.msg_namelen == sizeof(sockaddr_in6)) {
        sockaddr_in6 to{};
        std::memcpy(&to, &peer, sizeof to);
        in6_pktinfo got{};
        const bool set = control_of(msg, IPPROTO_IPV6, IPV6_PKTINFO, got) && !IN6_IS_ADDR_UNSPECIFIED(&got.ipi6_addr);
        in6_pktinfo info{};
        info.ipi6_addr = got.ipi6_addr;  // the interface index stays 0: the route picks it
        send_reply(fd, to, IPPROTO_IPV6, IPV6_PKTINFO, info, set, data, len);
    }
}

// Answers pending datagrams (IPv4 or IPv6): echoes the payload to its sender (1 byte for an empty one).
void echo_datagrams(int fd, std::vector<char>& buffer) {
    for (int n = 0; n < kMaxDatagramsPerEvent; ++n) {
        sockaddr_storage peer{};
        iovec iov{buffer.data(), buffer.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))];
        msghdr msg{};
        msg.msg_name = &peer;
        msg.msg_namelen = sizeof peer;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t got = recvmsg(fd, &msg, MSG_DONTWAIT);
        if (got < 0) {
            return;  // EAGAIN (queue empty) or a transient error: wait for the next event.
        }
        const auto len = got == 0 ? std::size_t{1} : static_cast<std::size_t>(got);
        if (got == 0) {
            buffer[0] = '\0';
        }
        reply_from_destination(fd, peer, msg, buffer.data(), len);
    }
}

int serve(const std::vector<Socket>& sockets) {
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        std::fprintf(stderr, "lab-listener: epoll_create1: %s\n", std::strerror(errno));
        return 1;
    }
    for (std::size_t i = 0; i < sockets.size(); ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, sockets[i].fd, &ev) != 0) {
            std::fprintf(stderr, "lab-listener: epoll_ctl: %s\n", std::strerror(errno));
            return 1;
        }
    }
    std::printf("ready\n");  // lab.sh waits for this line before declaring the lab up.
    std::fflush(stdout);
    std::vector<char> buffer(kMaxDatagram);
    epoll_event events[kMaxEvents];
    for (;;) {
        const int n = epoll_wait(ep, events, kMaxEvents, -1);
        if (n < 0 && errno != EINTR) {
            std::fprintf(stderr, "lab-listener: epoll_wait: %s\n", std::strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; ++i) {
            const Socket& s = sockets[events[i].data.u64];
            if (s.proto == Proto::udp) {
                echo_datagrams(s.fd, buffer);
            } else {
                drain_accepts(s.fd);
            }
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: lab-listener [tcp:]PORT... udp:PORT...\n");
        return 2;
    }
    std::vector<Socket> sockets;
    for (int i = 1; i < argc; ++i) {
        const auto endpoint = parse_endpoint(argv[i]);
        if (!endpoint) {
            std::fprintf(stderr, "lab-listener: bad port '%s'\n", argv[i]);
            return 2;
        }
        for (const int family : {AF_INET, AF_INET6}) {
            const int fd = open_socket(*endpoint, family);
            if (fd == -1) {
                return 1;
            }
            if (fd >= 0) {
                sockets.push_back({fd, endpoint->proto});
            }
        }
    }
    return serve(sockets);
}

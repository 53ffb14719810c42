// lab-listener: holds TCP listeners and UDP echo sockets on 0.0.0.0:PORT so the lab's open ports answer.

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

// Returns a non-blocking socket bound to 0.0.0.0:port (listening if TCP), or -1 after printing why.
int open_socket(Endpoint endpoint) {
    const int type = endpoint.proto == Proto::udp ? SOCK_DGRAM : SOCK_STREAM;
    const int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        std::fprintf(stderr, "lab-listener: socket: %s\n", std::strerror(errno));
        return -1;
    }
    if (!bind_endpoint(fd, endpoint)) {
        const char* proto = endpoint.proto == Proto::udp ? "udp " : "";
        std::fprintf(stderr, "lab-listener: %sport %u: %s\n", proto, endpoint.port, std::strerror(errno));
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

// The local address a datagram was sent to (from its IP_PKTINFO), or INADDR_ANY if absent.
in_addr destination_of(msghdr& msg) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            return info.ipi_addr;
        }
    }
    return in_addr{htonl(INADDR_ANY)};
}

// Sends LEN bytes of DATA to PEER from local address FROM (the address the probe reached).
void send_reply(int fd, sockaddr_in peer, in_addr from, char* data, std::size_t len) {
    iovec iov{data, len};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))] = {};
    msghdr msg{};
    msg.msg_name = &peer;
    msg.msg_namelen = sizeof peer;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (from.s_addr != htonl(INADDR_ANY)) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
        in_pktinfo info{};
        info.ipi_spec_dst = from;
        std::memcpy(CMSG_DATA(c), &info, sizeof info);
    }
    // A failed send (buffer full, no route) loses one reply, as the network would: never fatal.
    (void)sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

// Answers pending datagrams: echoes the payload to its sender (1 byte for an empty one).
void echo_datagrams(int fd, std::vector<char>& buffer) {
    for (int n = 0; n < kMaxDatagramsPerEvent; ++n) {
        sockaddr_in peer{};
        iovec iov{buffer.data(), buffer.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))];
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
        if (msg.msg_namelen != sizeof peer || peer.sin_family != AF_INET) {
            continue;
        }
        const auto len = got == 0 ? std::size_t{1} : static_cast<std::size_t>(got);
        if (got == 0) {
            buffer[0] = '\0';
        }
        send_reply(fd, peer, destination_of(msg), buffer.data(), len);
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
        const int fd = open_socket(*endpoint);
        if (fd < 0) {
            return 1;
        }
        sockets.push_back({fd, endpoint->proto});
    }
    return serve(sockets);
}

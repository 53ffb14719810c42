// lab-listener: holds TCP listeners on 0.0.0.0:PORT... so the lab's open ports answer SYN+ACK.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
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

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value == 0 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

// Returns a non-blocking listening socket on 0.0.0.0:port, or -1 after printing why.
int open_listener(std::uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        std::fprintf(stderr, "lab-listener: socket: %s\n", std::strerror(errno));
        return -1;
    }
    const int one = 1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(fd, kBacklog) != 0) {
        std::fprintf(stderr, "lab-listener: port %u: %s\n", port, std::strerror(errno));
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

int serve(const std::vector<int>& listeners) {
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        std::fprintf(stderr, "lab-listener: epoll_create1: %s\n", std::strerror(errno));
        return 1;
    }
    for (const int fd : listeners) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            std::fprintf(stderr, "lab-listener: epoll_ctl: %s\n", std::strerror(errno));
            return 1;
        }
    }
    std::printf("ready\n");  // lab.sh waits for this line before declaring the lab up.
    std::fflush(stdout);
    epoll_event events[kMaxEvents];
    for (;;) {
        const int n = epoll_wait(ep, events, kMaxEvents, -1);
        if (n < 0 && errno != EINTR) {
            std::fprintf(stderr, "lab-listener: epoll_wait: %s\n", std::strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; ++i) {
            drain_accepts(events[i].data.fd);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: lab-listener PORT...\n");
        return 2;
    }
    std::vector<int> listeners;
    for (int i = 1; i < argc; ++i) {
        const auto port = parse_port(argv[i]);
        if (!port) {
            std::fprintf(stderr, "lab-listener: bad port '%s'\n", argv[i]);
            return 2;
        }
        const int fd = open_listener(*port);
        if (fd < 0) {
            return 1;
        }
        listeners.push_back(fd);
    }
    return serve(listeners);
}

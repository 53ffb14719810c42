// The connect scan's sockets: non-blocking connect() and epoll, outcomes mapped to replies.
#include "flagscan/wire/connect_driver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace flagscan {
namespace {

constexpr std::size_t kBatch = 64;
constexpr int kMaxEvents = 256;

sockaddr_in address_of(Ipv4 ip, Port port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port.value());
    a.sin_addr.s_addr = htonl(ip.value());
    return a;
}

Answer answer_for(Ipv4 target, std::uint8_t lane, Port port, std::uint8_t try_no, const ReplyEvidence& evidence) {
    return Answer{target, port, try_no, evidence, lane};
}

// Closing an established connection with SO_LINGER 0 sends RST at once: no FIN handshake,
// no TIME_WAIT, and the service sees the connection end as a SYN scan's would.
void abort_connection(int fd) {
    const linger hard{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
}

}  // namespace

std::optional<ReplyEvidence> evidence_for_connect_error(int error) {
    using K = ReplyEvidence::Kind;
    switch (error) {
        case 0: return ReplyEvidence{K::tcp, TcpFlags{TcpFlags::syn | TcpFlags::ack}, 0, 0, 0};
        case ECONNREFUSED: return ReplyEvidence{K::tcp, TcpFlags{TcpFlags::rst | TcpFlags::ack}, 0, 0, 0};
        case ENETUNREACH: return ReplyEvidence{K::icmp_unreachable, TcpFlags{}, 0, 0, 0};
        case EHOSTUNREACH: return ReplyEvidence{K::icmp_unreachable, TcpFlags{}, 0, 1, 0};
        case EACCES:  // refused by a firewall on this machine
        case EPERM: return ReplyEvidence{K::icmp_unreachable, TcpFlags{}, 0, 13, 0};
        default: return std::nullopt;
    }
}

std::size_t raise_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    return limit.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20 : static_cast<std::size_t>(limit.rlim_cur);
}

Result<ConnectDriver> ConnectDriver::open(std::optional<Ipv4> source, std::string device, Micros max_age) {
    Fd epoll{::epoll_create1(EPOLL_CLOEXEC)};
    if (!epoll) return Error{std::string("cannot create an epoll instance: ") + std::strerror(errno)};
    return ConnectDriver{std::move(epoll), source, std::move(device), max_age};
}

Result<Fd> ConnectDriver::connecting_socket(const Probe& probe, int& error) const {
    Fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (!fd) return Error{std::strerror(errno)};
    if (!device_.empty() &&
        ::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, device_.c_str(), static_cast<socklen_t>(device_.size())) != 0)
        return Error{"cannot bind to interface '" + device_ + "': " + std::strerror(errno)};
    if (source_) {
        const sockaddr_in me = address_of(*source_, Port{0});
        if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&me), sizeof me) != 0)
            return Error{"cannot bind to " + source_->str() + ": " + std::strerror(errno)};
    }
    const sockaddr_in to = address_of(probe.dst, probe.dport);
    error = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0 ? 0 : errno;
    return fd;
}

void ConnectDriver::start(const Probe& probe, Micros now, std::vector<TimedAnswer>& out) {
    const auto key = Correlator::key(probe.dst, probe.lane, probe.dport);
    if (auto old = by_port_.find(key); old != by_port_.end()) {  // the previous try gave up
        pending_.erase(old->second);
        by_port_.erase(old);
    }
    int error = 0;
    auto fd = connecting_socket(probe, error);
    if (!fd) return;  // out of sockets or ports for now: the probe times out and is tried again
    if (error != EINPROGRESS) {
        if (error == 0) abort_connection(fd->get());
        if (auto evidence = evidence_for_connect_error(error))
            out.push_back({answer_for(probe.dst, probe.lane, probe.dport, probe.try_no, *evidence), now});
        return;
    }
    epoll_event event{};
    event.events = EPOLLOUT;
    event.data.fd = fd->get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd->get(), &event) != 0) return;
    const int raw = fd->get();
    by_port_[key] = raw;
    pending_.emplace(raw, Pending{std::move(fd).value(), probe.dst, probe.dport, probe.try_no, now, probe.lane});
}

void ConnectDriver::finish(int fd, int error, Micros now, std::vector<TimedAnswer>& out) {
    auto it = pending_.find(fd);
    if (it == pending_.end()) return;
    const Pending& p = it->second;
    if (error == 0) abort_connection(fd);
    if (auto evidence = evidence_for_connect_error(error)) out.push_back({answer_for(p.target, p.lane, p.port, p.try_no, *evidence), now});
    by_port_.erase(Correlator::key(p.target, p.lane, p.port));
    pending_.erase(it);  // closes the socket (epoll forgets it with it)
}

void ConnectDriver::close_stale(Micros now) {
    if (now < next_sweep_) return;
    next_sweep_ = now + max_age_ / 4;
    std::erase_if(pending_, [&](const auto& item) {
        if (now - item.second.started < max_age_) return false;
        by_port_.erase(Correlator::key(item.second.target, item.second.lane, item.second.port));
        return true;
    });
}

void ConnectDriver::wait(Micros deadline, const Clock& clock, std::vector<TimedAnswer>& out) {
    std::array<epoll_event, kMaxEvents> events{};
    const Micros now = clock.now();
    const int timeout_ms = deadline <= now ? 0 : static_cast<int>((deadline - now + kMillisecond - 1) / kMillisecond);
    const int n = ::epoll_wait(epoll_.get(), events.data(), kMaxEvents, timeout_ms);
    const Micros when = clock.now();
    for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
        finish(fd, error, when, out);
    }
    close_stale(when);
}

ScanEnd run_connect_scan(Engine& engine, ConnectDriver& driver, const Clock& clock, const std::atomic<bool>& stop,
                         const LoopHooks& hooks) {
    std::array<Probe, kBatch> probes;
    std::vector<TimedAnswer> answers;
    for (;;) {
        if (stop.load(std::memory_order_relaxed)) return ScanEnd::interrupted;
        const Micros now = clock.now();
        answers.clear();
        const std::size_t n = engine.poll_sends(now, probes);
        for (std::size_t i = 0; i < n; ++i) driver.start(probes[i], now, answers);
        if (n == 0 && answers.empty() && engine.finished()) break;
        driver.wait(n > 0 || !answers.empty() ? now : engine.next_deadline(now), clock, answers);
        for (const auto& [answer, ts] : answers) engine.on_answer(answer, ts);
        if (hooks.tick) hooks.tick(clock.now());
    }
    return ScanEnd::finished;
}

}  // namespace flagscan

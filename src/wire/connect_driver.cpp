// The connect scan's sockets: non-blocking connect() and epoll, outcomes mapped to replies.
#include "flagscan/wire/connect_driver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "flagscan/net/address_book.hpp"

namespace flagscan {
namespace {

constexpr std::size_t kBatch = 64;
constexpr int kMaxEvents = 256;
constexpr Micros kShortageRetry = 5 * kMillisecond;    // how soon a probe short of a socket is tried again
constexpr Micros kGiveUpShortage = 500 * kMillisecond;  // a shortage this long, none of ours open: give up

Answer answer_for(Ipv4 target, std::uint8_t lane, Port port, std::uint8_t try_no, const ReplyEvidence& evidence) {
    return Answer{target, port, try_no, evidence, lane};
}

}  // namespace

sockaddr_in socket_address(Ipv4 ip, Port port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port.value());
    a.sin_addr.s_addr = htonl(ip.value());
    return a;
}

sockaddr_in6 socket_address(const Ipv6& ip, Port port) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port.value());
    const auto bytes = ip.bytes();
    std::memcpy(&a.sin6_addr, bytes.data(), bytes.size());
    return a;
}

namespace {

template <typename Address>
SocketAddress any_address(const Address& address) {
    SocketAddress a;
    std::memcpy(&a.storage, &address, sizeof address);
    a.length = sizeof address;
    return a;
}

}  // namespace

// IPv6: the key's address (address_book.hpp: the engine names hosts by keys, the wire by addresses).
std::optional<SocketAddress> socket_address(const AddressBook* book, Ipv4 ip, Port port) {
    if (book == nullptr) return any_address(socket_address(ip, port));
    const auto address = book->address_of(ip);
    if (!address) return std::nullopt;
    return any_address(socket_address(*address, port));
}

std::optional<std::pair<Ipv4, Port>> scan_endpoint(const AddressBook* book, const SocketAddress& address) {
    if (address.storage.ss_family == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, &address.storage, sizeof in);
        return std::pair{Ipv4{ntohl(in.sin_addr.s_addr)}, Port{ntohs(in.sin_port)}};
    }
    if (address.storage.ss_family != AF_INET6) return std::nullopt;
    sockaddr_in6 in6{};
    std::memcpy(&in6, &address.storage, sizeof in6);
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
    const auto key = book != nullptr ? book->key_of(Ipv6::from_bytes(bytes)) : std::nullopt;
    return std::pair{key.value_or(Ipv4{}), Port{ntohs(in6.sin6_port)}};
}

void abort_connection(int fd) {
    const linger hard{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
}

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

bool is_local_shortage(int error) {
    switch (error) {
        case EMFILE:         // this process's open-file limit
        case ENFILE:         // the system's
        case ENOBUFS:
        case ENOMEM:
        case EAGAIN:         // connect(): no local port free (Linux, for some families)
        case EADDRNOTAVAIL:  // connect(): no local port free
        case EADDRINUSE: return true;
        default: return false;
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

// /proc/self/fd lists them (less the one reading it); without /proc, each low number is asked.
std::size_t open_descriptors() {
    std::error_code error;
    std::size_t count = 0;
    for (std::filesystem::directory_iterator it{"/proc/self/fd", error}, end; !error && it != end; it.increment(error))
        ++count;
    if (!error && count > 0) return count - 1;
    count = 0;
    for (int fd = 0; fd < 4096; ++fd) count += ::fcntl(fd, F_GETFD) != -1 ? 1 : 0;
    return count;
}

Result<std::size_t> connection_budget(std::size_t limit, std::size_t open_now) {
    constexpr std::size_t kKept = 3;  // the epoll set, and two for the report files and the resolver
    const std::size_t free = limit > open_now ? limit - open_now : 0;
    if (free < kMinFreeDescriptors)
        return Error{"only " + std::to_string(free) + " file descriptors free (open-file limit " + std::to_string(limit) +
                     ", " + std::to_string(open_now) + " open): a connect scan needs at least " +
                     std::to_string(kMinFreeDescriptors) + "; raise the limit with ulimit -n"};
    return free - kKept;
}

Result<ConnectDriver> ConnectDriver::open(std::optional<Ipv4> source, std::string device, Micros max_age,
                                          std::size_t capacity, const AddressBook* book) {
    Fd epoll{::epoll_create1(EPOLL_CLOEXEC)};
    if (!epoll) return Error{std::string("cannot create an epoll instance: ") + std::strerror(errno)};
    return ConnectDriver{std::move(epoll), source, std::move(device), max_age, std::max<std::size_t>(capacity, 1), book};
}

// -S: the socket leaves from our chosen address (not ours: EADDRNOTAVAIL, the scan stops).
ConnectDriver::Attempt ConnectDriver::bind_source(int fd) {
    const auto me = socket_address(book_, *source_, Port{0});
    const std::string name = book_ != nullptr ? book_->text(*source_) : source_->str();
    if (!me) return fail("no IPv6 address for the source " + name);
    if (::bind(fd, me->get(), me->length) == 0) return Attempt::done;
    return errno == EADDRINUSE ? short_of(errno) : fail("cannot bind to " + name + ": " + std::strerror(errno));
}

void ConnectDriver::note(const Probe& probe, int error, Micros now) const {
    if (trace_) trace_(ConnectEvent{probe.dst, probe.dport, error, now});
}

void ConnectDriver::forget(std::uint64_t key) {
    if (auto old = by_port_.find(key); old != by_port_.end()) {  // the previous try gave up
        pending_.erase(old->second);
        by_port_.erase(old);
    }
    std::erase_if(waiting_, [&](const Probe& p) { return Correlator::key(p.dst, p.lane, p.dport) == key; });
}

// A socket connecting for twice its host's timeout is one the engine has stopped waiting for:
// its try timed out, and was resent or given up.
bool ConnectDriver::expired(const Pending& p, Micros now) const {
    const Micros patience = timeout_of_ ? std::min(max_age_, 2 * timeout_of_(p.target)) : max_age_;
    return now - p.started >= patience;
}

// Closes the oldest socket the engine has stopped waiting for; false when there is none.
bool ConnectDriver::close_expired(Micros now) {
    auto oldest = pending_.end();
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (!expired(it->second, now)) continue;
        if (oldest == pending_.end() || it->second.started < oldest->second.started) oldest = it;
    }
    if (oldest == pending_.end()) return false;
    by_port_.erase(Correlator::key(oldest->second.target, oldest->second.lane, oldest->second.port));
    pending_.erase(oldest);
    return true;
}

void ConnectDriver::start(const Probe& probe, Micros now, std::vector<TimedAnswer>& out) {
    forget(Correlator::key(probe.dst, probe.lane, probe.dport));
    if (!waiting_.empty()) {  // those first: they were due earlier
        waiting_.push_back(probe);
        return;
    }
    if (attempt(probe, now, out) == Attempt::short_of_resources) waiting_.push_back(probe);
}

// One connect(): a socket in progress, an outcome known at once, or a shortage (the caller
// keeps the probe until a socket ends or expires).
ConnectDriver::Attempt ConnectDriver::attempt(const Probe& probe, Micros now, std::vector<TimedAnswer>& out) {
    if (pending_.size() >= capacity_ && !close_expired(now)) return short_of(EMFILE);
    const int family = book_ != nullptr ? AF_INET6 : AF_INET;
    Fd fd{::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (!fd && is_local_shortage(errno) && close_expired(now)) fd.reset(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return is_local_shortage(errno) ? short_of(errno) : fail(std::string("cannot open a socket: ") + std::strerror(errno));
    if (!device_.empty() &&
        ::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, device_.c_str(), static_cast<socklen_t>(device_.size())) != 0)
        return fail("cannot bind to interface '" + device_ + "': " + std::strerror(errno));
    if (source_) {
        if (const Attempt bound = bind_source(fd.get()); bound != Attempt::done || failure_) return bound;
    }
    const auto to = socket_address(book_, probe.dst, probe.dport);
    if (!to) return fail("no IPv6 address for the target key " + probe.dst.str());
    const int error = ::connect(fd.get(), to->get(), to->length) == 0 ? 0 : errno;
    if (is_local_shortage(error)) return short_of(error);
    short_since_ = -1;
    note(probe, error, now);
    if (error != EINPROGRESS) {
        if (error == 0) abort_connection(fd.get());
        if (auto evidence = evidence_for_connect_error(error))
            out.push_back({answer_for(probe.dst, probe.lane, probe.dport, probe.try_no, *evidence), now});
        return Attempt::done;
    }
    epoll_event event{};
    event.events = EPOLLOUT;
    event.data.fd = fd.get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &event) != 0) return short_of(errno);
    const int raw = fd.get();
    by_port_[Correlator::key(probe.dst, probe.lane, probe.dport)] = raw;
    pending_.emplace(raw, Pending{std::move(fd), probe.dst, probe.dport, probe.try_no, now, probe.lane});
    return Attempt::done;
}

ConnectDriver::Attempt ConnectDriver::short_of(int error) {
    shortage_ = error;
    return Attempt::short_of_resources;
}

ConnectDriver::Attempt ConnectDriver::fail(std::string why) {
    failure_ = std::move(why);
    return Attempt::done;
}

// Starts the probes that waited for a socket, oldest first, until one is short again. A
// shortage that lasts with nothing of ours left to close is the machine's, not the target's:
// the scan stops with the reason rather than call the waiting ports filtered.
void ConnectDriver::start_waiting(Micros now, std::vector<TimedAnswer>& out) {
    while (!waiting_.empty() && !failure_) {
        if (attempt(waiting_.front(), now, out) == Attempt::short_of_resources) break;
        waiting_.pop_front();
    }
    if (waiting_.empty() || failure_) return;
    if (short_since_ < 0) short_since_ = now;
    if (pending_.empty() && now - short_since_ > kGiveUpShortage)
        failure_ = std::string("cannot open a connection for ") + std::to_string(kGiveUpShortage / kMillisecond) +
                   " ms with none of ours open: " + std::strerror(shortage_) + " (raise the open-file limit with ulimit -n)";
}

void ConnectDriver::finish(int fd, int error, Micros now, std::vector<TimedAnswer>& out) {
    auto it = pending_.find(fd);
    if (it == pending_.end()) return;
    const Pending& p = it->second;
    if (error == 0) abort_connection(fd);
    if (trace_) trace_(ConnectEvent{p.target, p.port, error, now});
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
    if (!waiting_.empty()) deadline = std::min(deadline, now + kShortageRetry);
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
    start_waiting(when, out);
}

ScanEnd run_connect_scan(Engine& engine, ConnectDriver& driver, const Clock& clock, const std::atomic<bool>& stop,
                         const LoopHooks& hooks) {
    std::array<Probe, kBatch> probes;
    std::vector<TimedAnswer> answers;
    driver.patience([&engine](Ipv4 host) { return engine.host_rto(host); });
    for (;;) {
        if (driver.failure()) return ScanEnd::interrupted;
        if (stop.load(std::memory_order_relaxed)) {
            driver.cancel_waiting();  // a connect() started now would be a probe sent after the stop
            return drain_replies(engine, clock, [&](Micros deadline) {
                answers.clear();
                driver.wait(deadline, clock, answers);
                for (const auto& [answer, ts] : answers) engine.on_answer(answer, ts);
            }, hooks);
        }
        const Micros now = clock.now();
        answers.clear();
        const std::size_t n = engine.poll_sends(now, probes);
        for (std::size_t i = 0; i < n; ++i) driver.start(probes[i], now, answers);
        if (n == 0 && answers.empty() && engine.finished()) break;
        driver.wait(n > 0 || !answers.empty() ? now : engine.next_deadline(now), clock, answers);
        for (const auto& [answer, ts] : answers) {
            const PacketOutcome outcome = engine.on_answer(answer, ts);
            if (hooks.answered) hooks.answered(outcome);
        }
        if (hooks.tick) hooks.tick(clock.now());
    }
    return ScanEnd::finished;
}

}  // namespace flagscan

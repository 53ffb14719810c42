// ConnectDriver: the connect scan's wire: one non-blocking socket per probe, watched with epoll.
#pragma once

#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/correlator.hpp"
#include "flagscan/engine/scan_loop.hpp"
#include "flagscan/net/ipv6.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/wire/fd.hpp"

namespace flagscan {

class AddressBook;

struct TimedAnswer {
    Answer answer;
    Micros ts;
};

// One step of a connection, for --packet-trace: connect() called (error: EINPROGRESS, or the
// outcome the kernel knew at once) or its outcome (0: connected, else the socket's error).
// An IPv4 or IPv6 socket address, as connect() and bind() take it.
struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

struct ConnectEvent {
    Ipv4 target;
    Port port;
    int error = 0;
    Micros when = 0;
};

// Why sockets and not packets: without root there is no raw socket and no capture, but the
// kernel will still do the handshake for us. Each probe is a connect() on a non-blocking
// socket; epoll reports its end: established (open), ECONNREFUSED (the target sent RST),
// EHOSTUNREACH / ENETUNREACH (an ICMP unreachable came back). Those outcomes are handed to the
// same engine as captured replies, so timeouts, retries and reports are the raw scans' own.
//
// A shortage on this machine (no descriptor, no buffer, no local port) says nothing about the
// target: the probe waits in the driver and is started again as soon as a socket is free, so
// it never turns into a verdict. At most `capacity` sockets are open at once. A socket the
// engine has stopped waiting for (twice its host's timeout: timed out, resent or given up) is
// closed to make room; one it still waits for never is, so no answer is thrown away.
class ConnectDriver {
public:
    // `source` binds the sockets to an address (-S); `device` to an interface (-e, needs
    // CAP_NET_RAW). `max_age`: a socket still connecting after this long is given up (closed).
    // With a `book` (an IPv6 scan, net/address_book.hpp) the sockets are IPv6 ones: each probe's target and
    // `source` are keys, connected to and bound to their addresses; the book must outlive the driver.
    static Result<ConnectDriver> open(std::optional<Ipv4> source, std::string device, Micros max_age,
                                      std::size_t capacity, const AddressBook* book = nullptr);

    // Starts connect() for the probe (closing the socket of its previous try, if still open);
    // an outcome the kernel knows at once is appended to `out`.
    void start(const Probe& probe, Micros now, std::vector<TimedAnswer>& out);
    // Appends the outcomes of connects in progress, waiting until `deadline` for the first, and
    // starts the probes that were waiting for a free socket.
    void wait(Micros deadline, const Clock& clock, std::vector<TimedAnswer>& out);
    // How long the engine waits for a host's reply: a socket connecting for twice that is one
    // it has stopped waiting for, and may be closed to make room (none given: after max_age).
    void patience(std::function<Micros(Ipv4)> timeout_of) { timeout_of_ = std::move(timeout_of); }
    // Called for every connect() and every outcome (--packet-trace).
    void trace(std::function<void(const ConnectEvent&)> observer) { trace_ = std::move(observer); }

    // The probes still waiting for a socket are never started (the scan was interrupted).
    void cancel_waiting() { waiting_.clear(); }

    std::size_t open_sockets() const { return pending_.size(); }
    std::size_t waiting() const { return waiting_.size(); }
    // Set when the scan cannot go on (sockets cannot be opened at all, -e refused, ...).
    const std::optional<std::string>& failure() const { return failure_; }

private:
    struct Pending {
        Fd socket;
        Ipv4 target;
        Port port;
        std::uint8_t try_no;
        Micros started;
        std::uint8_t lane;
    };
    enum class Attempt { done, short_of_resources };
    ConnectDriver(Fd epoll, std::optional<Ipv4> source, std::string device, Micros max_age, std::size_t capacity,
                  const AddressBook* book)
        : epoll_(std::move(epoll)), source_(source), device_(std::move(device)), max_age_(max_age),
          capacity_(capacity), book_(book) {}
    Attempt bind_source(int fd);
    Attempt attempt(const Probe& probe, Micros now, std::vector<TimedAnswer>& out);
    Attempt short_of(int error);
    Attempt fail(std::string why);
    void start_waiting(Micros now, std::vector<TimedAnswer>& out);
    void forget(std::uint64_t key);
    bool expired(const Pending& p, Micros now) const;
    bool close_expired(Micros now);
    void finish(int fd, int error, Micros now, std::vector<TimedAnswer>& out);
    void close_stale(Micros now);
    void note(const Probe& probe, int error, Micros now) const;

    Fd epoll_;
    std::optional<Ipv4> source_;
    std::string device_;
    Micros max_age_;
    std::size_t capacity_;
    const AddressBook* book_;  // an IPv6 scan's, else null
    Micros next_sweep_ = 0;
    Micros short_since_ = -1;                            // when starting a probe first failed, none started since
    int shortage_ = 0;                                   // the error of the last shortage
    std::optional<std::string> failure_;
    std::function<void(const ConnectEvent&)> trace_;
    std::function<Micros(Ipv4)> timeout_of_;
    std::unordered_map<int, Pending> pending_;          // by socket fd
    std::unordered_map<std::uint64_t, int> by_port_;    // Correlator::key(target, port) -> fd
    std::deque<Probe> waiting_;                          // probes short of a socket, oldest first
};

// The answer connect()'s outcome stands for, or nullopt for errors that say nothing about the
// port (no free local port, out of file descriptors: the probe waits and is started again).
std::optional<ReplyEvidence> evidence_for_connect_error(int error);

// Errors of socket(), bind() or connect() that mean this machine is short of something for now
// (descriptors, memory, local ports), not that the target answered.
bool is_local_shortage(int error);

// The socket address of a target port, for connect() and bind().
sockaddr_in socket_address(Ipv4 ip, Port port);
sockaddr_in6 socket_address(const Ipv6& ip, Port port);
// The same for a scan's host: with a `book` (an IPv6 scan) `ip` is a key and the address its IPv6
// one (net/address_book.hpp), else `ip` itself; nullopt for a key the book does not hold.
std::optional<SocketAddress> socket_address(const AddressBook* book, Ipv4 ip, Port port);
// The reverse, for what getsockname() says: an IPv4 address as itself, an IPv6 one as its key in
// `book` (0.0.0.0, never a key, when there is no book or it does not hold the address), and the
// port; nullopt for another family.
std::optional<std::pair<Ipv4, Port>> scan_endpoint(const AddressBook* book, const SocketAddress& address);

// Makes the socket's close() send RST at once (SO_LINGER 0): no FIN handshake, no TIME_WAIT
// holding a local port, and the service sees the connection end as a SYN scan's would.
void abort_connection(int fd);

// Raises the soft limit on open files to the hard one; returns the limit now in force.
std::size_t raise_file_limit();
// Descriptors this process has open now.
std::size_t open_descriptors();

// How many connections a connect scan may hold at once, given the open-file limit and the
// descriptors already open: every free one but a few kept for the epoll set and the reports.
// An error when too few are free to scan at all.
inline constexpr std::size_t kMinFreeDescriptors = 8;
Result<std::size_t> connection_budget(std::size_t limit, std::size_t open_now);

// The loop of a connect scan: the engine's probes become connect() calls, their outcomes the
// engine's answers, until every port has its verdict, `stop` is set, or the driver fails
// (ScanEnd::interrupted; driver.failure() says why). After `stop`, no connect() is started;
// the sockets connecting are still read for up to one timeout (drain_replies).
ScanEnd run_connect_scan(Engine& engine, ConnectDriver& driver, const Clock& clock, const std::atomic<bool>& stop,
                         const LoopHooks& hooks = {});

}  // namespace flagscan

// ConnectDriver: the connect scan's wire: one non-blocking socket per probe, watched with epoll.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/correlator.hpp"
#include "flagscan/engine/scan_loop.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/wire/fd.hpp"

namespace flagscan {

struct TimedAnswer {
    Answer answer;
    Micros ts;
};

// Why sockets and not packets: without root there is no raw socket and no capture, but the
// kernel will still do the handshake for us. Each probe is a connect() on a non-blocking
// socket; epoll reports its end: established (open), ECONNREFUSED (the target sent RST),
// EHOSTUNREACH / ENETUNREACH (an ICMP unreachable came back). Those outcomes are handed to the
// same engine as captured replies, so timeouts, retries and reports are the raw scans' own.
class ConnectDriver {
public:
    // `source` binds the sockets to an address (-S); `device` to an interface (-e, needs
    // CAP_NET_RAW). `max_age`: a socket still connecting after this long is given up (closed).
    static Result<ConnectDriver> open(std::optional<Ipv4> source, std::string device, Micros max_age);

    // Starts connect() for the probe (closing the socket of its previous try, if still open);
    // an outcome the kernel knows at once is appended to `out`.
    void start(const Probe& probe, Micros now, std::vector<TimedAnswer>& out);
    // Appends the outcomes of connects in progress, waiting until `deadline` for the first.
    void wait(Micros deadline, const Clock& clock, std::vector<TimedAnswer>& out);
    std::size_t open_sockets() const { return pending_.size(); }

private:
    struct Pending {
        Fd socket;
        Ipv4 target;
        Port port;
        std::uint8_t try_no;
        Micros started;
        std::uint8_t lane;
    };
    ConnectDriver(Fd epoll, std::optional<Ipv4> source, std::string device, Micros max_age)
        : epoll_(std::move(epoll)), source_(source), device_(std::move(device)), max_age_(max_age) {}
    void finish(int fd, int error, Micros now, std::vector<TimedAnswer>& out);
    void close_stale(Micros now);
    Result<Fd> connecting_socket(const Probe& probe, int& error) const;

    Fd epoll_;
    std::optional<Ipv4> source_;
    std::string device_;
    Micros max_age_;
    Micros next_sweep_ = 0;
    std::unordered_map<int, Pending> pending_;          // by socket fd
    std::unordered_map<std::uint64_t, int> by_port_;    // Correlator::key(target, port) -> fd
};

// The answer connect()'s outcome stands for, or nullopt for errors that say nothing about the
// port (no free local port, out of file descriptors: the probe simply times out and is retried).
std::optional<ReplyEvidence> evidence_for_connect_error(int error);

// Raises the soft limit on open files to the hard one; returns the limit now in force.
std::size_t raise_file_limit();

// The loop of a connect scan: the engine's probes become connect() calls, their outcomes the
// engine's answers, until every port has its verdict or `stop` is set.
ScanEnd run_connect_scan(Engine& engine, ConnectDriver& driver, const Clock& clock, const std::atomic<bool>& stop,
                         const LoopHooks& hooks = {});

}  // namespace flagscan

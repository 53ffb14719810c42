// Conversations: many TCP/UDP (and TLS) dialogs with services at once, non-blocking, one epoll loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "flagscan/engine/clock.hpp"
#include "flagscan/net/address_book.hpp"
#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/service/tls.hpp"

namespace flagscan {

enum class Transport : std::uint8_t { tcp, udp };

// How a step reaches the service: a new plain connection, a new TLS connection (TCP only),
// or the connection the previous step left open (a new one when there is none).
enum class Link : std::uint8_t { plain, tls, reuse };

// What a Dialog asks the driver to do next: send `payload` (empty: send nothing, just listen,
// as nmap's NULL probe waits for a banner) and listen for `wait` from the send (the probe's
// totalwaitms). `quiet`: once bytes have come, the wait also ends after this long without more
// (0: never early). Or: the conversation is over.
struct Step {
    bool done = false;
    Link link = Link::plain;
    std::string payload;
    Micros wait = 0;
    Micros quiet = 0;

    static Step finish() { return Step{true, Link::plain, {}, 0, 0}; }
    static Step probe(Link link, std::string payload, Micros wait, Micros quiet = 0) {
        return Step{false, link, std::move(payload), wait, quiet};
    }
};

// How the connection stood when a step's wait ended.
enum class Ending : std::uint8_t {
    open,             // still open (the wait ran out, went quiet, was enough, or the byte bound was hit)
    peer_closed,      // the peer closed its side (FIN, or TLS close_notify)
    reset,            // the peer reset the connection (RST) after it was established
    refused,          // connect() refused (RST to the SYN); UDP: ICMP port unreachable
    unreachable,      // connect() met ICMP host/network unreachable or admin-prohibited
    connect_timeout,  // no answer to the SYN within the driver's connect timeout
    tls_failed,       // TCP connected, the TLS handshake did not complete
    failed,           // another error on an established connection (its errno in Exchange::error)
};
std::string_view to_string(Ending ending);

// Why a wait ended before its full time, if it did (cut: the caller ended it, ConversationDriver::cut_wait).
enum class WaitEnd : std::uint8_t { full, quiet, enough, bound, closed, cut };

// Our end of a connection just made (getsockname): the address and port it leaves from, what a
// service on the far side sees as its client (RFC 1413's port-on-client). In an IPv6 scan the
// address is our source's key in the book (0.0.0.0 when the book does not hold it).
struct LocalEnd {
    Ipv4 address;
    Port port;
};

// What came back for one step: the bytes (at most the driver's bound; reading stops there),
// how and when it ended. `elapsed` is from the send (or the start of listening) to the end
// of the wait; `connected_for` from the connection's establishment to that end (the
// tcpwrapped rule reads it); -1 when never connected.
struct Exchange {
    std::string_view received;
    Ending ending = Ending::open;
    WaitEnd wait_end = WaitEnd::full;
    int error = 0;                     // errno behind refused / unreachable / reset / failed
    Micros elapsed = 0;
    Micros connected_for = -1;
    Micros first_byte_after = -1;      // from the send to the first byte; -1: none came
    const TlsInfo* tls = nullptr;      // the session's parameters when the connection is TLS
    bool truncated() const { return wait_end == WaitEnd::bound; }
};

// The caller's strategy for one conversation: which probes, in which order, and when it has
// learnt enough. The driver calls start() once when a socket is free for it, enough() as bytes
// arrive during a wait, and next() with each wait's outcome until a Step says done.
class Dialog {
public:
    virtual ~Dialog() = default;
    virtual Step start() = 0;
    // True ends the current wait at once: the bytes so far are enough (a matched banner need
    // not wait out a 5 s totalwaitms). Called after every read that added bytes.
    virtual bool enough(std::string_view received) {
        (void)received;
        return false;
    }
    virtual Step next(const Exchange& exchange) = 0;
    // Each time a connection of the conversation is made (before TLS, before the step's send):
    // our end of it.
    virtual void connected(const LocalEnd& local) { (void)local; }
};

// nmap's tcpwrapped rule (service_scan.cc): the connection was accepted, then closed by the
// peer (FIN or RST) with no data within `tcpwrapped_wait` of being established (the probe
// file's tcpwrappedms; kDefaultTcpwrapped when it gives none).
inline constexpr Micros kDefaultTcpwrapped = 2000 * kMillisecond;
bool is_tcpwrapped(const Exchange& exchange, Micros tcpwrapped_wait = kDefaultTcpwrapped);

struct ConversationLimits {
    std::size_t max_sockets = 0;          // 0: what the open-file limit leaves free (connection_budget)
    std::size_t per_host = 10;            // connections open to one address at once
    Micros connect_timeout = 5 * kSecond;
    std::size_t max_received = 64 * 1024;  // bytes kept per step; reading stops there (memory: max_sockets x this)
    std::optional<Ipv4> source;           // -S: bind to this address (a key of `book` in an IPv6 scan)
    std::string device;                   // -e: bind to this interface
    // An IPv6 scan's book (net/address_book.hpp): endpoints and `source` are its keys and the
    // sockets IPv6 ones, connected to the keys' addresses. Null: IPv4. It must outlive the driver.
    const AddressBook* book = nullptr;
};

struct ConversationStats {
    std::uint64_t conversations = 0;  // finished
    std::uint64_t connections = 0;    // connect() calls that went out
    std::uint64_t steps = 0;          // waits completed
    std::uint64_t shortages = 0;      // times a socket could not be had and was waited for
    std::uint64_t bytes = 0;          // kept, over all steps
};

// Drives every conversation added to it. Each one waits in a queue until a socket is free
// (at most max_sockets open, at most per_host to one address); a shortage on this machine
// (EMFILE, EADDRNOTAVAIL, ...: is_local_shortage) puts it back in the queue to be tried again,
// never into an outcome. The epoll wait in turn() is the only blocking call; deadlines come
// from the Clock.
class ConversationDriver {
public:
    using Id = std::uint32_t;
    struct Endpoint {
        Ipv4 target;
        Port port;
        Transport transport = Transport::tcp;
    };

    static Result<ConversationDriver> open(ConversationLimits limits);
    ConversationDriver(ConversationDriver&&) noexcept;
    ConversationDriver& operator=(ConversationDriver&&) noexcept;
    ~ConversationDriver();

    // `dialog` must outlive the conversation (until finished() or the driver's end). `first`:
    // ahead of the host's other waiting conversations (a walk's next probe before the probes it
    // runs ahead). A Dialog may add conversations from its own calls.
    Id add(const Endpoint& endpoint, Dialog& dialog, bool first = false);
    // Ends a conversation now, queued or under way, without asking its Dialog anything more
    // (its socket is given back). A Dialog may cancel others from its calls, never itself.
    void cancel(Id id);

    // Until every conversation is done, or `stop` is set (the rest are dropped unfinished).
    void run(const Clock& clock, const std::atomic<bool>* stop = nullptr);
    // One turn: start queued conversations, wait for events until the next deadline (at most
    // until `limit`), handle them and the deadlines passed.
    void turn(const Clock& clock, Micros limit);
    bool finished() const;
    // Ends conversation `id`'s current wait at `now`, as if it had run out (WaitEnd::cut, the
    // connection still open): for a caller that learnt elsewhere what the conversation waits for.
    // Nothing happens unless it is waiting on an established connection. Call it between turns.
    void cut_wait(Id id, Micros now);

    std::size_t open_sockets() const;
    std::size_t capacity() const;
    const ConversationStats& stats() const;
    // Set when conversations cannot go on (no socket could be opened for long with none open).
    const std::optional<std::string>& failure() const;

private:
    struct State;
    explicit ConversationDriver(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace flagscan

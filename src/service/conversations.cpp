// Conversations: an epoll loop over non-blocking sockets, each driven step by step by its Dialog.
#include "flagscan/service/conversations.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "flagscan/wire/connect_driver.hpp"
#include "flagscan/wire/fd.hpp"

namespace flagscan {
namespace {

constexpr int kMaxEvents = 256;
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr Micros kShortageRetry = 5 * kMillisecond;    // how soon a conversation short of a socket is tried again
constexpr Micros kGiveUpShortage = 500 * kMillisecond;  // a shortage this long, none of ours open: give up
constexpr Micros kForever = std::numeric_limits<Micros>::max() / 4;

enum class Phase : std::uint8_t { queued, connecting, handshaking, sending, listening, done };

// connect()'s answer, when the kernel knows it: what the target said, as an Ending.
Ending ending_for_connect_error(int error) {
    switch (error) {
        case ECONNREFUSED: return Ending::refused;
        case ENETUNREACH:
        case EHOSTUNREACH:
        case EACCES:
        case EPERM: return Ending::unreachable;
        case ETIMEDOUT: return Ending::connect_timeout;
        default: return Ending::failed;
    }
}

Ending ending_for_read_error(int error) {
    if (error == ECONNRESET || error == EPIPE) return Ending::reset;
    if (error == ECONNREFUSED) return Ending::refused;  // UDP: ICMP port unreachable
    return Ending::failed;
}

struct Conversation {
    ConversationDriver::Endpoint endpoint;
    Dialog* dialog = nullptr;
    Phase phase = Phase::queued;
    bool started = false;              // start() was asked (a shortage re-queues the step, not the dialog)
    Step step;
    bool tls_link = false;             // the open (or last) connection is TLS
    Fd fd;
    std::optional<TlsSession> tls;
    std::optional<TlsInfo> tls_info;
    bool registered = false;           // fd is in the epoll set
    std::uint32_t generation = 0;      // one per connection: stale epoll events are told apart
    std::string received;
    std::size_t sent = 0;              // bytes of step.payload written
    Micros connected_at = -1;
    Micros listen_from = 0;
    Micros first_byte = -1;
    Micros total_deadline = 0;         // the step's wait
    Micros deadline = 0;               // the earliest of the phase's deadlines
};

struct Timer {
    Micros when;
    ConversationDriver::Id id;
    bool operator>(const Timer& other) const { return when > other.when; }
};

struct HostSlots {
    std::size_t open = 0;
    std::deque<ConversationDriver::Id> waiting;
};

}  // namespace

std::string_view to_string(Ending ending) {
    switch (ending) {
        case Ending::open: return "open";
        case Ending::peer_closed: return "peer-closed";
        case Ending::reset: return "reset";
        case Ending::refused: return "refused";
        case Ending::unreachable: return "unreachable";
        case Ending::connect_timeout: return "connect-timeout";
        case Ending::tls_failed: return "tls-failed";
        case Ending::failed: return "failed";
    }
    return "?";
}

// nmap (service_scan.cc, servicescan_read_handler): EOF or ECONNRESET with no byte received,
// sooner than tcpwrappedms after the connection was made: something accepted the connection
// and dropped it (tcp wrappers, a firewall's proxy), so no service can be named.
bool is_tcpwrapped(const Exchange& exchange, Micros tcpwrapped_wait) {
    const bool closed = exchange.ending == Ending::peer_closed || exchange.ending == Ending::reset;
    return closed && exchange.received.empty() && exchange.connected_for >= 0 &&
           exchange.connected_for < tcpwrapped_wait;
}

struct ConversationDriver::State {
    ConversationLimits limits;
    std::size_t capacity = 1;
    Fd epoll;
    std::optional<TlsContext> tls;  // made when a step first asks for TLS
    std::deque<Conversation> conversations;  // by Id; a deque keeps references stable
    std::unordered_map<std::uint32_t, HostSlots> hosts;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
    std::size_t open = 0;
    std::size_t active = 0;
    std::size_t waiting = 0;
    Micros retry_at = -1;       // a shortage: when to try the queue again
    Micros short_since = -1;
    int shortage = 0;
    ConversationStats stats;
    std::optional<std::string> failure;
    std::array<char, kReadChunk> buffer{};

    void start_queued(Micros now);
    bool begin(Id id, Micros now);
    bool connect(Id id, Micros now);
    void release(Conversation& c);
    void watch(Id id, std::uint32_t events);
    void arm(Id id, Micros deadline);
    void on_event(Id id, std::uint32_t events, Micros now);
    void on_connected(Id id, Micros now);
    void handshake(Id id, Micros now);
    void start_sending(Id id, Micros now);
    void send_more(Id id, Micros now);
    void read_more(Id id, Micros now);
    void expire(Micros now);
    void end_wait(Id id, Ending ending, WaitEnd why, int error, Micros now);
    void advance(Id id, Step step, Micros now);
    void requeue(Id id, int error, Micros now);
    Micros next_deadline();
};

void ConversationDriver::State::arm(Id id, Micros deadline) {
    conversations[id].deadline = deadline;
    timers.push(Timer{deadline, id});
}

void ConversationDriver::State::watch(Id id, std::uint32_t events) {
    Conversation& c = conversations[id];
    epoll_event event{};
    event.events = events;
    event.data.u64 = (std::uint64_t{c.generation} << 32) | id;
    const int op = c.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (::epoll_ctl(epoll.get(), op, c.fd.get(), &event) == 0) c.registered = true;
}

// Closes the conversation's connection, if any, and gives its socket back.
void ConversationDriver::State::release(Conversation& c) {
    if (!c.fd) return;
    c.tls.reset();
    abort_connection(c.fd.get());  // RST: no TIME_WAIT left holding a local port
    c.fd.reset();
    c.registered = false;
    --open;
    --hosts[c.endpoint.target.value()].open;
}

// Every host with room takes its oldest waiting conversation, round after round, until the
// sockets run out or a shortage says to wait.
void ConversationDriver::State::start_queued(Micros now) {
    if (waiting == 0 || (retry_at >= 0 && now < retry_at)) return;
    retry_at = -1;
    bool started = true;
    while (started && open < capacity && waiting > 0 && retry_at < 0) {
        started = false;
        for (auto& [address, host] : hosts) {
            if (host.waiting.empty() || host.open >= limits.per_host || open >= capacity) continue;
            const Id id = host.waiting.front();
            host.waiting.pop_front();
            --waiting;
            started = true;
            if (!begin(id, now)) break;  // short of a socket: it went back to the front
        }
    }
}

// The conversation's first step, or the step a shortage sent back to the queue. False when it
// had to go back to the queue (again).
bool ConversationDriver::State::begin(Id id, Micros now) {
    Conversation& c = conversations[id];
    c.phase = Phase::connecting;
    if (c.started) {
        connect(id, now);
    } else {
        c.started = true;
        advance(id, c.dialog->start(), now);
    }
    return retry_at < 0;
}

void ConversationDriver::State::requeue(Id id, int error, Micros now) {
    Conversation& c = conversations[id];
    release(c);
    c.phase = Phase::queued;
    hosts[c.endpoint.target.value()].waiting.push_front(id);
    ++waiting;
    ++stats.shortages;
    shortage = error;
    retry_at = now + kShortageRetry;
    if (short_since < 0) short_since = now;
    if (open == 0 && now - short_since > kGiveUpShortage)
        failure = std::string("cannot open a connection for ") + std::to_string(kGiveUpShortage / kMillisecond) +
                  " ms with none of ours open: " + std::strerror(error) + " (raise the open-file limit with ulimit -n)";
}

// A new connection for the conversation's step: false when it went back to the queue.
bool ConversationDriver::State::connect(Id id, Micros now) {
    Conversation& c = conversations[id];
    release(c);
    c.received.clear();
    c.first_byte = -1;
    const bool udp = c.endpoint.transport == Transport::udp;
    const auto to = socket_address(limits.book, c.endpoint.target, c.endpoint.port);
    if (!to) return end_wait(id, Ending::failed, WaitEnd::full, EAFNOSUPPORT, now), true;  // a key not in the book
    Fd fd{::socket(to->storage.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (!fd && is_local_shortage(errno)) return requeue(id, errno, now), false;
    if (!fd) return end_wait(id, Ending::failed, WaitEnd::full, errno, now), true;
    if (!limits.device.empty())
        ::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, limits.device.c_str(), static_cast<socklen_t>(limits.device.size()));
    if (limits.source) {
        const auto me = socket_address(limits.book, *limits.source, Port{0});
        if (me && ::bind(fd.get(), me->get(), me->length) != 0 && is_local_shortage(errno))
            return requeue(id, errno, now), false;
    }
    c.fd = std::move(fd);
    ++open;
    ++hosts[c.endpoint.target.value()].open;
    ++c.generation;
    c.connected_at = -1;
    const int error = ::connect(c.fd.get(), to->get(), to->length) == 0 ? 0 : errno;
    if (is_local_shortage(error)) return requeue(id, error, now), false;
    short_since = -1;
    ++stats.connections;
    if (error == 0) return on_connected(id, now), true;
    if (error != EINPROGRESS) return end_wait(id, ending_for_connect_error(error), WaitEnd::full, error, now), true;
    c.phase = Phase::connecting;
    watch(id, EPOLLOUT);
    arm(id, now + limits.connect_timeout);
    return true;
}

void ConversationDriver::State::on_connected(Id id, Micros now) {
    Conversation& c = conversations[id];
    c.connected_at = now;
    SocketAddress me;
    me.length = sizeof me.storage;
    if (::getsockname(c.fd.get(), reinterpret_cast<sockaddr*>(&me.storage), &me.length) == 0) {
        if (const auto end = scan_endpoint(limits.book, me)) c.dialog->connected(LocalEnd{end->first, end->second});
    }
    if (!c.tls_link) return start_sending(id, now);
    if (!tls) {
        auto context = TlsContext::create();
        if (!context) return end_wait(id, Ending::tls_failed, WaitEnd::full, 0, now);
        tls.emplace(std::move(context).value());
    }
    auto session = TlsSession::start(*tls, c.fd.get());
    if (!session) return end_wait(id, Ending::tls_failed, WaitEnd::full, 0, now);
    c.tls.emplace(std::move(session).value());
    c.phase = Phase::handshaking;
    arm(id, now + limits.connect_timeout);
    handshake(id, now);
}

void ConversationDriver::State::handshake(Id id, Micros now) {
    Conversation& c = conversations[id];
    const IoResult r = c.tls->handshake();
    using S = IoResult::Status;
    if (r.status == S::want_read) return watch(id, EPOLLIN);
    if (r.status == S::want_write) return watch(id, EPOLLOUT);
    if (r.status != S::done) return end_wait(id, Ending::tls_failed, WaitEnd::full, r.error, now);
    c.tls_info = c.tls->info();
    start_sending(id, now);
}

// The step's wait starts with its send (nmap's totalwaitms).
void ConversationDriver::State::start_sending(Id id, Micros now) {
    Conversation& c = conversations[id];
    c.received.clear();
    c.sent = 0;
    c.first_byte = -1;
    c.listen_from = now;
    c.total_deadline = now + c.step.wait;
    c.phase = Phase::sending;
    arm(id, c.total_deadline);
    send_more(id, now);
}

void ConversationDriver::State::send_more(Id id, Micros now) {
    Conversation& c = conversations[id];
    while (c.sent < c.step.payload.size()) {
        const std::span<const char> rest{c.step.payload.data() + c.sent, c.step.payload.size() - c.sent};
        IoResult r;
        if (c.tls) {
            r = c.tls->write(rest);
        } else {
            const ssize_t n = ::send(c.fd.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
            if (n >= 0) r = {IoResult::Status::done, static_cast<std::size_t>(n), 0};
            else if (errno == EAGAIN || errno == EWOULDBLOCK) r = {IoResult::Status::want_write, 0, 0};
            else r = {IoResult::Status::failed, 0, errno};
        }
        if (r.status == IoResult::Status::want_write) return watch(id, EPOLLOUT);
        if (r.status == IoResult::Status::want_read) return watch(id, EPOLLIN);  // TLS: a record to read first
        if (r.status == IoResult::Status::closed) return end_wait(id, Ending::peer_closed, WaitEnd::closed, 0, now);
        if (r.status == IoResult::Status::failed) return end_wait(id, ending_for_read_error(r.error), WaitEnd::closed, r.error, now);
        c.sent += r.bytes;
    }
    c.phase = Phase::listening;
    watch(id, EPOLLIN);
    if (c.tls) read_more(id, now);  // OpenSSL may hold decrypted bytes epoll cannot see
}

// Reads until the socket is drained, the bound is met, the peer ends, or the Dialog has enough.
void ConversationDriver::State::read_more(Id id, Micros now) {
    Conversation& c = conversations[id];
    const std::size_t before = c.received.size();
    for (;;) {
        const std::size_t room = std::min(buffer.size(), limits.max_received - c.received.size());
        IoResult r;
        if (c.tls) {
            r = c.tls->read({buffer.data(), room});
        } else {
            const ssize_t n = ::recv(c.fd.get(), buffer.data(), room, 0);
            if (n > 0) r = {IoResult::Status::done, static_cast<std::size_t>(n), 0};
            else if (n == 0) r = {IoResult::Status::closed, 0, 0};
            else if (errno == EAGAIN || errno == EWOULDBLOCK) r = {IoResult::Status::want_read, 0, 0};
            else r = {IoResult::Status::failed, 0, errno};
        }
        if (r.status == IoResult::Status::done) {
            if (c.first_byte < 0) c.first_byte = now;
            c.received.append(buffer.data(), r.bytes);
            stats.bytes += r.bytes;
            if (c.received.size() >= limits.max_received) return end_wait(id, Ending::open, WaitEnd::bound, 0, now);
            continue;
        }
        if (r.status == IoResult::Status::want_write) {
            watch(id, EPOLLIN | EPOLLOUT);
            break;
        }
        if (r.status == IoResult::Status::closed) return end_wait(id, Ending::peer_closed, WaitEnd::closed, 0, now);
        if (r.status == IoResult::Status::failed) return end_wait(id, ending_for_read_error(r.error), WaitEnd::closed, r.error, now);
        break;  // want_read: drained
    }
    if (c.received.size() == before) return;
    if (c.dialog->enough(c.received)) return end_wait(id, Ending::open, WaitEnd::enough, 0, now);
    if (c.step.quiet > 0) arm(id, std::min(c.total_deadline, now + c.step.quiet));
}

void ConversationDriver::State::on_event(Id id, std::uint32_t events, Micros now) {
    Conversation& c = conversations[id];
    switch (c.phase) {
        case Phase::connecting: {
            int error = 0;
            socklen_t length = sizeof error;
            if (::getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
            if (error != 0) return end_wait(id, ending_for_connect_error(error), WaitEnd::full, error, now);
            if ((events & EPOLLOUT) != 0) return on_connected(id, now);
            return;
        }
        case Phase::handshaking: return handshake(id, now);
        case Phase::sending: return send_more(id, now);
        case Phase::listening: return read_more(id, now);
        case Phase::queued:
        case Phase::done: return;
    }
}

// Deadlines passed: a connect or handshake that took too long, a wait run out or gone quiet.
void ConversationDriver::State::expire(Micros now) {
    while (!timers.empty() && timers.top().when <= now) {
        const Timer timer = timers.top();
        timers.pop();
        Conversation& c = conversations[timer.id];
        if (c.deadline != timer.when) continue;  // superseded
        switch (c.phase) {
            case Phase::connecting: end_wait(timer.id, Ending::connect_timeout, WaitEnd::full, ETIMEDOUT, now); break;
            case Phase::handshaking: end_wait(timer.id, Ending::tls_failed, WaitEnd::full, ETIMEDOUT, now); break;
            case Phase::sending:
            case Phase::listening:
                end_wait(timer.id, Ending::open, now >= c.total_deadline ? WaitEnd::full : WaitEnd::quiet, 0, now);
                break;
            case Phase::queued:
            case Phase::done: break;
        }
    }
}

// The step is over: the Dialog reads what came and says what next.
void ConversationDriver::State::end_wait(Id id, Ending ending, WaitEnd why, int error, Micros now) {
    Conversation& c = conversations[id];
    Exchange exchange;
    exchange.received = c.received;
    exchange.ending = ending;
    exchange.wait_end = why;
    exchange.error = error;
    exchange.elapsed = c.phase == Phase::listening || c.phase == Phase::sending ? now - c.listen_from : 0;
    exchange.connected_for = c.connected_at >= 0 ? now - c.connected_at : -1;
    exchange.first_byte_after = c.first_byte >= 0 ? c.first_byte - c.listen_from : -1;
    exchange.tls = c.tls_info ? &*c.tls_info : nullptr;
    ++stats.steps;
    c.deadline = -1;
    Step step = c.dialog->next(exchange);
    if (ending != Ending::open) release(c);
    advance(id, std::move(step), now);
}

void ConversationDriver::State::advance(Id id, Step step, Micros now) {
    Conversation& c = conversations[id];
    if (step.done) {
        release(c);
        c.phase = Phase::done;
        c.deadline = -1;
        c.received = std::string{};
        c.tls_info.reset();
        c.step = Step{};
        --active;
        ++stats.conversations;
        return;
    }
    c.step = std::move(step);
    if (c.step.link == Link::reuse && c.fd) return start_sending(id, now);
    if (c.step.link != Link::reuse) c.tls_link = c.step.link == Link::tls && c.endpoint.transport == Transport::tcp;
    c.tls_info.reset();
    connect(id, now);
}

Micros ConversationDriver::State::next_deadline() {
    while (!timers.empty() && conversations[timers.top().id].deadline != timers.top().when) timers.pop();
    Micros next = timers.empty() ? kForever : timers.top().when;
    if (retry_at >= 0) next = std::min(next, retry_at);
    return next;
}

ConversationDriver::ConversationDriver(std::unique_ptr<State> state) : state_(std::move(state)) {}
ConversationDriver::ConversationDriver(ConversationDriver&&) noexcept = default;
ConversationDriver& ConversationDriver::operator=(ConversationDriver&&) noexcept = default;
ConversationDriver::~ConversationDriver() = default;

Result<ConversationDriver> ConversationDriver::open(ConversationLimits limits) {
    auto state = std::make_unique<State>();
    state->epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!state->epoll) return Error{std::string("cannot create an epoll instance: ") + std::strerror(errno)};
    if (limits.max_sockets == 0) {
        auto budget = connection_budget(raise_file_limit(), open_descriptors());
        if (!budget) return Error{budget.error()};
        limits.max_sockets = *budget;
    }
    limits.per_host = std::max<std::size_t>(limits.per_host, 1);
    limits.max_received = std::max<std::size_t>(limits.max_received, 1);
    state->capacity = limits.max_sockets;
    state->limits = std::move(limits);
    return ConversationDriver{std::move(state)};
}

ConversationDriver::Id ConversationDriver::add(const Endpoint& endpoint, Dialog& dialog, bool first) {
    State& s = *state_;
    const auto id = static_cast<Id>(s.conversations.size());
    Conversation& c = s.conversations.emplace_back();
    c.endpoint = endpoint;
    c.dialog = &dialog;
    auto& waiting = s.hosts[endpoint.target.value()].waiting;
    if (first) waiting.push_front(id);
    else waiting.push_back(id);
    ++s.waiting;
    ++s.active;
    return id;
}

void ConversationDriver::cancel(Id id) {
    State& s = *state_;
    if (id >= s.conversations.size() || s.conversations[id].phase == Phase::done) return;
    Conversation& c = s.conversations[id];
    if (c.phase == Phase::queued) {
        auto& waiting = s.hosts[c.endpoint.target.value()].waiting;
        if (const auto at = std::find(waiting.begin(), waiting.end(), id); at != waiting.end()) {
            waiting.erase(at);
            --s.waiting;
        }
    }
    s.advance(id, Step::finish(), 0);  // a finished step needs no time
}

void ConversationDriver::turn(const Clock& clock, Micros limit) {
    State& s = *state_;
    Micros now = clock.now();
    s.start_queued(now);
    s.expire(now);
    const Micros deadline = std::min(limit, s.next_deadline());
    const int timeout_ms = deadline <= now ? 0 : static_cast<int>(std::min<Micros>((deadline - now + kMillisecond - 1) / kMillisecond, 60'000));
    std::array<epoll_event, kMaxEvents> events{};
    const int n = ::epoll_wait(s.epoll.get(), events.data(), kMaxEvents, timeout_ms);
    now = clock.now();
    for (int i = 0; i < n; ++i) {
        const std::uint64_t data = events[static_cast<std::size_t>(i)].data.u64;
        const auto id = static_cast<Id>(data & 0xffffffffu);
        if (id >= s.conversations.size() || s.conversations[id].generation != (data >> 32) || !s.conversations[id].fd) continue;
        s.on_event(id, events[static_cast<std::size_t>(i)].events, now);
    }
    s.expire(now);
}

void ConversationDriver::run(const Clock& clock, const std::atomic<bool>* stop) {
    while (!finished() && !state_->failure && (stop == nullptr || !stop->load(std::memory_order_relaxed)))
        turn(clock, kForever);
}

void ConversationDriver::cut_wait(Id id, Micros now) {
    State& s = *state_;
    if (id >= s.conversations.size()) return;
    const Phase phase = s.conversations[id].phase;
    if ((phase == Phase::sending || phase == Phase::listening) && s.conversations[id].fd)
        s.end_wait(id, Ending::open, WaitEnd::cut, 0, now);
}

bool ConversationDriver::finished() const { return state_->active == 0; }
std::size_t ConversationDriver::open_sockets() const { return state_->open; }
std::size_t ConversationDriver::capacity() const { return state_->capacity; }
const ConversationStats& ConversationDriver::stats() const { return state_->stats; }
const std::optional<std::string>& ConversationDriver::failure() const { return state_->failure; }

}  // namespace flagscan

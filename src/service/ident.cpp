// Ident (-I, RFC 1413): the reply parser, the hold and query dialogs, and the phase that pairs them per open port.
#include "flagscan/service/ident.hpp"

#include <algorithm>
#include <deque>
#include <utility>

#include "flagscan/net/address_text.hpp"

namespace flagscan {
namespace {

// RFC 1413 6, note 1: white space (space and tab) may occur anywhere but within a token.
bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
    return text;
}

// RFC 1413 6: a token is 1 to 64 characters; here none of them white space or a separator.
bool is_token(std::string_view text) {
    if (text.empty() || text.size() > 64) return false;
    return std::none_of(text.begin(), text.end(), [](char c) { return is_blank(c) || c == ':' || c == ','; });
}

bool same_token(std::string_view text, std::string_view token) {
    return text.size() == token.size() && std::equal(text.begin(), text.end(), token.begin(), [](char a, char b) {
               return (a >= 'a' && a <= 'z' ? static_cast<char>(a - 32) : a) == b;
           });
}

// RFC 1413 6: <integer-port> is 1 to 5 digits; a port is at most 65535.
std::optional<std::uint16_t> port_number(std::string_view text) {
    text = trim(text);
    if (text.empty() || text.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

// The text before the first `separator` and what follows it (nullopt: no separator).
std::pair<std::string_view, std::optional<std::string_view>> split(std::string_view text, char separator) {
    const auto at = text.find(separator);
    if (at == std::string_view::npos) return {text, std::nullopt};
    return {text.substr(0, at), text.substr(at + 1)};
}

// The reply line: up to the first CR or LF (RFC 1413's EOL is CR LF; a bare LF or CR is taken
// too), or all the bytes when no EOL came.
std::string_view reply_line(std::string_view bytes) { return bytes.substr(0, bytes.find_first_of("\r\n")); }

IdentReply malformed() { return IdentReply{}; }

// "<opsys-field> : <user-id>", after USERID's colon; opsys-field = <opsys> [ "," <charset> ].
IdentReply user_reply(std::string_view rest) {
    const auto [opsys_field, user] = split(rest, ':');
    if (!user) return malformed();
    const auto [opsys, charset] = split(opsys_field, ',');
    IdentReply reply;
    reply.status = IdentStatus::user;
    reply.opsys = trim(opsys);
    if (charset) reply.charset = trim(*charset);
    reply.user = trim(*user);
    if (!is_token(reply.opsys) || (charset && !is_token(reply.charset)) || reply.user.empty()) return malformed();
    return reply;
}

IdentReply error_reply(std::string_view rest) {
    IdentReply reply;
    reply.status = IdentStatus::error;
    reply.error = trim(rest);
    if (!is_token(reply.error)) return malformed();
    return reply;
}

// Whether the connection is gone for good: no identd reached on 113.
bool no_connection(Ending ending) {
    return ending == Ending::refused || ending == Ending::unreachable || ending == Ending::connect_timeout ||
           ending == Ending::failed;
}

}  // namespace

std::string ident_query(Port server, Port client) {
    return std::to_string(server.value()) + " , " + std::to_string(client.value()) + "\r\n";
}

bool ident_reply_complete(std::string_view bytes) {
    return bytes.find_first_of("\r\n") != std::string_view::npos || bytes.size() > kIdentMaxLine;
}

IdentReply parse_ident_reply(std::string_view bytes, Port server, Port client) {
    const std::string_view line = reply_line(bytes);
    if (line.size() > kIdentMaxLine || line.find('\0') != std::string_view::npos) return malformed();
    const auto [ports, after_ports] = split(line, ':');
    if (!after_ports) return malformed();
    const auto [server_text, client_text] = split(ports, ',');
    const auto server_port = port_number(server_text);
    const auto client_port = client_text ? port_number(*client_text) : std::nullopt;
    if (!server_port || !client_port) return malformed();
    const auto [type, rest] = split(*after_ports, ':');
    if (!rest) return malformed();
    IdentReply reply = same_token(trim(type), "USERID") ? user_reply(*rest)
                       : same_token(trim(type), "ERROR") ? error_reply(*rest)
                                                          : malformed();
    if (reply.status != IdentStatus::malformed && (*server_port != server.value() || *client_port != client.value()))
        reply.status = IdentStatus::wrong_ports;
    return reply;
}

std::string describe(const IdentReply& reply) {
    switch (reply.status) {
        case IdentStatus::user: return "USERID " + reply.user;
        case IdentStatus::error: return "ERROR " + reply.error;
        case IdentStatus::wrong_ports: return "a reply about other ports";
        case IdentStatus::malformed: return "a malformed reply";
    }
    return "?";
}

Step IdentHoldDialog::next(const Exchange& exchange) {
    if (released_) {
        done_ = true;
        return Step::finish();
    }
    if (exchange.ending != Ending::open) {
        lost_ = exchange.ending;
        done_ = true;
        return Step::finish();
    }
    return Step::probe(Link::reuse, {}, wait_);  // whatever the service said is dropped; hold on
}

IdentQueryDialog::IdentQueryDialog(Port server, Port client, const IdentHoldDialog& hold, const IdentSettings& settings)
    : query_(ident_query(server, client)), server_(server), client_(client), hold_(&hold), settings_(&settings) {}

Step IdentQueryDialog::start() { return query(Link::plain); }

Step IdentQueryDialog::query(Link link) {
    ++tries_;
    delaying_ = false;
    return Step::probe(link, query_, settings_->reply_wait);
}

Step IdentQueryDialog::give_up(std::string why) {
    why_not_ = std::move(why);
    done_ = true;
    return Step::finish();
}

Step IdentQueryDialog::next(const Exchange& exchange) {
    const auto lost = [this] { return " (the connection to the port had ended: " + std::string(to_string(*hold_->ending())) + ")"; };
    if (delaying_) {
        if (hold_->lost()) return give_up("identd said ERROR NO-USER" + lost());
        return query(Link::reuse);  // on the connection the delay opened, or a new one if identd closed it
    }
    if (no_connection(exchange.ending))
        return give_up("no connection to identd on 113 (" + std::string(to_string(exchange.ending)) + ")");
    if (exchange.received.empty())
        return give_up(exchange.ending == Ending::open ? "identd did not answer within " +
                                                             std::to_string(settings_->reply_wait / kMillisecond) + " ms"
                                                       : "identd closed the connection without a reply");
    const IdentReply reply = parse_ident_reply(exchange.received, server_, client_);
    if (reply.status == IdentStatus::user) {
        owner_ = reply.user;
        done_ = true;
        return Step::finish();
    }
    // oidentd says NO-USER of a connection the service has not accept()ed yet: ask again soon.
    const bool no_user = reply.status == IdentStatus::error && same_token(reply.error, "NO-USER");
    if (no_user && tries_ < settings_->tries && !hold_->lost()) {
        delaying_ = true;
        return Step::probe(Link::plain, {}, settings_->retry_delay << std::min(tries_ - 1, 16));
    }
    std::string why = "identd said " + describe(reply);
    if (tries_ > 1) why += " (" + std::to_string(tries_) + " tries)";
    if (no_user && hold_->lost()) why += lost();
    return give_up(std::move(why));
}

namespace {

// Connects to 113 and nothing more: whether identd's port takes a connection.
class ReachDialog final : public Dialog {
public:
    Step start() override { return Step::probe(Link::plain, {}, 0); }
    Step next(const Exchange& exchange) override {
        ending = exchange.ending;
        return Step::finish();
    }
    std::optional<Ending> ending;
};

// One open TCP port of a host identd is asked about: the held connection, then the query.
struct Talk {
    std::uint64_t index;
    Ipv4 ip;
    Port port;
    IdentHoldDialog hold;
    std::optional<IdentQueryDialog> query;
    ConversationDriver::Id hold_id = 0;
    bool released = false;
};

struct IdentHost {
    Ipv4 ip;
    std::vector<std::uint64_t> ports;    // the open TCP ports' indices
    std::optional<PortState> scanned;    // the port scan's verdict for 113/tcp, when it scanned it
    std::deque<Talk*> waiting;           // talks not started yet
    std::size_t in_flight = 0;
};

std::optional<PortState> state_of_113(const Results& results, std::uint32_t host) {
    const auto& targets = results.targets();
    for (std::uint8_t lane = 0; lane < targets.lane_count(); ++lane) {
        if (results.kind(lane).protocol != ipproto::tcp) continue;
        if (const auto index = targets.index_of(host, lane, kIdentPort)) return results.port(*index).state;
    }
    return std::nullopt;
}

std::vector<IdentHost> hosts_with_open_tcp(const Results& results) {
    std::vector<IdentHost> hosts;
    const auto& targets = results.targets();
    for (const std::uint32_t host : results.hosts_held()) {
        if (results.host(host).counts[static_cast<int>(PortState::open)] == 0) continue;
        IdentHost found{targets.hosts().at(host), {}, state_of_113(results, host), {}, 0};
        for (const PlacedSlot placed : targets.slots_of(host)) {
            if (results.port(placed.index).state == PortState::open && results.kind(placed.slot.lane).protocol == ipproto::tcp)
                found.ports.push_back(placed.index);
        }
        if (!found.ports.empty()) hosts.push_back(std::move(found));
    }
    return hosts;
}

// The hosts whose 113 takes a connection: open in the scan, else a connect() that succeeds
// (closed or filtered in the scan: not tried again). Each other host gets a note.
std::vector<IdentHost> reachable(std::vector<IdentHost> hosts, const TargetSet& targets, ConversationDriver& driver,
                                 const Clock& clock, const std::atomic<bool>& stop, IdentRun& run) {
    std::deque<ReachDialog> checks;
    std::vector<std::pair<std::size_t, ReachDialog*>> checked;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        const auto scanned = hosts[i].scanned;
        if (scanned == PortState::closed || scanned == PortState::filtered) {
            run.notes.push_back(targets.address_text(hosts[i].ip) + ": identd not reachable on 113 (the port scan found it " +
                                std::string(to_string(*scanned)) + ")");
            continue;
        }
        if (scanned == PortState::open) continue;
        checked.emplace_back(i, &checks.emplace_back());
        driver.add({hosts[i].ip, kIdentPort, Transport::tcp}, *checked.back().second);
    }
    if (!checked.empty()) driver.run(clock, &stop);
    std::vector<bool> up(hosts.size());
    for (std::size_t i = 0; i < hosts.size(); ++i) up[i] = hosts[i].scanned == PortState::open;
    for (const auto& [i, check] : checked) {
        up[i] = check->ending == Ending::open;
        if (!up[i] && check->ending)
            run.notes.push_back(targets.address_text(hosts[i].ip) + ": identd not reachable on 113 (" + std::string(to_string(*check->ending)) + ")");
    }
    std::vector<IdentHost> kept;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        if (up[i]) kept.push_back(std::move(hosts[i]));
    }
    return kept;
}

// Why a port got no owner, for -v.
std::string why_no_owner(const Talk& talk) {
    if (talk.query) return talk.query->done() ? talk.query->why_not() : "interrupted while identd was asked";
    if (const auto ending = talk.hold.ending()) {
        if (talk.hold.local_port()) return "the connection to the port ended before identd was asked (" + std::string(to_string(*ending)) + ")";
        return "no connection to the port (" + std::string(to_string(*ending)) + ")";
    }
    return "not asked (interrupted)";
}

// How long a hold listens per step: it is released (its wait cut) as soon as its query is over,
// and holds on for another step when the query takes longer.
constexpr Micros kHoldStep = 30 * kSecond;

// The pairs: each talk's hold connects; once its local port is known its query goes to 113;
// once the query is over the hold is released. Per host at most half its sockets hold.
class Asker {
public:
    Asker(ConversationDriver& driver, const IdentSettings& settings, std::vector<IdentHost>& hosts)
        : driver_(driver), settings_(settings), hosts_(hosts),
          per_host_(std::max<std::size_t>(1, settings.limits.per_host / 2)),
          total_(std::max<std::size_t>(1, driver.capacity() / 2)) {}

    // Until every talk is over, or `stop` is set.
    void run(const Clock& clock, const std::atomic<bool>& stop) {
        fill();
        while (!driver_.finished() && !driver_.failure() && !stop.load(std::memory_order_relaxed)) {
            driver_.turn(clock, clock.now() + kSecond);
            advance(clock.now());
            fill();
        }
    }

private:
    struct Flight {
        Talk* talk;
        IdentHost* host;
    };

    void fill() {
        for (IdentHost& host : hosts_) {
            while (!host.waiting.empty() && host.in_flight < per_host_ && flights_.size() < total_) {
                Talk* talk = host.waiting.front();
                host.waiting.pop_front();
                talk->hold_id = driver_.add({talk->ip, talk->port, Transport::tcp}, talk->hold);
                ++host.in_flight;
                flights_.push_back(Flight{talk, &host});
            }
        }
    }

    // After a turn: queries for the holds now connected, releases for the queries over, and the
    // talks done leave the flight.
    void advance(Micros now) {
        std::erase_if(flights_, [&](const Flight& flight) {
            Talk& talk = *flight.talk;
            if (!talk.query && talk.hold.local_port() && !talk.hold.done()) {
                talk.query.emplace(talk.port, *talk.hold.local_port(), talk.hold, settings_);
                driver_.add({talk.ip, kIdentPort, Transport::tcp}, *talk.query);
            }
            if (talk.query && talk.query->done() && !talk.released) {
                talk.released = true;
                talk.hold.release();
                driver_.cut_wait(talk.hold_id, now);
            }
            const bool over = talk.hold.done() && (!talk.query || talk.query->done());
            if (over) --flight.host->in_flight;
            return over;
        });
    }

    ConversationDriver& driver_;
    const IdentSettings& settings_;
    std::vector<IdentHost>& hosts_;
    std::size_t per_host_;
    std::size_t total_;
    std::vector<Flight> flights_;
};

}  // namespace

IdentRun lookup_owners(Results& results, const IdentSettings& settings, const Clock& clock,
                       const std::atomic<bool>& stop) {
    IdentRun run;
    const Micros started = clock.now();
    results.services().mark_ident_performed();
    ConversationLimits limits = settings.limits;
    limits.max_received = std::min(limits.max_received, kIdentMaxLine + 2);  // a reply line; a hold drops what comes
    auto driver = ConversationDriver::open(limits);
    if (!driver) {
        run.failure = driver.error();
        return run;
    }
    std::vector<IdentHost> hosts = hosts_with_open_tcp(results);
    run.hosts = hosts.size();
    for (const IdentHost& host : hosts) run.ports += host.ports.size();
    hosts = reachable(std::move(hosts), results.targets(), *driver, clock, stop, run);
    run.reached = hosts.size();
    std::deque<Talk> talks;  // stable addresses: the driver holds the dialogs
    for (IdentHost& host : hosts) {
        for (const std::uint64_t index : host.ports)
            host.waiting.push_back(&talks.emplace_back(Talk{index, host.ip, results.targets().at(index).port, IdentHoldDialog{kHoldStep}, {}, 0, false}));
    }
    Asker{*driver, settings, hosts}.run(clock, stop);
    for (const Talk& talk : talks) {
        if (talk.query && talk.query->owner()) {
            results.services().set_owner(talk.index, *talk.query->owner());
            ++run.owners;
        } else {
            run.notes.push_back(endpoint_text(results.targets().address_text(talk.ip), talk.port) +
                                ": no owner: " + why_no_owner(talk));
        }
    }
    run.stats = driver->stats();
    run.failure = driver->failure();
    run.elapsed = clock.now() - started;
    return run;
}

}  // namespace flagscan

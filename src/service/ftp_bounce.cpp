// FTP bounce scan: the -b argument, one target's PORT/LIST conversation, and the run over every host.
#include "flagscan/service/ftp_bounce.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace flagscan {
namespace {

constexpr Micros kQuitWait = 500 * kMillisecond;  // for the 221 to QUIT; the verdicts are in already

bool has_control(std::string_view text) {
    return text.find_first_of(std::string_view{"\r\n\0", 3}) != std::string_view::npos;
}

bool privileged(Port port) { return port.value() < 1024; }

std::string seconds(Micros t) { return std::to_string(t / kSecond) + " s"; }

}  // namespace

Result<BounceServer> parse_bounce_server(std::string_view text) {
    BounceServer server;
    std::string_view rest = text;
    if (const auto at = text.rfind('@'); at != std::string_view::npos) {
        const std::string_view credentials = text.substr(0, at);
        rest = text.substr(at + 1);
        const auto colon = credentials.find(':');
        server.user = std::string(credentials.substr(0, colon));
        if (colon != std::string_view::npos) server.password = std::string(credentials.substr(colon + 1));
        if (server.user.empty()) return Error{"bad -b '" + std::string(text) + "': empty user name before '@'"};
    }
    if (has_control(server.user) || has_control(server.password))
        return Error{"bad -b argument: the user name and password may not hold CR, LF or NUL"};
    const auto colon = rest.find(':');
    server.host = std::string(rest.substr(0, colon));
    if (server.host.empty()) return Error{"bad -b '" + std::string(text) + "': no FTP server (use [user:pass@]server[:port])"};
    if (colon != std::string_view::npos) {
        const std::string_view digits = rest.substr(colon + 1);
        unsigned port = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535)
            return Error{"bad -b '" + std::string(text) + "': bad FTP server port '" + std::string(digits) + "': use 1-65535"};
        server.port = Port{static_cast<std::uint16_t>(port)};
    }
    return server;
}

ReplyEvidence bounce_evidence(BounceOutcome outcome) {
    ReplyEvidence evidence;
    switch (outcome) {
        case BounceOutcome::transferred:
            evidence.kind = ReplyEvidence::Kind::tcp;
            evidence.flags = TcpFlags{TcpFlags::syn | TcpFlags::ack};
            break;
        case BounceOutcome::cannot_connect:
            evidence.kind = ReplyEvidence::Kind::tcp;
            evidence.flags = TcpFlags{TcpFlags::rst};
            break;
        case BounceOutcome::timed_out: break;
    }
    return evidence;
}

// --- one target's conversation --------------------------------------------------------------

BounceDialog::BounceDialog(const BounceServer& server, Ipv4 target, std::vector<Port> ports, BounceTimeouts timeouts,
                           OnVerdict on_verdict)
    : server_(server), target_(target), ports_(std::move(ports)), timeouts_(timeouts), on_verdict_(std::move(on_verdict)) {}

std::string BounceDialog::where() const {
    return "the FTP bounce server " + server_.host + ":" + std::to_string(server_.port.value());
}

Step BounceDialog::start() {
    state_ = State::greeting;
    return Step::probe(Link::plain, {}, timeouts_.reply);
}

// A step's wait ends at the first final reply (not 1xx: LIST's 125/150 is followed by its
// result) or at bytes that are no FTP reply.
bool BounceDialog::enough(std::string_view received) { return holds_final_reply(received); }

Step BounceDialog::send(State state, std::string command, Micros wait) {
    state_ = state;
    return Step::probe(Link::reuse, std::move(command) + "\r\n", wait);
}

Step BounceDialog::fail(BounceFailure::Kind kind, std::string message) {
    state_ = State::done;
    failure_ = BounceFailure{kind, std::move(message)};
    return Step::finish();
}

// A new connection and a new login; the port under test is asked again.
Step BounceDialog::reconnect() {
    ++reconnections_;
    return start();
}

Step BounceDialog::next_port() {
    const bool skip_privileged = !privileged_refusal_.empty() && !privileged_ok_;
    while (next_ < ports_.size() && skip_privileged && privileged(ports_[next_])) ++next_;
    if (next_ == ports_.size()) {
        if (skip_privileged && !bounced_)
            return fail(BounceFailure::Kind::refused_port,
                        where() + " refuses PORT to privileged ports of " + target_.str() + " (" + privileged_refusal_ +
                            ") and no port above 1023 was asked: it does not bounce to them, perhaps to no third "
                            "address at all");
        state_ = State::done;
        return Step::probe(Link::reuse, "QUIT\r\n", kQuitWait);
    }
    port_started_ = 0;
    preliminary_.reset();
    return send(State::port, "PORT " + port_argument(target_, ports_[next_]), timeouts_.reply);
}

// `unsettled`: the session waits for a reply that never came, so the next port gets a new one.
Step BounceDialog::decide(BounceOutcome outcome, const FtpReply& reply, bool unsettled) {
    on_verdict_(BounceVerdict{ports_[next_], outcome, reply.code == 0 ? std::string{} : reply.line(), port_started_});
    ++next_;
    retried_ = false;
    if (unsettled) return reconnect();
    return next_port();
}

Step BounceDialog::on_greeting(const FtpReply& reply) {
    if (login_move(LoginStage::greeting, reply) != LoginMove::send_user)
        return fail(BounceFailure::Kind::unreachable, where() + " does not accept a session (" + reply.line() + ")");
    return send(State::user, "USER " + server_.user, timeouts_.reply);
}

Step BounceDialog::on_user(const FtpReply& reply) {
    const LoginMove move = login_move(LoginStage::user, reply);
    if (move == LoginMove::logged_in) return logged_in_ = true, next_port();
    if (move == LoginMove::send_pass) return send(State::pass, "PASS " + server_.password, timeouts_.reply);
    return fail(BounceFailure::Kind::login, where() + " refuses the user \"" + server_.user + "\" (" + reply.line() + ")");
}

Step BounceDialog::on_pass(const FtpReply& reply) {
    const LoginMove move = login_move(LoginStage::pass, reply);
    if (move == LoginMove::logged_in) return logged_in_ = true, next_port();
    if (move == LoginMove::needs_account)
        return fail(BounceFailure::Kind::login, where() + " wants an account (ACCT) for \"" + server_.user + "\" (" + reply.line() + ")");
    return fail(BounceFailure::Kind::login,
                where() + " refuses the login of \"" + server_.user + "\" with that password (" + reply.line() + ")");
}

// RFC 959 4.1.2: PORT names the data connection's far end. pyftpdlib opens it at once (200 or
// 425); others only at LIST. A 5xx is a refusal of that address or port.
Step BounceDialog::on_port(const FtpReply& reply) {
    const Port port = ports_[next_];
    if (reply.first_digit() == 2) {
        bounced_ = true;
        privileged_ok_ = privileged_ok_ || privileged(port);
        return send(State::list, "LIST", timeouts_.list);
    }
    if (reply.first_digit() == 4) return decide(BounceOutcome::cannot_connect, reply);
    if (reply.first_digit() == 5 && privileged(port) && !privileged_ok_) {
        privileged_refusal_ = reply.line();
        return next_port();
    }
    if (reply.first_digit() == 5)
        return fail(BounceFailure::Kind::refused_port,
                    where() + " refuses PORT to " + target_.str() + " port " + std::to_string(port.value()) + " (" +
                        reply.line() + "): it does not bounce to a third address");
    return fail(BounceFailure::Kind::protocol, where() + " answered PORT with " + reply.line());
}

// RFC 959 4.2 and 5.4: LIST answers 125 when the data connection is already open (pyftpdlib
// opens it at PORT) or 150 when it is about to be opened, then 226 or 250 when the listing went
// through it; 425 when it could not be opened, 426 when it broke. A 125 or 150 never followed by
// its result is open too: servers send 150 once their connect() succeeded (vsftpd, pyftpdlib
// after PORT's own connect) and 425 when it fails, and pyftpdlib drops a data connection whose
// far end speaks first (a banner), leaving LIST waiting for ever. nmap calls this filtered.
Step BounceDialog::on_list(const std::vector<FtpReply>& replies) {
    bool marked = false;
    for (const auto& reply : replies) {
        if (reply.first_digit() == 1) preliminary_ = reply;
        if (reply.first_digit() == 1) {
            marked = true;
            continue;
        }
        if (reply.first_digit() == 2 || (marked && reply.code == 426)) return decide(BounceOutcome::transferred, reply);
        if (reply.first_digit() == 4) return decide(BounceOutcome::cannot_connect, reply);
        return fail(BounceFailure::Kind::protocol, where() + " refuses LIST (" + reply.line() +
                                                       "): a bounce needs a listing the server will send");
    }
    return on_timeout();
}

Step BounceDialog::on_timeout() {
    if (state_ == State::list && preliminary_) return decide(BounceOutcome::transferred, *preliminary_, true);
    if (state_ == State::port || state_ == State::list) return decide(BounceOutcome::timed_out, FtpReply{}, true);
    const char* what = state_ == State::greeting ? "its greeting" : state_ == State::user ? "a reply to USER" : "a reply to PASS";
    return fail(BounceFailure::Kind::protocol, where() + " sent no complete " + std::string(what) + " within " +
                                                   seconds(timeouts_.reply));
}

Step BounceDialog::next(const Exchange& exchange) {
    if (state_ == State::done) return Step::finish();
    port_started_ += exchange.elapsed;
    if (exchange.connected_for < 0) {  // the connection itself failed
        const std::string why = exchange.ending == Ending::refused       ? "connection refused"
                                : exchange.ending == Ending::connect_timeout ? "no answer to the connection"
                                : exchange.ending == Ending::unreachable     ? "no route to it"
                                                                             : std::string(to_string(exchange.ending));
        return fail(BounceFailure::Kind::unreachable, "cannot reach " + where() + " (" + why + ")" +
                                                          (reconnections_ > 0 ? " to log in again" : ""));
    }
    const ReplyScan scan = scan_replies(exchange.received);
    if (scan.malformed) return fail(BounceFailure::Kind::protocol, where() + " sent something that is no FTP reply");
    const bool closed = exchange.ending != Ending::open;
    const FtpReply* last = scan.replies.empty() ? nullptr : &scan.replies.back();
    const bool final_reply = last != nullptr && last->first_digit() != 1;
    if (final_reply && last->code == 421) return closed_unexpectedly();
    if (!final_reply && closed) return closed_unexpectedly();
    if (!final_reply && state_ == State::list) return on_list(scan.replies);  // 1xx alone: on_list's timeout rule
    if (!final_reply) return on_timeout();
    Step step = dispatch(scan.replies);
    if (closed && !step.done && step.link == Link::reuse) return closed_unexpectedly();
    return step;
}

Step BounceDialog::dispatch(const std::vector<FtpReply>& replies) {
    const FtpReply& last = replies.back();
    switch (state_) {
        case State::greeting: return on_greeting(last);
        case State::user: return on_user(last);
        case State::pass: return on_pass(last);
        case State::port: return on_port(last);
        case State::list: return on_list(replies);
        case State::done: break;
    }
    return Step::finish();
}

// The server hung up (or said 421): once in a row it is forgiven (nmap retries), the port under
// test asked again after a new login.
Step BounceDialog::closed_unexpectedly() {
    if (retried_)
        return fail(BounceFailure::Kind::closed, where() + " closed the connection again after a new login" +
                                                     (next_ < ports_.size() ? " (at port " + std::to_string(ports_[next_].value()) + ")" : std::string{}));
    retried_ = true;
    return reconnect();
}

// --- the run over every host ----------------------------------------------------------------

namespace {

void record(Results& results, std::uint64_t index, const BounceVerdict& verdict) {
    const ProbeKind& kind = results.kind(0);
    const ReplyEvidence evidence = bounce_evidence(verdict.outcome);
    const Rule* rule = match_rule(kind, evidence);
    if (rule == nullptr) return;
    PortResult result;
    result.state = rule->state;
    result.reason = rule_reason(*rule, evidence);
    result.tries = 1;
    result.answered_try = 0;  // the first (and only) try
    result.rule = static_cast<std::uint8_t>(rule - kind.rules.data());
    result.reply_kind = evidence.kind;
    result.reply_flags = evidence.flags.bits();
    result.rtt_us = static_cast<std::uint32_t>(std::min<Micros>(verdict.elapsed, UINT32_MAX));
    results.set(index, result);
}

// The host's lane-0 ports still without a verdict, in report order, with their indices.
std::vector<std::pair<Port, std::uint64_t>> undecided_ports(const Results& results, std::uint32_t host) {
    std::vector<std::pair<Port, std::uint64_t>> ports;
    for (const PlacedSlot placed : results.targets().slots_of(host)) {
        if (placed.slot.lane == 0 && results.port(placed.index).state == PortState::unscanned)
            ports.emplace_back(placed.slot.port, placed.index);
    }
    return ports;
}

}  // namespace

BounceRun bounce_scan(Results& results, const BounceSettings& settings, const Clock& clock, const std::atomic<bool>& stop) {
    BounceRun run;
    const Micros started = clock.now();
    ConversationLimits limits = settings.limits;
    limits.max_sockets = 1;  // nmap's bounce scan is sequential: one control connection
    limits.per_host = 1;
    auto driver = ConversationDriver::open(limits);
    if (!driver) return run.failure = BounceFailure{BounceFailure::Kind::unreachable, driver.error()}, run;
    const TargetSet& targets = results.targets();
    for (std::uint32_t host = 0; host < targets.host_count() && !run.failure && !stop.load(); ++host) {
        const auto ports = undecided_ports(results, host);
        if (ports.empty()) continue;
        std::vector<Port> list;
        for (const auto& [port, index] : ports) list.push_back(port);
        const Ipv4 target = targets.hosts().at(host);
        BounceDialog dialog{settings.server, target, list, settings.timeouts, [&](const BounceVerdict& verdict) {
                                for (const auto& [port, index] : ports)
                                    if (port == verdict.port) record(results, index, verdict);
                                ++run.ports;
                            }};
        driver->add(ConversationDriver::Endpoint{settings.server_address, settings.server.port, Transport::tcp}, dialog);
        driver->run(clock, &stop);
        ++run.hosts;
        run.reconnections += dialog.reconnections();
        run.bounced = run.bounced || dialog.bounced();
        if (dialog.failure()) run.failure = dialog.failure();
        if (!dialog.privileged_refusal().empty() && !run.failure)
            run.notes.push_back("the FTP bounce server refuses PORT to privileged ports (" + dialog.privileged_refusal() +
                                "): the ports below 1024 of " + target.str() + " were skipped");
        if (driver->failure() && !run.failure) run.failure = BounceFailure{BounceFailure::Kind::unreachable, *driver->failure()};
    }
    run.elapsed = clock.now() - started;
    return run;
}

}  // namespace flagscan

// FTP bounce scan (nmap -b): an FTP server told PORT target,port then LIST tries each port for us.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/results.hpp"
#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/service/conversations.hpp"
#include "flagscan/service/ftp_replies.hpp"

namespace flagscan {

// -b [user[:pass]@]server[:port]: nmap's defaults, anonymous with the password "-wwwuser@".
struct BounceServer {
    std::string user = "anonymous";
    std::string password = "-wwwuser@";
    std::string host;  // an IPv4 address or a name, resolved by the caller
    Port port{21};
};

// Splits the -b argument (the last '@' ends the credentials, as nmap reads it). Refuses an
// empty server, a bad port, and credentials holding CR, LF or NUL (they would end the command).
Result<BounceServer> parse_bounce_server(std::string_view text);

// How long the bounce server is given for each reply.
struct BounceTimeouts {
    Micros reply = 10 * kSecond;  // the greeting, USER, PASS, PORT (pyftpdlib connects before answering PORT)
    Micros list = 10 * kSecond;   // LIST's final reply (the server's connection to the port, then the listing)
};

// What one port's test showed (the bounce kind's rule rows read it).
enum class BounceOutcome : std::uint8_t {
    transferred,    // LIST: 125/150 then 226 (or 2xx at once), or 125/150 alone: the server's data connection was made
    cannot_connect, // 425 (or another 4xx) to PORT or LIST: the server could not open it
    timed_out,      // no reply to PORT, or none to LIST, in time: the connection attempt hangs (a filter drops it)
};

struct BounceVerdict {
    Port port;
    BounceOutcome outcome = BounceOutcome::timed_out;
    std::string reply;  // the reply that decided, as the server wrote it ("425 Can't connect ...")
    Micros elapsed = 0; // from PORT to the verdict
};

// Why the scan through the server could not go on; the message is one line.
struct BounceFailure {
    enum class Kind : std::uint8_t { unreachable, login, refused_port, protocol, closed };
    Kind kind = Kind::protocol;
    std::string message;
};

// The conversation with the bounce server for one target, as a pure state machine (the driver
// only moves its bytes): greeting, USER, PASS, then PORT and LIST per port. A 5xx to PORT of a
// privileged port skips the other privileged ports (nmap's rule: many servers refuse only
// those); a 5xx to an unprivileged one, or with no unprivileged port left, ends the scan: the
// server does not bounce. A connection the server closes (or a reply that never comes) is
// opened again and logged in once more: once in a row for an unexpected close (nmap's retry),
// after every timeout (the connection's state is unknown after one).
class BounceDialog final : public Dialog {
public:
    using OnVerdict = std::function<void(const BounceVerdict&)>;
    BounceDialog(const BounceServer& server, Ipv4 target, std::vector<Port> ports, BounceTimeouts timeouts,
                 OnVerdict on_verdict);

    Step start() override;
    bool enough(std::string_view received) override;
    Step next(const Exchange& exchange) override;

    const std::optional<BounceFailure>& failure() const { return failure_; }
    bool logged_in() const { return logged_in_; }
    bool bounced() const { return bounced_; }  // some PORT to the target was accepted
    // The 5xx a privileged port drew (those ports were skipped), empty when none.
    const std::string& privileged_refusal() const { return privileged_refusal_; }
    std::size_t reconnections() const { return reconnections_; }

private:
    enum class State : std::uint8_t { greeting, user, pass, port, list, done };
    Step send(State state, std::string command, Micros wait);
    Step reconnect();
    Step closed_unexpectedly();
    Step dispatch(const std::vector<FtpReply>& replies);
    Step fail(BounceFailure::Kind kind, std::string message);
    Step next_port();
    Step on_greeting(const FtpReply& reply);
    Step on_user(const FtpReply& reply);
    Step on_pass(const FtpReply& reply);
    Step on_port(const FtpReply& reply);
    Step on_list(const std::vector<FtpReply>& replies);
    Step on_timeout();
    Step decide(BounceOutcome outcome, const FtpReply& reply, bool unsettled = false);
    std::string where() const;  // "the FTP server 10.0.0.1:21"

    BounceServer server_;
    Ipv4 target_;
    std::vector<Port> ports_;
    BounceTimeouts timeouts_;
    OnVerdict on_verdict_;
    State state_ = State::greeting;
    std::size_t next_ = 0;         // ports_[next_] is the port under test
    bool privileged_ok_ = false;   // a privileged port's PORT was accepted
    bool logged_in_ = false;
    bool bounced_ = false;
    bool retried_ = false;         // an unexpected close was already retried with no progress since
    std::size_t reconnections_ = 0;
    Micros port_started_ = 0;      // time spent on the port under test, over its steps
    std::string privileged_refusal_;
    std::optional<FtpReply> preliminary_;  // LIST's 125/150 for the port under test
    std::optional<BounceFailure> failure_;
};

struct BounceSettings {
    BounceServer server;
    Ipv4 server_address;
    BounceTimeouts timeouts;
    ConversationLimits limits;  // source address and device (-S, -e); connect timeout
};

struct BounceRun {
    std::size_t ports = 0;      // tested
    std::size_t hosts = 0;      // targets bounced to
    std::size_t reconnections = 0;
    bool bounced = false;       // the server accepted PORT to a third address
    std::vector<std::string> notes;  // one line each (privileged ports skipped, ...)
    std::optional<BounceFailure> failure;
    Micros elapsed = 0;
};

// The bounce scan of every host of `results` (lane 0, the bounce kind), one after the other
// through one server, as nmap does; ports that already have a verdict (--resume) are not asked
// again. Each verdict is read through the kind's rule rows into `results`. Stops early when
// `stop` is set.
BounceRun bounce_scan(Results& results, const BounceSettings& settings, const Clock& clock, const std::atomic<bool>& stop);

// A verdict as the rule rows read it: the server's connect() as if it were our own.
ReplyEvidence bounce_evidence(BounceOutcome outcome);

}  // namespace flagscan

// Ident (-I, RFC 1413): who owns each open TCP port's service, asked of the target's identd on 113.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/results.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/service/conversations.hpp"

namespace flagscan {

inline constexpr Port kIdentPort{113};
// RFC 1413 6, note 2: a client may give up on a reply after 1000 characters without an EOL.
inline constexpr std::size_t kIdentMaxLine = 1000;

// RFC 1413 section 3: "<port-on-server> , <port-on-client>" CR LF, the server being the host
// identd runs on (the target), the client us: "22 , 45678\r\n".
std::string ident_query(Port server, Port client);

// True once the bytes hold a whole reply line (an EOL: CR, LF or both) or more than
// kIdentMaxLine bytes, which will never be one.
bool ident_reply_complete(std::string_view bytes);

enum class IdentStatus : std::uint8_t {
    user,         // "<ports> : USERID : <opsys>[,<charset>] : <user-id>"
    error,        // "<ports> : ERROR : <error-type>" (NO-USER, HIDDEN-USER, INVALID-PORT, UNKNOWN-ERROR, X...)
    wrong_ports,  // a well-formed reply about another connection than the one asked of
    malformed,    // anything else: no colons, bad ports, an unknown reply type, NUL, over kIdentMaxLine
};

struct IdentReply {
    IdentStatus status = IdentStatus::malformed;
    std::string opsys;    // USERID: "UNIX", "OTHER", ...
    std::string charset;  // USERID: "" unless given ("US-ASCII", ...)
    std::string user;     // USERID: the user id
    std::string error;    // ERROR: the error token as sent ("NO-USER")
};

// RFC 1413 section 6: the reply to the query for (server, client), up to its first EOL (or the
// end of the bytes when none: a server that closed after the line). White space is allowed
// around every token (note 1); the user id is the rest of the line, with the white space
// around it dropped (every identd sends "USERID : UNIX : root"; no user name begins with a
// space). Reply-type tokens are read without regard to case. Never throws, never reads past
// the bytes.
IdentReply parse_ident_reply(std::string_view bytes, Port server, Port client);

// A one-line reading of a reply for -v: "USERID root", "ERROR NO-USER", "malformed reply".
std::string describe(const IdentReply& reply);

struct IdentSettings {
    Micros reply_wait = 3 * kSecond;          // for identd's answer to one query
    // Queries while identd says NO-USER, the delay before the second, doubled before each next
    // one: 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s. inetutils-inetd was seen leaving a connection in its
    // listen queue for a whole second (it pauses after reaping a child), oidentd saying NO-USER.
    int tries = 6;
    Micros retry_delay = 100 * kMillisecond;
    ConversationLimits limits;                // its connect_timeout also bounds the connect() to 113 first
};

// Holds a connection to the port asked about for as long as identd is being asked: connects,
// tells its local port, and listens (whatever the service says is dropped) until released.
class IdentHoldDialog final : public Dialog {
public:
    explicit IdentHoldDialog(Micros wait) : wait_(wait) {}
    Step start() override { return Step::probe(Link::plain, {}, wait_); }
    void connected(const LocalEnd& local) override { local_ = local.port; }
    Step next(const Exchange& exchange) override;

    // Our port of the connection, once it is made.
    std::optional<Port> local_port() const { return local_; }
    // Whether the connection went away (or was never made) before release(); how it ended.
    bool lost() const { return lost_.has_value(); }
    std::optional<Ending> ending() const { return lost_; }
    void release() { released_ = true; }
    bool done() const { return done_; }

private:
    Micros wait_;
    std::optional<Port> local_;
    std::optional<Ending> lost_;
    bool released_ = false;
    bool done_ = false;
};

// One query to identd on 113 about the hold's connection (RFC 1413): sent on a new connection,
// the reply read up to its EOL. NO-USER, which oidentd answers for a connection the service has
// not accept()ed yet (a listen queue, nginx's workers), is asked again after a delay that
// doubles each time, while the hold is up and tries are left.
class IdentQueryDialog final : public Dialog {
public:
    IdentQueryDialog(Port server, Port client, const IdentHoldDialog& hold, const IdentSettings& settings);
    Step start() override;
    bool enough(std::string_view received) override { return ident_reply_complete(received); }
    Step next(const Exchange& exchange) override;

    // The owner identd named, if it did; otherwise why not ("identd said ERROR NO-USER (4 tries)").
    const std::optional<std::string>& owner() const { return owner_; }
    const std::string& why_not() const { return why_not_; }
    bool done() const { return done_; }
    int tries() const { return tries_; }

private:
    Step query(Link link);
    Step give_up(std::string why);

    std::string query_;
    Port server_, client_;
    const IdentHoldDialog* hold_;
    const IdentSettings* settings_;
    int tries_ = 0;
    bool delaying_ = false;
    bool done_ = false;
    std::optional<std::string> owner_;
    std::string why_not_;
};

struct IdentRun {
    std::size_t hosts = 0;    // hosts with open TCP ports
    std::size_t reached = 0;  // of those, the ones whose 113 took a connection
    std::size_t ports = 0;    // their open TCP ports
    std::size_t owners = 0;   // of those, the ones identd named an owner for
    std::vector<std::string> notes;  // one per host without identd, one per port without owner ("10.0.0.2:80: ...")
    ConversationStats stats;
    Micros elapsed = 0;
    std::optional<std::string> failure;  // the driver could not open or go on
};

// After the port scan: for every host with an open TCP port whose 113 takes a connection (the
// scan's verdict for 113 when it is open, closed or filtered; else a connect()), each open TCP
// port is connected to and, while that connection is up, identd is asked who owns it; the
// owners go to results.services() (set_owner), which is marked ident-performed. At most half
// the per-host and total sockets hold connections, so that the queries always find room.
IdentRun lookup_owners(Results& results, const IdentSettings& settings, const Clock& clock,
                       const std::atomic<bool>& stop);

}  // namespace flagscan

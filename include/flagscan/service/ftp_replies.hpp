// FTP's control connection as every FTP dialog reads it: replies (RFC 959 4.2), PORT's argument, the login's steps.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/ipv6.hpp"

namespace flagscan {

// One FTP reply (RFC 959 4.2): its code and the text of its last line; a multi-line reply's
// lines between its first and its last (STAT's listing, a long greeting) are kept in `body`.
struct FtpReply {
    int code = 0;
    std::string text;
    std::vector<std::string> body;
    int first_digit() const { return code / 100; }
    std::string line() const { return std::to_string(code) + (text.empty() ? "" : " " + text); }
};

// The replies complete in `bytes`, in order. A reply is "ddd text" on one line, or "ddd-" then
// lines up to one starting with the same "ddd " (RFC 959 4.2). Lines end with CRLF (a bare LF
// is taken too). `malformed` is set when a line that should start a reply does not.
struct ReplyScan {
    std::vector<FtpReply> replies;
    bool malformed = false;
};
ReplyScan scan_replies(std::string_view bytes);

// True once `bytes` hold a final reply (not 1xx: a 125/150 is followed by its result) or
// something that is no FTP reply: a dialog's wait can end there.
bool holds_final_reply(std::string_view bytes);

// PORT's argument for an address and port (RFC 959 4.1.2): "h1,h2,h3,h4,p1,p2".
std::string port_argument(Ipv4 address, Port port);
// EPRT's argument for an IPv6 address and port (RFC 2428 2: net-prt 2 is IPv6, the address in
// its text form, "|" as the delimiter): "|2|::1|65535|".
std::string eprt_argument(const Ipv6& address, Port port);

// The login (RFC 959 5.4, USER then PASS): what to do after the reply to the greeting, to USER
// or to PASS. 230 to USER logs in without a password; 331 asks for one; 332 for an account.
enum class LoginStage : std::uint8_t { greeting, user, pass };
enum class LoginMove : std::uint8_t {
    send_user,      // the greeting was 2xx
    send_pass,      // USER drew 331 (or 332: PASS first, the account is asked after it)
    logged_in,      // 230 to USER, 2xx to PASS
    needs_account,  // 332 to PASS
    refused,        // anything else: no session (greeting), or the user or password refused
};
LoginMove login_move(LoginStage stage, const FtpReply& reply);

}  // namespace flagscan

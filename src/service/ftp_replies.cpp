// FTP's control connection: replies split out of the bytes (RFC 959 4.2), PORT's argument, the login's steps.
#include "flagscan/service/ftp_replies.hpp"

#include <optional>

namespace flagscan {
namespace {

std::optional<int> reply_code(std::string_view line) {
    if (line.size() < 3) return std::nullopt;
    int code = 0;
    for (const char c : line.substr(0, 3)) {
        if (c < '0' || c > '9') return std::nullopt;
        code = code * 10 + (c - '0');
    }
    if (code < 100 || code > 599) return std::nullopt;
    return code;
}

std::string_view trim_cr(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

// The text after "ddd " or "ddd-" (empty when the line is the bare code).
std::string text_of(std::string_view line) { return std::string(line.size() > 4 ? line.substr(4) : std::string_view{}); }

}  // namespace

// RFC 959 4.2: "ddd text" is a whole reply; "ddd-text" opens one that ends at the first line
// starting "ddd " (lines between may start with anything). Incomplete lines wait for more bytes.
ReplyScan scan_replies(std::string_view bytes) {
    ReplyScan scan;
    int open_code = 0;  // inside a multi-line reply with this code; 0: between replies
    std::vector<std::string> body;
    std::size_t at = 0;
    while (at < bytes.size()) {
        const auto end = bytes.find('\n', at);
        if (end == std::string_view::npos) break;
        const std::string_view line = trim_cr(bytes.substr(at, end - at));
        at = end + 1;
        const int code = reply_code(line).value_or(0);
        if (open_code != 0) {
            if (code == open_code && (line.size() == 3 || line[3] == ' ')) {
                scan.replies.push_back(FtpReply{code, text_of(line), std::move(body)});
                body.clear();
                open_code = 0;
            } else {
                body.emplace_back(line);
            }
            continue;
        }
        if (code == 0 || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
            scan.malformed = true;
            return scan;
        }
        if (line.size() > 3 && line[3] == '-') open_code = code;
        else scan.replies.push_back(FtpReply{code, text_of(line), {}});
    }
    return scan;
}

bool holds_final_reply(std::string_view bytes) {
    const ReplyScan scan = scan_replies(bytes);
    if (scan.malformed) return true;
    for (const auto& reply : scan.replies)
        if (reply.first_digit() != 1) return true;
    return false;
}

std::string port_argument(Ipv4 address, Port port) {
    std::string text;
    for (int i = 0; i < 4; ++i) text += std::to_string(address.octet(i)) + ",";
    return text + std::to_string(port.value() >> 8) + "," + std::to_string(port.value() & 0xff);
}

std::string eprt_argument(const Ipv6& address, Port port) {
    return "|2|" + address.str() + "|" + std::to_string(port.value()) + "|";
}

// RFC 959 5.4's state diagram for USER and PASS: 230 logs in, 331 asks for PASS, 332 for ACCT.
LoginMove login_move(LoginStage stage, const FtpReply& reply) {
    switch (stage) {
        case LoginStage::greeting: return reply.first_digit() == 2 ? LoginMove::send_user : LoginMove::refused;
        case LoginStage::user:
            if (reply.code == 230) return LoginMove::logged_in;
            if (reply.code == 331 || reply.code == 332) return LoginMove::send_pass;
            return LoginMove::refused;
        case LoginStage::pass:
            if (reply.first_digit() == 2) return LoginMove::logged_in;
            if (reply.code == 332) return LoginMove::needs_account;
            return LoginMove::refused;
    }
    return LoginMove::refused;
}

}  // namespace flagscan

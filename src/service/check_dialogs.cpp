// The weakness checks' conversations: anonymous FTP, a writable FTP directory, FTP bounce, telnet, SSH-1, HTTP Server.
#include "flagscan/service/check_dialogs.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "flagscan/net/address_text.hpp"
#include "flagscan/service/banner.hpp"
#include "flagscan/service/ftp_bounce.hpp"

namespace flagscan {
namespace {

constexpr Micros kQuitWait = 2 * kSecond;       // for the 221 to QUIT: the check is done already
constexpr Micros kTelnetQuiet = 500 * kMillisecond;  // a telnet server's burst of options is over
constexpr std::size_t kListingLines = 10;       // of the root's listing in ftp-anon's output (nmap: 20)
constexpr std::size_t kScreenBytes = 4096;      // of a telnet server's text kept

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

// Why a connection gave nothing to judge, for said().
std::string no_answer(const Exchange& exchange) {
    if (exchange.connected_for < 0) return "could not connect (" + std::string(to_string(exchange.ending)) + ")";
    if (exchange.ending != Ending::open) return "the server closed the connection (" + std::string(to_string(exchange.ending)) + ")";
    return "no answer in time";
}

// The name in an ls -l line (vsftpd's and pyftpdlib's STAT): what follows the eighth field
// (mode, links, owner, group, size, month, day, time or year).
std::string_view listed_name(std::string_view line) {
    for (int field = 0; field < 8; ++field) {
        line = trim(line);
        const auto blank = line.find_first_of(" \t");
        if (blank == std::string_view::npos) return {};
        line.remove_prefix(blank);
    }
    return trim(line);
}

}  // namespace

// --- FTP -----------------------------------------------------------------------------------

Step FtpCheckDialog::start() {
    stage_ = Stage::greeting;
    return Step::probe(Link::plain, {}, kCheckWait);
}

Step FtpCheckDialog::command(std::string line) {
    transcript_.sent(line);
    return Step::probe(Link::reuse, std::move(line) + "\r\n", stage_ == Stage::quitting ? kQuitWait : kCheckWait);
}

Step FtpCheckDialog::quit() {
    stage_ = Stage::quitting;
    return command("QUIT");
}

void FtpCheckDialog::refused(const FtpReply& reply) { said_ = "anonymous login refused (" + reply.line() + ")"; }

std::vector<std::string> FtpCheckDialog::listing(const FtpReply& reply) {
    std::vector<std::string> lines;
    for (const std::string& line : reply.body) {
        const auto text = trim(line);
        const auto name = listed_name(text);
        if (!text.empty() && name != "." && name != "..") lines.emplace_back(text);
    }
    return lines;
}

Step FtpCheckDialog::next(const Exchange& exchange) {
    transcript_.received(exchange.received);
    if (stage_ == Stage::quitting) return Step::finish();
    const ReplyScan scan = scan_replies(exchange.received);
    if (scan.malformed) return said_ = "not an FTP server: its answer is no FTP reply", Step::finish();
    const auto last = std::find_if(scan.replies.rbegin(), scan.replies.rend(), [](const FtpReply& r) { return r.first_digit() != 1; });
    if (last == scan.replies.rend()) return said_ = no_answer(exchange), Step::finish();
    const FtpReply& reply = *last;
    if (exchange.ending != Ending::open && stage_ != Stage::session) return refused(reply), Step::finish();
    switch (stage_) {
        case Stage::greeting:
            if (login_move(LoginStage::greeting, reply) != LoginMove::send_user) return refused(reply), Step::finish();
            stage_ = Stage::user;
            return command("USER " + BounceServer{}.user);
        case Stage::user:
        case Stage::pass: {
            const LoginMove move = login_move(stage_ == Stage::user ? LoginStage::user : LoginStage::pass, reply);
            if (move == LoginMove::send_pass && stage_ == Stage::user) {
                stage_ = Stage::pass;
                return command("PASS " + BounceServer{}.password);
            }
            if (move != LoginMove::logged_in) return refused(reply), quit();
            stage_ = Stage::session;
            return logged_in(reply);
        }
        case Stage::session: {
            Step step = turn(reply);
            if (exchange.ending != Ending::open && !step.done) return Step::finish();  // gone: no QUIT to send
            return step;
        }
        case Stage::quitting: break;
    }
    return Step::finish();
}

Step FtpAnonDialog::logged_in(const FtpReply& reply) {
    login_ = reply;
    said_ = "anonymous login accepted (" + reply.line() + ")";
    return list_root();
}

Step FtpAnonDialog::turn(const FtpReply& reply) {
    if (reply.first_digit() == 2) listing_ = listing(reply);
    return quit();
}

std::optional<CheckFinding> FtpAnonDialog::finding() const {
    if (!login_) return std::nullopt;
    std::string output = "Anonymous FTP login allowed (FTP code " + std::to_string(login_->code) + ")";
    for (std::size_t i = 0; i < listing_.size() && i < kListingLines; ++i) output += "\n" + escape_banner(listing_[i]);
    if (listing_.size() > kListingLines)
        output += "\n(" + std::to_string(listing_.size() - kListingLines) + " more entries not shown)";
    return found("ftp-anon", std::move(output));
}

FtpWritableDialog::FtpWritableDialog(std::uint64_t nonce) {
    char name[32];
    std::snprintf(name, sizeof name, "flagscan-%08x", static_cast<unsigned>(nonce & 0xffffffffu));
    name_ = name;
}

Step FtpWritableDialog::logged_in(const FtpReply&) {
    doing_ = Doing::listing;
    return list_root();
}

Step FtpWritableDialog::try_next() {
    if (next_ >= places_.size()) {
        said_ = "logged in as anonymous; no directory could be created (" + std::to_string(places_.size()) + " places tried)";
        return quit();
    }
    const std::string& place = places_[next_++];
    doing_ = Doing::making;
    return command("MKD " + (place.empty() ? name_ : place + "/" + name_));
}

// RFC 959 4.2: 257 "PATHNAME" created; RMD's success is 250.
Step FtpWritableDialog::turn(const FtpReply& reply) {
    switch (doing_) {
        case Doing::listing:
            places_ = {""};
            for (const std::string& line : listing(reply)) {
                const std::string_view name = listed_name(line);
                if (line[0] == 'd' && !name.empty() && places_.size() < kMaxTries)
                    places_.emplace_back(name);
            }
            return try_next();
        case Doing::making:
            if (reply.first_digit() != 2) return try_next();
            created_ = places_[next_ - 1].empty() ? name_ : places_[next_ - 1] + "/" + name_;
            doing_ = Doing::removing;
            return command("RMD " + created_);
        case Doing::removing:
            removed_ = reply;
            said_ = "created /" + created_ + (reply.first_digit() == 2 ? " and removed it" : " and could not remove it (" + reply.line() + ")");
            return quit();
    }
    return quit();
}

std::optional<CheckFinding> FtpWritableDialog::finding() const {
    if (created_.empty()) return std::nullopt;
    std::string output = "Anonymous users can create directories: /" + created_ + " was created";
    if (removed_ && removed_->first_digit() == 2) output += " (and removed)";
    else output += "; it could not be removed and is left there (" + (removed_ ? removed_->line() : std::string("no reply")) + ")";
    return found("ftp-writable", escape_banner(output));
}

FtpBounceDialog::FtpBounceDialog(Ipv4 target, bool ipv6) {
    constexpr Port kPort{65535};
    const Ipv6 loopback6{0, 1};  // ::1 (RFC 4291 2.5.3)
    verb_ = ipv6 ? "EPRT" : "PORT";
    argument_ = ipv6 ? eprt_argument(loopback6, kPort) : port_argument(bounce_address(target), kPort);
    to_ = endpoint_text(ipv6 ? loopback6.str() : bounce_address(target).str(), kPort);
}

// The server's own loopback: asking it to connect there reaches no third host, and it is an
// address other than ours unless we are on its loopback too (then 127.0.0.2, not our 127.0.0.1).
Ipv4 FtpBounceDialog::bounce_address(Ipv4 target) {
    return target.octet(0) == 127 ? Ipv4{127, 0, 0, 2} : Ipv4{127, 0, 0, 1};
}

Step FtpBounceDialog::logged_in(const FtpReply&) { return command(verb_ + " " + argument_); }

// RFC 959 4.1.2 and RFC 2577: a server that checks the address answers PORT with a 5xx (vsftpd
// "500 Illegal PORT command.", pyftpdlib 501); 2xx took it; 425 tried to connect to it. RFC 2428
// 2: EPRT's the same (522: the server does not speak that network protocol, no finding).
Step FtpBounceDialog::turn(const FtpReply& reply) {
    if (reply.first_digit() == 2 || reply.code == 425) accepted_ = reply;
    said_ = std::string(accepted_ ? "" : "refused ") + verb_ + " to " + to_ + " (" + reply.line() + ")";
    return quit();
}

std::optional<CheckFinding> FtpBounceDialog::finding() const {
    if (!accepted_) return std::nullopt;
    return found("ftp-bounce", "bounce working: " + verb_ + " to " + to_ + ", an address other than ours, was accepted (" +
                                   escape_banner(accepted_->line()) + ")");
}

// --- telnet --------------------------------------------------------------------------------

namespace {

// RFC 854: IAC (255) starts a command; WILL 251, WONT 252, DO 253, DONT 254 take an option
// byte; SB 250 ... IAC SE 240 is a subnegotiation. Text goes to `screen`; the refusals of every
// option asked (DO -> WONT) or offered (WILL -> DONT) to `answer`.
void read_telnet(std::string_view bytes, std::string& screen, std::string& answer) {
    constexpr unsigned char kIac = 255, kSb = 250, kSe = 240, kWill = 251, kWont = 252, kDo = 253, kDont = 254;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const auto byte = static_cast<unsigned char>(bytes[i]);
        if (byte != kIac) {
            if (byte != 0) screen += static_cast<char>(byte);
            continue;
        }
        if (i + 1 >= bytes.size()) break;
        const auto command = static_cast<unsigned char>(bytes[++i]);
        if (command == kIac) screen += static_cast<char>(kIac);
        if (command >= kWill && command <= kDont && i + 1 < bytes.size()) {
            const char option = bytes[++i];
            if (command == kDo) answer += {static_cast<char>(kIac), static_cast<char>(kWont), option};
            if (command == kWill) answer += {static_cast<char>(kIac), static_cast<char>(kDont), option};
        }
        if (command == kSb) {
            const char se[] = {static_cast<char>(kIac), static_cast<char>(kSe)};
            const auto end = bytes.find(std::string_view{se, 2}, i);
            i = end == std::string_view::npos ? bytes.size() : end + 1;
        }
    }
}

}  // namespace

Step TelnetLoginDialog::start() { return Step::probe(Link::plain, {}, kCheckWait, kTelnetQuiet); }

bool TelnetLoginDialog::enough(std::string_view received) {
    std::string screen = screen_, ignored;
    read_telnet(received, screen, ignored);
    return !prompt(screen).empty();
}

std::string TelnetLoginDialog::prompt(std::string_view screen) {
    while (!screen.empty() && (screen.back() == ' ' || screen.back() == '\t')) screen.remove_suffix(1);
    const auto newline = screen.find_last_of("\r\n");
    const std::string_view line = trim(newline == std::string_view::npos ? screen : screen.substr(newline + 1));
    const std::string low = lower(line);
    for (const std::string_view end : {"login:", "username:", "user name:", "password:"})
        if (low.ends_with(end)) return std::string(line);
    return {};
}

Step TelnetLoginDialog::next(const Exchange& exchange) {
    transcript_.received(exchange.received);
    std::string answer;
    read_telnet(exchange.received, screen_, answer);
    if (screen_.size() > kScreenBytes) screen_.erase(0, screen_.size() - kScreenBytes);
    prompt_ = prompt(screen_);
    if (!prompt_.empty()) return said_ = "login prompt offered: \"" + escape_banner(prompt_) + "\"", Step::finish();
    if (exchange.received.empty() || exchange.ending != Ending::open || ++rounds_ >= kMaxRounds) {
        said_ = screen_.empty() ? no_answer(exchange) : "no login prompt (the server said \"" + escape_banner(trim(screen_), 80) + "\")";
        return Step::finish();
    }
    if (!answer.empty()) transcript_.sent(answer);
    return Step::probe(Link::reuse, answer, kCheckWait, kTelnetQuiet);
}

std::optional<CheckFinding> TelnetLoginDialog::finding() const {
    if (prompt_.empty()) return std::nullopt;
    return found("telnet-cleartext", "Telnet login prompt offered in cleartext: \"" + escape_banner(prompt_) + "\"");
}

// --- SSH -----------------------------------------------------------------------------------

std::string SshV1Dialog::identification(std::string_view banner) {
    std::size_t at = 0;
    while (at < banner.size()) {
        const auto end = banner.find('\n', at);
        if (end == std::string_view::npos) return {};  // not a whole line yet
        std::string_view line = banner.substr(at, end - at);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.starts_with("SSH-")) return std::string(line);
        at = end + 1;
    }
    return {};
}

bool SshV1Dialog::enough(std::string_view received) { return !identification(received).empty(); }

Step SshV1Dialog::next(const Exchange& exchange) {
    transcript_.received(exchange.received);
    banner_ = identification(exchange.received);
    said_ = banner_.empty() ? no_answer(exchange) : "identification \"" + escape_banner(banner_) + "\"";
    return Step::finish();
}

// RFC 4253 4.2 and 5.1: "SSH-1.99-" speaks 2.0 and the old protocol; "SSH-1.5-" and the like only 1.
std::optional<CheckFinding> SshV1Dialog::finding() const {
    if (!banner_.starts_with("SSH-1.")) return std::nullopt;
    return found("ssh-v1", "Server supports SSHv1 (" + escape_banner(banner_) + ")");
}

// --- HTTP ----------------------------------------------------------------------------------

Step HttpServerDialog::start() {
    const std::string request = "HEAD / HTTP/1.0";  // RFC 9110 9.3.2: the headers of GET, no body
    transcript_.sent(request);
    return Step::probe(tunnel_ == ServiceTunnel::ssl ? Link::tls : Link::plain, request + "\r\n\r\n", kCheckWait);
}

bool HttpServerDialog::enough(std::string_view received) {
    return received.find("\r\n\r\n") != std::string_view::npos || received.find("\n\n") != std::string_view::npos;
}

std::optional<std::string> HttpServerDialog::server_header(std::string_view head) {
    std::size_t at = head.find('\n');  // the status line is no header
    while (at != std::string_view::npos && at + 1 < head.size()) {
        const auto end = head.find('\n', at + 1);
        const std::string_view line = head.substr(at + 1, end == std::string_view::npos ? std::string_view::npos : end - at - 1);
        if (trim(line).empty()) return std::nullopt;  // the end of the head
        const auto colon = line.find(':');
        if (colon != std::string_view::npos && lower(line.substr(0, colon)) == "server") return std::string(trim(line.substr(colon + 1)));
        at = end;
    }
    return std::nullopt;
}

bool HttpServerDialog::discloses_version(std::string_view server) {
    return server.find('/') != std::string_view::npos || server.find('(') != std::string_view::npos;
}

Step HttpServerDialog::next(const Exchange& exchange) {
    const std::string_view head = exchange.received;
    const auto status_end = head.find('\n');
    if (!head.empty()) transcript_.received(head.substr(0, status_end));
    const auto server = server_header(head);
    if (server) transcript_.received("Server: " + *server);
    if (server && discloses_version(*server)) server_ = server;
    said_ = head.empty() ? no_answer(exchange)
            : server ? "Server: " + escape_banner(*server) + (server_ ? "" : " (names no version)")
                     : "no Server header";
    return Step::finish();
}

std::optional<CheckFinding> HttpServerDialog::finding() const {
    if (!server_) return std::nullopt;
    return found("http-server-header", escape_banner(*server_));
}

// --- ident ---------------------------------------------------------------------------------

std::optional<CheckFinding> judge_root_owner(const CheckPort& port) {
    if (port.owner == nullptr || *port.owner != "root") return std::nullopt;
    const std::string where = std::to_string(port.port.value());
    return CheckFinding{"http-root-owner", "The web server on port " + where + " runs as root (identd's answer)",
                        {"ident (RFC 1413): the connection to port " + where + " is owned by root"}};
}

}  // namespace flagscan

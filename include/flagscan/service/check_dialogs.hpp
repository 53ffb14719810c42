// The weakness checks' conversations: FTP (anonymous login, writable directory, bounce), telnet, SSH, HTTP.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "flagscan/service/checks.hpp"
#include "flagscan/service/ftp_replies.hpp"

namespace flagscan {

inline constexpr Micros kCheckWait = 5 * kSecond;  // for each reply a check waits for

// An anonymous FTP session (RFC 1635: user "anonymous", an address as password; never any other
// name or password), then what the check does logged in, then QUIT. The subclasses' turn()
// gets each final reply after the login; ftp-anon and ftp-writable share the STAT listing.
class FtpCheckDialog : public CheckDialog {
public:
    Step start() override;
    bool enough(std::string_view received) override { return holds_final_reply(received); }
    Step next(const Exchange& exchange) override;

protected:
    // Logged in: the first command (or quit()).
    virtual Step logged_in(const FtpReply& reply) = 0;
    // The final reply to the check's last command.
    virtual Step turn(const FtpReply& reply) = 0;
    // The login was refused (or the server is no FTP server): said_ is set, nothing is found.
    virtual void refused(const FtpReply& reply);
    Step command(std::string line);
    Step quit();
    // "STAT ." (RFC 959 4.1.3: a listing over the control connection, no data connection).
    Step list_root() { return command("STAT ."); }
    // STAT's listing lines (the reply's body), blanks, "." and ".." left out, lead spaces trimmed.
    static std::vector<std::string> listing(const FtpReply& reply);

private:
    enum class Stage : std::uint8_t { greeting, user, pass, session, quitting };
    Stage stage_ = Stage::greeting;
};

// ftp-anon: the login as anonymous accepted; the top of the root's listing.
class FtpAnonDialog final : public FtpCheckDialog {
public:
    std::optional<CheckFinding> finding() const override;

private:
    Step logged_in(const FtpReply& reply) override;
    Step turn(const FtpReply& reply) override;
    std::optional<FtpReply> login_;
    std::vector<std::string> listing_;
};

// ftp-writable: MKD of a random name in the anonymous root, then in each directory the root
// lists (a few at most), until one is created; it is removed at once (RMD).
class FtpWritableDialog final : public FtpCheckDialog {
public:
    explicit FtpWritableDialog(std::uint64_t nonce);
    std::optional<CheckFinding> finding() const override;
    static constexpr std::size_t kMaxTries = 6;  // the root and 5 of its directories

private:
    Step logged_in(const FtpReply& reply) override;
    Step turn(const FtpReply& reply) override;
    Step try_next();
    std::string name_;
    std::vector<std::string> places_;  // where to try MKD: "" (the root), then directories
    std::size_t next_ = 0;
    enum class Doing : std::uint8_t { listing, making, removing } doing_ = Doing::listing;
    std::string created_;  // the path MKD made
    std::optional<FtpReply> removed_;
};

// ftp-bounce: PORT to the FTP server's own loopback (never a third host; an address other than
// ours all the same), unprivileged port 65535: 2xx, or 425 after trying it, is accepted. Over
// IPv6 (`ipv6`: the control connection is IPv6) PORT cannot name an IPv6 address: EPRT to ::1
// (RFC 2428 2), the IPv6 loopback, asks the same.
class FtpBounceDialog final : public FtpCheckDialog {
public:
    explicit FtpBounceDialog(Ipv4 target, bool ipv6 = false);
    std::optional<CheckFinding> finding() const override;
    static Ipv4 bounce_address(Ipv4 target);

private:
    Step logged_in(const FtpReply& reply) override;
    Step turn(const FtpReply& reply) override;
    std::string verb_;      // PORT or EPRT
    std::string argument_;  // its argument
    std::string to_;        // where it points, as text: "127.0.0.1:65535", "[::1]:65535"
    std::optional<FtpReply> accepted_;
};

// telnet-cleartext: listen, refuse every option the server asks or offers (RFC 854/855: WONT to
// DO, DONT to WILL), until a login prompt shows; nothing else is ever typed.
class TelnetLoginDialog final : public CheckDialog {
public:
    Step start() override;
    bool enough(std::string_view received) override;
    Step next(const Exchange& exchange) override;
    std::optional<CheckFinding> finding() const override;
    static constexpr int kMaxRounds = 8;
    // The login prompt at the end of `screen`, or "": a last line ending "login:", "username:",
    // "user name:" or "password:" (any case, trailing blanks).
    static std::string prompt(std::string_view screen);

private:
    std::string screen_;  // the text so far, telnet commands taken out
    std::string prompt_;
    int rounds_ = 0;
};

// ssh-v1: listen for the identification string (RFC 4253 4.2: "SSH-protoversion-..."); 1.x is
// protocol 1 (1.99: 1 and 2, RFC 4253 5.1). Sends nothing.
class SshV1Dialog final : public CheckDialog {
public:
    Step start() override { return Step::probe(Link::plain, {}, kCheckWait); }
    bool enough(std::string_view received) override;
    Step next(const Exchange& exchange) override;
    std::optional<CheckFinding> finding() const override;
    // The "SSH-" line of a banner (lines before it are allowed), or "".
    static std::string identification(std::string_view banner);

private:
    std::string banner_;
};

// http-server-header: one HEAD / (inside TLS on ssl/http); the Server header when it names a
// version or a comment (RFC 9110 10.2.4: product ["/" version] and comments). A bare product
// name ("nginx", server_tokens off) is no finding.
class HttpServerDialog final : public CheckDialog {
public:
    HttpServerDialog(Ipv4 target, ServiceTunnel tunnel) : target_(target), tunnel_(tunnel) {}
    Step start() override;
    bool enough(std::string_view received) override;
    Step next(const Exchange& exchange) override;
    std::optional<CheckFinding> finding() const override;
    // The Server header's value in a response's head, or nullopt when it has none.
    static std::optional<std::string> server_header(std::string_view head);
    // RFC 9110 10.2.4: a product-version ("/1.22") or a comment ("(Debian)").
    static bool discloses_version(std::string_view server);

private:
    Ipv4 target_;
    ServiceTunnel tunnel_;
    std::optional<std::string> server_;
};

// http-root-owner: identd (-I) said the port's owner is root. No connection of its own.
std::optional<CheckFinding> judge_root_owner(const CheckPort& port);

}  // namespace flagscan

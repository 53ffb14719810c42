// Weakness checks (--checks): the table, the choice of checks, each check's dialog over scripted exchanges, the outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

#include "flagscan/cli/options.hpp"
#include "flagscan/output/check_report.hpp"
#include "flagscan/output/formats.hpp"
#include "flagscan/service/check_dialogs.hpp"
#include "nmap_formats_fixture.hpp"

namespace flagscan {
namespace {

using testing::ServiceScan;

// --- the table and the choice --------------------------------------------------------------

TEST(ChecksTable, IdsUniqueEachTalksOrJudges) {
    std::set<std::string_view> ids;
    for (const Check& check : all_checks()) {
        EXPECT_TRUE(ids.insert(check.id).second) << check.id;
        EXPECT_NE(check.dialog == nullptr, check.judge == nullptr) << check.id;
        EXPECT_FALSE(check.services.empty()) << check.id;
        EXPECT_EQ(find_check(check.id), &check);
    }
    for (const char* id : {"ftp-anon", "ftp-writable", "ftp-bounce", "telnet-cleartext", "ssh-v1", "http-server-header",
                           "http-root-owner"})
        EXPECT_TRUE(ids.count(id)) << id;
    EXPECT_EQ(find_check("ftp-brute"), nullptr);
    EXPECT_EQ(find_check("ftp-writable")->category, CheckCategory::intrusive);
    EXPECT_TRUE(find_check("http-server-header")->applies_to("http"));
    EXPECT_FALSE(find_check("http-server-header")->applies_to("ftp"));
}

TEST(ChecksTable, ListHasALineEach) {
    const std::string list = checks_listing();
    std::size_t lines = 0;
    for (const char c : list) lines += c == '\n';
    EXPECT_EQ(lines, all_checks().size());
    EXPECT_NE(list.find("ftp-writable        intrusive"), std::string::npos) << list;
    EXPECT_NE(list.find("ssh-v1              safe"), std::string::npos) << list;
}

std::vector<std::string_view> ids(const std::vector<const Check*>& checks) {
    std::vector<std::string_view> out;
    for (const Check* check : checks) out.push_back(check->id);
    return out;
}

TEST(SelectChecks, SafeByDefaultIntrusiveAddsByName) {
    const auto safe = select_checks("safe");
    ASSERT_TRUE(safe);
    EXPECT_EQ(ids(*safe), (std::vector<std::string_view>{"ftp-anon", "ftp-bounce", "telnet-cleartext", "ssh-v1",
                                                          "http-server-header", "http-root-owner"}));
    EXPECT_EQ(ids(*select_checks("")), ids(*safe));
    const auto all = select_checks("intrusive");
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), all_checks().size());
    const auto named = select_checks("ssh-v1,ftp-anon,ssh-v1");  // table order, once each
    ASSERT_TRUE(named);
    EXPECT_EQ(ids(*named), (std::vector<std::string_view>{"ftp-anon", "ssh-v1"}));
    EXPECT_EQ(ids(*select_checks("ftp-writable")), (std::vector<std::string_view>{"ftp-writable"}));
}

TEST(SelectChecks, UnknownNameIsOneLine) {
    for (const char* bad : {"ftp-anonn", "ftp-anon,", "ftp-anon,,ssh-v1", "smtp-open-relay", "list,ftp-anon"}) {
        const auto chosen = select_checks(bad);
        ASSERT_FALSE(chosen) << bad;
        EXPECT_EQ(chosen.error().find('\n'), std::string::npos);
        EXPECT_NE(chosen.error().find("ftp-anon, ftp-writable"), std::string::npos) << chosen.error();
    }
}

// --- the option -------------------------------------------------------------------------

Result<CommandLine> parse(std::vector<const char*> args) {
    args.insert(args.begin(), "flagscan");
    return parse_command_line(static_cast<int>(args.size()), args.data());
}

TEST(ChecksOption, ValueIsOptionalAndImpliesVersionDetection) {
    const auto plain = parse({"--checks", "10.0.0.1"});
    ASSERT_TRUE(plain) << plain.error();
    EXPECT_TRUE(plain->config.version_detection);
    EXPECT_EQ(ids(plain->config.checks), ids(*select_checks("safe")));
    EXPECT_EQ(plain->config.targets.size(), 1u);
    const auto last = parse({"10.0.0.1", "--checks"});
    ASSERT_TRUE(last) << last.error();
    EXPECT_EQ(last->config.checks.size(), select_checks("safe")->size());
    const auto named = parse({"--checks", "ftp-anon,ssh-v1", "-sV", "10.0.0.1"});
    ASSERT_TRUE(named) << named.error();
    EXPECT_EQ(ids(named->config.checks), (std::vector<std::string_view>{"ftp-anon", "ssh-v1"}));
    const auto intrusive = parse({"--checks=intrusive", "--version-light", "10.0.0.1"});
    ASSERT_TRUE(intrusive) << intrusive.error();
    EXPECT_EQ(intrusive->config.checks.size(), all_checks().size());
    EXPECT_FALSE(parse({"10.0.0.1"})->config.version_detection);
}

TEST(ChecksOption, ListIsAnActionUnknownIsAnError) {
    const auto list = parse({"--checks", "list"});
    ASSERT_TRUE(list) << list.error();
    EXPECT_EQ(list->action, CommandLine::Action::list_checks);
    EXPECT_EQ(list->help, checks_listing());
    const auto bad = parse({"--checks", "ftp-anon,ftp-nope", "10.0.0.1"});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("unknown check 'ftp-nope'"), std::string::npos) << bad.error();
    EXPECT_FALSE(parse({"--checks", "safe", "--checks", "10.0.0.1"}));
    EXPECT_FALSE(parse({"--checks", "-sn", "10.0.0.0/24"}));  // -sV's rule: no -sn
}

// --- dialogs over scripted exchanges -------------------------------------------------------

// Plays a check's dialog: each reply is what the service said to the step asked for last.
struct Script {
    explicit Script(CheckDialog& d) : dialog(d) { steps.push_back(dialog.start()); }
    const Step& reply(std::string bytes, Ending ending = Ending::open, Micros connected_for = kSecond) {
        held.push_back(std::move(bytes));
        Exchange exchange;
        exchange.received = held.back();
        exchange.ending = ending;
        exchange.connected_for = connected_for;
        steps.push_back(dialog.next(exchange));
        return steps.back();
    }
    CheckDialog& dialog;
    std::vector<Step> steps;
    std::deque<std::string> held;
};

constexpr const char* kVsftpdStat =
    "213-Status follows:\r\n"
    "drwxr-xr-x    2 ftp      ftp          4096 Dec 02 10:00 incoming\r\n"
    "-rw-r--r--    1 0        0              62 Dec 02 10:00 README\r\n"
    "213 End of status\r\n";

TEST(FtpAnon, LoginThenStatThenQuit) {
    FtpAnonDialog dialog;
    Script s{dialog};
    EXPECT_EQ(s.steps[0].link, Link::plain);
    EXPECT_TRUE(s.steps[0].payload.empty());
    EXPECT_EQ(s.reply("220 (vsFTPd 3.0.3)\r\n").payload, "USER anonymous\r\n");
    EXPECT_EQ(s.reply("331 Please specify the password.\r\n").payload, "PASS -wwwuser@\r\n");
    EXPECT_EQ(s.reply("230 Login successful.\r\n").payload, "STAT .\r\n");
    EXPECT_EQ(s.reply(kVsftpdStat).payload, "QUIT\r\n");
    EXPECT_EQ(s.steps.back().link, Link::reuse);
    EXPECT_TRUE(s.reply("221 Goodbye.\r\n").done);
    const auto finding = dialog.finding();
    ASSERT_TRUE(finding);
    EXPECT_EQ(finding->id, "ftp-anon");
    EXPECT_EQ(finding->output, "Anonymous FTP login allowed (FTP code 230)\n"
                               "drwxr-xr-x    2 ftp      ftp          4096 Dec 02 10:00 incoming\n"
                               "-rw-r--r--    1 0        0              62 Dec 02 10:00 README");
    ASSERT_GE(finding->evidence.size(), 6u);
    EXPECT_EQ(finding->evidence[0], "< 220 (vsFTPd 3.0.3)");
    EXPECT_EQ(finding->evidence[1], "> USER anonymous");
    EXPECT_EQ(finding->evidence.back(), "< 221 Goodbye.");
    EXPECT_NE(dialog.said().find("230 Login successful."), std::string::npos);
}

TEST(FtpAnon, LoginRefusedIsNoFinding) {
    FtpAnonDialog dialog;
    Script s{dialog};
    s.reply("220 (vsFTPd 3.0.3)\r\n");
    EXPECT_EQ(s.reply("530 This FTP server does not allow anonymous logins.\r\n").payload, "QUIT\r\n");
    EXPECT_TRUE(s.reply("221 Goodbye.\r\n").done);
    EXPECT_FALSE(dialog.finding());
    EXPECT_NE(dialog.said().find("refused"), std::string::npos);
}

TEST(FtpAnon, NoFtpOrNoAnswerEndsQuietly) {
    FtpAnonDialog garbage;
    Script g{garbage};
    EXPECT_TRUE(g.reply("SSH-2.0-OpenSSH_9.2\r\n").done);
    EXPECT_FALSE(garbage.finding());
    FtpAnonDialog silent;
    Script q{silent};
    EXPECT_TRUE(q.reply("", Ending::open).done);
    FtpAnonDialog refused;
    Script r{refused};
    EXPECT_TRUE(r.reply("", Ending::refused, -1).done);
    EXPECT_NE(refused.said().find("could not connect"), std::string::npos);
}

TEST(FtpAnon, UserAloneLogsIn) {
    FtpAnonDialog dialog;
    Script s{dialog};
    s.reply("220 hi\r\n");
    EXPECT_EQ(s.reply("230 no password needed\r\n").payload, "STAT .\r\n");
    s.reply("213-Status of \"/\":\r\n-rw-r--r--   1 nobody   nogroup        49 Dec 02 10:00 README\r\n213 End of status.\r\n");
    const auto finding = dialog.finding();
    ASSERT_TRUE(finding);
    EXPECT_EQ(finding->output, "Anonymous FTP login allowed (FTP code 230)\n-rw-r--r--   1 nobody   nogroup        49 Dec 02 10:00 README");
}

TEST(FtpWritable, MakesInTheListedDirectoryAndRemovesIt) {
    FtpWritableDialog dialog{0x1234abcd};
    Script s{dialog};
    s.reply("220 (vsFTPd 3.0.3)\r\n");
    s.reply("331 Please specify the password.\r\n");
    EXPECT_EQ(s.reply("230 Login successful.\r\n").payload, "STAT .\r\n");
    EXPECT_EQ(s.reply(kVsftpdStat).payload, "MKD flagscan-1234abcd\r\n");  // the root first
    EXPECT_EQ(s.reply("550 Create directory operation failed.\r\n").payload, "MKD incoming/flagscan-1234abcd\r\n");
    EXPECT_EQ(s.reply("257 \"/incoming/flagscan-1234abcd\" created\r\n").payload, "RMD incoming/flagscan-1234abcd\r\n");
    EXPECT_EQ(s.reply("250 Remove directory operation successful.\r\n").payload, "QUIT\r\n");
    const auto finding = dialog.finding();
    ASSERT_TRUE(finding);
    EXPECT_EQ(finding->id, "ftp-writable");
    EXPECT_EQ(finding->output, "Anonymous users can create directories: /incoming/flagscan-1234abcd was created (and removed)");
}

TEST(FtpWritable, SaysWhenTheDirectoryStays) {
    FtpWritableDialog dialog{1};
    Script s{dialog};
    s.reply("220 x\r\n");
    s.reply("230 in\r\n");
    EXPECT_EQ(s.reply("213-Status\r\n213 End\r\n").payload, "MKD flagscan-00000001\r\n");
    s.reply("257 created\r\n");
    s.reply("550 Permission denied.\r\n");
    const auto finding = dialog.finding();
    ASSERT_TRUE(finding);
    EXPECT_NE(finding->output.find("left there (550 Permission denied.)"), std::string::npos) << finding->output;
}

TEST(FtpWritable, ReadOnlyIsNoFinding) {
    FtpWritableDialog dialog{2};
    Script s{dialog};
    s.reply("220 pyftpdlib 1.5.7 ready.\r\n");
    s.reply("331 Username ok, send password.\r\n");
    s.reply("230 Login successful.\r\n");
    s.reply("213-Status of \"/\":\r\ndrwxr-xr-x   2 nobody nogroup 4096 Dec 02 10:00 pub\r\n213 End of status.\r\n");
    EXPECT_EQ(s.reply("550 Not enough privileges.\r\n").payload, "MKD pub/flagscan-00000002\r\n");
    EXPECT_EQ(s.reply("550 Not enough privileges.\r\n").payload, "QUIT\r\n");
    EXPECT_FALSE(dialog.finding());
}

TEST(FtpBounce, AcceptedPortIsAFinding) {
    FtpBounceDialog dialog{Ipv4{10, 77, 22, 130}};
    Script s{dialog};
    s.reply("220 pyftpdlib 1.5.7 ready.\r\n");
    s.reply("331 Username ok, send password.\r\n");
    EXPECT_EQ(s.reply("230 Login successful.\r\n").payload, "PORT 127,0,0,1,255,255\r\n");
    EXPECT_EQ(s.reply("425 Can't connect to specified address.\r\n").payload, "QUIT\r\n");
    const auto finding = dialog.finding();
    ASSERT_TRUE(finding);
    EXPECT_EQ(finding->output, "bounce working: PORT to 127.0.0.1:65535, an address other than ours, was accepted "
                               "(425 Can't connect to specified address.)");
    EXPECT_NE(std::find(finding->evidence.begin(), finding->evidence.end(), "> PORT 127,0,0,1,255,255"), finding->evidence.end());
}

TEST(FtpBounce, RefusedPortIsNoFinding) {
    FtpBounceDialog dialog{Ipv4{10, 77, 22, 130}};
    Script s{dialog};
    s.reply("220 (vsFTPd 3.0.3)\r\n");
    s.reply("331 Please specify the password.\r\n");
    s.reply("230 Login successful.\r\n");
    EXPECT_EQ(s.reply("500 Illegal PORT command.\r\n").payload, "QUIT\r\n");
    EXPECT_FALSE(dialog.finding());
    EXPECT_EQ(FtpBounceDialog::bounce_address(Ipv4{127, 0, 0, 1}), (Ipv4{127, 0, 0, 2}));  // never our own loopback
}

// RFC 2428: over an IPv6 control connection PORT cannot name an address; EPRT to ::1 asks the
// same. pyftpdlib tries it (425), vsftpd refuses it (500).
TEST(FtpBounce, Ipv6AsksWithEprtToTheIpv6Loopback) {
    const std::pair<std::string, std::string> cases[] = {
        {"425 Can't connect to specified address.", "EPRT to [::1]:65535 (425 Can't connect to specified address.)"},
        {"500 Illegal EPRT command.", "refused EPRT to [::1]:65535 (500 Illegal EPRT command.)"},
    };
    for (const auto& [reply, said] : cases) {
        FtpBounceDialog dialog{Ipv4{0, 0, 0, 1}, true};
        Script s{dialog};
        for (const char* line : {"220 ready.\r\n", "331 Password, please.\r\n"}) s.reply(line);
        EXPECT_EQ(s.reply("230 Login successful.\r\n").payload, "EPRT |2|::1|65535|\r\n");
        EXPECT_EQ(s.reply(reply + "\r\n").payload, "QUIT\r\n");
        EXPECT_EQ(dialog.said(), said);
        EXPECT_EQ(dialog.finding().has_value(), reply.starts_with("425"));
    }
    FtpBounceDialog accepting{Ipv4{0, 0, 0, 1}, true};
    Script s{accepting};
    for (const char* line : {"220 ready.\r\n", "331 Password, please.\r\n", "230 Login successful.\r\n", "200 Active data connection established.\r\n"})
        s.reply(line);
    ASSERT_TRUE(accepting.finding());
    EXPECT_EQ(accepting.finding()->output,
              "bounce working: EPRT to [::1]:65535, an address other than ours, was accepted (200 Active data connection established.)");
}

TEST(TelnetLogin, RefusesEveryOptionUntilThePrompt) {
    TelnetLoginDialog dialog;
    Script s{dialog};
    EXPECT_EQ(s.steps[0].quiet, 500 * kMillisecond);
    // IAC DO TTYPE, IAC WILL ECHO, IAC DONT NAWS (nothing to answer), IAC SB ... IAC SE
    const std::string options{"\xff\xfd\x18\xff\xfb\x01\xff\xfe\x1f\xff\xfa\x18\x01\xff\xf0", 15};
    const Step& answer = s.reply(options);
    EXPECT_EQ(answer.payload, std::string("\xff\xfc\x18\xff\xfe\x01", 6));  // WONT TTYPE, DONT ECHO
    EXPECT_EQ(answer.link, Link::reuse);
    EXPECT_FALSE(dialog.enough("Debian GNU/Linux 12\r\n"));
    EXPECT_TRUE(dialog.enough("Debian GNU/Linux 12\r\nfssv22 login: "));
    EXPECT_TRUE(s.reply("\r\nDebian GNU/Linux 12\r\nfssv22 login: ").done);
    const auto finding = dialog.finding();
    ASSERT_TRUE(finding);
    EXPECT_EQ(finding->output, "Telnet login prompt offered in cleartext: \"fssv22 login:\"");
}

TEST(TelnetLogin, NoticeWithoutPromptIsNoFinding) {
    TelnetLoginDialog dialog;
    Script s{dialog};
    s.reply(std::string{"\xff\xfd\x18", 3});
    EXPECT_TRUE(s.reply("telnet logins are disabled here\r\n", Ending::peer_closed).done);
    EXPECT_FALSE(dialog.finding());
    EXPECT_NE(dialog.said().find("telnet logins are disabled here"), std::string::npos);
}

TEST(TelnetLogin, Prompts) {
    EXPECT_EQ(TelnetLoginDialog::prompt("Welcome\r\nUsername: "), "Username:");
    EXPECT_EQ(TelnetLoginDialog::prompt("Password:"), "Password:");
    EXPECT_EQ(TelnetLoginDialog::prompt("fssv22 login: \r\n"), "");  // a prompt waits on its line
    EXPECT_EQ(TelnetLoginDialog::prompt("Last login: yesterday"), "");
}

TEST(SshV1, OneDotAnythingIsProtocolOne) {
    SshV1Dialog old;
    Script s{old};
    EXPECT_TRUE(s.steps[0].payload.empty());  // sends nothing
    EXPECT_FALSE(old.enough("SSH-1.99-Open"));
    EXPECT_TRUE(old.enough("SSH-1.99-OpenSSH_3.9p1\r\n"));
    s.reply("SSH-1.99-OpenSSH_3.9p1\r\n");
    const auto finding = old.finding();
    ASSERT_TRUE(finding);
    EXPECT_EQ(finding->output, "Server supports SSHv1 (SSH-1.99-OpenSSH_3.9p1)");
    EXPECT_EQ(finding->evidence, (std::vector<std::string>{"< SSH-1.99-OpenSSH_3.9p1"}));
    SshV1Dialog modern;
    Script m{modern};
    m.reply("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
    EXPECT_FALSE(modern.finding());
    EXPECT_EQ(SshV1Dialog::identification("banner line\r\nSSH-1.5-x\r\n"), "SSH-1.5-x");  // RFC 4253 4.2: lines before
}

TEST(HttpServerHeader, VersionIsAFindingBareNameIsNot) {
    HttpServerDialog plain{Ipv4{10, 0, 0, 2}, ServiceTunnel::none};
    Script s{plain};
    EXPECT_EQ(s.steps[0].payload, "HEAD / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(s.steps[0].link, Link::plain);
    s.reply("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: x\r\nContent-Type: text/html\r\n\r\n");
    const auto finding = plain.finding();
    ASSERT_TRUE(finding);
    EXPECT_EQ(finding->output, "nginx/1.22.1");
    EXPECT_EQ(finding->evidence, (std::vector<std::string>{"> HEAD / HTTP/1.0", "< HTTP/1.1 200 OK", "< Server: nginx/1.22.1"}));
    HttpServerDialog tls{Ipv4{10, 0, 0, 2}, ServiceTunnel::ssl};
    Script t{tls};
    EXPECT_EQ(t.steps[0].link, Link::tls);
    t.reply("HTTP/1.1 200 OK\r\nserver:   nginx  \r\n\r\n");
    EXPECT_FALSE(tls.finding());
    EXPECT_NE(tls.said().find("names no version"), std::string::npos);
    EXPECT_TRUE(HttpServerDialog::discloses_version("Apache/2.4.57 (Debian)"));
    EXPECT_TRUE(HttpServerDialog::discloses_version("Apache (Unix)"));
    EXPECT_FALSE(HttpServerDialog::discloses_version("Apache"));
    EXPECT_EQ(HttpServerDialog::server_header("HTTP/1.0 200 OK\r\nX: 1\r\n\r\nServer: body"), std::nullopt);
}

TEST(HttpRootOwner, RootIsAFindingOthersAreNot) {
    const std::string root = "root", www = "www-data";
    CheckPort port{Ipv4{10, 0, 0, 2}, Port{8080}, "http", ServiceTunnel::none, &root, 0};
    const auto finding = judge_root_owner(port);
    ASSERT_TRUE(finding);
    EXPECT_EQ(finding->id, "http-root-owner");
    EXPECT_EQ(finding->output, "The web server on port 8080 runs as root (identd's answer)");
    port.owner = &www;
    EXPECT_FALSE(judge_root_owner(port));
    port.owner = nullptr;
    EXPECT_FALSE(judge_root_owner(port));
}

// The run over Results: only judged checks here (no connection), an owner set by hand as -I would.
TEST(RunChecks, JudgesWithHandSetOwners) {
    ServiceScan scan;
    scan.results.services().set_owner(scan.index(Port{80}), "root");
    scan.results.services().set_owner(scan.index(Port{22}), "root");  // not a web server: not judged
    ChecksSettings settings;
    settings.checks = {find_check("http-root-owner")};
    const SteadyClock clock;
    const std::atomic<bool> stop{false};
    const ChecksRun run = run_checks(scan.results, settings, clock, stop);
    EXPECT_TRUE(scan.results.checks().performed());
    EXPECT_EQ(run.conversations, 0u);
    EXPECT_EQ(run.findings, 1u);
    EXPECT_EQ(run.ports, 3u);  // 80 and 443 are http, 8080 http-proxy (the table's guess): all web servers
    ASSERT_NE(scan.results.checks().find(scan.index(Port{80})), nullptr);
    EXPECT_EQ(scan.results.checks().find(scan.index(Port{443})), nullptr);
    ASSERT_EQ(run.notes.size(), 1u);  // 443 and 8080 have no owner: said once
    EXPECT_NE(run.notes[0].find("-I/--ident"), std::string::npos);
    EXPECT_NE(run.notes[0].find("on 2 ports"), std::string::npos) << run.notes[0];
}

// --- outputs -------------------------------------------------------------------------------

TEST(CheckOutputs, ScriptLinesAsNmap) {
    EXPECT_EQ(script_lines("ssh-v1", "Server supports SSHv1"), "|_ssh-v1: Server supports SSHv1\n");
    EXPECT_EQ(script_lines("ftp-anon", "Anonymous FTP login allowed (FTP code 230)\na\nb"),
              "| ftp-anon: Anonymous FTP login allowed (FTP code 230)\n| a\n|_b\n");
    EXPECT_EQ(script_lines("x", "y", {"> A", "< B"}), "| x: y\n|   evidence:\n|     > A\n|_    < B\n");
}

CheckFinding anon_finding() {
    return CheckFinding{"ftp-anon", "Anonymous FTP login allowed (FTP code 230)\ndrwxr-xr-x 2 ftp ftp 4096 incoming",
                        {"< 220 (vsFTPd 3.0.3)", "> USER anonymous", "< 230 \"Login\" <ok> & in"}};
}

TEST(CheckOutputs, NormalUnderThePort) {
    ServiceScan scan;
    scan.results.checks().mark_performed();
    scan.results.checks().add(scan.index(Port{80}), CheckFinding{"http-server-header", "nginx/1.22.1", {"> HEAD / HTTP/1.0"}});
    std::ostringstream out;
    write_normal(out, scan.results, ServiceScan::services(), ReportOptions{}, ServiceScan::summary());
    EXPECT_NE(out.str().find("80/tcp    open            http            nginx 1.22.1\n|_http-server-header: nginx/1.22.1\n443/tcp"), std::string::npos)
        << out.str();
    std::ostringstream why;
    ReportOptions reason;
    reason.reason = true;
    write_normal(why, scan.results, ServiceScan::services(), reason, ServiceScan::summary());
    EXPECT_NE(why.str().find("| http-server-header: nginx/1.22.1\n|   evidence:\n|_    > HEAD / HTTP/1.0\n"), std::string::npos)
        << why.str();
}

TEST(CheckOutputs, JsonLines) {
    ServiceScan scan;
    scan.results.checks().add(scan.index(Port{22}), anon_finding());
    scan.results.checks().add(scan.index(Port{22}), CheckFinding{"ssh-v1", "Server supports SSHv1", {}});
    EXPECT_EQ(checks_json(scan.results, scan.index(Port{80})), "");
    EXPECT_EQ(checks_json(scan.results, scan.index(Port{22})),
              R"j(,"checks":[{"id":"ftp-anon","output":"Anonymous FTP login allowed (FTP code 230)\u000adrwxr-xr-x 2 ftp ftp 4096 incoming",)j"
              R"j("evidence":["< 220 (vsFTPd 3.0.3)","> USER anonymous","< 230 \"Login\" <ok> & in"]},)j"
              R"j({"id":"ssh-v1","output":"Server supports SSHv1","evidence":[]}])j");
    std::ostringstream out;
    write_jsonl(out, scan.results, ReportOptions{}, ServiceScan::summary());
    EXPECT_NE(out.str().find(R"("port":22,)"), std::string::npos);
    EXPECT_NE(out.str().find(R"(,"checks":[{"id":"ftp-anon")"), std::string::npos) << out.str();
}

TEST(CheckOutputs, XmlScriptsValidAgainstNmapDtd) {
    ServiceScan scan;
    scan.results.set_banner(scan.index(Port{22}), "SSH-1.99-x");
    scan.results.checks().add(scan.index(Port{22}), anon_finding());
    std::ostringstream out;
    write_xml(out, scan.results, ServiceScan::services(), ReportOptions{}, ServiceScan::summary());
    const std::string xml = out.str();
    EXPECT_NE(xml.find(R"j(</service><script id="banner" output="SSH-1.99-x"/><script id="ftp-anon" output="Anonymous FTP login )j"
                       R"j(allowed (FTP code 230)&#xa;drwxr-xr-x 2 ftp ftp 4096 incoming"><table key="evidence"><elem>&lt; 220 )j"
                       R"j((vsFTPd 3.0.3)</elem><elem>&gt; USER anonymous</elem><elem>&lt; 230 &quot;Login&quot; &lt;ok&gt; &amp; )j"
                       R"j(in</elem></table></script></port>)j"),
              std::string::npos)
        << xml;
    testing::expect_valid_against_nmap_dtd(xml, "checks");
}

TEST(CheckOutputs, GrepableHasNone) {
    ServiceScan scan;
    scan.results.checks().add(scan.index(Port{22}), anon_finding());
    std::ostringstream out;
    write_grepable(out, scan.results, ServiceScan::services(), ReportOptions{}, ServiceScan::summary());
    EXPECT_EQ(out.str().find("ftp-anon"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace flagscan

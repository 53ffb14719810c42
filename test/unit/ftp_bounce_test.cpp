// FTP bounce scan: the -b argument, reply parsing, PORT's argument, and the dialog driven by scripted replies.
#include "flagscan/service/ftp_bounce.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace flagscan {
namespace {

TEST(BounceServer, DefaultsAreNmaps) {
    const auto server = parse_bounce_server("10.0.0.1");
    ASSERT_TRUE(server);
    EXPECT_EQ(server->user, "anonymous");
    EXPECT_EQ(server->password, "-wwwuser@");
    EXPECT_EQ(server->host, "10.0.0.1");
    EXPECT_EQ(server->port, Port{21});
}

TEST(BounceServer, UserPasswordAndPort) {
    const auto server = parse_bounce_server("bob:s3:cr@t@ftp.example:2121");
    ASSERT_TRUE(server);
    EXPECT_EQ(server->user, "bob");
    EXPECT_EQ(server->password, "s3:cr@t");  // the last '@' ends the credentials, the first ':' the user
    EXPECT_EQ(server->host, "ftp.example");
    EXPECT_EQ(server->port, Port{2121});
    const auto user_only = parse_bounce_server("bob@10.0.0.1");
    ASSERT_TRUE(user_only);
    EXPECT_EQ(user_only->user, "bob");
    EXPECT_EQ(user_only->password, "-wwwuser@");
}

TEST(BounceServer, BadArgumentsAreOneLineErrors) {
    for (const char* bad : {"", "@10.0.0.1", "user@", "10.0.0.1:0", "10.0.0.1:70000", "10.0.0.1:21x", "10.0.0.1:"}) {
        const auto server = parse_bounce_server(bad);
        ASSERT_FALSE(server) << bad;
        EXPECT_EQ(server.error().find('\n'), std::string::npos);
    }
    EXPECT_FALSE(parse_bounce_server(std::string("bob:pw\r\nDELE x@10.0.0.1")));
}

TEST(FtpReplies, SingleAndMultiLine) {
    const auto scan = scan_replies("220-Welcome\r\n 220 not the end\r\n220-still\r\n220 ready.\r\n331 Password?\r\n");
    ASSERT_FALSE(scan.malformed);
    ASSERT_EQ(scan.replies.size(), 2u);
    EXPECT_EQ(scan.replies[0].code, 220);
    EXPECT_EQ(scan.replies[0].text, "ready.");
    EXPECT_EQ(scan.replies[1].code, 331);
    EXPECT_EQ(scan.replies[1].line(), "331 Password?");
}

TEST(FtpReplies, IncompleteWaitsForMore) {
    EXPECT_TRUE(scan_replies("220 rea").replies.empty());
    EXPECT_TRUE(scan_replies("220-first\r\nsecond\r\n").replies.empty());
    EXPECT_FALSE(scan_replies("220-first\r\n").malformed);
    const auto bare_lf = scan_replies("150 ok\n226 done\n");
    ASSERT_EQ(bare_lf.replies.size(), 2u);
    EXPECT_EQ(bare_lf.replies[1].code, 226);
}

TEST(FtpReplies, GarbageIsMalformed) {
    EXPECT_TRUE(scan_replies("SSH-2.0-OpenSSH\r\n").malformed);
    EXPECT_TRUE(scan_replies("22x hello\r\n").malformed);
    EXPECT_TRUE(scan_replies("220hello\r\n").malformed);
    EXPECT_TRUE(scan_replies("999 nine\r\n").malformed);
}

TEST(PortArgument, HostThenPortBytes) {
    EXPECT_EQ(port_argument(Ipv4{10, 77, 25, 130}, Port{6379}), "10,77,25,130,24,235");
    EXPECT_EQ(port_argument(Ipv4{192, 0, 2, 1}, Port{21}), "192,0,2,1,0,21");
    // RFC 2428 2: net-prt 2, the IPv6 text form (RFC 5952), the port in decimal, "|" around each.
    EXPECT_EQ(eprt_argument(Ipv6{0, 1}, Port{65535}), "|2|::1|65535|");
    EXPECT_EQ(eprt_argument(*Ipv6::parse("fd77:75:5::2"), Port{21}), "|2|fd77:75:5::2|21|");
}

// Plays a dialog against scripted exchanges: each one what the server said (and how the
// connection ended) for the step the dialog asked for last.
class Script {
public:
    explicit Script(std::vector<Port> ports, std::string server = "10.0.0.5:2121")
        : dialog_(*parse_bounce_server(server), Ipv4{10, 0, 0, 9}, std::move(ports), BounceTimeouts{},
                  [this](const BounceVerdict& v) { verdicts.push_back(v); }) {
        steps.push_back(dialog_.start());
    }
    // The server's answer to the last step; returns the dialog's next step.
    const Step& reply(std::string bytes, Ending ending = Ending::open, Micros connected_for = kSecond) {
        Exchange exchange;
        exchange.received = bytes;
        exchange.ending = ending;
        exchange.connected_for = connected_for;
        exchange.elapsed = 2 * kMillisecond;
        steps.push_back(dialog_.next(exchange));
        return steps.back();
    }
    const Step& timeout() { return reply({}, Ending::open); }
    const Step& login() {
        reply("220 ready\r\n");
        reply("331 password?\r\n");
        return reply("230 in\r\n");
    }
    BounceDialog& dialog() { return dialog_; }
    std::vector<BounceVerdict> verdicts;
    std::vector<Step> steps;

private:
    BounceDialog dialog_;
};

TEST(BounceDialog, LogsInThenPortAndListPerPort) {
    Script s{{Port{22}, Port{81}, Port{6379}}};
    EXPECT_EQ(s.steps[0].link, Link::plain);
    EXPECT_TRUE(s.steps[0].payload.empty());
    EXPECT_EQ(s.reply("220-pyftpdlib\r\n220 ready.\r\n").payload, "USER anonymous\r\n");
    EXPECT_EQ(s.reply("331 Username ok, send password.\r\n").payload, "PASS -wwwuser@\r\n");
    EXPECT_EQ(s.reply("230 Login successful.\r\n").payload, "PORT 10,0,0,9,0,22\r\n");
    EXPECT_EQ(s.reply("200 Active data connection established.\r\n").payload, "LIST\r\n");
    EXPECT_EQ(s.reply("125 Data connection already open. Transfer starting.\r\n226 Transfer complete.\r\n").payload,
              "PORT 10,0,0,9,0,81\r\n");
    EXPECT_EQ(s.reply("425 Can't connect to specified address.\r\n").payload, "PORT 10,0,0,9,24,235\r\n");
    EXPECT_EQ(s.reply("200 PORT command successful.\r\n").payload, "LIST\r\n");
    EXPECT_EQ(s.reply("150 Here comes the directory listing.\r\n226 Directory send OK.\r\n").payload, "QUIT\r\n");
    EXPECT_TRUE(s.reply("221 Goodbye.\r\n").done);
    ASSERT_EQ(s.verdicts.size(), 3u);
    EXPECT_EQ(s.verdicts[0].outcome, BounceOutcome::transferred);
    EXPECT_EQ(s.verdicts[1].outcome, BounceOutcome::cannot_connect);
    EXPECT_EQ(s.verdicts[1].reply, "425 Can't connect to specified address.");
    EXPECT_EQ(s.verdicts[2].outcome, BounceOutcome::transferred);
    EXPECT_TRUE(s.dialog().bounced());
    EXPECT_FALSE(s.dialog().failure());
    for (std::size_t i = 1; i + 1 < s.steps.size(); ++i) EXPECT_EQ(s.steps[i].link, Link::reuse);
}

TEST(BounceDialog, WaitsForTheFinalReplyAfter150) {
    Script s{{Port{80}}};
    s.login();
    s.reply("200 ok\r\n");
    EXPECT_FALSE(s.dialog().enough("150 Opening data connection.\r\n"));
    EXPECT_TRUE(s.dialog().enough("150 Opening data connection.\r\n425 Failed to establish connection.\r\n"));
    s.reply("150 Opening data connection.\r\n425 Failed to establish connection.\r\n");
    ASSERT_EQ(s.verdicts.size(), 1u);
    EXPECT_EQ(s.verdicts[0].outcome, BounceOutcome::cannot_connect);  // 150 came before the connect() failed
}

TEST(BounceDialog, UserAloneCanLogIn) {
    Script s{{Port{80}}};
    s.reply("220 ready\r\n");
    EXPECT_EQ(s.reply("230 no password needed\r\n").payload, "PORT 10,0,0,9,0,80\r\n");
}

TEST(BounceDialog, VsftpdRefusalEndsTheScan) {
    Script s{{Port{21}, Port{22}, Port{6379}}, "10.0.0.5"};
    s.login();
    EXPECT_EQ(s.reply("500 Illegal PORT command.\r\n").payload, "PORT 10,0,0,9,24,235\r\n");  // privileged: skipped
    EXPECT_TRUE(s.reply("500 Illegal PORT command.\r\n").done);
    ASSERT_TRUE(s.dialog().failure());
    EXPECT_EQ(s.dialog().failure()->kind, BounceFailure::Kind::refused_port);
    EXPECT_NE(s.dialog().failure()->message.find("500 Illegal PORT command."), std::string::npos);
    EXPECT_NE(s.dialog().failure()->message.find("third address"), std::string::npos);
    EXPECT_TRUE(s.verdicts.empty());
}

TEST(BounceDialog, OnlyPrivilegedPortsRefusedIsAFailure) {
    Script s{{Port{21}, Port{22}}};
    s.login();
    EXPECT_TRUE(s.reply("500 Illegal PORT command.\r\n").done);
    ASSERT_TRUE(s.dialog().failure());
    EXPECT_NE(s.dialog().failure()->message.find("privileged"), std::string::npos);
}

TEST(BounceDialog, PrivilegedRefusalSkipsThemAndGoesOn) {
    Script s{{Port{22}, Port{80}, Port{8080}}};
    s.login();
    EXPECT_EQ(s.reply("501 No privileged ports.\r\n").payload, "PORT 10,0,0,9,31,144\r\n");
    s.reply("200 ok\r\n");
    s.reply("150 ok\r\n226 done\r\n");
    EXPECT_FALSE(s.dialog().failure());
    EXPECT_EQ(s.dialog().privileged_refusal(), "501 No privileged ports.");
    ASSERT_EQ(s.verdicts.size(), 1u);
    EXPECT_EQ(s.verdicts[0].port, Port{8080});
}

TEST(BounceDialog, BadLoginIsOneLine) {
    Script s{{Port{22}}, "bob:wrong@10.0.0.5:2121"};
    s.reply("220 ready\r\n");
    EXPECT_EQ(s.reply("331 password?\r\n").payload, "PASS wrong\r\n");
    EXPECT_TRUE(s.reply("530 Authentication failed.\r\n").done);
    ASSERT_TRUE(s.dialog().failure());
    EXPECT_EQ(s.dialog().failure()->kind, BounceFailure::Kind::login);
    EXPECT_EQ(s.dialog().failure()->message.find('\n'), std::string::npos);
    EXPECT_EQ(s.dialog().failure()->message.find("wrong"), std::string::npos);  // the password is not echoed
}

TEST(BounceDialog, UnreachableServer) {
    Script s{{Port{22}}};
    EXPECT_TRUE(s.reply({}, Ending::refused, -1).done);
    ASSERT_TRUE(s.dialog().failure());
    EXPECT_EQ(s.dialog().failure()->kind, BounceFailure::Kind::unreachable);
    EXPECT_NE(s.dialog().failure()->message.find("connection refused"), std::string::npos);
}

TEST(BounceDialog, SilentGreetingFails) {
    Script s{{Port{22}}};
    EXPECT_TRUE(s.timeout().done);
    ASSERT_TRUE(s.dialog().failure());
    EXPECT_NE(s.dialog().failure()->message.find("greeting"), std::string::npos);
}

TEST(BounceDialog, ListTimeoutIsFilteredAndLogsInAgain) {
    Script s{{Port{22}, Port{23}}};
    s.login();
    s.reply("200 ok\r\n");
    const Step& again = s.timeout();  // no reply to LIST at all
    EXPECT_EQ(again.link, Link::plain);
    ASSERT_EQ(s.verdicts.size(), 1u);
    EXPECT_EQ(s.verdicts[0].outcome, BounceOutcome::timed_out);
    EXPECT_EQ(s.login().payload, "PORT 10,0,0,9,0,23\r\n");
    EXPECT_EQ(s.dialog().reconnections(), 1u);
}

TEST(BounceDialog, PortTimeoutIsFiltered) {
    Script s{{Port{22}}};
    s.login();
    EXPECT_EQ(s.timeout().link, Link::plain);  // pyftpdlib connects before it answers PORT
    ASSERT_EQ(s.verdicts.size(), 1u);
    EXPECT_EQ(s.verdicts[0].outcome, BounceOutcome::timed_out);
}

TEST(BounceDialog, A125WithoutItsResultIsStillOpen) {
    Script s{{Port{2121}, Port{23}}};
    s.login();
    s.reply("200 Active data connection established.\r\n");
    const Step& again = s.reply("125 Data connection already open. Transfer starting.\r\n");  // then the wait ran out
    EXPECT_EQ(again.link, Link::plain);  // the session still waits for LIST's result: a new one
    ASSERT_EQ(s.verdicts.size(), 1u);
    EXPECT_EQ(s.verdicts[0].outcome, BounceOutcome::transferred);
    EXPECT_EQ(s.verdicts[0].reply, "125 Data connection already open. Transfer starting.");
}

TEST(BounceDialog, CloseMidScanReconnectsOnceAndAsksThePortAgain) {
    Script s{{Port{22}, Port{23}}};
    s.login();
    EXPECT_EQ(s.reply({}, Ending::peer_closed).link, Link::plain);
    EXPECT_EQ(s.login().payload, "PORT 10,0,0,9,0,22\r\n");
    EXPECT_EQ(s.reply("421 Timeout.\r\n", Ending::peer_closed).done, true);  // closed again, nothing decided since
    ASSERT_TRUE(s.dialog().failure());
    EXPECT_EQ(s.dialog().failure()->kind, BounceFailure::Kind::closed);
}

TEST(BounceDialog, ReplyThenCloseStillCounts) {
    Script s{{Port{22}, Port{23}}};
    s.login();
    const Step& again = s.reply("425 Can't open data connection.\r\n", Ending::peer_closed);
    ASSERT_EQ(s.verdicts.size(), 1u);  // the reply decided port 22
    EXPECT_EQ(again.link, Link::plain);  // then a new session for port 23
}

TEST(BounceDialog, NotFtpIsAProtocolFailure) {
    Script s{{Port{22}}};
    EXPECT_TRUE(s.dialog().enough("SSH-2.0-OpenSSH_9.2\r\n"));
    EXPECT_TRUE(s.reply("SSH-2.0-OpenSSH_9.2\r\n").done);
    ASSERT_TRUE(s.dialog().failure());
    EXPECT_EQ(s.dialog().failure()->kind, BounceFailure::Kind::protocol);
}

TEST(BounceEvidence, ReadsThroughTheKindsRows) {
    const ProbeKind& kind = ftp_bounce_kind();
    const std::pair<BounceOutcome, PortState> cases[] = {{BounceOutcome::transferred, PortState::open},
                                                         {BounceOutcome::cannot_connect, PortState::closed},
                                                         {BounceOutcome::timed_out, PortState::filtered}};
    for (const auto& [outcome, state] : cases) {
        const Rule* rule = match_rule(kind, bounce_evidence(outcome));
        ASSERT_NE(rule, nullptr);
        EXPECT_EQ(rule->state, state);
    }
    EXPECT_EQ(to_string(match_rule(kind, bounce_evidence(BounceOutcome::transferred))->reason), "ftp-transfer");
    EXPECT_EQ(to_string(match_rule(kind, bounce_evidence(BounceOutcome::cannot_connect))->reason), "ftp-cant-connect");
}

}  // namespace
}  // namespace flagscan

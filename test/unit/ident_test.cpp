// Ident (RFC 1413): the query, the reply parser (the RFC's examples, white space, EOLs, bad and oversized replies), the dialogs.
#include <gtest/gtest.h>

#include <string>

#include "flagscan/cli/options.hpp"
#include "flagscan/service/ident.hpp"

namespace flagscan {
namespace {

IdentReply reply(std::string_view bytes) { return parse_ident_reply(bytes, Port{22}, Port{45678}); }

TEST(IdentQuery, PortOnServerThenPortOnClient) {
    EXPECT_EQ(ident_query(Port{22}, Port{45678}), "22 , 45678\r\n");
    EXPECT_EQ(ident_query(Port{6193}, Port{23}), "6193 , 23\r\n");
}

// RFC 1413 section 7's examples.
TEST(IdentReply, TheRfcExamples) {
    const IdentReply user = parse_ident_reply("6193, 23 : USERID : UNIX : stjohns\r\n", Port{6193}, Port{23});
    EXPECT_EQ(user.status, IdentStatus::user);
    EXPECT_EQ(user.opsys, "UNIX");
    EXPECT_EQ(user.charset, "");
    EXPECT_EQ(user.user, "stjohns");
    const IdentReply error = parse_ident_reply("6195, 23 : ERROR : NO-USER\r\n", Port{6195}, Port{23});
    EXPECT_EQ(error.status, IdentStatus::error);
    EXPECT_EQ(error.error, "NO-USER");
}

// What oidentd and pidentd send, and the other error types.
TEST(IdentReply, WhatDaemonsSend) {
    EXPECT_EQ(reply("22 , 45678 : USERID : UNIX : root\r\n").user, "root");
    EXPECT_EQ(reply("22,45678:USERID:UNIX:www-data\r\n").user, "www-data");
    for (const char* error : {"HIDDEN-USER", "INVALID-PORT", "UNKNOWN-ERROR", "X-OUR-OWN"}) {
        const IdentReply r = reply(std::string("22 , 45678 : ERROR : ") + error + "\r\n");
        EXPECT_EQ(r.status, IdentStatus::error) << error;
        EXPECT_EQ(r.error, error);
    }
}

TEST(IdentReply, CharsetAndAUserIdThatHoldsColonsAndSpaces) {
    const IdentReply r = reply("22 , 45678 : USERID : OTHER , US-ASCII : a:b c\r\n");
    EXPECT_EQ(r.status, IdentStatus::user);
    EXPECT_EQ(r.opsys, "OTHER");
    EXPECT_EQ(r.charset, "US-ASCII");
    EXPECT_EQ(r.user, "a:b c");  // everything after the opsys field's colon (RFC 1413 6, note 1)
}

// RFC 1413 6, note 1: white space anywhere but within a token; the types in any case.
TEST(IdentReply, WhiteSpaceAndCase) {
    const IdentReply r = reply("  22\t,  45678  :\tuserid :  UNIX  :   root  \r\n");
    EXPECT_EQ(r.status, IdentStatus::user);
    EXPECT_EQ(r.user, "root");
    EXPECT_EQ(reply("22,45678 : Error : NO-USER\r\n").status, IdentStatus::error);
}

TEST(IdentReply, EveryEndOfLine) {
    for (const char* eol : {"\r\n", "\n", "\r", "", "\n\r"}) {
        const IdentReply r = reply(std::string("22 , 45678 : USERID : UNIX : root") + eol);
        EXPECT_EQ(r.status, IdentStatus::user) << "eol " << testing::PrintToString(eol);
        EXPECT_EQ(r.user, "root");
    }
    // Only the first line counts: what follows it is not the user id.
    EXPECT_EQ(reply("22 , 45678 : USERID : UNIX : root\r\n22 , 45678 : USERID : UNIX : evil\r\n").user, "root");
    EXPECT_EQ(reply("22 , 45678 : USERID : UNIX : ro\not\r\n").user, "ro");
}

TEST(IdentReply, ABadReplyIsMalformed) {
    for (const char* bad : {"", "\r\n", "garbage\r\n", "22 , 45678\r\n", "22 , 45678 : USERID\r\n",
                            "22 , 45678 : USERID : UNIX\r\n", "22 , 45678 : USERID : UNIX :   \r\n",
                            "22 45678 : USERID : UNIX : root\r\n", "22 , x : USERID : UNIX : root\r\n",
                            ", 45678 : USERID : UNIX : root\r\n", "22 , : USERID : UNIX : root\r\n",
                            "99999 , 45678 : USERID : UNIX : root\r\n", "000022 , 45678 : USERID : UNIX : root\r\n",
                            "-22 , 45678 : USERID : UNIX : root\r\n", "22 , 45678 : WHO : UNIX : root\r\n",
                            "22 , 45678 : : UNIX : root\r\n", "22 , 45678 : USERID : : root\r\n",
                            "22 , 45678 : USERID : UN IX : root\r\n", "22 , 45678 : USERID : UNIX, : root\r\n",
                            "22 , 45678 : ERROR : NO USER\r\n", "22 , 45678 : ERROR : \r\n",
                            "22 , 45678 : ERROR : NO-USER : more\r\n", "22 , 45678 : ERROR\r\n"}) {
        EXPECT_EQ(reply(bad).status, IdentStatus::malformed) << testing::PrintToString(std::string(bad));
    }
}

TEST(IdentReply, ANulByteIsMalformed) {
    std::string nul = "22 , 45678 : USERID : UNIX : ro";
    nul += '\0';
    nul += "ot\r\n";
    EXPECT_EQ(reply(nul).status, IdentStatus::malformed);
}

// Tokens are at most 64 characters; a line over 1000 (RFC 1413 6, note 2) is never a reply; a
// client must accept at least 512 octets of user id (note 3).
TEST(IdentReply, Oversized) {
    EXPECT_EQ(reply("22 , 45678 : USERID : " + std::string(65, 'U') + " : root\r\n").status, IdentStatus::malformed);
    EXPECT_EQ(reply("22 , 45678 : USERID : " + std::string(64, 'U') + " : root\r\n").status, IdentStatus::user);
    EXPECT_EQ(reply("22 , 45678 : ERROR : X" + std::string(64, 'E') + "\r\n").status, IdentStatus::malformed);
    const IdentReply long_user = reply("22 , 45678 : USERID : UNIX : " + std::string(512, 'u') + "\r\n");
    EXPECT_EQ(long_user.status, IdentStatus::user);
    EXPECT_EQ(long_user.user.size(), 512u);
    EXPECT_EQ(reply("22 , 45678 : USERID : UNIX : " + std::string(1000, 'u') + "\r\n").status, IdentStatus::malformed);
    EXPECT_EQ(reply(std::string(100000, '2')).status, IdentStatus::malformed);
}

// A reply about another connection than the one asked of is not believed.
TEST(IdentReply, PortsThatDoNotMatch) {
    EXPECT_EQ(reply("22 , 45679 : USERID : UNIX : root\r\n").status, IdentStatus::wrong_ports);
    EXPECT_EQ(reply("45678 , 22 : USERID : UNIX : root\r\n").status, IdentStatus::wrong_ports);
    EXPECT_EQ(reply("80 , 45678 : ERROR : NO-USER\r\n").status, IdentStatus::wrong_ports);
    EXPECT_EQ(reply("00022 , 45678 : USERID : UNIX : root\r\n").status, IdentStatus::user);  // 5 digits, the same port
}

TEST(IdentReply, CompleteAtAnEolOrPastTheLimit) {
    EXPECT_FALSE(ident_reply_complete(""));
    EXPECT_FALSE(ident_reply_complete("22 , 45678 : USERID : UN"));
    EXPECT_TRUE(ident_reply_complete("22 , 45678 : ERROR : NO-USER\r"));
    EXPECT_TRUE(ident_reply_complete("22 , 45678 : ERROR : NO-USER\n"));
    EXPECT_FALSE(ident_reply_complete(std::string(kIdentMaxLine, 'x')));
    EXPECT_TRUE(ident_reply_complete(std::string(kIdentMaxLine + 1, 'x')));
}

TEST(IdentReply, Described) {
    EXPECT_EQ(describe(reply("22,45678:USERID:UNIX:root\r\n")), "USERID root");
    EXPECT_EQ(describe(reply("22,45678:ERROR:HIDDEN-USER\r\n")), "ERROR HIDDEN-USER");
    EXPECT_EQ(describe(reply("22,1:ERROR:HIDDEN-USER\r\n")), "a reply about other ports");
    EXPECT_EQ(describe(reply("?")), "a malformed reply");
}

Exchange answer(std::string_view received, Ending ending = Ending::open) {
    Exchange exchange;
    exchange.received = received;
    exchange.ending = ending;
    exchange.wait_end = WaitEnd::enough;
    return exchange;
}

TEST(IdentHold, HoldsUntilReleasedOrLost) {
    IdentHoldDialog hold{10 * kSecond};
    const Step first = hold.start();
    EXPECT_EQ(first.link, Link::plain);
    EXPECT_TRUE(first.payload.empty());
    EXPECT_FALSE(hold.local_port());
    hold.connected(LocalEnd{Ipv4{10, 0, 0, 1}, Port{45678}});
    EXPECT_EQ(hold.local_port(), Port{45678});
    const Step again = hold.next(answer("SSH-2.0-OpenSSH_9.2p1\r\n"));  // a banner: dropped, still held
    EXPECT_FALSE(again.done);
    EXPECT_EQ(again.link, Link::reuse);
    hold.release();
    Exchange cut;
    cut.wait_end = WaitEnd::cut;
    EXPECT_TRUE(hold.next(cut).done);
    EXPECT_TRUE(hold.done());
    EXPECT_FALSE(hold.lost());

    IdentHoldDialog wrapped{10 * kSecond};
    wrapped.start();
    EXPECT_TRUE(wrapped.next(answer("", Ending::peer_closed)).done);
    EXPECT_TRUE(wrapped.lost());
    EXPECT_EQ(wrapped.ending(), Ending::peer_closed);
}

struct QueryFixture : ::testing::Test {
    IdentSettings settings;
    IdentHoldDialog hold{10 * kSecond};
    IdentQueryDialog query{Port{22}, Port{45678}, hold, settings};
};

TEST_F(QueryFixture, AUserIsTheOwner) {
    const Step first = query.start();
    EXPECT_EQ(first.link, Link::plain);
    EXPECT_EQ(first.payload, "22 , 45678\r\n");
    EXPECT_EQ(first.wait, settings.reply_wait);
    EXPECT_FALSE(query.enough("22 , 45678 : USERID"));
    EXPECT_TRUE(query.enough("22 , 45678 : USERID : UNIX : root\r\n"));
    EXPECT_TRUE(query.next(answer("22 , 45678 : USERID : UNIX : root\r\n")).done);
    EXPECT_TRUE(query.done());
    EXPECT_EQ(query.owner(), "root");
}

// oidentd's NO-USER for a connection not accept()ed yet: asked again after a delay that doubles, until the tries run out.
TEST_F(QueryFixture, NoUserIsAskedAgainAfterADelay) {
    query.start();
    for (int i = 1; i < settings.tries; ++i) {
        const Step delay = query.next(answer("22 , 45678 : ERROR : NO-USER\r\n", Ending::peer_closed));
        ASSERT_FALSE(delay.done);
        EXPECT_TRUE(delay.payload.empty());
        EXPECT_EQ(delay.wait, settings.retry_delay << (i - 1));
        const Step again = query.next(answer(""));  // the delay ran out
        ASSERT_FALSE(again.done);
        EXPECT_EQ(again.link, Link::reuse);
        EXPECT_EQ(again.payload, "22 , 45678\r\n");
    }
    EXPECT_TRUE(query.next(answer("22 , 45678 : ERROR : NO-USER\r\n")).done);
    EXPECT_FALSE(query.owner());
    EXPECT_EQ(query.tries(), settings.tries);
    EXPECT_EQ(query.why_not(), "identd said ERROR NO-USER (6 tries)");
}

TEST_F(QueryFixture, NoUserOnceTheHoldIsGoneIsFinal) {
    hold.start();
    hold.next(answer("", Ending::reset));
    query.start();
    EXPECT_TRUE(query.next(answer("22 , 45678 : ERROR : NO-USER\r\n")).done);
    EXPECT_EQ(query.why_not(), "identd said ERROR NO-USER (the connection to the port had ended: reset)");
}

TEST_F(QueryFixture, OtherAnswersAreFinal) {
    query.start();
    EXPECT_TRUE(query.next(answer("22 , 45678 : ERROR : HIDDEN-USER\r\n")).done);
    EXPECT_EQ(query.why_not(), "identd said ERROR HIDDEN-USER");
    IdentQueryDialog other{Port{22}, Port{45678}, hold, settings};
    other.start();
    EXPECT_TRUE(other.next(answer("22 , 1 : USERID : UNIX : root\r\n")).done);
    EXPECT_FALSE(other.owner());
    EXPECT_EQ(other.why_not(), "identd said a reply about other ports");
}

TEST_F(QueryFixture, NoIdentdOrNoAnswer) {
    query.start();
    EXPECT_TRUE(query.next(answer("", Ending::refused)).done);
    EXPECT_EQ(query.why_not(), "no connection to identd on 113 (refused)");
    IdentQueryDialog silent{Port{22}, Port{45678}, hold, settings};
    silent.start();
    EXPECT_TRUE(silent.next(answer("")).done);
    EXPECT_EQ(silent.why_not(), "identd did not answer within 3000 ms");
    IdentQueryDialog closed{Port{22}, Port{45678}, hold, settings};
    closed.start();
    EXPECT_TRUE(closed.next(answer("", Ending::peer_closed)).done);
    EXPECT_EQ(closed.why_not(), "identd closed the connection without a reply");
}

Result<CommandLine> parse(std::vector<std::string> args) {
    std::vector<const char*> argv{"flagscan"};
    for (const auto& arg : args) argv.push_back(arg.c_str());
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(IdentOption, ShortAndLongForm) {
    for (const char* flag : {"-I", "--ident"}) {
        const auto line = parse({"-sT", flag, "-p", "22", "10.0.0.1"});
        ASSERT_TRUE(line) << line.error();
        EXPECT_TRUE(line->config.ident);
    }
    const auto without = parse({"-sT", "-p", "22", "10.0.0.1"});
    ASSERT_TRUE(without);
    EXPECT_FALSE(without->config.ident);
    const auto with_sv = parse({"-sS", "-sV", "-I", "10.0.0.1"});
    ASSERT_TRUE(with_sv) << with_sv.error();
    EXPECT_TRUE(with_sv->config.ident && with_sv->config.version_detection);
}

TEST(IdentOption, NeedsATcpPortScan) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"-I", "-sn", "10.0.0.1"},
                                                                  {"-I", "-sL", "10.0.0.1"},
                                                                  {"-I", "--replay", "x.pcap"},
                                                                  {"-I", "-sU", "10.0.0.1"}}) {
        const auto line = parse(args);
        ASSERT_FALSE(line) << testing::PrintToString(args);
        EXPECT_NE(line.error().find("-I"), std::string::npos) << line.error();
    }
}

}  // namespace
}  // namespace flagscan

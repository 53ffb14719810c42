// Unit tests for ServiceMatcher and VersionTemplate: banners -> service/product/version, helpers, bounded matching.
#include "flagscan/service/matcher.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "flagscan/net/text.hpp"
#include "flagscan/service/load.hpp"

namespace flagscan {
namespace {

using namespace std::string_literals;

constexpr const char* nmap_probes_path = "/usr/share/nmap/nmap-service-probes";

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The db of one probe holding one match line; the match of `answer` against it.
std::optional<ServiceMatch> match_one(const std::string& rule, const std::string& answer) {
    Result<ServiceProbeDb> db = ServiceProbeDb::parse("Probe TCP NULL q||\n" + rule + "\n", "t");
    EXPECT_TRUE(db.ok()) << db.error();
    if (!db) return std::nullopt;
    ServiceMatcher matcher(*db);
    return matcher.match(0, bytes(answer));
}

class InstalledDb : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        const std::optional<std::string> text = read_text_file(nmap_probes_path);
        if (!text) return;
        Result<ServiceProbeDb> parsed = ServiceProbeDb::parse(*text, nmap_probes_path);
        ASSERT_TRUE(parsed.ok()) << parsed.error();
        db_ = new ServiceProbeDb(std::move(parsed).value());
    }
    static void TearDownTestSuite() {
        delete db_;
        db_ = nullptr;
    }
    void SetUp() override {
        if (db_ == nullptr) GTEST_SKIP() << nmap_probes_path << " is not installed";
    }
    std::optional<ServiceMatch> answer_to(const std::string& probe, const std::string& answer) const {
        const std::optional<std::size_t> index = db_->find(probe, Protocol::tcp);
        EXPECT_TRUE(index) << probe;
        if (!index) return std::nullopt;
        ServiceMatcher matcher(*db_);
        return matcher.match(*index, bytes(answer));
    }
    static ServiceProbeDb* db_;  // NOLINT: one parse for the suite (GoogleTest's shared resource idiom)
};
ServiceProbeDb* InstalledDb::db_ = nullptr;

const std::string openssh_banner = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
const std::string vsftpd_banner = "220 (vsFTPd 3.0.3)\r\n";
const std::string nginx_answer =
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    "Content-Type: text/html\r\nContent-Length: 615\r\nConnection: close\r\n\r\n<!DOCTYPE html>\n<html>";
const std::string redis_get_answer = "-ERR wrong number of arguments for 'get' command\r\n";

TEST_F(InstalledDb, OpenSshOnDebianAsNmapReportsIt) {
    const std::optional<ServiceMatch> m = answer_to("NULL", openssh_banner);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->service, "ssh");
    EXPECT_EQ(m->product, "OpenSSH");
    EXPECT_EQ(m->version, "9.2p1 Debian 2+deb12u3");
    EXPECT_EQ(m->extrainfo, "protocol 2.0");
    EXPECT_EQ(m->ostype, "Linux");
    EXPECT_FALSE(m->soft);
    EXPECT_EQ(m->cpe, (std::vector<std::string>{"cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel"}));
}

TEST_F(InstalledDb, VsftpdNginxRedis) {
    const std::optional<ServiceMatch> ftp = answer_to("NULL", vsftpd_banner);
    ASSERT_TRUE(ftp);
    EXPECT_EQ(ftp->service, "ftp");
    EXPECT_EQ(ftp->product, "vsftpd");
    EXPECT_EQ(ftp->version, "3.0.3");
    EXPECT_EQ(ftp->cpe, (std::vector<std::string>{"cpe:/a:vsftpd:vsftpd:3.0.3"}));

    const std::optional<ServiceMatch> http = answer_to("GetRequest", nginx_answer);
    ASSERT_TRUE(http);
    EXPECT_EQ(http->service, "http");
    EXPECT_EQ(http->product, "nginx");
    EXPECT_EQ(http->version, "1.22.1");

    // HTTPOptions' answer is matched against GetRequest's rules too (its fallback).
    const std::optional<ServiceMatch> options = answer_to("HTTPOptions", nginx_answer);
    ASSERT_TRUE(options);
    EXPECT_EQ(options->product, "nginx");

    const std::optional<ServiceMatch> redis = answer_to("GetRequest", redis_get_answer);
    ASSERT_TRUE(redis);
    EXPECT_EQ(redis->service, "redis");
    EXPECT_EQ(redis->product, "Redis key-value store");

    // A banner answer to a later probe still matches through the NULL probe's rules.
    const std::optional<ServiceMatch> late = answer_to("GenericLines", openssh_banner);
    ASSERT_TRUE(late);
    EXPECT_EQ(late->service, "ssh");
    EXPECT_EQ(late->probe, *db_->null_probe());
}

TEST_F(InstalledDb, NothingMatchesNoise) {
    EXPECT_FALSE(answer_to("NULL", "\x01\x02\x03 not a banner at all"s));
}

TEST(BuiltinProbes, SameBannersSameAnswers) {
    Result<ServiceProbeDb> db = builtin_service_probes();
    ASSERT_TRUE(db.ok()) << db.error();
    ServiceMatcher matcher(*db);
    const std::size_t null = *db->null_probe();
    const std::size_t get = *db->find("GetRequest", Protocol::tcp);

    std::optional<ServiceMatch> m = matcher.match(null, bytes(openssh_banner));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->service, "ssh");
    EXPECT_EQ(m->product, "OpenSSH");
    EXPECT_EQ(m->version, "9.2p1 Debian 2+deb12u3");
    EXPECT_EQ(m->extrainfo, "protocol 2.0");

    m = matcher.match(null, bytes(vsftpd_banner));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->service, "ftp");
    EXPECT_EQ(m->product, "vsftpd");
    EXPECT_EQ(m->version, "3.0.3");

    m = matcher.match(get, bytes(nginx_answer));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->service, "http");
    EXPECT_EQ(m->product, "nginx");
    EXPECT_EQ(m->version, "1.22.1");

    m = matcher.match(get, bytes("HTTP/1.1 200 OK\r\nServer: Apache/2.4.57 (Debian)\r\n\r\n"s));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->product, "Apache httpd");
    EXPECT_EQ(m->version, "2.4.57");
    EXPECT_EQ(m->extrainfo, "(Debian)");

    m = matcher.match(get, bytes(redis_get_answer));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->service, "redis");
    m = matcher.match(*db->find("RedisPing", Protocol::tcp), bytes("+PONG\r\n"s));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->service, "redis");

    struct Banner {
        std::string text, service;
        bool soft;
    };
    for (const Banner& b : {Banner{"220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n", "smtp", false},
                            Banner{"220 mx ESMTP ready\r\n", "smtp", true},
                            Banner{"220 Welcome to the FTP service\r\n", "ftp", true},
                            Banner{"+OK POP3 ready\r\n", "pop3", true},
                            Banner{"* OK IMAP4rev1 ready\r\n", "imap", true},
                            Banner{"\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23", "telnet", false}}) {
        m = matcher.match(null, bytes(b.text));
        ASSERT_TRUE(m) << b.text;
        EXPECT_EQ(m->service, b.service) << b.text;
        EXPECT_EQ(m->soft, b.soft) << b.text;
    }

    // TLS: a ServerHello record, or a handshake_failure alert.
    const std::size_t tls = *db->find("TLSClientHello", Protocol::tcp);
    m = matcher.match(tls, bytes("\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03"s));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->service, "ssl");
    m = matcher.match(tls, bytes("\x15\x03\x01\x00\x02\x02\x28"s));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->service, "ssl");
    EXPECT_FALSE(matcher.match(tls, bytes("HTTP/1.1 400 Bad Request\r\n"s)));
}

TEST(VersionTemplate, SubstitutionAndHelpers) {
    std::optional<ServiceMatch> m = match_one("match x m|^v=(\\d+)\\.(\\d+)(-\\w+)?;| p/X/ v/$1.$2$3/ i/major $1/", "v=3.14;");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->version, "") << "$3 did not take part: nmap leaves the field empty";
    EXPECT_EQ(m->product, "X");
    EXPECT_EQ(m->extrainfo, "major 3");

    m = match_one("match x m|^W(.{9})| h/$P(1)/", "WW\0O\0R\0K\0G"s);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->hostname, "WORKG");

    m = match_one("match x m|^v(\\S+)| v/$SUBST(1,\"_\",\".\")/ cpe:/a:x:y:$SUBST(1,\"_\",\".\")/", "v1_2_3 ");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->version, "1.2.3");
    EXPECT_EQ(m->cpe, (std::vector<std::string>{"cpe:/a:x:y:1.2.3"}));

    m = match_one("match x m|^I(..)(..)|s v/$I(1,\">\").$I(2,\"<\")/", "I\x01\x02\x01\x02"s);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->version, "258.513");

    // $I over more than 8 bytes: the field is left empty (nmap).
    m = match_one("match x m|^I(.{9})|s p/P/ v/$I(1,\">\")/", "I123456789");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->version, "");
    EXPECT_EQ(m->product, "P");

    // Trailing blanks and commas go; CPE values are escaped and lower-cased, literal text kept.
    m = match_one("match x m|^n=([^;]*);| p/$1, / o/Linux/ d/router/ cpe:/o:Vendor:$1/ cpe:/a:x:y/a", "n=Big Box:2;");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->product, "Big Box:2");
    EXPECT_EQ(m->ostype, "Linux");
    EXPECT_EQ(m->devicetype, "router");
    EXPECT_EQ(m->cpe, (std::vector<std::string>{"cpe:/a:x:y", "cpe:/o:Vendor:big_box%3A2"}));

    // Too long for nmap's 80-byte field: left empty.
    m = match_one("match x m|^(a+)$| v/$1/ i/$1/", std::string(100, 'a'));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->version, "");
    EXPECT_EQ(m->extrainfo, std::string(100, 'a'));
}

TEST(ServiceMatcher, FirstMatchingRuleWinsSoftOrHard) {
    const Result<ServiceProbeDb> db = ServiceProbeDb::parse(
        "Probe TCP NULL q||\n"
        "match ssh m|^SSH-| p/null-rule/\n"
        "Probe TCP P q|x|\n"
        "softmatch ftp m|^220|\n"
        "match ftp m|^220 hard| p/never reached/\n",
        "t");
    ASSERT_TRUE(db.ok()) << db.error();
    ServiceMatcher matcher(*db);
    std::optional<ServiceMatch> m = matcher.match(1, bytes("220 hard"s));
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->soft);
    EXPECT_EQ(m->product, "");
    m = matcher.match(1, bytes("SSH-2.0-x"s));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->product, "null-rule");
    EXPECT_EQ(m->probe, 0u);

    ServiceVerdict verdict;
    ServiceMatch soft{"ftp", "", "", "", "", "", "", {}, true, 1, 4};
    ServiceMatch other_soft = soft;
    other_soft.service = "smtp";
    ServiceMatch hard = soft;
    hard.soft = false;
    hard.product = "vsftpd";
    EXPECT_FALSE(verdict.offer(soft));
    EXPECT_FALSE(verdict.offer(other_soft));
    EXPECT_EQ(verdict.best()->service, "ftp");
    EXPECT_TRUE(verdict.offer(hard));
    EXPECT_TRUE(verdict.settled());
    EXPECT_EQ(verdict.best()->product, "vsftpd");
}

TEST(ServiceMatcher, HostileRegexOnHostileInputStaysBounded) {
    // Catastrophic backtracking: (a+)+$ against a's followed by a 'b'. Without limits this
    // takes exponential time; with nmap's limits it is "no match" at once.
    const Result<ServiceProbeDb> db = ServiceProbeDb::parse(
        "Probe TCP NULL q||\nmatch evil m|^(a+)+$|\nmatch evil2 m=^(?:(a|aa)+)+c=\n", "t");
    ASSERT_TRUE(db.ok()) << db.error();
    ServiceMatcher matcher(*db);
    const std::string hostile = std::string(5000, 'a') + "b";
    const auto started = std::chrono::steady_clock::now();
    EXPECT_FALSE(matcher.match(0, bytes(hostile)));
    const std::string big(10 * 1024 * 1024, 'a');  // a 10 MB answer
    EXPECT_FALSE(matcher.match(0, bytes(big + "b")));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_LT(seconds, 2.0);
}

}  // namespace
}  // namespace flagscan

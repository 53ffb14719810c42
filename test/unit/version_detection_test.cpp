// VersionDialog: nmap's probe walk for one port, driven by scripted exchanges (no network).
#include <gtest/gtest.h>

#include <optional>

#include "flagscan/service/load.hpp"
#include "flagscan/service/version_detection.hpp"

namespace flagscan {
namespace {

// nmap's installed file when there is one (Debian's nmap-common), else the built-in set: both
// send GetRequest first to port 80 after the NULL probe.
class VersionDialogTest : public ::testing::Test {
public:
    static void SetUpTestSuite() { loaded_.emplace(std::move(load_service_probes()).value()); }
    static void TearDownTestSuite() { loaded_.reset(); }

protected:
    static const LoadedProbes& probes() { return *loaded_; }

private:
    static inline std::optional<LoadedProbes> loaded_;
};

Exchange answer(std::string_view bytes, Ending ending = Ending::open) {
    Exchange e;
    e.received = bytes;
    e.ending = ending;
    e.elapsed = 100 * kMillisecond;
    e.connected_for = 100 * kMillisecond;
    return e;
}

TEST_F(VersionDialogTest, ABannerOnTheNullProbeSettlesAtOnce) {
    ServiceMatcher matcher{probes().db};
    VersionDialog dialog{probes().db, matcher, Port{22}, 7};
    const Step first = dialog.start();
    EXPECT_FALSE(first.done);
    EXPECT_EQ(first.link, Link::plain);
    EXPECT_TRUE(first.payload.empty()) << "the NULL probe sends nothing";
    const std::string banner = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
    EXPECT_TRUE(dialog.enough(banner)) << "a hard match ends the wait";
    EXPECT_TRUE(dialog.next(answer(banner)).done);
    const auto found = dialog.found();
    ASSERT_TRUE(found);
    EXPECT_EQ(found->name, "ssh");
    EXPECT_EQ(found->product, "OpenSSH");
    EXPECT_EQ(found->method, ServiceMethod::probed);
}

TEST_F(VersionDialogTest, ASilentNullProbeLendsItsConnectionToTheNextProbe) {
    ServiceMatcher matcher{probes().db};
    VersionDialog dialog{probes().db, matcher, Port{80}, 7};
    dialog.start();
    const Step second = dialog.next(answer(""));
    ASSERT_FALSE(second.done);
    EXPECT_EQ(second.link, Link::reuse);
    EXPECT_EQ(second.payload, "GET / HTTP/1.0\r\n\r\n");
    const std::string http = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n\r\n";
    EXPECT_TRUE(dialog.next(answer(http)).done);
    ASSERT_TRUE(dialog.found());
    EXPECT_EQ(dialog.found()->name, "http");
    EXPECT_EQ(dialog.found()->product, "nginx");
}

TEST_F(VersionDialogTest, AcceptedThenClosedWithoutAByteIsTcpwrapped) {
    ServiceMatcher matcher{probes().db};
    VersionDialog dialog{probes().db, matcher, Port{2222}, 7};
    dialog.start();
    Exchange closed = answer("", Ending::peer_closed);
    closed.connected_for = 5 * kMillisecond;
    EXPECT_TRUE(dialog.next(closed).done);
    ASSERT_TRUE(dialog.found());
    EXPECT_TRUE(dialog.found()->tcpwrapped);
}

TEST_F(VersionDialogTest, ARefusedConnectionEndsTheWalkWithNothingFound) {
    ServiceMatcher matcher{probes().db};
    VersionDialog dialog{probes().db, matcher, Port{22}, 7};
    dialog.start();
    EXPECT_TRUE(dialog.next(answer("", Ending::refused)).done);
    EXPECT_FALSE(dialog.found());
}

// dnsmasq's answer to the version.bind CHAOS TXT query: header (id 6, QR AA RD RA), the
// question, one TXT answer "dnsmasq-2.90" (TTL 0) by a pointer to the question's name.
const std::string kDnsmasqAnswer = std::string("\0\x06\x85\x80\0\x01\0\x01\0\0\0\0\x07version\x04" "bind\0\0\x10\0\x03", 30) +
                                   std::string("\xc0\x0c\0\x10\0\x03\0\0\0\0\0\x0d\x0c", 13) + "dnsmasq-2.90";

FingerprintStamp stamp() { return fingerprint_stamp("0.2.0", 7, 0); }

TEST_F(VersionDialogTest, UdpHasNoNullProbeAndAPortUnreachableMovesOnToTheNextProbe) {
    ServiceMatcher matcher{probes().db};
    const FingerprintStamp run = stamp();
    VersionDialog dialog{probes().db, matcher, Port{53}, 7, Protocol::udp, &run};
    const Step first = dialog.start();
    ASSERT_FALSE(first.done);
    EXPECT_EQ(first.link, Link::plain);
    EXPECT_EQ(first.payload.substr(0, 2), std::string("\0\x06", 2)) << "DNSVersionBindReq, the probe for port 53, first";
    const Step second = dialog.next(answer("", Ending::refused));
    EXPECT_FALSE(second.done) << "nmap: ECONNREFUSED on UDP, the next probe";
    EXPECT_EQ(second.link, Link::plain);
    EXPECT_NE(second.payload, first.payload);
    EXPECT_FALSE(dialog.answered());
    EXPECT_FALSE(dialog.found());
    EXPECT_EQ(dialog.fingerprint(), "");
}

TEST_F(VersionDialogTest, UdpDnsmasqIsNamedByItsVersionBindAnswer) {
    ServiceMatcher matcher{probes().db};
    const FingerprintStamp run = stamp();
    VersionDialog dialog{probes().db, matcher, Port{53}, 7, Protocol::udp, &run};
    dialog.start();
    EXPECT_TRUE(dialog.enough(kDnsmasqAnswer));
    EXPECT_TRUE(dialog.next(answer(kDnsmasqAnswer)).done);
    ASSERT_TRUE(dialog.found());
    EXPECT_EQ(dialog.found()->name, "domain");
    EXPECT_EQ(dialog.found()->product, "dnsmasq");
    EXPECT_EQ(dialog.found()->version, "2.90");
    EXPECT_TRUE(dialog.answered());
    EXPECT_EQ(dialog.fingerprint(), "") << "a hard match prints no fingerprint";
}

TEST_F(VersionDialogTest, AnAnswerThatNamesNothingGoesIntoTheFingerprint) {
    ServiceMatcher matcher{probes().db};
    const FingerprintStamp run = stamp();
    VersionDialog dialog{probes().db, matcher, Port{53}, 7, Protocol::udp, &run};
    Step step = dialog.start();
    int probes_sent = 1;
    while (!step.done && probes_sent < 100) {
        step = dialog.next(answer("zz\r\n"));
        probes_sent += step.done ? 0 : 1;
    }
    EXPECT_TRUE(step.done);
    EXPECT_FALSE(dialog.found());
    EXPECT_TRUE(dialog.answered());
    std::string fp = dialog.fingerprint();
    for (std::size_t at = fp.find("\nSF:"); at != std::string::npos; at = fp.find("\nSF:")) fp.erase(at, 4);  // unwrapped
    EXPECT_EQ(fp.rfind("SF-Port53-UDP:V=0.2.0%I=7%D=", 0), 0u) << fp;
    EXPECT_NE(fp.find("%r(DNSVersionBindReq,4,\"zz\\r\\n\")"), std::string::npos) << fp;
    EXPECT_NE(fp.find("%r(NTPRequest,4,"), std::string::npos) << "every probe's answer, not only the first\n" << fp;
    EXPECT_EQ(fp.back(), ';');
}

TEST_F(VersionDialogTest, WithoutAStampNoFingerprintIsKept) {
    ServiceMatcher matcher{probes().db};
    VersionDialog dialog{probes().db, matcher, Port{53}, 7, Protocol::udp};
    dialog.start();
    dialog.next(answer("zz"));
    EXPECT_EQ(dialog.fingerprint(), "");
}

// Without nmap-common: the built-in set names the lab's UDP daemons from their answers.
TEST(VersionDialog, TheBuiltInSetNamesTheLabsUdpDaemons) {
    const Result<ServiceProbeDb> db = builtin_service_probes();
    ASSERT_TRUE(db.ok()) << db.error();
    ServiceMatcher matcher{*db};
    const auto named = [&](Port port, const std::string& reply) {
        VersionDialog dialog{*db, matcher, port, 7, Protocol::udp};
        dialog.start();
        dialog.next(answer(reply));
        return dialog.found();
    };
    const auto dns = named(Port{53}, kDnsmasqAnswer);
    ASSERT_TRUE(dns);
    EXPECT_EQ(dns->name, "domain");
    EXPECT_EQ(dns->product, "dnsmasq");
    EXPECT_EQ(dns->version, "2.90");
    const auto ntp = named(Port{123}, "\xe4" + std::string(47, '\0'));
    ASSERT_TRUE(ntp);
    EXPECT_EQ(ntp->name, "ntp");
    EXPECT_EQ(ntp->extrainfo, "unsynchronized");
    // snmpd's GetResponse: version 1, community public, PDU 0xa2 (sysName "vm").
    const std::string response = std::string("0\x27\x02\x01\0\x04\x06public\xa2\x1a\x02\x04\0\0\0\x01\x02\x01\0\x02\x01\0"
                                             "\x30\x0c\x30\x0a\x06\x08\x2b\x06\x01\x02\x01\x01\x05\0\x04\x02",
                                             43) + "vm";
    const auto snmp = named(Port{161}, response);
    ASSERT_TRUE(snmp);
    EXPECT_EQ(snmp->name, "snmp");
    EXPECT_EQ(snmp->product, "SNMPv1 server");
}

TEST(VersionDialog, FoundCarriesTheMatchFields) {
    ServiceMatch match;
    match.service = "http";
    match.product = "nginx";
    match.version = "1.22.1";
    match.cpe = {"cpe:/a:igor_sysoev:nginx:1.22.1"};
    const ServiceFound found = found_by(match, ServiceTunnel::ssl);
    EXPECT_EQ(found.name, "http");
    EXPECT_EQ(found.version, "1.22.1");
    EXPECT_EQ(found.tunnel, ServiceTunnel::ssl);
    EXPECT_EQ(found.confidence, kConfidenceProbed);
    EXPECT_EQ(found.cpe.size(), 1u);
}

}  // namespace
}  // namespace flagscan

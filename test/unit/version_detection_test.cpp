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

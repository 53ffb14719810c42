// --banners: escaping, the NULL-probe dialog, and the banner in every output.
#include <gtest/gtest.h>

#include <sstream>

#include "flagscan/output/formats.hpp"
#include "flagscan/output/report.hpp"
#include "flagscan/service/banner.hpp"

namespace flagscan {
namespace {

TEST(Banner, PrintableBytesStayControlBytesAreEscaped) {
    EXPECT_EQ(escape_banner("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), "SSH-2.0-OpenSSH_9.2p1 Debian-2\\r\\n");
    EXPECT_EQ(escape_banner(std::string_view{"a\0b\x7f\xff\t\\", 7}), "a\\x00b\\x7f\\xff\\t\\\\");
}

TEST(Banner, AtMostTheBoundIsRead) {
    const std::string flood(10000, 'A');
    EXPECT_EQ(escape_banner(flood).size(), kBannerBytes);
    EXPECT_EQ(escape_banner("abcdef", 3), "abc");
}

TEST(Banner, TheDialogListensOnceAndKeepsTheFirstBytes) {
    BannerDialog dialog{3 * kSecond, 300 * kMillisecond};
    const Step step = dialog.start();
    EXPECT_FALSE(step.done);
    EXPECT_EQ(step.link, Link::plain);
    EXPECT_TRUE(step.payload.empty());  // the NULL probe: nothing sent
    EXPECT_EQ(step.wait, 3 * kSecond);
    EXPECT_EQ(step.quiet, 300 * kMillisecond);
    EXPECT_FALSE(dialog.enough("220 "));
    EXPECT_TRUE(dialog.enough(std::string(kBannerBytes, 'x')));  // all that is kept has come

    const std::string flood(64 * 1024, 'B');
    Exchange exchange;
    exchange.received = flood;
    exchange.wait_end = WaitEnd::bound;
    exchange.connected_for = 10 * kMillisecond;
    EXPECT_TRUE(dialog.next(exchange).done);
    EXPECT_EQ(dialog.banner().size(), kBannerBytes);
    EXPECT_EQ(dialog.ending(), Ending::open);
    EXPECT_FALSE(dialog.tcpwrapped());
}

TEST(Banner, AnAcceptAndCloseIsTcpwrapped) {
    BannerDialog dialog{3 * kSecond, 300 * kMillisecond};
    Exchange exchange;
    exchange.ending = Ending::peer_closed;
    exchange.wait_end = WaitEnd::closed;
    exchange.connected_for = kMillisecond;
    dialog.next(exchange);
    EXPECT_TRUE(dialog.banner().empty());
    EXPECT_TRUE(dialog.tcpwrapped());
}

struct OneOpenPort {
    TargetSet targets{hosts(), {Port{21}, Port{22}}};
    Results results{targets, {&syn_kind()}};
    static AddressSet hosts() {
        AddressSet set;
        set.add(Ipv4{10, 0, 0, 2});
        return set;
    }
    OneOpenPort() {
        PortResult open;
        open.state = PortState::open;
        open.reason = Reason::syn_ack;
        results.set(1, open);
        PortResult closed;
        closed.state = PortState::closed;
        closed.reason = Reason::reset;
        results.set(0, closed);
        results.set_banner(1, escape_banner("SSH-2.0-x \"q\" <&>\r\n"));
    }
};

TEST(Banner, NormalReportShowsItUnderThePort) {
    OneOpenPort f;
    std::ostringstream out;
    write_normal(out, f.results, ServiceTable{}, ReportOptions{}, ScanSummary{});
    EXPECT_NE(out.str().find("22/tcp    open            unknown\n|_banner: SSH-2.0-x \"q\" <&>\\r\\n\n"), std::string::npos)
        << out.str();
}

TEST(Banner, JsonPortObjectCarriesIt) {
    OneOpenPort f;
    std::ostringstream out;
    write_jsonl(out, f.results, ReportOptions{}, ScanSummary{});
    EXPECT_NE(out.str().find(R"("port":22,"proto":"tcp","state":"open","reason":"syn-ack","banner":"SSH-2.0-x \"q\" <&>\\r\\n"})"),
              std::string::npos)
        << out.str();
}

TEST(Banner, XmlHasNmapsBannerScriptElement) {
    OneOpenPort f;
    std::ostringstream out;
    write_xml(out, f.results, ServiceTable{}, ReportOptions{}, ScanSummary{});
    EXPECT_NE(out.str().find(R"(<script id="banner" output="SSH-2.0-x &quot;q&quot; &lt;&amp;&gt;\r\n"/></port>)"),
              std::string::npos)
        << out.str();
}

}  // namespace
}  // namespace flagscan

// -I's owners in every output: the OWNER column (nmap's old -I layout), XML <owner> (nmap.dtd), grepable's owner field, JSON "owner".
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "nmap_formats_fixture.hpp"

namespace flagscan {
namespace {

using testing::ServiceScan;

// The -sV scan of the fixture, -I too: root owns ssh, www-data nginx; 443 and 8080 have no owner.
struct OwnerScan : ServiceScan {
    OwnerScan() {
        results.services().mark_ident_performed();
        results.services().set_owner(index(Port{22}), "root");
        results.services().set_owner(index(Port{80}), "www-data");
    }
};

class Owners : public testing::NmapFormats {};

std::string normal_of(const Results& results, const ReportOptions& options) {
    std::ostringstream out;
    write_normal(out, results, ServiceScan::services(), options, ServiceScan::summary());
    return out.str();
}

TEST_F(Owners, NormalTableHasAnOwnerColumnAfterService) {
    const OwnerScan scan;
    EXPECT_NE(normal_of(scan.results, ReportOptions{}).find(
                  "PORT      STATE           SERVICE         OWNER           VERSION\n"
                  "22/tcp    open            ssh             root            OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)\n"
                  "25/tcp    open            tcpwrapped\n"
                  "80/tcp    open            http            www-data        nginx 1.22.1\n"
                  "443/tcp   open            ssl/http                        nginx 1.22.1\n"
                  "8080/tcp  open            http-proxy?\n"),
              std::string::npos)
        << normal_of(scan.results, ReportOptions{});
}

TEST_F(Owners, WithReasonTheOwnerStaysBesideTheService) {
    const OwnerScan scan;
    ReportOptions options;
    options.reason = true;
    const std::string text = normal_of(scan.results, options);
    EXPECT_NE(text.find("PORT      STATE           SERVICE         OWNER           REASON          VERSION\n"
                        "22/tcp    open            ssh             root            syn-ack ttl 64  OpenSSH"),
              std::string::npos)
        << text;
}

// Without -I the table is as before: no OWNER column, even with an owner stored.
TEST_F(Owners, NoColumnWithoutIdent) {
    ServiceScan scan;
    scan.results.services().set_owner(scan.index(Port{22}), "root");
    const std::string text = normal_of(scan.results, ReportOptions{});
    EXPECT_EQ(text.find("OWNER"), std::string::npos) << text;
    EXPECT_NE(text.find("PORT      STATE           SERVICE         VERSION\n"), std::string::npos) << text;
}

// nmap's grepable port: port/state/proto/owner/service/rpc/version/.
TEST_F(Owners, GrepableOwnerField) {
    OwnerScan scan;
    scan.results.services().set_owner(scan.index(Port{443}), "a/b");
    std::ostringstream out;
    write_grepable(out, scan.results, ServiceScan::services(), ReportOptions{}, ServiceScan::summary());
    EXPECT_NE(out.str().find("Ports: 22/open/tcp/root/ssh//OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)/, "
                             "25/open/tcp//tcpwrapped///, 80/open/tcp/www-data/http//nginx 1.22.1/, "
                             "443/open/tcp/a|b/ssl|http//nginx 1.22.1/, 8080/open/tcp//http-proxy?///\t"),
              std::string::npos)
        << out.str();
}

TEST_F(Owners, JsonOwnerEscaped) {
    OwnerScan scan;
    scan.results.services().set_owner(scan.index(Port{443}), "a\"b\\c");
    std::ostringstream out;
    write_jsonl(out, scan.results, ReportOptions{}, ServiceScan::summary());
    const std::string json = out.str();
    EXPECT_NE(json.find(R"("port":22,"proto":"tcp","state":"open","reason":"syn-ack","ttl":64,"owner":"root","service":{)"),
              std::string::npos)
        << json;
    EXPECT_NE(json.find(R"("port":443,"proto":"tcp","state":"open","reason":"syn-ack","ttl":64,"owner":"a\"b\\c",)"),
              std::string::npos)
        << json;
    EXPECT_EQ(json.find(R"("port":25,"proto":"tcp","state":"open","reason":"syn-ack","ttl":64,"owner")"), std::string::npos)
        << json;
}

// <owner name=...> between <state> and <service> (nmap.dtd: state, owner?, service?, script*),
// escaped, and the document valid against nmap's DTD.
TEST_F(Owners, XmlOwnerElementIsValid) {
    OwnerScan scan;
    scan.results.services().set_owner(scan.index(Port{443}), "<a&\"b\">");
    std::ostringstream out;
    write_xml(out, scan.results, ServiceScan::services(), ReportOptions{}, ServiceScan::summary());
    const std::string xml = out.str();
    EXPECT_NE(xml.find(R"(<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="64"/>)"
                       R"(<owner name="root"/><service name="ssh" product="OpenSSH")"),
              std::string::npos)
        << xml;
    EXPECT_NE(xml.find(R"(<owner name="&lt;a&amp;&quot;b&quot;&gt;"/><service name="http")"), std::string::npos) << xml;
    EXPECT_NE(xml.find(R"(<port protocol="tcp" portid="25"><state state="open" reason="syn-ack" reason_ttl="64"/><service)"),
              std::string::npos)
        << xml;
    testing::expect_valid_against_nmap_dtd(xml, "owners");
}

}  // namespace
}  // namespace flagscan

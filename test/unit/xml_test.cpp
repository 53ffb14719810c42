// nmap's XML output: byte for byte against checked-in files, escaping, and validity against nmap.dtd.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "nmap_formats_fixture.hpp"

namespace flagscan {
namespace {

using testing::NmapFormats;
using testing::PingScan;
using testing::ServiceScan;
using testing::SynUdpScan;

using Xml = NmapFormats;

std::string xml_of(const Results& results, const ReportOptions& options, const ScanSummary& summary) {
    std::ostringstream out;
    write_xml(out, results, testing::fixture_services(), options, summary);
    return out.str();
}

// Not shown as extraports (closed: a reason per protocol, the larger first), listed ports with
// their table service, host reason and name, times from the lowest RTT; the silent host all
// extraports; the command line escaped in the comment and in args.
TEST_F(Xml, SynUdpScanAsExpected) {
    const SynUdpScan scan;
    EXPECT_EQ(xml_of(scan.results, ReportOptions{}, SynUdpScan::summary()), testing::expected_file("syn-udp.xml"));
}

// -sn: no scaninfo, no ports; a host up by its quickest answer; with -v the down host too.
TEST_F(Xml, PingScanAsExpected) {
    const PingScan scan;
    EXPECT_EQ(xml_of(scan.results, ReportOptions{}, PingScan::summary()), testing::expected_file("ping.xml"));
}

// Without -Pn a host that never answered is down: left out, as nmap does, unless -v.
TEST_F(Xml, DownHostsOnlyWithVerbose) {
    const SynUdpScan scan;
    ReportOptions options;
    options.hosts_assumed_up = false;
    ScanSummary summary = SynUdpScan::summary();
    std::ostringstream quiet, verbose;
    write_xml_host(quiet, scan.results, 1, testing::fixture_services(), options, summary);
    EXPECT_EQ(quiet.str(), "");
    summary.verbosity = 1;
    write_xml_host(verbose, scan.results, 1, testing::fixture_services(), options, summary);
    EXPECT_EQ(verbose.str(),
              "<host><status state=\"down\" reason=\"no-response\" reason_ttl=\"0\"/>\n"
              "<address addr=\"10.0.0.3\" addrtype=\"ipv4\"/>\n</host>\n");
    std::ostringstream end;
    write_xml_end(end, scan.results, options, summary);
    EXPECT_NE(end.str().find("<hosts up=\"1\" down=\"1\" total=\"2\"/>"), std::string::npos) << end.str();
}

// The same host written alone (streaming) is the same text as in the whole document.
TEST_F(Xml, HostWrittenAloneAsInTheDocument) {
    const SynUdpScan scan;
    std::ostringstream host;
    write_xml_host(host, scan.results, 0, testing::fixture_services(), ReportOptions{}, SynUdpScan::summary());
    EXPECT_NE(host.str().find("<hostname name=\"gw.lab\" type=\"PTR\"/>"), std::string::npos);
    EXPECT_NE(testing::expected_file("syn-udp.xml").find(host.str()), std::string::npos) << host.str();
}

TEST_F(Xml, EndSaysErrorWithItsMessage) {
    const SynUdpScan scan;
    std::ostringstream end;
    write_xml_end(end, scan.results, ReportOptions{}, SynUdpScan::summary(), false, "cannot write \"x\"");
    EXPECT_EQ(end.str(),
              "<runstats><finished time=\"1796189153\" timestr=\"Wed Dec  2 05:25:53 2026\" summary=\"flagscan done at "
              "Wed Dec  2 05:25:53 2026; 2 IP addresses (2 hosts up) scanned in 2.44 seconds\" elapsed=\"2.44\" "
              "exit=\"error\" errormsg=\"cannot write &quot;x&quot;\"/><hosts up=\"2\" down=\"0\" total=\"2\"/>\n"
              "</runstats>\n</nmaprun>\n");
}

TEST(XmlEscape, EverySpecialCharacter) {
    EXPECT_EQ(xml_escape("plain 10.0.0.1:22"), "plain 10.0.0.1:22");
    EXPECT_EQ(xml_escape("<a&b>\"c'"), "&lt;a&amp;b&gt;&quot;c&apos;");
    EXPECT_EQ(xml_escape("--x---"), "-&#45;x-&#45;&#45;");  // no "--" left for a comment
    EXPECT_EQ(xml_escape("a\tb\nc\r"), "a&#x9;b&#xa;c&#xd;");
    EXPECT_EQ(xml_escape(std::string("nul\0bel\x07", 8)), "nul?bel?");  // XML 1.0 cannot carry these
    EXPECT_EQ(xml_escape("caf\xc3\xa9"), "caf&#xc3;&#xa9;");
}

TEST_F(Xml, HostNameIsEscaped) {
    const SynUdpScan scan;
    ScanSummary summary = SynUdpScan::summary();
    summary.host_names = {"x\"><evil a='1'>", ""};
    std::ostringstream host;
    write_xml_host(host, scan.results, 0, testing::fixture_services(), ReportOptions{}, summary);
    EXPECT_NE(host.str().find("<hostname name=\"x&quot;&gt;&lt;evil a=&apos;1&apos;&gt;\" type=\"PTR\"/>"),
              std::string::npos)
        << host.str();
}

TEST(NmapFormatPieces, ScanTypesAreNmapNames) {
    std::vector<std::string_view> types;
    for (const ProbeKind& kind : all_probe_kinds()) types.push_back(nmap_scan_type(kind));
    EXPECT_EQ(types, (std::vector<std::string_view>{"syn", "fin", "null", "xmas", "ack", "window", "maimon"}));
    EXPECT_EQ(nmap_scan_type(connect_kind()), "connect");
    EXPECT_EQ(nmap_scan_type(udp_kind()), "udp");
    const ProbeKind* fin = probe_kind_by_letter('F');
    ASSERT_NE(fin, nullptr);
    EXPECT_EQ(nmap_scan_type(custom_flags_kind(TcpFlags{TcpFlags::fin | TcpFlags::urg}, *fin)), "fin");
}

TEST(NmapFormatPieces, PortRangesAsNmapCompressesThem) {
    EXPECT_EQ(port_ranges({}), "");
    EXPECT_EQ(port_ranges({7}), "7");
    EXPECT_EQ(port_ranges({1, 2, 3, 5, 7, 8, 9, 65535}), "1-3,5,7-9,65535");
}

TEST(NmapFormatPieces, CommandLineQuotedAsNmapDoes) {
    EXPECT_EQ(quoted_command_line(std::vector<std::string>{"flagscan", "-p", "22", "10.0.0.1"}), "flagscan -p 22 10.0.0.1");
    EXPECT_EQ(quoted_command_line(std::vector<std::string>{"flagscan", "-oX", "my scan.xml", "a\"b\\c"}),
              "flagscan -oX \"my scan.xml\" a\\\"b\\\\c");
}

// xmllint with nmap's own DTD (Debian: libxml2-utils, nmap) on every expected XML file.
TEST(XmlDtd, ExpectedFilesAreValid) {
    const std::string dtd = "/usr/share/nmap/nmap.dtd";
    if (std::system("command -v xmllint >/dev/null 2>&1") != 0) GTEST_SKIP() << "xmllint is not installed";
    if (!std::filesystem::exists(dtd)) GTEST_SKIP() << dtd << " is not installed (nmap)";
    for (const char* name : {"syn-udp.xml", "ping.xml", "services.xml"}) {
        const std::string path = std::string(FLAGSCAN_SOURCE_ROOT) + "/test/unit/expected/" + name;
        const std::string command = "xmllint --noout --dtdvalid " + dtd + " '" + path + "' 2>&1";
        EXPECT_EQ(std::system(command.c_str()), 0) << command;
    }
}

// -sV: <service> with nmap's attributes in its order and a <cpe> per CPE; tunnel="ssl" for
// nginx inside TLS; tcpwrapped probed with conf 8; the table's guess where nothing matched.
TEST_F(Xml, ServiceScanAsExpected) {
    const ServiceScan scan;
    std::ostringstream out;
    write_xml(out, scan.results, ServiceScan::services(), ReportOptions{}, ServiceScan::summary());
    EXPECT_EQ(out.str(), testing::expected_file("services.xml"));
}

// What a service says is escaped; a fingerprint's "\nSF:" line breaks are dropped (nmap's
// servicefp); a port with a tunnel and no name is "unknown"; the document stays DTD-valid.
TEST_F(Xml, ServiceTextIsEscapedAndValid) {
    ServiceScan scan;
    ServiceFound odd = ServiceFound::probed("http");
    odd.product = "a<b>&\"c\"";
    odd.extrainfo = "x--y";
    odd.hostname = "h";
    odd.devicetype = "router";
    odd.cpe = {"cpe:/h:a&b"};
    scan.results.services().set(scan.index(Port{80}), odd);
    ServiceFound unknown = ServiceFound::table("", ServiceTunnel::ssl);
    unknown.fingerprint = "SF-Port8080-TCP:V=7.93\nSF:r(NULL,4,\"x&y\");";
    scan.results.services().set(scan.index(Port{8080}), unknown);
    std::ostringstream out;
    write_xml(out, scan.results, ServiceScan::services(), ReportOptions{}, ServiceScan::summary());
    const std::string xml = out.str();
    EXPECT_NE(xml.find(R"(<service name="http" product="a&lt;b&gt;&amp;&quot;c&quot;" extrainfo="x-&#45;y" hostname="h" )"
                       R"(devicetype="router" method="probed" conf="10"><cpe>cpe:/h:a&amp;b</cpe></service>)"),
              std::string::npos)
        << xml;
    EXPECT_NE(xml.find(R"(<service name="unknown" servicefp="SF-Port8080-TCP:V=7.93r(NULL,4,&quot;x&amp;y&quot;);" )"
                       R"(tunnel="ssl" method="table" conf="3"/>)"),
              std::string::npos)
        << xml;
    testing::expect_valid_against_nmap_dtd(xml, "services");
}

// The <port> elements nmap 7.93 -sV -oX wrote for the lab, letter for letter.
TEST_F(Xml, PortsAsNmapWroteThem) {
    const testing::LabServiceScan scan;
    std::ostringstream out;
    write_xml_host(out, scan.results, 0, ServiceTable{}, ReportOptions{}, ScanSummary{});
    EXPECT_NE(out.str().find(
                  R"(<ports><port protocol="tcp" portid="2222"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="ssh" product="OpenSSH" version="9.2p1 Debian 2+deb12u3" extrainfo="protocol 2.0" ostype="Linux" method="probed" conf="10"><cpe>cpe:/a:openbsd:openssh:9.2p1</cpe><cpe>cpe:/o:linux:linux_kernel</cpe></service></port>
<port protocol="tcp" portid="2525"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="tcpwrapped" method="probed" conf="8"/></port>
<port protocol="tcp" portid="3306"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="tcpwrapped" method="probed" conf="8"/></port>
<port protocol="tcp" portid="4443"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="http" product="OpenSSL s_server -www httpd" extrainfo="command line: s_server -accept 4443 -cert c.pem -key k.pem -www -quiet" tunnel="ssl" method="probed" conf="10"><cpe>cpe:/a:openssl:openssl</cpe></service></port>
<port protocol="tcp" portid="8000"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="http" product="SimpleHTTPServer" version="0.6" extrainfo="Python 3.11.7" method="probed" conf="10"><cpe>cpe:/a:python:simplehttpserver:0.6</cpe></service></port>
</ports>
)"),
              std::string::npos)
        << out.str();
}

}  // namespace
}  // namespace flagscan

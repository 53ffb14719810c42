// nmap's grepable output: byte for byte against checked-in files, and its Ignored State rule.
#include <gtest/gtest.h>

#include "nmap_formats_fixture.hpp"

namespace flagscan {
namespace {

using testing::NmapFormats;
using testing::PingScan;
using testing::ServiceScan;
using testing::SynUdpScan;

using Grepable = NmapFormats;

std::string grepable_of(const Results& results, const ReportOptions& options, const ScanSummary& summary) {
    std::ostringstream out;
    write_grepable(out, results, testing::fixture_services(), options, summary);
    return out.str();
}

// 10.0.0.2 folds one state (closed): its Ignored State follows the ports, '/' in a service name
// turned '|'; 10.0.0.3 folds two states: no Ignored State at all, an empty Ports field.
TEST_F(Grepable, SynUdpScanAsExpected) {
    const SynUdpScan scan;
    EXPECT_EQ(grepable_of(scan.results, ReportOptions{}, SynUdpScan::summary()), testing::expected_file("syn-udp.gnmap"));
}

// -sn with -v: "# Ports scanned" with none, a Status line per host, Down included.
TEST_F(Grepable, PingScanAsExpected) {
    const PingScan scan;
    EXPECT_EQ(grepable_of(scan.results, ReportOptions{}, PingScan::summary()), testing::expected_file("ping.gnmap"));
}

TEST_F(Grepable, VerboseHeaderListsThePortsScannedPerProtocol) {
    const SynUdpScan scan;
    ScanSummary summary = SynUdpScan::summary();
    summary.verbosity = 1;
    std::ostringstream start;
    write_grepable_start(start, scan.results, summary);
    EXPECT_EQ(start.str(),
              "# flagscan 0.1.0 scan initiated Wed Dec  2 05:25:50 2026 as: flagscan -sS -sU -p "
              "T:22,80,113,135,1000-1029,U:53,69,161,2000-2029 -Pn -n -oX \"a&b <c>.xml\" 10.0.0.2-3\n"
              "# Ports scanned: TCP(34;22,80,113,135,1000-1029) UDP(33;53,69,161,2000-2029) SCTP(0;) PROTOCOLS(0;)\n");
}

// A host whose every port is in the one folded state: "Ports: " empty, then its Ignored State.
TEST_F(Grepable, AllPortsInOneIgnoredState) {
    AddressSet hosts;
    hosts.add(Ipv4{10, 0, 0, 9});
    std::vector<Port> ports;
    for (std::uint16_t p = 1; p <= 30; ++p) ports.push_back(Port{p});
    const TargetSet targets{hosts, ports};
    Results results{targets, {&syn_kind()}};
    for (std::uint64_t i = 0; i < targets.size(); ++i)
        results.set(i, testing::verdict(PortState::filtered, Reason::no_response, 0));
    std::ostringstream host;
    write_grepable_host(host, results, 0, testing::fixture_services(), ReportOptions{}, ScanSummary{});
    EXPECT_EQ(host.str(), "Host: 10.0.0.9 ()\tStatus: Up\nHost: 10.0.0.9 ()\tPorts: \tIgnored State: filtered (30)\n");
}

// -sV: the version slot filled (nmap's text), "ssl|http" inside TLS, the table's guess with '?'.
TEST_F(Grepable, ServiceScanAsExpected) {
    const ServiceScan scan;
    std::ostringstream out;
    write_grepable(out, scan.results, ServiceScan::services(), ReportOptions{}, ServiceScan::summary());
    EXPECT_EQ(out.str(), testing::expected_file("services.gnmap"));
}

// '/' in a version is written '|' (nmap: the field separator stays a separator).
TEST_F(Grepable, SlashesInTheVersionBecomeBars) {
    ServiceScan scan;
    ServiceFound web = ServiceFound::probed("http");
    web.product = "Apache httpd";
    web.version = "2.4.57";
    web.extrainfo = "(Debian) PHP/8.2";
    scan.results.services().set(scan.index(Port{80}), web);
    std::ostringstream out;
    write_grepable_host(out, scan.results, 0, ServiceScan::services(), ReportOptions{}, ServiceScan::summary());
    EXPECT_NE(out.str().find(", 80/open/tcp//http//Apache httpd 2.4.57 ((Debian) PHP|8.2)/, "), std::string::npos) << out.str();
}

// The Ports field nmap 7.93 -sV -oG wrote for the lab, letter for letter.
TEST_F(Grepable, PortsFieldAsNmapWroteIt) {
    const testing::LabServiceScan scan;
    std::ostringstream out;
    write_grepable_host(out, scan.results, 0, ServiceTable{}, ReportOptions{}, ScanSummary{});
    EXPECT_EQ(out.str(),
              "Host: 10.77.24.2 ()\tStatus: Up\n"
              "Host: 10.77.24.2 ()\tPorts: 2222/open/tcp//ssh//OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)/, "
              "2525/open/tcp//tcpwrapped///, 3306/open/tcp//tcpwrapped///, 4443/open/tcp//ssl|http//OpenSSL s_server -www "
              "httpd (command line: s_server -accept 4443 -cert c.pem -key k.pem -www -quiet)/, "
              "8000/open/tcp//http//SimpleHTTPServer 0.6 (Python 3.11.7)/\n");
}

}  // namespace
}  // namespace flagscan

// Live -6 service layer on the services host: -sV, --banners, -I and --checks say over IPv6 what they say over IPv4.
#include "live_support.hpp"
#include "services_support.hpp"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace flagscan::live {
namespace {

// -oJ's port lines: port -> the string field KEY ("banner", "owner"), ports without one left out.
std::map<int, std::string> field_by_port(const std::string& jsonl, const std::string& key) {
    std::map<int, std::string> found;
    std::istringstream in{jsonl};
    for (std::string line; std::getline(in, line);) {
        const auto object = parse_json_object(line);
        if (!object || !object->contains("port") || !object->contains(key)) continue;
        found[std::stoi(object->at("port"))] = object->at(key);
    }
    return found;
}

// The checks each port's JSON line carries, by port; every line's "ip" is `address`.
std::map<int, std::set<std::string>> findings_by_port(const std::string& jsonl, const std::string& address) {
    std::map<int, std::set<std::string>> found;
    const std::regex port_re{R"re(^\{"ip":"([0-9a-f.:]+)","port":([0-9]+),)re"};
    const std::regex id_re{R"re(\{"id":"([a-z0-9-]+)","output":)re"};
    std::istringstream in{jsonl};
    for (std::string line; std::getline(in, line);) {
        std::smatch port;
        if (!std::regex_search(line, port, port_re)) continue;
        EXPECT_EQ(port[1], address) << line;
        auto& ids = found[std::stoi(port[2])];
        for (auto it = std::sregex_iterator(line.begin(), line.end(), id_re); it != std::sregex_iterator(); ++it)
            ids.insert((*it)[1]);
    }
    return found;
}

// The normal output's port table lines ("53/udp    open   domain   dnsmasq 2.90"), in order.
std::vector<std::string> port_lines(const std::string& normal) {
    std::vector<std::string> lines;
    const std::regex port_line{R"(^[0-9]+/(tcp|udp) )"};
    std::istringstream in{normal};
    for (std::string line; std::getline(in, line);)
        if (std::regex_search(line, port_line)) lines.push_back(line);
    return lines;
}

std::vector<int> tcp_ports(const ServicesConf& conf) {
    std::vector<int> ports;
    for (const ServiceRow& r : conf.rows) ports.push_back(r.port);
    return ports;
}

// flagscan with `options` against the services host over IPv4, or over IPv6 (-6 and its IPv6 address).
std::vector<std::string> flagscan(const std::vector<std::string>& options, bool ipv6) {
    std::vector<std::string> argv{flagscan_bin()};
    if (ipv6) argv.push_back("-6");
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(ipv6 ? services_address6() : services_address());
    return argv;
}

// The same command line over IPv4 and over IPv6, at once.
struct Pair {
    ProcessResult v4, v6;
};
Pair run_both(const std::vector<std::string>& options, std::chrono::seconds limit) {
    auto v4 = std::async(std::launch::async, [&] { return run_process(flagscan(options, false), limit); });
    ProcessResult v6 = run_process(flagscan(options, true), limit);
    return Pair{v4.get(), std::move(v6)};
}

// A scan (flagscan's or nmap's, its target last) written with -oX to `path`, and its TCP services read back.
struct Scanned {
    ProcessResult result;
    std::string xml;
    std::map<int, XmlService> services;
    std::string error;
    bool ok() const { return result.exited() && result.exit_code == 0 && error.empty(); }
    std::string why() const { return error + "\n" + result.describe(); }
};
Scanned scan_xml(std::vector<std::string> argv, const std::string& path) {
    argv.insert(argv.end() - 1, {"-oX", path});
    Scanned scanned;
    scanned.result = run_process(argv, std::chrono::seconds(400));
    if (auto found = read_xml_services(path, scanned.error)) scanned.services = std::move(found).value();
    scanned.xml = read_file(path);
    return scanned;
}

class Services6 : public ServicesLabTest {};

// -6 -sV names every TCP port of the services host as the IPv4 scan of the same daemons does
// (name, product, version, tunnel: TLS to nginx on 443 too), and the reports name the host by
// its IPv6 address.
TEST_F(Services6, VersionsAreTheIpv4ScansPortForPort) {
    const TempDir dir;
    const std::string ports = port_argument(tcp_ports(services()));
    const std::vector<std::string> options{"-sT", "-sV", "-p", ports, "-Pn", "-n"};
    auto v4_run = std::async(std::launch::async, [&] { return scan_xml(flagscan(options, false), dir.path() + "/v4.xml"); });
    const Scanned six = scan_xml(flagscan(options, true), dir.path() + "/v6.xml");
    const Scanned four = v4_run.get();
    ASSERT_TRUE(four.ok()) << four.why();
    ASSERT_TRUE(six.ok()) << six.why();
    EXPECT_EQ(six.services.size(), services().rows.size()) << six.result.out;
    EXPECT_EQ(six.services, four.services) << six.result.out << "\n" << four.result.out;
    EXPECT_EQ(port_lines(six.result.out), port_lines(four.result.out));  // the same service and version lines
    for (const ServiceRow& r : services().rows) {
        ASSERT_TRUE(six.services.contains(r.port)) << r.port;
        const XmlService& found = six.services.at(r.port);
        EXPECT_EQ((found.tunnel == "ssl" ? "ssl/" : "") + found.name, r.service) << "port " << r.port;
    }
    EXPECT_NE(six.result.out.find("flagscan scan report for " + services_address6() + "\n"), std::string::npos) << six.result.out;
    EXPECT_NE(six.xml.find("addr=\"" + services_address6() + "\" addrtype=\"ipv6\""), std::string::npos) << six.xml;
}

// -6 -sU -sV: the UDP daemons over IPv6 answer the same probes (DNS, NTP, SNMP, the stub whose
// answer nothing matches: its service fingerprint as over IPv4).
TEST_F(Services6, UdpVersionsAreTheIpv4ScansPortForPort) {
    std::string list;
    for (const ServiceRow& r : services().udp_rows) list += (list.empty() ? "U:" : ",") + std::to_string(r.port);
    const auto both = run_both({"-sU", "-sV", "-p", list, "-Pn", "-n"}, std::chrono::seconds(240));
    ASSERT_TRUE(both.v4.exited() && both.v4.exit_code == 0) << both.v4.describe();
    ASSERT_TRUE(both.v6.exited() && both.v6.exit_code == 0) << both.v6.describe();
    const auto four = port_lines(both.v4.out), six = port_lines(both.v6.out);
    EXPECT_EQ(six.size(), services().udp_rows.size()) << both.v6.out;
    EXPECT_EQ(six, four) << both.v6.out << "\n" << both.v4.out;
    EXPECT_NE(both.v6.out.find("53/udp    open            domain          dnsmasq "), std::string::npos) << both.v6.out;
    const std::string port = std::to_string(row("udp-unknown")->port);
    EXPECT_NE(both.v6.out.find("SF-Port" + port + "-UDP:V="), std::string::npos) << both.v6.out;
}

// -6 -sV beside `nmap -6 -sV -n -Pn` on the same ports: name, product, version and tunnel.
TEST_F(Services6, VersionsAreNmapsOverIpv6) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed: nothing to compare -6 -sV with";
    const TempDir dir;
    const std::string ports = port_argument(tcp_ports(services()));
    auto nmap_run = std::async(std::launch::async, [&] {
        return scan_xml({"nmap", "-6", "-sV", "-p", ports, "-Pn", "-n", services_address6()}, dir.path() + "/nmap.xml");
    });
    const Scanned ours = scan_xml(flagscan({"-sV", "-p", ports, "-Pn", "-n"}, true), dir.path() + "/flagscan.xml");
    const Scanned nmap = nmap_run.get();
    ASSERT_TRUE(ours.ok()) << ours.why();
    ASSERT_TRUE(nmap.ok()) << nmap.why();
    EXPECT_EQ(nmap.services.size(), services().rows.size()) << nmap.result.out;
    EXPECT_EQ(ours.services, nmap.services) << ours.result.out << "\n" << nmap.result.out;
}

// --banners over IPv6: the same first bytes from every daemon as over IPv4.
TEST_F(Services6, BannersAreTheIpv4Ones) {
    const auto both = run_both({"-sT", "--banners", "-p", port_argument(tcp_ports(services())), "-Pn", "-n", "-oJ", "-"},
                               std::chrono::seconds(120));
    ASSERT_TRUE(both.v4.exited() && both.v4.exit_code == 0) << both.v4.describe();
    ASSERT_TRUE(both.v6.exited() && both.v6.exit_code == 0) << both.v6.describe();
    const auto four = field_by_port(both.v4.out, "banner"), six = field_by_port(both.v6.out, "banner");
    EXPECT_EQ(six, four) << both.v6.out;
    for (const char* name : {"ftp", "ssh", "ftp-bounce", "ssh1-stub"}) EXPECT_TRUE(six.contains(row(name)->port)) << name;
    EXPECT_NE(six.at(row("ssh")->port).find("SSH-2.0-OpenSSH"), std::string::npos);
}

// -I over IPv6 (RFC 1413: the connection to 113 of the IPv6 host names our IPv6 port): every
// port's owner is the user services.conf says, as over IPv4.
TEST_F(Services6, IdentNamesTheOwnersOverIpv6) {
    const auto both = run_both({"-sT", "-I", "-p", port_argument(tcp_ports(services())), "-Pn", "-n", "-oJ", "-"},
                               std::chrono::seconds(120));
    ASSERT_TRUE(both.v4.exited() && both.v4.exit_code == 0) << both.v4.describe();
    ASSERT_TRUE(both.v6.exited() && both.v6.exit_code == 0) << both.v6.describe();
    const auto four = field_by_port(both.v4.out, "owner"), six = field_by_port(both.v6.out, "owner");
    for (const ServiceRow& r : services().rows) {
        if (r.name == "tcpwrapped") {
            EXPECT_FALSE(six.contains(r.port));
            continue;
        }
        ASSERT_TRUE(six.contains(r.port)) << "no owner for port " << r.port << "\n" << both.v6.describe();
        EXPECT_EQ(six.at(r.port), r.ident) << "port " << r.port;
    }
    EXPECT_EQ(six, four);
}

// --checks over IPv6 find what they find over IPv4: what services.conf plants, nothing on the
// safe daemons; ftp-bounce asks with EPRT to [::1] (RFC 2428), pyftpdlib takes it, vsftpd
// refuses it. -v's lines name the IPv6 endpoint.
TEST_F(Services6, ChecksFindWhatTheyFindOverIpv4) {
    std::vector<int> ports;
    for (const ServiceRow& r : services().rows)
        if (!r.planted.empty() || !r.safe_for.empty()) ports.push_back(r.port);
    const auto both = run_both({"-sT", "--checks", "intrusive", "--version-light", "-I", "-v", "-p", port_argument(ports), "-Pn",
                                "-n", "-oJ", "-"},
                               std::chrono::seconds(300));
    ASSERT_TRUE(both.v4.exited() && both.v4.exit_code == 0) << both.v4.describe();
    ASSERT_TRUE(both.v6.exited() && both.v6.exit_code == 0) << both.v6.describe();
    const auto four = findings_by_port(both.v4.out, services_address());
    const auto six = findings_by_port(both.v6.out, services_address6());
    EXPECT_EQ(six, four) << both.v6.err;
    for (const ServiceRow& r : services().rows) {
        const auto at = six.find(r.port);
        const std::set<std::string> ids = at == six.end() ? std::set<std::string>{} : at->second;
        for (const std::string& check : r.planted) EXPECT_TRUE(ids.count(check)) << r.name << ": " << check << " not found";
        for (const std::string& check : r.safe_for) EXPECT_FALSE(ids.count(check)) << r.name << ": " << check << " found";
    }
    const std::string at = "[" + services_address6() + "]:";
    EXPECT_NE(both.v6.err.find(at + std::to_string(row("ftp-bounce")->port) + " ftp-bounce: EPRT to [::1]:65535 ("),
              std::string::npos)
        << both.v6.err;
    EXPECT_NE(both.v6.err.find(at + std::to_string(row("ftp")->port) + " ftp-bounce: refused EPRT to [::1]:65535 ("),
              std::string::npos)
        << both.v6.err;
    EXPECT_NE(both.v6.out.find("bounce working: EPRT to [::1]:65535"), std::string::npos) << both.v6.out;
}

// -b stays IPv4 only: one line, nothing sent.
TEST_F(Services6, FtpBounceScanIsRefusedOverIpv6) {
    const auto result = run_process({flagscan_bin(), "-6", "-b", services_address() + ":2121", "-p", "22", "-Pn", "-n",
                                     services_address6()},
                                    std::chrono::seconds(30));
    EXPECT_EQ(result.exit_code, 1) << result.describe();
    EXPECT_NE(result.err.find("-b (FTP bounce scan) is IPv4 only"), std::string::npos) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

}  // namespace
}  // namespace flagscan::live

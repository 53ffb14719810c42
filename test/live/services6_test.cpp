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

// The same flagscan command line over IPv4 and over IPv6 (-6 and the IPv6 address), at once.
struct Pair {
    ProcessResult v4, v6;
};
Pair run_both(const std::vector<std::string>& options, std::chrono::seconds limit) {
    auto with = [&](const std::string& address, bool ipv6) {
        std::vector<std::string> argv{flagscan_bin()};
        if (ipv6) argv.push_back("-6");
        argv.insert(argv.end(), options.begin(), options.end());
        argv.push_back(address);
        return run_process(argv, limit);
    };
    auto v4 = std::async(std::launch::async, [&] { return with(services_address(), false); });
    ProcessResult v6 = with(services_address6(), true);
    return Pair{v4.get(), std::move(v6)};
}

class Services6 : public ServicesLabTest {};

// -6 -sV names every TCP port of the services host as the IPv4 scan of the same daemons does
// (name, product, version, tunnel: TLS to nginx on 443 too), and the reports name the host by
// its IPv6 address.
TEST_F(Services6, VersionsAreTheIpv4ScansPortForPort) {
    const TempDir dir;
    const std::string v4 = dir.path() + "/v4.xml", v6 = dir.path() + "/v6.xml";
    const std::string ports = port_argument(tcp_ports(services()));
    auto v4_run = std::async(std::launch::async, [&] {
        return run_process({flagscan_bin(), "-sT", "-sV", "-p", ports, "-Pn", "-n", "-oX", v4, services_address()},
                           std::chrono::seconds(240));
    });
    const auto ours6 = run_process({flagscan_bin(), "-6", "-sT", "-sV", "-p", ports, "-Pn", "-n", "-oX", v6, services_address6()},
                                   std::chrono::seconds(240));
    const auto ours4 = v4_run.get();
    ASSERT_TRUE(ours4.exited() && ours4.exit_code == 0) << ours4.describe();
    ASSERT_TRUE(ours6.exited() && ours6.exit_code == 0) << ours6.describe();
    std::string error;
    const auto four = read_xml_services(v4, error);
    ASSERT_TRUE(four) << error;
    const auto six = read_xml_services(v6, error);
    ASSERT_TRUE(six) << error;
    EXPECT_EQ(six->size(), services().rows.size()) << ours6.out;
    EXPECT_EQ(*six, *four) << ours6.out << "\n" << ours4.out;
    EXPECT_EQ(port_lines(ours6.out), port_lines(ours4.out));  // the same service and version lines
    for (const ServiceRow& r : services().rows) {
        ASSERT_TRUE(six->contains(r.port)) << r.port;
        const std::string name = (six->at(r.port).tunnel == "ssl" ? "ssl/" : "") + six->at(r.port).name;
        EXPECT_EQ(name, r.service) << "port " << r.port;
    }
    EXPECT_NE(ours6.out.find("flagscan scan report for " + services_address6() + "\n"), std::string::npos) << ours6.out;
    const std::string xml = read_file(v6);
    EXPECT_NE(xml.find("addr=\"" + services_address6() + "\" addrtype=\"ipv6\""), std::string::npos) << xml;
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
    const std::string ours_xml = dir.path() + "/flagscan.xml", theirs_xml = dir.path() + "/nmap.xml";
    const std::string ports = port_argument(tcp_ports(services()));
    auto nmap_run = std::async(std::launch::async, [&] {
        return run_process({"nmap", "-6", "-sV", "-p", ports, "-Pn", "-n", "-oX", theirs_xml, services_address6()},
                           std::chrono::seconds(400));
    });
    const auto ours = run_process({flagscan_bin(), "-6", "-sV", "-p", ports, "-Pn", "-n", "-oX", ours_xml, services_address6()},
                                  std::chrono::seconds(240));
    const auto nmap = nmap_run.get();
    ASSERT_TRUE(ours.exited() && ours.exit_code == 0) << ours.describe();
    ASSERT_TRUE(nmap.exited() && nmap.exit_code == 0) << nmap.describe();
    std::string error;
    const auto mine = read_xml_services(ours_xml, error);
    ASSERT_TRUE(mine) << error;
    const auto theirs = read_xml_services(theirs_xml, error);
    ASSERT_TRUE(theirs) << error;
    EXPECT_EQ(theirs->size(), services().rows.size()) << nmap.out;
    EXPECT_EQ(*mine, *theirs) << ours.out << "\n" << nmap.out;
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

// Live -sV: every daemon of the services host named as services.conf says nmap 7.93 names it
// (ssl/http on 443, tcpwrapped, the services table's guess for a silent port), with products.
#include <fstream>
#include <map>
#include <sstream>

#include "live_support.hpp"
#include "services_support.hpp"

namespace flagscan::live {
namespace {

// The text of a JSON string field "KEY":"..." in LINE after position FROM ("" when absent).
std::string field(const std::string& line, const std::string& key, std::size_t from = 0) {
    const std::string tag = "\"" + key + "\":\"";
    const auto at = line.find(tag, from);
    if (at == std::string::npos) return "";
    const auto start = at + tag.size();
    return line.substr(start, line.find('"', start) - start);
}

struct Found {
    std::string name, product, version, tunnel, extrainfo, state, reason;
};

std::string read_all(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// -oJ's port lines: port -> the "service" object's name (with "ssl/" for a TLS tunnel), product, version.
std::map<int, Found> services_of(const std::string& path) {
    std::map<int, Found> found;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        const auto port_at = line.find("\"port\":");
        const auto service_at = line.find("\"service\":{");
        if (port_at == std::string::npos || service_at == std::string::npos) continue;
        const int port = std::stoi(line.substr(port_at + 7));
        Found f{field(line, "name", service_at),      field(line, "product", service_at),
                field(line, "version", service_at),   field(line, "tunnel", service_at),
                field(line, "extrainfo", service_at), field(line, "state"),
                field(line, "reason")};
        if (f.tunnel == "ssl") f.name = "ssl/" + f.name;
        found[port] = f;
    }
    return found;
}

class VersionDetection : public ServicesLabTest {};

TEST_F(VersionDetection, NamesEveryDaemonAsNmapDoes) {
    std::vector<int> ports;
    std::string list;
    for (const char* name : {"ftp", "ssh", "http", "https", "ftp-bounce", "tcpwrapped", "redis", "http-safe"}) {
        const ServiceRow* r = row(name);
        ASSERT_NE(r, nullptr);
        ports.push_back(r->port);
        list += (list.empty() ? "" : ",") + std::to_string(r->port);
    }
    const TempDir dir;
    const std::string json = dir.path() + "/sv.jsonl";
    const auto result = run_process({flagscan_bin(), "-sT", "-sV", "-p", list, "-Pn", "-n", "-oJ", json, services_address()},
                                    std::chrono::seconds(240));
    ASSERT_TRUE(result.exited() && result.exit_code == 0) << result.describe();
    EXPECT_NE(result.out.find("VERSION"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("Service detection performed."), std::string::npos) << result.out;
    auto found = services_of(json);
    for (const ServiceRow& r : services().rows) {
        if (std::find(ports.begin(), ports.end(), r.port) == ports.end()) continue;
        ASSERT_TRUE(found.contains(r.port)) << "no service for port " << r.port << "\n" << result.out;
        EXPECT_EQ(found.at(r.port).name, r.service) << "port " << r.port << "\n" << result.out;
    }
    // The products and versions nmap 7.93 gives for Debian 12's daemons.
    EXPECT_EQ(found[row("ssh")->port].product, "OpenSSH");
    EXPECT_EQ(found[row("ftp")->port].product, "vsftpd");
    EXPECT_EQ(found[row("ftp")->port].version, "3.0.3");
    EXPECT_EQ(found[row("http")->port].product, "nginx");
    EXPECT_EQ(found[row("https")->port].product, "nginx");
    EXPECT_EQ(found[row("ftp-bounce")->port].product, "pyftpdlib");
    EXPECT_EQ(found[row("redis")->port].product, "Redis key-value store");
    EXPECT_TRUE(found[row("http-safe")->port].version.empty()) << "server_tokens off: nginx without a version";
}

// -sU -sV of the lab's UDP daemons, as `nmap -n -Pn -sU -sV -p 53,123,161,7001` 7.93 names them
// (nmap's snmp product also gets "; net-snmp SNMPv3 server" from its snmp-info script, which -sV
// runs and flagscan does not). 7001 is open|filtered after -sU alone (the stub ignores the empty
// datagram) and open (udp-response) once a version probe is answered; nothing matches its
// answer, so it is named from nmap-services and its service fingerprint is printed.
TEST_F(VersionDetection, UdpServicesAreNamedAsNmapNamesThem) {
    std::string list;
    for (const ServiceRow& r : services().udp_rows) list += (list.empty() ? "U:" : ",") + std::to_string(r.port);
    ASSERT_FALSE(list.empty());
    const ServiceRow* unknown = row("udp-unknown");
    ASSERT_NE(unknown, nullptr);
    const auto scan_only = run_process({flagscan_bin(), "-sU", "-p", std::to_string(unknown->port), "-Pn", "-n", services_address()},
                                       std::chrono::seconds(60));
    ASSERT_TRUE(scan_only.exited() && scan_only.exit_code == 0) << scan_only.describe();
    EXPECT_NE(scan_only.out.find(std::to_string(unknown->port) + "/udp  open|filtered"), std::string::npos) << scan_only.out;

    const TempDir dir;
    const std::string json = dir.path() + "/sv.jsonl";
    const std::string xml = dir.path() + "/sv.xml";
    const auto result = run_process(
        {flagscan_bin(), "-sU", "-sV", "-p", list, "-Pn", "-n", "-oJ", json, "-oX", xml, services_address()},
        std::chrono::seconds(240));
    ASSERT_TRUE(result.exited() && result.exit_code == 0) << result.describe();
    auto found = services_of(json);
    for (const ServiceRow& r : services().udp_rows) {
        ASSERT_TRUE(found.contains(r.port)) << "no service for port " << r.port << "\n" << result.out;
        EXPECT_EQ(found.at(r.port).name, r.service) << "port " << r.port << "\n" << result.out;
        EXPECT_EQ(found.at(r.port).state, "open") << "port " << r.port;
        EXPECT_EQ(found.at(r.port).reason, "udp-response") << "port " << r.port;
    }
    EXPECT_EQ(found[row("dns")->port].product, "dnsmasq");
    EXPECT_FALSE(found[row("dns")->port].version.empty());
    EXPECT_EQ(found[row("ntp")->port].product, "NTP");
    EXPECT_EQ(found[row("ntp")->port].version, "v4");
    EXPECT_EQ(found[row("ntp")->port].extrainfo, "unsynchronized") << "chronyd without sources";
    EXPECT_EQ(found[row("snmp")->port].product, "SNMPv1 server");
    EXPECT_EQ(found[row("snmp")->port].extrainfo, "public");
    EXPECT_TRUE(found[unknown->port].product.empty());

    const std::string port = std::to_string(unknown->port);
    EXPECT_NE(result.out.find(port + "/udp  open            afs3-callback?\n"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("1 service unrecognized despite returning data. If you know the service/version, please "
                              "submit the following fingerprint at https://nmap.org/cgi-bin/submit.cgi?new-service :\n"
                              "SF-Port" + port + "-UDP:V="),
              std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("\nSF:"), std::string::npos) << "wrapped as nmap wraps it\n" << result.out;
    const std::string xml_text = read_all(xml);
    EXPECT_NE(xml_text.find("servicefp=\"SF-Port" + port + "-UDP:V="), std::string::npos) << xml_text;
    EXPECT_NE(xml_text.find("%r(AFSVersionRequest,15,&quot;flagscan\\x20lab:\\x20hello\\r\\n&quot;)"), std::string::npos)
        << "the probe listed for 7001 first, the answer's length in hex, escaped as nmap escapes it\n" << xml_text;
    EXPECT_EQ(xml_text.find("\nSF:"), std::string::npos) << "XML joins the lines again";
}

TEST_F(VersionDetection, AMissingProbeFileIsOneLineAndNothingIsSent) {
    const auto result = run_process({flagscan_bin(), "-sT", "-sV", "--versiondb", "/nonexistent/probes", "-p", "22", "-Pn",
                                     "-n", services_address()},
                                    std::chrono::seconds(30));
    EXPECT_EQ(result.exit_code, 1) << result.describe();
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
}

}  // namespace
}  // namespace flagscan::live

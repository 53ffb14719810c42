// Live -sV: every daemon of the services host named as services.conf says nmap 7.93 names it
// (ssl/http on 443, tcpwrapped, the services table's guess for a silent port), with products;
// and port for port as nmap -sV, run in the test beside it, names them, in well under its time.
#include <chrono>
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
    std::string name, product, version, tunnel;
};

// -oJ's port lines: port -> the "service" object's name (with "ssl/" for a TLS tunnel), product, version.
std::map<int, Found> services_of(const std::string& path) {
    std::map<int, Found> found;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        const auto port_at = line.find("\"port\":");
        const auto service_at = line.find("\"service\":{");
        if (port_at == std::string::npos || service_at == std::string::npos) continue;
        const int port = std::stoi(line.substr(port_at + 7));
        Found f{field(line, "name", service_at), field(line, "product", service_at), field(line, "version", service_at),
                field(line, "tunnel", service_at)};
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

// Issue 12: -sV names every port of the services host as nmap -sV does, nmap run here on the
// same ports, both -oX read: name, product, version and tunnel, port for port (what nmap 7.93
// says is the truth, not services.conf). And it takes well under nmap's time.
TEST_F(VersionDetection, NamesEveryPortAsNmapRunBesideIt) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed: nothing to compare -sV with";
    std::string list;
    for (const ServiceRow& r : services().rows) list += (list.empty() ? "" : ",") + std::to_string(r.port);
    const TempDir dir;
    const std::string ours_xml = dir.path() + "/flagscan.xml";
    const std::string theirs_xml = dir.path() + "/nmap.xml";
    const auto started = std::chrono::steady_clock::now();
    const auto ours = run_process({flagscan_bin(), "-sV", "-p", list, "-Pn", "-n", "-oX", ours_xml, services_address()},
                                  std::chrono::seconds(240));
    const auto ours_took = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(ours.exited() && ours.exit_code == 0) << ours.describe();
    const auto nmap = run_process({"nmap", "-sV", "-p", list, "-Pn", "-n", "-oX", theirs_xml, services_address()},
                                  std::chrono::seconds(400));
    const auto nmap_took = std::chrono::steady_clock::now() - started - ours_took;
    ASSERT_TRUE(nmap.exited() && nmap.exit_code == 0) << nmap.describe();
    std::string error;
    const auto mine = read_xml_services(ours_xml, error);
    ASSERT_TRUE(mine) << error;
    const auto theirs = read_xml_services(theirs_xml, error);
    ASSERT_TRUE(theirs) << error;
    EXPECT_EQ(theirs->size(), services().rows.size()) << nmap.out;
    for (const auto& [port, service] : *theirs) {
        ASSERT_TRUE(mine->contains(port)) << "flagscan has no port " << port << "\n" << ours.out;
        const XmlService& got = mine->at(port);
        EXPECT_EQ(got.name, service.name) << "port " << port;
        EXPECT_EQ(got.product, service.product) << "port " << port;
        EXPECT_EQ(got.version, service.version) << "port " << port;
        EXPECT_EQ(got.tunnel, service.tunnel) << "port " << port;
    }
    EXPECT_EQ(mine->size(), theirs->size()) << ours.out;
    EXPECT_LT(ours_took * 2, nmap_took) << "flagscan -sV " << std::chrono::duration<double>(ours_took).count() << " s, nmap -sV "
                                        << std::chrono::duration<double>(nmap_took).count() << " s";
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

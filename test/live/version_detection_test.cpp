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

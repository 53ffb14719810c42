// Live -oX and -oG: each scan kind's XML valid against nmap.dtd, ndiff-equal to nmap's XML of the
// same lab scan, and the grepable lines giving back the states nmap's give.
#include "live_support.hpp"

#include <fstream>
#include <regex>
#include <sstream>

#include "../support/nmap_xml.hpp"

namespace flagscan::live {
namespace {

constexpr int kNamespaceHost = 2;  // 10.77.ID.2, the namespace side of the veth
constexpr auto kTimeout = std::chrono::seconds(300);

std::string read_file(const std::string& path) {
    std::ifstream in{path};
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A grepable file read back: per host its status, and its listed ports ("22/tcp" -> "open")
// plus its Ignored State field.
using Grepable = std::map<std::string, std::map<std::string, std::string>>;

Grepable read_grepable(const std::string& text) {
    const std::regex host{R"(^Host: (\S+) \(.*?\)\t(.*)$)"};
    const std::regex port{R"((\d+)/([^/]*)/([a-z]+)/)"};
    Grepable hosts;
    std::istringstream in{text};
    std::smatch match;
    for (std::string line; std::getline(in, line);) {
        if (!std::regex_match(line, match, host)) continue;
        auto& fields = hosts[match[1]];
        const std::string rest = match[2];
        if (rest.starts_with("Status: ")) fields["status"] = rest.substr(8);
        if (!rest.starts_with("Ports: ")) continue;
        const auto ignored = rest.find("\tIgnored State: ");
        if (ignored != std::string::npos) fields["ignored"] = rest.substr(ignored + 16);
        const std::string ports = rest.substr(7, ignored == std::string::npos ? std::string::npos : ignored - 7);
        for (std::sregex_iterator it{ports.begin(), ports.end(), port}, end; it != end; ++it)
            fields[(*it)[1].str() + "/" + (*it)[3].str()] = (*it)[2];
    }
    return hosts;
}

class NmapFormatsLive : public LabTest {
protected:
    // nmap and flagscan on the same targets with the same arguments, each writing -oX and -oG;
    // then the checks.
    static void expect_same_as_nmap(const std::vector<std::string>& args, const std::vector<std::string>& targets) {
        const TempDir dir;
        std::vector<std::string> theirs{"nmap", "-n", "-T4", "-oX", dir.path() + "/nmap.xml", "-oG", dir.path() + "/nmap.gnmap"};
        std::vector<std::string> ours{flagscan_bin(), "-n", "-oX", dir.path() + "/ours.xml", "-oG", dir.path() + "/ours.gnmap"};
        for (auto* argv : {&theirs, &ours}) {
            argv->insert(argv->end(), args.begin(), args.end());
            argv->insert(argv->end(), targets.begin(), targets.end());
        }
        const ProcessResult nmap = run_process(theirs, kTimeout);
        ASSERT_EQ(nmap.exit_code, 0) << nmap.describe();
        const ProcessResult flagscan = run_process(ours, kTimeout);
        ASSERT_EQ(flagscan.exit_code, 0) << flagscan.describe();
        EXPECT_EQ(testsupport::dtd_errors(dir.path() + "/ours.xml"), "");
        const auto differences = testsupport::ndiff_differences(dir.path() + "/nmap.xml", dir.path() + "/ours.xml");
        std::string listed;
        for (const auto& line : differences) listed += "  " + line + "\n";
        EXPECT_TRUE(differences.empty()) << "ndiff nmap.xml ours.xml:\n" << listed << read_file(dir.path() + "/ours.xml");
        EXPECT_EQ(read_grepable(read_file(dir.path() + "/ours.gnmap")), read_grepable(read_file(dir.path() + "/nmap.gnmap")))
            << read_file(dir.path() + "/ours.gnmap") << read_file(dir.path() + "/nmap.gnmap");
    }

    void SetUp() override {
        LabTest::SetUp();
        if (IsSkipped()) return;
        if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
        if (const auto missing = testsupport::xmllint_missing()) GTEST_SKIP() << *missing;
        if (const auto missing = testsupport::ndiff_missing()) GTEST_SKIP() << *missing;
    }

    // 1-30 and every TCP port layout.conf gives a role (closed ones fold above 25, as in nmap).
    static std::string tcp_ports() {
        std::set<int> ports;
        for (const auto* role : {&layout().open_tcp, &layout().rejected_tcp, &layout().dropped_tcp})
            ports.insert(role->begin(), role->end());
        std::string list = "1-30";
        for (const int port : ports)
            if (port > 30) list += "," + std::to_string(port);
        return list;
    }
    static std::string udp_ports() {
        std::set<int> ports{7, 9};  // closed
        for (const auto* role : {&layout().open_udp, &layout().rejected_udp, &layout().dropped_udp})
            ports.insert(role->begin(), role->end());
        std::string list;
        for (const int port : ports) list += (list.empty() ? "" : ",") + std::to_string(port);
        return list;
    }
    // The namespace host and a host that drops everything.
    static std::vector<std::string> targets() {
        return {lab_address(kNamespaceHost), lab_address(16 + *layout().dropped_hosts.begin())};
    }
};

TEST_F(NmapFormatsLive, SynScan) { expect_same_as_nmap({"-Pn", "-sS", "-p", tcp_ports()}, targets()); }

TEST_F(NmapFormatsLive, FlagScans) {
    for (const char* kind : {"-sF", "-sN", "-sX", "-sA", "-sW", "-sM"}) {
        SCOPED_TRACE(kind);
        expect_same_as_nmap({"-Pn", kind, "-p", tcp_ports()}, {lab_address(kNamespaceHost)});
    }
}

TEST_F(NmapFormatsLive, ConnectScan) { expect_same_as_nmap({"-Pn", "-sT", "-p", tcp_ports()}, {lab_address(kNamespaceHost)}); }

TEST_F(NmapFormatsLive, UdpScan) { expect_same_as_nmap({"-Pn", "-sU", "-p", udp_ports()}, {lab_address(kNamespaceHost)}); }

TEST_F(NmapFormatsLive, SynAndUdpScan) {
    expect_same_as_nmap({"-Pn", "-sS", "-sU", "-p", "T:20-25,113,135,U:" + udp_ports()}, {lab_address(kNamespaceHost)});
}

// -sn: the hosts up (the /28's first eight addresses, one of which drops everything).
TEST_F(NmapFormatsLive, PingScan) { expect_same_as_nmap({"-sn"}, {lab_address(16) + "-" + std::to_string(16 + 7)}); }

// -v: nmap's XML and grepable list the hosts found down too.
TEST_F(NmapFormatsLive, PingScanVerbose) {
    expect_same_as_nmap({"-sn", "-v"}, {lab_address(16) + "-" + std::to_string(16 + 7)});
}

// Discovery, then the port scan of the hosts found up, as one run.
TEST_F(NmapFormatsLive, SynScanAfterDiscovery) {
    expect_same_as_nmap({"-sS", "-p", tcp_ports()}, {lab_address(16) + "-" + std::to_string(16 + 7)});
}

}  // namespace
}  // namespace flagscan::live

// FTP bounce scan (-b) on the services host: pyftpdlib bounces as -sS sees, vsftpd refuses, failures are one line.
#include "live_support.hpp"
#include "services_support.hpp"
#include "../support/nmap_xml.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace flagscan::live {
namespace {

// Open and closed ports of the services host (81, 9999: nothing listens), a privileged and an
// unprivileged mix, as -sS and -b both see them from inside the namespace's own address.
const std::vector<int> kPorts{21, 22, 23, 80, 81, 113, 443, 2121, 6379, 8080, 9999};

class FtpBounce : public ServicesLabTest {
protected:
    static std::string server(int port, const std::string& credentials = {}) {
        return credentials + services_address() + ":" + std::to_string(port);
    }

    // flagscan -b as nobody (the bounce scan needs no root), JSON lines on stdout.
    static std::pair<ProcessResult, ScanOutput> bounce_as_nobody(const std::string& via, const std::vector<int>& ports) {
        const std::vector<std::string> argv{"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                            flagscan_bin(), "-b", via, "-p", port_argument(ports), "-Pn", "-n",
                                            "--all-ports", "-oJ", "-", services_address()};
        ProcessResult result = run_process(argv, std::chrono::seconds(120));
        return {result, parse(result.out)};
    }

    static ScanOutput parse(const std::string& jsonl) {
        TempDir dir;
        const std::string path = dir.path() + "/scan.jsonl";
        std::ofstream{path} << jsonl;
        return read_scan_output(path);
    }

    static std::vector<std::string> lines(const std::string& text) {
        std::vector<std::string> out;
        std::istringstream in{text};
        for (std::string line; std::getline(in, line);) out.push_back(line);
        return out;
    }

    // A failure: exit status 1 and exactly one line on stderr, holding `words`.
    static void expect_one_line_failure(const ProcessResult& result, const std::string& words) {
        EXPECT_EQ(result.exit_code, 1) << result.describe();
        const auto err = lines(result.err);
        ASSERT_EQ(err.size(), 1u) << result.describe();
        EXPECT_NE(err[0].find(words), std::string::npos) << err[0];
    }
};

TEST_F(FtpBounce, ThroughPyftpdlibReportsWhatASynScanSees) {
    const auto [bounce, bounced] = bounce_as_nobody(server(2121), kPorts);
    ASSERT_EQ(bounce.exit_code, 0) << bounce.describe();
    EXPECT_NE(bounce.err.find("allows bouncing"), std::string::npos) << bounce.err;
    const auto syn = run_process({flagscan_bin(), "-sS", "-p", port_argument(kPorts), "-Pn", "-n", "--all-ports", "-oJ",
                                  "-", services_address()},
                                 std::chrono::seconds(60));
    ASSERT_EQ(syn.exit_code, 0) << syn.describe();
    std::vector<PortKey> duplicates;
    const VerdictMap theirs = states_only(verdicts_of(parse(syn.out), duplicates));
    const VerdictMap ours = verdicts_of(bounced, duplicates);
    EXPECT_TRUE(duplicates.empty());
    ASSERT_EQ(ours.size(), kPorts.size());
    EXPECT_EQ(describe_differences(theirs, states_only(ours)), "");
    for (const auto& [key, verdict] : ours)
        EXPECT_EQ(verdict.reason, verdict.state == "open" ? "ftp-transfer" : "ftp-cant-connect") << key.second;
    EXPECT_EQ(ours.at({services_address(), 81}).state, "closed");
    EXPECT_EQ(ours.at({services_address(), 22}).state, "open");
}

TEST_F(FtpBounce, VsftpdRefusesPortToAThirdAddress) {
    const auto [result, output] = bounce_as_nobody(server(21), kPorts);
    expect_one_line_failure(result, "500 Illegal PORT command.");
    EXPECT_NE(result.err.find("third address"), std::string::npos) << result.err;
    std::vector<PortKey> duplicates;
    EXPECT_TRUE(verdicts_of(output, duplicates).empty());  // no port got a verdict
}

TEST_F(FtpBounce, VsftpdWithOnlyPrivilegedPortsSaysSo) {
    const auto result = bounce_as_nobody(server(21), {21, 22, 80}).first;
    expect_one_line_failure(result, "privileged ports");
}

TEST_F(FtpBounce, BadLoginIsOneLine) {
    expect_one_line_failure(bounce_as_nobody(server(2121, "ftpuser:wrongpass@"), {22}).first, "refuses the login");
    // The safe vsftpd on 2100 lets nobody in: anonymous is refused at USER.
    expect_one_line_failure(bounce_as_nobody(server(2100), {22}).first, "refuses the user \"anonymous\"");
}

TEST_F(FtpBounce, UnreachableServerIsOneLine) {
    expect_one_line_failure(bounce_as_nobody(server(2199), {22}).first, "cannot reach the FTP bounce server");
}

TEST_F(FtpBounce, XmlIsValidAndJsonCarriesThePorts) {
    if (const auto missing = testsupport::xmllint_missing()) GTEST_SKIP() << *missing;
    TempDir dir;
    const std::string base = dir.path() + "/bounce";
    const auto result = run_process({flagscan_bin(), "-b", server(2121), "-p", port_argument(kPorts), "-Pn", "-n",
                                     "--reason", "-oA", base, services_address()},
                                    std::chrono::seconds(60));
    ASSERT_EQ(result.exit_code, 0) << result.describe();
    EXPECT_EQ(testsupport::dtd_errors(base + ".xml"), "");
    const std::string xml = read_file(base + ".xml");
    EXPECT_NE(xml.find("<scaninfo type=\"bounce\""), std::string::npos);
    std::string error;
    const auto from_xml = read_nmap_xml(base + ".xml", kPorts, error);
    ASSERT_TRUE(from_xml) << error;
    std::vector<PortKey> duplicates;
    const VerdictMap from_json = verdicts_of(read_scan_output(base + ".jsonl"), duplicates);
    EXPECT_EQ(describe_differences(*from_xml, from_json), "");
    EXPECT_NE(read_file(base + ".gnmap").find("22/open/tcp//ssh"), std::string::npos);
    EXPECT_NE(read_file(base + ".nmap").find("ftp-cant-connect"), std::string::npos);
}

// nmap 7.93 sends LIST after pyftpdlib's 425 to PORT, reads the 150 that follows, waits 10 s
// and calls the port filtered: so only the ports nmap calls open or closed are compared.
TEST_F(FtpBounce, AgreesWithNmapWhereNmapDecides) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    const std::vector<int> ports{22, 81};
    TempDir dir;
    const std::string xml = dir.path() + "/nmap.xml";
    const auto nmap = run_process({"nmap", "-b", server(2121, "anonymous:x@"), "-p", port_argument(ports), "-Pn", "-n",
                                   "-oX", xml, services_address()},
                                  std::chrono::seconds(120));
    ASSERT_EQ(nmap.exit_code, 0) << nmap.describe();
    std::string error;
    const auto theirs = read_nmap_xml(xml, ports, error);
    ASSERT_TRUE(theirs) << error;
    std::vector<PortKey> duplicates;
    const VerdictMap ours = verdicts_of(bounce_as_nobody(server(2121), ports).second, duplicates);
    int compared = 0;
    for (const auto& [key, verdict] : *theirs) {
        if (verdict.state == "filtered") continue;
        ++compared;
        ASSERT_TRUE(ours.count(key)) << key.second;
        EXPECT_EQ(ours.at(key).state, verdict.state) << "port " << key.second;
    }
    if (compared == 0)
        GTEST_SKIP() << "nmap called every port filtered (nmap 7.93 reads 125 and 226 arriving in one read as a "
                        "LIST that never ends): nothing to compare";
}

}  // namespace
}  // namespace flagscan::live

// Weakness checks (--checks) on the services host: each finds what services.conf plants, nothing where it says safe.
#include "live_support.hpp"
#include "services_support.hpp"
#include "../support/nmap_xml.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace flagscan::live {
namespace {

// The checks each port's JSON line carries ("checks":[{"id":...,"output":...), by port.
std::map<int, std::set<std::string>> findings_by_port(const std::string& jsonl) {
    std::map<int, std::set<std::string>> found;
    const std::regex port_re{R"re(^\{"ip":"[0-9.]+","port":([0-9]+),)re"};
    const std::regex id_re{R"re(\{"id":"([a-z0-9-]+)","output":)re"};
    std::istringstream in{jsonl};
    for (std::string line; std::getline(in, line);) {
        std::smatch port;
        if (!std::regex_search(line, port, port_re)) continue;
        auto& ids = found[std::stoi(port[1])];
        for (auto it = std::sregex_iterator(line.begin(), line.end(), id_re); it != std::sregex_iterator(); ++it)
            ids.insert((*it)[1]);
    }
    return found;
}

// One scan of every port services.conf plants a weakness on or calls safe, with every check,
// shared by the tests below (the -sV before the checks takes a while: telnet only softmatches).
class Checks : public ServicesLabTest {
protected:
    struct Run {
        ProcessResult result;
        std::string xml;
        std::string normal;
        bool ident = false;  // -I was given (flagscan has it): http-root-owner could judge
    };

    static bool has_ident() {
        const auto help = run_process({flagscan_bin(), "--help"}, std::chrono::seconds(10));
        return help.out.find("--ident") != std::string::npos;
    }

    static std::vector<int> checked_ports() {
        std::vector<int> ports;
        for (const ServiceRow& row : services().rows)
            if (!row.planted.empty() || !row.safe_for.empty()) ports.push_back(row.port);
        return ports;
    }

    static const Run& run() {
        if (!run_) {
            Run r;
            r.ident = has_ident();
            const std::string base = dir().path() + "/checks";
            std::vector<std::string> argv{flagscan_bin(), "-sT", "--checks", "intrusive", "--version-light", "-p",
                                          port_argument(checked_ports()), "-Pn", "-n", "-v", "-oX", base + ".xml",
                                          "-oN", base + ".nmap", "-oJ", "-"};
            if (r.ident) argv.push_back("-I");
            argv.push_back(services_address());
            r.result = run_process(argv, std::chrono::seconds(300));
            r.xml = read_file(base + ".xml");
            r.normal = read_file(base + ".nmap");
            run_.emplace(std::move(r));
        }
        return *run_;
    }

    // services.sh's state directory (the FTP roots live there).
    static std::string state_dir() {
        std::string out;
        if (!services_command("info", &out).empty()) return {};
        const auto at = out.find("state_dir=");
        if (at == std::string::npos) return {};
        return out.substr(at + 10, out.find('\n', at) - at - 10);
    }

    static TempDir& dir() {
        if (!dir_) dir_.emplace();
        return *dir_;
    }

    static void TearDownTestSuite() {
        run_.reset();
        dir_.reset();
        ServicesLabTest::TearDownTestSuite();
    }

private:
    static inline std::optional<Run> run_;
    static inline std::optional<TempDir> dir_;
};

TEST_F(Checks, EachFindsWhatIsPlantedAndNothingOnSafeDaemons) {
    const Run& r = run();
    ASSERT_EQ(r.result.exit_code, 0) << r.result.describe();
    const auto found = findings_by_port(r.result.out);
    for (const ServiceRow& row : services().rows) {
        const auto at = found.find(row.port);
        const std::set<std::string> ids = at == found.end() ? std::set<std::string>{} : at->second;
        for (const std::string& check : row.planted) {
            if (check == "http-root-owner" && !r.ident) continue;  // needs -I, not in this flagscan
            EXPECT_TRUE(ids.count(check)) << row.name << " (" << row.port << "): " << check << " not found\n" << r.result.err;
        }
        for (const std::string& check : row.safe_for)
            EXPECT_FALSE(ids.count(check)) << row.name << " (" << row.port << "): " << check << " found on a safe daemon";
        for (const std::string& check : ids) {  // and nothing that services.conf does not plant there
            const bool planted = std::find(row.planted.begin(), row.planted.end(), check) != row.planted.end();
            EXPECT_TRUE(planted) << row.name << " (" << row.port << "): unexpected " << check;
        }
    }
    if (!r.ident) {
        EXPECT_NE(r.result.err.find("http-root-owner needs"), std::string::npos) << r.result.err;
    }
}

TEST_F(Checks, SayWhatTheyDidAndShowTheEvidence) {
    const Run& r = run();
    ASSERT_EQ(r.result.exit_code, 0) << r.result.describe();
    // -v: a line per check run, finding or not (vsftpd on 21 refuses PORT to another address).
    const std::string ftp21 = services_address() + ":21 ftp-bounce: refused PORT to 127.0.0.1:65535 (500 Illegal PORT command.)";
    EXPECT_NE(r.result.err.find(ftp21), std::string::npos) << r.result.err;
    EXPECT_NE(r.normal.find("| ftp-anon: Anonymous FTP login allowed (FTP code 230)\n"), std::string::npos) << r.normal;
    EXPECT_NE(r.normal.find("|_ssh-v1: Server supports SSHv1 (SSH-1.99-OpenSSH_3.9p1)\n"), std::string::npos) << r.normal;
    EXPECT_NE(r.normal.find("|_ftp-writable: Anonymous users can create directories: /incoming/flagscan-"), std::string::npos)
        << r.normal;
    EXPECT_NE(r.result.out.find(R"j("evidence":["< 220 (vsFTPd 3.0.3)","> USER anonymous",)j"), std::string::npos) << r.result.out;
    EXPECT_NE(r.xml.find(R"j(<script id="telnet-cleartext" output="Telnet login prompt offered in cleartext: )j"), std::string::npos);
    if (const auto missing = testsupport::xmllint_missing()) GTEST_SKIP() << *missing;
    EXPECT_EQ(testsupport::dtd_errors(dir().path() + "/checks.xml"), "");
}

TEST_F(Checks, FtpWritableLeavesNoDirectoryBehind) {
    const Run& r = run();
    ASSERT_EQ(r.result.exit_code, 0) << r.result.describe();
    const std::string root = state_dir() + "/ftp";
    ASSERT_TRUE(std::filesystem::is_directory(root + "/incoming")) << root;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root))
        EXPECT_EQ(entry.path().filename().string().rfind("flagscan-", 0), std::string::npos) << entry.path();
    EXPECT_NE(r.result.err.find("ftp-writable: created /incoming/flagscan-"), std::string::npos) << r.result.err;
    EXPECT_NE(r.result.err.find(" and removed it"), std::string::npos) << r.result.err;
}

TEST_F(Checks, ListAndUnknownNames) {
    const auto list = run_process({flagscan_bin(), "--checks", "list"}, std::chrono::seconds(10));
    EXPECT_EQ(list.exit_code, 0) << list.describe();
    EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 7) << list.out;
    const auto bad = run_process({flagscan_bin(), "--checks", "ftp-anon,ftp-nope", "-Pn", "-n", services_address()},
                                 std::chrono::seconds(10));
    EXPECT_EQ(bad.exit_code, 1) << bad.describe();
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
    EXPECT_NE(bad.err.find("unknown check 'ftp-nope'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace flagscan::live

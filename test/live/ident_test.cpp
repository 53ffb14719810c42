// Live -I on the services host: oidentd's owners match the users of the processes listening (ss + ps in the namespace).
#include "live_support.hpp"
#include "services_support.hpp"
#include "../support/nmap_xml.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace flagscan::live {
namespace {

std::string services_namespace() { return "fssv" + std::to_string(lab_id()); }

std::string trimmed(std::string text) {
    const auto first = text.find_first_not_of(" \t\n");
    const auto last = text.find_last_not_of(" \t\n");
    return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

// The users of the processes that hold PORT's listening socket in the namespace: `ss -ltnp`
// names their pids, `ps` their users (nginx: the master root and its workers www-data).
std::set<std::string> listener_users(int port) {
    const auto ss = run_process({"ip", "netns", "exec", services_namespace(), "ss", "-Hltnp", "sport = :" + std::to_string(port)},
                                std::chrono::seconds(10));
    std::set<std::string> users;
    const std::regex pid{R"(pid=(\d+))"};
    for (std::sregex_iterator it{ss.out.begin(), ss.out.end(), pid}, end; it != end; ++it) {
        const auto ps = run_process({"ps", "-o", "user:32=", "-p", (*it)[1].str()}, std::chrono::seconds(10));
        if (const std::string user = trimmed(ps.out); !user.empty()) users.insert(user);
    }
    return users;
}

// -oJ's port lines: port -> "owner" (ports without one left out).
std::map<int, std::string> owners_of(const std::string& path) {
    std::map<int, std::string> owners;
    std::istringstream in(read_file(path));
    for (std::string line; std::getline(in, line);) {
        const auto object = parse_json_object(line);
        if (!object || !object->contains("port") || !object->contains("owner")) continue;
        owners[std::stoi(object->at("port"))] = object->at("owner");
    }
    return owners;
}

class Ident : public ServicesLabTest {};

// Every port's owner is the user services.conf says and one of the listening processes' users;
// the stub on 2222 closes each connection at once, so identd has no connection to name anyone
// for: no owner. The outputs carry them (XML valid against nmap.dtd, grepable's owner field).
TEST_F(Ident, OwnersAreTheUsersOfTheListeningProcesses) {
    std::vector<int> ports;
    for (const ServiceRow& r : services().rows) ports.push_back(r.port);
    const TempDir dir;
    const std::string base = dir.path() + "/ident";
    const auto result = run_process({flagscan_bin(), "-sT", "-I", "-v", "-p", port_argument(ports), "-Pn", "-n", "-oA", base,
                                     services_address()},
                                    std::chrono::seconds(120));
    ASSERT_TRUE(result.exited() && result.exit_code == 0) << result.describe();
    const auto owners = owners_of(base + ".jsonl");
    for (const ServiceRow& r : services().rows) {
        if (r.name == "tcpwrapped") {
            EXPECT_FALSE(owners.contains(r.port)) << "port " << r.port << ": " << owners.at(r.port);
            EXPECT_NE(result.err.find(":" + std::to_string(r.port) + ": no owner: "), std::string::npos) << result.err;
            continue;
        }
        ASSERT_TRUE(owners.contains(r.port)) << "no owner for port " << r.port << "\n" << result.describe();
        EXPECT_EQ(owners.at(r.port), r.ident) << "port " << r.port;
        const auto users = listener_users(r.port);
        EXPECT_TRUE(users.contains(owners.at(r.port))) << "port " << r.port << ": " << owners.at(r.port) << " listens? "
                                                      << testing::PrintToString(users);
    }
    EXPECT_NE(result.out.find("PORT      STATE           SERVICE         OWNER\n"), std::string::npos) << result.out;
    EXPECT_NE(read_file(base + ".gnmap").find("22/open/tcp/root/ssh///"), std::string::npos) << read_file(base + ".gnmap");
    EXPECT_NE(read_file(base + ".xml").find(R"(<owner name="root"/>)"), std::string::npos);
    if (const auto missing = testsupport::xmllint_missing()) GTEST_SKIP() << *missing;
    EXPECT_EQ(testsupport::dtd_errors(base + ".xml"), "");
}

// With -sV: both columns, the owner first (nmap's old -I layout).
TEST_F(Ident, WithVersionDetection) {
    const auto result = run_process({flagscan_bin(), "-sT", "-sV", "-I", "-p", std::to_string(row("ssh")->port), "-Pn", "-n",
                                     services_address()},
                                    std::chrono::seconds(120));
    ASSERT_TRUE(result.exited() && result.exit_code == 0) << result.describe();
    EXPECT_NE(result.out.find("PORT      STATE           SERVICE         OWNER           VERSION\n"
                              "22/tcp    open            ssh             root            OpenSSH"),
              std::string::npos)
        << result.out;
}

// identd's port rejected (ICMP admin-prohibited): one connect() tells, the host is skipped at
// once with one line at -v, and no port has an owner.
TEST_F(Ident, NoIdentdIsSkippedQuickly) {
    const NftRule reject{services_namespace(), "input", "tcp dport 113 reject with icmp type admin-prohibited"};
    ASSERT_EQ(reject.error(), "");
    const auto started = std::chrono::steady_clock::now();
    const TempDir dir;
    const std::string json = dir.path() + "/ident.jsonl";
    const auto result = run_process({flagscan_bin(), "-sT", "-I", "-v", "-p", "22,80", "-Pn", "-n", "-oJ", json,
                                     services_address()},
                                    std::chrono::seconds(60));
    ASSERT_TRUE(result.exited() && result.exit_code == 0) << result.describe();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
    EXPECT_NE(result.err.find(services_address() + ": identd not reachable on 113 (unreachable)"), std::string::npos)
        << result.err;
    EXPECT_TRUE(owners_of(json).empty()) << read_file(json);
}

// 113 scanned and found filtered: not tried again.
TEST_F(Ident, IdentdFilteredByTheScanIsNotTriedAgain) {
    const NftRule drop{services_namespace(), "input", "tcp dport 113 drop"};
    ASSERT_EQ(drop.error(), "");
    const auto result = run_process({flagscan_bin(), "-sT", "-I", "-v", "-p", "22,113", "-Pn", "-n", services_address()},
                                    std::chrono::seconds(60));
    ASSERT_TRUE(result.exited() && result.exit_code == 0) << result.describe();
    EXPECT_NE(result.err.find("identd not reachable on 113 (the port scan found it filtered)"), std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("0 of 1 open TCP ports have an owner (0 of 1 hosts answer on 113; 0 connections"),
              std::string::npos)
        << result.err;
}

}  // namespace
}  // namespace flagscan::live

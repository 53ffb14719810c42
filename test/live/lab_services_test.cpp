// The services host (test/lab/services.sh): each daemon answers as services.conf plans, and down removes it all.
#include "live_support.hpp"
#include "services_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace flagscan::live {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kConnect{3000};
constexpr milliseconds kReply{5000};

class LabServices : public ServicesLabTest {
protected:
    // A connection to the row's port; fails the test (nullopt) when it cannot be made.
    static std::optional<TcpClient> open(const ServiceRow& service) {
        std::string error;
        auto client = TcpClient::connect(services_address(), service.port, kConnect, error);
        if (!client) ADD_FAILURE() << service.name << ": " << error;
        return client;
    }

    // Sends LINE + CRLF and returns the reply read up to its CRLF.
    static std::string ask(TcpClient& client, const std::string& line) {
        EXPECT_TRUE(client.send(line + "\r\n")) << line;
        return client.read_until("\r\n", kReply);
    }

    // Logs in as anonymous on an FTP row: the replies to the banner, USER and PASS.
    static std::vector<std::string> ftp_login(TcpClient& client) {
        std::vector<std::string> replies{client.read_until("\r\n", kReply)};
        replies.push_back(ask(client, "USER anonymous"));
        if (replies.back().starts_with("331")) replies.push_back(ask(client, "PASS flagscan@"));
        return replies;
    }

    // "PORT a,b,c,d,p1,p2" for the services host itself (not the client: a third address) and PORT.
    static std::string port_command(int port) {
        std::string address = services_address();
        for (auto& c : address) {
            if (c == '.') c = ',';
        }
        return "PORT " + address + "," + std::to_string(port / 256) + "," + std::to_string(port % 256);
    }
};

TEST_F(LabServices, SshdSendsAnOpenSsh2Banner) {
    const auto* ssh = row("ssh");
    ASSERT_NE(ssh, nullptr);
    auto client = open(*ssh);
    ASSERT_TRUE(client);
    EXPECT_TRUE(client->read_until("\r\n", kReply).starts_with("SSH-2.0-OpenSSH_"));
}

TEST_F(LabServices, SshStubSendsAProtocol1Banner) {
    const auto* stub = row("ssh1-stub");
    ASSERT_NE(stub, nullptr);
    auto client = open(*stub);
    ASSERT_TRUE(client);
    EXPECT_TRUE(client->read_until("\r\n", kReply).starts_with("SSH-1.99-"));
}

TEST_F(LabServices, VsftpdLetsAnonymousWriteButRefusesBounce) {
    const auto* ftp = row("ftp");
    ASSERT_NE(ftp, nullptr);
    auto client = open(*ftp);
    ASSERT_TRUE(client);
    const auto replies = ftp_login(*client);
    ASSERT_EQ(replies.size(), 3u);
    EXPECT_TRUE(replies[0].starts_with("220 (vsFTPd ")) << replies[0];
    EXPECT_TRUE(replies[2].starts_with("230")) << replies[2];
    const std::string dir = "incoming/flagscan-" + std::to_string(client->local_port());
    EXPECT_TRUE(ask(*client, "MKD " + dir).starts_with("257"));
    EXPECT_TRUE(ask(*client, "RMD " + dir).starts_with("250"));
    EXPECT_TRUE(ask(*client, "MKD flagscan-root").starts_with("550"));  // only incoming/ is writable
    EXPECT_TRUE(ask(*client, port_command(row("ssh") ? row("ssh")->port : 22)).starts_with("500"));
}

TEST_F(LabServices, SafeVsftpdRefusesAnonymous) {
    const auto* ftp = row("ftp-safe");
    ASSERT_NE(ftp, nullptr);
    auto client = open(*ftp);
    ASSERT_TRUE(client);
    const auto replies = ftp_login(*client);
    EXPECT_TRUE(replies[0].starts_with("220 (vsFTPd ")) << replies[0];
    EXPECT_TRUE(replies[1].starts_with("530")) << replies[1];
}

TEST_F(LabServices, PyftpdlibIsReadOnlyAndAllowsBounce) {
    const auto* ftp = row("ftp-bounce");
    ASSERT_NE(ftp, nullptr);
    auto client = open(*ftp);
    ASSERT_TRUE(client);
    const auto replies = ftp_login(*client);
    ASSERT_EQ(replies.size(), 3u);
    EXPECT_TRUE(replies[0].starts_with("220 pyftpdlib ")) << replies[0];
    EXPECT_TRUE(replies[2].starts_with("230")) << replies[2];
    EXPECT_TRUE(ask(*client, "MKD flagscan").starts_with("550"));
    // The server connects to the third address at once: 200 means it did.
    EXPECT_TRUE(ask(*client, port_command(row("redis") ? row("redis")->port : 6379)).starts_with("200"));
}

// Refuses every telnet option (WILL -> DONT, DO -> WONT) and returns what the server sent in 6 s.
std::string telnet_session(TcpClient& client) {
    std::string seen;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(6);
    while (!client.peer_closed() && std::chrono::steady_clock::now() < deadline &&
           seen.find("login:") == std::string::npos) {
        const std::string data = client.read_for(milliseconds(300));
        for (std::size_t i = 0; i + 2 < data.size(); ++i) {
            const auto command = static_cast<unsigned char>(data[i + 1]);
            if (static_cast<unsigned char>(data[i]) != 255 || command < 251) continue;
            const unsigned char answer = (command == 251 || command == 252) ? 254 : 252;
            client.send(std::string{'\xff', static_cast<char>(answer), data[i + 2]});
            i += 2;
        }
        seen += data;
    }
    return seen;
}

TEST_F(LabServices, TelnetdNegotiatesThenOffersALogin) {
    const auto* telnet = row("telnet");
    ASSERT_NE(telnet, nullptr);
    auto client = open(*telnet);
    ASSERT_TRUE(client);
    const std::string seen = telnet_session(*client);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(static_cast<unsigned char>(seen[0]), 255) << "no IAC first";
    EXPECT_NE(seen.find("login:"), std::string::npos) << seen;
}

TEST_F(LabServices, SafeTelnetdOffersNoLogin) {
    const auto* telnet = row("telnet-safe");
    ASSERT_NE(telnet, nullptr);
    auto client = open(*telnet);
    ASSERT_TRUE(client);
    const std::string seen = telnet_session(*client);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(static_cast<unsigned char>(seen[0]), 255) << "no IAC first";
    EXPECT_EQ(seen.find("login:"), std::string::npos) << seen;
    EXPECT_NE(seen.find("disabled"), std::string::npos) << seen;
}

// The Server header of a plain HTTP HEAD / on ROW, "" if none.
std::string server_header(TcpClient& client) {
    client.send("HEAD / HTTP/1.0\r\n\r\n");
    const std::string reply = client.read_until("\r\n\r\n", kReply);
    const auto at = reply.find("\r\nServer: ");
    if (at == std::string::npos) return {};
    const auto start = at + 10;
    return reply.substr(start, reply.find("\r\n", start) - start);
}

TEST_F(LabServices, NginxServerHeaderShowsTheVersionExceptOnTheSafeOne) {
    for (const char* name : {"http", "http-root", "http-safe"}) {
        const auto* http = row(name);
        ASSERT_NE(http, nullptr);
        auto client = open(*http);
        ASSERT_TRUE(client);
        const std::string header = server_header(*client);
        if (std::string_view(name) == "http-safe") {
            EXPECT_EQ(header, "nginx") << name;
        } else {
            EXPECT_TRUE(header.starts_with("nginx/1.")) << name << ": " << header;
        }
    }
}

TEST_F(LabServices, NginxAnswersTlsWithTheSelfSignedCertificate) {
    const auto* https = row("https");
    ASSERT_NE(https, nullptr);
    const auto result = run_process({"openssl", "s_client", "-brief", "-connect",
                                     services_address() + ":" + std::to_string(https->port)},
                                    std::chrono::seconds(15));
    const std::string text = result.out + result.err;
    EXPECT_NE(text.find("CONNECTION ESTABLISHED"), std::string::npos) << result.describe();
    EXPECT_NE(text.find("fssv" + std::to_string(lab_id()) + ".flagscan.lab"), std::string::npos) << text;
}

TEST_F(LabServices, RedisAnswersPing) {
    const auto* redis = row("redis");
    ASSERT_NE(redis, nullptr);
    auto client = open(*redis);
    ASSERT_TRUE(client);
    EXPECT_EQ(ask(*client, "PING"), "+PONG\r\n");
}

TEST_F(LabServices, TcpwrappedPortClosesAtOnceWithoutData) {
    const auto* wrapped = row("tcpwrapped");
    ASSERT_NE(wrapped, nullptr);
    auto client = open(*wrapped);
    ASSERT_TRUE(client);
    EXPECT_EQ(client->read_for(milliseconds(1000)), "");
    EXPECT_TRUE(client->peer_closed());
}

// "22,45678:USERID:UNIX:root" (oidentd writes no spaces; RFC 1413 allows them) -> "root".
std::string ident_user(const std::string& reply) {
    std::vector<std::string> fields;
    std::istringstream in(reply.substr(0, reply.find("\r\n")));
    for (std::string field; std::getline(in, field, ':');) {
        field.erase(0, field.find_first_not_of(' '));
        field.erase(field.find_last_not_of(' ') + 1);
        fields.push_back(field);
    }
    return fields.size() == 4 && fields[1] == "USERID" ? fields[3] : "(" + reply + ")";
}

TEST_F(LabServices, IdentNamesTheOwnerOfEachConnection) {
    const auto* ident = row("ident");
    ASSERT_NE(ident, nullptr);
    for (const auto& service : services().rows) {
        if (service.service == "tcpwrapped") continue;  // its connection is gone before the query
        auto client = open(service);
        ASSERT_TRUE(client);
        // Until the daemon has called accept() the connection has no owner and oidentd answers
        // NO-USER (inetd is slow to accept): ask again for up to 2 s.
        std::string user;
        for (int attempt = 0; attempt < 10 && user != service.ident; ++attempt) {
            if (attempt > 0) std::this_thread::sleep_for(milliseconds(200));
            auto query = open(*ident);
            ASSERT_TRUE(query);
            user = ident_user(ask(*query, std::to_string(service.port) + " , " + std::to_string(client->local_port())));
        }
        EXPECT_EQ(user, service.ident) << service.name << " (port " << service.port << ")";
    }
}

TEST_F(LabServices, InfoRecordsTheDaemonVersions) {
    std::string out;
    ASSERT_EQ(services_command("info", &out), "");
    for (const auto& service : services().rows) {
        const std::string key = "\nversion_" + service.package + "=";
        const auto at = out.find(key);
        ASSERT_NE(at, std::string::npos) << service.package << " in\n" << out;
        EXPECT_NE(out[at + key.size()], '\n') << service.package << " has no version";
    }
}

// ---- lifecycle: its own up and down, after LabServices' suite is down -------------------------

// The value of KEY= in `services.sh info` output, "" if absent.
std::string info_value(const std::string& info, const std::string& key) {
    const auto at = ("\n" + info).find("\n" + key + "=");
    if (at == std::string::npos) return {};
    const auto start = at + key.size() + 1;
    return info.substr(start, info.find('\n', start) - start);
}

// True while PID runs (a zombie has stopped).
bool running(const std::string& pid) {
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(") ");
    return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

TEST(LabServicesLifecycle, UpTwiceThenDownRemovesEverything) {
    if (const auto skip = root_skip_reason(); !skip.empty()) GTEST_SKIP() << skip;
    ASSERT_EQ(services_command("up"), "");
    ASSERT_EQ(services_command("up"), "") << "up over a running services host must clean it first";
    std::string info;
    ASSERT_EQ(services_command("info", &info), "");
    const std::string pids = info_value(info, "pids");
    const std::string state_dir = info_value(info, "state_dir");
    ASSERT_FALSE(pids.empty()) << info;
    ASSERT_EQ(services_command("down"), "");

    std::istringstream each(pids);
    for (std::string pid; each >> pid;) EXPECT_FALSE(running(pid)) << "pid " << pid << " still runs";
    EXPECT_FALSE(std::filesystem::exists(state_dir)) << state_dir;
    EXPECT_FALSE(std::filesystem::exists("/sys/class/net/" + info_value(info, "host_if")));
    const auto netns = run_process({"ip", "netns", "list"}, std::chrono::seconds(10));
    std::istringstream names(netns.out);
    for (std::string line; std::getline(names, line);) {
        EXPECT_NE(line.substr(0, line.find(' ')), info_value(info, "namespace"));
    }
    ASSERT_EQ(services_command("info", &info), "");
    EXPECT_EQ(info_value(info, "state"), "down");
}

}  // namespace
}  // namespace flagscan::live

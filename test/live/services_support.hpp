// The services host for live tests: test/lab/services.conf, a fixture that runs services.sh, a TCP client.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flagscan::live {

// One row of services.conf: a port of the services host and what it must show.
struct ServiceRow {
    std::string name;
    int port = 0;
    bool udp = false;  // "PORT/udp" in services.conf
    std::string package;
    std::string daemon;
    std::string service;  // nmap -sV's name ("ssl/http": http inside TLS)
    std::string ident;    // the user oidentd answers for a connection to the port
    std::vector<std::string> runs_as;
    std::vector<std::string> planted;   // --checks findings the port must give
    std::vector<std::string> safe_for;  // --checks that must find nothing there
};

struct ServicesConf {
    std::vector<ServiceRow> rows;      // the TCP ports
    std::vector<ServiceRow> udp_rows;  // the UDP ports

    const ServiceRow* find(std::string_view name) const;  // among both

    // Whitespace-separated columns, '#' comments, '-' an empty list, lists comma-separated.
    static std::optional<ServicesConf> load(const std::string& path, std::string& error);
};

std::string services_conf_path();  // FLAGSCAN_SERVICES_CONF, else services.conf beside lab.sh
std::string services_address();    // 10.77.<lab_id>.130
std::string services_address6();   // fd77:<lab_id>:5::2, the same host over IPv6

// Runs `lab.sh services VERB <lab_id()>`; empty on success, else why not. OUT gets stdout.
std::string services_command(const std::string& verb, std::string* out = nullptr);

// The services host, up for the object's lifetime (one left by a crashed run is replaced).
class ServicesLab {
public:
    ServicesLab();
    ~ServicesLab();
    ServicesLab(const ServicesLab&) = delete;
    ServicesLab& operator=(const ServicesLab&) = delete;
    const std::string& error() const { return error_; }

private:
    std::string error_;
};

// Brings the services host up once per suite and down after it; skips when not root.
class ServicesLabTest : public ::testing::Test {
public:
    static void SetUpTestSuite();
    static void TearDownTestSuite();

protected:
    void SetUp() override;
    static const ServicesConf& services() { return *conf_; }
    static const ServiceRow* row(std::string_view name);  // nullptr (and a failure) if absent

private:
    static inline std::optional<ServicesConf> conf_;
    static inline std::optional<ServicesLab> lab_;
    static inline std::string skip_reason_;
    static inline std::string setup_error_;
};

// A plain TCP client with deadlines, for talking to a daemon without flagscan.
class TcpClient {
public:
    static std::optional<TcpClient> connect(const std::string& address, int port, std::chrono::milliseconds timeout,
                                            std::string& error);
    ~TcpClient();
    TcpClient(TcpClient&& other) noexcept;
    TcpClient& operator=(TcpClient&&) = delete;
    TcpClient(const TcpClient&) = delete;
    TcpClient& operator=(const TcpClient&) = delete;

    int local_port() const;
    bool send(std::string_view data);
    // Reads until the bytes read so far contain NEEDLE, the peer closes, or TIMEOUT passes.
    std::string read_until(std::string_view needle, std::chrono::milliseconds timeout);
    // Reads whatever comes for TIMEOUT (or until the peer closes).
    std::string read_for(std::chrono::milliseconds timeout) { return read_until({}, timeout); }
    bool peer_closed() const { return closed_; }

private:
    explicit TcpClient(int fd) : fd_(fd) {}
    int fd_ = -1;
    bool closed_ = false;
};

}  // namespace flagscan::live

// The services host for live tests: services.conf's reader, the services.sh fixture, a TCP client.
#include "services_support.hpp"

#include "live_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace flagscan::live {

namespace {

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    if (text == "-") return items;
    std::istringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (!item.empty()) items.push_back(item);
    }
    return items;
}

std::optional<int> parse_port(const std::string& text) {
    int port = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc{} || end != text.data() + text.size() || port < 1 || port > 65535) return std::nullopt;
    return port;
}

// One non-comment line's nine columns as a row; nullopt when malformed.
std::optional<ServiceRow> parse_row(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> columns;
    for (std::string column; in >> column;) columns.push_back(column);
    if (columns.size() != 9) return std::nullopt;
    const bool udp = columns[1].ends_with("/udp");
    const auto port = parse_port(udp ? columns[1].substr(0, columns[1].size() - 4) : columns[1]);
    if (!port) return std::nullopt;
    return ServiceRow{columns[0], *port, udp, columns[2], columns[3], columns[4], columns[5],
                      split_list(columns[6]), split_list(columns[7]), split_list(columns[8])};
}

}  // namespace

const ServiceRow* ServicesConf::find(std::string_view name) const {
    for (const auto* list : {&rows, &udp_rows}) {
        for (const auto& row : *list) {
            if (row.name == name) return &row;
        }
    }
    return nullptr;
}

std::optional<ServicesConf> ServicesConf::load(const std::string& path, std::string& error) {
    std::ifstream in(path);
    if (!in) {
        error = "cannot read " + path;
        return std::nullopt;
    }
    ServicesConf conf;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        line = line.substr(0, line.find('#'));
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto row = parse_row(line);
        if (!row || conf.find(row->name)) {
            error = path + ":" + std::to_string(number) + ": expected 9 columns, a unique name and a port 1..65535";
            return std::nullopt;
        }
        (row->udp ? conf.udp_rows : conf.rows).push_back(std::move(*row));
    }
    return conf;
}

std::string services_conf_path() {
    return env_or("FLAGSCAN_SERVICES_CONF",
                  (std::filesystem::path(lab_script()).parent_path() / "services.conf").string());
}

std::string services_address() { return lab_address(130); }
std::string services_address6() { return "fd77:" + std::to_string(lab_id()) + ":5::2"; }

std::string services_command(const std::string& verb, std::string* out) {
    if (lab_script().empty()) return "FLAGSCAN_LAB is not set (path to test/lab/lab.sh)";
    const auto result =
        run_process({lab_script(), "services", verb, std::to_string(lab_id())}, std::chrono::seconds(60));
    if (out) *out = result.out;
    if (result.exited() && result.exit_code == 0) return {};
    return "lab.sh services " + verb + " failed: " + result.describe();
}

// ---- fixture -----------------------------------------------------------------------------

ServicesLab::ServicesLab() { error_ = services_command("up"); }  // up cleans a crashed run first

ServicesLab::~ServicesLab() {
    if (const auto error = services_command("down"); !error.empty()) ADD_FAILURE() << error;
}

void ServicesLabTest::SetUpTestSuite() {
    skip_reason_ = root_skip_reason();
    if (!skip_reason_.empty()) return;
    if (lab_id() < 0) {
        setup_error_ = "FLAGSCAN_LAB_ID must be 0..99";
        return;
    }
    conf_ = ServicesConf::load(services_conf_path(), setup_error_);
    if (!conf_) return;
    lab_.emplace();
    setup_error_ = lab_->error();
}

void ServicesLabTest::TearDownTestSuite() { lab_.reset(); }

void ServicesLabTest::SetUp() {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
}

const ServiceRow* ServicesLabTest::row(std::string_view name) {
    const ServiceRow* found = conf_->find(name);
    if (!found) ADD_FAILURE() << "services.conf has no row " << name;
    return found;
}

// ---- TCP client ----------------------------------------------------------------------------

namespace {

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

std::optional<TcpClient> TcpClient::connect(const std::string& address, int port, std::chrono::milliseconds timeout,
                                            std::string& error) {
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, address.c_str(), &peer.sin_addr) != 1) {
        error = "not an IPv4 address: " + address;
        return std::nullopt;
    }
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return std::nullopt;
    }
    TcpClient client(fd);
    const std::string where = address + ":" + std::to_string(port);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&peer), sizeof peer) != 0 && errno != EINPROGRESS) {
        error = "connect " + where + ": " + std::strerror(errno);
        return std::nullopt;
    }
    pollfd wait{fd, POLLOUT, 0};
    if (poll(&wait, 1, static_cast<int>(timeout.count())) != 1) {
        error = "connect " + where + ": no answer in " + std::to_string(timeout.count()) + " ms";
        return std::nullopt;
    }
    int status = 0;
    socklen_t length = sizeof status;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &status, &length) != 0 || status != 0) {
        error = "connect " + where + ": " + std::strerror(status);
        return std::nullopt;
    }
    return client;
}

TcpClient::~TcpClient() {
    if (fd_ >= 0) close(fd_);
}

TcpClient::TcpClient(TcpClient&& other) noexcept : fd_(other.fd_), closed_(other.closed_) { other.fd_ = -1; }

int TcpClient::local_port() const {
    sockaddr_in local{};
    socklen_t length = sizeof local;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length) != 0) return -1;
    return ntohs(local.sin_port);
}

bool TcpClient::send(std::string_view data) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!data.empty()) {
        const ssize_t sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (sent > 0) {
            data.remove_prefix(static_cast<std::size_t>(sent));
            continue;
        }
        if (sent < 0 && errno != EAGAIN && errno != EINTR) return false;
        pollfd wait{fd_, POLLOUT, 0};
        if (poll(&wait, 1, remaining_ms(deadline)) != 1) return false;
    }
    return true;
}

std::string TcpClient::read_until(std::string_view needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string data;
    while (!closed_ && (needle.empty() || data.find(needle) == std::string::npos)) {
        pollfd wait{fd_, POLLIN, 0};
        if (poll(&wait, 1, remaining_ms(deadline)) != 1) break;
        char buffer[4096];
        const ssize_t got = recv(fd_, buffer, sizeof buffer, 0);
        if (got > 0) {
            data.append(buffer, static_cast<std::size_t>(got));
        } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
            closed_ = true;
        }
    }
    return data;
}

}  // namespace flagscan::live

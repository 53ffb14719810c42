// The connect scan's wire on loopback (no root): outcomes, the open-file budget, nmap's trace lines.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "flagscan/net/address_book.hpp"
#include "flagscan/output/packet_trace.hpp"
#include "flagscan/wire/connect_driver.hpp"

namespace flagscan {
namespace {

const Ipv4 kLoopback{127, 0, 0, 1};

// A socket bound on 127.0.0.1, on a port the kernel picks: listening (the port is open), or
// not (it answers SYN with RST: closed, and no connect() of ours can take it as its own port).
struct LoopbackSocket {
    Fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    Port port{0};
    explicit LoopbackSocket(bool listening) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(kLoopback.value());
        socklen_t length = sizeof a;
        if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || (listening && ::listen(fd.get(), 64) != 0) ||
            ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &length) != 0)
            return;
        port = Port{ntohs(a.sin_port)};
    }
};

struct Listener : LoopbackSocket {
    Listener() : LoopbackSocket(true) {}
};

struct BoundOnly : LoopbackSocket {
    BoundOnly() : LoopbackSocket(false) {}
};

Probe probe_to(Port port, std::uint8_t try_no = 0) {
    Probe p;
    p.dst = kLoopback;
    p.dport = port;
    p.try_no = try_no;
    return p;
}

// Drives the driver until every started probe has an answer (or 2 s pass).
std::map<std::uint16_t, Answer> run(ConnectDriver& driver, const std::vector<Probe>& probes,
                                    std::vector<ConnectEvent>* events = nullptr) {
    const SteadyClock clock;
    if (events) driver.trace([events](const ConnectEvent& e) { events->push_back(e); });
    std::vector<TimedAnswer> out;
    for (const auto& p : probes) driver.start(p, clock.now(), out);
    const Micros give_up = clock.now() + 2 * kSecond;
    std::map<std::uint16_t, Answer> answers;
    for (;;) {
        for (const auto& [answer, ts] : out) answers.insert_or_assign(answer.port.value(), answer);
        out.clear();
        if (answers.size() == probes.size() || clock.now() > give_up) return answers;
        driver.wait(clock.now() + 10 * kMillisecond, clock, out);
    }
}

TEST(ConnectDriver, OpenAndClosedPortsOnLoopback) {
    Listener open;
    ASSERT_NE(open.port.value(), 0);
    BoundOnly closed;
    ASSERT_NE(closed.port.value(), 0);
    const Port closed_port = closed.port;
    auto driver = ConnectDriver::open(std::nullopt, "", kSecond, 16);
    ASSERT_TRUE(driver) << driver.error();
    std::vector<ConnectEvent> events;
    const auto answers = run(*driver, {probe_to(open.port), probe_to(closed_port)}, &events);
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers.at(open.port.value()).evidence.flags, evidence_for_connect_error(0)->flags);
    EXPECT_EQ(answers.at(closed_port.value()).evidence.flags, evidence_for_connect_error(ECONNREFUSED)->flags);
    EXPECT_FALSE(driver->failure());
    // Every connect() and every outcome is traced, with the errno nmap's line prints.
    bool connected = false, refused = false;
    for (const auto& e : events) {
        connected |= e.port == open.port && e.error == 0;
        refused |= e.port == closed_port && e.error == ECONNREFUSED;
    }
    EXPECT_TRUE(connected && refused) << events.size() << " events";
}

// A capacity of 2 and 20 connections started before any is read: no more than 2 are ever
// open, the others wait their turn (none is closed unanswered), and all 20 get their answer.
TEST(ConnectDriver, NeverHoldsMoreSocketsThanItsCapacity) {
    Listener open;
    ASSERT_NE(open.port.value(), 0);
    auto driver = ConnectDriver::open(std::nullopt, "", kSecond, 2);
    ASSERT_TRUE(driver) << driver.error();
    const SteadyClock clock;
    std::vector<TimedAnswer> out;
    for (std::uint8_t lane = 0; lane < 20; ++lane) {  // one port, 20 lanes: 20 distinct probes
        Probe p = probe_to(open.port);
        p.lane = lane;
        driver->start(p, clock.now(), out);
        EXPECT_LE(driver->open_sockets(), 2u);
    }
    EXPECT_EQ(driver->waiting(), 18u);
    for (int round = 0; round < 200 && driver->open_sockets() + driver->waiting() > 0; ++round) {
        driver->wait(clock.now() + 10 * kMillisecond, clock, out);
        EXPECT_LE(driver->open_sockets(), 2u);
    }
    std::set<std::uint8_t> answered;
    for (const auto& [answer, ts] : out) answered.insert(answer.lane);
    EXPECT_EQ(answered.size(), 20u);
    EXPECT_FALSE(driver->failure());
}

// A whole connect scan of loopback under an open-file limit that leaves 6 descriptors free
// while the driver believes it may hold 64 (a budget gone wrong): socket() meets EMFILE over and
// over. 0 when every port still got its right verdict (none filtered) and the driver never gave up.
int scan_short_of_descriptors() {
    Listener open;
    std::vector<Port> ports{open.port};
    std::vector<BoundOnly> bound(200);  // held, so no connect() of ours takes it as its own port
    for (const auto& b : bound) ports.push_back(b.port);
    AddressSet hosts;
    hosts.add(kLoopback);
    const TargetSet targets{hosts, ports};
    Results results{targets, {&connect_kind()}};
    EngineConfig settings;
    settings.timing.max_retries = 1;  // two tries: a shortage taken for silence twice would be "filtered"
    settings.me = ScannerIdentity{kLoopback, Port{40000}, static_cast<std::uint8_t>(settings.timing.max_retries + 1), 1};
    settings.seed = 1;
    Engine engine{targets, settings, CookieKey{1, 2}, results};
    auto driver = ConnectDriver::open(std::nullopt, "", kSecond, 64);
    const rlim_t few = open_descriptors() + 6;
    const rlimit tight{few, few};
    if (!driver || ::setrlimit(RLIMIT_NOFILE, &tight) != 0) return 3;
    const std::atomic<bool> stop{false};
    run_connect_scan(engine, *driver, SteadyClock{}, stop);
    if (driver->failure()) return 2;
    for (std::uint64_t i = 0; i < targets.size(); ++i) {
        if (results.port(i).state != (targets.at(i).port == open.port ? PortState::open : PortState::closed)) return 1;
    }
    return 0;
}

// Run in a child (the limit is the process's): no shortage is ever read as silence.
TEST(ConnectDriver, OutOfDescriptorsNoPortIsCalledFiltered) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(std::_Exit(scan_short_of_descriptors()), ::testing::ExitedWithCode(0), "");
}

TEST(ConnectDriver, ShortagesAreNotVerdicts) {
    for (int error : {EMFILE, ENFILE, ENOBUFS, ENOMEM, EADDRNOTAVAIL, EAGAIN}) {
        EXPECT_TRUE(is_local_shortage(error)) << error;
        EXPECT_FALSE(evidence_for_connect_error(error)) << error;
    }
    EXPECT_FALSE(is_local_shortage(ECONNREFUSED));
    EXPECT_FALSE(is_local_shortage(EHOSTUNREACH));
}

// The budget never wraps below zero (ulimit -n 16 once gave 18446744073709551568): too few free
// descriptors is an error, else every free one but three (epoll, reports, resolver).
TEST(ConnectDriver, ConnectionBudgetFromTheOpenFileLimit) {
    EXPECT_FALSE(connection_budget(16, 10));  // 6 free
    EXPECT_FALSE(connection_budget(16, 20));  // more open than the limit (it was lowered)
    const auto error = connection_budget(10, 5).error();
    EXPECT_NE(error.find("only 5 file descriptors free"), std::string::npos) << error;
    EXPECT_NE(error.find("ulimit -n"), std::string::npos) << error;
    EXPECT_EQ(connection_budget(16, 8).value(), 5u);
    EXPECT_EQ(connection_budget(64, 5).value(), 56u);
    EXPECT_EQ(connection_budget(1 << 20, 5).value(), (1u << 20) - 8);
    EXPECT_GE(open_descriptors(), 3u);  // at least stdin, stdout, stderr
}

// nmap 7.93's lines, e.g. "CONN (0.0245s) TCP localhost > 10.77.25.2:135 => Operation now in progress".
TEST(ConnectDriver, TraceLinesAreNmaps) {
    const Ipv4 target{10, 77, 25, 2};
    EXPECT_EQ(trace_connect(target, Port{135}, EINPROGRESS, 24500),
              "CONN (0.0245s) TCP localhost > 10.77.25.2:135 => Operation now in progress");
    EXPECT_EQ(trace_connect(target, Port{22}, 0, 25000), "CONN (0.0250s) TCP localhost > 10.77.25.2:22 => Connected");
    EXPECT_EQ(trace_connect(target, Port{23}, ECONNREFUSED, 25000),
              "CONN (0.0250s) TCP localhost > 10.77.25.2:23 => Connection refused");
    EXPECT_EQ(trace_connect(target, Port{113}, EHOSTUNREACH, 1124700),
              "CONN (1.1247s) TCP localhost > 10.77.25.2:113 => No route to host");
}

// A socket on [::1] on a port the kernel picks, listening or not; port 0 when this machine
// has no IPv6 loopback.
struct Loopback6Socket {
    Fd fd{::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    Port port{0};
    explicit Loopback6Socket(bool listening) {
        sockaddr_in6 a = socket_address(*Ipv6::parse("::1"), Port{0});
        socklen_t length = sizeof a;
        if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            (listening && ::listen(fd.get(), 64) != 0) || ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &length) != 0)
            return;
        port = Port{ntohs(a.sin6_port)};
    }
};

// -sT over IPv6: the probes name [::1] by its AddressBook key, the driver connects to
// the key's address (and binds -S's key's); the answers name the key again.
TEST(ConnectDriver, Ipv6TargetsThroughTheAddressBook) {
    Loopback6Socket open{true}, closed{false};
    if (open.port.value() == 0 || closed.port.value() == 0) GTEST_SKIP() << "no IPv6 loopback here";
    AddressBook book;
    const Ipv4 key = book.add(Ipv6Range{*Ipv6::parse("::1"), *Ipv6::parse("::1")}).value();
    auto driver = ConnectDriver::open(key, "", kSecond, 16, &book);  // -S ::1 too
    ASSERT_TRUE(driver) << driver.error();
    Probe to_open = probe_to(open.port), to_closed = probe_to(closed.port);
    to_open.dst = to_closed.dst = key;
    const auto answers = run(*driver, {to_open, to_closed});
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers.at(open.port.value()).target, key);
    EXPECT_EQ(answers.at(open.port.value()).evidence.flags, evidence_for_connect_error(0)->flags);
    EXPECT_EQ(answers.at(closed.port.value()).evidence.flags, evidence_for_connect_error(ECONNREFUSED)->flags);
    EXPECT_FALSE(driver->failure());

    Probe stray = to_open;  // a key the book does not hold: the scan stops with the reason
    stray.dst = Ipv4{0, 0, 0, 77};
    std::vector<TimedAnswer> out;
    driver->start(stray, 0, out);
    ASSERT_TRUE(driver->failure());
    EXPECT_NE(driver->failure()->find("0.0.0.77"), std::string::npos) << *driver->failure();
}

// The sockets' addresses of a scan's hosts: IPv4 as itself; an IPv6 scan's key as its address,
// and getsockname's IPv6 answer read back as the key (0.0.0.0 when the book does not hold it).
TEST(SocketAddress, KeysBecomeIpv6AddressesAndBack) {
    const auto v4 = socket_address(nullptr, Ipv4{10, 77, 75, 2}, Port{22});
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->storage.ss_family, AF_INET);
    EXPECT_EQ(v4->length, sizeof(sockaddr_in));
    EXPECT_EQ(scan_endpoint(nullptr, *v4), (std::pair{Ipv4{10, 77, 75, 2}, Port{22}}));

    AddressBook book;
    const Ipv6 address = *Ipv6::parse("fd77:75:5::2");
    const Ipv4 key = book.add(Ipv6Range{address, address}).value();
    const auto v6 = socket_address(&book, key, Port{443});
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->storage.ss_family, AF_INET6);
    EXPECT_EQ(v6->length, sizeof(sockaddr_in6));
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&v6->storage);
    EXPECT_EQ(ntohs(in6->sin6_port), 443);
    EXPECT_EQ(std::memcmp(&in6->sin6_addr, address.bytes().data(), 16), 0);
    EXPECT_EQ(scan_endpoint(&book, *v6), (std::pair{key, Port{443}}));
    EXPECT_FALSE(socket_address(&book, Ipv4{0, 0, 0, 99}, Port{443}));  // a key the book does not hold

    SocketAddress stranger;  // an IPv6 address outside the book: its port, no key
    const sockaddr_in6 other = socket_address(*Ipv6::parse("fd77:75:5::9"), Port{40000});
    std::memcpy(&stranger.storage, &other, sizeof other);
    stranger.length = sizeof other;
    EXPECT_EQ(scan_endpoint(&book, stranger), (std::pair{Ipv4{}, Port{40000}}));
    EXPECT_FALSE(scan_endpoint(&book, SocketAddress{}));  // AF_UNSPEC
}

}  // namespace
}  // namespace flagscan

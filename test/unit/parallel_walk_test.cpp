// ParallelWalk: which probes run ahead (a pure guess over a copied walk), and walks on loopback
// against scripted services giving nmap's one-probe-at-a-time verdict, sooner; the driver's
// cancel and first-in-line.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flagscan/engine/results.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/service/parallel_walk.hpp"
#include "flagscan/wire/fd.hpp"

namespace flagscan {
namespace {

// A tiny probe file with short waits: the NULL probe, then Alpha, Beta, Gamma (rarity 1, in
// that order), Delta only for telnet after a softmatch (rarity 9).
constexpr std::string_view kProbes =
    "Probe TCP NULL q||\n"
    "totalwaitms 600\n"
    "match ftp m|^220 fake ftp| p/FakeFTP/\n"
    "softmatch telnet m|^\\xff\\xfb|\n"
    "Probe TCP Alpha q|ALPHA\\r\\n|\n"
    "rarity 1\n"
    "totalwaitms 400\n"
    "match alpha m|alpha-ok| p/Alpha/\n"
    "match ssl m|^\\x16\\x03|\n"
    "Probe TCP Beta q|BETA\\r\\n|\n"
    "rarity 1\n"
    "totalwaitms 400\n"
    "match beta m|beta-ok| p/Beta/\n"
    "Probe TCP Gamma q|GAMMA\\r\\n|\n"
    "rarity 1\n"
    "totalwaitms 400\n"
    "match gamma m|gamma-ok|\n"
    "Probe TCP Delta q|DELTA\\r\\n|\n"
    "rarity 9\n"
    "totalwaitms 400\n"
    "match telnet m|^\\xff\\xfb.*delta| p/FakeTelnet/\n";

class ParallelWalkTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto parsed = ServiceProbeDb::parse(kProbes, "probes.txt");
        ASSERT_TRUE(parsed.ok()) << parsed.error();
        db_.emplace(std::move(parsed).value());
        matcher_.emplace(*db_);
    }
    std::size_t probe(std::string_view name) const { return *db_->find(name, Protocol::tcp); }
    ProbeKey key(std::string_view name) const { return ProbeKey{ServiceTunnel::none, probe(name)}; }
    VersionWalk walk(Port port = Port{4000}) const { return VersionWalk{*db_, *matcher_, port, 7}; }
    static ProbeAnswer answered(std::string bytes, Ending ending = Ending::peer_closed) {
        ProbeAnswer a;
        a.received = std::move(bytes);
        a.ending = ending;
        a.connected_for = 50 * kMillisecond;
        return a;
    }
    ProbeAnswer answered_to(std::string_view name, std::string bytes) const {
        ProbeAnswer a = answered(std::move(bytes));
        a.match = walk().match(probe(name), a.received);
        return a;
    }

    std::optional<ServiceProbeDb> db_;
    mutable std::optional<ServiceMatcher> matcher_;
};

TEST_F(ParallelWalkTest, BesideASilentNullProbeTheProbesAfterTheOneItWillCarryStart) {
    VersionWalk w = walk();
    ASSERT_TRUE(w.start());
    const std::map<ProbeKey, ProbeSoFar> under_way{{key("NULL"), ProbeSoFar{}}};
    const Ahead ahead = probes_ahead(w, {}, under_way, 10);
    EXPECT_EQ(ahead.start, (std::vector<ProbeKey>{key("Beta"), key("Gamma")})) << "Alpha goes over the NULL probe's connection";
    EXPECT_EQ(ahead.wanted, (std::vector<ProbeKey>{key("NULL")}));
    EXPECT_EQ(probes_ahead(w, {}, under_way, 1).start, (std::vector<ProbeKey>{key("Beta")})) << "the budget bounds it";
}

TEST_F(ParallelWalkTest, AKnownHardMatchEndsTheGuessAndWhatIsPastItIsNotWanted) {
    VersionWalk w = walk();
    ASSERT_TRUE(w.start());
    const std::map<ProbeKey, ProbeAnswer> answers{{key("Beta"), answered_to("Beta", "beta-ok\r\n")}};
    const std::map<ProbeKey, ProbeSoFar> under_way{{key("NULL"), {}}, {key("Gamma"), {}}};
    const Ahead ahead = probes_ahead(w, answers, under_way, 10);
    EXPECT_TRUE(ahead.start.empty());
    EXPECT_EQ(ahead.wanted, (std::vector<ProbeKey>{key("NULL")})) << "Gamma is past Beta's hard match";
}

TEST_F(ParallelWalkTest, ANullProbesSoftmatchSoFarNarrowsTheGuessAsItWillNarrowTheWalk) {
    VersionWalk w = walk();
    ASSERT_TRUE(w.start());
    const std::string telnet = "\xff\xfb\x01";
    const std::map<ProbeKey, ProbeSoFar> under_way{{key("NULL"), ProbeSoFar{telnet, w.match(probe("NULL"), telnet)}}};
    // Bytes heard: no connection to lend; only the probes that can name telnet, rarity aside.
    EXPECT_EQ(probes_ahead(w, {}, under_way, 10).start, (std::vector<ProbeKey>{key("Delta")}));
}

TEST_F(ParallelWalkTest, AnSslAnswerTakesTheGuessIntoTls) {
    VersionWalk w = walk();
    ASSERT_TRUE(w.start());
    const std::map<ProbeKey, ProbeAnswer> answers{{key("NULL"), answered("", Ending::open)},
                                                  {key("Alpha"), answered_to("Alpha", "\x16\x03\x01")}};
    const Ahead ahead = probes_ahead(w, answers, {}, 2);
    const ProbeKey tls_null{ServiceTunnel::ssl, probe("NULL")};
    const ProbeKey tls_alpha{ServiceTunnel::ssl, probe("Alpha")};
    EXPECT_EQ(ahead.start, (std::vector<ProbeKey>{tls_null, tls_alpha}))
        << "inside TLS the walk starts over (its NULL probe not started yet: nothing to lend)";
}

TEST_F(ParallelWalkTest, AnAnsweredNullProbeLendsNothing) {
    VersionWalk w = walk();
    ASSERT_TRUE(w.start());
    const std::map<ProbeKey, ProbeAnswer> answers{{key("NULL"), answered("", Ending::open)}};
    EXPECT_EQ(probes_ahead(w, answers, {}, 1).start, (std::vector<ProbeKey>{key("Alpha")}));
}

// ---- on loopback ---------------------------------------------------------------------------

const Ipv4 kLoopback{127, 0, 0, 1};

// A scripted service on 127.0.0.1, served between the driver's turns: it may greet, and it
// answers each line it knows ("ALPHA" -> REPLIES["ALPHA"]), saying nothing to the rest.
class ScriptedService {
public:
    ScriptedService(std::string greeting, std::map<std::string, std::string> replies)
        : greeting_(std::move(greeting)), replies_(std::move(replies)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(kLoopback.value());
        socklen_t length = sizeof a;
        if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(listener_.get(), 64) == 0 &&
            ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&a), &length) == 0)
            port_ = Port{ntohs(a.sin_port)};
    }
    Port port() const { return port_; }
    std::size_t accepted() const { return clients_.size(); }

    void serve() {
        for (int fd; (fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
            Client& client = clients_.emplace_back(Client{Fd{fd}, {}});
            if (!greeting_.empty()) (void)::send(fd, greeting_.data(), greeting_.size(), MSG_NOSIGNAL);
            (void)client;
        }
        for (Client& client : clients_) {
            char buffer[512];
            for (ssize_t n; client.fd && (n = ::recv(client.fd.get(), buffer, sizeof buffer, 0)) > 0;)
                client.pending.append(buffer, static_cast<std::size_t>(n));
            for (std::size_t end; (end = client.pending.find("\r\n")) != std::string::npos;) {
                const auto reply = replies_.find(client.pending.substr(0, end));
                client.pending.erase(0, end + 2);
                if (reply != replies_.end()) (void)::send(client.fd.get(), reply->second.data(), reply->second.size(), MSG_NOSIGNAL);
            }
        }
    }

private:
    struct Client {
        Fd fd;
        std::string pending;
    };
    Fd listener_{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    Port port_{0};
    std::string greeting_;
    std::map<std::string, std::string> replies_;
    std::vector<Client> clients_;
};

// Turns the driver, serving SERVICE between turns, until it is finished (or 10 s pass).
Micros drive(ConversationDriver& driver, ScriptedService& service) {
    const SteadyClock clock;
    const Micros started = clock.now();
    while (!driver.finished() && clock.now() - started < 10 * kSecond) {
        driver.turn(clock, clock.now() + 2 * kMillisecond);
        service.serve();
    }
    return clock.now() - started;
}

ConversationDriver open_driver() {
    ConversationLimits limits;
    limits.max_sockets = 32;
    limits.connect_timeout = kSecond;
    return std::move(ConversationDriver::open(limits)).value();
}

struct Outcome {
    std::optional<ServiceFound> found;
    Micros elapsed = 0;
    std::size_t connections = 0;
};

TEST_F(ParallelWalkTest, OnLoopbackTheVerdictIsTheOneAtATimeWalksAndComesSooner) {
    // A greeting nothing matches, Alpha unanswered, Beta and Gamma both named: nmap's order says
    // Beta, though Gamma may answer first.
    const std::map<std::string, std::string> replies{{"BETA", "beta-ok\r\n"}, {"GAMMA", "gamma-ok\r\n"}};
    auto run = [&](std::size_t ahead) {
        ScriptedService service{"hello\r\n", replies};
        EXPECT_NE(service.port().value(), 0);
        ConversationDriver driver = open_driver();
        AheadSettings settings;
        settings.ahead = ahead;
        settings.grace = 100 * kMillisecond;
        ParallelWalk walk{driver, {kLoopback, service.port(), Transport::tcp}, this->walk(service.port()), settings};
        walk.start();
        Outcome outcome;
        outcome.elapsed = drive(driver, service);
        EXPECT_TRUE(walk.done());
        outcome.found = walk.found();
        outcome.connections = driver.stats().connections;
        return outcome;
    };
    const Outcome one = run(1);  // NULL 600 ms, Alpha 400 ms, then Beta
    const Outcome parallel = run(4);
    ASSERT_TRUE(one.found);
    ASSERT_TRUE(parallel.found);
    EXPECT_EQ(one.found->name, "beta");
    EXPECT_EQ(parallel.found->name, one.found->name);
    EXPECT_EQ(parallel.found->product, one.found->product);
    EXPECT_EQ(one.connections, 3u);
    EXPECT_GE(one.elapsed, 1000 * kMillisecond);
    EXPECT_LT(parallel.elapsed, one.elapsed - 300 * kMillisecond) << "Alpha's wait no longer follows the NULL probe's";
}

TEST_F(ParallelWalkTest, OnLoopbackAGreetingNamesThePortWithoutASecondConnection) {
    ScriptedService service{"220 fake ftp ready\r\n", {}};
    ConversationDriver driver = open_driver();
    ParallelWalk walk{driver, {kLoopback, service.port(), Transport::tcp}, this->walk(service.port()), AheadSettings{}};
    walk.start();
    const Micros elapsed = drive(driver, service);
    ASSERT_TRUE(walk.found());
    EXPECT_EQ(walk.found()->product, "FakeFTP");
    EXPECT_EQ(driver.stats().connections, 1u) << "within the grace, nothing runs ahead";
    EXPECT_LT(elapsed, 400 * kMillisecond);
}

TEST_F(ParallelWalkTest, OnLoopbackASilentPortWaitsOutTheLongestWaitNotTheirSum) {
    ScriptedService service{"", {}};
    ConversationDriver driver = open_driver();
    AheadSettings settings;
    settings.grace = 100 * kMillisecond;
    ParallelWalk walk{driver, {kLoopback, service.port(), Transport::tcp}, this->walk(service.port()), settings};
    walk.start();
    const Micros elapsed = drive(driver, service);
    EXPECT_TRUE(walk.done());
    EXPECT_FALSE(walk.found());
    EXPECT_EQ(walk.probes_started(), 3u) << "NULL (then Alpha on its connection), Beta, Gamma";
    EXPECT_LT(elapsed, 1400 * kMillisecond) << "one at a time: 600 + 3 x 400 ms";
}

// ---- the driver: cancel, first in line ------------------------------------------------------

// Listens for WAIT, then finishes; on its end it may cancel another conversation.
class Listen final : public Dialog {
public:
    explicit Listen(Micros wait, std::vector<int>* order = nullptr, int name = 0) : wait_(wait), order_(order), name_(name) {}
    Step start() override {
        if (order_) order_->push_back(name_);
        return Step::probe(Link::plain, {}, wait_);
    }
    Step next(const Exchange&) override {
        ++ended;
        if (cancel_) driver_->cancel(*cancel_);
        return Step::finish();
    }
    void cancel_on_end(ConversationDriver& driver, ConversationDriver::Id id) {
        driver_ = &driver;
        cancel_ = id;
    }
    int ended = 0;

private:
    Micros wait_;
    std::vector<int>* order_;
    int name_;
    ConversationDriver* driver_ = nullptr;
    std::optional<ConversationDriver::Id> cancel_;
};

TEST_F(ParallelWalkTest, ACancelledConversationEndsAtOnceAndIsNotAskedAgain) {
    ScriptedService service{"", {}};
    ConversationDriver driver = open_driver();
    Listen slow{5 * kSecond};
    Listen quick{50 * kMillisecond};
    Listen queued{5 * kSecond};
    const auto slow_id = driver.add({kLoopback, service.port(), Transport::tcp}, slow);
    quick.cancel_on_end(driver, slow_id);
    driver.add({kLoopback, service.port(), Transport::tcp}, quick);
    driver.cancel(driver.add({kLoopback, service.port(), Transport::tcp}, queued));  // before it ever started
    const Micros elapsed = drive(driver, service);
    EXPECT_TRUE(driver.finished());
    EXPECT_LT(elapsed, kSecond);
    EXPECT_EQ(slow.ended, 0);
    EXPECT_EQ(quick.ended, 1);
    EXPECT_EQ(queued.ended, 0);
    EXPECT_EQ(driver.open_sockets(), 0u);
    EXPECT_EQ(driver.stats().connections, 2u);
}

TEST_F(ParallelWalkTest, AConversationAddedFirstGoesAheadOfItsHostsQueue) {
    ScriptedService service{"", {}};
    ConversationLimits limits;
    limits.max_sockets = 4;
    limits.per_host = 1;
    ConversationDriver driver = std::move(ConversationDriver::open(limits)).value();
    std::vector<int> order;
    Listen a{10 * kMillisecond, &order, 1}, b{10 * kMillisecond, &order, 2}, c{10 * kMillisecond, &order, 3};
    driver.add({kLoopback, service.port(), Transport::tcp}, a);
    driver.add({kLoopback, service.port(), Transport::tcp}, b);
    driver.add({kLoopback, service.port(), Transport::tcp}, c, true);
    drive(driver, service);
    EXPECT_EQ(order, (std::vector<int>{3, 1, 2}));
}

// ---- the walk over a scan's open TCP ports ---------------------------------------------------

TEST(OpenTcpPorts, EveryOpenTcpPortHostByHostInReportOrder) {
    AddressSet hosts;
    hosts.add(Ipv4{10, 0, 0, 2});
    hosts.add(Ipv4{10, 0, 0, 3});
    const TargetSet targets{hosts, std::vector<Port>{Port{80}, Port{22}, Port{443}}};
    Results results{targets, {&syn_kind()}};
    PortResult open;
    open.state = PortState::open;
    PortResult closed;
    closed.state = PortState::closed;
    for (std::uint64_t i = 0; i < targets.size(); ++i) results.set(i, closed);
    results.set(*targets.index_of(0, 0, Port{80}), open);
    results.set(*targets.index_of(0, 0, Port{22}), open);
    results.set(*targets.index_of(1, 0, Port{443}), open);
    const std::vector<OpenTcpPort> ports = open_tcp_ports(results);
    ASSERT_EQ(ports.size(), 3u);
    EXPECT_EQ(ports[0].port, Port{22});
    EXPECT_EQ(ports[1].port, Port{80});
    EXPECT_EQ(ports[0].address, (Ipv4{10, 0, 0, 2}));
    EXPECT_EQ(ports[2].address, (Ipv4{10, 0, 0, 3}));
    EXPECT_EQ(ports[2].index, *targets.index_of(1, 0, Port{443}));
}

}  // namespace
}  // namespace flagscan

// Live conversations: the driver and --banners against services started in the lab namespace
// (a banner, silence, accept-and-close, a 10 MB flood, a never-ending sender, a reset in the
// middle of a banner, TLS), with the outcomes each must give and the time each may take.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "flagscan/service/banner.hpp"
#include "flagscan/service/conversations.hpp"
#include "flagscan/wire/connect_driver.hpp"
#include "live_support.hpp"

namespace flagscan::live {
namespace {

enum : int { kBanner = 4001, kSilent, kAcceptClose, kFlood, kNeverStop, kResetMid, kTls, kTwoParts, kNobody = 4010 };

// banner_servers.py inside the lab's namespace for the lifetime of the object.
class LabServers {
public:
    LabServers() {
        const std::string cert = dir_.path() + "/cert.pem", key = dir_.path() + "/key.pem";
        const auto made = run_process({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                                       cert, "-days", "1", "-subj", "/CN=flaglab.test"},
                                      std::chrono::seconds(60));
        if (made.exit_code != 0) {
            error_ = "openssl req: " + made.describe();
            return;
        }
        const std::string log = dir_.path() + "/servers.log";
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setsid();
            std::freopen(log.c_str(), "w", stdout);
            std::freopen(log.c_str(), "a", stderr);
            const std::string ns = "fslab" + std::to_string(lab_id());
            const std::string script = FLAGSCAN_SOURCE_ROOT "/test/live/banner_servers.py";
            ::execlp("ip", "ip", "netns", "exec", ns.c_str(), "python3", script.c_str(), cert.c_str(), key.c_str(), nullptr);
            ::_exit(127);
        }
        for (int i = 0; i < 100 && read_file(log).find("ready") == std::string::npos; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (read_file(log).find("ready") == std::string::npos) error_ = "servers did not start: " + read_file(log);
    }
    ~LabServers() {
        if (pid_ <= 0) return;
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    LabServers(const LabServers&) = delete;
    LabServers& operator=(const LabServers&) = delete;
    const std::string& error() const { return error_; }

private:
    TempDir dir_;
    pid_t pid_ = -1;
    std::string error_;
};

// One step, its Exchange copied out (the driver's view of the bytes ends with the call).
class OneStep final : public Dialog {
public:
    explicit OneStep(Step step, std::size_t enough_at = 0) : step_(std::move(step)), enough_at_(enough_at) {}
    Step start() override { return step_; }
    bool enough(std::string_view received) override { return enough_at_ > 0 && received.size() >= enough_at_; }
    Step next(const Exchange& exchange) override {
        received = std::string(exchange.received);
        result = exchange;
        result.received = received;
        if (exchange.tls != nullptr) tls = *exchange.tls;
        return Step::finish();
    }
    std::string received;
    Exchange result;
    std::optional<TlsInfo> tls;

private:
    Step step_;
    std::size_t enough_at_;
};

class Conversations : public LabTest {
protected:
    static void SetUpTestSuite() {
        LabTest::SetUpTestSuite();
        if (::geteuid() == 0) servers_ = std::make_unique<LabServers>();
    }
    static void TearDownTestSuite() {
        servers_.reset();
        LabTest::TearDownTestSuite();
    }
    void SetUp() override {
        LabTest::SetUp();
        if (IsSkipped()) return;
        ASSERT_TRUE(servers_ && servers_->error().empty()) << (servers_ ? servers_->error() : "no servers");
    }

    // Runs the dialogs to their end; returns the wall time it took.
    static Micros talk(std::vector<std::pair<int, Dialog*>> talks, ConversationLimits limits = {}) {
        auto driver = ConversationDriver::open(limits);
        EXPECT_TRUE(driver) << driver.error();
        const Ipv4 target = *Ipv4::parse(lab_address(2));
        for (auto& [port, dialog] : talks) driver->add({target, Port{static_cast<std::uint16_t>(port)}, Transport::tcp}, *dialog);
        const SteadyClock clock;
        const Micros started = clock.now();
        driver->run(clock);
        EXPECT_FALSE(driver->failure()) << *driver->failure();
        return clock.now() - started;
    }

    static inline std::unique_ptr<LabServers> servers_;
};

Step null_probe(Micros wait = 3 * kSecond, Micros quiet = 300 * kMillisecond) {
    return Step::probe(Link::plain, {}, wait, quiet);
}

TEST_F(Conversations, ABannerEndsTheWaitOnceQuiet) {
    OneStep dialog{null_probe()};
    const Micros took = talk({{kBanner, &dialog}});
    EXPECT_EQ(dialog.received, "SSH-2.0-FlagLab_1.0\r\n");
    EXPECT_EQ(dialog.result.ending, Ending::open);
    EXPECT_EQ(dialog.result.wait_end, WaitEnd::quiet);
    EXPECT_LT(took, 1 * kSecond);
    EXPECT_GE(dialog.result.first_byte_after, 0);
}

TEST_F(Conversations, TheDialogCanSayEnoughBeforeTheQuietTime) {
    OneStep dialog{null_probe(5 * kSecond, 0), 4};
    const Micros took = talk({{kBanner, &dialog}});
    EXPECT_EQ(dialog.result.wait_end, WaitEnd::enough);
    EXPECT_LT(took, 200 * kMillisecond);
}

TEST_F(Conversations, ABannerInTwoPartsIsKeptWhole) {
    OneStep dialog{null_probe()};
    talk({{kTwoParts, &dialog}});
    EXPECT_EQ(dialog.received, "220-first part\r\n220 second part\r\n");
}

TEST_F(Conversations, ASilentServiceIsWaitedForTheFullWait) {
    OneStep dialog{null_probe(700 * kMillisecond)};
    const Micros took = talk({{kSilent, &dialog}});
    EXPECT_TRUE(dialog.received.empty());
    EXPECT_EQ(dialog.result.ending, Ending::open);
    EXPECT_EQ(dialog.result.wait_end, WaitEnd::full);
    EXPECT_GE(took, 700 * kMillisecond);
    EXPECT_LT(took, 1500 * kMillisecond);
    EXPECT_FALSE(is_tcpwrapped(dialog.result));
}

TEST_F(Conversations, AcceptAndCloseIsTcpwrapped) {
    OneStep dialog{null_probe()};
    talk({{kAcceptClose, &dialog}});
    EXPECT_TRUE(dialog.result.ending == Ending::peer_closed || dialog.result.ending == Ending::reset)
        << to_string(dialog.result.ending);
    EXPECT_TRUE(is_tcpwrapped(dialog.result));
}

TEST_F(Conversations, ATenMegabyteFloodIsCutAtTheBound) {
    OneStep dialog{null_probe(5 * kSecond, 0)};
    const Micros took = talk({{kFlood, &dialog}});
    EXPECT_EQ(dialog.received.size(), 64u * 1024);
    EXPECT_TRUE(dialog.result.truncated());
    EXPECT_LT(took, 2 * kSecond);
}

TEST_F(Conversations, ASenderThatNeverStopsIsBoundedToo) {
    OneStep dialog{null_probe(5 * kSecond, 100 * kMillisecond)};
    ConversationLimits limits;
    limits.max_received = 1024 * 1024;
    const Micros took = talk({{kNeverStop, &dialog}}, limits);
    EXPECT_EQ(dialog.received.size(), 1024u * 1024);
    EXPECT_EQ(dialog.result.wait_end, WaitEnd::bound);
    EXPECT_LT(took, 3 * kSecond);
}

TEST_F(Conversations, AResetInTheMiddleOfABannerIsReported) {
    OneStep dialog{null_probe(3 * kSecond, 0)};
    const Micros took = talk({{kResetMid, &dialog}});
    EXPECT_EQ(dialog.result.ending, Ending::reset) << to_string(dialog.result.ending);
    EXPECT_EQ(dialog.received, "220 half a ban");  // read before the RST came
    EXPECT_LT(took, 1 * kSecond);
}

TEST_F(Conversations, AClosedPortIsRefused) {
    OneStep dialog{null_probe()};
    talk({{kNobody, &dialog}});
    EXPECT_EQ(dialog.result.ending, Ending::refused);
    EXPECT_EQ(dialog.result.connected_for, -1);
}

TEST_F(Conversations, TlsHandshakeThenTheBannerInside) {
    OneStep dialog{Step::probe(Link::tls, {}, 3 * kSecond, 300 * kMillisecond)};
    talk({{kTls, &dialog}});
    EXPECT_EQ(dialog.received, "TLS-BANNER hello\r\n");
    ASSERT_TRUE(dialog.tls.has_value());
    EXPECT_EQ(dialog.tls->version, "TLSv1.3");
    EXPECT_FALSE(dialog.tls->cipher.empty());
    EXPECT_EQ(dialog.tls->subject_cn, "flaglab.test");
}

TEST_F(Conversations, TlsToAPlainServiceIsAHandshakeFailure) {
    OneStep dialog{Step::probe(Link::tls, {}, 3 * kSecond)};
    ConversationLimits limits;
    limits.connect_timeout = 2 * kSecond;
    talk({{kBanner, &dialog}, }, limits);
    EXPECT_EQ(dialog.result.ending, Ending::tls_failed);
    EXPECT_FALSE(dialog.tls.has_value());
}

// UDP: a datagram out, the echo back (lab-listener on 53); a closed port's ICMP 3/3 is refused.
TEST_F(Conversations, UdpProbesGetTheirAnswerOrRefusal) {
    OneStep echo{Step::probe(Link::plain, "ping\r\n", 2 * kSecond, 100 * kMillisecond)};
    OneStep closed{Step::probe(Link::plain, "ping\r\n", 2 * kSecond)};
    auto driver = ConversationDriver::open({});
    ASSERT_TRUE(driver) << driver.error();
    const Ipv4 target = *Ipv4::parse(lab_address(2));
    driver->add({target, Port{53}, Transport::udp}, echo);
    driver->add({target, Port{4010}, Transport::udp}, closed);
    const SteadyClock clock;
    driver->run(clock);
    EXPECT_EQ(echo.received, "ping\r\n");
    EXPECT_EQ(echo.result.wait_end, WaitEnd::quiet);
    EXPECT_EQ(closed.result.ending, Ending::refused) << to_string(closed.result.ending);
}

// A NULL probe, then a probe on the same connection, then one on a new connection.
class ThreeSteps final : public Dialog {
public:
    Step start() override { return null_probe(2 * kSecond, 200 * kMillisecond); }
    Step next(const Exchange& exchange) override {
        endings.push_back(exchange.ending);
        received.emplace_back(exchange.received);
        connected_for.push_back(exchange.connected_for);
        if (endings.size() == 1) return Step::probe(Link::reuse, "hello\r\n", 300 * kMillisecond);
        if (endings.size() == 2) return Step::probe(Link::plain, {}, 2 * kSecond, 200 * kMillisecond);
        return Step::finish();
    }
    std::vector<Ending> endings;
    std::vector<std::string> received;
    std::vector<Micros> connected_for;
};

TEST_F(Conversations, StepsReuseTheConnectionOrOpenANewOne) {
    ThreeSteps dialog;
    talk({{kBanner, &dialog}});
    ASSERT_EQ(dialog.endings.size(), 3u);
    EXPECT_EQ(dialog.received[0], "SSH-2.0-FlagLab_1.0\r\n");
    EXPECT_EQ(dialog.received[1], "");                        // the same connection: no second banner
    EXPECT_GT(dialog.connected_for[1], dialog.connected_for[0]);
    EXPECT_EQ(dialog.received[2], "SSH-2.0-FlagLab_1.0\r\n");  // a new one: the banner again
    EXPECT_LT(dialog.connected_for[2], dialog.connected_for[1]);
}

// Many at once under a per-host cap: every one completes, and the rate is reported.
TEST_F(Conversations, ManyConversationsUnderAPerHostCap) {
    for (const std::size_t cap : {10u, 100u}) {
        constexpr int kCount = 1000;
        std::vector<std::unique_ptr<OneStep>> dialogs;
        std::vector<std::pair<int, Dialog*>> talks;
        for (int i = 0; i < kCount; ++i) {
            dialogs.push_back(std::make_unique<OneStep>(null_probe(3 * kSecond, 0), 21));  // enough: the whole banner
            talks.emplace_back(kBanner, dialogs.back().get());
        }
        ConversationLimits limits;
        limits.per_host = cap;
        const Micros took = talk(talks, limits);
        int banners = 0;
        for (const auto& d : dialogs) banners += d->received == "SSH-2.0-FlagLab_1.0\r\n" ? 1 : 0;
        EXPECT_EQ(banners, kCount);
        std::printf("[ measure  ] %d banner conversations, per-host cap %zu: %.0f ms, %.0f conversations/s\n", kCount, cap,
                    double(took) / kMillisecond, kCount * double(kSecond) / double(took));
    }
}

// The driver's own rate: lab-listener accepts and closes at once (tcpwrapped), on every address
// of the lab's wide range, so neither a server nor the per-host cap sets the pace.
TEST_F(Conversations, RateOverManyHosts) {
    constexpr int kHosts = 1500;
    const std::vector<int> ports{22, 80, 443, 3306, 8080, 31337, 60000};
    std::vector<std::unique_ptr<OneStep>> dialogs;
    auto driver = ConversationDriver::open({});
    ASSERT_TRUE(driver) << driver.error();
    for (int h = 0, added = 0; added < kHosts; ++h) {
        if (h % 4 == 3) continue;  // layout.conf wide_dropped_mod4=3: those addresses drop everything
        const Ipv4 host{10, static_cast<std::uint8_t>(100 + lab_id()), static_cast<std::uint8_t>(1 + h / 256),
                        static_cast<std::uint8_t>(h % 256)};
        for (const int port : ports) {
            dialogs.push_back(std::make_unique<OneStep>(null_probe()));
            driver->add({host, Port{static_cast<std::uint16_t>(port)}, Transport::tcp}, *dialogs.back());
        }
        ++added;
    }
    const SteadyClock clock;
    const Micros started = clock.now();
    driver->run(clock);
    const Micros took = clock.now() - started;
    ASSERT_FALSE(driver->failure()) << *driver->failure();
    int wrapped = 0;
    for (const auto& d : dialogs) wrapped += is_tcpwrapped(d->result) ? 1 : 0;
    EXPECT_EQ(wrapped, static_cast<int>(dialogs.size()));
    std::printf("[ measure  ] %zu conversations (%d hosts x %zu ports, accept-and-close), %zu sockets at most: %.0f ms, "
                "%.0f conversations/s, %llu shortages waited out\n",
                dialogs.size(), kHosts, ports.size(), driver->capacity(), double(took) / kMillisecond,
                double(dialogs.size()) * double(kSecond) / double(took),
                static_cast<unsigned long long>(driver->stats().shortages));
}

// Fewer descriptors than the driver was told it may use: EMFILE is a shortage to wait out,
// never an outcome; every conversation still ends as the service made it end.
TEST_F(Conversations, RunningOutOfDescriptorsIsWaitedOut) {
    rlimit before{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
    ConversationLimits limits;
    limits.max_sockets = 400;  // more than the limit below leaves
    limits.per_host = 400;
    auto driver = ConversationDriver::open(limits);
    ASSERT_TRUE(driver) << driver.error();
    std::vector<std::unique_ptr<OneStep>> dialogs;
    for (int i = 0; i < 600; ++i) {
        const Ipv4 host{10, static_cast<std::uint8_t>(100 + lab_id()), 7, static_cast<std::uint8_t>(i % 3)};
        dialogs.push_back(std::make_unique<OneStep>(null_probe()));
        driver->add({host, Port{22}, Transport::tcp}, *dialogs.back());
    }
    rlimit tight = before;
    tight.rlim_cur = open_descriptors() + 24;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
    const SteadyClock clock;
    driver->run(clock);
    ::setrlimit(RLIMIT_NOFILE, &before);
    ASSERT_FALSE(driver->failure()) << *driver->failure();
    EXPECT_GT(driver->stats().shortages, 0u);
    int wrapped = 0;
    for (const auto& d : dialogs) wrapped += is_tcpwrapped(d->result) ? 1 : 0;
    EXPECT_EQ(wrapped, 600);
}

// The line after the one starting with `start` in `text`, or "" when there is none.
std::string line_after(const std::string& text, const std::string& start) {
    const auto at = text.find("\n" + start);
    if (at == std::string::npos) return {};
    const auto next = text.find('\n', at + 1);
    if (next == std::string::npos) return {};
    return text.substr(next + 1, text.find('\n', next + 1) - next - 1);
}

// The command: -sS and -sT with --banners, in the normal report.
TEST_F(Conversations, BannersOptionShowsTheFirstBytesOfEachOpenPort) {
    for (const std::string kind : {"-sS", "-sT"}) {
        const auto scan = LabTest::scan({kind, "-p", "4001,4002,4003,4006,4010", "--banners", "-n", "-Pn"}, lab_address(2));
        ASSERT_EQ(scan.process.exit_code, 0) << scan.process.describe();
        const std::string& out = scan.process.out;
        EXPECT_EQ(line_after(out, "4001/tcp"), "|_banner: SSH-2.0-FlagLab_1.0\\r\\n") << kind << '\n' << out;
        EXPECT_EQ(line_after(out, "4006/tcp"), "|_banner: 220 half a ban") << kind << '\n' << out;
        EXPECT_EQ(line_after(out, "4002/tcp").rfind("4003/tcp", 0), 0u) << kind << '\n' << out;  // silent: none
        EXPECT_EQ(line_after(out, "4003/tcp").rfind("4006/tcp", 0), 0u) << kind << '\n' << out;  // tcpwrapped: none
    }
}

TEST_F(Conversations, BannersAreInTheJsonPortObject) {
    TempDir dir;
    const std::string json = dir.path() + "/scan.jsonl";
    const auto run = run_process({flagscan_bin(), "-sS", "-p", "4001,4002,4008", "--banners", "-n", "-Pn", "-oJ", json,
                                  lab_address(2)},
                                 std::chrono::seconds(60));
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    const std::string text = read_file(json);
    EXPECT_NE(text.find(R"("port":4001,"proto":"tcp","state":"open","reason":"syn-ack","ttl":64,"banner":"SSH-2.0-FlagLab_1.0\\r\\n"})"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(R"("banner":"220-first part\\r\\n220 second part\\r\\n")"), std::string::npos) << text;
    EXPECT_EQ(text.find(R"("port":4002,"proto":"tcp","state":"open","reason":"syn-ack","ttl":64,"banner")"), std::string::npos)
        << text;
}

}  // namespace
}  // namespace flagscan::live

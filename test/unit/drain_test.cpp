// Ctrl-C's end of a scan: nothing sent after the stop, replies in flight still taken in for one timeout.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <set>

#include "flagscan/wire/connect_driver.hpp"
#include "sim_scan.hpp"

namespace flagscan {
namespace {

using testing::SimScan;
using testing::one_host;
using testing::port_range;

const Ipv4 kTarget{10, 77, 22, 2};

SimConfig lab() {
    SimConfig net;
    SimHost host;
    host.open = {22, 80, 443, 3306};
    host.rejected = {113};
    host.dropped = {135, 445, 1007, 2000, 2001, 2002};
    net.hosts[kTarget] = host;
    return net;
}

struct StopRecord {
    std::uint64_t sends = 0;
    std::uint64_t sends_after_stop = 0;
    Micros stopped_at = -1;
    Micros rto_at_stop = 0;
    std::uint64_t decided_at_stop = 0;
    std::size_t in_flight_at_stop = 0;
};

// Hooks that set `stop` once `after` probes went out, and count what is sent after it.
LoopHooks stop_after(std::uint64_t after, std::atomic<bool>& stop, StopRecord& record, const SimScan& scan) {
    LoopHooks hooks;
    hooks.sent = [&, after](const Probe&, std::span<const std::uint8_t>, Micros when) {
        if (record.stopped_at >= 0 && when > record.stopped_at) ++record.sends_after_stop;
        if (++record.sends != after) return;
        stop = true;
        record.stopped_at = when;
        record.rto_at_stop = scan.engine->rto();
        record.decided_at_stop = scan.results->decided();
        record.in_flight_at_stop = scan.engine->in_flight();
    };
    return hooks;
}

TEST(Drain, SendsNothingAfterTheStopAndTakesInTheRepliesInFlight) {
    SimScan scan{one_host(kTarget), port_range(1, 4096), lab()};
    std::atomic<bool> stop{false};
    StopRecord record;
    scan.run(stop_after(1000, stop, record, scan), stop);
    EXPECT_EQ(scan.end, ScanEnd::interrupted);
    EXPECT_TRUE(scan.engine->draining());
    EXPECT_EQ(record.sends_after_stop, 0u);
    EXPECT_EQ(scan.engine->stats().sent, record.sends);  // the batch being sent at the stop, no more
    EXPECT_GT(record.in_flight_at_stop, 0u);
    // Replies to what was in flight were matched while draining, and the wait was at most one timeout.
    EXPECT_GT(scan.results->decided(), record.decided_at_stop);
    EXPECT_LT(scan.results->decided(), scan.targets.size());
    EXPECT_LE(scan.clock.now() - record.stopped_at, record.rto_at_stop + kMillisecond);
    // Draining ends early once nothing is in flight (answered, or timed out).
    EXPECT_EQ(scan.engine->in_flight(), 0u);
}

// The host answers after 300 ms, the timeout is 200 ms: the drain ends after one timeout, not at
// the replies, and the probes it did not hear back from stay without a verdict.
TEST(Drain, WaitsNoLongerThanOneTimeout) {
    SimConfig net = lab();
    net.hosts[kTarget].latency = 150 * kMillisecond;
    SimScan scan{one_host(kTarget), port_range(1, 512), net};
    scan.config.timing.initial_rto = 200 * kMillisecond;
    scan.config.timing.min_rto = 200 * kMillisecond;
    std::atomic<bool> stop{false};
    StopRecord record;
    scan.run(stop_after(20, stop, record, scan), stop);
    EXPECT_EQ(scan.end, ScanEnd::interrupted);
    EXPECT_EQ(record.sends_after_stop, 0u);
    const Micros waited = scan.clock.now() - record.stopped_at;
    EXPECT_GE(waited, record.rto_at_stop);
    EXPECT_LE(waited, record.rto_at_stop + kMillisecond);
    EXPECT_EQ(scan.results->decided(), 0u);  // nothing came back within 200 ms
    const ResumePoint point = scan.engine->resume_point();
    EXPECT_EQ(point.pending.size(), scan.engine->stats().sent);  // every probe sent is pending
}

TEST(Drain, StoppedBeforeTheFirstSend) {
    SimScan scan{one_host(kTarget), port_range(1, 100), lab()};
    const std::atomic<bool> stop{true};
    EXPECT_EQ(scan.run({}, stop), 0);
    EXPECT_EQ(scan.end, ScanEnd::interrupted);
    EXPECT_EQ(scan.engine->stats().sent, 0u);
    const ResumePoint point = scan.engine->resume_point();
    EXPECT_EQ(point.position, 0u);
    EXPECT_TRUE(point.pending.empty());
}

// The resume point names exactly the indices without a verdict that the walk has passed; the
// ones it has not reached are after `position` in the permutation.
TEST(Drain, ResumePointIsEveryUndecidedIndexTheWalkPassed) {
    SimScan scan{one_host(kTarget), port_range(1, 4096), lab()};
    std::atomic<bool> stop{false};
    StopRecord record;
    std::set<std::uint64_t> probed;
    LoopHooks hooks = stop_after(1500, stop, record, scan);
    auto count = hooks.sent;
    hooks.sent = [&, count](const Probe& p, std::span<const std::uint8_t> bytes, Micros when) {
        probed.insert(p.index);
        count(p, bytes, when);
    };
    scan.run(hooks, stop);
    const ResumePoint point = scan.engine->resume_point();
    const Permutation order{scan.targets.size(), scan.config.seed};
    std::set<std::uint64_t> walked;
    for (std::uint64_t i = 0; i < point.position; ++i) walked.insert(order(i));
    // Everything sent was walked past; the walk may be further on (candidates parked for a full host window).
    EXPECT_TRUE(std::includes(walked.begin(), walked.end(), probed.begin(), probed.end()));
    EXPECT_LT(probed.size(), walked.size());
    std::set<std::uint64_t> undecided;
    for (const auto index : walked) {
        if (scan.results->port(index).state == PortState::unscanned) undecided.insert(index);
    }
    EXPECT_EQ(std::set<std::uint64_t>(point.pending.begin(), point.pending.end()), undecided);
    EXPECT_EQ(point.pending.size(), undecided.size());  // each once
    EXPECT_EQ(scan.results->decided() + point.pending.size(), point.position);
}

// A connect scan of loopback stopped after its first round: no connect() after the stop, and the
// connections already started still get their verdict.
TEST(Drain, ConnectScanFinishesTheConnectionsItStarted) {
    const Ipv4 loopback{127, 0, 0, 1};
    std::vector<Fd> bound;
    std::vector<Port> ports;
    for (int i = 0; i < 200; ++i) {  // bound, not listening: closed, and never taken as our own port
        Fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(loopback.value());
        socklen_t length = sizeof a;
        ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        ASSERT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &length), 0);
        ports.push_back(Port{ntohs(a.sin_port)});
        bound.push_back(std::move(fd));
    }
    const TargetSet targets{one_host(loopback), ports};
    Results results{targets, {&connect_kind()}};
    EngineConfig settings;
    settings.me = ScannerIdentity{loopback, Port{40000}, 3, 1};
    settings.seed = 1;
    Engine engine{targets, settings, CookieKey{1, 2}, results};
    auto driver = ConnectDriver::open(std::nullopt, "", kSecond, 64);
    ASSERT_TRUE(driver) << driver.error();
    std::atomic<bool> stop{false};
    std::uint64_t sent_at_stop = 0;
    LoopHooks hooks;
    hooks.tick = [&](Micros) {
        if (stop) return;
        stop = true;
        sent_at_stop = engine.stats().sent;
    };
    EXPECT_EQ(run_connect_scan(engine, *driver, SteadyClock{}, stop, hooks), ScanEnd::interrupted);
    EXPECT_GT(sent_at_stop, 0u);
    EXPECT_LT(sent_at_stop, targets.size());
    EXPECT_EQ(engine.stats().sent, sent_at_stop);
    EXPECT_EQ(results.decided(), sent_at_stop);  // every connection started was read to its end
    for (std::uint64_t i = 0; i < targets.size(); ++i) {
        const PortState state = results.port(i).state;
        EXPECT_TRUE(state == PortState::unscanned || state == PortState::closed) << to_string(state);
    }
}

}  // namespace
}  // namespace flagscan

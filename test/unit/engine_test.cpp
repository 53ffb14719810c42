// The engine against a simulated Linux stack, on a fake clock: every port classified right,
// with and without loss, congestion, late and stray replies.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "sim_scan.hpp"

namespace flagscan {
namespace {

using testing::SimScan;
using testing::kScanner;
using testing::one_host;
using testing::port_range;

const Ipv4 kTarget{10, 77, 0, 2};

SimHost lab_host() {
    SimHost host;
    host.open = {22, 80, 443, 3306, 8080, 31337, 60000};
    host.rejected = {113, 1003, 8443};
    host.dropped = {135, 445, 1007, 50000};
    return host;
}

PortState expected_syn_state(const SimHost& host, std::uint16_t port) {
    if (host.drop_all || host.dropped.contains(port) || host.rejected.contains(port)) return PortState::filtered;
    return host.open.contains(port) ? PortState::open : PortState::closed;
}

// Every port of every host against the layout; returns the number of wrong verdicts.
int count_wrong(const SimScan& scan, const std::map<Ipv4, SimHost>& hosts) {
    int wrong = 0;
    for (const auto& [ip, host] : hosts) {
        for (const Slot& slot : scan.targets.slots()) {
            const Port port = slot.port;
            const auto& got = scan.at(ip, port.value());
            if (got.state != expected_syn_state(host, port.value())) {
                ADD_FAILURE() << ip.str() << ':' << port.value() << " is " << to_string(got.state);
                ++wrong;
            }
        }
    }
    return wrong;
}

TEST(Engine, FullSynScanOfALinuxHost) {
    SimConfig net;
    net.hosts[kTarget] = lab_host();
    SimScan scan{one_host(kTarget), port_range(1, 65535), net};
    scan.run();
    EXPECT_EQ(count_wrong(scan, net.hosts), 0);
    EXPECT_EQ(scan.at(kTarget, 22).reason, Reason::syn_ack);
    EXPECT_EQ(scan.at(kTarget, 22).ttl, 64);
    EXPECT_EQ(scan.at(kTarget, 23).reason, Reason::reset);
    EXPECT_EQ(scan.at(kTarget, 113).reason, Reason::admin_prohibited);
    EXPECT_EQ(scan.at(kTarget, 135).reason, Reason::no_response);
    EXPECT_EQ(scan.results->decided(), 65535u);
    EXPECT_EQ(scan.engine->stats().strays, 0u);
    // No loss: only the dropped ports are retried, and each only up to the evidence-based limit.
    EXPECT_EQ(scan.engine->stats().retransmitted, 4u * (scan.engine->allowed_tries() - 1));
}

TEST(Engine, FivePercentLossGivesTheSameVerdicts) {
    for (std::uint64_t seed : {1u, 2u, 3u}) {
        SimConfig net;
        net.hosts[kTarget] = lab_host();
        net.loss = 0.05;
        net.seed = seed;
        SimScan scan{one_host(kTarget), port_range(1, 65535), net};
        scan.run();
        EXPECT_EQ(count_wrong(scan, net.hosts), 0) << "seed " << seed;
        EXPECT_GT(scan.engine->stats().retransmitted, 3000u);  // ~5% of replies lost, each retried
        EXPECT_GT(scan.engine->stats().drops_seen, 2000u);
        EXPECT_GE(scan.engine->allowed_tries(), 5);  // loss seen: silent ports earn more tries
    }
}

TEST(Engine, HeavyLossStillConverges) {
    SimConfig net;
    net.hosts[kTarget] = lab_host();
    net.loss = 0.20;
    SimScan scan{one_host(kTarget), port_range(1, 4096), net};
    scan.config.timing.max_retries = 10;
    scan.config.me.max_tries = 11;
    scan.run();
    EXPECT_EQ(count_wrong(scan, net.hosts), 0);
}

TEST(Engine, SixteenHostsSomeBehindDropAllFirewalls) {
    SimConfig net;
    AddressSet hosts;
    hosts.add(Ipv4Range{Ipv4{10, 77, 0, 16}, Ipv4{10, 77, 0, 31}});
    for (std::uint32_t i = 16; i < 32; ++i) {
        SimHost host = lab_host();
        host.drop_all = i == 20 || i == 27;
        net.hosts[Ipv4{10, 77, 0, static_cast<std::uint8_t>(i)}] = host;
    }
    std::vector<Port> ports{Port{22}, Port{80}, Port{113}, Port{135}};
    for (auto p : port_range(1000, 1010)) ports.push_back(p);
    SimScan scan{hosts, ports, net};
    scan.run();
    EXPECT_EQ(count_wrong(scan, net.hosts), 0);
    const auto h20 = *scan.targets.hosts().index_of(Ipv4{10, 77, 0, 20});
    EXPECT_EQ(scan.results->host(static_cast<std::uint32_t>(h20)).replies, 0u);
    EXPECT_EQ(scan.results->host(static_cast<std::uint32_t>(h20)).counts[static_cast<int>(PortState::filtered)],
              scan.targets.slot_count());
}

TEST(Engine, AbsentHostIsAllFiltered) {
    SimConfig net;  // no hosts: nothing answers
    SimScan scan{one_host(kTarget), port_range(1, 100), net};
    scan.run();
    for (unsigned p = 1; p <= 100; ++p) EXPECT_EQ(scan.at(kTarget, static_cast<std::uint16_t>(p)).state, PortState::filtered);
    EXPECT_EQ(scan.results->host(0).replies, 0u);
}

// Silent hosts scanned on many ports, their ports spread over the whole walk: a port out of
// tries waits for late evidence a few timeouts, not until its host's last port is walked, so
// the engine holds the ports of the last few seconds (rate x horizon), not the scan's.
TEST(Engine, PortsOutOfTriesOfSilentHostsDoNotPileUp) {
    SimConfig net;  // nothing answers
    AddressSet hosts;
    hosts.add(Ipv4Range{Ipv4{10, 77, 1, 0}, Ipv4{10, 77, 1, 15}});
    SimScan scan{hosts, port_range(1, 1000), net};
    scan.config.timing.max_rate = 1000;  // 16,000 ports x 3 tries: about 48 s of fake time
    std::size_t peak = 0;
    LoopHooks hooks;
    hooks.tick = [&](Micros) { peak = std::max(peak, scan.engine->open_probes()); };
    scan.run(hooks);
    // Horizon 4 x 0.5 s (-T4, a silent host keeps the first timeout), 1,000 sends/s: about
    // 1,500 wait at most; 16,000 would without it.
    EXPECT_LT(peak, 4000u);
    for (std::uint32_t host = 0; host < 16; ++host)
        EXPECT_EQ(scan.results->host(host).counts[static_cast<int>(PortState::filtered)], 1000u);
    EXPECT_EQ(scan.engine->open_probes(), 0u);
}

TEST(Engine, RespectsMaxRate) {
    SimConfig net;
    net.hosts[kTarget] = lab_host();
    SimScan scan{one_host(kTarget), port_range(1, 2000), net};
    scan.config.timing.max_rate = 1000;
    const Micros took = scan.run();
    EXPECT_GE(took, 1900 * kMillisecond);  // 2,000 probes at 1,000/s, bar the first burst
    EXPECT_EQ(count_wrong(scan, net.hosts), 0);
}

TEST(Engine, SlowsDownWhenAQueueOverflows) {
    SimConfig net;
    net.hosts[kTarget] = lab_host();
    net.capacity_pps = 20000;  // the path drops what exceeds 20k probes/s
    SimScan scan{one_host(kTarget), port_range(1, 65535), net};
    scan.run();
    EXPECT_EQ(count_wrong(scan, net.hosts), 0);
    EXPECT_GT(scan.engine->stats().drops_seen, 0u);
    EXPECT_LT(scan.engine->window(), 65535);
    // Most probes got through: the sender settled near the path's capacity instead of flooding it.
    EXPECT_LT(scan.sim->counters().overflowed, scan.sim->counters().probes / 2);
}

TEST(Engine, SteadyRandomLossDoesNotCollapseTheRate) {
    SimConfig net;
    net.hosts[kTarget] = lab_host();
    net.loss = 0.05;
    SimScan scan{one_host(kTarget), port_range(1, 65535), net};
    scan.run();
    EXPECT_GE(scan.engine->window(), scan.config.timing.initial_window);
}

TEST(Engine, SameSeedSameOrderOtherSeedOtherOrder) {
    auto order = [](std::uint64_t seed) {
        SimConfig net;
        net.hosts[kTarget] = lab_host();
        SimScan scan{one_host(kTarget), port_range(1, 500), net};
        scan.config.seed = seed;
        std::vector<std::uint16_t> sent;
        LoopHooks hooks;
        hooks.sent = [&sent](const Probe& probe, std::span<const std::uint8_t>, Micros) {
            if (probe.try_no == 0) sent.push_back(probe.dport.value());
        };
        scan.run(hooks);
        return sent;
    };
    const auto a = order(1), b = order(1), c = order(2);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    EXPECT_EQ(std::set<std::uint16_t>(a.begin(), a.end()).size(), 500u);  // each port exactly once
}

TEST(Engine, StrayAndForgedRepliesAreIgnored) {
    SimConfig net;
    net.hosts[kTarget] = lab_host();
    SimScan scan{one_host(kTarget), port_range(20, 25), net};
    scan.sim = std::make_unique<SimNetwork>(net, scan.clock);
    scan.results = std::make_unique<Results>(scan.targets, scan.kinds);
    scan.engine = std::make_unique<Engine>(scan.targets, scan.config, CookieKey{11, 22}, *scan.results);
    std::array<Probe, 16> probes;
    std::size_t n = 0;
    for (int round = 0; round < 100 && n < 6; ++round) {
        scan.clock.advance(kMillisecond);
        n += scan.engine->poll_sends(scan.clock.now(), std::span{probes}.subspan(n));
    }
    ASSERT_EQ(n, 6u);
    // A RST for port 21 whose ack is not our cookie + 1: a forger, or another scanner.
    const Probe& p = *std::find_if(probes.begin(), probes.begin() + n, [](const Probe& x) { return x.dport == Port{21}; });
    auto forged = make_tcp_packet(kTarget, kScanner, Port{21}, p.sport, 0, p.seq + 2,
                                  TcpFlags{TcpFlags::rst | TcpFlags::ack}, 0, 64);
    scan.engine->on_packet(*decode_ipv4(ByteView{forged}), scan.clock.now());
    auto wrong_port = make_tcp_packet(kTarget, kScanner, Port{21}, Port{12345}, 0, p.seq + 1,
                                      TcpFlags{TcpFlags::rst | TcpFlags::ack}, 0, 64);
    scan.engine->on_packet(*decode_ipv4(ByteView{wrong_port}), scan.clock.now());
    EXPECT_EQ(scan.engine->stats().strays, 2u);
    EXPECT_EQ(scan.results->decided(), 0u);
    auto genuine = make_tcp_packet(kTarget, kScanner, Port{21}, p.sport, 0, p.seq + 1,
                                   TcpFlags{TcpFlags::rst | TcpFlags::ack}, 0, 64);
    scan.engine->on_packet(*decode_ipv4(ByteView{genuine}), scan.clock.now() + 100);
    EXPECT_EQ(scan.at(kTarget, 21).state, PortState::closed);
    scan.engine->on_packet(*decode_ipv4(ByteView{genuine}), scan.clock.now() + 200);
    EXPECT_EQ(scan.engine->stats().duplicates, 1u);
}

TEST(Engine, LateReplyOverturnsSilence) {
    SimConfig net;  // nobody answers in time
    SimScan scan{one_host(kTarget), port_range(80, 80), net};
    const Micros took = scan.run();
    ASSERT_EQ(scan.at(kTarget, 80).state, PortState::filtered);
    // The SYN,ACK to the first try turns up after the scan gave up on the port.
    const CookieKey key{11, 22};
    const std::uint32_t seq = key(kScanner, kTarget, Port{80}, Port{40000});
    auto late = make_tcp_packet(kTarget, kScanner, Port{80}, Port{40000}, 7, seq + 1,
                                TcpFlags{TcpFlags::syn | TcpFlags::ack}, 64240, 64);
    scan.engine->on_packet(*decode_ipv4(ByteView{late}), took + 1);
    EXPECT_EQ(scan.at(kTarget, 80).state, PortState::open);
    EXPECT_EQ(scan.engine->stats().late, 1u);
}

TEST(Engine, RetransmitsOnlyAfterTheTimeout) {
    SimConfig net;
    net.latency = 40 * kMillisecond;  // an 80 ms round trip, longer than T4's minimum timeout
    net.hosts[kTarget] = lab_host();
    SimScan scan{one_host(kTarget), port_range(1, 2000), net};
    scan.run();
    EXPECT_EQ(count_wrong(scan, net.hosts), 0);
    // Only the four dropped ports (none of them in 1-2000 but 135, 445, 1007) needed retries;
    // the slow round trip did not provoke spurious ones beyond the very first probes.
    EXPECT_LT(scan.engine->stats().retransmitted, 200u);
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

TEST(Engine, InterruptedScanKeepsWhatItFound) {
    SimConfig net;
    net.hosts[Ipv4{10, 77, 0, 2}] = lab_host();
    testing::SimScan scan{testing::one_host(Ipv4{10, 77, 0, 2}), testing::port_range(1, 65535), net};
    scan.sim = std::make_unique<SimNetwork>(net, scan.clock);
    scan.results = std::make_unique<Results>(scan.targets, scan.kinds);
    scan.engine = std::make_unique<Engine>(scan.targets, scan.config, CookieKey{11, 22}, *scan.results);
    std::atomic<bool> stop{false};
    LoopHooks hooks;
    hooks.tick = [&](Micros) { stop = scan.engine->decided() >= 5000; };
    auto builder = ProbeBuilder::create(syn_kind(), ProbeShape{});
    EXPECT_EQ(run_scan(*scan.engine, *builder, *scan.sim, *scan.sim, scan.clock, stop, hooks), ScanEnd::interrupted);
    EXPECT_GE(scan.results->decided(), 5000u);
    EXPECT_LT(scan.results->decided(), 65535u);
    for (std::uint64_t i = 0; i < scan.targets.size(); ++i) {  // what was decided is right
        const auto& port = scan.results->port(i);
        if (port.state == PortState::unscanned) continue;
        EXPECT_EQ(port.state, expected_syn_state(lab_host(), scan.targets.at(i).port.value()));
    }
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

TEST(Engine, MinRateKeepsProbesGoingWhenNothingAnswers) {
    SimConfig net;  // a host that answers nothing: the window never opens beyond its start
    testing::SimScan slow{testing::one_host(Ipv4{10, 77, 0, 2}), testing::port_range(1, 3000), net};
    slow.config.timing.initial_window = 10;
    const Micros without = slow.run();
    testing::SimScan fast{testing::one_host(Ipv4{10, 77, 0, 2}), testing::port_range(1, 3000), net};
    fast.config.timing.initial_window = 10;
    fast.config.timing.min_rate = 20000;
    const Micros with = fast.run();
    EXPECT_LT(with * 4, without);  // the floor, not the window, sets the pace
    EXPECT_EQ(fast.results->decided(), 3000u);
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

// A replay's engine over one host and the given ports, reading replies against the probes it is
// shown (EchoCheck::recorded), as --replay does.
struct ReplayEngine {
    TargetSet targets;
    Results results;
    Engine engine;

    ReplayEngine(std::vector<Port> ports, const ProbeKind& kind)
        : targets(testing::one_host(Ipv4{10, 77, 0, 2}), std::move(ports)),
          results(targets, {&kind}),
          engine(targets, config(), CookieKey{0, 0}, results) {}

    static EngineConfig config() {
        EngineConfig c;
        c.me = ScannerIdentity{testing::kScanner, Port{0}, 255};
        c.echo = EchoCheck::recorded;
        return c;
    }
    bool sent(const std::vector<std::uint8_t>& bytes, Micros ts) { return engine.replay_probe(*decode_ipv4(ByteView{bytes}), ts); }
    void received(const std::vector<std::uint8_t>& bytes, Micros ts) { engine.on_packet(*decode_ipv4(ByteView{bytes}), ts); }
    PortResult at(std::uint16_t port) const { return results.port(static_cast<std::uint64_t>(targets.port_index(Port{port}))); }
};

// A probe with 20 bytes of data (nmap --data-length 20, hping3 -d 20), as captured.
std::vector<std::uint8_t> probe_with_data(std::uint16_t port, std::uint32_t seq, std::uint8_t flags) {
    auto bytes = make_tcp_packet(testing::kScanner, Ipv4{10, 77, 0, 2}, Port{41000}, Port{port}, seq, 0, TcpFlags{flags}, 1024, 64);
    bytes.resize(bytes.size() + 20, 'x');
    const std::span<std::uint8_t> ip{bytes};
    put_be16(ip, 2, static_cast<std::uint16_t>(bytes.size()));
    put_be16(ip, 10, 0);
    put_be16(ip, 10, ipv4_header_checksum(ip.first(20)));
    return bytes;
}

std::vector<std::uint8_t> rst_ack(std::uint16_t port, std::uint32_t ack) {
    return make_tcp_packet(Ipv4{10, 77, 0, 2}, testing::kScanner, Port{port}, Port{41000}, 0, ack,
                           TcpFlags{TcpFlags::rst | TcpFlags::ack}, 0, 64);
}

// RFC 793 p.65-66: the RST to a probe with data acknowledges SEG.SEQ + SEG.LEN, the data counted.
TEST(EngineReplay, ProbesWithDataAreAnsweredPastTheirData) {
    ReplayEngine syn{{Port{23}, Port{24}}, syn_kind()};
    ASSERT_TRUE(syn.sent(probe_with_data(23, 1000, TcpFlags::syn), 100));
    ASSERT_TRUE(syn.sent(probe_with_data(24, 2000, TcpFlags::syn), 200));
    syn.received(rst_ack(23, 1000 + 1 + 20), 300);
    syn.received(rst_ack(24, 2000 + 1), 300);  // acknowledges the SYN only: not an answer to this probe
    syn.engine.finish_replay(kSecond);
    EXPECT_EQ(syn.at(23).state, PortState::closed);
    EXPECT_EQ(syn.at(24).state, PortState::filtered);
    EXPECT_EQ(syn.engine.stats().strays, 1u);

    ReplayEngine fin{{Port{23}}, *probe_kind_by_letter('F')};
    ASSERT_TRUE(fin.sent(probe_with_data(23, 3000, TcpFlags::fin), 100));
    fin.received(rst_ack(23, 3000 + 1 + 20), 300);
    fin.engine.finish_replay(kSecond);
    EXPECT_EQ(fin.at(23).state, PortState::closed);
}

// nmap -g 53 / hping3 -k: every try from one source port, a new sequence number each. An
// answer to try 2 of 4, after try 4 went out, decides the port as try 2's answer, and its round
// trip is measured from try 2's send.
TEST(EngineReplay, AnAnswerToAnEarlierTryFromOnePortIsThatTrys) {
    ReplayEngine replay{{Port{23}}, syn_kind()};
    for (std::uint32_t t = 0; t < 4; ++t) {
        auto bytes = make_tcp_packet(testing::kScanner, Ipv4{10, 77, 0, 2}, Port{41000}, Port{23}, 5000 + t * 100, 0,
                                     TcpFlags{TcpFlags::syn}, 1024, 64);
        ASSERT_TRUE(replay.sent(bytes, t * kSecond));
    }
    replay.received(rst_ack(23, 5101), 3 * kSecond + 500 * kMillisecond);
    EXPECT_EQ(replay.at(23).state, PortState::closed);
    EXPECT_EQ(replay.at(23).answered_try, 1);
    EXPECT_EQ(replay.at(23).tries, 4);
    EXPECT_EQ(replay.at(23).rtt_us, 2'500'000u);
}

// A capture over a bridge holds each probe twice, microseconds apart: one try, not two. The
// same bytes resent after a timeout (nmap's retransmission) are the next try.
TEST(EngineReplay, AProbeCapturedTwiceIsOneTry) {
    ReplayEngine replay{{Port{22}, Port{23}}, syn_kind()};
    const auto p22 = probe_with_data(22, 1000, TcpFlags::syn), p23 = probe_with_data(23, 2000, TcpFlags::syn);
    EXPECT_TRUE(replay.sent(p22, 100));
    EXPECT_FALSE(replay.sent(p22, 104));
    EXPECT_TRUE(replay.sent(p23, 110));
    EXPECT_TRUE(replay.sent(p23, 110 + 300 * kMillisecond));
    replay.engine.finish_replay(kSecond);
    EXPECT_EQ(replay.at(22).tries, 1);
    EXPECT_EQ(replay.at(23).tries, 2);
    EXPECT_EQ(replay.engine.stats().sent, 3u);
    EXPECT_EQ(replay.engine.stats().retransmitted, 1u);
}

}  // namespace
}  // namespace flagscan

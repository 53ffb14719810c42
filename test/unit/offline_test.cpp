// Unit tests for craft_offline: the engine's walk and stamping, each probe once, paced, stoppable.
#include "flagscan/engine/offline.hpp"

#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

#include "flagscan/net/decode.hpp"

namespace flagscan {
namespace {

// Keeps every packet it is handed.
struct KeepingSink final : FrameSink {
    std::vector<std::vector<std::uint8_t>> packets;
    std::size_t calls = 0;
    std::size_t send(std::span<const std::span<const std::uint8_t>> batch) override {
        ++calls;
        for (const auto& p : batch) packets.emplace_back(p.begin(), p.end());
        return batch.size();
    }
};

struct OfflineCase {
    AddressSet hosts;
    TargetSet targets;
    ShardWalk walk;
    ScannerIdentity me{Ipv4{192, 0, 2, 1}, Port{40000}, 11, 1};
    Correlator stamps{me, CookieKey{1, 2}, {&syn_kind()}};
    ProbeBuilder builder = ProbeBuilder::create(syn_kind(), ProbeShape{}).value();

    static AddressSet net(std::string_view cidr) {
        AddressSet set;
        add_target(set, cidr, Resolver{});
        return set;
    }
    OfflineCase(std::string_view cidr, std::vector<Port> ports, std::uint64_t seed, Shard shard = {})
        : hosts(net(cidr)), targets(hosts, std::move(ports)), walk(targets.size(), seed, shard) {}
    OfflinePlan plan(double rate = 0) const { return OfflinePlan{targets, walk, stamps, builder, 77, rate, 1}; }
};

const std::atomic<bool> kNever{false};

TEST(Offline, EveryProbeOnceInTheWalksOrderStampedAsTheEngineStampsIt) {
    const OfflineCase s{"10.9.0.0/24", {Port{80}, Port{443}, Port{22}}, 3};
    KeepingSink sink;
    FakeClock clock;
    const OfflineRun run = craft_offline(s.plan(), sink, clock, kNever, [](Micros) { FAIL() << "unpaced: never waits"; });
    ASSERT_EQ(run.crafted, 768u);
    ASSERT_EQ(sink.packets.size(), 768u);
    EXPECT_FALSE(run.interrupted);
    EXPECT_EQ(sink.calls, 3u);  // batches of 256
    std::set<std::pair<std::uint32_t, std::uint16_t>> seen;
    for (std::size_t step = 0; step < sink.packets.size(); ++step) {
        const auto& bytes = sink.packets[step];
        const auto packet = decode_ipv4(ByteView{bytes});
        ASSERT_TRUE(packet && packet->tcp) << step;
        seen.emplace(packet->ip.dst.value(), packet->tcp->dport.value());
        const std::uint64_t index = s.walk(step);
        const Probe expected = s.stamps.probe_for(s.targets.at(index), index, 0, static_cast<std::uint16_t>(77 + step));
        std::vector<std::uint8_t> want(s.builder.size());
        want.resize(s.builder.build(expected, want));
        EXPECT_EQ(bytes, want) << step;
    }
    EXPECT_EQ(seen.size(), 768u);
}

TEST(Offline, AShardCraftsItsPartOfTheSameWalk) {
    const OfflineCase all{"10.9.0.0/28", {Port{80}}, 5};
    std::set<std::uint32_t> union_of_shards;
    for (std::uint64_t i = 0; i < 3; ++i) {
        const OfflineCase part{"10.9.0.0/28", {Port{80}}, 5, Shard{i, 3}};
        KeepingSink sink;
        FakeClock clock;
        craft_offline(part.plan(), sink, clock, kNever, [](Micros) {});
        for (std::size_t k = 0; k < sink.packets.size(); ++k) {
            const auto packet = decode_ipv4(ByteView{sink.packets[k]});
            ASSERT_TRUE(packet);
            EXPECT_EQ(packet->ip.dst, all.targets.at(all.walk.permutation()(i + 3 * k)).ip);
            union_of_shards.insert(packet->ip.dst.value());
        }
    }
    EXPECT_EQ(union_of_shards.size(), 16u);
}

TEST(Offline, PacedByTheRateAndStoppedBetweenBatches) {
    const OfflineCase s{"10.9.0.0/24", {Port{80}}, 1};
    KeepingSink sink;
    FakeClock clock{1000};
    int waits = 0;
    const OfflineRun run = craft_offline(s.plan(1000), sink, clock, kNever, [&](Micros until) {
        ++waits;
        clock.set(until);
    });
    EXPECT_EQ(run.crafted, 256u);
    EXPECT_GE(run.elapsed, 254 * kMillisecond);  // 1000/s: one token to start, then one each millisecond
    EXPECT_LE(run.elapsed, 257 * kMillisecond);
    EXPECT_GE(waits, 250);

    const std::atomic<bool> stop{true};
    KeepingSink none;
    const OfflineRun stopped = craft_offline(s.plan(), none, clock, stop, [](Micros) {});
    EXPECT_TRUE(stopped.interrupted);
    EXPECT_EQ(stopped.crafted, 0u);
}

}  // namespace
}  // namespace flagscan

// Unit tests for TargetSet: the host x port index space and the port slot table.
#include "flagscan/targets/target_set.hpp"

#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "flagscan/targets/permutation.hpp"

namespace flagscan {
namespace {

Ipv4 ip(std::string_view text) { return *Ipv4::parse(text); }

std::vector<Port> ports(std::initializer_list<std::uint16_t> numbers) {
    std::vector<Port> out;
    for (std::uint16_t n : numbers) out.push_back(Port{n});
    return out;
}

AddressSet hosts(std::initializer_list<std::pair<const char*, const char*>> ranges) {
    AddressSet set;
    for (const auto& [first, last] : ranges) set.add(Ipv4Range{ip(first), ip(last)});
    return set;
}

TEST(TargetSet, IndexIsHostMajor) {
    const TargetSet set(hosts({{"10.0.0.1", "10.0.0.3"}}), ports({22, 80}));
    EXPECT_EQ(set.size(), 6u);
    EXPECT_EQ(set.host_count(), 3u);
    Target t = set.at(0);
    EXPECT_EQ(t.ip, ip("10.0.0.1"));
    EXPECT_EQ(t.port, Port{22});
    EXPECT_EQ(t.host_index, 0u);
    t = set.at(1);
    EXPECT_EQ(t.ip, ip("10.0.0.1"));
    EXPECT_EQ(t.port, Port{80});
    t = set.at(5);
    EXPECT_EQ(t.ip, ip("10.0.0.3"));
    EXPECT_EQ(t.port, Port{80});
    EXPECT_EQ(t.host_index, 2u);
}

TEST(TargetSet, WalksAcrossSeveralRanges) {
    const TargetSet set(hosts({{"10.0.0.1", "10.0.0.2"}, {"10.0.5.0", "10.0.5.0"}, {"192.168.0.9", "192.168.0.10"}}),
                        ports({443}));
    ASSERT_EQ(set.size(), 5u);
    EXPECT_EQ(set.at(2).ip, ip("10.0.5.0"));
    EXPECT_EQ(set.at(3).ip, ip("192.168.0.9"));
    EXPECT_EQ(set.at(4).ip, ip("192.168.0.10"));
    EXPECT_EQ(set.at(4).host_index, 4u);
}

TEST(TargetSet, PortIndexKeepsGivenOrderAndDropsDuplicates) {
    const TargetSet set(hosts({{"10.0.0.1", "10.0.0.1"}}), ports({80, 23, 443, 23, 80, 0}));
    ASSERT_EQ(set.slot_count(), 4u);
    EXPECT_EQ(set.slots()[3].port, Port{0});
    EXPECT_EQ(set.port_index(Port{80}), 0);
    EXPECT_EQ(set.port_index(Port{23}), 1);
    EXPECT_EQ(set.port_index(Port{443}), 2);
    EXPECT_EQ(set.port_index(Port{0}), 3);
    EXPECT_EQ(set.port_index(Port{22}), -1);
    EXPECT_EQ(set.port_index(Port{65535}), -1);
    EXPECT_EQ(set.size(), 4u);
    for (std::uint64_t i = 0; i < set.size(); ++i)
        EXPECT_EQ(set.port_index(set.at(i).port), static_cast<int>(i));
}

TEST(TargetSet, LanesKeepTheSamePortApart) {
    const TargetSet set(hosts({{"10.0.0.1", "10.0.0.2"}}),
                        std::vector<Slot>{{Port{53}, 0}, {Port{53}, 1}, {Port{80}, 0}, {Port{53}, 1}, {Port{7}, 9}});
    ASSERT_EQ(set.slot_count(), 3u);  // the repeated (1, 53) and the lane beyond kMaxLanes are dropped
    EXPECT_EQ(set.lane_count(), 2u);
    EXPECT_EQ(set.slot_index(0, Port{53}), 0);
    EXPECT_EQ(set.slot_index(1, Port{53}), 1);
    EXPECT_EQ(set.slot_index(1, Port{80}), -1);
    EXPECT_EQ(set.slot_index(5, Port{53}), -1);
    EXPECT_EQ(set.at(4).lane, 1u);
    EXPECT_EQ(set.at(4).port, Port{53});
    EXPECT_EQ(set.at(4).ip, ip("10.0.0.2"));
}

TEST(TargetSet, EmptyHostsOrPorts) {
    const TargetSet no_ports(hosts({{"10.0.0.1", "10.0.0.9"}}), std::vector<Port>{});
    EXPECT_EQ(no_ports.size(), 0u);
    EXPECT_EQ(no_ports.host_count(), 9u);
    EXPECT_EQ(no_ports.at(0).ip, Ipv4{});  // out of range: a default target, no division by zero
    const TargetSet no_hosts(AddressSet{}, ports({22}));
    EXPECT_EQ(no_hosts.size(), 0u);
    EXPECT_EQ(no_hosts.at(3).port, Port{});
}

TEST(TargetSet, WholeInternetTimesAllPorts) {
    std::vector<Port> all;
    for (unsigned p = 0; p < 65536; ++p) all.push_back(Port{static_cast<std::uint16_t>(p)});
    const TargetSet set(hosts({{"0.0.0.0", "255.255.255.255"}}), std::move(all));
    EXPECT_EQ(set.size(), std::uint64_t{1} << 48);
    const Target last = set.at((std::uint64_t{1} << 48) - 1);
    EXPECT_EQ(last.ip, ip("255.255.255.255"));
    EXPECT_EQ(last.port, Port{65535});
    EXPECT_EQ(last.host_index, 0xffffffffu);
    EXPECT_EQ(set.port_index(Port{12345}), 12345);
}

TEST(TargetSet, PermutedWalkVisitsEveryTargetOnce) {
    const TargetSet set(hosts({{"10.0.0.1", "10.0.0.20"}, {"10.0.1.1", "10.0.1.7"}}), ports({22, 80, 443}));
    const Permutation order(set.size(), 2024);
    std::set<std::pair<std::uint32_t, std::uint16_t>> seen;
    for (std::uint64_t i = 0; i < set.size(); ++i) {
        const Target t = set.at(order(i));
        EXPECT_EQ(set.hosts().at(t.host_index), t.ip);
        seen.emplace(t.ip.value(), t.port.value());
    }
    EXPECT_EQ(seen.size(), 27u * 3u);
}

// A replay's set: only the (lane, port)s each host was probed on, retries and out-of-range lanes
// dropped; indices run host by host, each host's slots by lane, then port (report order).
TEST(TargetSet, SparseKeepsOnlyWhatEachHostWasProbedOn) {
    const TargetSet set = TargetSet::sparse({
        {ip("10.0.0.9"), Slot{Port{443}, 0}},
        {ip("10.0.0.2"), Slot{Port{80}, 0}},
        {ip("10.0.0.9"), Slot{Port{22}, 0}},
        {ip("10.0.0.9"), Slot{Port{53}, 1}},
        {ip("10.0.0.2"), Slot{Port{80}, 0}},  // a retry: one slot
        {ip("10.0.0.5"), Slot{Port{7}, TargetSet::kMaxLanes}},  // no such lane: dropped, host too
    });
    ASSERT_EQ(set.size(), 4u);
    ASSERT_EQ(set.host_count(), 2u);
    EXPECT_EQ(set.hosts().at(0), ip("10.0.0.2"));
    EXPECT_EQ(set.hosts().at(1), ip("10.0.0.9"));
    EXPECT_EQ(set.slot_count_of(0), 1u);
    EXPECT_EQ(set.slot_count_of(1), 3u);
    EXPECT_EQ(set.max_slot_count(), 3u);
    EXPECT_EQ(set.index_of(0, 0, Port{80}), 0u);
    EXPECT_EQ(set.index_of(1, 0, Port{22}), 1u);
    EXPECT_EQ(set.index_of(1, 0, Port{443}), 2u);
    EXPECT_EQ(set.index_of(1, 1, Port{53}), 3u);
    EXPECT_FALSE(set.index_of(0, 0, Port{22}));  // probed on another host only
    EXPECT_FALSE(set.index_of(1, 0, Port{53}));  // that port, another lane
    EXPECT_FALSE(set.index_of(2, 0, Port{80}));  // no such host
    std::vector<std::pair<std::uint64_t, std::uint16_t>> walked;
    for (const auto [index, slot] : set.slots_of(1)) walked.emplace_back(index, slot.port.value());
    EXPECT_EQ(walked, (std::vector<std::pair<std::uint64_t, std::uint16_t>>{{1, 22}, {2, 443}, {3, 53}}));
    for (std::uint64_t index = 0; index < set.size(); ++index) {
        const Target t = set.at(index);
        EXPECT_EQ(set.host_of(index), t.host_index);
        EXPECT_EQ(set.index_of(t.host_index, t.lane, t.port), index);
        EXPECT_EQ(set.lane_at(index), t.lane);
    }
    // slots() is the union, by lane then port.
    ASSERT_EQ(set.slots().size(), 4u);
    EXPECT_EQ(set.slots()[0].port, Port{22});
    EXPECT_EQ(set.slots()[3].lane, 1);
}

// A dense set walks each host's slots in report order with their indices, whatever -p's order.
TEST(TargetSet, DenseHostSlotsAreInReportOrder) {
    const TargetSet set(hosts({{"10.0.0.1", "10.0.0.2"}}), ports({443, 22, 80}));
    std::vector<std::pair<std::uint64_t, std::uint16_t>> walked;
    for (const auto [index, slot] : set.slots_of(1)) walked.emplace_back(index, slot.port.value());
    EXPECT_EQ(walked, (std::vector<std::pair<std::uint64_t, std::uint16_t>>{{4, 22}, {5, 80}, {3, 443}}));
    EXPECT_EQ(set.host_of(5), 1u);
    EXPECT_EQ(set.index_of(1, 0, Port{443}), 3u);
    EXPECT_FALSE(set.index_of(2, 0, Port{443}));
    EXPECT_EQ(set.slot_count_of(0), 3u);
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

// The whole IPv4 space times every port: 2^32 x 65535 indices (2^48 - 2^32), host indices up to
// 2^32 - 1 in a uint32, nothing computed in 32 bits that should not be.
TEST(TargetSet, AllOfIpv4TimesEveryPort) {
    AddressSet all;
    all.add(Ipv4Range{Ipv4{0u}, Ipv4{0xffffffffu}});
    std::vector<Port> ports;
    for (unsigned p = 1; p <= 65535; ++p) ports.push_back(Port{static_cast<std::uint16_t>(p)});
    const TargetSet set{all, ports};
    const std::uint64_t hosts = std::uint64_t{1} << 32;
    ASSERT_EQ(set.host_count(), hosts);
    ASSERT_EQ(set.size(), hosts * 65535);
    const Target first = set.at(0);
    EXPECT_EQ(first.ip, Ipv4{0u});
    EXPECT_EQ(first.port, Port{1});
    const Target last = set.at(set.size() - 1);
    EXPECT_EQ(last.ip, Ipv4{0xffffffffu});
    EXPECT_EQ(last.port, Port{65535});
    EXPECT_EQ(last.host_index, 0xffffffffu);
    EXPECT_EQ(set.host_of(set.size() - 1), 0xffffffffu);
    EXPECT_EQ(set.index_of(hosts - 1, 0, Port{65535}), set.size() - 1);
    EXPECT_EQ(set.index_of(0, 0, Port{1}), 0u);
    EXPECT_EQ(set.index_of(hosts, 0, Port{1}), std::nullopt);
    const Target middle = set.at((hosts / 2) * 65535 + 79);
    EXPECT_EQ(middle.ip, Ipv4(128, 0, 0, 0));
    EXPECT_EQ(middle.port, Port{80});
    EXPECT_EQ(all.index_of(Ipv4{0xffffffffu}), hosts - 1);

    // The seeded walk over it stays inside and is one-to-one on a sample.
    const ShardWalk walk{set.size(), 7};
    EXPECT_EQ(walk.size(), set.size());
    std::set<std::uint64_t> seen;
    for (std::uint64_t step : {std::uint64_t{0}, std::uint64_t{1}, set.size() / 2, set.size() - 2, set.size() - 1}) {
        const std::uint64_t index = walk(step);
        EXPECT_LT(index, set.size());
        seen.insert(index);
    }
    EXPECT_EQ(seen.size(), 5u);
}

}  // namespace
}  // namespace flagscan

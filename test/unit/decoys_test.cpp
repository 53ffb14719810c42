// Decoys (-D): the list's spellings and errors, RND's addresses, the copies' bytes and order, with -f, and
// a simulated scan whose target answers every decoy: the verdicts are ours alone.
#include <gtest/gtest.h>

#include <algorithm>

#include "flagscan/cli/options.hpp"
#include "flagscan/cli/scan_plan.hpp"
#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/reassembly.hpp"
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/targets/reserved.hpp"
#include "flagscan/wire/decoys.hpp"
#include "flagscan/wire/fragments.hpp"
#include "sample_probes.hpp"
#include "sim_scan.hpp"

namespace flagscan {
namespace {

using Bytes = std::vector<std::uint8_t>;
const Ipv4 kMe{10, 77, 72, 1}, kTarget{10, 77, 72, 2}, kA{10, 77, 72, 200}, kB{10, 77, 72, 201};

Bytes built(const ProbeKind& kind, const ProbeShape& shape = {}) {
    return testing::built_probe(kind, shape, {.src = kMe, .dst = kTarget, .sport = Port{40000}, .dport = Port{22}, .seq = 0x01020304, .ip_id = 0xbeef});
}

Ipv4 source_of(std::span<const std::uint8_t> ip) { return Ipv4{ByteView{ip}.be32(12).value_or(0)}; }
std::uint16_t field(std::span<const std::uint8_t> b, std::size_t at) { return ByteView{b}.be16(at).value_or(0); }
bool transport_valid(std::span<const std::uint8_t> ip) {
    return transport_checksum(source_of(ip), kTarget, ip[9], ip.subspan(20)) == 0;
}

TEST(Decoys, Spellings) {
    using K = DecoyEntry::Kind;
    const auto entries = parse_decoys("10.77.72.200,ME,RND:3,RND");
    ASSERT_TRUE(entries) << entries.error();
    const std::vector<DecoyEntry> want{{K::address, kA, 0}, {K::me, {}, 0}, {K::random, {}, 3}, {K::random, {}, 1}};
    EXPECT_EQ(*entries, want);
    EXPECT_TRUE(parse_decoys("RND:127"));
    EXPECT_TRUE(parse_decoys("ME"));
}

TEST(Decoys, RefusedWithOneLine) {
    std::string many;
    for (int i = 0; i < 128; ++i) many += (i ? ",10.0.0." : "10.0.0.") + std::to_string(i % 250 + 1);
    for (const std::string& bad : std::vector<std::string>{"10.0.0.300", "RND:x", "RND:", "RND:0", "RND:128", "RND:-1", "10.0.0.1,,ME", "",
                                  "ME,ME", "224.0.0.1", "255.255.255.255", "host.example", "RND:100,RND:28", many}) {
        const auto r = parse_decoys(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().find('\n'), std::string::npos);
    }
    EXPECT_NE(parse_decoys("RND:x").error().find("RND:N"), std::string::npos);
    EXPECT_NE(parse_decoys("RND:100,RND:28").error().find("127"), std::string::npos);
}

TEST(Decoys, PlanKeepsTheOrderAndOurPlace) {
    const auto plan = plan_decoys(*parse_decoys("10.77.72.200,ME,10.77.72.201"), 9);
    EXPECT_EQ(plan.decoys, (std::vector<Ipv4>{kA, kB}));
    EXPECT_EQ(plan.me_at, 1u);
    EXPECT_EQ(plan_decoys(*parse_decoys("10.77.72.200,10.77.72.201,ME"), 9).me_at, 2u);
    EXPECT_EQ(plan_decoys(*parse_decoys("ME,10.77.72.200"), 9).me_at, 0u);
    // No ME: a place drawn from the seed, the same for the same seed, every place reached.
    const auto entries = *parse_decoys("10.77.72.200,10.77.72.201");
    std::set<std::size_t> places;
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        const auto p = plan_decoys(entries, seed);
        ASSERT_LE(p.me_at, 2u);
        EXPECT_EQ(p.me_at, plan_decoys(entries, seed).me_at);
        places.insert(p.me_at);
    }
    EXPECT_EQ(places.size(), 3u);
}

TEST(Decoys, RandomAddressesAreUnicastAndReproducible) {
    const auto plan = plan_decoys(*parse_decoys("RND:5,ME,RND:2"), 42);
    ASSERT_EQ(plan.decoys.size(), 7u);
    EXPECT_EQ(plan.me_at, 5u);
    EXPECT_EQ(plan.decoys, plan_decoys(*parse_decoys("RND:5,ME,RND:2"), 42).decoys);
    EXPECT_NE(plan.decoys, plan_decoys(*parse_decoys("RND:5,ME,RND:2"), 43).decoys);
    for (std::uint64_t n = 0; n < 20000; ++n) {
        const Ipv4 ip = random_decoy(7, n);
        for (const auto& block : reserved_blocks())
            ASSERT_FALSE(block.range.first.value() <= ip.value() && ip.value() <= block.range.last.value())
                << ip.str() << " in " << block.cidr;
    }
}

// RFC 791 header checksum recomputed; RFC 793 / 768 pseudo-header checksums follow the new source.
TEST(Decoys, CopyHasTheDecoysSourceAndValidChecksums) {
    for (const ProbeKind* kind : {&syn_kind(), &ping_ack_kind(), &udp_kind(), &ping_echo_kind()}) {
        SCOPED_TRACE(std::string(kind->name));
        const Bytes probe = built(*kind);
        const Bytes copy = with_source(probe, kA);
        ASSERT_EQ(copy.size(), probe.size());
        EXPECT_EQ(source_of(copy), kA);
        EXPECT_EQ(ipv4_header_checksum(std::span{copy}.first(20)), 0);
        if (kind->protocol != ipproto::icmp) {
            EXPECT_TRUE(transport_valid(copy));
        } else {
            EXPECT_EQ(checksum_finish(checksum_add(std::span{copy}.subspan(20))), 0);
        }
        for (std::size_t at = 0; at < copy.size(); ++at) {  // only the source and the checksums differ
            const bool may = (at >= 10 && at < 16) || (kind->protocol == ipproto::tcp ? at == 36 || at == 37 : at == 26 || at == 27);
            if (!may) {
                EXPECT_EQ(copy[at], probe[at]) << "byte " << at;
            }
        }
    }
}

TEST(Decoys, BadsumStaysWrongAndNoUdpChecksumStaysNone) {
    ProbeShape shape;
    shape.badsum = true;
    for (const ProbeKind* kind : {&syn_kind(), &udp_kind()}) {
        const Bytes copy = with_source(built(*kind, shape), kB);
        EXPECT_FALSE(transport_valid(copy));
        EXPECT_EQ(ipv4_header_checksum(std::span{copy}.first(20)), 0);
    }
    Bytes udp = built(udp_kind());
    put_be16(udp, 26, 0);  // RFC 768: no checksum
    EXPECT_EQ(field(with_source(udp, kB), 26), 0);
    const Bytes arp(42, 0);  // not IPv4: unchanged
    EXPECT_EQ(with_source(arp, kA), arp);
}

using Keeping = testing::KeepingSink;

TEST(Decoys, SinkSendsEachProbeFromEverySourceInOrder) {
    const Bytes syn = built(syn_kind());
    const std::span<const std::uint8_t> two[] = {syn, syn};
    Keeping inner;
    std::vector<Ipv4> traced;
    DecoySink sink{inner, plan_decoys(*parse_decoys("10.77.72.200,ME,10.77.72.201"), 1),
                   [&traced](std::span<const std::uint8_t> p) { traced.push_back(source_of(p)); }};
    EXPECT_EQ(sink.send(two), 2u);
    ASSERT_EQ(inner.packets.size(), 6u);
    const std::vector<Ipv4> order{kA, kMe, kB, kA, kMe, kB};
    for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(source_of(inner.packets[i]), order[i]) << i;
    EXPECT_EQ(inner.packets[1], syn);  // ours is the probe itself
    EXPECT_EQ(traced, order);
    inner.limit = 4;  // the second probe's last copies refused: it did not go out
    EXPECT_EQ(sink.send(two), 1u);
    EXPECT_EQ(traced.size(), 10u);
}

// -D then -f: every copy in pieces, and each copy's pieces reassemble to a valid probe from its source.
TEST(Decoys, ThenFragments) {
    const Bytes syn = built(syn_kind());
    const std::span<const std::uint8_t> one[] = {syn};
    Keeping inner;
    FragmentingSink fragments{inner, 8};
    DecoySink sink{fragments, plan_decoys(*parse_decoys("10.77.72.200,ME,10.77.72.201"), 1)};
    EXPECT_EQ(sink.send(one), 1u);
    ASSERT_EQ(inner.packets.size(), 9u);
    Ipv4Reassembler reassembler;
    std::vector<Ipv4> sources;
    for (const auto& piece : inner.packets) {
        EXPECT_EQ(ipv4_header_checksum(std::span{piece}.first(20)), 0);
        if (auto whole = reassembler.add(ByteView{piece}, 0)) {
            EXPECT_TRUE(transport_valid(*whole));
            sources.push_back(source_of(*whole));
        }
    }
    EXPECT_EQ(sources, (std::vector<Ipv4>{kA, kMe, kB}));
}

// The simulated target answers every copy, to its source: the replies to the decoys are strays
// (not to us), and every port's verdict is the one a scan without decoys gives.
TEST(Decoys, RepliesToDecoysNeverCount) {
    using testing::SimScan;
    SimHost host;
    host.open = {22, 80};
    host.rejected = {113};
    host.dropped = {81};
    SimConfig net;
    net.hosts[kTarget] = host;
    const std::vector<Port> ports = testing::port_range(20, 120);
    SimScan plain{testing::one_host(kTarget), ports, net};
    plain.run();

    SimScan decoyed{testing::one_host(kTarget), ports, net};
    decoyed.sim = std::make_unique<SimNetwork>(net, decoyed.clock);
    decoyed.results = std::make_unique<Results>(decoyed.targets, decoyed.kinds);
    decoyed.engine = std::make_unique<Engine>(decoyed.targets, decoyed.config, CookieKey{11, 22}, *decoyed.results);
    auto builder = ProbeBuilder::create(decoyed.kinds, ProbeShape{}, nullptr);
    ASSERT_TRUE(builder);
    DecoySink sink{*decoyed.sim, plan_decoys(*parse_decoys("10.77.72.200,ME,10.77.72.201"), 1)};
    const std::atomic<bool> never{false};
    run_scan(*decoyed.engine, *builder, sink, *decoyed.sim, decoyed.clock, never);

    for (const Port port : ports) {
        EXPECT_EQ(decoyed.at(kTarget, port.value()).state, plain.at(kTarget, port.value()).state) << port.value();
        EXPECT_EQ(decoyed.at(kTarget, port.value()).reason, plain.at(kTarget, port.value()).reason) << port.value();
    }
    EXPECT_EQ(decoyed.at(kTarget, 22).state, PortState::open);
    EXPECT_EQ(decoyed.sim->counters().probes, 3 * plain.sim->counters().probes);
    EXPECT_EQ(decoyed.engine->stats().strays, 2 * plain.sim->counters().replies);
    EXPECT_EQ(plain.engine->stats().strays, 0u);
}

Result<CommandLine> parse(std::vector<std::string> args) {
    std::vector<const char*> argv{"flagscan"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(DecoyOptions, SpellingsAndRefusals) {
    EXPECT_EQ(parse({"-D", "10.77.72.200,ME", "10.0.0.1"})->config.decoys.size(), 2u);
    EXPECT_EQ(parse({"--decoys", "RND:3", "10.0.0.1"})->config.decoys.size(), 1u);
    EXPECT_TRUE(parse({"10.0.0.1"})->config.decoys.empty());
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"-D", "10.0.0.300"}, {"-D", "RND:x"}, {"-D", "RND:500"}, {"-sT", "-D", "10.0.0.5"}}) {
        auto all = args;
        all.push_back("10.0.0.1");
        const auto line = parse(all);
        ASSERT_FALSE(line) << args.back();
        EXPECT_EQ(line.error().find('\n'), std::string::npos) << line.error();
    }
    EXPECT_NE(parse({"-sT", "-D", "10.0.0.5", "10.0.0.1"}).error().find("kernel"), std::string::npos);
}

TEST(DecoyOptions, ExplainNamesTheSourcesAndOurPlace) {
    auto config = parse({"-D", "10.77.72.200,ME,10.77.72.201", "10.0.0.1"})->config;
    const auto said = shaping_sentences(config);
    ASSERT_EQ(said.size(), 1u);
    EXPECT_NE(said[0].find("2 decoy source addresses (10.77.72.200, 10.77.72.201)"), std::string::npos) << said[0];
    EXPECT_NE(said[0].find("copy 2 of 3"), std::string::npos) << said[0];
}

}  // namespace
}  // namespace flagscan

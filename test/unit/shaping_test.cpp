// Probe shaping (-f, -ff, --mtu, --data-length, --badsum): fragments field by field and put back
// together, the shaped probes' bytes and checksums, and the options' spellings and refusals.
#include <gtest/gtest.h>

#include "flagscan/cli/options.hpp"
#include "flagscan/cli/scan_plan.hpp"
#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/reassembly.hpp"
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/wire/fragments.hpp"
#include "sample_probes.hpp"

namespace flagscan {
namespace {

Probe sample_probe() {
    return Probe{.src = Ipv4{10, 77, 73, 1}, .dst = Ipv4{10, 77, 73, 2}, .sport = Port{40000}, .dport = Port{22},
                 .seq = 0x01020304, .ip_id = 0xbeef};
}

std::vector<std::uint8_t> built(const ProbeKind& kind, const ProbeShape& shape, const UdpPayloads* payloads = nullptr) {
    return testing::built_probe(kind, shape, sample_probe(), payloads);
}

std::uint16_t field(std::span<const std::uint8_t> bytes, std::size_t at) { return ByteView{bytes}.be16(at).value_or(0); }

// RFC 791 3.2 on every fragment of a 44-byte SYN (24 TCP bytes), then the pieces put back
// together by the replay's reassembler give the probe byte for byte.
void expect_fragments(const std::vector<std::uint8_t>& packet, std::size_t per, std::vector<std::size_t> sizes) {
    const auto pieces = fragment_ipv4(packet, per);
    ASSERT_EQ(pieces.size(), sizes.size());
    Ipv4Reassembler reassembler;
    std::optional<std::vector<std::uint8_t>> whole;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        const auto& f = pieces[i];
        SCOPED_TRACE("fragment " + std::to_string(i));
        ASSERT_EQ(f.size(), 20 + sizes[i]);
        EXPECT_EQ(field(f, 2), f.size());                                // total length
        EXPECT_EQ(field(f, 4), 0xbeef);                                  // the probe's IP id on every piece
        EXPECT_EQ((field(f, 6) & 0x1fff) * 8u, offset);                  // offset in 8-byte units
        EXPECT_EQ((field(f, 6) & 0x2000) != 0, i + 1 < pieces.size());   // MF on all but the last
        EXPECT_EQ(ipv4_header_checksum(std::span{f}.first(20)), 0);      // each header's own checksum
        EXPECT_TRUE(std::equal(f.begin() + 20, f.end(), packet.begin() + 20 + static_cast<long>(offset)));
        offset += sizes[i];
        whole = reassembler.add(ByteView{f}, 0);
        EXPECT_EQ(whole.has_value(), i + 1 == pieces.size());
    }
    ASSERT_TRUE(whole);
    EXPECT_EQ(*whole, packet);
}

TEST(Fragments, EightBytesEach) {
    const auto syn = built(syn_kind(), ProbeShape{});
    ASSERT_EQ(syn.size(), 44u);
    expect_fragments(syn, 8, {8, 8, 8});
}

TEST(Fragments, SixteenBytesEach) { expect_fragments(built(syn_kind(), ProbeShape{}), 16, {16, 8}); }

TEST(Fragments, TwentyFourBytesEachWithData) {
    ProbeShape shape;
    shape.data = random_data(20, 7);
    expect_fragments(built(syn_kind(), shape), 24, {24, 20});
}

TEST(Fragments, UdpProbeWithPayload) {
    ProbeShape shape;
    shape.data = random_data(13, 1);
    expect_fragments(built(udp_kind(), shape), 8, {8, 8, 5});
}

TEST(Fragments, WholeWhenItFitsOrMayNotBeSplit) {
    const auto syn = built(syn_kind(), ProbeShape{});
    EXPECT_EQ(fragment_ipv4(syn, 24), std::vector<std::vector<std::uint8_t>>{syn});  // 24 data bytes fit
    EXPECT_EQ(fragment_ipv4(syn, 12).size(), 1u);                                   // not a multiple of 8
    auto df = syn;
    df[6] |= 0x40;  // RFC 791: Don't Fragment
    EXPECT_EQ(fragment_ipv4(df, 8).size(), 1u);
    const std::vector<std::uint8_t> junk{1, 2, 3};
    EXPECT_EQ(fragment_ipv4(junk, 8), std::vector<std::vector<std::uint8_t>>{junk});
}

// RFC 791 3.1: options with the copied bit go into every fragment, the others only the first.
TEST(Fragments, OnlyCopiedOptionsInLaterFragments) {
    const auto syn = built(syn_kind(), ProbeShape{});
    std::vector<std::uint8_t> with(syn.begin(), syn.begin() + 20);
    const std::vector<std::uint8_t> options{0x07, 3, 4, 0x94, 4, 0, 0, 0};  // record route (not copied), router alert (copied)
    with.insert(with.end(), options.begin(), options.end());
    with.insert(with.end(), syn.begin() + 20, syn.end());
    with[0] = 0x47;
    put_be16(std::span{with}, 2, static_cast<std::uint16_t>(with.size()));
    const auto pieces = fragment_ipv4(with, 8);
    ASSERT_EQ(pieces.size(), 3u);
    EXPECT_EQ(pieces[0].size(), 28u + 8u);
    EXPECT_EQ(pieces[1][0], 0x46);  // 20 + router alert (4)
    EXPECT_EQ(pieces[1][20], 0x94);
    EXPECT_EQ(ipv4_header_checksum(std::span{pieces[1]}.first(24)), 0);
}

using Keeping = testing::KeepingSink;

TEST(Fragments, SinkSendsThePiecesAndCountsWholeProbes) {
    const auto syn = built(syn_kind(), ProbeShape{});
    const std::span<const std::uint8_t> two[] = {syn, syn};
    Keeping inner;
    FragmentingSink sink{inner, 8};
    EXPECT_EQ(sink.send(two), 2u);
    EXPECT_EQ(inner.packets.size(), 6u);
    inner.limit = 4;  // the second probe's last pieces refused: it did not go out
    EXPECT_EQ(sink.send(two), 1u);
}

TEST(DataLength, AppendedToTcpWithValidChecksum) {
    ProbeShape shape;
    shape.data = random_data(100, 42);
    const auto syn = built(syn_kind(), shape);
    ASSERT_EQ(syn.size(), 144u);
    EXPECT_EQ(field(syn, 2), 144u);
    EXPECT_TRUE(std::equal(shape.data->begin(), shape.data->end(), syn.begin() + 44));
    EXPECT_EQ(transport_checksum(sample_probe().src, sample_probe().dst, 6, std::span{syn}.subspan(20)), 0);
}

TEST(DataLength, ReplacesUdpPayloadsAndZeroSendsNone) {
    const auto payloads = UdpPayloads::builtin();
    ASSERT_FALSE(payloads.for_port(Port{53}).empty());
    Probe probe = sample_probe();
    probe.dport = Port{53};
    const ProbeKind* kinds[] = {&udp_kind()};
    ProbeShape none;
    none.data = std::vector<std::uint8_t>{};
    auto builder = ProbeBuilder::create(kinds, none, &payloads);
    ASSERT_TRUE(builder);
    std::vector<std::uint8_t> out(builder->size() + 512);
    EXPECT_EQ(builder->build(probe, out), 28u);  // --data-length 0: no DNS payload
    ProbeShape some;
    some.data = random_data(10, 3);
    auto with = ProbeBuilder::create(kinds, some, &payloads);
    ASSERT_TRUE(with);
    EXPECT_EQ(with->build(probe, out), 38u);
    EXPECT_EQ(field(out, 20 + 4), 18u);  // UDP length
    EXPECT_EQ(transport_checksum(probe.src, probe.dst, 17, std::span{out}.subspan(20, 18)), 0);
}

TEST(DataLength, SameSeedSameBytes) {
    EXPECT_EQ(random_data(33, 5), random_data(33, 5));
    EXPECT_NE(random_data(33, 5), random_data(33, 6));
    EXPECT_EQ(random_data(33, 5).size(), 33u);
}

// A valid checksum makes the receiver's sum 0 (RFC 1071); --badsum's never does, and UDP's is never 0.
TEST(Badsum, WrongByConstruction) {
    ProbeShape shape;
    shape.badsum = true;
    const auto p = sample_probe();
    const auto syn = built(syn_kind(), shape);
    EXPECT_NE(transport_checksum(p.src, p.dst, 6, std::span{syn}.subspan(20)), 0);
    EXPECT_EQ(ipv4_header_checksum(std::span{syn}.first(20)), 0);  // the IP header stays valid
    const auto udp = built(udp_kind(), shape);
    EXPECT_NE(transport_checksum(p.src, p.dst, 17, std::span{udp}.subspan(20)), 0);
    EXPECT_NE(field(udp, 26), 0);
    for (unsigned c = 0; c <= 0xffff; ++c) {
        const auto bad = wrong_checksum(static_cast<std::uint16_t>(c));
        ASSERT_NE(bad, c);
        ASSERT_NE(bad, 0);
        ASSERT_FALSE((c == 0 && bad == 0xffff) || (c == 0xffff && bad == 0));  // one's-complement twins
    }
}

Result<CommandLine> parse(std::vector<std::string> args) {
    std::vector<const char*> argv{"flagscan"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(ShapingOptions, Spellings) {
    EXPECT_EQ(parse({"-f", "10.0.0.1"})->config.fragment_data, 8u);
    EXPECT_EQ(parse({"-ff", "10.0.0.1"})->config.fragment_data, 16u);
    EXPECT_EQ(parse({"-f", "-f", "10.0.0.1"})->config.fragment_data, 16u);
    EXPECT_EQ(parse({"--fragment", "10.0.0.1"})->config.fragment_data, 8u);
    EXPECT_EQ(parse({"--mtu", "24", "10.0.0.1"})->config.fragment_data, 24u);
    EXPECT_EQ(parse({"10.0.0.1"})->config.fragment_data, 0u);
    EXPECT_EQ(parse({"--data-length", "0", "10.0.0.1"})->config.data_length, std::uint16_t{0});
    EXPECT_EQ(parse({"--data-length", "1400", "10.0.0.1"})->config.data_length, std::uint16_t{1400});
    EXPECT_FALSE(parse({"10.0.0.1"})->config.data_length);
    EXPECT_TRUE(parse({"--badsum", "10.0.0.1"})->config.badsum);
}

TEST(ShapingOptions, RefusedWithOneLine) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--mtu", "12"}, {"--mtu", "0"}, {"--mtu", "-8"}, {"--mtu", "x"}, {"-f", "--mtu", "16"}, {"-fff"},
             {"--data-length", "1401"}, {"--data-length", "-1"}}) {
        auto all = args;
        all.push_back("10.0.0.1");
        auto line = parse(all);
        ASSERT_FALSE(line) << args.front();
        EXPECT_EQ(line.error().find('\n'), std::string::npos) << line.error();
    }
    EXPECT_NE(parse({"--mtu", "12", "10.0.0.1"}).error().find("multiple of 8"), std::string::npos);
}

TEST(ShapingOptions, ExplainSaysWhatWasDone) {
    EXPECT_TRUE(shaping_sentences(parse({"10.0.0.1"})->config).empty());
    const auto said = shaping_sentences(parse({"--mtu", "16", "--data-length", "5", "--badsum", "-sU", "10.0.0.1"})->config);
    ASSERT_EQ(said.size(), 3u);
    EXPECT_NE(said[0].find("16 data bytes"), std::string::npos);
    EXPECT_NE(said[1].find("5 random data bytes"), std::string::npos);
    EXPECT_NE(said[1].find("UDP protocol payload"), std::string::npos);
    EXPECT_NE(said[2].find("wrong checksum"), std::string::npos);
    const auto ttl = shaping_sentences(parse({"--ttl", "3", "10.0.0.1"})->config);
    ASSERT_EQ(ttl.size(), 1u);
    EXPECT_NE(ttl[0].find("TTL 3 (RFC 791 3.1)"), std::string::npos) << ttl[0];
    const auto hops = shaping_sentences(parse({"--ttl", "3", "fd00::1"})->config);
    ASSERT_EQ(hops.size(), 1u);
    EXPECT_NE(hops[0].find("hop limit 3 (RFC 8200 3)"), std::string::npos) << hops[0];
}

}  // namespace
}  // namespace flagscan

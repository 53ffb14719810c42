// Probe shaping over IPv6: fragments field by field (RFC 8200 4.5) and put back together, decoy
// copies' sources and checksums checked by a sum written here, and the options over -6.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "flagscan/cli/options.hpp"
#include "flagscan/cli/scan_plan.hpp"
#include "flagscan/net/address_book.hpp"
#include "flagscan/net/bytes.hpp"
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/wire/decoys.hpp"
#include "flagscan/wire/fragments.hpp"
#include "sample_probes.hpp"

namespace flagscan {
namespace {

using Bytes = std::vector<std::uint8_t>;
const Ipv6 kUs = *Ipv6::parse("fd77:74::1");
const Ipv6 kTarget = *Ipv6::parse("fd77:74::2");
const Ipv6 kA = *Ipv6::parse("fd77:74::200");
const Ipv6 kB = *Ipv6::parse("2001:db8:1:2:3:4:5:6");

// A one-probe IPv6 packet of KIND as a live IPv6 scan builds it (keys through an AddressBook).
Bytes built6(const ProbeKind& kind, const ProbeShape& shape = {}, std::uint16_t dport = 22, std::uint16_t ip_id = 0xbeef) {
    AddressBook book;
    const Ipv4 target = book.add(Ipv6Range{kTarget, kTarget}).value();
    const Ipv4 us = *book.key_for(kUs);
    const ProbeKind* kinds[] = {&kind};
    auto builder = ProbeBuilder::create(kinds, shape, nullptr, &book);
    EXPECT_TRUE(builder) << builder.error();
    if (!builder) return {};
    Bytes out(builder->size());
    const Probe probe{.src = us, .dst = target, .sport = Port{40000}, .dport = Port{dport}, .seq = 0x01020304, .ip_id = ip_id};
    out.resize(builder->build(probe, out));
    return out;
}

Bytes v4_syn(const ProbeShape& shape) {
    return testing::built_probe(syn_kind(), shape, {.src = Ipv4{10, 0, 0, 1}, .dst = Ipv4{10, 0, 0, 2}, .sport = Port{40000},
                                                    .dport = Port{22}, .seq = 1, .ip_id = 1});
}

ProbeShape with_data(std::size_t n) {
    ProbeShape shape;
    shape.data = random_data(n, 7);
    return shape;
}

std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t at) { return ByteView{b}.be16(at).value_or(0); }
std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t at) { return ByteView{b}.be32(at).value_or(0); }
Ipv6 address(std::span<const std::uint8_t> b, std::size_t at) { return Ipv6::from_bytes(b.subspan(at).first<16>()); }

// RFC 8200 8.1 written out here, apart from net/checksum: the one's-complement sum of the
// pseudo-header (source, destination, 32-bit length, 3 zero bytes, next header) and the upper
// layer, which is 0xffff (a valid checksum) over a segment carrying its checksum.
bool upper_valid(std::span<const std::uint8_t> packet, std::size_t upper_at, std::uint8_t next) {
    const std::size_t length = packet.size() - upper_at;
    std::uint64_t sum = length + next;
    for (std::size_t i = 8; i < 40; i += 2) sum += be16(packet, i);
    for (std::size_t i = upper_at; i < packet.size(); i += 2)
        sum += i + 1 < packet.size() ? be16(packet, i) : std::uint64_t{packet[i]} << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

// A fragment's Fragment header, right after the unfragmentable part of UNFRAGMENTABLE bytes.
struct FragmentFields {
    std::uint8_t next = 0;
    std::size_t offset = 0;  // bytes
    bool more = false;
    std::uint32_t id = 0;
};
FragmentFields fields(const Bytes& f, std::size_t unfragmentable = 40) {
    return {f[unfragmentable], static_cast<std::size_t>(be16(f, unfragmentable + 2) & 0xfff8u),
            (be16(f, unfragmentable + 2) & 1) != 0, be32(f, unfragmentable + 4)};
}

// The pieces put back together as RFC 8200 4.5 reassembly does: the unfragmentable part of the
// first, its last next-header byte (at NAMES_NEXT) given back the Fragment header's value, the
// pieces in offset order without gaps, the payload length of the whole.
Bytes reassembled(const std::vector<Bytes>& pieces, std::size_t unfragmentable = 40, std::size_t names_next = 6) {
    std::vector<const Bytes*> sorted;
    for (const auto& p : pieces) sorted.push_back(&p);
    std::ranges::sort(sorted, {}, [&](const Bytes* p) { return fields(*p, unfragmentable).offset; });
    Bytes out(sorted.front()->begin(), sorted.front()->begin() + static_cast<long>(unfragmentable));
    out[names_next] = fields(*sorted.front(), unfragmentable).next;
    for (const Bytes* p : sorted) {
        EXPECT_EQ(fields(*p, unfragmentable).offset, out.size() - unfragmentable);  // no gap, no overlap
        out.insert(out.end(), p->begin() + static_cast<long>(unfragmentable + 8), p->end());
    }
    put_be16(std::span{out}, 4, static_cast<std::uint16_t>(out.size() - 40));
    return out;
}

// RFC 8200 4.5 on every fragment: the IPv6 header repeated with next header 44 and its own
// payload length, the Fragment header (the original next header, offsets in 8-byte units
// running on, M on all but the last, one Identification), pieces of SIZES bytes; then the
// pieces reassembled are the packet byte for byte.
void expect_fragments6(const Bytes& packet, std::size_t per, const std::vector<std::size_t>& sizes) {
    const auto pieces = fragment_ipv6(packet, per, 0x12345678);
    ASSERT_EQ(pieces.size(), sizes.size());
    std::size_t offset = 0;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        SCOPED_TRACE("fragment " + std::to_string(i));
        const Bytes& f = pieces[i];
        ASSERT_EQ(f.size(), 48 + sizes[i]);
        EXPECT_TRUE(std::equal(f.begin(), f.begin() + 4, packet.begin()));     // version, class, flow label
        EXPECT_EQ(be16(f, 4), f.size() - 40);                                  // payload length
        EXPECT_EQ(f[6], 44);                                                   // next: Fragment
        EXPECT_TRUE(std::equal(f.begin() + 7, f.begin() + 40, packet.begin() + 7));  // hop limit, addresses
        const auto h = fields(f);
        EXPECT_EQ(h.next, packet[6]);
        EXPECT_EQ(f[41], 0);                                                   // reserved
        EXPECT_EQ(be16(f, 42) & 6, 0);                                         // Res bits
        EXPECT_EQ(h.offset, offset);
        EXPECT_EQ(h.more, i + 1 < pieces.size());
        EXPECT_EQ(h.id, 0x12345678u);
        if (h.more) {
            EXPECT_EQ(sizes[i] % 8, 0u);
        }
        EXPECT_TRUE(std::equal(f.begin() + 48, f.end(), packet.begin() + 40 + static_cast<long>(offset)));
        offset += sizes[i];
    }
    EXPECT_EQ(reassembled(pieces), packet);
}

// -f on a SYN with 20 data bytes: the first fragment holds the whole 24-byte TCP header (RFC
// 7112 5; Linux answers a cut one with Parameter Problem code 3), then 8 bytes each.
TEST(Fragments6, EightBytesAfterTheWholeTcpHeader) {
    const Bytes syn = built6(syn_kind(), with_data(20));
    ASSERT_EQ(syn.size(), 84u);
    expect_fragments6(syn, 8, {24, 8, 8, 4});
}

TEST(Fragments6, SixteenBytesEach) { expect_fragments6(built6(syn_kind(), with_data(20)), 16, {24, 16, 4}); }

TEST(Fragments6, Mtu24) {
    expect_fragments6(built6(syn_kind(), with_data(20)), 24, {24, 20});
    expect_fragments6(built6(syn_kind(), with_data(100)), 24, {24, 24, 24, 24, 24, 4});
}

// UDP's header is 8 bytes: -f splits it as over IPv4, 8 bytes a piece.
TEST(Fragments6, UdpProbeEightBytesEach) { expect_fragments6(built6(udp_kind(), with_data(13), 53), 8, {8, 8, 5}); }

TEST(Fragments6, LargeMtuGivesFragmentsOfAtLeast1280Bytes) {
    const Bytes syn = built6(syn_kind(), with_data(1400));
    expect_fragments6(syn, 1232, {1232, 192});
    EXPECT_EQ(fragment_ipv6(syn, 1232, 1).front().size(), 1280u);  // RFC 8200 5: the minimum link MTU
}

TEST(Fragments6, WholeWhenItFitsOrMayNotBeSplit) {
    const Bytes syn = built6(syn_kind());
    ASSERT_EQ(syn.size(), 64u);
    EXPECT_EQ(fragment_ipv6(syn, 8, 1), std::vector<Bytes>{syn});   // the TCP header alone: nothing after it
    EXPECT_EQ(fragment_ipv6(syn, 24, 1), std::vector<Bytes>{syn});  // 24 bytes fit
    const Bytes data = built6(syn_kind(), with_data(20));
    EXPECT_EQ(fragment_ipv6(data, 12, 1).size(), 1u);  // not a multiple of 8
    EXPECT_EQ(fragment_ipv6(data, 0, 1).size(), 1u);
    const auto once = fragment_ipv6(data, 8, 1);
    EXPECT_EQ(fragment_ipv6(once[1], 8, 2), std::vector<Bytes>{once[1]});  // already a fragment
    const Bytes junk{0x60, 1, 2};
    EXPECT_EQ(fragment_ipv6(junk, 8, 1), std::vector<Bytes>{junk});
    const Bytes v4 = v4_syn(with_data(20));
    EXPECT_EQ(fragment_ipv6(v4, 8, 1), std::vector<Bytes>{v4});
}

// RFC 8200 4.5: a Hop-by-Hop header is in the unfragmentable part: repeated in every fragment,
// its next header now 44; the Fragment header names what followed it (TCP).
TEST(Fragments6, HopByHopHeaderRepeatedInEveryFragment) {
    const Bytes syn = built6(syn_kind(), with_data(20));
    Bytes with(syn.begin(), syn.begin() + 40);
    const Bytes hop_by_hop{6, 0, 1, 4, 0, 0, 0, 0};  // next TCP, 8 bytes, a PadN option
    with.insert(with.end(), hop_by_hop.begin(), hop_by_hop.end());
    with.insert(with.end(), syn.begin() + 40, syn.end());
    with[6] = 0;
    put_be16(std::span{with}, 4, static_cast<std::uint16_t>(with.size() - 40));
    const auto pieces = fragment_ipv6(with, 8, 7);
    ASSERT_EQ(pieces.size(), 4u);
    for (const auto& f : pieces) {
        EXPECT_EQ(f[6], 0);
        EXPECT_EQ(f[40], 44);
        EXPECT_TRUE(std::equal(f.begin() + 41, f.begin() + 48, hop_by_hop.begin() + 1));
        EXPECT_EQ(fields(f, 48).next, 6);
        EXPECT_EQ(fields(f, 48).id, 7u);
    }
    EXPECT_EQ(pieces[0].size(), 48u + 8 + 24);
    EXPECT_EQ(reassembled(pieces, 48, 40), with);
}

using Keeping = testing::KeepingSink;

// One Identification for a probe's pieces, another for the next probe's; IPv4 as before.
TEST(Fragments6, SinkGivesEachProbeItsOwnIdentification) {
    const Bytes a = built6(syn_kind(), with_data(20), 22, 0x1111);
    const Bytes b = built6(syn_kind(), with_data(20), 80, 0x1111);  // same flow label: the count tells them apart
    const Bytes v4 = v4_syn({});
    const std::span<const std::uint8_t> batch[] = {a, b, a, v4};
    Keeping inner;
    FragmentingSink sink{inner, 8};
    EXPECT_EQ(sink.send(batch), 4u);
    ASSERT_EQ(inner.packets.size(), 4u + 4u + 4u + 3u);
    std::vector<std::uint32_t> ids;
    for (std::size_t probe = 0; probe < 3; ++probe) {
        for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(fields(inner.packets[probe * 4 + i]).id, fields(inner.packets[probe * 4]).id);
        ids.push_back(fields(inner.packets[probe * 4]).id);
        EXPECT_EQ(ids.back() >> 12, 0x1111u);  // the flow label's bits
    }
    EXPECT_EQ(std::set<std::uint32_t>(ids.begin(), ids.end()).size(), 3u);
    EXPECT_EQ(inner.packets[12][0] >> 4, 4);
    inner.limit = 5;  // the second probe's last pieces refused: it did not go out
    EXPECT_EQ(sink.send(batch), 1u);
}

TEST(Decoys6, Spellings) {
    const auto entries = parse_decoys("fd77:74::200,ME,RND:2,2001:db8:1:2:3:4:5:6");
    ASSERT_TRUE(entries) << entries.error();
    ASSERT_EQ(entries->size(), 4u);
    EXPECT_EQ((*entries)[0].kind, DecoyEntry::Kind::address6);
    EXPECT_EQ((*entries)[0].address6, kA);
    EXPECT_EQ((*entries)[3].address6, kB);
    for (const std::string bad : {"ff02::1", "::", "fd77::1::2", "fd77::1,ff05::2"}) {
        const auto r = parse_decoys(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().find('\n'), std::string::npos);
    }
}

TEST(Decoys6, OneVersionPerScan) {
    const auto v6 = *parse_decoys("fd77:74::200,ME,RND");
    const auto v4 = *parse_decoys("10.0.0.5,RND");
    const auto mixed = *parse_decoys("fd77:74::200,10.0.0.5");
    EXPECT_FALSE(decoys_refused(v6, true));
    EXPECT_FALSE(decoys_refused(v4, false));
    EXPECT_FALSE(decoys_refused(*parse_decoys("ME,RND:3"), true));
    EXPECT_NE(decoys_refused(mixed, true).value_or("").find("10.0.0.5 is an IPv4 address"), std::string::npos);
    EXPECT_NE(decoys_refused(v6, false).value_or("").find("fd77:74::200 is an IPv6 address"), std::string::npos);
}

TEST(Decoys6, PlanKeepsTheOrderOurPlaceAndDrawsInOurSlash64) {
    const auto plan = plan_decoys(*parse_decoys("fd77:74::200,RND:3,ME,2001:db8:1:2:3:4:5:6"), 9, kUs);
    EXPECT_TRUE(plan.decoys.empty());
    ASSERT_EQ(plan.decoys6.size(), 5u);
    EXPECT_EQ(plan.me_at, 4u);
    EXPECT_EQ(plan.copies(), 6u);
    EXPECT_EQ(plan.decoys6[0], kA);
    EXPECT_EQ(plan.decoys6[4], kB);
    EXPECT_EQ(plan.decoys6, plan_decoys(*parse_decoys("fd77:74::200,RND:3,ME,2001:db8:1:2:3:4:5:6"), 9, kUs).decoys6);
    std::set<Ipv6> seen;
    for (std::uint64_t n = 0; n < 5000; ++n) {
        const Ipv6 ip = random_decoy6(3, n, kUs);
        EXPECT_EQ(ip.high(), kUs.high());
        EXPECT_NE(ip.low(), 0u);
        EXPECT_LT(ip.low(), 0xfdff'ffff'ffff'ff80ULL);
        EXPECT_NE(ip, kUs);
        seen.insert(ip);
    }
    EXPECT_EQ(seen.size(), 5000u);
}

// Every copy: only the source and the upper-layer checksum changed, and that checksum valid by
// the sum written above (TCP, UDP, ICMPv6: RFC 8200 8.1, RFC 4443 2.3).
TEST(Decoys6, CopyHasTheDecoysSourceAndValidChecksums) {
    for (const ProbeKind* kind : {&syn_kind(), &ping_ack_kind(), &udp_kind(), &ping_echo_kind()}) {
        SCOPED_TRACE(std::string(kind->name));
        const Bytes probe = built6(*kind, with_data(5), 53);
        ASSERT_TRUE(upper_valid(probe, 40, probe[6]));
        for (const Ipv6& source : {kA, kB}) {
            const Bytes copy = with_source(probe, source);
            ASSERT_EQ(copy.size(), probe.size());
            EXPECT_EQ(address(copy, 8), source);
            EXPECT_TRUE(upper_valid(copy, 40, copy[6]));
            const std::size_t sum = 40 + (kind->protocol == ipproto::tcp ? 16 : kind->protocol == ipproto::udp ? 6 : 2);
            for (std::size_t at = 0; at < copy.size(); ++at)
                if ((at < 8 || at >= 24) && at != sum && at != sum + 1) {
                    EXPECT_EQ(copy[at], probe[at]) << "byte " << at;
                }
        }
    }
    ProbeShape bad;
    bad.badsum = true;
    EXPECT_FALSE(upper_valid(with_source(built6(syn_kind(), bad), kA), 40, 6));  // --badsum stays wrong
    const Bytes arp(42, 0);
    EXPECT_EQ(with_source(arp, kA), arp);
}

// -D a,ME,b over IPv6: each probe from a, from us, from b, traced in that order; then with -f
// every copy in pieces that reassemble to a valid probe from its source.
TEST(Decoys6, SinkSendsEachProbeFromEverySourceThenFragments) {
    const Bytes syn = built6(syn_kind(), with_data(20));
    const std::span<const std::uint8_t> two[] = {syn, syn};
    Keeping inner;
    std::vector<Ipv6> traced;
    const auto plan = plan_decoys(*parse_decoys("fd77:74::200,ME,2001:db8:1:2:3:4:5:6"), 1, kUs);
    DecoySink sink{inner, plan, [&traced](std::span<const std::uint8_t> p) { traced.push_back(address(p, 8)); }};
    EXPECT_EQ(sink.send(two), 2u);
    ASSERT_EQ(inner.packets.size(), 6u);
    const std::vector<Ipv6> order{kA, kUs, kB, kA, kUs, kB};
    EXPECT_EQ(traced, order);
    EXPECT_EQ(inner.packets[1], syn);
    for (const auto& p : inner.packets) EXPECT_TRUE(upper_valid(p, 40, 6));

    Keeping wire;
    FragmentingSink fragments{wire, 8};
    DecoySink both{fragments, plan};
    EXPECT_EQ(both.send(std::span{two}.first(1)), 1u);
    ASSERT_EQ(wire.packets.size(), 12u);
    std::map<std::uint32_t, std::vector<Bytes>> by_id;
    for (const auto& piece : wire.packets) by_id[fields(piece).id].push_back(piece);
    ASSERT_EQ(by_id.size(), 3u);
    std::set<Ipv6> sources;
    for (const auto& [id, pieces] : by_id) {
        const Bytes whole = reassembled(pieces);
        EXPECT_TRUE(upper_valid(whole, 40, 6));
        EXPECT_EQ(whole.size(), syn.size());
        sources.insert(address(whole, 8));
    }
    EXPECT_EQ(sources, (std::set<Ipv6>{kA, kUs, kB}));
}

Result<CommandLine> parse(std::vector<std::string> args) {
    std::vector<const char*> argv{"flagscan"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(ShapingOptions6, AcceptedOverIpv6AndOneVersionOfDecoys) {
    EXPECT_EQ(parse({"-6", "-f", "fd77:74::2"})->config.fragment_data, 8u);
    EXPECT_EQ(parse({"--mtu", "1232", "fd77:74::2"})->config.fragment_data, 1232u);
    EXPECT_EQ(parse({"-D", "fd77:74::200,ME,RND:2", "fd77:74::2"})->config.decoys.size(), 3u);
    for (const auto& [args, says] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"-D", "10.0.0.5,ME", "fd77:74::2"}, "IPv4 address"},
             {{"-D", "fd77:74::200", "10.0.0.1"}, "IPv6 address"},
             {{"--ip-options", "R", "fd77:74::2"}, "IPv4 header"}}) {
        const auto line = parse(args);
        ASSERT_FALSE(line) << args.front();
        EXPECT_EQ(line.error().find('\n'), std::string::npos) << line.error();
        EXPECT_NE(line.error().find(says), std::string::npos) << line.error();
    }
}

TEST(ShapingOptions6, ExplainSaysWhatWasDone) {
    const auto said = shaping_sentences(parse({"-f", "-D", "fd77:74::200,ME,RND:2", "fd77:74::2"})->config);
    ASSERT_EQ(said.size(), 2u);
    EXPECT_NE(said[0].find("RFC 8200 4.5"), std::string::npos) << said[0];
    EXPECT_NE(said[1].find("3 decoy source addresses (fd77:74::200, 2 random in our own /64)"), std::string::npos) << said[1];
    EXPECT_NE(said[1].find("copy 2 of 4"), std::string::npos) << said[1];
}

}  // namespace
}  // namespace flagscan

// --spoof-mac: the argument's forms and refusals, the vendor table, the frames EthernetSink sends
// (source spoofed, destination the next hop's MAC, EtherType per IP version) under -f and -D, the
// neighbours learned from ARP replies and Neighbor Advertisements, and the IPv4 next hop.
#include <gtest/gtest.h>

#include <fstream>

#include "flagscan/cli/neighbors.hpp"
#include "flagscan/cli/options.hpp"
#include "flagscan/cli/scan_plan.hpp"
#include "flagscan/net/address_book.hpp"
#include "flagscan/net/bytes.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/decode6.hpp"
#include "flagscan/probe/spoof_mac.hpp"
#include "flagscan/wire/decoys.hpp"
#include "flagscan/wire/ethernet_sink.hpp"
#include "flagscan/wire/fragments.hpp"
#include "sample_probes.hpp"

namespace flagscan {
namespace {

// A small copy of nmap-mac-prefixes' format: comments, then "OUI Vendor" lines in OUI order.
constexpr const char* kPrefixes =
    "# $Id: nmap-mac-prefixes $\n"
    "000393 Apple\n"
    "0020F2 Oracle\n"
    "00A040 Apple\n"
    "bad line\n"
    "525400 QEMU virtual NIC\n";

std::vector<MacVendor> vendors() { return parse_mac_prefixes(kPrefixes); }

MacAddress mac(std::string_view arg, std::uint64_t seed = 7) {
    auto parsed = parse_spoof_mac(arg, vendors(), seed);
    EXPECT_TRUE(parsed) << parsed.error();
    return parsed ? *parsed : MacAddress{};
}

std::string error_of(std::string_view arg) {
    auto parsed = parse_spoof_mac(arg, vendors(), 7);
    EXPECT_FALSE(parsed) << arg;
    return parsed ? "" : parsed.error();
}

TEST(SpoofMac, PrefixesFile) {
    ASSERT_EQ(vendors().size(), 4u);
    EXPECT_EQ(vendors()[1].oui, 0x0020f2u);
    EXPECT_EQ(vendors()[3].name, "QEMU virtual NIC");
}

TEST(SpoofMac, WholeMacInEverySpelling) {
    const MacAddress want{0x02, 0x01, 0x02, 0x03, 0x04, 0x05};
    EXPECT_EQ(mac("02:01:02:03:04:05"), want);
    EXPECT_EQ(mac("02-01-02-03-04-05"), want);
    EXPECT_EQ(mac("020102030405"), want);
    EXPECT_EQ(mac("02:01:02:03:04:05", 99), want);  // nothing drawn
}

TEST(SpoofMac, PrefixKeepsItsBytesAndDrawsTheRest) {
    for (const auto& [arg, n] : std::vector<std::pair<std::string, std::size_t>>{{"0020F2", 3}, {"00:20", 2}, {"00", 1}}) {
        SCOPED_TRACE(arg);
        const MacAddress m = mac(arg);
        const MacAddress full{0x00, 0x20, 0xf2};
        EXPECT_TRUE(std::equal(m.begin(), m.begin() + static_cast<long>(n), full.begin()));
        EXPECT_EQ(mac(arg), m);        // the same seed, the same MAC (a scan reproduces)
        EXPECT_NE(mac(arg, 8), m);     // another seed, another rest
    }
}

TEST(SpoofMac, ZeroIsRandomUnicastLocallyAdministered) {
    for (std::uint64_t seed = 0; seed < 64; ++seed) {
        const MacAddress m = mac("0", seed);
        EXPECT_EQ(m[0] & 0x01, 0) << seed;  // I/G clear: never a group address
        EXPECT_EQ(m[0] & 0x02, 2) << seed;  // U/L set: no vendor's address
    }
    EXPECT_NE(mac("0", 1), mac("0", 2));
}

TEST(SpoofMac, VendorByCaseInsensitivePrefixFirstInFileOrder) {
    EXPECT_EQ(mac("Apple")[2], 0x93);
    EXPECT_EQ(mac("apple")[0], 0x00);
    EXPECT_EQ((MacAddress{mac("apple")[0], mac("apple")[1], mac("apple")[2]}), (MacAddress{0x00, 0x03, 0x93}));
    EXPECT_EQ((MacAddress{mac("orac")[0], mac("orac")[1], mac("orac")[2]}), (MacAddress{0x00, 0x20, 0xf2}));
    EXPECT_EQ(mac("QEMU virtual")[0], 0x52);
    EXPECT_EQ(mac_vendor(mac("Oracle"), vendors()), "Oracle");
}

TEST(SpoofMac, RefusedInOneLine) {
    EXPECT_NE(error_of("01:02:03:04:05:06").find("group (multicast) bit"), std::string::npos);  // IEEE 802 I/G
    EXPECT_NE(error_of("03").find("multicast"), std::string::npos);
    for (const char* bad : {"", "0020F", "00:20:F2:01:02:03:04", "00::20", "Nosuchvendor", "zz:zz", "00:20:"}) {
        SCOPED_TRACE(bad);
        const std::string e = error_of(bad);
        EXPECT_NE(e.find("bad --spoof-mac"), std::string::npos);
        EXPECT_EQ(e.find('\n'), std::string::npos);
    }
}

TEST(SpoofMac, SaidAsNmapSaysIt) {
    EXPECT_EQ(spoofing_line(MacAddress{0x00, 0x20, 0xf2, 0x0a, 0xbc, 0x01}, vendors()),
              "Spoofing MAC address 00:20:F2:0A:BC:01 (Oracle)");
    EXPECT_EQ(spoofing_line(MacAddress{0x02, 0, 0, 0, 0, 1}, vendors()), "Spoofing MAC address 02:00:00:00:00:01 (No registered vendor)");
}

TEST(SpoofMac, RealPrefixesFileWhenPresent) {
    if (!std::ifstream{"/usr/share/nmap/nmap-mac-prefixes"}) GTEST_SKIP() << "no nmap-mac-prefixes here";
    const auto real = load_mac_prefixes();
    ASSERT_GT(real.size(), 10000u);
    const auto apple = parse_spoof_mac("apple", real, 1);
    ASSERT_TRUE(apple);
    EXPECT_EQ(mac_vendor(*apple, real).substr(0, 5), "Apple");
}

Result<CommandLine> parse(std::vector<std::string> args) {
    std::vector<const char*> argv{"flagscan"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(SpoofMac, Options) {
    EXPECT_EQ(parse({"--spoof-mac", "0", "10.0.0.1"})->config.spoof_mac, "0");
    EXPECT_EQ(parse({"--spoof-mac", "02:00:00:00:00:01", "-sU", "10.0.0.1"})->config.spoof_mac, "02:00:00:00:00:01");
    EXPECT_TRUE(parse({"10.0.0.1"})->config.spoof_mac.empty());
    for (auto args : std::vector<std::vector<std::string>>{{"--spoof-mac", "0", "-sT", "10.0.0.1"},
                                                           {"--spoof-mac", "0", "-b", "ftp.example:21", "10.0.0.1"},
                                                           {"--spoof-mac", "01:00:00:00:00:01", "10.0.0.1"},
                                                           {"--spoof-mac", "0", "--offline", "10.0.0.1"},
                                                           {"--spoof-mac", "0g", "10.0.0.1"}}) {
        const auto parsed = parse(args);
        ASSERT_FALSE(parsed) << args[2];
        EXPECT_NE(parsed.error().find("--spoof-mac"), std::string::npos) << parsed.error();
    }
}

TEST(SpoofMac, ExplainSaysWhatChanged) {
    auto config = parse({"--spoof-mac", "02:00:00:00:00:01", "10.0.0.1"})->config;
    const auto said = shaping_sentences(config);
    ASSERT_EQ(said.size(), 1u);
    EXPECT_NE(said[0].find("02:00:00:00:00:01"), std::string::npos);
    EXPECT_NE(said[0].find("real MAC"), std::string::npos);
}

// ---- frames ----

const MacAddress kSpoofed{0x02, 0x5a, 0x5a, 0x00, 0x00, 0x01};
const MacAddress kTargetMac{0x0a, 0x00, 0x00, 0x00, 0x00, 0x02};
const MacAddress kGatewayMac{0x0a, 0x00, 0x00, 0x00, 0x00, 0xfe};
const Ipv4 kOnLink{10, 77, 73, 2}, kFar{192, 0, 2, 9}, kGateway{10, 77, 73, 254};

// 10.77.73.0/24 on the link, everything else through 10.77.73.254.
EthernetSink::NextHop lab_hops() {
    return [](const Ipv6& d) -> std::optional<Ipv6> {
        const auto v4 = d.v4_mapped();
        if (!v4) return d;  // IPv6: on the link
        return (v4->value() >> 8) == (kOnLink.value() >> 8) ? d : Ipv6::mapped(kGateway);
    };
}

struct Framing {
    testing::KeepingSink link;
    NeighborCache cache;
    std::vector<Ipv6> asked;
    EthernetSink sink{link, kSpoofed, lab_hops(), cache, [this](const Ipv6& hop) {
                          asked.push_back(hop);
                          return std::vector<std::uint8_t>{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
                      }};
};

std::vector<std::uint8_t> syn_to(Ipv4 dst) {
    return testing::built_probe(syn_kind(), ProbeShape{},
                                Probe{.src = Ipv4{10, 77, 73, 1}, .dst = dst, .sport = Port{40000}, .dport = Port{22}, .seq = 1});
}

void expect_header(std::span<const std::uint8_t> frame, const MacAddress& to, std::uint16_t type) {
    ASSERT_GE(frame.size(), 14u);
    EXPECT_TRUE(std::equal(to.begin(), to.end(), frame.begin()));
    EXPECT_TRUE(std::equal(kSpoofed.begin(), kSpoofed.end(), frame.begin() + 6));
    EXPECT_EQ(ByteView{frame}.be16(12), type);
}

TEST(EthernetSink, Ipv4FramesToTheNextHopFromTheSpoofedMac) {
    Framing f;
    f.cache.learn(Ipv6::mapped(kOnLink), kTargetMac);
    f.cache.learn(Ipv6::mapped(kGateway), kGatewayMac);
    const auto near = syn_to(kOnLink), far = syn_to(kFar);
    const std::span<const std::uint8_t> batch[] = {near, far};
    EXPECT_EQ(f.sink.send(batch), 2u);
    ASSERT_EQ(f.link.packets.size(), 2u);
    expect_header(f.link.packets[0], kTargetMac, 0x0800);
    expect_header(f.link.packets[1], kGatewayMac, 0x0800);
    EXPECT_TRUE(std::equal(near.begin(), near.end(), f.link.packets[0].begin() + 14));
    const auto decoded = decode_frame(LinkType::ethernet, ByteView{f.link.packets[1]});
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->ip.dst, kFar);
    EXPECT_EQ(decoded->link_src, kSpoofed);
    EXPECT_TRUE(f.asked.empty());
}

TEST(EthernetSink, Ipv6FramesCarryTheirEtherType) {
    AddressBook book;
    const Ipv6 target = *Ipv6::parse("fd77:71::2");
    const Ipv4 key = book.add(Ipv6Range{target, target}).value();
    const Ipv4 us = *book.key_for(*Ipv6::parse("fd77:71::1"));
    const ProbeKind* kinds[] = {&syn_kind()};
    auto builder = ProbeBuilder::create(kinds, ProbeShape{}, nullptr, &book);
    ASSERT_TRUE(builder);
    std::vector<std::uint8_t> packet(builder->size());
    packet.resize(builder->build(Probe{.src = us, .dst = key, .sport = Port{40000}, .dport = Port{22}, .seq = 1}, packet));
    Framing f;
    f.cache.learn(target, kTargetMac);
    const std::span<const std::uint8_t> batch[] = {packet};
    EXPECT_EQ(f.sink.send(batch), 1u);
    ASSERT_EQ(f.link.packets.size(), 1u);
    expect_header(f.link.packets[0], kTargetMac, 0x86dd);
    const auto decoded = decode_frame6(LinkType::ethernet, ByteView{f.link.packets[0]});
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->ip.dst, target);
}

TEST(EthernetSink, UnknownNextHopIsAskedForAndItsPacketHeldBack) {
    Framing f;
    const auto far = syn_to(kFar);
    const std::span<const std::uint8_t> batch[] = {far, far};
    EXPECT_EQ(f.sink.send(batch), 2u);  // handled: the engine retransmits them like lost ones
    ASSERT_EQ(f.asked.size(), 1u);      // asked once, not per packet (kAskEvery)
    EXPECT_EQ(f.asked[0], Ipv6::mapped(kGateway));
    ASSERT_EQ(f.link.packets.size(), 1u);  // the request only
    EXPECT_EQ(f.sink.stats().unresolved, 2u);
    EXPECT_EQ(f.sink.stats().asked, 1u);
}

TEST(EthernetSink, UnderFragmentsAndDecoysEveryPieceIsFramed) {
    Framing f;
    f.cache.learn(Ipv6::mapped(kOnLink), kTargetMac);
    FragmentingSink fragments{f.sink, 8};
    DecoySink decoys{fragments, DecoyPlan{{Ipv4{10, 77, 73, 9}}, {}, 1}};
    const auto near = syn_to(kOnLink);
    const std::span<const std::uint8_t> batch[] = {near};
    EXPECT_EQ(decoys.send(batch), 1u);
    ASSERT_EQ(f.link.packets.size(), 6u);  // 2 sources x 3 fragments
    for (const auto& frame : f.link.packets) expect_header(frame, kTargetMac, 0x0800);
}

// The direct link: a packet whose next hop's MAC is not known goes to the fallback (the raw socket,
// whose kernel resolves it), nothing is asked; once the MAC is learnt the next ones go as frames.
TEST(EthernetSink, UnknownNextHopGoesToTheFallbackUntilItsMacIsLearnt) {
    testing::KeepingSink link, raw;
    NeighborCache cache;
    EthernetSink sink{link, kSpoofed, lab_hops(), cache, EthernetSink::Ask{}, &raw};
    const auto near = syn_to(kOnLink), far = syn_to(kFar);
    const std::span<const std::uint8_t> batch[] = {near, far, near};
    EXPECT_EQ(sink.send(batch), 3u);
    EXPECT_TRUE(link.packets.empty());
    ASSERT_EQ(raw.packets.size(), 3u);
    EXPECT_TRUE(std::equal(far.begin(), far.end(), raw.packets[1].begin(), raw.packets[1].end()));  // as it was: IP
    EXPECT_EQ(sink.stats().handed_back, 3u);
    EXPECT_EQ(sink.stats().unresolved, 0u);
    EXPECT_EQ(sink.stats().asked, 0u);

    cache.learn(Ipv6::mapped(kOnLink), kTargetMac);  // the reply to the kernel's ARP request, seen by the capture
    EXPECT_EQ(sink.send(batch), 3u);
    ASSERT_EQ(link.packets.size(), 2u);
    for (const auto& frame : link.packets) expect_header(frame, kTargetMac, 0x0800);
    EXPECT_TRUE(std::equal(near.begin(), near.end(), link.packets[1].begin() + 14, link.packets[1].end()));
    EXPECT_EQ(raw.packets.size(), 4u);  // the gateway is still unknown
}

// A batch is framed into one buffer: each frame keeps its own length, and a MAC that changes is used from then on.
TEST(EthernetSink, FramesOfOneBatchAndAChangedMac) {
    Framing f;
    f.cache.learn(Ipv6::mapped(kOnLink), kTargetMac);
    const auto short_probe = syn_to(kOnLink);
    auto long_probe = short_probe;
    long_probe.resize(short_probe.size() + 20);  // the length the frame must carry, whatever the bytes
    const std::span<const std::uint8_t> batch[] = {short_probe, long_probe, short_probe};
    EXPECT_EQ(f.sink.send(batch), 3u);
    ASSERT_EQ(f.link.packets.size(), 3u);
    EXPECT_EQ(f.link.packets[0].size(), short_probe.size() + 14);
    EXPECT_EQ(f.link.packets[1].size(), long_probe.size() + 14);
    EXPECT_EQ(f.link.packets[2].size(), short_probe.size() + 14);
    f.cache.learn(Ipv6::mapped(kOnLink), kGatewayMac);
    const std::span<const std::uint8_t> one[] = {short_probe};
    f.sink.send(one);
    expect_header(f.link.packets.back(), kGatewayMac, 0x0800);
}

TEST(NeighborCache, GenerationGrowsOnlyWhenAnAnswerChanges) {
    NeighborCache cache;
    const auto start = cache.generation();
    cache.learn(Ipv6::mapped(kOnLink), kTargetMac);
    const auto learnt = cache.generation();
    EXPECT_GT(learnt, start);
    cache.learn(Ipv6::mapped(kOnLink), kTargetMac);  // every RST's ARP refresh would not clear the sink's memo
    EXPECT_EQ(cache.generation(), learnt);
    cache.learn(Ipv6::mapped(kOnLink), kGatewayMac);
    EXPECT_GT(cache.generation(), learnt);
}

// RFC 826: the reply's sender; RFC 4861 4.4: the advertisement's target and its TLLA option.
TEST(NeighborCache, LearnsFromArpRepliesAndAdvertisements) {
    NeighborCache cache;
    std::vector<std::uint8_t> arp = {0x02, 0x5a, 0x5a, 0, 0, 1, 0x0a, 0, 0, 0, 0, 2, 0x08, 0x06,
                                     0, 1, 0x08, 0, 6, 4, 0, 2,       // Ethernet, IPv4, reply
                                     0x0a, 0, 0, 0, 0, 2, 10, 77, 73, 2,  // sender
                                     0x02, 0x5a, 0x5a, 0, 0, 1, 10, 77, 73, 1};
    cache.learn_from(LinkType::ethernet, arp);
    EXPECT_EQ(cache.find(Ipv6::mapped(kOnLink)), kTargetMac);
    arp[21] = 1;  // a request teaches nothing (ours, seen under -w, would teach our own MAC)
    arp[31] = 3;
    cache.learn_from(LinkType::ethernet, arp);
    EXPECT_FALSE(cache.find(Ipv6::mapped(Ipv4{10, 77, 73, 3})));

    const Ipv6 target = *Ipv6::parse("fd77:71::2");
    std::vector<std::uint8_t> na = {0x02, 0x5a, 0x5a, 0, 0, 1, 0x0a, 0, 0, 0, 0, 2, 0x86, 0xdd,
                                    0x60, 0, 0, 0, 0, 32, 58, 255};
    for (const auto& a : {target, *Ipv6::parse("fd77:71::1")})
        for (auto b : a.bytes()) na.push_back(b);
    std::vector<std::uint8_t> icmp = {136, 0, 0, 0, 0x60, 0, 0, 0};
    for (auto b : target.bytes()) icmp.push_back(b);
    for (auto b : std::vector<std::uint8_t>{2, 1, 0x0a, 0, 0, 0, 0, 2}) icmp.push_back(b);  // TLLA (4.6.1)
    na.insert(na.end(), icmp.begin(), icmp.end());
    cache.learn_from(LinkType::ethernet, na);
    EXPECT_EQ(cache.find(target), kTargetMac);
}

TEST(NextHop4, LongestMatchThenGatewayOrTarget) {
    const auto routes = parse_ipv4_routes(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        "veth71\t00494D0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
        "veth71\t00644D0A\t01494D0A\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
    ASSERT_EQ(routes.size(), 3u);
    EXPECT_EQ(routes[1].destination, (Ipv4{10, 77, 73, 0}));
    EXPECT_EQ(next_hop4(routes, Ipv4{10, 77, 73, 2}, "veth71"), (Ipv4{10, 77, 73, 2}));
    EXPECT_EQ(next_hop4(routes, Ipv4{10, 77, 100, 5}, "veth71"), (Ipv4{10, 77, 73, 1}));
    EXPECT_EQ(next_hop4(routes, Ipv4{8, 8, 8, 8}, "eth0"), (Ipv4{192, 168, 2, 1}));
    EXPECT_FALSE(next_hop4(routes, Ipv4{8, 8, 8, 8}, "veth71"));
}

}  // namespace
}  // namespace flagscan

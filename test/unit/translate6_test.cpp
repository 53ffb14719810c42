// IPv6 replies translated into the engine's packets (keys, RFC 7915 5.2 ICMP), then read by the correlator and rule rows.
#include <gtest/gtest.h>

#include <algorithm>

#include "flagscan/engine/correlator.hpp"
#include "flagscan/net/translate6.hpp"
#include "ipv6_packets.hpp"

namespace flagscan {
namespace {

using test6::Bytes;

const Ipv6 kScanner6 = *Ipv6::parse("fd77:75::1");
const Ipv6 kTarget6 = *Ipv6::parse("fd77:75::2");
const Ipv6 kRouter6 = *Ipv6::parse("fd77:75::fe");
const Ipv6 kStranger6 = *Ipv6::parse("2001:db8::99");
constexpr std::uint16_t kOurPort = 40000;

// A live scan's book: our source first, then the target (keys 0.0.0.1, 0.0.0.2).
struct Scan {
    AddressBook book;
    Ipv4 me;
    Ipv4 target;
    Scan() : me(*book.key_for(kScanner6)), target(*book.key_for(kTarget6)) {}
};

// An Ethernet frame carrying an IPv6 packet (RFC 2464: EtherType 0x86dd).
Bytes ethernet6(const Bytes& packet, const MacAddress& from = {2, 0, 0, 0, 0, 2}) {
    Bytes frame(14 + packet.size(), 0);
    frame[0] = 2;
    frame[5] = 1;
    std::copy(from.begin(), from.end(), frame.begin() + 6);
    frame[12] = 0x86;
    frame[13] = 0xdd;
    std::copy(packet.begin(), packet.end(), frame.begin() + 14);
    return frame;
}

// Our probe as the wire carried it: TCP or UDP from our address, flow label 0x12345 (test6::packet6's).
Bytes tcp_probe(std::uint16_t dport, std::uint32_t seq, TcpFlags flags) {
    return test6::packet6(kScanner6, kTarget6, {}, ipproto::tcp,
                          test6::tcp6(kScanner6, kTarget6, Port{kOurPort}, Port{dport}, seq, flags));
}
Bytes udp_probe(std::uint16_t dport) {
    return test6::packet6(kScanner6, kTarget6, {}, ipproto::udp,
                          test6::udp6(kScanner6, kTarget6, Port{kOurPort}, Port{dport}, {}));
}

// An ICMPv6 error from `from` quoting `probe` whole (RFC 4443 2.4(c)), through `chain`.
Bytes icmp6_error(const Ipv6& from, std::uint8_t type, std::uint8_t code, const Bytes& probe,
                  std::vector<test6::Extension> chain = {}) {
    return test6::packet6(from, kScanner6, std::move(chain), ipproto::icmpv6,
                          test6::icmp6(from, kScanner6, type, code, 0, probe), 63);
}

std::optional<DecodedPacket> live(const Scan& scan, const Bytes& packet) {
    const auto decoded = decode_ipv6(ByteView{packet});
    if (!decoded) return std::nullopt;
    return translate6(*decoded, scan.book);
}

// A replay's correlator (EchoCheck::recorded), shown the probe as the capture holds it.
Correlator replaying(const Scan& scan, const ProbeKind& kind, std::uint16_t dport, std::uint32_t seq, std::uint16_t ip_id) {
    Correlator correlator{ScannerIdentity{scan.me, Port{0}, 255}, CookieKey{0, 0}, {&kind}, EchoCheck::recorded};
    Probe probe;
    probe.src = scan.me;
    probe.dst = scan.target;
    probe.sport = Port{kOurPort};
    probe.dport = Port{dport};
    probe.seq = seq;
    probe.ip_id = ip_id;
    correlator.record(probe, 10, kSecond);
    return correlator;
}

// The state the kind's rule table gives the reply; unscanned when it names no probe or no row.
PortState verdict(const Correlator& correlator, const ProbeKind& kind, const std::optional<DecodedPacket>& reply) {
    if (!reply) return PortState::unscanned;
    const auto answer = correlator.identify(*reply);
    if (!answer) return PortState::unscanned;
    const Rule* rule = match_rule(kind, answer->evidence);
    return rule == nullptr ? PortState::unscanned : rule->state;
}

TEST(Translate6, HeaderFieldsFollowTheMapping) {
    const Scan scan;
    const auto packet = live(scan, test6::packet6(kTarget6, kScanner6, {}, ipproto::tcp,
                                                  test6::tcp6(kTarget6, kScanner6, Port{80}, Port{kOurPort}, 7, TcpFlags{TcpFlags::rst}), 57));
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet->ip.src, scan.target);
    EXPECT_EQ(packet->ip.dst, scan.me);
    EXPECT_EQ(packet->ip.ttl, 57);          // hop limit
    EXPECT_EQ(packet->ip.tos, 0x2a);        // traffic class
    EXPECT_EQ(packet->ip.id, 0x2345);       // flow label 0x12345's low 16 bits
    EXPECT_EQ(packet->ip.protocol, ipproto::tcp);
    EXPECT_EQ(packet->ip.header_length, 40);
    EXPECT_EQ(packet->ip.total_length, 60);
    EXPECT_TRUE(packet->ip.dont_fragment);
    ASSERT_TRUE(packet->tcp);
    EXPECT_EQ(packet->tcp->sport, Port{80});
}

// A live scan knows only its own addresses: a packet from or to any other is no answer of its.
TEST(Translate6, LiveScanDropsUnknownAddresses) {
    const Scan scan;
    const auto from_stranger = test6::packet6(kStranger6, kScanner6, {}, ipproto::tcp,
                                              test6::tcp6(kStranger6, kScanner6, Port{80}, Port{kOurPort}, 7, TcpFlags{TcpFlags::rst}));
    EXPECT_FALSE(live(scan, from_stranger));
    const auto to_stranger = test6::packet6(kTarget6, kStranger6, {}, ipproto::udp,
                                            test6::udp6(kTarget6, kStranger6, Port{53}, Port{53}, {}));
    EXPECT_FALSE(live(scan, to_stranger));
}

// A replay learns each address as it meets it: the next key.
TEST(Translate6, ReplayAddsAddresses) {
    Scan scan;
    const auto packet = test6::packet6(kStranger6, kScanner6, {}, ipproto::tcp,
                                       test6::tcp6(kStranger6, kScanner6, Port{80}, Port{kOurPort}, 7, TcpFlags{TcpFlags::rst}));
    const auto translated = translate6(*decode_ipv6(ByteView{packet}), scan.book, BookUse::add);
    ASSERT_TRUE(translated);
    EXPECT_EQ(translated->ip.src, Ipv4(0, 0, 0, 3));
    EXPECT_EQ(scan.book.address_of(Ipv4(0, 0, 0, 3)), kStranger6);
    EXPECT_EQ(scan.book.size(), 3u);
}

// RFC 7915 5.2, row by row: ICMPv6 type/code -> ICMPv4 type/code; what it drops is not translated.
TEST(Translate6, IcmpErrorsFollowRfc7915) {
    const Scan scan;
    const Bytes probe = udp_probe(53);
    struct Row {
        std::uint8_t type, code;
        std::optional<std::pair<int, int>> icmp;
    };
    const Row rows[] = {
        {1, 0, std::pair{3, 1}},   {1, 1, std::pair{3, 13}}, {1, 2, std::pair{3, 1}},  {1, 3, std::pair{3, 1}},
        {1, 4, std::pair{3, 3}},   {1, 5, std::pair{3, 13}}, {1, 6, std::pair{3, 13}},     {2, 0, std::pair{3, 4}},
        {3, 0, std::pair{11, 0}},  {3, 1, std::pair{11, 1}}, {4, 0, std::pair{12, 0}}, {4, 1, std::pair{3, 2}},
        {4, 2, std::nullopt},      {7, 0, std::nullopt},
    };
    for (const Row& row : rows) {
        const auto packet = live(scan, icmp6_error(kTarget6, row.type, row.code, probe));
        SCOPED_TRACE(std::to_string(row.type) + "/" + std::to_string(row.code));
        ASSERT_EQ(packet.has_value(), row.icmp.has_value());
        if (!packet) continue;
        ASSERT_TRUE(packet->icmp);
        EXPECT_EQ(packet->ip.protocol, ipproto::icmp);
        EXPECT_EQ(packet->icmp->type, row.icmp->first);
        EXPECT_EQ(packet->icmp->code, row.icmp->second);
        ASSERT_TRUE(packet->icmp->quoted);  // the quoted probe, translated likewise
        EXPECT_EQ(packet->icmp->quoted->ip.src, scan.me);
        EXPECT_EQ(packet->icmp->quoted->ip.dst, scan.target);
        EXPECT_EQ(packet->icmp->quoted->ip.protocol, ipproto::udp);
        EXPECT_EQ(packet->icmp->quoted->ip.id, 0x2345);
        EXPECT_EQ(packet->icmp->quoted->dport, Port{53});
    }
}

// Port unreachable quoting our UDP probe: closed (RFC 1122 3.2.2.1 via RFC 7915's 1/4 -> 3/3).
TEST(Translate6, PortUnreachableQuotingOurUdpProbeIsClosed) {
    const Scan scan;
    const Correlator correlator = replaying(scan, udp_kind(), 53, 0, 0x2345);
    EXPECT_EQ(verdict(correlator, udp_kind(), live(scan, icmp6_error(kTarget6, 1, 4, udp_probe(53)))), PortState::closed);
    // Another flow label: another probe's (the cookie rides in its low 16 bits).
    Bytes other = udp_probe(53);
    other[3] ^= 0x01;
    EXPECT_EQ(verdict(correlator, udp_kind(), live(scan, icmp6_error(kTarget6, 1, 4, other))), PortState::unscanned);
}

// Administratively prohibited (nft's `reject with icmpv6 admin-prohibited`): filtered, for UDP and TCP.
TEST(Translate6, AdminProhibitedIsFiltered) {
    const Scan scan;
    const Correlator udp = replaying(scan, udp_kind(), 5060, 0, 0x2345);
    EXPECT_EQ(verdict(udp, udp_kind(), live(scan, icmp6_error(kTarget6, 1, 1, udp_probe(5060)))), PortState::filtered);
    const Correlator syn = replaying(scan, syn_kind(), 113, 1000, 0);
    const auto error = live(scan, icmp6_error(kTarget6, 1, 1, tcp_probe(113, 1000, TcpFlags{TcpFlags::syn})));
    EXPECT_EQ(verdict(syn, syn_kind(), error), PortState::filtered);
    EXPECT_EQ(error->icmp->code, 13);
}

// From a router the live scan does not know: still ours, from elsewhere (port unreach from a
// router: filtered, nmap's rule); a replay gives the router a key.
TEST(Translate6, ErrorFromAnUnknownRouterIsFromElsewhere) {
    const Scan scan;
    const auto error = live(scan, icmp6_error(kRouter6, 1, 4, udp_probe(53)));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->ip.src, Ipv4{});
    const Correlator correlator = replaying(scan, udp_kind(), 53, 0, 0x2345);
    const auto answer = correlator.identify(*error);
    ASSERT_TRUE(answer);
    EXPECT_TRUE(answer->evidence.from_elsewhere);
    EXPECT_EQ(verdict(correlator, udp_kind(), error), PortState::filtered);
    // An error about someone else's packet from an unknown address: nothing of ours.
    const Bytes theirs = test6::packet6(kStranger6, kTarget6, {}, ipproto::udp,
                                        test6::udp6(kStranger6, kTarget6, Port{1}, Port{53}, {}));
    EXPECT_FALSE(live(scan, icmp6_error(kRouter6, 1, 4, theirs)));
}

TEST(Translate6, RstIsClosedAndSynAckIsOpen) {
    const Scan scan;
    const Correlator correlator = replaying(scan, syn_kind(), 22, 5000, 0);
    const auto reply = [&](std::uint8_t flags, std::uint32_t ack) {
        Bytes segment = test6::tcp6(kTarget6, kScanner6, Port{22}, Port{kOurPort}, 99, TcpFlags{flags});
        put_be32(segment, 8, ack);
        put_be16(segment, 16, 0);
        put_be16(segment, 16, transport_checksum(kTarget6, kScanner6, ipproto::tcp, segment));
        return live(scan, test6::packet6(kTarget6, kScanner6, {}, ipproto::tcp, segment));
    };
    EXPECT_EQ(verdict(correlator, syn_kind(), reply(TcpFlags::rst | TcpFlags::ack, 5001)), PortState::closed);
    EXPECT_EQ(verdict(correlator, syn_kind(), reply(TcpFlags::syn | TcpFlags::ack, 5001)), PortState::open);
    EXPECT_EQ(verdict(correlator, syn_kind(), reply(TcpFlags::syn | TcpFlags::ack, 4242)), PortState::unscanned);
}

// An error whose outer packet and quote both carry extension headers (hop-by-hop and
// destination options outside, a fragment header in the quote): decoded past them, translated,
// and read as for a bare one; the header length keeps the extensions.
TEST(Translate6, IcmpErrorThroughExtensionHeaders) {
    const Scan scan;
    const Bytes probe = test6::packet6(kScanner6, kTarget6, {test6::destination_options(), test6::fragment(0, false, 9)},
                                       ipproto::udp, test6::udp6(kScanner6, kTarget6, Port{kOurPort}, Port{161}, {}));
    const auto error = live(scan, icmp6_error(kTarget6, 1, 4, probe, {test6::hop_by_hop(), test6::destination_options(1)}));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->ip.header_length, 40 + 8 + 16);
    ASSERT_TRUE(error->icmp && error->icmp->quoted);
    EXPECT_EQ(error->icmp->quoted->ip.header_length, 40 + 8 + 8);
    const Correlator correlator = replaying(scan, udp_kind(), 161, 0, 0x2345);
    EXPECT_EQ(verdict(correlator, udp_kind(), error), PortState::closed);
}

// RFC 7915 5.2: echo reply 129 -> 0, its identifier and sequence kept (our echo's port and cookie).
TEST(Translate6, EchoReplyIsAnIcmpEchoReply) {
    const Scan scan;
    Bytes body(4, 0);
    const auto reply = live(scan, test6::packet6(kTarget6, kScanner6, {}, ipproto::icmpv6,
                                                 test6::icmp6(kTarget6, kScanner6, 129, 0, (40001u << 16) | 0xbeef, body)));
    ASSERT_TRUE(reply && reply->icmp);
    EXPECT_EQ(reply->icmp->type, icmp_type::echo_reply);
    EXPECT_EQ(reply->icmp->id, 40001);
    EXPECT_EQ(reply->icmp->seq, 0xbeef);
    Correlator correlator{ScannerIdentity{scan.me, Port{0}, 255}, CookieKey{0, 0}, {&ping_echo_kind()}, EchoCheck::recorded};
    Probe probe;
    probe.src = scan.me;
    probe.dst = scan.target;
    probe.sport = Port{40001};
    probe.seq = 0xbeef;
    correlator.record(probe, 10, kSecond);
    EXPECT_EQ(verdict(correlator, ping_echo_kind(), reply), PortState::open);  // host up
}

// A Neighbor Advertisement for the target: an ARP reply from it (host up, -PR's lane); its MAC
// from the Target Link-Layer Address option. Not from a router (hop limit < 255), not code 0, or
// for an address the scan does not know: nothing.
TEST(Translate6, NeighborAdvertisementIsAnArpReply) {
    const Scan scan;
    const MacAddress mac{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    const auto advertisement = [&](const Ipv6& target, std::uint8_t hop_limit, std::uint8_t code) {
        const Bytes body = test6::neighbor_body(target, &mac, 2);
        const Ipv6 link_local = *Ipv6::parse("fe80::2");  // the NA's own source may be link-local
        return ethernet6(test6::packet6(link_local, kScanner6, {}, ipproto::icmpv6,
                                        test6::icmp6(link_local, kScanner6, 136, code, 0x6000'0000u, body), hop_limit));
    };
    const FrameDecoder decoder = FrameDecoder::looking_up(&scan.book);
    const auto na = decoder.decode(LinkType::ethernet, ByteView{advertisement(kTarget6, 255, 0)});
    ASSERT_TRUE(na && na->arp);
    EXPECT_EQ(na->ip.protocol, ipproto::arp);
    EXPECT_EQ(na->ip.src, scan.target);
    EXPECT_EQ(na->arp->operation, 2);
    EXPECT_EQ(na->arp->sender_ip, scan.target);
    EXPECT_EQ(na->arp->target_ip, scan.me);
    EXPECT_EQ(na->arp->sender_mac, mac);
    Correlator correlator{ScannerIdentity{scan.me, Port{0}, 255}, CookieKey{0, 0}, {&ping_arp_kind()}, EchoCheck::recorded};
    const auto answer = correlator.identify(*na);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->target, scan.target);
    EXPECT_EQ(match_rule(ping_arp_kind(), answer->evidence)->state, PortState::open);
    EXPECT_FALSE(decoder.decode(LinkType::ethernet, ByteView{advertisement(kTarget6, 64, 0)}));
    EXPECT_FALSE(decoder.decode(LinkType::ethernet, ByteView{advertisement(kTarget6, 255, 1)}));
    EXPECT_FALSE(decoder.decode(LinkType::ethernet, ByteView{advertisement(kStranger6, 255, 0)}));
}

// One decoder per scan: an IPv4 scan reads no IPv6 frame, a live IPv6 scan no IPv4 one, a replay both.
TEST(FrameDecoder, EachScanReadsItsFamilies) {
    Scan scan;
    const Bytes v6 = ethernet6(test6::packet6(kTarget6, kScanner6, {}, ipproto::tcp,
                                              test6::tcp6(kTarget6, kScanner6, Port{80}, Port{kOurPort}, 7, TcpFlags{TcpFlags::rst})));
    Bytes v4 = make_tcp_packet(Ipv4{192, 0, 2, 10}, Ipv4{192, 0, 2, 1}, Port{80}, Port{kOurPort}, 7, 0, TcpFlags{TcpFlags::rst}, 0, 64);
    Bytes v4_frame = ethernet6(v4);
    v4_frame[12] = 0x08;  // EtherType IPv4
    v4_frame[13] = 0x00;
    const ByteView six{v6}, four{v4_frame};
    EXPECT_FALSE(FrameDecoder::ipv4().decode(LinkType::ethernet, six));
    EXPECT_TRUE(FrameDecoder::ipv4().decode(LinkType::ethernet, four));
    EXPECT_FALSE(FrameDecoder::looking_up(nullptr).decode(LinkType::ethernet, six));  // a null book: IPv4
    const FrameDecoder live6 = FrameDecoder::looking_up(&scan.book);
    EXPECT_TRUE(live6.decode(LinkType::ethernet, six));
    EXPECT_FALSE(live6.decode(LinkType::ethernet, four));
    const FrameDecoder replay = FrameDecoder::adding(scan.book);
    EXPECT_TRUE(replay.decode(LinkType::ethernet, six));
    EXPECT_TRUE(replay.decode(LinkType::ethernet, four));
}

// The unspecified address is no scan's: not translated, not even by a replay.
TEST(Translate6, UnspecifiedAddressIsNotTranslated) {
    Scan scan;
    const auto packet = test6::packet6(Ipv6{}, kScanner6, {}, ipproto::tcp,
                                       test6::tcp6(Ipv6{}, kScanner6, Port{80}, Port{kOurPort}, 7, TcpFlags{TcpFlags::rst}));
    EXPECT_FALSE(translate6(*decode_ipv6(ByteView{packet}), scan.book, BookUse::add));
    EXPECT_EQ(scan.book.size(), 2u);
}

}  // namespace
}  // namespace flagscan

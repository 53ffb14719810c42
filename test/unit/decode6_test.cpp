// Tests for the IPv6 decoder: extension header chains, TCP/UDP, ICMPv6 errors and ND, truncations and lies.
#include <gtest/gtest.h>

#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode6.hpp"
#include "ipv6_packets.hpp"

namespace flagscan {
namespace {

using namespace test6;

const Ipv6 kUs = *Ipv6::parse("fd00:77::1");
const Ipv6 kThem = *Ipv6::parse("fd00:77::2");
const Ipv6 kRouter = *Ipv6::parse("fd00:77::fe");
constexpr MacAddress kMac{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};

Bytes syn_ack(std::vector<Extension> chain = {}) {
    return packet6(kThem, kUs, std::move(chain), ipproto::tcp,
                   tcp6(kThem, kUs, Port{22}, Port{40000}, 0x11223344, TcpFlags{TcpFlags::syn | TcpFlags::ack}));
}
Bytes tcp_probe() {
    return packet6(kUs, kThem, {}, ipproto::tcp,
                   tcp6(kUs, kThem, Port{40001}, Port{113}, 0xdeadbeef, TcpFlags{TcpFlags::syn}));
}
Bytes udp_probe(std::vector<Extension> chain = {}) {
    return packet6(kUs, kThem, std::move(chain), ipproto::udp, udp6(kUs, kThem, Port{40002}, Port{53}, Bytes(12, 0x41)));
}
// An ICMPv6 error from the router quoting `quote` (RFC 4443 3).
Bytes error_from_router(std::uint8_t type, std::uint8_t code, std::uint32_t word, const Bytes& quote) {
    return packet6(kRouter, kUs, {}, ipproto::icmpv6, icmp6(kRouter, kUs, type, code, word, quote), 64);
}
std::vector<std::uint8_t> ethernet6(const Bytes& ip) {
    Bytes frame{0, 1, 2, 3, 4, 5, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 0x86, 0xdd};
    append(frame, ip);
    return frame;
}

// RFC 8200 3: every field of the fixed header.
TEST(Decode6, FixedHeaderAndTcp) {
    const auto packet = syn_ack();
    auto decoded = decode_ipv6(ByteView{packet});
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->ip.src, kThem);
    EXPECT_EQ(decoded->ip.dst, kUs);
    EXPECT_EQ(decoded->ip.hop_limit, 64);
    EXPECT_EQ(decoded->ip.traffic_class, 0x2a);
    EXPECT_EQ(decoded->ip.flow_label, 0x12345u);
    EXPECT_EQ(decoded->ip.payload_length, 20);
    EXPECT_EQ(decoded->ip.next_header, ipproto::tcp);
    EXPECT_EQ(decoded->ip.header_length, 40);
    EXPECT_EQ(decoded->ip.extension_count, 0);
    EXPECT_FALSE(decoded->ip.fragment);
    ASSERT_TRUE(decoded->tcp);
    EXPECT_EQ(decoded->tcp->sport, Port{22});
    EXPECT_EQ(decoded->tcp->dport, Port{40000});
    EXPECT_EQ(decoded->tcp->seq, 0x11223344u);
    EXPECT_EQ(decoded->tcp->flags.str(), "SYN,ACK");
    EXPECT_FALSE(decoded->udp || decoded->icmp6);
    // RFC 8200 8.1: the checksum over the pseudo-header verifies.
    auto upper = ipv6_payload(ByteView{packet});
    ASSERT_TRUE(upper);
    EXPECT_EQ(transport_checksum(kThem, kUs, ipproto::tcp, upper->span()), 0);
}

TEST(Decode6, Udp) {
    const auto packet = udp_probe();
    auto decoded = decode_ipv6(ByteView{packet});
    ASSERT_TRUE(decoded && decoded->udp);
    EXPECT_EQ(decoded->udp->sport, Port{40002});
    EXPECT_EQ(decoded->udp->dport, Port{53});
    EXPECT_EQ(decoded->udp->length, 20);
    EXPECT_EQ(decoded->udp->head_length, 12);
    EXPECT_EQ(transport_checksum(kUs, kThem, ipproto::udp, ipv6_payload(ByteView{packet})->span()), 0);
}

// RFC 8200 4.1's order, every kind walked: Hop-by-Hop, Destination Options, Routing, Fragment,
// Destination Options, then TCP.
TEST(Decode6, WalksEveryExtensionHeaderKindChained) {
    const auto packet = syn_ack({hop_by_hop(1), destination_options(0), routing(2), fragment(0, true, 0xcafe0001),
                                 destination_options(3)});
    auto decoded = decode_ipv6(ByteView{packet});
    ASSERT_TRUE(decoded);
    const auto& ip = decoded->ip;
    ASSERT_EQ(ip.extension_count, 5);
    const std::uint8_t types[] = {ipproto::hop_by_hop, ipproto::destination_options, ipproto::routing,
                                  ipproto::fragment, ipproto::destination_options};
    const std::uint16_t lengths[] = {16, 8, 24, 8, 32};
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(ip.extensions[i].type, types[i]) << i;
        EXPECT_EQ(ip.extensions[i].length, lengths[i]) << i;
    }
    EXPECT_EQ(ip.header_length, 40 + 16 + 8 + 24 + 8 + 32);
    EXPECT_EQ(ip.next_header, ipproto::tcp);
    EXPECT_TRUE(ip.has_extension(ipproto::routing));
    EXPECT_FALSE(ip.has_extension(ipproto::ah));
    ASSERT_TRUE(ip.fragment);
    EXPECT_EQ(ip.fragment->offset, 0);
    EXPECT_TRUE(ip.fragment->more);
    EXPECT_EQ(ip.fragment->id, 0xcafe0001u);
    EXPECT_FALSE(ip.later_fragment());
    ASSERT_TRUE(decoded->tcp);  // a first fragment holds the upper-layer header (RFC 8200 4.5)
    EXPECT_EQ(decoded->tcp->seq, 0x11223344u);
    EXPECT_EQ(transport_checksum(kThem, kUs, ipproto::tcp, ipv6_payload(ByteView{packet})->span()), 0);
}

// RFC 8200 4.5: a fragment with a non-zero offset carries the middle of a payload.
TEST(Decode6, LaterFragmentHasNoUpperLayer) {
    const auto packet = syn_ack({fragment(185, false, 7)});
    auto decoded = decode_ipv6(ByteView{packet});
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(decoded->ip.later_fragment());
    EXPECT_EQ(decoded->ip.fragment->offset, 185);
    EXPECT_FALSE(decoded->ip.fragment->more);
    EXPECT_EQ(decoded->ip.fragment->id, 7u);
    EXPECT_EQ(decoded->ip.next_header, ipproto::tcp);
    EXPECT_FALSE(decoded->tcp);
    EXPECT_FALSE(ipv6_payload(ByteView{packet}));
}

// RFC 8200 4.7: No Next Header ends the packet; ESP (RFC 4303) and AH (RFC 4302) end the walk.
TEST(Decode6, StopsAtNoNextHeaderEspAndAh) {
    for (std::uint8_t stop : {ipproto::no_next_header, ipproto::esp, ipproto::ah, std::uint8_t{132}}) {
        const auto packet = packet6(kThem, kUs, {hop_by_hop()}, stop, Bytes(24, 0));
        auto decoded = decode_ipv6(ByteView{packet});
        ASSERT_TRUE(decoded) << int{stop};
        EXPECT_EQ(decoded->ip.next_header, stop);
        EXPECT_EQ(decoded->ip.extension_count, 1);
        EXPECT_EQ(decoded->ip.header_length, 48);
        EXPECT_FALSE(decoded->tcp || decoded->udp || decoded->icmp6);
    }
}

TEST(Decode6, StopsAfterTooManyExtensionHeaders) {
    std::vector<Extension> chain(Ipv6Header::kMaxExtensions + 1, destination_options());
    const auto packet = syn_ack(chain);
    auto decoded = decode_ipv6(ByteView{packet});
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->ip.extension_count, Ipv6Header::kMaxExtensions);
    EXPECT_EQ(decoded->ip.next_header, ipproto::destination_options);
    EXPECT_FALSE(decoded->tcp);
    chain.pop_back();
    EXPECT_TRUE(decode_ipv6(ByteView{syn_ack(chain)})->tcp);  // the most it walks
}

TEST(Decode6, RefusesOtherVersionsAndShortHeaders) {
    auto packet = syn_ack();
    EXPECT_FALSE(decode_ipv6(ByteView{std::span{packet.data(), 39}}));
    packet[0] = 0x45;
    EXPECT_FALSE(decode_ipv6(ByteView{packet}));
    // An IPv4 packet is not IPv6, and an IPv6 one not IPv4.
    EXPECT_FALSE(decode_ipv6(ByteView{make_tcp_packet(Ipv4{1, 2, 3, 4}, Ipv4{5, 6, 7, 8}, Port{1}, Port{2}, 0, 0,
                                                      TcpFlags{TcpFlags::syn}, 0, 64)}));
    EXPECT_FALSE(decode_ipv4(ByteView{syn_ack()}));
}

// RFC 8200 3: the payload length, not the capture, says where the packet ends (Ethernet pads).
TEST(Decode6, PayloadLengthAgainstCapturedBytes) {
    auto padded = udp_probe();
    padded.resize(padded.size() + 30, 0xee);
    auto decoded = decode_ipv6(ByteView{padded});
    ASSERT_TRUE(decoded && decoded->udp);
    EXPECT_EQ(decoded->udp->head_length, 12);
    EXPECT_EQ(ipv6_payload(ByteView{padded})->size(), 20u);
    // A payload length too short for its own extension header: no upper layer.
    auto lying = syn_ack({destination_options(1)});
    put_be16(lying, 4, 8);
    decoded = decode_ipv6(ByteView{lying});
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->ip.extension_count, 0);
    EXPECT_EQ(decoded->ip.next_header, ipproto::destination_options);
    EXPECT_FALSE(decoded->tcp);
    // A payload length that cuts TCP short: no TCP header.
    auto short_tcp = syn_ack();
    put_be16(short_tcp, 4, 19);
    EXPECT_FALSE(decode_ipv6(ByteView{short_tcp})->tcp);
    // RFC 2675 jumbogram: payload length 0 behind a hop-by-hop header, read to the capture's end.
    auto jumbo = syn_ack({hop_by_hop()});
    put_be16(jumbo, 4, 0);
    EXPECT_TRUE(decode_ipv6(ByteView{jumbo})->tcp);
    auto empty = syn_ack();
    put_be16(empty, 4, 0);
    EXPECT_FALSE(decode_ipv6(ByteView{empty})->tcp);
}

// Every prefix of each packet, copied to a buffer of exactly that size (so that ASan sees a read
// past its end): never a crash, nothing before 40 bytes, the upper layer only once whole.
TEST(Decode6, EveryTruncationIsSafe) {
    const std::vector<Bytes> packets{
        syn_ack({hop_by_hop(1), routing(0), fragment(0, true, 1), destination_options(0)}),
        error_from_router(icmp6_type::unreachable, icmp6_unreachable::port, 0, udp_probe({destination_options(0)})),
        error_from_router(icmp6_type::unreachable, icmp6_unreachable::admin_prohibited, 0, tcp_probe()),
        packet6(kThem, kUs, {}, ipproto::icmpv6,
                icmp6(kThem, kUs, icmp6_type::neighbor_advertisement, 0, 0x6000'0000u,
                      neighbor_body(kThem, &kMac, 2)), 255),
    };
    for (const auto& packet : packets) {
        for (std::size_t n = 0; n <= packet.size(); ++n) {
            const Bytes cut(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(n));
            auto decoded = decode_ipv6(ByteView{cut});
            (void)ipv6_payload(ByteView{cut});
            if (n < 40) {
                EXPECT_FALSE(decoded) << n;
                continue;
            }
            ASSERT_TRUE(decoded) << n;
            const bool whole = n == packet.size();
            if (decoded->tcp) {
                EXPECT_GE(n, decoded->ip.header_length + 20u) << n;
            }
            if (whole) {
                EXPECT_TRUE(decoded->tcp || decoded->icmp6) << n;
            }
            auto frame = ethernet6(cut);
            (void)decode_frame6(LinkType::ethernet, ByteView{frame});
        }
    }
}

TEST(Decode6, IcmpEcho) {
    const auto packet =
        packet6(kThem, kUs, {}, ipproto::icmpv6, icmp6(kThem, kUs, icmp6_type::echo_reply, 0, 0xbeef0007u, Bytes(8, 1)));
    auto decoded = decode_ipv6(ByteView{packet});
    ASSERT_TRUE(decoded && decoded->icmp6);
    EXPECT_EQ(decoded->icmp6->type, icmp6_type::echo_reply);
    EXPECT_EQ(decoded->icmp6->id, 0xbeef);
    EXPECT_EQ(decoded->icmp6->seq, 7);
    EXPECT_FALSE(decoded->icmp6->quoted);
    EXPECT_EQ(transport_checksum(kThem, kUs, ipproto::icmpv6, ipv6_payload(ByteView{packet})->span()), 0);
}

// RFC 4443 3.1 code 4: port unreachable (a closed UDP port), quoting the probe.
TEST(Decode6, UnreachableQuotingAUdpProbe) {
    auto decoded = decode_ipv6(ByteView{error_from_router(icmp6_type::unreachable, icmp6_unreachable::port, 0, udp_probe())});
    ASSERT_TRUE(decoded && decoded->icmp6 && decoded->icmp6->quoted);
    EXPECT_TRUE(is_icmp6_error(decoded->icmp6->type));
    EXPECT_EQ(decoded->icmp6->code, icmp6_unreachable::port);
    const auto& quoted = *decoded->icmp6->quoted;
    EXPECT_EQ(quoted.ip.src, kUs);
    EXPECT_EQ(quoted.ip.dst, kThem);
    EXPECT_EQ(quoted.ip.next_header, ipproto::udp);
    EXPECT_EQ(quoted.sport, Port{40002});
    EXPECT_EQ(quoted.dport, Port{53});
    EXPECT_FALSE(quoted.tcp_seq);
}

// RFC 4443 3.1 code 1: administratively prohibited (a filtered port), quoting a TCP SYN.
TEST(Decode6, UnreachableQuotingATcpProbe) {
    auto decoded =
        decode_ipv6(ByteView{error_from_router(icmp6_type::unreachable, icmp6_unreachable::admin_prohibited, 0, tcp_probe())});
    ASSERT_TRUE(decoded && decoded->icmp6 && decoded->icmp6->quoted);
    EXPECT_EQ(decoded->icmp6->code, icmp6_unreachable::admin_prohibited);
    const auto& quoted = *decoded->icmp6->quoted;
    EXPECT_EQ(quoted.sport, Port{40001});
    EXPECT_EQ(quoted.dport, Port{113});
    EXPECT_EQ(quoted.tcp_seq, 0xdeadbeefu);
}

// The quoted probe's own extension headers are walked too.
TEST(Decode6, QuoteWalkedPastExtensionHeaders) {
    const auto probe = udp_probe({destination_options(1), fragment(0, true, 99)});
    auto decoded = decode_ipv6(ByteView{error_from_router(icmp6_type::time_exceeded, 0, 0, probe)});
    ASSERT_TRUE(decoded && decoded->icmp6 && decoded->icmp6->quoted);
    const auto& quoted = *decoded->icmp6->quoted;
    EXPECT_EQ(quoted.ip.extension_count, 2);
    EXPECT_EQ(quoted.ip.fragment->id, 99u);
    EXPECT_EQ(quoted.dport, Port{53});
}

// RFC 4443 2.4(c): the quote is cut to fit 1280 bytes, so its payload length claims more.
TEST(Decode6, QuoteCutShortOfItsPayloadLength) {
    const auto big = packet6(kUs, kThem, {}, ipproto::udp, udp6(kUs, kThem, Port{40003}, Port{161}, Bytes(2000, 7)));
    const Bytes quote(big.begin(), big.begin() + 1232);
    auto decoded = decode_ipv6(ByteView{error_from_router(icmp6_type::packet_too_big, 0, 1280, quote)});
    ASSERT_TRUE(decoded && decoded->icmp6 && decoded->icmp6->quoted);
    EXPECT_EQ(decoded->icmp6->mtu, 1280u);
    EXPECT_EQ(decoded->icmp6->quoted->dport, Port{161});
    EXPECT_EQ(decoded->icmp6->quoted->ip.payload_length, 2008);
}

TEST(Decode6, QuoteOfAnEchoRequestGivesItsIdAndSeq) {
    const auto echo = packet6(kUs, kThem, {}, ipproto::icmpv6,
                              icmp6(kUs, kThem, icmp6_type::echo_request, 0, 0x42420009u, Bytes(4, 0)));
    auto decoded = decode_ipv6(ByteView{error_from_router(icmp6_type::unreachable, icmp6_unreachable::address, 0, echo)});
    ASSERT_TRUE(decoded && decoded->icmp6 && decoded->icmp6->quoted);
    const auto& quoted = *decoded->icmp6->quoted;
    EXPECT_EQ(quoted.query_type, icmp6_type::echo_request);
    EXPECT_EQ(quoted.query_id, 0x4242);
    EXPECT_EQ(quoted.query_seq, 9);
}

TEST(Decode6, QuoteTooShortOrOfALaterFragmentIsLeftOut) {
    auto probe = tcp_probe();
    probe.resize(43);  // the IPv6 header and 3 bytes: not both ports
    auto decoded = decode_ipv6(ByteView{error_from_router(icmp6_type::unreachable, 0, 0, probe)});
    ASSERT_TRUE(decoded && decoded->icmp6);
    EXPECT_FALSE(decoded->icmp6->quoted);
    probe.resize(44);  // both ports, no sequence number
    decoded = decode_ipv6(ByteView{error_from_router(icmp6_type::unreachable, 0, 0, probe)});
    ASSERT_TRUE(decoded && decoded->icmp6 && decoded->icmp6->quoted);
    EXPECT_FALSE(decoded->icmp6->quoted->tcp_seq);
    decoded = decode_ipv6(ByteView{error_from_router(icmp6_type::unreachable, 0, 0, udp_probe({fragment(8, false, 1)}))});
    ASSERT_TRUE(decoded && decoded->icmp6);
    EXPECT_FALSE(decoded->icmp6->quoted);
}

// RFC 4443 3.3, 3.4: time exceeded and parameter problem (its pointer) quote the probe as well.
TEST(Decode6, TimeExceededAndParameterProblem) {
    auto decoded = decode_ipv6(ByteView{error_from_router(icmp6_type::time_exceeded, 0, 0, tcp_probe())});
    ASSERT_TRUE(decoded && decoded->icmp6 && decoded->icmp6->quoted);
    EXPECT_EQ(decoded->icmp6->type, icmp6_type::time_exceeded);
    decoded = decode_ipv6(ByteView{error_from_router(icmp6_type::parameter_problem, 1, 40, tcp_probe())});
    ASSERT_TRUE(decoded && decoded->icmp6 && decoded->icmp6->quoted);
    EXPECT_EQ(decoded->icmp6->pointer, 40u);
    EXPECT_EQ(decoded->icmp6->quoted->dport, Port{113});
}

// RFC 4861 4.3: a Neighbor Solicitation to the solicited-node address, with our MAC.
TEST(Decode6, NeighborSolicitation) {
    const Ipv6 solicited_node = *Ipv6::parse("ff02::1:ff00:2");
    const auto packet = packet6(kUs, solicited_node, {}, ipproto::icmpv6,
                                icmp6(kUs, solicited_node, icmp6_type::neighbor_solicitation, 0, 0,
                                      neighbor_body(kThem, &kMac, 1)),
                                255);
    auto decoded = decode_ipv6(ByteView{packet});
    ASSERT_TRUE(decoded && decoded->icmp6 && decoded->icmp6->neighbor);
    EXPECT_EQ(decoded->ip.hop_limit, 255);
    EXPECT_EQ(decoded->icmp6->neighbor->target, kThem);
    EXPECT_EQ(decoded->icmp6->neighbor->link_address, kMac);
    EXPECT_FALSE(decoded->icmp6->neighbor->solicited);
}

// RFC 4861 4.4: a solicited Neighbor Advertisement with the override flag and its MAC.
TEST(Decode6, NeighborAdvertisement) {
    auto na = [](std::uint32_t flags, const MacAddress* mac, std::uint8_t option) {
        return packet6(kThem, kUs, {}, ipproto::icmpv6,
                       icmp6(kThem, kUs, icmp6_type::neighbor_advertisement, 0, flags, neighbor_body(kThem, mac, option)),
                       255);
    };
    auto decoded = decode_ipv6(ByteView{na(0x6000'0000u, &kMac, 2)});
    ASSERT_TRUE(decoded && decoded->icmp6 && decoded->icmp6->neighbor);
    const auto& nd = *decoded->icmp6->neighbor;
    EXPECT_EQ(nd.target, kThem);
    EXPECT_EQ(nd.link_address, kMac);
    EXPECT_FALSE(nd.router);
    EXPECT_TRUE(nd.solicited);
    EXPECT_TRUE(nd.override_flag);
    EXPECT_TRUE(decode_ipv6(ByteView{na(0x8000'0000u, &kMac, 2)})->icmp6->neighbor->router);
    // No option, or only a Source Link-Layer option (the wrong one for an NA): no address.
    EXPECT_FALSE(decode_ipv6(ByteView{na(0, nullptr, 2)})->icmp6->neighbor->link_address);
    EXPECT_FALSE(decode_ipv6(ByteView{na(0, &kMac, 1)})->icmp6->neighbor->link_address);
    // RFC 4861 4.6: an option of length 0 invalidates the message.
    auto bad = na(0, &kMac, 2);
    bad[40 + 24 + 1] = 0;
    EXPECT_FALSE(decode_ipv6(ByteView{bad})->icmp6->neighbor);
}

TEST(Decode6, FramesOnEveryLinkType) {
    const auto ip = syn_ack();
    auto eth = decode_frame6(LinkType::ethernet, ByteView{ethernet6(ip)});
    ASSERT_TRUE(eth && eth->tcp);
    EXPECT_EQ(eth->link_header, 14);
    EXPECT_EQ(eth->link_src, kMac);
    Bytes vlan{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0x00, 0x00, 0x05, 0x86, 0xdd};
    append(vlan, ip);
    auto tagged = decode_frame6(LinkType::ethernet, ByteView{vlan});
    ASSERT_TRUE(tagged && tagged->tcp);
    EXPECT_EQ(tagged->link_header, 18);
    Bytes sll(16, 0);
    sll[14] = 0x86;
    sll[15] = 0xdd;
    append(sll, ip);
    EXPECT_TRUE(decode_frame6(LinkType::linux_sll, ByteView{sll})->tcp);
    Bytes sll2(20, 0);
    sll2[0] = 0x86;
    sll2[1] = 0xdd;
    append(sll2, ip);
    EXPECT_TRUE(decode_frame6(LinkType::linux_sll2, ByteView{sll2})->tcp);
    for (std::uint8_t family : {10, 24, 28, 30}) {
        Bytes loop{family, 0, 0, 0};
        append(loop, ip);
        auto looped = decode_frame6(LinkType::bsd_loopback, ByteView{loop});
        ASSERT_TRUE(looped && looped->tcp) << int{family};
        EXPECT_EQ(looped->link_header, 4);
        EXPECT_FALSE(looped->link_src);
    }
    EXPECT_TRUE(decode_frame6(LinkType::raw_ip, ByteView{ip})->tcp);
    // Each decoder takes its own family only.
    EXPECT_FALSE(decode_frame(LinkType::ethernet, ByteView{ethernet6(ip)}));
    auto v4 = ethernet6(make_tcp_packet(Ipv4{1, 2, 3, 4}, Ipv4{5, 6, 7, 8}, Port{1}, Port{2}, 0, 0,
                                        TcpFlags{TcpFlags::syn}, 0, 64));
    v4[12] = 0x08;
    v4[13] = 0x00;
    EXPECT_FALSE(decode_frame6(LinkType::ethernet, ByteView{v4}));
    EXPECT_TRUE(decode_frame(LinkType::ethernet, ByteView{v4}));
}

}  // namespace
}  // namespace flagscan

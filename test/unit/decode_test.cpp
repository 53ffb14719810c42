// Tests for the bounds-checked packet decoder: real header bytes, truncations and lies.
#include <gtest/gtest.h>

#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/wire/sim_network.hpp"

namespace flagscan {
namespace {

const Ipv4 kUs{10, 77, 0, 1};
const Ipv4 kThem{10, 77, 0, 2};

std::vector<std::uint8_t> ethernet(std::vector<std::uint8_t> ip) {
    std::vector<std::uint8_t> frame{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00};
    frame.insert(frame.end(), ip.begin(), ip.end());
    return frame;
}

TEST(Decode, SynAckFromRealBytes) {
    // 10.77.0.2:22 -> 10.77.0.1:40000 SYN,ACK seq=0x11223344 ack=0xaabbccdd win=64240, ttl 64
    auto packet = make_tcp_packet(kThem, kUs, Port{22}, Port{40000}, 0x11223344, 0xaabbccdd,
                                  TcpFlags{TcpFlags::syn | TcpFlags::ack}, 64240, 64);
    auto decoded = decode_frame(LinkType::ethernet, ByteView{ethernet(packet)});
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->ip.src, kThem);
    EXPECT_EQ(decoded->ip.dst, kUs);
    EXPECT_EQ(decoded->ip.ttl, 64);
    ASSERT_TRUE(decoded->tcp);
    EXPECT_EQ(decoded->tcp->sport, Port{22});
    EXPECT_EQ(decoded->tcp->dport, Port{40000});
    EXPECT_EQ(decoded->tcp->seq, 0x11223344u);
    EXPECT_EQ(decoded->tcp->ack, 0xaabbccddu);
    EXPECT_EQ(decoded->tcp->flags.str(), "SYN,ACK");
    EXPECT_EQ(decoded->tcp->window, 64240);
}

TEST(Decode, IcmpErrorQuotesTheProbe) {
    auto probe = make_tcp_packet(kUs, kThem, Port{40001}, Port{113}, 0xdeadbeef, 0, TcpFlags{TcpFlags::syn}, 1024, 64);
    auto error = make_icmp_error(kThem, 3, 13, probe, 64);
    auto decoded = decode_ipv4(ByteView{error});
    ASSERT_TRUE(decoded && decoded->icmp && decoded->icmp->quoted);
    EXPECT_EQ(decoded->icmp->type, 3);
    EXPECT_EQ(decoded->icmp->code, 13);
    const auto& quoted = *decoded->icmp->quoted;
    EXPECT_EQ(quoted.ip.src, kUs);
    EXPECT_EQ(quoted.ip.dst, kThem);
    EXPECT_EQ(quoted.sport, Port{40001});
    EXPECT_EQ(quoted.dport, Port{113});
    EXPECT_EQ(quoted.tcp_seq, 0xdeadbeefu);
}

TEST(Decode, IcmpQuotingOnlyEightBytesStillGivesPortsAndSeq) {
    auto probe = make_tcp_packet(kUs, kThem, Port{40001}, Port{113}, 0x01020304, 0, TcpFlags{TcpFlags::syn}, 1024, 64);
    probe.resize(28);  // RFC 792 minimum: IP header + 8 bytes
    auto decoded = decode_ipv4(ByteView{make_icmp_error(kThem, 3, 1, probe, 64)});
    ASSERT_TRUE(decoded && decoded->icmp && decoded->icmp->quoted);
    EXPECT_EQ(decoded->icmp->quoted->tcp_seq, 0x01020304u);
}

TEST(Decode, IcmpQuotingTooLittleHasNoQuote) {
    auto probe = make_tcp_packet(kUs, kThem, Port{40001}, Port{113}, 1, 0, TcpFlags{TcpFlags::syn}, 1024, 64);
    probe.resize(22);
    auto decoded = decode_ipv4(ByteView{make_icmp_error(kThem, 3, 1, probe, 64)});
    ASSERT_TRUE(decoded && decoded->icmp);
    EXPECT_FALSE(decoded->icmp->quoted);
}

TEST(Decode, EveryTruncationIsSafe) {
    auto packet = ethernet(make_tcp_packet(kThem, kUs, Port{22}, Port{40000}, 1, 2, TcpFlags{TcpFlags::rst}, 0, 64));
    for (std::size_t n = 0; n <= packet.size(); ++n) {
        auto decoded = decode_frame(LinkType::ethernet, ByteView{std::span{packet.data(), n}});
        if (n < 14 + 20) {
            EXPECT_FALSE(decoded) << n;
        } else if (n < packet.size()) {
            ASSERT_TRUE(decoded) << n;
            EXPECT_FALSE(decoded->tcp) << n;
        }
    }
}

TEST(Decode, RejectsBadChecksumAndLyingLengths) {
    auto packet = make_tcp_packet(kThem, kUs, Port{22}, Port{40000}, 1, 2, TcpFlags{TcpFlags::rst}, 0, 64);
    auto corrupt = packet;
    corrupt[8] ^= 0xff;  // ttl changed, checksum not
    EXPECT_FALSE(decode_ipv4(ByteView{corrupt}));
    auto long_header = packet;
    long_header[0] = 0x4f;  // IHL 60 bytes, more than the packet holds
    EXPECT_FALSE(decode_ipv4(ByteView{long_header}));
    auto short_total = packet;
    short_total[2] = 0;
    short_total[3] = 10;  // total length below the header length
    short_total[10] = short_total[11] = 0;
    const auto sum = ipv4_header_checksum(std::span{short_total}.first(20));
    short_total[10] = static_cast<std::uint8_t>(sum >> 8);
    short_total[11] = static_cast<std::uint8_t>(sum);
    EXPECT_FALSE(decode_ipv4(ByteView{short_total}));
}

TEST(Decode, LinkTypes) {
    auto ip = make_tcp_packet(kThem, kUs, Port{22}, Port{40000}, 1, 2, TcpFlags{TcpFlags::rst}, 0, 64);
    std::vector<std::uint8_t> sll(16, 0);
    sll[14] = 0x08;
    sll.insert(sll.end(), ip.begin(), ip.end());
    EXPECT_TRUE(decode_frame(LinkType::linux_sll, ByteView{sll}));
    std::vector<std::uint8_t> sll2(20, 0);
    sll2[0] = 0x08;
    sll2.insert(sll2.end(), ip.begin(), ip.end());
    EXPECT_TRUE(decode_frame(LinkType::linux_sll2, ByteView{sll2}));
    std::vector<std::uint8_t> loop{0, 0, 0, 2};
    loop.insert(loop.end(), ip.begin(), ip.end());
    EXPECT_TRUE(decode_frame(LinkType::bsd_loopback, ByteView{loop}));
    std::vector<std::uint8_t> vlan{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00};
    vlan.insert(vlan.end(), ip.begin(), ip.end());
    EXPECT_TRUE(decode_frame(LinkType::ethernet, ByteView{vlan}));
    auto arp = ethernet(ip);
    arp[12] = 0x08;
    arp[13] = 0x06;
    EXPECT_FALSE(decode_frame(LinkType::ethernet, ByteView{arp}));
    EXPECT_EQ(link_type_from_dlt(1), LinkType::ethernet);
    EXPECT_EQ(link_type_from_dlt(276), LinkType::linux_sll2);
    EXPECT_FALSE(link_type_from_dlt(105));
}

// tcpdump -i any on a VLAN interface: libpcap puts the 802.1Q tag after the cooked header.
TEST(Decode, LinuxCookedFramesCarryingVlanTags) {
    auto ip = make_tcp_packet(kThem, kUs, Port{22}, Port{40000}, 1, 2, TcpFlags{TcpFlags::rst}, 0, 64);
    std::vector<std::uint8_t> sll(16, 0);
    sll[14] = 0x81;
    sll.insert(sll.end(), {0x00, 0x07, 0x08, 0x00});
    sll.insert(sll.end(), ip.begin(), ip.end());
    auto v1 = decode_frame(LinkType::linux_sll, ByteView{sll});
    ASSERT_TRUE(v1 && v1->tcp);
    EXPECT_EQ(v1->link_header, 20);
    std::vector<std::uint8_t> sll2(20, 0);
    sll2[0] = 0x88;
    sll2[1] = 0xa8;  // 802.1ad outer tag, then 802.1Q
    sll2.insert(sll2.end(), {0x00, 0x03, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00});
    sll2.insert(sll2.end(), ip.begin(), ip.end());
    auto v2 = decode_frame(LinkType::linux_sll2, ByteView{sll2});
    ASSERT_TRUE(v2 && v2->tcp);
    EXPECT_EQ(v2->link_header, 28);
    sll2.resize(26);  // cut inside the second tag
    EXPECT_FALSE(decode_frame(LinkType::linux_sll2, ByteView{sll2}));
}

TEST(Decode, LinkPayloadNamesIpv6) {
    std::vector<std::uint8_t> eth{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd, 0x60, 0, 0, 0};
    EXPECT_EQ(link_payload(LinkType::ethernet, ByteView{eth})->ethertype, ethertype::ipv6);
    std::vector<std::uint8_t> raw{0x60, 0, 0, 0};
    EXPECT_EQ(link_payload(LinkType::raw_ip, ByteView{raw})->ethertype, ethertype::ipv6);
    std::vector<std::uint8_t> loop{30, 0, 0, 0, 0x60};  // macOS AF_INET6, little-endian
    EXPECT_EQ(link_payload(LinkType::bsd_loopback, ByteView{loop})->ethertype, ethertype::ipv6);
    EXPECT_FALSE(decode_frame(LinkType::ethernet, ByteView{eth}));
}

TEST(Decode, LaterFragmentHasNoTransportHeader) {
    auto packet = make_tcp_packet(kThem, kUs, Port{22}, Port{40000}, 1, 2, TcpFlags{TcpFlags::rst}, 0, 64);
    packet[6] = 0x00;
    packet[7] = 0x10;  // fragment offset 16 * 8 bytes
    packet[10] = packet[11] = 0;
    const auto sum = ipv4_header_checksum(std::span{packet}.first(20));
    packet[10] = static_cast<std::uint8_t>(sum >> 8);
    packet[11] = static_cast<std::uint8_t>(sum);
    auto decoded = decode_ipv4(ByteView{packet});
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(decoded->ip.later_fragment);
    EXPECT_FALSE(decoded->tcp);
}

TEST(Checksum, Rfc1071Example) {
    // RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (before inversion).
    const std::uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(checksum_finish(checksum_add(bytes)), static_cast<std::uint16_t>(~0xddf2));
}

}  // namespace
}  // namespace flagscan

// ProbeBuilder over IPv6: every lane's packet decoded back with decode_ipv6 / decode_frame6, field by field, checksums verified.
#include <gtest/gtest.h>

#include "flagscan/net/address_book.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode6.hpp"
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/probe/udp_payloads.hpp"

namespace flagscan {
namespace {

const Ipv6 kUs = *Ipv6::parse("fd77:74::1");
const Ipv6 kTarget = *Ipv6::parse("fd77:74::1:2345");

// Targets first (keys in address order), then our own address, as a live IPv6 scan fills it.
struct Book {
    AddressBook book;
    Ipv4 target, us;
    Book() {
        target = book.add(Ipv6Range{kTarget, kTarget}).value();
        us = *book.key_for(kUs);
    }
};

Probe sample(const Book& b, std::uint8_t lane = 0) {
    return Probe{.lane = lane, .src = b.us, .dst = b.target, .sport = Port{40000}, .dport = Port{53},
                 .seq = 0x01020304, .ack = 0x0a0b0c0d, .ip_id = 0xbeef};
}

struct Built {
    std::vector<std::uint8_t> bytes;
    std::optional<DecodedPacket6> decoded;
};

Built build(const ProbeKind& kind, const ProbeShape& shape, const Probe& probe, const AddressBook& book,
            const UdpPayloads* payloads = nullptr) {
    const ProbeKind* kinds[] = {&kind};
    auto builder = ProbeBuilder::create(kinds, shape, payloads, &book);
    EXPECT_TRUE(builder) << builder.error();
    if (!builder) return {};
    Built built;
    built.bytes.resize(builder->size());
    built.bytes.resize(builder->build(probe, built.bytes));
    built.decoded = kind.protocol == ipproto::arp ? decode_frame6(LinkType::ethernet, ByteView{built.bytes})
                                                  : decode_ipv6(ByteView{built.bytes});
    return built;
}

// The checksum over the pseudo-header and the upper layer as carried: 0 when it is valid.
std::uint16_t verify(const std::vector<std::uint8_t>& packet, const Ipv6Header& ip) {
    const auto upper = ipv6_payload(ByteView{packet});
    EXPECT_TRUE(upper);
    return upper ? transport_checksum(ip.src, ip.dst, ip.next_header, upper->span()) : 0xdead;
}

// RFC 8200 3 as the probe sets it: version 6, the addresses of the keys, the flow label's low
// 16 bits the probe's ip_id (IPV6.md), the payload length, the hop limit --ttl gives.
void expect_header(const Built& built, const Probe& probe, std::uint8_t next_header, std::uint8_t hop_limit) {
    ASSERT_TRUE(built.decoded);
    const Ipv6Header& ip = built.decoded->ip;
    EXPECT_EQ(built.bytes[0] >> 4, 6);
    EXPECT_EQ(ip.src, kUs);
    EXPECT_EQ(ip.dst, kTarget);
    EXPECT_EQ(ip.flow_label, probe.ip_id);
    EXPECT_EQ(ip.traffic_class, 0);
    EXPECT_EQ(ip.payload_length, built.bytes.size() - 40);
    EXPECT_EQ(ip.next_header, next_header);
    EXPECT_EQ(ip.header_length, 40);
    EXPECT_EQ(ip.hop_limit, hop_limit);
}

TEST(ProbeBuilder6, SynPacket) {
    const Book b;
    const Probe probe = sample(b);
    const Built built = build(syn_kind(), ProbeShape{64, 1024, 1460}, probe, b.book);
    ASSERT_EQ(built.bytes.size(), 64u);  // IPv6 40 + TCP 20 + MSS option 4
    ASSERT_NO_FATAL_FAILURE(expect_header(built, probe, ipproto::tcp, 64));
    ASSERT_TRUE(built.decoded->tcp);
    const auto& tcp = *built.decoded->tcp;
    EXPECT_EQ(tcp.sport, Port{40000});
    EXPECT_EQ(tcp.dport, Port{53});
    EXPECT_EQ(tcp.seq, 0x01020304u);
    EXPECT_EQ(tcp.ack, 0x0a0b0c0du);
    EXPECT_EQ(tcp.flags, TcpFlags{TcpFlags::syn});
    EXPECT_EQ(tcp.window, 1024);
    EXPECT_EQ(built.bytes[40 + 12] >> 4, 6);  // data offset: 24 bytes
    EXPECT_EQ(built.bytes[60], 2);            // MSS option (RFC 793 3.1)
    EXPECT_EQ((built.bytes[62] << 8) | built.bytes[63], 1460);
    EXPECT_EQ(verify(built.bytes, built.decoded->ip), 0);
}

// -sS -sF -sN -sX -sA -sW -sM and --scanflags: each kind's flags, the cookie, a valid checksum.
TEST(ProbeBuilder6, EveryTcpKind) {
    const Book b;
    std::vector<ProbeKind> kinds(all_probe_kinds().begin(), all_probe_kinds().end());
    kinds.push_back(custom_flags_kind(TcpFlags{TcpFlags::syn | TcpFlags::fin | TcpFlags::urg}, syn_kind()));
    for (const auto& kind : kinds) {
        SCOPED_TRACE(std::string(kind.name));
        const Probe probe = sample(b);
        const Built built = build(kind, ProbeShape{}, probe, b.book);
        ASSERT_NO_FATAL_FAILURE(expect_header(built, probe, ipproto::tcp, 64));
        ASSERT_TRUE(built.decoded->tcp);
        EXPECT_EQ(built.decoded->tcp->flags, kind.flags);
        EXPECT_EQ(built.decoded->tcp->seq, probe.seq);
        EXPECT_EQ(built.decoded->tcp->ack, probe.ack);
        EXPECT_EQ(verify(built.bytes, built.decoded->ip), 0);
    }
}

// The ping lanes that are TCP (-PS, -PA) and UDP (-PU) too.
TEST(ProbeBuilder6, TcpAndUdpPings) {
    const Book b;
    for (const ProbeKind* kind : {&ping_syn_kind(), &ping_ack_kind(), &ping_udp_kind()}) {
        SCOPED_TRACE(std::string(kind->name));
        const Built built = build(*kind, ProbeShape{}, sample(b), b.book);
        ASSERT_NO_FATAL_FAILURE(expect_header(built, sample(b), kind->protocol, 64));
        EXPECT_EQ(verify(built.bytes, built.decoded->ip), 0);
    }
}

// RFC 768 over IPv6: the port's protocol payload, the length, a checksum that is never 0.
TEST(ProbeBuilder6, UdpWithItsPortsPayload) {
    const Book b;
    auto payloads = UdpPayloads::parse("udp 53 \"\\x12\\x34hello\"\n");
    ASSERT_TRUE(payloads) << payloads.error();
    const Probe probe = sample(b);
    const Built built = build(udp_kind(), ProbeShape{}, probe, b.book, &*payloads);
    ASSERT_NO_FATAL_FAILURE(expect_header(built, probe, ipproto::udp, 64));
    ASSERT_TRUE(built.decoded->udp);
    EXPECT_EQ(built.decoded->udp->sport, Port{40000});
    EXPECT_EQ(built.decoded->udp->dport, Port{53});
    EXPECT_EQ((built.bytes[44] << 8) | built.bytes[45], 8 + 7);  // UDP length
    EXPECT_EQ(std::vector<std::uint8_t>(built.bytes.begin() + 48, built.bytes.end()),
              (std::vector<std::uint8_t>{0x12, 0x34, 'h', 'e', 'l', 'l', 'o'}));
    EXPECT_NE((built.bytes[46] << 8) | built.bytes[47], 0);
    EXPECT_EQ(verify(built.bytes, built.decoded->ip), 0);

    Probe other = probe;  // a port without a payload: an empty datagram
    other.dport = Port{54};
    other.ip_id = 0x1234;
    const Built empty = build(udp_kind(), ProbeShape{}, other, b.book, &*payloads);
    ASSERT_NO_FATAL_FAILURE(expect_header(empty, other, ipproto::udp, 64));
    EXPECT_EQ(empty.bytes.size(), 48u);
    EXPECT_EQ(verify(empty.bytes, empty.decoded->ip), 0);
}

// RFC 4443 4.1: an echo request whose identifier is the probe's sport and sequence the cookie's
// low 16 bits (the IPv4 echo lane's fields), checksummed over the pseudo-header (2.3).
TEST(ProbeBuilder6, IcmpEchoRequest) {
    const Book b;
    const Probe probe = sample(b);
    const Built built = build(ping_echo_kind(), ProbeShape{}, probe, b.book);
    ASSERT_EQ(built.bytes.size(), 48u);
    ASSERT_NO_FATAL_FAILURE(expect_header(built, probe, ipproto::icmpv6, 64));
    ASSERT_TRUE(built.decoded->icmp6);
    EXPECT_EQ(built.decoded->icmp6->type, icmp6_type::echo_request);
    EXPECT_EQ(built.decoded->icmp6->code, 0);
    EXPECT_EQ(built.decoded->icmp6->id, 40000);
    EXPECT_EQ(built.decoded->icmp6->seq, 0x0304);
    EXPECT_EQ(verify(built.bytes, built.decoded->ip), 0);
}

// -PR over IPv6, RFC 4861 7.2.2: a Neighbor Solicitation for the target, to its solicited-node
// group ff02::1:ff01:2345 (RFC 4291 2.7.1) in a frame to 33:33:ff:01:23:45 (RFC 2464 7), hop
// limit 255, with our link-layer address as the Source Link-Layer Address option (4.6.1).
TEST(ProbeBuilder6, NeighborSolicitationFrame) {
    const Book b;
    ProbeShape shape;
    shape.source_mac = MacAddress{0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
    shape.data = std::vector<std::uint8_t>(5, 0xaa);  // --data-length does not reach NDP
    const Probe probe = sample(b);
    const Built built = build(ping_arp_kind(), shape, probe, b.book);
    ASSERT_EQ(built.bytes.size(), 14u + 40 + 24 + 8);
    EXPECT_EQ(std::vector<std::uint8_t>(built.bytes.begin(), built.bytes.begin() + 14),
              (std::vector<std::uint8_t>{0x33, 0x33, 0xff, 0x01, 0x23, 0x45, 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, 0x86, 0xdd}));
    ASSERT_TRUE(built.decoded);
    const Ipv6Header& ip = built.decoded->ip;
    EXPECT_EQ(ip.src, kUs);
    EXPECT_EQ(ip.dst, *Ipv6::parse("ff02::1:ff01:2345"));
    EXPECT_EQ(ip.hop_limit, 255);
    EXPECT_EQ(ip.next_header, ipproto::icmpv6);
    EXPECT_EQ(ip.flow_label, 0u);
    ASSERT_TRUE(built.decoded->icmp6 && built.decoded->icmp6->neighbor);
    EXPECT_EQ(built.decoded->icmp6->type, icmp6_type::neighbor_solicitation);
    EXPECT_EQ(built.decoded->icmp6->neighbor->target, kTarget);
    EXPECT_EQ(built.decoded->icmp6->neighbor->link_address, shape.source_mac);
    const std::vector<std::uint8_t> packet(built.bytes.begin() + 14, built.bytes.end());
    EXPECT_EQ(verify(packet, ip), 0);
}

// -PP has no IPv6 counterpart: create() says so in one line.
TEST(ProbeBuilder6, TimestampLaneIsRefused) {
    const Book b;
    const ProbeKind* kinds[] = {&ping_echo_kind(), &ping_timestamp_kind()};
    auto builder = ProbeBuilder::create(kinds, ProbeShape{}, nullptr, &b.book);
    ASSERT_FALSE(builder);
    EXPECT_NE(builder.error().find("-PP"), std::string::npos) << builder.error();
    EXPECT_EQ(builder.error().find('\n'), std::string::npos);
}

// --ttl is the hop limit; --data-length's bytes follow the TCP header and the echo header and
// replace the UDP payloads, all inside the checksums and the payload length.
TEST(ProbeBuilder6, HopLimitAndDataLength) {
    const Book b;
    ProbeShape shape;
    shape.ttl = 7;
    shape.data = random_data(13, 1);
    auto payloads = UdpPayloads::parse("udp 53 \"hello\"\n");
    ASSERT_TRUE(payloads);
    const Probe probe = sample(b);
    for (const ProbeKind* kind : {&syn_kind(), &udp_kind(), &ping_echo_kind()}) {
        SCOPED_TRACE(std::string(kind->name));
        const Built built = build(*kind, shape, probe, b.book, &*payloads);
        const std::size_t header = kind->protocol == ipproto::tcp ? 24 : 8;
        ASSERT_EQ(built.bytes.size(), 40 + header + 13);
        ASSERT_NO_FATAL_FAILURE(expect_header(built, probe, kind->protocol == ipproto::icmp ? ipproto::icmpv6 : kind->protocol, 7));
        EXPECT_TRUE(std::equal(shape.data->begin(), shape.data->end(), built.bytes.end() - 13));
        EXPECT_EQ(verify(built.bytes, built.decoded->ip), 0);
    }
}

// --badsum: TCP and UDP checksums that do not verify, wrong_checksum() of the right ones.
TEST(ProbeBuilder6, BadsumBreaksTcpAndUdpChecksums) {
    const Book b;
    ProbeShape good, bad;
    bad.badsum = true;
    const Probe probe = sample(b);
    for (const ProbeKind* kind : {&syn_kind(), &udp_kind()}) {
        SCOPED_TRACE(std::string(kind->name));
        const Built right = build(*kind, good, probe, b.book);
        const Built wrong = build(*kind, bad, probe, b.book);
        ASSERT_TRUE(right.decoded && wrong.decoded);
        EXPECT_EQ(verify(right.bytes, right.decoded->ip), 0);
        EXPECT_NE(verify(wrong.bytes, wrong.decoded->ip), 0);
        const std::size_t at = 40 + (kind->protocol == ipproto::tcp ? 16 : 6);
        const auto field = [at](const std::vector<std::uint8_t>& p) {
            return static_cast<std::uint16_t>((p[at] << 8) | p[at + 1]);
        };
        EXPECT_EQ(field(wrong.bytes), wrong_checksum(field(right.bytes)));
    }
}

// Lanes keep their kinds: a -PE -PS -PU discovery builder writes each probe by its lane.
TEST(ProbeBuilder6, LanesAndSize) {
    const Book b;
    const ProbeKind* kinds[] = {&ping_echo_kind(), &ping_syn_kind(), &ping_udp_kind()};
    auto builder = ProbeBuilder::create(kinds, ProbeShape{}, nullptr, &b.book);
    ASSERT_TRUE(builder) << builder.error();
    EXPECT_EQ(builder->size(), 64u);
    std::vector<std::uint8_t> out(builder->size());
    const std::uint8_t expected[] = {ipproto::icmpv6, ipproto::tcp, ipproto::udp};
    for (std::uint8_t lane = 0; lane < 3; ++lane) {
        out.resize(builder->size());
        out.resize(builder->build(sample(b, lane), out));
        const auto decoded = decode_ipv6(ByteView{out});
        ASSERT_TRUE(decoded);
        EXPECT_EQ(decoded->ip.next_header, expected[lane]);
        EXPECT_EQ(verify(out, decoded->ip), 0);
    }
}

// A key the book does not hold has no address to write: nothing to send.
TEST(ProbeBuilder6, UnknownKeyBuildsNothing) {
    const Book b;
    const ProbeKind* kinds[] = {&syn_kind()};
    auto six = ProbeBuilder::create(kinds, ProbeShape{}, nullptr, &b.book);
    ASSERT_TRUE(six) << six.error();
    Probe probe = sample(b);
    probe.dst = Ipv4{0, 0, 0, 99};
    std::vector<std::uint8_t> out(six->size());
    EXPECT_EQ(six->build(probe, out), 0u);
}

}  // namespace
}  // namespace flagscan

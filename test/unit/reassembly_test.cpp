// Tests for IPv4 reassembly: 8-byte pieces in and out of order, missing pieces, bounds.
#include <gtest/gtest.h>

#include <algorithm>

#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/reassembly.hpp"
#include "flagscan/wire/sim_network.hpp"

namespace flagscan {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes syn(std::uint16_t port, std::uint16_t id) {
    Bytes ip = make_tcp_packet(Ipv4{10, 77, 0, 1}, Ipv4{10, 77, 0, 2}, Port{40000}, Port{port}, 0x1234 + port, 0,
                               TcpFlags{TcpFlags::syn}, 1024, 64);
    put_be16(std::span<std::uint8_t>{ip}, 4, id);
    put_be16(std::span<std::uint8_t>{ip}, 6, 0);  // DF clear: a datagram that may be fragmented
    put_be16(std::span<std::uint8_t>{ip}, 10, 0);
    put_be16(std::span<std::uint8_t>{ip}, 10, ipv4_header_checksum(std::span<const std::uint8_t>{ip}.first(20)));
    return ip;
}

// RFC 791 3.2: pieces of SIZE data bytes, each under a copy of the header.
std::vector<Bytes> pieces(const Bytes& ip, std::size_t size) {
    std::vector<Bytes> out;
    for (std::size_t at = 20; at < ip.size(); at += size) {
        const std::size_t n = std::min(size, ip.size() - at);
        Bytes piece(ip.begin(), ip.begin() + 20);
        piece.insert(piece.end(), ip.begin() + static_cast<long>(at), ip.begin() + static_cast<long>(at + n));
        put_be16(std::span<std::uint8_t>{piece}, 2, static_cast<std::uint16_t>(piece.size()));
        put_be16(std::span<std::uint8_t>{piece}, 6,
                 static_cast<std::uint16_t>((at + n < ip.size() ? 0x2000u : 0u) | (at - 20) / 8));
        put_be16(std::span<std::uint8_t>{piece}, 10, 0);
        put_be16(std::span<std::uint8_t>{piece}, 10, ipv4_header_checksum(std::span<const std::uint8_t>{piece}.first(20)));
        out.push_back(piece);
    }
    return out;
}

std::optional<Bytes> feed(Ipv4Reassembler& r, const std::vector<Bytes>& in, std::int64_t now = 0) {
    std::optional<Bytes> out;
    for (const Bytes& piece : in) {
        EXPECT_FALSE(out) << "a datagram came out before its last piece";
        out = r.add(ByteView{piece}, now);
    }
    return out;
}

TEST(Reassembly, EightBytePiecesInOrderGiveTheProbe) {
    Ipv4Reassembler r;
    const Bytes whole = syn(80, 7);
    auto out = feed(r, pieces(whole, 8));
    ASSERT_TRUE(out);
    auto decoded = decode_ipv4(ByteView{*out});
    ASSERT_TRUE(decoded && decoded->tcp);
    EXPECT_EQ(decoded->tcp->dport.value(), 80);
    EXPECT_EQ(decoded->tcp->flags.bits(), TcpFlags::syn);
    EXPECT_FALSE(decoded->ip.more_fragments || decoded->ip.later_fragment);
    EXPECT_EQ(*out, whole);  // the same bytes, header checksum included
    EXPECT_EQ(r.fragments_unused(), 0u);
}

TEST(Reassembly, PiecesInAnyOrder) {
    Ipv4Reassembler r;
    auto in = pieces(syn(81, 8), 8);
    std::reverse(in.begin(), in.end());
    auto out = feed(r, in);
    ASSERT_TRUE(out);
    EXPECT_EQ(*out, syn(81, 8));
}

TEST(Reassembly, MissingPieceGivesNothingAndIsCounted) {
    Ipv4Reassembler r;
    auto in = pieces(syn(82, 9), 8);
    in.erase(in.begin() + 1);
    EXPECT_FALSE(feed(r, in));
    EXPECT_EQ(r.fragments_unused(), 2u);
}

TEST(Reassembly, DatagramsAreKeptApartByIdentification) {
    Ipv4Reassembler r;
    auto a = pieces(syn(83, 10), 8), b = pieces(syn(84, 11), 8);
    EXPECT_FALSE(r.add(ByteView{a[0]}, 0));
    EXPECT_FALSE(r.add(ByteView{b[0]}, 0));
    EXPECT_FALSE(r.add(ByteView{b[1]}, 0));
    EXPECT_FALSE(r.add(ByteView{a[1]}, 0));
    EXPECT_EQ(r.add(ByteView{a[2]}, 0), syn(83, 10));
    EXPECT_EQ(r.add(ByteView{b[2]}, 0), syn(84, 11));
}

TEST(Reassembly, TimedOutPiecesAreDropped) {
    Ipv4Reassembler r;
    auto in = pieces(syn(85, 12), 8);
    EXPECT_FALSE(r.add(ByteView{in[0]}, 0));
    EXPECT_FALSE(r.add(ByteView{in[1]}, 0));
    EXPECT_FALSE(r.add(ByteView{in[2]}, Ipv4Reassembler::kTimeoutUs + 1));  // a new datagram: no first piece
    EXPECT_EQ(r.fragments_unused(), 3u);
}

TEST(Reassembly, MemoryIsBoundedByTheDatagramLimit) {
    Ipv4Reassembler r;
    for (std::uint32_t i = 0; i < Ipv4Reassembler::kMaxDatagrams + 10; ++i) {
        auto in = pieces(syn(86, static_cast<std::uint16_t>(i)), 8);
        EXPECT_FALSE(r.add(ByteView{in[0]}, i));
    }
    auto late = pieces(syn(86, 0), 8);  // the oldest: pushed out, its later pieces make nothing
    EXPECT_FALSE(r.add(ByteView{late[1]}, 2000));
    EXPECT_FALSE(r.add(ByteView{late[2]}, 2000));
    auto recent = pieces(syn(86, static_cast<std::uint16_t>(Ipv4Reassembler::kMaxDatagrams + 9)), 8);
    EXPECT_FALSE(r.add(ByteView{recent[1]}, 2000));
    EXPECT_TRUE(r.add(ByteView{recent[2]}, 2000));
}

TEST(Reassembly, FirstPieceAlreadyReadIsNotGivenTwice) {
    Ipv4Reassembler r;
    auto in = pieces(syn(87, 13), 16);  // the first piece holds 16 of the 20 TCP header bytes
    EXPECT_FALSE(r.add(ByteView{in[0]}, 0, true));
    EXPECT_FALSE(r.add(ByteView{in[1]}, 0));
    EXPECT_EQ(r.fragments_unused(), 0u);
}

TEST(Reassembly, LiesAreRefused) {
    Ipv4Reassembler r;
    auto in = pieces(syn(88, 14), 8);
    Bytes odd = in[0];  // a piece with more fragments to come must carry a multiple of 8 bytes
    odd.pop_back();
    put_be16(std::span<std::uint8_t>{odd}, 2, static_cast<std::uint16_t>(odd.size()));
    put_be16(std::span<std::uint8_t>{odd}, 10, 0);
    put_be16(std::span<std::uint8_t>{odd}, 10, ipv4_header_checksum(std::span<const std::uint8_t>{odd}.first(20)));
    EXPECT_FALSE(r.add(ByteView{odd}, 0));
    EXPECT_FALSE(r.add(ByteView{syn(89, 15)}, 0));  // not a fragment
    EXPECT_EQ(r.fragments_unused(), 0u);
}

}  // namespace
}  // namespace flagscan

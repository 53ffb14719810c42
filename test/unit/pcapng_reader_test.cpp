// Tests for the pcapng reader: interfaces of different link types, time resolutions, damage.
#include <gtest/gtest.h>

#include <sstream>

#include "flagscan/capture/pcapng_reader.hpp"

namespace flagscan {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put(Bytes& out, std::uint64_t value, int bytes, bool little) {
    for (int i = 0; i < bytes; ++i) {
        const int shift = little ? 8 * i : 8 * (bytes - 1 - i);
        out.push_back(static_cast<std::uint8_t>(value >> shift));
    }
}

Bytes block(std::uint32_t type, Bytes body, bool little = true) {
    body.resize((body.size() + 3) / 4 * 4, 0);
    Bytes out;
    put(out, type, 4, little);
    put(out, body.size() + 12, 4, little);
    out.insert(out.end(), body.begin(), body.end());
    put(out, body.size() + 12, 4, little);
    return out;
}

Bytes section(bool little = true) {
    Bytes body;
    put(body, 0x1A2B3C4D, 4, little);
    put(body, 1, 2, little);
    put(body, 0, 2, little);
    put(body, ~std::uint64_t{0}, 8, little);
    return block(0x0A0D0D0A, body, little);
}

Bytes interface(std::uint16_t linktype, std::uint8_t tsresol = 6, bool little = true) {
    Bytes body;
    put(body, linktype, 2, little);
    put(body, 0, 2, little);
    put(body, 128, 4, little);
    put(body, 9, 2, little);
    put(body, 1, 2, little);
    body.insert(body.end(), {tsresol, 0, 0, 0, 0, 0, 0, 0});
    return block(1, body, little);
}

Bytes packet(std::uint32_t id, std::uint64_t ts, const Bytes& data, bool little = true) {
    Bytes body;
    put(body, id, 4, little);
    put(body, ts >> 32, 4, little);
    put(body, ts & 0xffffffffu, 4, little);
    put(body, data.size(), 4, little);
    put(body, data.size(), 4, little);
    body.insert(body.end(), data.begin(), data.end());
    return block(6, body, little);
}

Result<PcapngReader> open(const std::vector<Bytes>& blocks) {
    std::string text;
    for (const Bytes& b : blocks) text.append(b.begin(), b.end());
    return PcapngReader::open(std::make_unique<std::istringstream>(text));
}

TEST(PcapngReader, EachInterfaceKeepsItsLinkTypeAndResolution) {
    auto reader = open({section(), interface(1), packet(0, 1'500'000, {1, 2, 3}), interface(113, 9),
                        packet(1, 2'000'000'123, {4, 5}), packet(0, 3, {6})});
    ASSERT_TRUE(reader) << reader.error();
    EXPECT_EQ(reader->first_dlt(), 1);
    auto a = reader->next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->dlt, 1);
    EXPECT_EQ(a->ts, 1'500'000);
    EXPECT_EQ(Bytes(a->bytes.begin(), a->bytes.end()), (Bytes{1, 2, 3}));
    auto b = reader->next();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->dlt, 113);
    EXPECT_EQ(b->ts, 2'000'000);  // nanoseconds, to microseconds
    auto c = reader->next();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->dlt, 1);
    EXPECT_FALSE(reader->next());
    EXPECT_EQ(reader->damage(), "");
}

TEST(PcapngReader, BigEndianSections) {
    auto reader = open({section(false), interface(101, 6, false), packet(0, 7, {0x45}, false)});
    ASSERT_TRUE(reader) << reader.error();
    EXPECT_EQ(reader->first_dlt(), 101);
    auto a = reader->next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->ts, 7);
}

TEST(PcapngReader, DamageIsNamed) {
    EXPECT_FALSE(open({section(), packet(0, 1, {1})}));  // a packet before any interface
    EXPECT_FALSE(open({section()}));
    auto unknown = open({section(), interface(1), packet(3, 1, {1})});
    ASSERT_TRUE(unknown);
    EXPECT_FALSE(unknown->next());
    EXPECT_NE(unknown->damage().find("interface 3"), std::string::npos);
    Bytes lying = packet(0, 1, {1});
    lying[4] = 0xfc;  // a block length of 0xfc: past the end of the file
    auto cut = open({section(), interface(1), lying});
    ASSERT_TRUE(cut);
    EXPECT_FALSE(cut->next());
    EXPECT_NE(cut->damage(), "");
    Bytes short_caplen = packet(0, 1, {1, 2, 3, 4});
    short_caplen[20] = 200;  // captured length 200 in a block of 4 data bytes
    auto lies = open({section(), interface(1), short_caplen});
    ASSERT_TRUE(lies);
    EXPECT_FALSE(lies->next());
    EXPECT_NE(lies->damage().find("shorter"), std::string::npos);
}

}  // namespace
}  // namespace flagscan

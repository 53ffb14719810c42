// The flagscan binary with --offline -w (no root, nothing sent) and the probe-shaping options:
// the bytes it would put on the wire for -f, -ff, --mtu 24, --data-length and --badsum, read back
// from the pcap, fragments put back together and compared with the unshaped probes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "../support/process.hpp"
#include "../support/scratch_dir.hpp"
#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/reassembly.hpp"
#include "flagscan/probe/probe_builder.hpp"

namespace flagscan {
namespace {

namespace fs = std::filesystem;
using testsupport::run_process;
using Bytes = std::vector<std::uint8_t>;

// Every record of a pcap of link type RAW (101), as PcapWriter writes it.
std::vector<Bytes> records(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string file{std::istreambuf_iterator<char>(in), {}};
    std::vector<Bytes> out;
    for (std::size_t at = 24; at + 16 <= file.size();) {
        std::uint32_t kept = 0;
        std::memcpy(&kept, file.data() + at + 8, 4);
        if (at + 16 + kept > file.size()) return ADD_FAILURE() << "cut record", out;
        out.emplace_back(file.begin() + static_cast<long>(at + 16), file.begin() + static_cast<long>(at + 16 + kept));
        at += 16 + kept;
    }
    return out;
}

std::uint16_t be16(const Bytes& b, std::size_t at) { return ByteView{b}.be16(at).value_or(0); }
Ipv4 address(const Bytes& b, std::size_t at) { return Ipv4{ByteView{b}.be32(at).value_or(0)}; }

// A valid TCP/UDP checksum sums to 0 over pseudo-header and segment (RFC 1071).
bool transport_valid(const Bytes& ip) {
    const std::span<const std::uint8_t> segment{ip.data() + 20, ip.size() - 20};
    return transport_checksum(address(ip, 12), address(ip, 16), ip[9], segment) == 0;
}

struct Shaped {
    std::vector<Bytes> wire;      // the records, as they are
    std::vector<Bytes> probes;    // the datagrams the target would reassemble
};

class ShapingCapture : public ::testing::Test {
protected:
    void SetUp() override {
        const char* bin = std::getenv("FLAGSCAN_BIN");
        if (bin == nullptr) GTEST_SKIP() << "FLAGSCAN_BIN is not set";
        bin_ = bin;
        ASSERT_FALSE(dir_.empty()) << "no temporary directory";
    }
    // An offline scan of 4 ports of 10.77.73.2 (nothing sent) with `options`: its records, reassembled.
    Shaped scan(const std::vector<std::string>& options) {
        const std::string pcap = (dir_ / ("out" + std::to_string(++runs_) + ".pcap")).string();
        std::vector<std::string> argv{bin_, "--offline", "-n", "-w", pcap, "-p", "22,80,443,8080", "--seed", "9"};
        argv.insert(argv.end(), options.begin(), options.end());
        argv.push_back("10.77.73.2");
        const auto r = run_process(argv, std::chrono::seconds(30));
        EXPECT_EQ(r.exit_code, 0) << r.describe();
        Shaped shaped;
        shaped.wire = records(pcap);
        Ipv4Reassembler reassembler;
        for (const auto& record : shaped.wire) {
            const auto ip = decode_ipv4(ByteView{record});
            if (ip && !Ipv4Reassembler::is_fragment(ip->ip)) shaped.probes.push_back(record);
            if (ip && Ipv4Reassembler::is_fragment(ip->ip))
                if (auto whole = reassembler.add(ByteView{record}, 0)) shaped.probes.push_back(*whole);
        }
        return shaped;
    }
    std::string bin_;
    testsupport::ScratchDir scratch_{"flagscan-shaping"};
    const fs::path& dir_{scratch_.path()};
    int runs_ = 0;
};

// RFC 791 3.2 over the records of one scan: per IP id, offsets run on without gaps in PER-byte
// steps, MF on all but the last, each total length and header checksum right.
void expect_fragmented(const Shaped& shaped, std::size_t per, std::size_t pieces_per_probe) {
    std::map<std::uint16_t, std::vector<const Bytes*>> by_id;
    for (const auto& f : shaped.wire) by_id[be16(f, 4)].push_back(&f);
    ASSERT_EQ(by_id.size(), 4u);
    for (const auto& [id, pieces] : by_id) {
        SCOPED_TRACE("ip id " + std::to_string(id));
        ASSERT_EQ(pieces.size(), pieces_per_probe);
        for (std::size_t i = 0; i < pieces.size(); ++i) {
            const Bytes& f = *pieces[i];
            EXPECT_EQ(be16(f, 2), f.size());
            EXPECT_EQ((be16(f, 6) & 0x1fffu) * 8, i * per);
            EXPECT_EQ((be16(f, 6) & 0x2000) != 0, i + 1 < pieces.size());
            EXPECT_EQ(ipv4_header_checksum(std::span{f}.first(20)), 0);
            if (i + 1 < pieces.size()) {
                EXPECT_EQ(f.size(), 20 + per);
            }
        }
    }
}

// The reassembled probes are the unshaped scan's: SYNs to the same ports, same length, valid checksums.
void expect_same_probes(const Shaped& shaped, const Shaped& plain) {
    ASSERT_EQ(shaped.probes.size(), plain.probes.size());
    for (std::size_t i = 0; i < plain.probes.size(); ++i) {
        const Bytes& a = shaped.probes[i];
        const Bytes& b = plain.probes[i];
        EXPECT_EQ(a.size(), b.size());
        EXPECT_EQ(be16(a, 22), be16(b, 22));  // destination port, in the walk's order (same seed)
        EXPECT_EQ(a[33], b[33]);              // TCP flags
        EXPECT_EQ(be16(a, 6), 0);             // whole: no MF, offset 0
        EXPECT_TRUE(transport_valid(a));
    }
}

TEST_F(ShapingCapture, FragmentsOfEightBytes) {
    const auto plain = scan({});
    ASSERT_EQ(plain.wire.size(), 4u);
    for (const auto& p : plain.wire) EXPECT_EQ(p.size(), 44u);
    for (const auto& options : {std::vector<std::string>{"-f"}, {"--fragment"}}) {
        const auto f = scan(options);
        ASSERT_EQ(f.wire.size(), 12u);
        expect_fragmented(f, 8, 3);
        expect_same_probes(f, plain);
    }
}

TEST_F(ShapingCapture, FragmentsOfSixteenBytes) {
    const auto ff = scan({"-ff"});
    ASSERT_EQ(ff.wire.size(), 8u);
    expect_fragmented(ff, 16, 2);
    expect_same_probes(ff, scan({}));
}

TEST_F(ShapingCapture, MtuOf24WithData) {
    const auto plain = scan({"--data-length", "20"});
    const auto mtu = scan({"--mtu", "24", "--data-length", "20"});
    ASSERT_EQ(mtu.wire.size(), 8u);
    expect_fragmented(mtu, 24, 2);
    expect_same_probes(mtu, plain);
}

TEST_F(ShapingCapture, DataLengthAppendsTheSeedsBytes) {
    const auto shaped = scan({"--data-length", "30"});
    ASSERT_EQ(shaped.wire.size(), 4u);
    const Bytes data = random_data(30, 9);
    for (const auto& p : shaped.wire) {
        ASSERT_EQ(p.size(), 74u);
        EXPECT_EQ(be16(p, 2), 74u);
        EXPECT_TRUE(std::equal(data.begin(), data.end(), p.begin() + 44));
        EXPECT_TRUE(transport_valid(p));
    }
    const auto udp = scan({"-sU", "--data-length", "12"});  // replaces every UDP payload (nmap)
    ASSERT_EQ(udp.wire.size(), 4u);
    for (const auto& p : udp.wire) {
        EXPECT_EQ(p.size(), 40u);
        EXPECT_EQ(be16(p, 24), 20u);
        EXPECT_TRUE(transport_valid(p));
    }
}

TEST_F(ShapingCapture, BadsumIsWrongByConstruction) {
    for (const auto& options : {std::vector<std::string>{"--badsum"}, {"-sU", "--badsum"}, {"-sF", "--badsum", "-f"}}) {
        const auto shaped = scan(options);
        ASSERT_EQ(shaped.probes.size(), 4u);
        for (const auto& p : shaped.probes) {
            EXPECT_FALSE(transport_valid(p));
            EXPECT_EQ(ipv4_header_checksum(std::span{p}.first(20)), 0);
            if (p[9] == 17) {
                EXPECT_NE(be16(p, 26), 0);  // UDP: 0 would mean "no checksum"
            }
        }
    }
}

// -D a,ME,b: each probe three times in a row, from a, from us, from b; each copy the same probe
// with valid checksums for its source. With -f, decoys first, then every copy in fragments.
TEST_F(ShapingCapture, DecoysInTheOrderGiven) {
    const auto plain = scan({});
    const Ipv4 a{10, 77, 73, 200}, b{10, 77, 73, 201};
    for (const bool fragmented : {false, true}) {
        SCOPED_TRACE(fragmented ? "-D -f" : "-D");
        std::vector<std::string> options{"-D", "10.77.73.200,ME,10.77.73.201"};
        if (fragmented) options.push_back("-f");
        const auto shaped = scan(options);
        ASSERT_EQ(shaped.wire.size(), fragmented ? 36u : 12u);
        ASSERT_EQ(shaped.probes.size(), 12u);
        for (std::size_t i = 0; i < shaped.probes.size(); ++i) {
            const Bytes& p = shaped.probes[i];
            const Bytes& ours = shaped.probes[i / 3 * 3 + 1];  // the cookie key is each run's own: compare within it
            EXPECT_EQ(address(p, 12), (i % 3 == 0 ? a : i % 3 == 1 ? address(plain.probes[0], 12) : b)) << i;
            EXPECT_EQ(address(p, 16), address(ours, 16));
            EXPECT_EQ(be16(p, 22), be16(plain.probes[i / 3], 22));  // the walk's order (same seed)
            EXPECT_EQ(be16(p, 4), be16(ours, 4));                   // one IP id
            EXPECT_TRUE(std::equal(p.begin() + 20, p.begin() + 36, ours.begin() + 20));  // ports, seq, ack, flags
            EXPECT_EQ(ipv4_header_checksum(std::span{p}.first(20)), 0);
            EXPECT_TRUE(transport_valid(p));
        }
    }
}

// RND:N from the seed: the same addresses for the same seed, none reserved, ours at a place the seed draws.
TEST_F(ShapingCapture, RandomDecoysReproduce) {
    const auto first = scan({"-D", "RND:4"});
    const auto again = scan({"-D", "RND:4"});
    ASSERT_EQ(first.wire.size(), 20u);
    ASSERT_EQ(again.wire.size(), 20u);
    for (std::size_t i = 0; i < first.wire.size(); ++i) EXPECT_EQ(address(first.wire[i], 12), address(again.wire[i], 12));
    const auto plain = scan({});
    std::size_t ours = 0;
    for (const auto& p : first.wire) {
        const Ipv4 src = address(p, 12);
        EXPECT_TRUE(transport_valid(p));
        if (src == address(plain.wire[0], 12)) {  // ours: whatever this machine's source is (10/8 too)
            ++ours;
            continue;
        }
        EXPECT_NE(src.octet(0), 10);
        EXPECT_LT(src.octet(0), 224);
    }
    EXPECT_EQ(ours, 4u);
}

TEST_F(ShapingCapture, BadDecoysRefusedInOneLine) {
    for (const auto& decoys : {"10.0.0.300", "RND:x", "RND:1000"}) {
        const auto r = run_process({bin_, "--offline", "-n", "-p", "22", "-D", decoys, "10.77.73.2"}, std::chrono::seconds(30));
        EXPECT_EQ(r.exit_code, 1) << r.describe();
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

// --ip-options R: every record a 60-byte header (IHL 15) holding nmap's record route, then the
// same SYN as without it; with -f the later fragments drop the option (not copied, RFC 791 3.1).
TEST_F(ShapingCapture, IpOptionsInEveryHeader) {
    const auto plain = scan({});
    const auto rr = scan({"--ip-options", "R"});
    ASSERT_EQ(rr.wire.size(), 4u);
    for (std::size_t i = 0; i < rr.wire.size(); ++i) {
        const Bytes& p = rr.wire[i];
        ASSERT_EQ(p.size(), 84u);
        EXPECT_EQ(p[0], 0x4f);
        EXPECT_EQ(be16(p, 2), 84u);
        EXPECT_EQ(ipv4_header_checksum(std::span{p}.first(60)), 0);
        EXPECT_EQ((std::vector<std::uint8_t>{p.begin() + 20, p.begin() + 24}), (std::vector<std::uint8_t>{1, 7, 39, 4}));
        EXPECT_EQ(be16(p, 62), be16(plain.wire[i], 22));  // destination port, the walk's order
        EXPECT_EQ(transport_checksum(address(p, 12), address(p, 16), 6, std::span{p}.subspan(60)), 0);
    }
    const auto f = scan({"--ip-options", "R", "-f"});
    ASSERT_EQ(f.wire.size(), 12u);
    for (std::size_t i = 0; i < f.wire.size(); ++i) EXPECT_EQ(f.wire[i][0], i % 3 == 0 ? 0x4f : 0x45) << i;
    ASSERT_EQ(f.probes.size(), 4u);
    EXPECT_EQ(f.probes[0].size(), 84u);
}

TEST_F(ShapingCapture, BadMtuRefusedInOneLine) {
    for (const auto& mtu : {"12", "0", "-16"}) {
        const auto r = run_process({bin_, "--offline", "-n", "-p", "22", "--mtu", mtu, "10.77.73.2"}, std::chrono::seconds(30));
        EXPECT_EQ(r.exit_code, 1) << r.describe();
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

}  // namespace
}  // namespace flagscan

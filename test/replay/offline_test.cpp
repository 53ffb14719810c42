// The flagscan binary with --offline (no root, nothing sent): the probes it writes to -w, read
// back from the pcap, and the reserved-range rule on a real command line.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../support/process.hpp"
#include "../support/scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
using flagscan::testsupport::ProcessResult;
using flagscan::testsupport::run_process;

std::string flagscan_bin() {
    const char* bin = std::getenv("FLAGSCAN_BIN");
    return bin != nullptr ? bin : "";
}

struct Syn {
    std::uint32_t dst;
    std::uint16_t dport;
    std::uint8_t flags;
};

std::uint32_t be32(const unsigned char* p) { return (std::uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }
std::uint16_t be16(const unsigned char* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

// The TCP probes of a pcap of link type RAW (101) written in this machine's byte order, as
// PcapWriter writes it. Fails the test on anything else.
std::vector<Syn> read_probes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    std::vector<Syn> probes;
    std::uint32_t magic = 0, link = 0;
    if (bytes.size() < 24) return ADD_FAILURE() << "short pcap", probes;
    std::memcpy(&magic, p, 4);
    std::memcpy(&link, p + 20, 4);
    EXPECT_EQ(magic, 0xa1b2c3d4u);
    EXPECT_EQ(link, 101u);
    for (std::size_t at = 24; at + 16 <= bytes.size();) {
        std::uint32_t kept = 0;
        std::memcpy(&kept, p + at + 8, 4);
        const unsigned char* ip = p + at + 16;
        if (at + 16 + kept > bytes.size() || kept < 40 || ip[9] != 6) return ADD_FAILURE() << "bad record at " << at, probes;
        const unsigned char* tcp = ip + 4 * (ip[0] & 0x0f);
        probes.push_back(Syn{be32(ip + 16), be16(tcp + 2), tcp[13]});
        at += 16 + kept;
    }
    return probes;
}

class OfflineBinary : public ::testing::Test {
protected:
    void SetUp() override {
        if (flagscan_bin().empty()) GTEST_SKIP() << "FLAGSCAN_BIN is not set";
        ASSERT_FALSE(dir_.empty()) << "no temporary directory";
    }
    flagscan::testsupport::ScratchDir scratch_{"flagscan-offline"};
    const fs::path& dir_{scratch_.path()};
};

TEST_F(OfflineBinary, WritesEveryProbeOnceToThePcap) {
    const std::string pcap = (dir_ / "out.pcap").string();
    const ProcessResult r = run_process({flagscan_bin(), "--offline", "-n", "-w", pcap, "-p", "80,443", "--seed", "3", "10.9.0.0/28"},
                                        std::chrono::seconds(30));
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("offline: 32 probes crafted in "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("none sent; written to " + pcap), std::string::npos) << r.out;
    const std::vector<Syn> probes = read_probes(pcap);
    ASSERT_EQ(probes.size(), 32u);
    std::set<std::pair<std::uint32_t, std::uint16_t>> seen;
    for (const Syn& syn : probes) {
        EXPECT_EQ(syn.flags, 0x02);  // SYN alone
        EXPECT_EQ(syn.dst >> 4, 0x0a090000u >> 4) << std::hex << syn.dst;
        EXPECT_TRUE(syn.dport == 80 || syn.dport == 443) << syn.dport;
        seen.emplace(syn.dst, syn.dport);
    }
    EXPECT_EQ(seen.size(), 32u);
    // The same seed walks the same order.
    const std::string again = (dir_ / "again.pcap").string();
    ASSERT_EQ(run_process({flagscan_bin(), "--dryrun", "-n", "-w", again, "-p", "80,443", "--seed", "3", "10.9.0.0/28"},
                          std::chrono::seconds(30)).exit_code, 0);
    const std::vector<Syn> second = read_probes(again);
    ASSERT_EQ(second.size(), probes.size());
    for (std::size_t i = 0; i < probes.size(); ++i) EXPECT_EQ(std::pair(second[i].dst, second[i].dport), std::pair(probes[i].dst, probes[i].dport));
}

// 192.0.0.0/16 holds two RFC 6890 blocks (192.0.0.0/24, 192.0.2.0/24): a range wider than them
// leaves them out, said in one line; naming one scans it.
TEST_F(OfflineBinary, LeavesReservedBlocksOutOfAWiderRange) {
    ProcessResult r = run_process({flagscan_bin(), "--offline", "-n", "-p", "1", "-oJ", "-", "192.0.0.0/16"}, std::chrono::seconds(30));
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find(R"("probes":65024,"sent":0)"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("left out 512 reserved addresses (RFC 6890: 192.0.0.0/24, 192.0.2.0/24)"), std::string::npos) << r.err;
    r = run_process({flagscan_bin(), "--offline", "-n", "-p", "1", "-oJ", "-", "192.0.2.0/24"}, std::chrono::seconds(30));
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find(R"("probes":256,"sent":0)"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("left out"), std::string::npos) << r.err;
    r = run_process({flagscan_bin(), "--offline", "-n", "-p", "1", "-oJ", "-", "--include-reserved", "192.0.0.0/16"},
                    std::chrono::seconds(30));
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find(R"("probes":65536,"sent":0)"), std::string::npos) << r.out;
    r = run_process({flagscan_bin(), "--offline", "-n", "-p", "1", "224.0.0.1"}, std::chrono::seconds(30));
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(r.err.find("refusing to scan multicast or broadcast"), std::string::npos) << r.err;
}

// An --excludefile in masscan's format takes its ranges out of the probes.
TEST_F(OfflineBinary, ExcludefileInMasscanFormat) {
    const std::string list = (dir_ / "exclude.conf").string();
    std::ofstream(list) << "# hosts that complained\n10.9.0.0 - 10.9.0.127  # first half\n10.9.1.0/24\n";
    const ProcessResult r = run_process({flagscan_bin(), "--offline", "-n", "-p", "80", "-oJ", "-", "--excludefile", list, "10.9.0.0/23"},
                                        std::chrono::seconds(30));
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find(R"("probes":128,"sent":0)"), std::string::npos) << r.out;
}

}  // namespace

// nmap -O of the lab target, captured (pcap-fixtures/os-nmap-linux.pcap): flagscan's OS tests over
// nmap's own probes and replies give nmap's fingerprint (os-nmap-linux.fingerprint), test by test.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "../support/fixture_files.hpp"
#include "flagscan/capture/pcap_file.hpp"
#include "flagscan/os/os_capture.hpp"
#include "flagscan/os/os_tests.hpp"

namespace {

using namespace flagscan;
using flagscan::testsupport::fixtures_dir;
using flagscan::testsupport::lines_of;
using flagscan::testsupport::read_text;

const Ipv4 kTarget{(10u << 24) | (77u << 16) | (27u << 8) | 2u};

// nmap's tries, rebuilt from the capture by the library (os_capture), and the ports they probed.
OsCaptured rebuild_tries(const std::string& path) {
    OsCapture capture;
    auto file = PcapFile::open(path);
    if (!file) return ADD_FAILURE() << "cannot open " << path, OsCaptured{};
    while (auto frame = file->next()) {
        auto record = file->record();
        std::span<const std::uint8_t> bytes = record.empty() ? frame->span() : record;
        auto decoded = decode_frame(frame->link.value_or(file->link()), ByteView{bytes});
        if (!decoded || decoded->arp) continue;
        capture.add(*decoded, ByteView{bytes.subspan(decoded->link_header)}, ByteView{bytes}, frame->ts);
    }
    const auto found = capture.targets().find(kTarget.value());
    if (found == capture.targets().end()) return ADD_FAILURE() << "no OS probes to the target", OsCaptured{};
    return found->second;
}

std::string fixture(const std::string& name) { return (fixtures_dir() / name).string(); }

class OsReplay : public ::testing::Test {
protected:
    void SetUp() override { load("os-nmap-linux"); }
    void load(const std::string& name) {
        if (fixtures_dir().empty()) GTEST_SKIP() << "FLAGSCAN_FIXTURES is not set";
        auto text = read_text(fixture(name + ".fingerprint"));
        ASSERT_TRUE(text);
        for (const auto& line : lines_of(*text)) nmap_.push_back(line);
        tries_ = rebuild_tries(fixture(name + ".pcap"));
    }
    // The tests of every try, merged as nmap prints them; each deterministic test's lines.
    std::vector<std::string> merged_lines(const std::string& name) const {
        std::vector<Fingerprint> fps;
        for (const auto& round : tries_.rounds) fps.push_back(round_fingerprint(round));
        const Fingerprint merged = merge_fingerprints(FingerprintTest{"SCAN", {}}, fps);
        std::vector<std::string> out;
        for (const auto& t : merged.tests)
            if (t.name == name) out.push_back(t.str());
        return out;
    }
    // nmap's line of test NAME (its fingerprint holds one per name when every try agreed).
    std::vector<std::string> nmap_lines(const std::string& name) const {
        std::vector<std::string> out;
        for (const auto& l : nmap_)
            if (l.rfind(name + "(", 0) == 0) out.push_back(l);
        return out;
    }
    std::vector<std::string> nmap_;
    OsCaptured tries_;
};

TEST_F(OsReplay, FindsNmapsFiveTriesAndEveryProbe) {
    // nmap found no exact match, so it tried five times (osscan2.cc: o.maxOSTries()).
    ASSERT_EQ(tries_.rounds.size(), 5u);
    for (const auto& round : tries_.rounds) {
        for (const auto& probe : os_probes()) EXPECT_TRUE(round[probe.id].sent) << probe.name;
        // Linux drops T2 (no flags) and T3 (SYN FIN URG PSH) to an open port: nmap resent them.
        EXPECT_FALSE(round[OsProbeId::t2].reply);
        EXPECT_FALSE(round[OsProbeId::t3].reply);
    }
}

TEST_F(OsReplay, DeterministicTestsEqualNmaps) {
    for (const auto* name : {"OPS", "WIN", "ECN", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "U1", "IE"})
        EXPECT_EQ(merged_lines(name), nmap_lines(name)) << name;
}

// Linux answers nmap 7.93's tries alike: it reuses its source ports from try to try, and the
// target's ISN and timestamp offsets are keyed hashes of the 4-tuple, so even SP, ISR and TS
// repeat and nmap's fingerprint holds one SEQ line. The merged fingerprint is nmap's, whole.
TEST_F(OsReplay, WholeFingerprintEqualsNmapsForThisCapture) {
    std::vector<Fingerprint> fps;
    for (const auto& round : tries_.rounds) fps.push_back(round_fingerprint(round));
    const auto merged = merge_fingerprints(FingerprintTest{"SCAN", {}}, fps);
    std::vector<std::string> ours;
    for (std::size_t i = 1; i < merged.tests.size(); ++i) ours.push_back(merged.tests[i].str());
    EXPECT_EQ(ours, std::vector<std::string>(nmap_.begin() + 1, nmap_.end()));
}

// SEQ: TI, CI, II, SS present or not, exactly; SP, GCD, ISR and TS are per-run random on Linux
// (ISNs from a keyed hash, timestamps with a random offset per connection), so each try's value
// must fall in nmap's class: GCD 1 (a random ISN's differences share no factor), ISR and SP
// near 2^33/s, TS the log of a rate as random.
TEST_F(OsReplay, SeqTestsAgreeInClass) {
    const auto nmap_seq = nmap_lines("SEQ");
    ASSERT_EQ(nmap_seq.size(), 1u);
    std::vector<FingerprintTest> seqs;
    for (const auto& round : tries_.rounds) seqs.push_back(seq_test(round));
    for (const auto& seq : seqs) {
        ASSERT_TRUE(seq.find("SP") && seq.find("GCD") && seq.find("ISR") && seq.find("TS")) << seq.str();
        EXPECT_EQ(*seq.find("GCD"), "1");
        EXPECT_EQ(*seq.find("TI"), "Z");
        EXPECT_EQ(*seq.find("CI"), "Z");
        EXPECT_EQ(*seq.find("II"), "I");
        EXPECT_EQ(seq.find("SS"), nullptr);  // TI is Z: no shared-sequence test
        const auto sp = std::stoul(*seq.find("SP"), nullptr, 16);
        const auto isr = std::stoul(*seq.find("ISR"), nullptr, 16);
        const auto ts = std::stoul(*seq.find("TS"), nullptr, 16);
        EXPECT_GE(sp, 0xF0u);  // nmap's Linux entries: SP and ISR about 0x100-0x110
        EXPECT_LE(sp, 0x115u);
        EXPECT_GE(isr, 0x100u);
        EXPECT_LE(isr, 0x115u);
        EXPECT_GE(ts, 0x1Eu);  // a random 32-bit step per 100 ms: 2^30..2^35 Hz
        EXPECT_LE(ts, 0x23u);
    }
}

TEST_F(OsReplay, ScanLineFactsEqualNmaps) {
    const auto line = nmap_lines("SCAN");
    ASSERT_EQ(line.size(), 1u);
    ASSERT_TRUE(tries_.closed_udp);
    EXPECT_EQ(tries_.open_tcp, Port{22});
    EXPECT_EQ(tries_.closed_tcp, Port{1});
    OsScanFacts facts;
    facts.version = "7.93";
    facts.month = 12;
    facts.day = 3;
    facts.open_tcp = 22;
    facts.closed_tcp = 1;
    facts.closed_udp = tries_.closed_udp->value();
    facts.private_address = true;  // 10/8
    facts.distance = u1_distance(tries_.rounds.back());
    facts.distance_method = 'D';  // on the link: nmap knows the MAC
    facts.good = true;
    facts.mac_prefix = tries_.mac_prefix;
    facts.time = 0x6B10EEDF;  // nmap's clock when it wrote the fingerprint
    facts.platform = "x86_64-pc-linux-gnu";
    EXPECT_EQ(scan_test(facts).str(), line[0]);
}

TEST_F(OsReplay, SequenceAndIpIdTexts) {
    const auto seq = analyse_seq(tries_.rounds.back());
    EXPECT_EQ(std::string(ip_id_text(seq.tcp_ip_ids)), "All zeros");
    auto text = sequence_prediction_text(seq);
    ASSERT_TRUE(text);
    EXPECT_NE(text->find("(Good luck!)"), std::string::npos) << *text;
    // The timestamps' rate is random (offset per connection): nmap's claimed uptime is over two
    // years and ignored, so the guess is 0 s (nmap: "Uptime guess: 0.000 days").
    ASSERT_TRUE(seq.uptime);
    EXPECT_EQ(*seq.uptime, 0);
    EXPECT_LT(seq_timing_ratio(tries_.rounds.front()), 1.4);
}

// nmap -O with 30% of the target's packets dropped (record-os.sh ... 30): nmap resent what was
// lost, up to 4 sends a probe, and resent each unanswered SEQ packet for OPS/WIN from its base
// port + 6 + i. Every try's tests, merged, are nmap's lines.
class OsReplayLoss : public OsReplay {
protected:
    void SetUp() override { load("os-nmap-linux-loss"); }
};

TEST_F(OsReplayLoss, DeterministicTestsEqualNmaps) {
    for (const auto* name : {"OPS", "WIN", "ECN", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "U1", "IE"})
        EXPECT_EQ(merged_lines(name), nmap_lines(name)) << name;
}

// A try whose SEQ probe went unanswered still has OPS and WIN, from the resend's reply, equal
// to nmap's lines; its SEQ test counts only the SEQ replies.
TEST_F(OsReplayLoss, OpsAndWinComeFromTheResendsOfLostSeqProbes) {
    int rounds_with_resends = 0;
    for (const auto& round : tries_.rounds) {
        bool resent = false;
        for (std::size_t i = 0; i < kOsSeqProbes; ++i) resent = resent || (!round.probes[i].reply && round.ops_resend_replies[i]);
        if (!resent) continue;
        ++rounds_with_resends;
        const auto ops = ops_test(round);
        const auto win = win_test(round);
        ASSERT_TRUE(ops && win);
        EXPECT_EQ(std::vector<std::string>{ops->str()}, nmap_lines("OPS"));
        EXPECT_EQ(std::vector<std::string>{win->str()}, nmap_lines("WIN"));
        EXPECT_LT(analyse_seq(round).responses, 6);
    }
    EXPECT_GT(rounds_with_resends, 0) << "the capture shows no OPS/WIN resend answered";
}

}  // namespace

// nmap -O of the lab target, captured (pcap-fixtures/os-nmap-linux.pcap): flagscan's OS tests over
// nmap's own probes and replies give nmap's fingerprint (os-nmap-linux.fingerprint), test by test.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "../support/fixture_files.hpp"
#include "flagscan/capture/pcap_file.hpp"
#include "flagscan/os/os_tests.hpp"

namespace {

using namespace flagscan;
using flagscan::testsupport::fixtures_dir;
using flagscan::testsupport::lines_of;
using flagscan::testsupport::read_text;

const Ipv4 kTarget{(10u << 24) | (77u << 16) | (27u << 8) | 2u};

struct Packet {
    Micros at;
    DecodedPacket decoded;
    std::vector<std::uint8_t> ip;  // from the IP header on
    std::vector<std::uint8_t> frame;
};

std::vector<Packet> read_capture(const std::string& path) {
    std::vector<Packet> out;
    auto file = PcapFile::open(path);
    if (!file) return ADD_FAILURE() << "cannot open " << path, out;
    while (auto frame = file->next()) {
        auto record = file->record();
        std::span<const std::uint8_t> bytes = record.empty() ? frame->span() : record;
        auto decoded = decode_frame(frame->link.value_or(file->link()), ByteView{bytes});
        if (!decoded || decoded->arp) continue;
        out.push_back({frame->ts, *decoded, {bytes.begin() + decoded->link_header, bytes.end()}, {bytes.begin(), bytes.end()}});
    }
    return out;
}

// nmap's tries, rebuilt from the capture: a try starts at each SEQ1 probe; every OS probe is
// recognised by its signature (os_probes), each reply goes to the probe it answers (TCP: our
// source port; echo: its id; port unreachable: the quoted ports), first reply only.
struct Tries {
    std::vector<OsRound> rounds;
    std::map<OsProbeId, Port> source_ports;  // of the last round
    std::map<OsProbeId, std::uint16_t> echo_ids;
    std::optional<std::uint16_t> closed_udp;
    std::optional<std::array<std::uint8_t, 3>> mac_prefix;
};

void record_probe(Tries& t, const Packet& p, OsProbeId id) {
    if (id == OsProbeId::seq1) {
        t.rounds.emplace_back();
        t.source_ports.clear();
        t.echo_ids.clear();
    }
    if (t.rounds.empty()) return;
    auto& round = t.rounds.back();
    auto& e = round[id];
    if (e.sent) {  // a resend
        if (!e.reply) e.sent->retransmitted = true;
        return;
    }
    OsSent sent;
    sent.at = p.at;
    sent.ttl = p.decoded.ip.ttl;
    sent.ip_id = p.decoded.ip.id;
    if (p.decoded.tcp) {
        sent.seq = p.decoded.tcp->seq;
        sent.ack = p.decoded.tcp->ack;
        t.source_ports[id] = p.decoded.tcp->sport;
        (os_probe(id).target == OsTarget::open_tcp ? round.open_tcp_known : round.closed_tcp_known) = true;
    }
    if (p.decoded.udp) {
        sent.udp_checksum = p.decoded.udp->checksum;
        t.source_ports[id] = p.decoded.udp->sport;
        t.closed_udp = p.decoded.udp->dport.value();
    }
    if (p.decoded.icmp) t.echo_ids[id] = p.decoded.icmp->id;
    if (p.frame.size() >= 3) t.mac_prefix = std::array<std::uint8_t, 3>{p.frame[0], p.frame[1], p.frame[2]};
    e.sent = sent;
}

std::optional<OsProbeId> answered_probe(const Tries& t, const DecodedPacket& d) {
    auto by_port = [&](Port ours) -> std::optional<OsProbeId> {
        for (auto [id, port] : t.source_ports)
            if (port == ours) return id;
        return std::nullopt;
    };
    if (d.tcp) return by_port(d.tcp->dport);
    if (d.icmp && d.icmp->type == icmp_type::echo_reply) {
        for (auto [id, echo] : t.echo_ids)
            if (echo == d.icmp->id) return id;
    }
    if (d.icmp && d.icmp->quoted && d.icmp->quoted->ip.protocol == ipproto::udp) return by_port(d.icmp->quoted->sport);
    return std::nullopt;
}

Tries rebuild_tries(const std::vector<Packet>& packets) {
    Tries t;
    for (const auto& p : packets) {
        if (p.decoded.ip.dst == kTarget) {
            if (auto id = identify_os_probe(p.decoded, ByteView{p.ip})) record_probe(t, p, *id);
            continue;
        }
        if (t.rounds.empty()) continue;
        auto id = answered_probe(t, p.decoded);
        if (!id) continue;
        auto& e = t.rounds.back()[*id];
        if (e.sent && !e.reply) e.reply = OsReply{p.at, p.decoded, p.ip};
    }
    return t;
}

std::string fixture(const std::string& name) { return (fixtures_dir() / name).string(); }

class OsReplay : public ::testing::Test {
protected:
    void SetUp() override {
        if (fixtures_dir().empty()) GTEST_SKIP() << "FLAGSCAN_FIXTURES is not set";
        auto text = read_text(fixture("os-nmap-linux.fingerprint"));
        ASSERT_TRUE(text);
        for (const auto& line : lines_of(*text)) nmap_.push_back(line);
        tries_ = rebuild_tries(read_capture(fixture("os-nmap-linux.pcap")));
    }
    // nmap's line of test NAME (its fingerprint holds one per name when every try agreed).
    std::vector<std::string> nmap_lines(const std::string& name) const {
        std::vector<std::string> out;
        for (const auto& l : nmap_)
            if (l.rfind(name + "(", 0) == 0) out.push_back(l);
        return out;
    }
    std::vector<std::string> nmap_;
    Tries tries_;
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
    std::vector<Fingerprint> fps;
    for (const auto& round : tries_.rounds) fps.push_back(round_fingerprint(round));
    const auto scan = FingerprintTest{"SCAN", {}};
    const Fingerprint merged = merge_fingerprints(scan, fps);
    for (const auto* name : {"OPS", "WIN", "ECN", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "U1", "IE"}) {
        std::vector<std::string> ours;
        for (const auto& t : merged.tests)
            if (t.name == name) ours.push_back(t.str());
        EXPECT_EQ(ours, nmap_lines(name)) << name;
    }
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
    OsScanFacts facts;
    facts.version = "7.93";
    facts.month = 12;
    facts.day = 3;
    facts.open_tcp = 22;
    facts.closed_tcp = 1;
    facts.closed_udp = tries_.closed_udp;
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

}  // namespace

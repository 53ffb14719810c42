// Live probe shaping over IPv6 against the lab's fd77:ID::2: decoys keep the layout (every copy on
// the veth and in --packet-trace, as nmap -6 -D); fragments as Linux takes them: it reassembles
// fragments of any size once the first holds the whole TCP header, but its nftables reject is silent.
#include "live_support.hpp"

namespace flagscan::live {
namespace {

class Shaping6 : public LabTest {
protected:
    static std::string target() { return lab_address6("2"); }

    static std::vector<int> tcp_ports() {
        std::set<int> ports{7, 9, 23, 1000, 40000};
        for (const auto* role : {&layout().open_tcp, &layout().rejected_tcp, &layout().dropped_tcp})
            ports.insert(role->begin(), role->end());
        return {ports.begin(), ports.end()};
    }

    // `flagscan -6 -sS PORTS -Pn -n --all-ports SHAPING TARGET`: exit 0, readable lines, and
    // every port's state and reason the layout's. FRAGMENTED: the lab (no connection tracking)
    // reassembles IPv6 after nftables' input hook, which sees the first fragment alone: the
    // drop rules drop it, and the reject rules, whose ICMPv6 error would quote a TCP segment
    // with a checksum that fails over the piece, stay silent (Linux's nf_reject checks it):
    // rejected ports are filtered with no-response, as dropped ones.
    static Scan expect_layout(const std::vector<std::string>& shaping, bool fragmented = false) {
        Scan result;
        const std::string why = lab_targets6_error({target()});
        if (!why.empty()) return ADD_FAILURE() << why, result;
        std::vector<std::string> args{"-6", "-sS", "-p", port_argument(tcp_ports()), "-Pn", "-n", "--all-ports"};
        args.insert(args.end(), shaping.begin(), shaping.end());
        result = scan(args, target());
        EXPECT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
        EXPECT_TRUE(result.output.errors.empty()) << "unreadable output lines, first: " << result.output.errors.front();
        VerdictMap want;
        for (const int port : tcp_ports()) want[{target(), port}] = expected_syn_verdict(layout(), port, false);
        for (const int port : layout().rejected_tcp)
            if (fragmented) want[{target(), port}] = Verdict{"filtered", "no-response"};
        std::vector<PortKey> duplicates;
        const std::string differences = describe_differences(want, verdicts_of(result.output, duplicates));
        EXPECT_TRUE(duplicates.empty());
        EXPECT_TRUE(differences.empty()) << "-6 " << shaping.front() << " differs from layout.conf:\n" << differences;
        return result;
    }
};

// Our probes' IPv6 fragments: a Fragment header right after the fixed header (RFC 8200 4.5).
std::string our_fragments() { return "ip6 src host " + lab_address6("1") + " and ip6[6] == 44"; }

// -D a,ME,b over IPv6: a and b unassigned addresses of the lab's /64 (the target's answers to
// them wait for a neighbour that never answers; never RND live). The layout's states, as many
// SYNs from each decoy as from us on the veth and nothing to them, every copy in the trace.
TEST_F(Shaping6, DecoysKeepTheLayout) {
    if (!in_path("tcpdump")) GTEST_SKIP() << "tcpdump is not installed";
    const std::string a = lab_address6("1:200"), b = lab_address6("1:201"), me = lab_address6("1");
    VethCapture capture;
    ASSERT_TRUE(capture.error.empty()) << capture.error;
    const auto result = expect_layout({"-D", a + ",ME," + b, "--packet-trace"});
    capture.stop();
    const auto syns_from = [&](const std::string& source) {
        return pcap_matching(capture.pcap, "ip6 src host " + source + " and ip6 dst host " + target() +
                                          " and ip6[6] == 6 and ip6[53] & 0x12 == 0x02");
    };
    const int ours = syns_from(me);
    EXPECT_GE(ours, static_cast<int>(tcp_ports().size()));
    EXPECT_EQ(syns_from(a), ours);
    EXPECT_EQ(syns_from(b), ours);
    EXPECT_EQ(pcap_matching(capture.pcap, "ip6 dst host " + a + " or ip6 dst host " + b), 0) << "an answer to a decoy reached the veth";
    const std::string& trace = result.process.out;
    std::size_t traced = 0;
    for (auto at = trace.find("SENT  [" + a + "]:"); at != std::string::npos; at = trace.find("SENT  [" + a + "]:", at + 1)) ++traced;
    EXPECT_EQ(traced, static_cast<std::size_t>(ours)) << trace.substr(0, 2000);
}

// nmap -6 -D with the same decoys on the same ports: port for port the same states and reasons
// (nmap 7.93 decoys IPv6 scans; it refuses -6 -f, so fragments have nothing to compare with).
TEST_F(Shaping6, DecoysAgreeWithNmap) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    const std::string decoys = lab_address6("1:200") + ",ME," + lab_address6("1:201");
    const auto ours = expect_layout({"-D", decoys, "--reason"});
    const TempDir dir;
    const std::string xml = dir.path() + "/nmap.xml";
    const auto nmap = testsupport::run_process({"nmap", "-6", "-n", "-sS", "-Pn", "--reason", "-T4", "-D", decoys, "-p",
                                                port_argument(tcp_ports()), "-oX", xml, target()},
                                               std::chrono::seconds(180));
    ASSERT_TRUE(nmap.exited() && nmap.exit_code == 0) << nmap.describe();
    std::string error;
    const auto theirs = read_nmap_xml(xml, tcp_ports(), error);
    ASSERT_TRUE(theirs) << error;
    std::vector<PortKey> duplicates;
    const std::string differences = describe_differences(*theirs, verdicts_of(ours.output, duplicates));
    EXPECT_TRUE(differences.empty()) << "flagscan -6 -D differs from nmap -6 -D (expected: nmap's):\n" << differences;
}

// -f, -ff, --mtu 24 with 20 data bytes: the first fragment holds the 24-byte TCP header, the rest
// follows in 8-, 16- or 20-byte pieces (non-last fragments of 72 or 80 bytes, far below 1280):
// the lab's Linux reassembles them and answers as to a whole SYN (its reject rules excepted,
// see expect_layout). A plain SYN with -f has nothing after its header: it goes whole (the
// layout, rejects included), and flagscan says why.
TEST_F(Shaping6, SmallFragmentsWithTheWholeHeaderFirstMatchLayout) {
    if (!in_path("tcpdump")) GTEST_SKIP() << "tcpdump is not installed";
    for (const auto& [option, pieces] : std::vector<std::pair<std::vector<std::string>, int>>{
             {{"-f"}, 4}, {{"-ff"}, 3}, {{"--mtu", "24"}, 2}}) {
        SCOPED_TRACE(option.front());
        VethCapture capture;
        ASSERT_TRUE(capture.error.empty()) << capture.error;
        std::vector<std::string> shaping = option;
        shaping.insert(shaping.end(), {"--data-length", "20"});
        expect_layout(shaping, true);
        capture.stop();
        EXPECT_GE(pcap_matching(capture.pcap, our_fragments()), pieces * static_cast<int>(tcp_ports().size()));
    }
    VethCapture capture;
    ASSERT_TRUE(capture.error.empty()) << capture.error;
    const auto plain = expect_layout({"-f"});
    capture.stop();
    EXPECT_EQ(pcap_matching(capture.pcap, our_fragments()), 0);
    EXPECT_NE(plain.process.err.find("RFC 8200 4.5"), std::string::npos) << plain.process.err;
}

// --mtu 1232 with 1400 data bytes: a first fragment of 1280 bytes (RFC 8200 5's minimum link
// MTU), then the rest: reassembled, the layout's states (rejects silent, as above).
TEST_F(Shaping6, MinimumMtuFragmentsMatchLayout) {
    if (!in_path("tcpdump")) GTEST_SKIP() << "tcpdump is not installed";
    VethCapture capture;
    ASSERT_TRUE(capture.error.empty()) << capture.error;
    expect_layout({"--mtu", "1232", "--data-length", "1400"}, true);
    capture.stop();
    EXPECT_GE(pcap_matching(capture.pcap, our_fragments() + " and ip6[4:2] == 1240"), static_cast<int>(tcp_ports().size()));
}

}  // namespace
}  // namespace flagscan::live

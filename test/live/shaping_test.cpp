// Live probe shaping against the namespace lab: -f, -ff, --mtu 16 and --data-length keep every
// port's state and reason as layout.conf says (the fragments seen on the veth by tcpdump);
// --badsum leaves no port open: nothing answers at all.
#include "live_support.hpp"

namespace flagscan::live {
namespace {

constexpr int kNamespaceHost = 2;  // 10.77.ID.2, the namespace side of the veth

// Every port the layout gives a role (TCP or UDP), and closed ones beside them.
std::set<int> layout_ports(const std::set<int>& open, const std::set<int>& rejected, const std::set<int>& dropped) {
    std::set<int> ports{7, 9, 1000, 1001, 1002, 1005, 1009, 1010, 40000};
    for (const auto* role : {&open, &rejected, &dropped}) ports.insert(role->begin(), role->end());
    return ports;
}

class Shaping : public LabTest {
protected:
    static std::set<int> tcp_ports() { return layout_ports(layout().open_tcp, layout().rejected_tcp, layout().dropped_tcp); }
    static std::set<int> udp_ports() { return layout_ports(layout().open_udp, layout().rejected_udp, layout().dropped_udp); }
    static std::string target() { return lab_address(kNamespaceHost); }

    static VerdictMap expected(const std::set<int>& ports, bool udp) {
        VerdictMap want;
        for (const int port : ports)
            want[{target(), port}] = udp ? expected_udp_verdict(layout(), port, false) : expected_syn_verdict(layout(), port, false);
        return want;
    }

    // `flagscan KIND PORTS -Pn -n --all-ports SHAPING TARGET`: exit 0, readable lines.
    static Scan shaped(const std::string& kind, const std::set<int>& ports, const std::vector<std::string>& shaping) {
        std::vector<std::string> args{kind, "-p", port_argument({ports.begin(), ports.end()}), "-Pn", "-n", "--all-ports"};
        args.insert(args.end(), shaping.begin(), shaping.end());
        Scan result = scan(args, target());
        EXPECT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
        EXPECT_TRUE(result.output.errors.empty()) << "unreadable output lines, first: " << result.output.errors.front();
        return result;
    }

    static void expect_layout(const Scan& result, const VerdictMap& want) {
        std::vector<PortKey> duplicates;
        const std::string differences = describe_differences(want, verdicts_of(result.output, duplicates));
        EXPECT_TRUE(duplicates.empty());
        EXPECT_TRUE(differences.empty()) << "scan differs from layout.conf:\n" << differences;
    }
};

// How many of a capture's packets are IP fragments (MF set or a non-zero offset).
int fragments_in(const std::string& pcap) { return pcap_matching(pcap, "ip[6:2] & 0x3fff != 0"); }

// -f, -ff, --mtu 16: each SYN in pieces on the veth (the host did not put them back together on
// the way out), and every state and reason as unfragmented.
TEST_F(Shaping, SynInFragmentsMatchesLayout) {
    if (!in_path("tcpdump")) GTEST_SKIP() << "tcpdump is not installed";
    for (const auto& option : std::vector<std::vector<std::string>>{{"-f"}, {"-ff"}, {"--mtu", "16"}}) {
        SCOPED_TRACE(option.front());
        VethCapture capture;
        ASSERT_TRUE(capture.error.empty()) << capture.error;
        const std::string& pcap = capture.pcap;
        const auto result = shaped("-sS", tcp_ports(), option);
        capture.stop();
        expect_layout(result, expected(tcp_ports(), false));
        EXPECT_GE(fragments_in(pcap), 2 * static_cast<int>(tcp_ports().size())) << "no fragments on the wire";
    }
}

// -D: every SYN also from two unassigned lab addresses, .200 before ours and .201 after (the
// namespace has no route to them, so the target's answers to them go nowhere; never an address
// outside the lab, never RND live). The states are the layout's, the veth carries as many SYNs
// from each decoy as from us and nothing to them, and --packet-trace shows every copy.
TEST_F(Shaping, DecoysKeepTheLayout) {
    if (!in_path("tcpdump")) GTEST_SKIP() << "tcpdump is not installed";
    const std::string a = lab_address(200), b = lab_address(201), me = lab_address(1);
    VethCapture capture;
    ASSERT_TRUE(capture.error.empty()) << capture.error;
    const std::string& pcap = capture.pcap;
    const auto result = shaped("-sS", tcp_ports(), {"-D", a + ",ME," + b, "--packet-trace"});
    capture.stop();
    expect_layout(result, expected(tcp_ports(), false));
    const auto syns_from = [&](const std::string& source) {
        return pcap_matching(pcap, "src host " + source + " and dst host " + target() + " and tcp[tcpflags] == tcp-syn");
    };
    const int ours = syns_from(me);
    EXPECT_GE(ours, static_cast<int>(tcp_ports().size()));
    EXPECT_EQ(syns_from(a), ours);
    EXPECT_EQ(syns_from(b), ours);
    EXPECT_EQ(pcap_matching(pcap, "dst host " + a + " or dst host " + b), 0) << "an answer to a decoy reached the veth";
    const std::string& trace = result.process.out;
    std::size_t traced = 0;
    for (auto at = trace.find("SENT  " + a + ":"); at != std::string::npos; at = trace.find("SENT  " + a + ":", at + 1)) ++traced;
    EXPECT_EQ(traced, static_cast<std::size_t>(ours)) << trace.substr(0, 2000);
}

// --ip-options: record route, timestamps or router alert in every SYN (its header length on the
// veth, counted by tcpdump), and the target's stack answers as without them: the layout's states,
// except that with R or T the nftables reject stays silent (filtered, no-response), which is what
// nmap -sS --ip-options R sees of lab 72 too; with the 4-byte router alert it answers.
TEST_F(Shaping, IpOptionsKeepTheLayout) {
    if (!in_path("tcpdump")) GTEST_SKIP() << "tcpdump is not installed";
    for (const std::string options : {"R", "T", "\\x94\\x04\\x00\\x00"}) {
        SCOPED_TRACE(options);
        VethCapture capture;
        ASSERT_TRUE(capture.error.empty()) << capture.error;
        const std::string& pcap = capture.pcap;
        const auto result = shaped("-sS", tcp_ports(), {"--ip-options", options});
        capture.stop();
        VerdictMap want = expected(tcp_ports(), false);
        for (const int port : layout().rejected_tcp)
            if (options.size() == 1) want[{target(), port}] = Verdict{"filtered", "no-response"};
        expect_layout(result, want);
        const int words = options.size() == 1 ? 15 : 6;
        const int with = pcap_matching(pcap, "src host " + lab_address(1) + " and ip[0] & 0xf == " + std::to_string(words) +
                                            " and tcp[tcpflags] == tcp-syn");
        EXPECT_GE(with, static_cast<int>(tcp_ports().size()));
        EXPECT_EQ(pcap_matching(pcap, "src host " + lab_address(1) + " and ip[0] & 0xf == 5 and tcp[tcpflags] == tcp-syn"), 0);
    }
}

// UDP's cookie is in the IP id, which every fragment keeps and the ICMP error quotes.
TEST_F(Shaping, UdpInFragmentsMatchesLayout) {
    expect_layout(shaped("-sU", udp_ports(), {"-f"}), expected(udp_ports(), true));
}

TEST_F(Shaping, DataLengthKeepsStates) {
    expect_layout(shaped("-sS", tcp_ports(), {"--data-length", "40"}), expected(tcp_ports(), false));
    expect_layout(shaped("-sU", udp_ports(), {"--data-length", "8"}), expected(udp_ports(), true));
}

// RFC 1122 4.2.2.7 / 4.1.3.4: the target's stack drops every probe unread. Nothing answers at
// all, not even the nftables reject rules: Linux's reject checks the checksum of the packet it
// would quote (nf_send_unreach) and stays silent. TCP ports: filtered, UDP: open|filtered.
TEST_F(Shaping, BadsumLeavesNoPortOpen) {
    for (const bool udp : {false, true}) {
        SCOPED_TRACE(udp ? "-sU" : "-sS");
        const auto ports = udp ? udp_ports() : tcp_ports();
        const auto result = shaped(udp ? "-sU" : "-sS", ports, {"--badsum", "--max-retries", "1"});
        VerdictMap want;
        for (const int port : ports) want[{target(), port}] = Verdict{udp ? "open|filtered" : "filtered", "no-response"};
        expect_layout(result, want);
    }
}

}  // namespace
}  // namespace flagscan::live

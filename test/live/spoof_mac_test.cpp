// Live --spoof-mac against the namespace lab: -sS of the layout ports keeps every state over IPv4
// and IPv6, and tcpdump inside the namespace sees every SYN (and the ARP / NDP before them) come
// from the spoofed MAC, none from the real one; routed targets' gateway is resolved from the
// spoofed MAC when the kernel has no entry; an ARP ping of the attached /27 still finds its
// hosts; loopback is refused in one line.
#include <memory>

#include "live_support.hpp"

namespace flagscan::live {
namespace {

constexpr const char* kSpoofed = "02:66:73:00:00:01";  // locally administered, unicast

std::string lab_namespace() { return "fslab" + std::to_string(lab_id()); }
std::string namespace_interface() { return "fsn" + std::to_string(lab_id()); }

// How many packets of a capture tcpdump's FILTER matches.
int matching(const std::string& pcap, const std::string& filter) {
    const auto r = testsupport::run_process({"tcpdump", "-n", "-r", pcap, filter}, std::chrono::seconds(30));
    return static_cast<int>(std::count(r.out.begin(), r.out.end(), '\n'));
}

// tcpdump on the namespace's side of the veth: what arrived, as the target's NIC got it.
struct NamespaceCapture {
    TempDir dir;
    std::string pcap = dir.path() + "/arrived.pcap";
    std::unique_ptr<Tcpdump> tcpdump;
    explicit NamespaceCapture(const std::string& filter)
        : tcpdump(std::make_unique<Tcpdump>(namespace_interface(), pcap, dir.path() + "/tcpdump.log", lab_namespace(), filter)) {}
    void stop() { tcpdump->stop(); }
};

class SpoofMac : public LabTest {
protected:
    void TearDown() override {  // the namespace learned the spoofed MAC for our address from our ARP / NDP: forget it
        run_process({"ip", "netns", "exec", lab_namespace(), "ip", "neigh", "flush", "dev", namespace_interface()},
                    std::chrono::seconds(10));
    }

    static std::vector<int> tcp_ports() {
        std::set<int> ports{7, 9, 1000, 1001, 40000};
        for (const auto* role : {&layout().open_tcp, &layout().rejected_tcp, &layout().dropped_tcp})
            ports.insert(role->begin(), role->end());
        return {ports.begin(), ports.end()};
    }

    static std::string real_mac() {
        std::string error;
        std::string mac = read_file("/sys/class/net/" + lab_host_interface(error) + "/address");
        while (!mac.empty() && mac.back() == '\n') mac.pop_back();
        return mac;
    }

    // `flagscan -sS -Pn -n --all-ports -p PORTS --spoof-mac kSpoofed EXTRA TARGET`: the layout's
    // verdicts, and the stderr line nmap prints.
    static void expect_layout(const std::string& target, const std::vector<std::string>& extra) {
        std::vector<std::string> args{"-sS", "-Pn", "-n", "--all-ports", "-p", port_argument(tcp_ports()), "--spoof-mac", kSpoofed};
        args.insert(args.end(), extra.begin(), extra.end());
        const Scan result = scan(args, target);
        ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
        EXPECT_NE(result.process.err.find("Spoofing MAC address 02:66:73:00:00:01 (No registered vendor)"), std::string::npos)
            << result.process.err;
        VerdictMap want;
        for (const int port : tcp_ports()) want[{target, port}] = expected_syn_verdict(layout(), port, false);
        std::vector<PortKey> duplicates;
        const std::string differences = describe_differences(want, verdicts_of(result.output, "tcp", duplicates));
        EXPECT_TRUE(differences.empty() && duplicates.empty()) << "--spoof-mac differs from layout.conf:\n" << differences;
    }
};

TEST_F(SpoofMac, SynScanKeepsTheLayoutAndArrivesFromTheSpoofedMac) {
    if (!in_path("tcpdump")) GTEST_SKIP() << "tcpdump is not installed";
    const std::string target = lab_address(2);
    NamespaceCapture arrived{"net 10.77." + std::to_string(lab_id()) + ".0/24"};
    ASSERT_TRUE(arrived.tcpdump->error().empty()) << arrived.tcpdump->error();
    expect_layout(target, {});
    arrived.stop();
    const std::string syns = " and dst host " + target + " and tcp[tcpflags] == tcp-syn";
    EXPECT_GE(matching(arrived.pcap, "ether src " + std::string(kSpoofed) + syns), static_cast<int>(tcp_ports().size()));
    EXPECT_EQ(matching(arrived.pcap, "ether src " + real_mac() + syns), 0) << "a SYN came from the real MAC";
    EXPECT_GE(matching(arrived.pcap, "arp and ether src " + std::string(kSpoofed)), 1) << "-Pn's ARP not from the spoofed MAC";
}

TEST_F(SpoofMac, Ipv6SynScanKeepsTheLayoutAndArrivesFromTheSpoofedMac) {
    if (!in_path("tcpdump")) GTEST_SKIP() << "tcpdump is not installed";
    const std::string target = lab_address6("2");
    const std::string why = lab_targets6_error({target});
    ASSERT_TRUE(why.empty()) << why;
    NamespaceCapture arrived{"ip6"};
    ASSERT_TRUE(arrived.tcpdump->error().empty()) << arrived.tcpdump->error();
    expect_layout(target, {"-6"});
    arrived.stop();
    // RFC 8200: TCP right after the fixed header (next header 6), flags at byte 40 + 13; SYN alone.
    const std::string syns = " and ip6 dst host " + target + " and ip6[6] == 6 and ip6[53] == 2";
    EXPECT_GE(matching(arrived.pcap, "ether src " + std::string(kSpoofed) + syns), static_cast<int>(tcp_ports().size()));
    EXPECT_EQ(matching(arrived.pcap, "ether src " + real_mac() + syns), 0) << "a SYN came from the real MAC";
}

// Targets behind the namespace (the routed /28 and /120): with the host's neighbour table
// flushed, the gateway's MAC comes from our own ARP request / Neighbor Solicitation from the
// spoofed MAC, answered through the capture, before the first probe; the states are the layout's.
TEST_F(SpoofMac, RoutedTargetsResolveTheGatewayThemselves) {
    std::string error;
    const std::string host_if = lab_host_interface(error);
    ASSERT_TRUE(error.empty()) << error;
    for (const std::string& target : {lab_address(17), lab_address6("101")}) {
        SCOPED_TRACE(target);
        const bool v6 = target.find(':') != std::string::npos;
        // The namespace knows us for good, so that it asks nothing of the host (an ARP request or
        // solicitation would put the gateway back into the host's table, RFC 826, RFC 4861 7.2.3;
        // a merely reachable entry goes stale and is probed by unicast solicitation, RFC 4861 7.3.3).
        run_process({"ip", "netns", "exec", lab_namespace(), "ip", "neigh", "replace", v6 ? lab_address6("1") : lab_address(1),
                     "lladdr", real_mac(), "dev", namespace_interface(), "nud", "permanent"},
                    std::chrono::seconds(10));
        for (const char* family : {"-4", "-6"})
            run_process({"ip", family, "neigh", "flush", "dev", host_if}, std::chrono::seconds(10));
        if (v6) {
            const std::string why = lab_targets6_error({target});
            ASSERT_TRUE(why.empty()) << why;
        }
        const Scan result = scan({"-sS", "-Pn", "-n", "-v", "-p", "22,113,135,1000", "--spoof-mac", kSpoofed}, target);
        ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
        EXPECT_NE(result.process.err.find(", 1 ARP/NDP requests sent for one"), std::string::npos) << result.process.err;
        VerdictMap want;
        for (const int port : {22, 113, 135, 1000}) want[{target, port}] = expected_syn_verdict(layout(), port, false);
        std::vector<PortKey> duplicates;
        const std::string differences = describe_differences(want, verdicts_of(result.output, "tcp", duplicates));
        EXPECT_TRUE(differences.empty()) << differences;
    }
}

// -sn -PR of the attached /27: the namespace's answering addresses and ours, as without --spoof-mac.
TEST_F(SpoofMac, ArpPingStillFindsTheAttachedHosts) {
    std::set<std::string> expected{lab_address(33)};
    for (int offset : layout().lan_hosts)
        if (!layout().lan_silent.contains(offset)) expected.insert(lab_address(32 + offset));
    const auto result = scan({"-sn", "-n", "-PR", "--spoof-mac", "0", "--seed", "5"}, lab_address(32) + "/27");
    ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
    std::set<std::string> up;
    for (const auto& host : result.output.hosts)
        if (host.status == "up") up.insert(host.ip);
    EXPECT_EQ(up, expected);
}

TEST_F(SpoofMac, LoopbackIsRefusedInOneLine) {
    const auto r = run_process({flagscan_bin(), "-sS", "-n", "-p", "80", "--spoof-mac", "0", "-e", "lo", "127.0.0.1"},
                               std::chrono::seconds(30));
    EXPECT_TRUE(r.exited() && r.exit_code == 1) << r.describe();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("'lo'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace flagscan::live

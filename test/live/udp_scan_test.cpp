// Live UDP scans (-sU) of the namespace lab: every port's state and reason as layout.conf says,
// on the namespace host, on a dropped and a normal host of the /28, beside a SYN scan in the
// same run (-sS -sU), and under Linux's default ICMP rate limit.
#include "live_support.hpp"

#include <cstdlib>

namespace flagscan::live {
namespace {

constexpr int kNamespaceHost = 2;  // 10.77.ID.2, the namespace side of the veth
constexpr int kSubnetFirst = 16;   // 10.77.ID.16/28
constexpr int kSubnetSize = 16;

std::vector<int> range(int first, int last) {
    std::vector<int> ports;
    for (int port = first; port <= last; ++port) ports.push_back(port);
    return ports;
}

// "7,9,53,1000-1010": the port list as flagscan takes it.
std::string ports_argument(const std::set<int>& ports) { return port_argument({ports.begin(), ports.end()}); }

// Every port the layout gives a UDP role, and closed ones around and far from them.
std::set<int> udp_layout_ports(const Layout& layout) {
    std::set<int> ports{7, 9};
    for (const auto* role : {&layout.open_udp, &layout.rejected_udp, &layout.dropped_udp}) {
        ports.insert(role->begin(), role->end());
    }
    for (const int port : range(1000, 1010)) ports.insert(port);
    for (const int port : range(40000, 40010)) ports.insert(port);
    return ports;
}

// Every port the layout gives a TCP role, and closed ones beside them.
std::set<int> tcp_layout_ports(const Layout& layout) {
    std::set<int> ports{7, 9};
    for (const auto* role : {&layout.open_tcp, &layout.rejected_tcp, &layout.dropped_tcp}) {
        ports.insert(role->begin(), role->end());
    }
    for (const int port : range(1000, 1010)) ports.insert(port);
    return ports;
}

class UdpScan : public LabTest {
protected:
    static VerdictMap expected_udp(const std::string& ip, const std::set<int>& ports, bool dropped) {
        VerdictMap expected;
        for (const int port : ports) expected[{ip, port}] = expected_udp_verdict(layout(), port, dropped);
        return expected;
    }

    static VerdictMap expected_tcp(const std::string& ip, const std::set<int>& ports) {
        VerdictMap expected;
        for (const int port : ports) expected[{ip, port}] = expected_syn_verdict(layout(), port, false);
        return expected;
    }

    // The scan exited 0 and every output line was readable.
    static void expect_clean(const Scan& scan) {
        ASSERT_TRUE(scan.process.exited() && scan.process.exit_code == 0) << scan.process.describe();
        EXPECT_TRUE(scan.output.errors.empty())
            << "unreadable output lines, first: " << scan.output.errors.front();
    }

    // The scan's port lines of PROTO are exactly EXPECTED, one line per port.
    static void expect_proto(const Scan& scan, std::string_view proto, const VerdictMap& expected) {
        std::vector<PortKey> duplicates;
        const VerdictMap actual = verdicts_of(scan.output, proto, duplicates);
        EXPECT_TRUE(duplicates.empty()) << duplicates.size() << " " << proto << " ports reported twice, first "
                                        << duplicates.front().first << ":" << duplicates.front().second;
        const std::string differences = describe_differences(expected, actual);
        EXPECT_TRUE(differences.empty()) << proto << " lines differ from layout.conf:\n" << differences;
    }

    // Every port line is one of PROTOS ("udp", "tcp").
    static void expect_only_protos(const Scan& scan, const std::set<std::string>& protos) {
        for (const auto& line : scan.output.ports) {
            EXPECT_TRUE(protos.contains(line.proto))
                << line.ip << ":" << line.port << " has proto \"" << line.proto << "\"";
        }
    }
};

// 1. The namespace host: open_udp open (udp-response), rejected_udp filtered (admin-prohibited),
//    dropped_udp open|filtered (no-response), every other port closed (port-unreach). The lab's
//    ICMP rate limits are off, so the normal output reports none.
TEST_F(UdpScan, NamespaceHostMatchesLayout) {
    const std::set<int> ports = udp_layout_ports(layout());
    const auto result = scan({"-sU", "-p", ports_argument(ports), "-Pn", "-n", "--all-ports"},
                             lab_address(kNamespaceHost));
    expect_clean(result);
    if (HasFatalFailure()) return;
    expect_only_protos(result, {"udp"});
    expect_proto(result, "udp", expected_udp(lab_address(kNamespaceHost), ports, false));
    // The lab's ICMP limits are off: every error comes at once, so no limit may be reported.
    EXPECT_EQ(result.process.out.find("ICMP rate limit"), std::string::npos)
        << "an ICMP rate limit reported where the lab has none:\n" << result.process.out;
}

// 2. In one run, a dropped host of the /28 (every port open|filtered) and a normal one.
TEST_F(UdpScan, DroppedAndAnsweringSubnetHostsInOneRun) {
    ASSERT_FALSE(layout().dropped_hosts.empty()) << "layout.conf names no dropped host";
    int answering = -1;
    for (int offset = 0; offset < kSubnetSize && answering < 0; ++offset) {
        if (!layout().dropped_hosts.contains(offset)) answering = offset;
    }
    ASSERT_GE(answering, 0) << "layout.conf drops every host of the /28";
    const std::string dropped_ip = lab_address(kSubnetFirst + *layout().dropped_hosts.begin());
    const std::string answering_ip = lab_address(kSubnetFirst + answering);

    const std::set<int> ports = udp_layout_ports(layout());
    const auto result =
        scan({"-sU", "-p", ports_argument(ports), "-Pn", "-n", "--all-ports", dropped_ip}, answering_ip);
    expect_clean(result);
    if (HasFatalFailure()) return;
    expect_only_protos(result, {"udp"});
    VerdictMap expected = expected_udp(dropped_ip, ports, true);
    expected.merge(expected_udp(answering_ip, ports, false));
    expect_proto(result, "udp", expected);
}

// 3. -sS -sU with U: and T: port lists: each protocol's lines carry its own verdicts, and a port
//    in both lists (31337, 53, 22 ...) gets one line per protocol.
TEST_F(UdpScan, SynAndUdpInOneRun) {
    const std::set<int> udp = udp_layout_ports(layout());
    const std::set<int> tcp = tcp_layout_ports(layout());
    const std::string target = lab_address(kNamespaceHost);
    const auto result = scan({"-sS", "-sU", "-p", "U:" + ports_argument(udp) + ",T:" + ports_argument(tcp),
                              "-Pn", "-n", "--all-ports"},
                             target);
    expect_clean(result);
    if (HasFatalFailure()) return;
    expect_only_protos(result, {"udp", "tcp"});
    expect_proto(result, "udp", expected_udp(target, udp, false));
    expect_proto(result, "tcp", expected_tcp(target, tcp));
}

// 3b. Ports before any U:/T: prefix are scanned with both protocols.
TEST_F(UdpScan, PortsBeforeAnyPrefixGoToBothProtocols) {
    const std::string target = lab_address(kNamespaceHost);
    const int open_udp = *layout().open_udp.begin();
    const int open_tcp = *layout().open_tcp.begin();
    const int udp_only = *layout().dropped_udp.begin();
    const int tcp_only = *layout().rejected_tcp.begin();
    const std::set<int> both{7, open_udp, open_tcp};
    const auto result = scan({"-sS", "-sU", "-p",
                              ports_argument(both) + ",U:" + std::to_string(udp_only) +
                                  ",T:" + std::to_string(tcp_only),
                              "-Pn", "-n", "--all-ports"},
                             target);
    expect_clean(result);
    if (HasFatalFailure()) return;
    expect_only_protos(result, {"udp", "tcp"});
    std::set<int> udp = both, tcp = both;
    udp.insert(udp_only);
    tcp.insert(tcp_only);
    expect_proto(result, "udp", expected_udp(target, udp, false));
    expect_proto(result, "tcp", expected_tcp(target, tcp));
}

// 3c. Without --all-ports, only the ports outside the most common state are folded into the
//     host summary, and never open ones (as nmap): with more open ports than any other state,
//     every open_udp port still gets its line, and the counts add up.
TEST_F(UdpScan, OpenPortsAreListedEvenWhenMostCommon) {
    const std::string target = lab_address(kNamespaceHost);
    std::set<int> ports = layout().open_udp;
    ASSERT_GE(ports.size(), 2u) << "needs at least two open_udp ports";
    const int closed = 40000;
    ASSERT_EQ(udp_port_role(layout(), closed, false), PortRole::closed);
    ports.insert(closed);
    const auto result = scan({"-sU", "-p", ports_argument(ports), "-Pn", "-n"}, target);
    expect_clean(result);
    if (HasFatalFailure()) return;
    VerdictMap expected = expected_udp(target, layout().open_udp, false);
    std::vector<PortKey> duplicates;
    VerdictMap actual = verdicts_of(result.output, "udp", duplicates);
    actual.erase({target, closed});  // listed or folded: either is right
    const std::string differences = describe_differences(expected, actual);
    EXPECT_TRUE(differences.empty()) << "open ports missing without --all-ports:\n" << differences
                                     << "stdout:\n" << result.process.out;
    ASSERT_EQ(result.output.hosts.size(), 1u);
    EXPECT_EQ(result.output.hosts[0].counts.at("open"), static_cast<long>(layout().open_udp.size()));
    EXPECT_EQ(result.output.hosts[0].counts.at("closed"), 1);
}

// 4. Linux's default ICMP rate limit (net.ipv4.icmp_ratelimit = 1000 ms per destination, a burst
//    of about 6): a closed port's port unreachable may only come seconds later, yet no closed
//    port may be read as open|filtered. A second lab is brought up with the default limits.
//    The normal output says the limit was met ("ICMP rate limit").
class UdpRateLimit : public UdpScan {
protected:
    // FLAGSCAN_LAB_ID_RATELIMIT, else 50 away from the suite's own lab.
    static int rate_limited_lab_id() {
        const std::string text = env_or("FLAGSCAN_LAB_ID_RATELIMIT", "");
        if (!text.empty()) return std::atoi(text.c_str());
        return (lab_id() + 50) % 100;
    }
};

TEST_F(UdpRateLimit, LinuxDefaultLimitStillGivesEveryClosedPort) {
    std::set<int> closed;
    for (const int port : range(1000, 1010)) closed.insert(port);
    for (const int port : range(40000, 40018)) closed.insert(port);
    closed.insert({7, 9});
    std::erase_if(closed, [](int port) { return udp_port_role(layout(), port, false) != PortRole::closed; });
    ASSERT_GE(closed.size(), 25u) << "too few closed ports to outrun the rate limit's burst";
    std::set<int> ports = closed;
    ports.insert(layout().open_udp.begin(), layout().open_udp.end());
    ports.insert(layout().dropped_udp.begin(), layout().dropped_udp.end());

    const int lab_with_limits = rate_limited_lab_id();
    ASSERT_TRUE(lab_with_limits >= 0 && lab_with_limits <= 99 && lab_with_limits != lab_id())
        << "FLAGSCAN_LAB_ID_RATELIMIT must be 0..99 and differ from the suite's lab " << lab_id();
    const ExtraLab lab(lab_with_limits, {"--icmp-ratelimit", "default"});
    ASSERT_TRUE(lab.ok()) << lab.error();
    const std::string target = lab.address(kNamespaceHost);
    const auto started = std::chrono::steady_clock::now();
    const auto result = scan({"-sU", "-p", ports_argument(ports), "-Pn", "-n", "--all-ports"}, target);
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
    expect_clean(result);
    if (HasFatalFailure()) return;
    RecordProperty("scan_seconds", static_cast<int>(seconds));
    expect_only_protos(result, {"udp"});
    expect_proto(result, "udp", expected_udp(target, ports, false));
    EXPECT_NE(result.process.out.find("ICMP rate limit"), std::string::npos)
        << "the normal output does not mention the ICMP rate limit (scan took " << seconds << " s):\n"
        << result.process.out;
}

}  // namespace
}  // namespace flagscan::live

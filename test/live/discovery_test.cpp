// Live host discovery (-sn, -PE -PP -PS -PA -PU, and the ping before a port scan): exactly the
// lab addresses layout.conf says answer are found up, whatever the method, and a port scan
// without -Pn scans only those.
#include "live_support.hpp"

#include <charconv>
#include <ostream>

namespace flagscan::live {
namespace {

constexpr int kSubnetFirst = 16;  // 10.77.ID.16/28
constexpr int kSubnetSize = 16;
constexpr int kWidePrefixHosts = 1024;  // the /22 at the start of the wide range

// The reasons the default methods (ICMP echo, ICMP timestamp, TCP SYN, TCP ACK) can give.
const std::set<std::string> kDefaultReasons{"echo-reply", "timestamp-reply", "syn-ack", "reset"};

std::string subnet_cidr() { return lab_address(kSubnetFirst) + "/28"; }

std::set<std::string> answering_subnet_hosts(const Layout& layout) {
    std::set<std::string> hosts;
    for (int offset = 0; offset < kSubnetSize; ++offset) {
        if (!layout.dropped_hosts.contains(offset)) hosts.insert(lab_address(kSubnetFirst + offset));
    }
    return hosts;
}

std::set<std::string> all_subnet_hosts() {
    std::set<std::string> hosts;
    for (int offset = 0; offset < kSubnetSize; ++offset) hosts.insert(lab_address(kSubnetFirst + offset));
    return hosts;
}

std::string wide_prefix() { return "10." + std::to_string(100 + lab_id()) + "."; }

// "a, b, c" (at most LIMIT, then the count of the rest).
std::string join(const std::set<std::string>& items, std::size_t limit = 20) {
    std::string text;
    std::size_t shown = 0;
    for (const auto& item : items) {
        if (shown++ == limit) return text + ", ... (" + std::to_string(items.size()) + " in all)";
        text += (text.empty() ? "" : ", ") + item;
    }
    return text.empty() ? "(none)" : text;
}

// Readable difference of two address sets; empty when equal.
std::string set_difference_text(const std::set<std::string>& expected, const std::set<std::string>& actual) {
    std::set<std::string> missing, extra;
    for (const auto& ip : expected) {
        if (!actual.contains(ip)) missing.insert(ip);
    }
    for (const auto& ip : actual) {
        if (!expected.contains(ip)) extra.insert(ip);
    }
    std::string text;
    if (!missing.empty()) text += "  expected but not reported up: " + join(missing) + "\n";
    if (!extra.empty()) text += "  reported up but layout.conf says silent: " + join(extra) + "\n";
    return text;
}

std::optional<long> number(const JsonObject& object, const std::string& key) {
    const auto it = object.find(key);
    if (it == object.end()) return std::nullopt;
    long value = 0;
    const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
    if (ec != std::errc{} || end != it->second.data() + it->second.size()) return std::nullopt;
    return value;
}

std::string text_of(const JsonObject& object, const std::string& key) {
    const auto it = object.find(key);
    return it == object.end() ? "(none)" : it->second;
}

// One discovery method alone and what every answering lab host must give it.
struct Method {
    const char* name;
    std::vector<std::string> args;
    const char* method;                    // the JSON "method"
    std::string (*reason)(const Layout&);  // the JSON "reason"; empty: the layout makes it unusable
};

void PrintTo(const Method& method, std::ostream* os) { *os << method.name; }

class HostDiscovery : public LabTest {
protected:
    // The discovery run exited 0, gave readable host lines only, each address at most once;
    // returns the addresses reported up, each line checked: a reason in REASONS, METHOD when
    // given, a TTL and an RTT.
    static std::set<std::string> check_up_hosts(const Scan& scan, const std::set<std::string>& reasons,
                                                const std::string& method = {}) {
        EXPECT_TRUE(scan.process.exited() && scan.process.exit_code == 0) << scan.process.describe();
        EXPECT_TRUE(scan.output.errors.empty())
            << "unreadable output lines, first: " << scan.output.errors.front();
        EXPECT_TRUE(scan.output.ports.empty())
            << "-sn printed port lines, first " << scan.output.ports.front().ip << ":"
            << scan.output.ports.front().port;
        std::set<std::string> seen, up;
        for (const auto& host : scan.output.hosts) {
            EXPECT_TRUE(seen.insert(host.ip).second) << host.ip << " reported twice";
            if (host.status != "up") continue;
            up.insert(host.ip);
            const auto& json = host.json;
            const std::string reason = text_of(json, "reason");
            EXPECT_TRUE(reasons.contains(reason)) << host.ip << ": reason " << reason << ", expected one of "
                                                  << join(reasons);
            if (!method.empty()) {
                EXPECT_EQ(text_of(json, "method"), method) << host.ip;
            }
            const auto rtt = number(json, "rtt_us");
            EXPECT_TRUE(rtt && *rtt > 0 && *rtt < 10'000'000) << host.ip << ": rtt_us " << text_of(json, "rtt_us");
            const auto ttl = number(json, "ttl");
            EXPECT_TRUE(ttl && *ttl > 0 && *ttl < 256) << host.ip << ": ttl " << text_of(json, "ttl");
        }
        return up;
    }

    // The IPs with a host line.
    static std::set<std::string> reported_hosts(const Scan& scan) {
        std::set<std::string> hosts;
        for (const auto& host : scan.output.hosts) hosts.insert(host.ip);
        return hosts;
    }
};

// 5. -sn with the default methods over the /28: exactly the hosts not in dropped_hosts are up.
TEST_F(HostDiscovery, SubnetDefaultMethodsFindExactlyTheAnsweringHosts) {
    const auto result = scan({"-sn", "-n"}, subnet_cidr());
    const auto up = check_up_hosts(result, kDefaultReasons);
    const std::string differences = set_difference_text(answering_subnet_hosts(layout()), up);
    EXPECT_TRUE(differences.empty()) << "-sn " << subnet_cidr() << ":\n" << differences;
}

// 5b. Each method alone finds the same hosts, each with that method's own reply.
class HostDiscoveryMethod : public HostDiscovery, public ::testing::WithParamInterface<Method> {};

TEST_P(HostDiscoveryMethod, AloneFindsExactlyTheAnsweringHosts) {
    const Method& method = GetParam();
    const std::string reason = method.reason(layout());
    ASSERT_FALSE(reason.empty()) << "layout.conf filters the port this method probes";
    std::vector<std::string> args{"-sn", "-n"};
    args.insert(args.end(), method.args.begin(), method.args.end());
    const auto result = scan(args, subnet_cidr());
    const auto up = check_up_hosts(result, {reason}, method.method);
    const std::string differences = set_difference_text(answering_subnet_hosts(layout()), up);
    EXPECT_TRUE(differences.empty()) << "-sn " << method.args.front() << " " << subnet_cidr() << ":\n"
                                     << differences;
}

// The reply a TCP SYN ping to PORT gets: SYN+ACK from a listener, else RST.
std::string syn_ping_reason(const Layout& layout, int port) {
    switch (port_role(layout, port, false)) {
        case PortRole::open: return "syn-ack";
        case PortRole::closed: return "reset";
        default: return {};
    }
}

// An ACK ping draws RST whether or not the port listens (RFC 793 p. 65).
std::string ack_ping_reason(const Layout& layout, int port) {
    const PortRole role = port_role(layout, port, false);
    return role == PortRole::open || role == PortRole::closed ? "reset" : "";
}

// A UDP ping: a reply datagram from a listener, else port unreachable.
std::string udp_ping_reason(const Layout& layout, int port) {
    switch (udp_port_role(layout, port, false)) {
        case PortRole::open: return "udp-response";
        case PortRole::closed: return "port-unreach";
        default: return {};
    }
}

INSTANTIATE_TEST_SUITE_P(
    Live, HostDiscoveryMethod,
    ::testing::Values(
        Method{"IcmpEcho", {"-PE"}, "ICMP echo", [](const Layout&) { return std::string("echo-reply"); }},
        Method{"IcmpTimestamp", {"-PP"}, "ICMP timestamp",
               [](const Layout&) { return std::string("timestamp-reply"); }},
        Method{"TcpSyn22", {"-PS22"}, "TCP SYN ping", [](const Layout& l) { return syn_ping_reason(l, 22); }},
        Method{"TcpAck80", {"-PA80"}, "TCP ACK ping", [](const Layout& l) { return ack_ping_reason(l, 80); }},
        Method{"Udp40125", {"-PU40125"}, "UDP ping", [](const Layout& l) { return udp_ping_reason(l, 40125); }}),
    [](const auto& info) { return std::string(info.param.name); });

// 6. A port scan without -Pn first pings: only the answering hosts are scanned and reported,
//    each with the SYN verdicts of its ports.
TEST_F(HostDiscovery, PortScanWithoutPnScansOnlyHostsFoundUp) {
    const std::vector<int> ports{22, 80};
    const auto result = scan({"-sS", "-p", "22,80", "-n", "--all-ports"}, subnet_cidr());
    ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
    EXPECT_TRUE(result.output.errors.empty()) << "unreadable line: " << result.output.errors.front();
    const auto answering = answering_subnet_hosts(layout());
    const auto hosts = reported_hosts(result);
    EXPECT_TRUE(set_difference_text(answering, hosts).empty())
        << "hosts with a host line:\n" << set_difference_text(answering, hosts);
    for (const auto& host : result.output.hosts) {  // each host line says which ping found it
        EXPECT_TRUE(kDefaultReasons.contains(text_of(host.json, "reason"))) << host.ip << ": " << text_of(host.json, "reason");
    }
    VerdictMap expected;
    for (const auto& ip : answering) {
        for (const int port : ports) expected[{ip, port}] = expected_syn_verdict(layout(), port, false);
    }
    std::vector<PortKey> duplicates;
    const std::string differences = describe_differences(expected, verdicts_of(result.output, "tcp", duplicates));
    EXPECT_TRUE(differences.empty() && duplicates.empty()) << "port lines:\n" << differences;
    for (const int offset : layout().dropped_hosts) {
        EXPECT_EQ(result.process.out.find(lab_address(kSubnetFirst + offset)), std::string::npos)
            << "the dropped host " << lab_address(kSubnetFirst + offset) << " is in the normal output:\n"
            << result.process.out;
    }
}

// 6b. With -Pn every address of the /28 is scanned; the dropped ones come out filtered.
TEST_F(HostDiscovery, PortScanWithPnScansEveryHost) {
    const std::vector<int> ports{22, 80};
    const auto result = scan({"-sS", "-p", "22,80", "-n", "-Pn", "--all-ports"}, subnet_cidr());
    ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
    EXPECT_TRUE(result.output.errors.empty()) << "unreadable line: " << result.output.errors.front();
    const auto hosts = reported_hosts(result);
    EXPECT_EQ(hosts.size(), static_cast<std::size_t>(kSubnetSize));
    for (const auto& host : result.output.hosts) {  // routed, not on the attached Ethernet: no ARP, no evidence
        EXPECT_EQ(text_of(host.json, "reason"), "user-set") << host.ip;
    }
    EXPECT_TRUE(set_difference_text(all_subnet_hosts(), hosts).empty())
        << "hosts with a host line:\n" << set_difference_text(all_subnet_hosts(), hosts);
    VerdictMap expected;
    for (int offset = 0; offset < kSubnetSize; ++offset) {
        const bool dropped = layout().dropped_hosts.contains(offset);
        for (const int port : ports) {
            expected[{lab_address(kSubnetFirst + offset), port}] = expected_syn_verdict(layout(), port, dropped);
        }
    }
    std::vector<PortKey> duplicates;
    const std::string differences = describe_differences(expected, verdicts_of(result.output, "tcp", duplicates));
    EXPECT_TRUE(differences.empty() && duplicates.empty()) << "port lines:\n" << differences;
}

// 6c. The same for a UDP scan: without -Pn the dropped hosts are neither scanned nor reported.
TEST_F(HostDiscovery, UdpScanWithoutPnScansOnlyHostsFoundUp) {
    const std::set<int> ports{*layout().open_udp.begin(), 40000};
    const auto result = scan({"-sU", "-p", std::to_string(*ports.begin()) + ",40000", "-n", "--all-ports"},
                             subnet_cidr());
    ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
    EXPECT_TRUE(result.output.errors.empty()) << "unreadable line: " << result.output.errors.front();
    const auto answering = answering_subnet_hosts(layout());
    VerdictMap expected;
    for (const auto& ip : answering) {
        for (const int port : ports) expected[{ip, port}] = expected_udp_verdict(layout(), port, false);
    }
    std::vector<PortKey> duplicates;
    const std::string differences = describe_differences(expected, verdicts_of(result.output, "udp", duplicates));
    EXPECT_TRUE(differences.empty() && duplicates.empty()) << "port lines:\n" << differences;
    const auto hosts = reported_hosts(result);
    EXPECT_TRUE(set_difference_text(answering, hosts).empty())
        << "hosts with a host line:\n" << set_difference_text(answering, hosts);
}

// 7. -sn over the wide range's first /22 (1024 AnyIP addresses): exactly those whose last octet
//    modulo 4 is not in wide_dropped_mod4 are up.
TEST_F(HostDiscovery, WideRangeSliceFindsExactlyTheAnsweringAddresses) {
    std::set<std::string> answering;
    for (int i = 0; i < kWidePrefixHosts; ++i) {
        const int last = i % 256;
        if (layout().wide_dropped_mod4.contains(last % 4)) continue;
        answering.insert(wide_prefix() + std::to_string(i / 256) + "." + std::to_string(last));
    }
    const std::size_t expected_count =
        kWidePrefixHosts - kWidePrefixHosts / 4 * layout().wide_dropped_mod4.size();
    ASSERT_EQ(answering.size(), expected_count);
    const auto result = scan({"-sn", "-n"}, wide_prefix() + "0.0/22");
    const auto up = check_up_hosts(result, kDefaultReasons);
    EXPECT_EQ(up.size(), expected_count) << "hosts up in " << wide_prefix() << "0.0/22";
    const std::string differences = set_difference_text(answering, up);
    EXPECT_TRUE(differences.empty()) << "-sn " << wide_prefix() << "0.0/22:\n" << differences;
}

// 9. The directly attached /27: ARP replaces the IP pings (nmap's default there), and finds
// exactly the namespace's addresses that answer ARP, plus our own (localhost-response).
TEST_F(HostDiscovery, AttachedNetworkIsDiscoveredWithArp) {
    const Layout& lab = layout();
    std::set<std::string> expected{lab_address(33)};
    for (int offset : lab.lan_hosts) {
        if (!lab.lan_silent.contains(offset)) expected.insert(lab_address(32 + offset));
    }
    for (const auto& args : {std::vector<std::string>{"-sn", "-n"}, std::vector<std::string>{"-sn", "-n", "-PR"}}) {
        const auto result = scan(args, lab_address(32) + "/27");
        ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
        std::set<std::string> up;
        for (const auto& host : result.output.hosts) {
            if (host.status != "up") continue;
            up.insert(host.ip);
            const std::string reason = text_of(host.json, "reason");
            EXPECT_EQ(text_of(host.json, "method"), "ARP") << host.ip;
            EXPECT_EQ(reason, host.ip == lab_address(33) ? "localhost-response" : "arp-response") << host.ip;
            if (reason == "arp-response") {
                EXPECT_TRUE(number(host.json, "rtt_us").value_or(0) > 0) << host.ip;
            }
        }
        const std::string differences = set_difference_text(expected, up);
        EXPECT_TRUE(differences.empty()) << "-sn on the attached /27:\n" << differences;
    }
}

// 9b. -Pn on the attached /27 still resolves each target with ARP first (nmap): the hosts that
// answer it are scanned and say so (reason arp-response); the silent one and the empty
// addresses are down: no host line, no port line, not "up with every port filtered". nmap -Pn
// on the same addresses finds the same hosts and the same verdicts.
TEST_F(HostDiscovery, PnOnAttachedNetworkStillResolvesWithArp) {
    const Layout& lab = layout();
    const std::vector<int> ports{22, 80};
    const std::string targets = lab_address(34) + "-62";  // the /27 but its network, us (.33), broadcast
    std::set<std::string> answering;
    for (int offset : lab.lan_hosts) {
        if (!lab.lan_silent.contains(offset)) answering.insert(lab_address(32 + offset));
    }
    const auto result = scan({"-Pn", "-sS", "-p", "22,80", "-n", "--all-ports"}, targets);
    ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
    EXPECT_TRUE(result.output.errors.empty()) << "unreadable line: " << result.output.errors.front();
    std::set<std::string> up;
    for (const auto& host : result.output.hosts) {
        EXPECT_EQ(host.status, "up") << host.ip;
        EXPECT_EQ(text_of(host.json, "reason"), "arp-response") << host.ip;
        up.insert(host.ip);
    }
    EXPECT_TRUE(set_difference_text(answering, up).empty()) << "-Pn on the attached /27:\n" << set_difference_text(answering, up);
    VerdictMap expected;
    for (const auto& ip : answering) {
        for (const int port : ports) expected[{ip, port}] = expected_syn_verdict(lab, port, false);
    }
    std::vector<PortKey> duplicates;
    const VerdictMap ours = verdicts_of(result.output, "tcp", duplicates);
    const std::string differences = describe_differences(expected, ours);
    EXPECT_TRUE(differences.empty() && duplicates.empty()) << "port lines:\n" << differences;

    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed: not compared";
    const TempDir dir;
    const std::string xml = dir.path() + "/nmap.xml";
    const auto nmap = run_process({"nmap", "-Pn", "-sS", "-p", "22,80", "-n", "-oX", xml, targets}, std::chrono::seconds(120));
    ASSERT_TRUE(nmap.exited() && nmap.exit_code == 0) << nmap.describe();
    std::string error;
    const auto theirs = read_nmap_xml(xml, ports, error);
    ASSERT_TRUE(theirs) << error;
    const std::string against_nmap = describe_differences(states_only(*theirs), states_only(ours));
    EXPECT_TRUE(against_nmap.empty()) << "'expected' is nmap -Pn, 'got' is flagscan:\n" << against_nmap;
}

// 9c. Our own address under -Pn: up as nmap says, user-set (it asked for no evidence).
TEST_F(HostDiscovery, PnOnOurOwnAddressIsUserSet) {
    const auto result = scan({"-Pn", "-sS", "-p", "22", "-n", "--max-retries", "0"}, lab_address(33));
    ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
    ASSERT_EQ(result.output.hosts.size(), 1u) << result.process.out;
    EXPECT_EQ(text_of(result.output.hosts.front().json, "reason"), "user-set");
}

// 10. -PR for targets behind a router cannot work: flagscan says so and pings them instead.
TEST_F(HostDiscovery, ArpForRoutedTargetsFallsBackToPings) {
    const auto result = scan({"-sn", "-n", "-PR"}, subnet_cidr());
    EXPECT_NE(result.process.err.find("not all on the directly attached"), std::string::npos) << result.process.err;
    const auto up = check_up_hosts(result, kDefaultReasons);
    const std::string differences = set_difference_text(answering_subnet_hosts(layout()), up);
    EXPECT_TRUE(differences.empty()) << "-sn -PR " << subnet_cidr() << ":\n" << differences;
}

}  // namespace
}  // namespace flagscan::live

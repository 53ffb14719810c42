// IPv6 targets on the lab: -6 -sL lists the /120's addresses as nmap does, bad prefixes and mixes fail in one line, names resolve to AAAA, the route goes through the lab.
#include "live_support.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace flagscan::live {
namespace {

constexpr auto kListTimeout = std::chrono::seconds(30);

// The lines of TEXT that start with PREFIX, with the prefix cut off.
std::vector<std::string> lines_after(const std::string& text, const std::string& prefix) {
    std::vector<std::string> found;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with(prefix)) found.push_back(line.substr(prefix.size()));
    return found;
}

std::size_t line_count(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

// A one-line refusal: exit 1, one line on stderr holding MESSAGE, nothing listed.
void expect_refused(const ProcessResult& result, const std::string& message) {
    ASSERT_TRUE(result.exited()) << result.describe();
    EXPECT_EQ(result.exit_code, 1) << result.describe();
    EXPECT_EQ(line_count(result.err), 1u) << result.describe();
    EXPECT_NE(result.err.find(message), std::string::npos) << result.describe();
    EXPECT_EQ(result.out.find("scan report for"), std::string::npos) << result.describe();
}

// flagscan ARGS in an empty network namespace (unshare --net): a list scan sends nothing, and
// in there nothing could leave even if it did.
ProcessResult sandboxed(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"unshare", "--net", "--", flagscan_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, kListTimeout);
}

// nmap ARGS likewise sandboxed (its -sL sends nothing either).
ProcessResult sandboxed_nmap(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"unshare", "--net", "--", "nmap"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, kListTimeout);
}

class Ipv6Targets : public LabTest {
protected:
    // The /120's addresses fd77:ID::100 .. fd77:ID::100+COUNT-1, in RFC 5952 form.
    static std::vector<std::string> subnet6(int count) {
        std::vector<std::string> addresses;
        for (int k = 0; k < count; ++k) {
            std::ostringstream suffix;
            suffix << std::hex << (0x100 + k);
            addresses.push_back(lab_address6(suffix.str()));
        }
        return addresses;
    }
};

// `flagscan -6 -sL -n fd77:ID::100/126` lists what `nmap -6 -sL -n` lists, in the same order and form.
TEST_F(Ipv6Targets, ListScanOfTheLabPrefixEqualsNmap) {
    const std::string prefix = lab_address6("100") + "/126";
    const auto ours = run_process({flagscan_bin(), "-6", "-sL", "-n", prefix}, kListTimeout);
    ASSERT_EQ(ours.exit_code, 0) << ours.describe();
    EXPECT_EQ(lines_after(ours.out, "flagscan scan report for "), subnet6(4)) << ours.describe();
    EXPECT_NE(ours.out.find("4 IP addresses"), std::string::npos) << ours.describe();
    EXPECT_EQ(ours.out.find("0.0.0."), std::string::npos) << "a key escaped: " << ours.describe();
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed: compared with the layout only";
    const auto nmap = sandboxed_nmap({"-6", "-sL", "-n", prefix});
    ASSERT_EQ(nmap.exit_code, 0) << nmap.describe();
    EXPECT_EQ(lines_after(ours.out, "flagscan scan report for "), lines_after(nmap.out, "Nmap scan report for "));
}

// Without -6 an IPv6 target says it; -iL and --exclude read IPv6 too; JSON lines carry RFC 5952 text.
TEST_F(Ipv6Targets, ListScanImpliedByTheTargetsWithExclusionsAndAFile) {
    const TempDir dir;
    const std::string list = dir.path() + "/targets6.txt";
    std::ofstream(list) << "# the lab's /120, a few of it\n" << lab_address6("100") << " - " << lab_address6("105") << "\n";
    const auto result = run_process({flagscan_bin(), "-sL", "-n", "-iL", list, "--exclude", lab_address6("101") + ",10.77.0.0/16",
                                     "-oJ", "-"},
                                    kListTimeout);
    ASSERT_EQ(result.exit_code, 0) << result.describe();
    std::vector<std::string> expected = subnet6(6);
    expected.erase(expected.begin() + 1);
    std::vector<std::string> json;
    for (const auto& address : expected) json.push_back(address + R"(","status":"listed"})");
    EXPECT_EQ(lines_after(result.out, R"({"ip":")"), json) << result.describe();
}

// Too large a prefix, IPv4 beside IPv6, multicast, -PP: one line each, nothing listed or sent.
TEST_F(Ipv6Targets, BadPrefixMixAndMulticastAreRefused) {
    const std::string wide = lab_address6("") + "/64";
    expect_refused(sandboxed({"-6", "-sL", "-n", wide}),
                   "flagscan: bad target '" + wide + "': too many addresses: one IPv6 scan walks at most 16777215 (2^24 - 1: a /105 fits, a /104 does not)");
    expect_refused(sandboxed({"-sL", "-n", lab_address6("100"), lab_address(2)}),
                   "flagscan: cannot mix IPv4 and IPv6 targets in one scan: run two scans ('" + lab_address(2) + "' is IPv4)");
    expect_refused(sandboxed({"-6", "-sL", "-n", lab_address6("100/129")}), "is not an IPv6 prefix");
    expect_refused(sandboxed({"-sS", "-Pn", "-n", "-p", "22", "ff02::1"}),
                   "flagscan: refusing to scan multicast addresses (ff00::/8, RFC 4291 2.7): ff02::1");
    expect_refused(sandboxed({"-sn", "-PP", "-n", lab_address6("100")}), "-PP (ICMP timestamp) has no IPv6 counterpart");
    expect_refused(sandboxed({"-O", "-n", lab_address6("100")}), "flagscan: -O is not available over IPv6 yet");
}

// A name resolves to its AAAA address, and an address to its name: an /etc/hosts entry seen only
// by this run (a private mount namespace; an empty network namespace too, so that no DNS query
// can leave either).
TEST_F(Ipv6Targets, NamesResolveToIpv6FromAPrivateHostsFile) {
    const TempDir dir;
    std::ofstream(dir.path() + "/hosts") << "127.0.0.1 localhost\n" << lab_address6("1a0") << " lab6.flagscan.test\n";
    std::ofstream(dir.path() + "/resolv.conf") << "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";
    const std::string script = "mount --bind " + dir.path() + "/hosts /etc/hosts && mount --bind " + dir.path() +
                               "/resolv.conf /etc/resolv.conf && exec \"$0\" \"$@\"";
    const auto result = run_process({"unshare", "--net", "--mount", "--propagation", "private", "--", "sh", "-c", script,
                                     flagscan_bin(), "-6", "-sL", "-n", "lab6.flagscan.test/126", "gone6.flagscan.test"},
                                    kListTimeout);
    ASSERT_EQ(result.exit_code, 0) << result.describe();
    EXPECT_EQ(lines_after(result.out, "flagscan scan report for "),
              (std::vector<std::string>{lab_address6("1a0"), lab_address6("1a1"), lab_address6("1a2"), lab_address6("1a3")}));
    EXPECT_NE(result.err.find("flagscan: warning: cannot resolve 'gone6.flagscan.test'; skipping it"), std::string::npos)
        << result.describe();
    // Without -n, the reverse name of each address (ip6.arpa, answered by the same private file;
    // the others find no name server they could reach).
    const auto named = run_process({"unshare", "--net", "--mount", "--propagation", "private", "--", "sh", "-c", script,
                                    flagscan_bin(), "-6", "-sL", "lab6.flagscan.test/127"},
                                   kListTimeout);
    ASSERT_EQ(named.exit_code, 0) << named.describe();
    EXPECT_EQ(lines_after(named.out, "flagscan scan report for "),
              (std::vector<std::string>{"lab6.flagscan.test (" + lab_address6("1a0") + ")", lab_address6("1a1")}));
}

// The prepare step on the lab: the kernel's source for the /120 (fd77:ID::1 on the host's veth),
// its prefix, the keys, and whether the targets are on the link (the /120 is routed via
// fd77:ID::2 although inside the veth's /64: not on the link; fd77:ID::2 is).
TEST_F(Ipv6Targets, TheRouteGoesThroughTheLab) {
    std::string error;
    const std::string iface = lab_host_interface(error);
    ASSERT_FALSE(iface.empty()) << error;
    for (const auto& address : {lab_address6("100"), lab_address6("2")})
        ASSERT_EQ(lab_route6_error(address, iface), "") << address;
    const auto routed = run_process({flagscan_bin(), "-6", "-v", "-n", "-sS", "-Pn", "-p", "22", "--max-retries", "0",
                                     lab_address6("100") + "/126"},
                                    kListTimeout);
    EXPECT_NE(routed.err.find("flagscan: IPv6 targets: 4, as keys 0.0.0.1-0.0.0.4; source " + lab_address6("1") +
                              " (key 0.0.0.5) on " + iface + " (" + lab_address6("") + "/64); targets on the link: no\n"),
              std::string::npos)
        << routed.describe();
    const auto attached = run_process({flagscan_bin(), "-6", "-v", "-n", "-sS", "-Pn", "-p", "22", "--max-retries", "0",
                                       lab_address6("2")},
                                      kListTimeout);
    EXPECT_NE(attached.err.find("flagscan: IPv6 targets: 1, as keys 0.0.0.1-0.0.0.1; source " + lab_address6("1") +
                                " (key 0.0.0.2) on " + iface + " (" + lab_address6("") + "/64); targets on the link: yes\n"),
              std::string::npos)
        << attached.describe();
}

}  // namespace
}  // namespace flagscan::live

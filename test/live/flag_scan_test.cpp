// Live flag scans (FIN, NULL, XMAS, ACK, Window, Maimon) of the namespace lab: every port's state
// and reason, with and without loss, and port for port the same states as nmap's.
#include "live_support.hpp"

namespace flagscan::live {
namespace {

constexpr int kNamespaceHost = 2;  // 10.77.ID.2, the namespace side of the veth
constexpr int kMaxPort = 65535;
constexpr auto kNmapTimeout = std::chrono::seconds(180);

std::vector<int> all_ports() {
    std::vector<int> ports;
    for (int port = 1; port <= kMaxPort; ++port) ports.push_back(port);
    return ports;
}

class FlagScan : public LabTest, public ::testing::WithParamInterface<ScanKind> {
protected:
    // `flagscan -sX -p- -Pn -n --all-ports` (with this test's kind) of the namespace host.
    static Scan full_scan(const ScanKind& kind) {
        return scan({std::string(kind.option), "-p-", "-Pn", "-n", "--all-ports"},
                    lab_address(kNamespaceHost));
    }

    static VerdictMap expected_full_scan(const ScanKind& kind) {
        VerdictMap expected;
        for (int port = 1; port <= kMaxPort; ++port) {
            expected[{lab_address(kNamespaceHost), port}] = expected_verdict(kind, layout(), port, false);
        }
        return expected;
    }

    // The scan succeeded and gave one readable line per port; its port lines as a map.
    static VerdictMap checked_verdicts(const Scan& scan) {
        EXPECT_TRUE(scan.process.exited() && scan.process.exit_code == 0) << scan.process.describe();
        EXPECT_TRUE(scan.output.errors.empty())
            << "unreadable output lines, first: " << scan.output.errors.front();
        std::vector<PortKey> duplicates;
        VerdictMap verdicts = verdicts_of(scan.output, duplicates);
        EXPECT_TRUE(duplicates.empty()) << duplicates.size() << " ports reported twice, first "
                                        << duplicates.front().first << ":" << duplicates.front().second;
        return verdicts;
    }

    static void expect_layout(const ScanKind& kind, const Scan& scan) {
        const VerdictMap actual = checked_verdicts(scan);
        if (::testing::Test::HasFailure()) return;
        const std::string differences = describe_differences(expected_full_scan(kind), actual);
        EXPECT_TRUE(differences.empty())
            << kind.option << " scan differs from layout.conf:\n" << differences;
    }
};

// a. Every port of the namespace host has exactly the state and reason the table gives its role.
TEST_P(FlagScan, FullPortRangeMatchesLayout) {
    expect_layout(GetParam(), full_scan(GetParam()));
}

// b. 5% of the namespace's replies lost. A lost RST or ICMP error must be recovered by a
//    retransmission, never read as "no-response" (open|filtered or filtered).
TEST_P(FlagScan, FullPortRangeMatchesLayoutWithFivePercentLoss) {
    const LossGuard loss(5);
    ASSERT_TRUE(loss.ok()) << loss.error();
    expect_layout(GetParam(), full_scan(GetParam()));
}

// c. nmap, with the same kind on the same ports (no loss), agrees with flagscan port for port.
//    States only: reasons are compared with the layout above.
TEST_P(FlagScan, AgreesWithNmapPortForPort) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    const ScanKind& kind = GetParam();
    const std::string target = lab_address(kNamespaceHost);

    const TempDir dir;
    const std::string xml = dir.path() + "/nmap.xml";
    const auto nmap = run_process({"nmap", std::string(kind.option), "-p-", "-Pn", "-n", "-T4",
                                   "-oX", xml, target},
                                  kNmapTimeout);
    ASSERT_TRUE(nmap.exited() && nmap.exit_code == 0) << nmap.describe();
    std::string error;
    const auto nmap_verdicts = read_nmap_xml(xml, all_ports(), error);
    ASSERT_TRUE(nmap_verdicts) << error;
    ASSERT_EQ(nmap_verdicts->size(), static_cast<std::size_t>(kMaxPort))
        << "nmap's XML does not give every port a state";

    const VerdictMap ours = checked_verdicts(full_scan(kind));
    ASSERT_FALSE(HasFailure());

    const VerdictMap theirs = states_only(*nmap_verdicts);
    const std::string differences = describe_differences(theirs, states_only(ours));
    // When they differ, say which side the layout is on.
    const std::string nmap_vs_layout =
        describe_differences(states_only(expected_full_scan(kind)), theirs);
    EXPECT_TRUE(differences.empty())
        << "'expected' is nmap " << kind.option << ", 'got' is flagscan:\n"
        << differences
        << (nmap_vs_layout.empty() ? "nmap agrees with layout.conf\n"
                                   : "nmap against layout.conf:\n" + nmap_vs_layout);
}

INSTANTIATE_TEST_SUITE_P(Kinds, FlagScan, ::testing::ValuesIn(linux_flag_scan_kinds()),
                         [](const ::testing::TestParamInfo<ScanKind>& info) {
                             return std::string(info.param.name);
                         });

// Linux's default ICMP rate limit (1 error per second after a burst of 6) on a second lab whose
// ports 2000-2029 are rejected with admin-prohibited: before pacing, -sF called all but the
// burst's 6 open|filtered (44 of 50 for 2000-2049); now every one is filtered (admin-prohibited),
// and the report says the limit was met. FLAGSCAN_LAB_ID_RATELIMIT, else 50 away from the suite's lab (as the UDP test).
class FlagScanIcmpLimit : public LabTest {};

TEST_F(FlagScanIcmpLimit, FinScanOfRejectedPortsBehindLinuxLimitIsFiltered) {
    const std::string id_text = env_or("FLAGSCAN_LAB_ID_RATELIMIT", "");
    const int limited_id = id_text.empty() ? (lab_id() + 50) % 100 : std::atoi(id_text.c_str());
    const ExtraLab lab(limited_id, {"--icmp-ratelimit", "default"});
    ASSERT_TRUE(lab.ok()) << lab.error();
    const PortRangeRule rejected{limited_id, 2000, 2029, "reject with icmp type admin-prohibited"};
    ASSERT_TRUE(rejected.error().empty()) << rejected.error();
    const auto result = scan({"-sF", "-p", "2000-2029", "-Pn", "-n", "--all-ports"}, lab.address(kNamespaceHost));
    ASSERT_TRUE(result.process.exited() && result.process.exit_code == 0) << result.process.describe();
    std::vector<PortKey> duplicates;
    const VerdictMap verdicts = verdicts_of(result.output, duplicates);
    ASSERT_EQ(verdicts.size(), 30u);
    for (const auto& [key, verdict] : verdicts)
        EXPECT_EQ(verdict, (Verdict{"filtered", "admin-prohibited"})) << key.first << ":" << key.second;
    EXPECT_NE(result.process.out.find("ICMP rate limit"), std::string::npos) << result.process.out;
}

}  // namespace
}  // namespace flagscan::live

// Live internet scale: a one-port scan of 2^20 AnyIP addresses routed into the lab (lab.sh huge)
// finds every address open, each exactly once, with flagscan's peak memory under 64 MB: hosts
// are written as they finish and forgotten (Keep::listed), whatever the scan's size.
#include "live_support.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

namespace flagscan::live {
namespace {

constexpr std::uint64_t kAddresses = std::uint64_t{1} << 20;
constexpr long kRssLimitKb = 64 * 1024;

// The lab's /12, routed into its namespace on request ("huge=10.X.0.0/12").
std::string huge_range() {
    const ProcessResult up = run_process({"bash", lab_script(), "huge", std::to_string(lab_id())}, std::chrono::seconds(30));
    const auto at = up.out.find("huge=");
    if (up.exit_code != 0 || at == std::string::npos) return {};
    return up.out.substr(at + 5, up.out.find('\n', at) - at - 5);
}

class InternetScale : public LabTest {};

TEST_F(InternetScale, OnePortOverTwoToTheTwentyAddressesIsExactInFlatMemory) {
    const std::string range = huge_range();
    ASSERT_FALSE(range.empty()) << "lab.sh huge failed";
    const TempDir dir;
    const std::string rss = dir.path() + "/rss";
    const std::string port = std::to_string(*layout().open_tcp.begin());
    // grepable output to stdout (so no normal report), one line per host; /usr/bin/time keeps
    // flagscan's peak resident size (kB).
    const std::string script = "/usr/bin/time -f %M -o '" + rss + "' '" + flagscan_bin() + "' -n -Pn -p " + port +
                               " --seed 5 -oG - " + range + " | grep '/open/tcp/' | cut -d' ' -f2 | sort | uniq -c |"
                               " awk '{ lines += $1; hosts += 1 } END { print lines, hosts }'";
    const ProcessResult scan = run_process({"sh", "-c", script}, std::chrono::seconds(300));
    ASSERT_EQ(scan.exit_code, 0) << scan.describe();
    std::istringstream counts(scan.out);
    std::uint64_t lines = 0, hosts = 0;
    counts >> lines >> hosts;
    EXPECT_EQ(hosts, kAddresses) << scan.describe();  // every address, open
    EXPECT_EQ(lines, kAddresses) << scan.describe();  // each once
    std::ifstream peak(rss);
    long rss_kb = 0;
    peak >> rss_kb;
    std::cout << "[ scale    ] " << range << " port " << port << ": " << hosts << " hosts open, peak resident "
              << rss_kb / 1024.0 << " MiB\n" << scan.err;
    EXPECT_GT(rss_kb, 0);
    EXPECT_LT(rss_kb, kRssLimitKb);
}

}  // namespace
}  // namespace flagscan::live

// Live command-line failures: bad arguments and missing root end cleanly with one clear line.
#include "live_support.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace flagscan::live {
namespace {

constexpr auto kCliTimeout = std::chrono::seconds(30);

struct ErrorCase {
    const char* name;
    std::vector<std::string> args;  // "TARGET" stands for the lab's namespace address
};

// gtest names failing cases by this instead of dumping the struct's bytes.
void PrintTo(const ErrorCase& error_case, std::ostream* os) { *os << error_case.name; }

// Lines in TEXT, a final newline not counting as an extra empty line.
std::size_t line_count(const std::string& text) {
    if (text.empty()) return 0;
    const auto newlines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    return text.back() == '\n' ? newlines : newlines + 1;
}

void expect_clean_failure(const ProcessResult& result) {
    ASSERT_FALSE(result.timed_out) << result.describe();
    ASSERT_TRUE(result.exited()) << "crashed: " << result.describe();
    EXPECT_NE(result.exit_code, 0) << result.describe();
    EXPECT_LT(result.exit_code, 126) << "exit code looks like a failed exec or a crash: " << result.describe();
    EXPECT_EQ(line_count(result.err), 1u) << "stderr must be exactly one line: " << result.describe();
}

// e. Argument errors, run inside an empty network namespace (unshare --net): whatever the
//    binary does with a mistaken argument, no packet can leave.
class CliErrors : public ::testing::TestWithParam<ErrorCase> {
protected:
    void SetUp() override {
        if (const auto reason = root_skip_reason(); !reason.empty()) GTEST_SKIP() << reason;
        ASSERT_FALSE(flagscan_bin().empty()) << "FLAGSCAN_BIN is not set";
        const auto sandbox = run_process({"unshare", "--net", "--", "true"}, kCliTimeout);
        ASSERT_EQ(sandbox.exit_code, 0) << "unshare --net does not work: " << sandbox.describe();
    }

    static std::vector<std::string> sandboxed(const std::vector<std::string>& args) {
        std::vector<std::string> argv{"unshare", "--net", "--", flagscan_bin()};
        for (const auto& arg : args) argv.push_back(arg == "TARGET" ? lab_address(2) : arg);
        return argv;
    }
};

TEST_P(CliErrors, FailsWithOneLine) {
    expect_clean_failure(run_process(sandboxed(GetParam().args), kCliTimeout));
}

INSTANTIATE_TEST_SUITE_P(
    Live, CliErrors,
    ::testing::Values(
        ErrorCase{"BadCidr", {"-sS", "-p", "80", "-Pn", "-n", "10.0.0.0/33"}},
        ErrorCase{"PortOutOfRange", {"-sS", "-p", "70000", "-Pn", "-n", "TARGET"}},
        ErrorCase{"UnknownInterface", {"-sS", "-p", "80", "-Pn", "-n", "-e", "nosuchif0", "TARGET"}},
        ErrorCase{"MissingTargetFile",
                  {"-sS", "-p", "80", "-Pn", "-n", "-iL", "/nonexistent/flagscan-targets.txt"}},
        ErrorCase{"UnknownServiceName", {"-sS", "-p", "ssh,nosuchservice", "-Pn", "-n", "TARGET"}},
        ErrorCase{"TwoPortLists", {"-sS", "-p-", "-p", "22", "-Pn", "-n", "TARGET"}},
        ErrorCase{"FastWithPorts", {"-sS", "-F", "-p", "22", "-Pn", "-n", "TARGET"}},
        ErrorCase{"ListWithPortScan", {"-sL", "-sS", "-n", "TARGET"}},
        ErrorCase{"ListWithPingScan", {"-sL", "-sn", "-n", "TARGET"}},
        ErrorCase{"RttTimeoutsGivenInConflict",
                  {"-sS", "-p", "22", "-Pn", "-n", "--min-rtt-timeout", "1s", "--max-rtt-timeout", "50ms", "TARGET"}}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// f. As nobody: a raw scan is refused with a message naming root and suggesting -sT. The lab
//    is up so that even a binary that wrongly went ahead would only reach the namespace.
class Privileges : public LabTest {};

TEST_F(Privileges, NonRootIsToldToUseRootOrConnectScan) {
    ASSERT_EQ(access(flagscan_bin().c_str(), R_OK | X_OK), 0);
    const auto result = run_process({"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                     flagscan_bin(), "-sS", "-p", "80", "-Pn", "-n", lab_address(2)},
                                    kCliTimeout);
    ASSERT_FALSE(result.exit_code == 126 || result.exit_code == 127)
        << "nobody cannot execute " << flagscan_bin() << " (directory permissions?): " << result.describe();
    expect_clean_failure(result);
    EXPECT_NE(result.err.find("root"), std::string::npos) << result.describe();
    EXPECT_NE(result.err.find("-sT"), std::string::npos) << result.describe();
}

}  // namespace
}  // namespace flagscan::live

namespace flagscan::live {
namespace {

// Ctrl-C in the middle of a scan: exit 130, and the JSON lines still hold what was found.
class Interrupt : public LabTest {};

TEST_F(Interrupt, CtrlCStillWritesWhatWasFound) {
    TempDir dir;
    const std::string out = dir.path() + "/partial.jsonl";
    const auto result = run_process({"timeout", "--preserve-status", "-s", "INT", "1", flagscan_bin(), "-sS", "-p-",
                                     "-Pn", "-n", "--max-rate", "5000", "-oJ", out, "--resume-file", dir.path() + "/scan.resume",
                                     lab_address(2)},
                                    std::chrono::seconds(30));
    ASSERT_EQ(result.exit_code, 130) << result.describe();
    EXPECT_NE(result.out.find("Scan interrupted"), std::string::npos) << result.out;
    const ScanOutput output = read_scan_output(out);
    ASSERT_EQ(output.hosts.size(), 1u) << "no host line in " << out;
    const auto& counts = output.hosts.front().counts;
    const long decided = counts.at("open") + counts.at("closed") + counts.at("filtered");
    EXPECT_GT(decided, 1000);   // about a second's worth at 5,000 probes/s
    EXPECT_LT(decided, 60000);  // and far from the whole range
}

}  // namespace
}  // namespace flagscan::live

namespace flagscan::live {
namespace {

constexpr auto kNamesTimeout = std::chrono::seconds(60);

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                           std::filesystem::perms::group_read | std::filesystem::perms::others_read);
}

// Names that never leave the machine: ARGV runs in a private mount namespace whose /etc/hosts
// is HOSTS, whose resolv.conf names 127.0.0.1 (where nothing answers, so every other name
// fails at once) and whose nsswitch.conf reads files then DNS. With `no_network`, in an empty
// network namespace as well, where not even that query can go anywhere.
class PrivateNames {
public:
    explicit PrivateNames(const std::string& hosts) {
        std::filesystem::permissions(dir_.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                                      std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                                      std::filesystem::perms::others_exec);
        write_text(dir_.path() + "/hosts", "127.0.0.1 localhost\n" + hosts);
        write_text(dir_.path() + "/resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
        write_text(dir_.path() + "/nsswitch.conf", "hosts: files dns\n");
    }

    ProcessResult run(const std::vector<std::string>& argv, bool no_network = false) const {
        std::vector<std::string> command{"unshare", "-m"};
        if (no_network) command.push_back("--net");
        command.insert(command.end(), {"--", "sh", "-c",
                                       "for f in hosts resolv.conf nsswitch.conf; do mount --bind \"$1/$f\" \"/etc/$f\" "
                                       "|| exit 125; done; shift; exec \"$@\"",
                                       "sh", dir_.path()});
        command.insert(command.end(), argv.begin(), argv.end());
        return run_process(command, kNamesTimeout);
    }

    // A file readable by nobody too (for -iL as nobody).
    std::string file(const std::string& name, const std::string& text) const {
        const std::string path = dir_.path() + "/" + name;
        write_text(path, text);
        return path;
    }

private:
    TempDir dir_;
};

std::vector<std::string> as_nobody(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"});
    return argv;
}

// The addresses of "<prefix> scan report for NAME (IP)" / "... for IP" lines, sorted.
std::vector<std::string> listed_addresses(const std::string& text, const std::string& prefix) {
    std::vector<std::string> addresses;
    std::istringstream lines(text);
    const std::string marker = prefix + " scan report for ";
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(marker, 0) != 0) continue;
        std::string rest = line.substr(marker.size());
        if (const auto open = rest.rfind(" ("); open != std::string::npos) rest = rest.substr(open + 2, rest.size() - open - 3);
        addresses.push_back(rest);
    }
    std::sort(addresses.begin(), addresses.end());
    return addresses;
}

// (a) nmap goes on when one of its targets does not resolve: a warning names it (with the
//     -iL file and line it came from) and the other targets are scanned.
class NameResolution : public LabTest {};

TEST_F(NameResolution, AnUnresolvableNameIsAWarningAndTheOthersAreScanned) {
    const PrivateNames names(lab_address(2) + " flagscan-lab.test\n");
    const std::string list = names.file("targets.txt", "flagscan-lab.test\n# the next one has no address\nnosuch-b.flagscan.test\n");
    TempDir out_dir;
    const std::string json = out_dir.path() + "/scan.jsonl";
    const auto result = names.run({flagscan_bin(), "-sS", "-p", "22,81", "-Pn", "-n", "-oJ", json, "-iL", list,
                                   "nosuch-a.flagscan.test"});
    ASSERT_EQ(result.exit_code, 0) << result.describe();
    EXPECT_NE(result.err.find("warning: cannot resolve 'nosuch-a.flagscan.test'"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("warning: " + list + " line 3: cannot resolve 'nosuch-b.flagscan.test'"),
              std::string::npos) << result.err;
    const ScanOutput output = read_scan_output(json);
    ASSERT_EQ(output.hosts.size(), 1u) << result.describe();
    EXPECT_EQ(output.hosts.front().ip, lab_address(2));
    std::vector<PortKey> duplicates;
    const VerdictMap verdicts = verdicts_of(output, duplicates);
    EXPECT_EQ(verdicts.at({lab_address(2), 22}).state, "open");
    EXPECT_EQ(verdicts.at({lab_address(2), 81}).state, "closed");
}

TEST_F(NameResolution, NoTargetResolvingIsOneErrorLine) {
    const PrivateNames names("");
    const auto result = names.run({flagscan_bin(), "-sS", "-p", "22", "-Pn", "-n", "nosuch-a.flagscan.test",
                                   "nosuch-b.flagscan.test"});
    expect_clean_failure(result);
    EXPECT_NE(result.err.find("nothing to scan"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("nosuch-a.flagscan.test"), std::string::npos) << result.err;
}

TEST_F(NameResolution, ABadTargetFileLineNamesFileAndLine) {
    const PrivateNames names("");
    const std::string list = names.file("targets.txt", lab_address(2) + "\n\n" + lab_address(3) + " 10.0.0.0/33\n");
    const auto result = names.run({flagscan_bin(), "-sS", "-p", "22", "-Pn", "-n", "-iL", list}, true);
    expect_clean_failure(result);
    EXPECT_NE(result.err.find(list + " line 3: bad target '10.0.0.0/33'"), std::string::npos) << result.err;
}

// (b) A maximum below the template's minimum pulls the minimum and the initial timeout down
//     (nmap's rule) instead of refusing the scan.
class Timeouts : public LabTest {};

TEST_F(Timeouts, MaxRttTimeoutAloneScans) {
    const auto scanned = scan({"-sS", "-p", "22,81", "-Pn", "-n", "--max-rtt-timeout", "50ms"}, lab_address(2));
    ASSERT_EQ(scanned.process.exit_code, 0) << scanned.process.describe();
    std::vector<PortKey> duplicates;
    const VerdictMap verdicts = verdicts_of(scanned.output, duplicates);
    EXPECT_EQ(verdicts.at({lab_address(2), 22}).state, "open");
}

// (c) -p with service names scans the ports nmap scans for them (its scaninfo says which).
class ServiceNames : public LabTest {};

// "21-23,80" -> {21, 22, 23, 80}
std::set<int> port_set(const std::string& list) {
    std::set<int> ports;
    std::istringstream items(list);
    for (std::string item; std::getline(items, item, ',');) {
        const auto dash = item.find('-');
        const int first = std::stoi(item.substr(0, dash));
        const int last = dash == std::string::npos ? first : std::stoi(item.substr(dash + 1));
        for (int p = first; p <= last; ++p) ports.insert(p);
    }
    return ports;
}

// What nmap scans for -p SPEC: the services="..." of its scaninfo for PROTOCOL. Asked with
// -sL's sibling that sends nothing: an unreachable port scan inside an empty network namespace.
std::set<int> nmap_ports(const std::vector<std::string>& scan_args, const std::string& protocol) {
    std::vector<std::string> argv{"unshare", "--net", "--", "nmap", "-Pn", "-n", "-oX", "-"};
    argv.insert(argv.end(), scan_args.begin(), scan_args.end());
    argv.push_back(lab_address(2));
    const auto result = run_process(argv, kNamesTimeout);
    const std::string marker = "protocol=\"" + protocol + "\" numservices=";
    const auto at = result.out.find(marker);
    if (at == std::string::npos) return {};
    const auto start = result.out.find("services=\"", at + marker.size()) + 10;
    return port_set(result.out.substr(start, result.out.find('"', start) - start));
}

std::set<int> scanned_ports(const ScanOutput& output, const std::string& protocol) {
    std::set<int> ports;
    for (const auto& line : output.ports)
        if (line.proto == protocol) ports.insert(line.port);
    return ports;
}

TEST_F(ServiceNames, NamesScanWhatNmapScans) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    const std::vector<std::vector<std::string>> cases{{"-sS", "-p", "ssh,http"}, {"-sS", "-p", "T:http*,1000-1001"},
                                                      {"-sU", "-p", "domain"}, {"-sS", "-sU", "-p", "T:ssh,U:snmp"}};
    for (const auto& args : cases) {
        const auto& spec = args.back();
        std::vector<std::string> flagscan_args = args;
        flagscan_args.insert(flagscan_args.end(), {"-Pn", "-n", "--all-ports", "--max-retries", "1"});
        const auto scanned = scan(flagscan_args, lab_address(2));
        ASSERT_EQ(scanned.process.exit_code, 0) << spec << ": " << scanned.process.describe();
        for (const std::string protocol : {"tcp", "udp"}) {
            const bool asked = std::find(args.begin(), args.end(), protocol == "tcp" ? "-sS" : "-sU") != args.end();
            if (!asked) continue;
            const std::set<int> nmap = nmap_ports(args, protocol);
            ASSERT_FALSE(nmap.empty()) << "nmap did not say which " << protocol << " ports -p " << spec << " means";
            EXPECT_EQ(scanned_ports(scanned.output, protocol), nmap) << "-p " << spec << " (" << protocol << ")";
        }
    }
}

// (d) -sL lists the targets and sends nothing: as nobody, in an empty network namespace (no
//     route, no raw socket), it still succeeds, and lists what nmap -sL -n lists. (nmap reads
//     only the -iL file when one is given and ignores the command line's targets; flagscan
//     takes both, so the two are compared apart.)
TEST(ListScan, AsNobodyWithoutNetworkListsWhatNmapLists) {
    if (const auto reason = root_skip_reason(); !reason.empty()) GTEST_SKIP() << reason;
    const PrivateNames names("");
    const std::string net = "10.77." + std::to_string(lab_id()) + ".";
    const std::string list = names.file("targets.txt", net + "50-52 # from a file\n" + net + "60,62\n");
    const std::vector<std::string> exclude{"--exclude", net + "5," + net + "51"};
    // Lab addresses all (nothing is sent anyway): 15 of the /28, 2 + 2 of the lists, 2 + 2 in the file.
    const std::vector<std::pair<std::vector<std::string>, std::size_t>> cases{
        {{net + "0/28", net + "40,42", "10.77.44-45." + std::to_string(lab_id())}, 19u},
        {{"-iL", list}, 4u}};
    for (const auto& [targets, count] : cases) {
        std::vector<std::string> args{"-sL", "-n"};
        args.insert(args.end(), targets.begin(), targets.end());
        args.insert(args.end(), exclude.begin(), exclude.end());
        std::vector<std::string> ours{"unshare", "--net", "--"};
        for (const auto& arg : as_nobody({flagscan_bin()})) ours.push_back(arg);
        ours.insert(ours.end(), args.begin(), args.end());
        const auto listed = run_process(ours, kNamesTimeout);
        ASSERT_EQ(listed.exit_code, 0) << listed.describe();
        EXPECT_EQ(listed.err, "");
        EXPECT_NE(listed.out.find("flagscan done: " + std::to_string(count) + " IP addresses (0 hosts up) scanned in"),
                  std::string::npos) << listed.out;
        EXPECT_EQ(listed_addresses(listed.out, "flagscan").size(), count) << listed.out;
        if (!in_path("nmap")) continue;
        std::vector<std::string> theirs{"unshare", "--net", "--", "nmap"};
        theirs.insert(theirs.end(), args.begin(), args.end());
        const auto nmap = run_process(theirs, kNamesTimeout);
        ASSERT_EQ(nmap.exit_code, 0) << nmap.describe();
        EXPECT_EQ(listed_addresses(listed.out, "flagscan"), listed_addresses(nmap.out, "Nmap"));
    }
}

// Without -n, each listed address carries its name (here from the private /etc/hosts), in the
// normal report, in -oN and in the JSON lines.
TEST(ListScan, NamesFromReverseDnsInEveryOutput) {
    if (const auto reason = root_skip_reason(); !reason.empty()) GTEST_SKIP() << reason;
    const PrivateNames names(lab_address(3) + " three.flagscan.test\n");
    const std::string normal = names.file("list.txt", "");
    const auto listed = names.run({flagscan_bin(), "-sL", "-oN", normal, "-oJ", "-", lab_address(2) + "-4"}, true);
    ASSERT_EQ(listed.exit_code, 0) << listed.describe();
    EXPECT_NE(listed.out.find("{\"ip\":\"" + lab_address(3) + "\",\"hostname\":\"three.flagscan.test\",\"status\":\"listed\"}"),
              std::string::npos) << listed.out;
    EXPECT_NE(listed.out.find("{\"ip\":\"" + lab_address(2) + "\",\"status\":\"listed\"}"), std::string::npos) << listed.out;
    std::ifstream file(normal);
    const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    EXPECT_NE(text.find("flagscan scan report for three.flagscan.test (" + lab_address(3) + ")\n"), std::string::npos) << text;
    EXPECT_NE(text.find("flagscan scan report for " + lab_address(4) + "\n"), std::string::npos) << text;
    EXPECT_NE(text.find("flagscan done: 3 IP addresses (0 hosts up)"), std::string::npos) << text;
}

}  // namespace
}  // namespace flagscan::live

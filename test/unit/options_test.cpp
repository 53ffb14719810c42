// The command line: nmap spellings, long forms, and one clear error line for bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "flagscan/cli/options.hpp"

namespace flagscan {
namespace {

Result<CommandLine> parse(std::vector<std::string> args) {
    args.insert(args.begin(), "flagscan");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(Options, NmapSpellings) {
    auto line = parse({"-sS", "-p-", "-Pn", "-n", "-T4", "--reason", "-oJ", "out.jsonl", "10.0.0.1"});
    ASSERT_TRUE(line) << line.error();
    const auto& c = line->config;
    EXPECT_EQ(c.kind.flags, syn_kind().flags);
    EXPECT_EQ(c.kind.rules.data(), syn_kind().rules.data());
    EXPECT_EQ(c.ports_spec, "-");
    EXPECT_TRUE(c.skip_discovery);
    EXPECT_TRUE(c.no_dns);
    EXPECT_EQ(c.timing.max_retries, 6u);
    EXPECT_TRUE(c.report.reason);
    EXPECT_EQ(c.json_path, "out.jsonl");
    EXPECT_EQ(c.targets, (std::vector<TargetExpression>{{"10.0.0.1", ""}}));
}

TEST(Options, LongFormsMeanTheSame) {
    auto line = parse({"--syn", "--ports", "22,80", "--skip-discovery", "--timing", "4", "--output-json", "-",
                       "--max-rate", "5000", "10.0.0.0/30"});
    ASSERT_TRUE(line) << line.error();
    EXPECT_EQ(line->config.ports_spec, "22,80");
    EXPECT_EQ(line->config.timing.max_rate, 5000);
    EXPECT_EQ(line->config.json_path, "-");
}

TEST(Options, AttachedPortList) {
    auto line = parse({"-p22,80", "10.0.0.1"});
    ASSERT_TRUE(line) << line.error();
    EXPECT_EQ(line->config.ports_spec, "22,80");
}

TEST(Options, FlagScanKinds) {
    for (const auto& kind : all_probe_kinds()) {
        auto line = parse({std::string(kind.nmap_flag), "10.0.0.1"});
        ASSERT_TRUE(line) << line.error();
        EXPECT_EQ(line->config.kind.name, kind.name);
    }
}

TEST(Options, FtpBounce) {
    auto line = parse({"-b", "bob:pw@10.0.0.5:2121", "-p", "22,80", "-Pn", "10.0.0.1"});
    ASSERT_TRUE(line) << line.error();
    EXPECT_TRUE(is_bounce_scan(line->config.kind));
    EXPECT_TRUE(line->config.kind_given);
    ASSERT_TRUE(line->config.ftp_bounce);
    EXPECT_EQ(line->config.ftp_bounce->user, "bob");
    EXPECT_EQ(line->config.ftp_bounce->password, "pw");
    EXPECT_EQ(line->config.ftp_bounce->port, Port{2121});
    auto long_form = parse({"--ftp-bounce", "10.0.0.5", "10.0.0.1"});
    ASSERT_TRUE(long_form) << long_form.error();
    EXPECT_EQ(long_form->config.ftp_bounce->user, "anonymous");
}

TEST(Options, ScanflagsWithABaseKind) {
    auto line = parse({"--scanflags", "SYNFIN", "-sF", "10.0.0.1"});
    ASSERT_TRUE(line) << line.error();
    EXPECT_EQ(line->config.kind.flags.bits(), TcpFlags::syn | TcpFlags::fin);
    EXPECT_EQ(line->config.kind.rules.data(), probe_kind_by_letter('F')->rules.data());
    auto numeric = parse({"--scanflags", "0x29", "10.0.0.1"});
    ASSERT_TRUE(numeric) << numeric.error();
    EXPECT_EQ(numeric->config.kind.flags.str(), "FIN,PSH,URG");
    EXPECT_EQ(numeric->config.kind.rules.data(), syn_kind().rules.data());
    EXPECT_FALSE(parse({"--scanflags", "SYNFOO", "10.0.0.1"}));
}

TEST(Options, BadInputIsOneClearLine) {
    const std::vector<std::vector<std::string>> bad{
        {"-p", "70000", "10.0.0.1"},
        {"-p", "90-80", "10.0.0.1"},
        {"-sZ", "10.0.0.1"},
        {"-sS", "-sF", "10.0.0.1"},
        {"-T9", "10.0.0.1"},
        {"--frobnicate", "10.0.0.1"},
        {"-sS"},
        {"--min-rate", "100", "--max-rate", "10", "10.0.0.1"},
        {"--max-rtt-timeout", "fast", "10.0.0.1"},
        {"-iL", "/nonexistent/targets.txt"},
        {"-g", "70000", "10.0.0.1"},
        {"-sU", "-sT", "10.0.0.1"},
        {"-sU", "-p", "T:80", "10.0.0.1"},
        {"-sn", "-Pn", "10.0.0.1"},
        {"-sn", "-p", "80", "10.0.0.1"},
        {"-PS70000", "10.0.0.1"},
        {"--stats-every", "soon", "10.0.0.1"},
        {"--stats-every", "0s", "10.0.0.1"},
        {"-oX", "-", "-oG", "-", "10.0.0.1"},
        {"-sL", "-oX", "list.xml", "10.0.0.1"},
        {"-oA", "-", "10.0.0.1"},
        {"-oN", "same.txt", "-oJ", "same.txt", "10.0.0.1"},
        {"-b", "10.0.0.5:99999", "10.0.0.1"},
        {"-b", "@10.0.0.5", "10.0.0.1"},
        {"-b", "10.0.0.5", "-sS", "10.0.0.1"},
        {"-b", "10.0.0.5", "-sT", "10.0.0.1"},
        {"-b", "10.0.0.5", "-sU", "10.0.0.1"},
        {"-b", "10.0.0.5", "-sn", "10.0.0.1"},
        {"-b", "10.0.0.5", "-b", "10.0.0.6", "10.0.0.1"},
    };
    for (const auto& args : bad) {
        auto line = parse(args);
        ASSERT_FALSE(line) << args[0];
        EXPECT_FALSE(line.error().empty());
        EXPECT_EQ(line.error().find('\n'), std::string::npos) << line.error();
    }
}

TEST(Options, UdpAndDiscovery) {
    auto both = parse({"-sS", "-sU", "-p", "U:53,T:22", "10.0.0.1"});
    ASSERT_TRUE(both) << both.error();
    EXPECT_TRUE(both->config.tcp_scan);
    EXPECT_TRUE(both->config.udp_scan);
    auto udp = parse({"-sU", "10.0.0.1"});
    ASSERT_TRUE(udp) << udp.error();
    EXPECT_FALSE(udp->config.tcp_scan);
    auto ping = parse({"-sn", "-PE", "-PS22,443", "-PA", "-PU53", "10.0.0.0/24"});
    ASSERT_TRUE(ping) << ping.error();
    EXPECT_TRUE(ping->config.ping_only);
    EXPECT_TRUE(ping->config.ping.echo);
    EXPECT_FALSE(ping->config.ping.timestamp);
    EXPECT_EQ(ping->config.ping.syn, (std::vector<Port>{Port{22}, Port{443}}));
    EXPECT_EQ(ping->config.ping.ack, (std::vector<Port>{Port{80}}));  // nmap's default for a bare -PA
    EXPECT_EQ(ping->config.ping.udp, (std::vector<Port>{Port{53}}));
    auto plain = parse({"-sn", "10.0.0.1"});
    ASSERT_TRUE(plain) << plain.error();
    EXPECT_FALSE(plain->config.ping.given());
}

TEST(Options, Durations) {
    EXPECT_EQ(parse_duration("100ms"), 100 * kMillisecond);
    EXPECT_EQ(parse_duration("2"), 2 * kSecond);
    EXPECT_EQ(parse_duration("1.5s"), 1500 * kMillisecond);
    EXPECT_EQ(parse_duration("1m"), 60 * kSecond);
    EXPECT_FALSE(parse_duration("ms"));
    EXPECT_FALSE(parse_duration("5 parsecs"));
}

TEST(Options, StatsEvery) {
    auto every = parse({"--stats-every", "500ms", "10.0.0.1"});
    ASSERT_TRUE(every) << every.error();
    EXPECT_EQ(every->config.stats_every, 500 * kMillisecond);
    auto none = parse({"10.0.0.1"});
    ASSERT_TRUE(none) << none.error();
    EXPECT_EQ(none->config.stats_every, 0);
}

// nmap reads "10.0.0.1,3" as one target (10.0.0.1 and 10.0.0.3): the parser must not split it.
TEST(Options, TargetsWithCommasStayWhole) {
    auto line = parse({"-p", "22", "10.0.0.1,3", "10.0.1-2.1,3", "--exclude", "10.0.0.3,10.0.2.3"});
    ASSERT_TRUE(line) << line.error();
    EXPECT_EQ(line->config.targets, (std::vector<TargetExpression>{{"10.0.0.1,3", ""}, {"10.0.1-2.1,3", ""}}));
    EXPECT_EQ(line->config.excludes, (std::vector<TargetExpression>{{"10.0.0.3", ""}, {"10.0.2.3", ""}}));
}

// nmap 7.93 -d shows the same: a timeout given pulls the template's others into line.
TEST(Options, RttTimeoutsNotGivenFitTheGivenOnes) {
    auto max_only = parse({"--max-rtt-timeout", "50ms", "10.0.0.1"});
    ASSERT_TRUE(max_only) << max_only.error();
    EXPECT_EQ(max_only->config.timing.max_rto, 50 * kMillisecond);
    EXPECT_EQ(max_only->config.timing.min_rto, 50 * kMillisecond);
    EXPECT_EQ(max_only->config.timing.initial_rto, 50 * kMillisecond);
    auto insane_min = parse({"-T5", "--min-rtt-timeout", "500ms", "10.0.0.1"});
    ASSERT_TRUE(insane_min) << insane_min.error();
    EXPECT_EQ(insane_min->config.timing.min_rto, 500 * kMillisecond);
    EXPECT_EQ(insane_min->config.timing.max_rto, 500 * kMillisecond);
    EXPECT_EQ(insane_min->config.timing.initial_rto, 500 * kMillisecond);
    auto long_initial = parse({"--initial-rtt-timeout", "20s", "10.0.0.1"});
    ASSERT_TRUE(long_initial) << long_initial.error();
    EXPECT_EQ(long_initial->config.timing.initial_rto, 20 * kSecond);
    EXPECT_EQ(long_initial->config.timing.max_rto, 20 * kSecond);
    EXPECT_EQ(long_initial->config.timing.min_rto, 100 * kMillisecond);
    auto aggressive = parse({"-T4", "--max-rtt-timeout", "1s", "10.0.0.1"});  // inside -T4's range: nothing moves
    ASSERT_TRUE(aggressive) << aggressive.error();
    EXPECT_EQ(aggressive->config.timing.max_rto, kSecond);
    EXPECT_EQ(aggressive->config.timing.min_rto, 30 * kMillisecond);
    EXPECT_EQ(aggressive->config.timing.initial_rto, 500 * kMillisecond);
    auto between = parse({"--min-rtt-timeout", "2s", "--max-rtt-timeout", "3s", "10.0.0.1"});
    ASSERT_TRUE(between) << between.error();
    EXPECT_EQ(between->config.timing.initial_rto, 2 * kSecond);
}

TEST(Options, RttTimeoutsGivenInConflictAreAnError) {
    auto min_max = parse({"--min-rtt-timeout", "100ms", "--max-rtt-timeout", "50ms", "10.0.0.1"});
    ASSERT_FALSE(min_max);
    EXPECT_EQ(min_max.error(), "--min-rtt-timeout is above --max-rtt-timeout");
    auto initial_max = parse({"--initial-rtt-timeout", "2s", "--max-rtt-timeout", "1s", "10.0.0.1"});
    ASSERT_FALSE(initial_max);
    EXPECT_EQ(initial_max.error(), "--initial-rtt-timeout is above --max-rtt-timeout");
    auto initial_min = parse({"--initial-rtt-timeout", "100ms", "--min-rtt-timeout", "1s", "10.0.0.1"});
    ASSERT_FALSE(initial_min);
    EXPECT_EQ(initial_min.error(), "--initial-rtt-timeout is below --min-rtt-timeout");
}

// As nmap 7.93: one -p, not with -F; --top-ports with -p picks among the -p ports.
TEST(Options, PortSelectionsThatContradict) {
    auto twice = parse({"-p-", "-p", "22", "10.0.0.1"});
    ASSERT_FALSE(twice);
    EXPECT_NE(twice.error().find("-p was given twice"), std::string::npos) << twice.error();
    auto fast = parse({"-F", "-p", "22", "10.0.0.1"});
    ASSERT_FALSE(fast);
    EXPECT_NE(fast.error().find("-F"), std::string::npos) << fast.error();
    auto top = parse({"--top-ports", "10", "-p", "1-100", "10.0.0.1"});
    ASSERT_TRUE(top) << top.error();
    EXPECT_TRUE(top->config.top_ports_given);
    EXPECT_EQ(top->config.top_ports, 10u);
    EXPECT_EQ(top->config.ports_spec, "1-100");
}

// Names come from the system's nmap-services, else /etc/services: both list ssh, http, domain.
TEST(Options, ServiceNamesInPorts) {
    auto names = parse({"-p", "ssh,http,1000-1002", "10.0.0.1"});
    ASSERT_TRUE(names) << names.error();
    EXPECT_EQ(names->config.ports_spec, "ssh,http,1000-1002");
    EXPECT_TRUE(parse({"-sU", "-p", "domain", "10.0.0.1"}));
    EXPECT_TRUE(parse({"-sS", "-sU", "-p", "T:ssh,U:domain", "10.0.0.1"}));
    auto unknown = parse({"-p", "ssh,nosuchservice", "10.0.0.1"});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error(), "bad port spec 'nosuchservice': not a port number, and no service has that name");
}

TEST(Options, NormalOutputToStdout) {
    auto dash = parse({"-oN", "-", "10.0.0.1"});
    ASSERT_TRUE(dash) << dash.error();
    EXPECT_EQ(dash->config.normal_path, "");  // no file named "-": stdout has the normal report
    auto both = parse({"-oN", "-", "-oJ", "-", "10.0.0.1"});
    ASSERT_FALSE(both);
    EXPECT_NE(both.error().find("stdout"), std::string::npos) << both.error();
}

// -oX and -oG take a file, or "-" for stdout; only one output may have stdout.
TEST(Options, XmlAndGrepableOutputs) {
    auto files = parse({"-oX", "scan.xml", "--output-grepable", "scan.gnmap", "10.0.0.1"});
    ASSERT_TRUE(files) << files.error();
    EXPECT_EQ(files->config.xml_path, "scan.xml");
    EXPECT_EQ(files->config.grepable_path, "scan.gnmap");
    EXPECT_EQ(files->config.command_line, "flagscan -oX scan.xml --output-grepable scan.gnmap 10.0.0.1");  // as typed
    auto dash = parse({"-oX", "-", "-oG", "scan.gnmap", "10.0.0.1"});
    ASSERT_TRUE(dash) << dash.error();
    EXPECT_EQ(dash->config.xml_path, "-");
    auto two = parse({"-oJ", "-", "-oX", "-", "10.0.0.1"});
    ASSERT_FALSE(two);
    EXPECT_EQ(two.error(), "-oX - and -oJ - would both write to stdout: send one of them to a file");
}

TEST(Options, ListScan) {
    auto list = parse({"-sL", "-n", "--exclude", "10.0.0.5", "10.0.0.0/29"});
    ASSERT_TRUE(list) << list.error();
    EXPECT_TRUE(list->config.list_only);
    EXPECT_FALSE(list->config.ping_only);
    for (const auto& extra : std::vector<std::vector<std::string>>{
             {"-sS"}, {"-sT"}, {"-sU"}, {"-sn"}, {"-p", "22"}, {"-F"}, {"--top-ports", "10"}, {"--scanflags", "SYN"}}) {
        std::vector<std::string> args{"-sL"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back("10.0.0.1");
        auto line = parse(args);
        ASSERT_FALSE(line) << extra[0];
        EXPECT_NE(line.error().find("-sL"), std::string::npos) << line.error();
    }
}

TEST(Options, HelpListsLongForms) {
    auto line = parse({"--help"});
    ASSERT_TRUE(line);
    EXPECT_EQ(line->action, CommandLine::Action::help);
    for (const char* option : {"--ports", "--skip-discovery", "--output-json", "--max-rate", "--timing", "--reason",
                               "--interface", "--exclude", "--input-file", "--seed", "--max-retries", "--list-scan"})
        EXPECT_NE(line->help.find(option), std::string::npos) << option;
}

// -sV and its options land in the config (the scan commands refuse -sV until the phase is wired).
TEST(Options, ServiceVersion) {
    auto plain = parse({"-sV", "10.0.0.1"});
    ASSERT_TRUE(plain) << plain.error();
    EXPECT_TRUE(plain->config.version_detection);
    EXPECT_EQ(plain->config.version_intensity, 7);
    EXPECT_FALSE(plain->config.probe_files.versiondb);
    EXPECT_FALSE(plain->config.probe_files.datadir);
    auto none = parse({"10.0.0.1"});
    ASSERT_TRUE(none) << none.error();
    EXPECT_FALSE(none->config.version_detection);
    auto long_form = parse({"--service-version", "--version-intensity", "0", "--versiondb", "probes.txt", "--datadir",
                            FLAGSCAN_SOURCE_ROOT, "10.0.0.1"});
    ASSERT_TRUE(long_form) << long_form.error();
    EXPECT_TRUE(long_form->config.version_detection);
    EXPECT_EQ(long_form->config.version_intensity, 0);
    EXPECT_EQ(long_form->config.probe_files.versiondb, std::optional<std::string>{"probes.txt"});
    EXPECT_EQ(long_form->config.probe_files.datadir, std::optional<std::string>{FLAGSCAN_SOURCE_ROOT});
    auto light = parse({"-sV", "--version-light", "10.0.0.1"});
    ASSERT_TRUE(light) << light.error();
    EXPECT_EQ(light->config.version_intensity, 2);
    auto all = parse({"-sV", "--version-all", "10.0.0.1"});
    ASSERT_TRUE(all) << all.error();
    EXPECT_EQ(all->config.version_intensity, 9);
    auto nine = parse({"-sV", "--version-intensity=9", "10.0.0.1"});
    ASSERT_TRUE(nine) << nine.error();
    EXPECT_EQ(nine->config.version_intensity, 9);
}

TEST(Options, ServiceVersionErrors) {
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"-sV", "--version-intensity", "10", "10.0.0.1"}, "bad --version-intensity '10': use 0-9"},
        {{"-sV", "--version-intensity", "-1", "10.0.0.1"}, "bad --version-intensity '-1': use 0-9"},
        {{"-sV", "--version-intensity", "7x", "10.0.0.1"}, "bad --version-intensity '7x': use 0-9"},
        {{"-sV", "--version-intensity", "", "10.0.0.1"}, "bad --version-intensity '': use 0-9"},
        {{"-sV", "--version-light", "--version-all", "10.0.0.1"},
         "give one of --version-intensity, --version-light and --version-all"},
        {{"-sV", "--version-intensity", "3", "--version-light", "10.0.0.1"},
         "give one of --version-intensity, --version-light and --version-all"},
        {{"--version-intensity", "3", "10.0.0.1"}, "--version-intensity goes with -sV"},
        {{"--version-all", "10.0.0.1"}, "--version-all goes with -sV"},
        {{"--versiondb", "x", "10.0.0.1"}, "--versiondb goes with -sV"},
        {{"--datadir", "/", "10.0.0.1"}, "--datadir goes with -sV"},
        {{"-sV", "--versiondb", "", "10.0.0.1"}, "--versiondb needs a file name"},
        {{"-sV", "--versiondb", "a", "--versiondb", "b", "10.0.0.1"}, "--versiondb was given twice"},
        {{"-sV", "--datadir", "/nonexistent-flagscan-dir", "10.0.0.1"},
         "--datadir '/nonexistent-flagscan-dir' is not a directory"},
        {{"-sV", "-sn", "10.0.0.1"}, "-sV probes the open ports a port scan finds: it goes with no -sn and no -sL"},
        {{"-sV", "-sL", "10.0.0.1"}, "-sV probes the open ports a port scan finds: it goes with no -sn and no -sL"},
    };
    for (const auto& [args, message] : cases) {
        auto line = parse(args);
        ASSERT_FALSE(line) << args.at(1);
        EXPECT_EQ(line.error(), message);
        EXPECT_EQ(line.error().find('\n'), std::string::npos);
    }
}

TEST(Options, HelpListsServiceDetection) {
    auto line = parse({"--help"});
    ASSERT_TRUE(line);
    for (const char* option : {"--service-version", "--version-intensity", "--version-light", "--version-all",
                               "--versiondb", "--datadir", "[nmap: -sV]"})
        EXPECT_NE(line->help.find(option), std::string::npos) << option;
}

// -6 / --ipv6 (nmap's), or an IPv6 target among the command line's or an -iL file's: an IPv6 scan.
TEST(Ipv6Targets, OptionSixAndImpliedByATarget) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"-6", "-sL", "-n", "box6.test"},
                                                                 {"--ipv6", "-sL", "-n", "box6.test"},
                                                                 {"-sL", "-n", "fd77:73::100/126"},
                                                                 {"-sS", "-p", "22", "box6.test", "fd77:73::1-fd77:73::9"}}) {
        auto line = parse(args);
        ASSERT_TRUE(line) << line.error();
        EXPECT_TRUE(line->config.ipv6) << args.front();
    }
    auto ipv4 = parse({"-sL", "-n", "box.test", "10.0.0.1"});
    ASSERT_TRUE(ipv4) << ipv4.error();
    EXPECT_FALSE(ipv4->config.ipv6);
    const std::string path = ::testing::TempDir() + "ipv6_targets_option.txt";
    std::ofstream(path) << "# lab\nfd77:73::100 - fd77:73::103\n";
    auto listed = parse({"-sL", "-n", "-iL", path});
    std::remove(path.c_str());
    ASSERT_TRUE(listed) << listed.error();
    EXPECT_TRUE(listed->config.ipv6);
    EXPECT_EQ(listed->config.targets.front().text, "fd77:73::100-fd77:73::103");
}

TEST(Ipv6Targets, OptionSourceAddressOfEitherFamily) {
    auto six = parse({"-6", "-S", "fd77:73::1", "-e", "fsh73", "fd77:73::2"});
    ASSERT_TRUE(six) << six.error();
    EXPECT_EQ(six->config.source6->str(), "fd77:73::1");
    EXPECT_FALSE(six->config.source);
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"-S", "fd77:73::1", "10.0.0.1"}, "-S fd77:73::1 is an IPv6 address: the targets are IPv4 (an IPv6 scan takes -6 or IPv6 targets)"},
        {{"-S", "10.77.73.1", "fd77:73::2"}, "-S 10.77.73.1 is an IPv4 address: an IPv6 scan needs an IPv6 source"},
        {{"-S", "fd77::73::1", "fd77:73::2"}, "bad source address 'fd77::73::1'"},
    };
    for (const auto& [args, message] : cases) {
        auto line = parse(args);
        ASSERT_FALSE(line) << args.at(1);
        EXPECT_EQ(line.error(), message);
    }
}

// What IPv6 cannot do (yet, or ever): one line each, before anything is resolved or sent.
TEST(Ipv6Targets, OptionRefusals) {
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"-6", "-sn", "-PP", "box6.test"}, "-PP (ICMP timestamp) has no IPv6 counterpart, as in nmap: use -PE, -PS, -PA or -PU"},
        {{"-O", "fd00::1"}, "-O is not available over IPv6 yet"},
        {{"--ip-options", "R", "fd00::1"}, "--ip-options sets the IPv4 header's options field (RFC 791 3.1), which an "
                                             "IPv6 header has not: there is no --ip-options over IPv6"},
        {{"-b", "ftp.test", "fd00::1"},
         "-b (FTP bounce scan) is IPv4 only, as in nmap: PORT names an IPv4 address (RFC 959); EPRT bouncing (RFC 2428) is not done"},
        {{"--offline", "fd00::1"}, "--offline is not available over IPv6 yet"},
    };
    for (const auto& [args, message] : cases) {
        auto line = parse(args);
        ASSERT_FALSE(line) << args.at(0);
        EXPECT_EQ(line.error(), message);
    }
    EXPECT_TRUE(parse({"-sn", "-PE", "-PS22", "-PA80", "-PU53", "fd00::1"}));
    EXPECT_TRUE(parse({"-sV", "--banners", "-I", "--checks", "fd00::1"}));  // the service layer speaks IPv6
    EXPECT_TRUE(parse({"-O", "10.0.0.1"}));  // IPv4 keeps them all
    EXPECT_TRUE(parse({"-f", "-D", "fd00::5,ME", "fd00::1"}));  // shaping6_test.cpp: fragments and decoys over IPv6
}

}  // namespace
}  // namespace flagscan

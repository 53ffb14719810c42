// The command line: nmap spellings, long forms, and one clear error line for bad input.
#include <gtest/gtest.h>

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
    EXPECT_EQ(c.targets, std::vector<std::string>{"10.0.0.1"});
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
        {"-oX", "out.xml", "10.0.0.1"},
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

TEST(Options, HelpListsLongForms) {
    auto line = parse({"--help"});
    ASSERT_TRUE(line);
    EXPECT_EQ(line->action, CommandLine::Action::help);
    for (const char* option : {"--ports", "--skip-discovery", "--output-json", "--max-rate", "--timing", "--reason",
                               "--interface", "--exclude", "--input-file", "--seed", "--max-retries"})
        EXPECT_NE(line->help.find(option), std::string::npos) << option;
}

}  // namespace
}  // namespace flagscan

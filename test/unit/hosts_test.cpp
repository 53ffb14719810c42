// The command line's hosts: names that do not resolve are warned about and skipped, as in nmap.
#include "flagscan/cli/hosts.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace flagscan {
namespace {

// Knows one name; everything else does not resolve. Never asks the system.
std::vector<Ipv4> lab_resolver(std::string_view name) {
    if (name == "box.test") return {Ipv4{10, 0, 0, 7}};
    return {};
}

ScanConfig with_targets(std::vector<TargetExpression> targets, std::vector<TargetExpression> excludes = {}) {
    ScanConfig config;
    config.targets = std::move(targets);
    config.excludes = std::move(excludes);
    return config;
}

TEST(Hosts, AnUnresolvableNameIsAWarningAndTheOthersStay) {
    std::ostringstream err;
    const auto hosts = command_line_hosts(
        with_targets({{"10.0.0.1", ""}, {"gone.test", ""}, {"box.test", ""}, {"lost.test", "list.txt line 4"}}),
        lab_resolver, err);
    ASSERT_TRUE(hosts) << hosts.error();
    EXPECT_EQ(hosts->size(), 2u);
    EXPECT_TRUE(hosts->contains(Ipv4{10, 0, 0, 1}));
    EXPECT_TRUE(hosts->contains(Ipv4{10, 0, 0, 7}));
    EXPECT_EQ(err.str(),
              "flagscan: warning: cannot resolve 'gone.test'; skipping it\n"
              "flagscan: warning: list.txt line 4: cannot resolve 'lost.test'; skipping it\n");
}

TEST(Hosts, NoTargetResolvedIsOneErrorAndNoWarnings) {
    std::ostringstream err;
    const auto hosts = command_line_hosts(with_targets({{"gone.test", ""}, {"lost.test", ""}}), lab_resolver, err);
    ASSERT_FALSE(hosts);
    EXPECT_EQ(hosts.error(), "nothing to scan: no target resolved: cannot resolve 'gone.test' (and 1 more)");
    EXPECT_EQ(err.str(), "");
}

TEST(Hosts, ABadExpressionStillFailsEverything) {
    std::ostringstream err;
    const auto hosts =
        command_line_hosts(with_targets({{"10.0.0.1", ""}, {"10.0.0.0/33", "list.txt line 2"}}), lab_resolver, err);
    ASSERT_FALSE(hosts);
    EXPECT_EQ(hosts.error(), "list.txt line 2: bad target '10.0.0.0/33': prefix must be 0-32");
}

TEST(Hosts, ExcludesAreSubtractedAndMustResolve) {
    std::ostringstream err;
    const auto hosts = command_line_hosts(with_targets({{"10.0.0.0/29", ""}}, {{"box.test", ""}, {"10.0.0.0,1", ""}}),
                                          lab_resolver, err);
    ASSERT_TRUE(hosts) << hosts.error();
    EXPECT_EQ(hosts->size(), 5u);  // .2-.6
    EXPECT_FALSE(hosts->contains(Ipv4{10, 0, 0, 7}));
    const auto unsure = command_line_hosts(with_targets({{"10.0.0.0/29", ""}}, {{"gone.test", ""}}), lab_resolver, err);
    ASSERT_FALSE(unsure);
    EXPECT_EQ(unsure.error(), "--exclude: cannot resolve 'gone.test'");
    const auto nothing_left =
        command_line_hosts(with_targets({{"box.test", ""}}, {{"10.0.0.7", ""}}), lab_resolver, err);
    ASSERT_FALSE(nothing_left);
    EXPECT_EQ(nothing_left.error(), "no targets left to scan after --exclude");
}

}  // namespace
}  // namespace flagscan

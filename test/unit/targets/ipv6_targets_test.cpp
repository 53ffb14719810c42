// IPv6 targets: every expression form, limits, no mix, exclusions, AddressBook keys, the route in keys, -sL.
#include "flagscan/targets/ipv6_targets.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "flagscan/cli/hosts.hpp"
#include "flagscan/cli/route.hpp"
#include "flagscan/cli/runner.hpp"
#include "flagscan/targets/reserved.hpp"

namespace flagscan {
namespace {

Ipv6 ip6(std::string_view text) { return *Ipv6::parse(text); }
Ipv6Range range6(std::string_view first, std::string_view last) { return {ip6(first), ip6(last)}; }

// Knows two names; everything else does not resolve. Never asks the system.
std::vector<Ipv6> lab_resolver(std::string_view name) {
    if (name == "box6.test") return {ip6("fd77:73::107"), ip6("fd77:73::2")};
    if (name == "other6.test") return {ip6("fd00:9::5")};
    return {};
}

Result<ParsedTargets6> parse_all(std::vector<TargetExpression> expressions) {
    return parse_target_list6(expressions, lab_resolver);
}

ScanConfig ipv6_config(std::vector<TargetExpression> targets, std::vector<TargetExpression> excludes = {}) {
    ScanConfig config;
    config.ipv6 = true;
    config.targets = std::move(targets);
    config.excludes = std::move(excludes);
    return config;
}

TEST(Ipv6Targets, EveryFormSortedAndJoined) {
    const auto parsed = parse_all({{"fd77:73::100/126", ""},
                                   {"fd77:73::102-fd77:73::105", ""},  // overlaps the prefix and goes on
                                   {"FD77:73:0:0:0:0:0:1", ""},        // upper case, no "::"
                                   {"fd77:73::106", ""},               // touches the range: joined
                                   {"box6.test", ""}});                // its first address only
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->addresses, (Ipv6Ranges{range6("fd77:73::1", "fd77:73::1"), range6("fd77:73::100", "fd77:73::107")}));
    EXPECT_TRUE(parsed->unresolved.empty());
}

TEST(Ipv6Targets, PrefixHostBitsAreMaskedAsNmapReadsACidr) {
    const auto parsed = parse_all({{"fd77:73::1ff/120", ""}});
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->addresses, (Ipv6Ranges{range6("fd77:73::100", "fd77:73::1ff")}));
}

TEST(Ipv6Targets, NameWithPrefix) {
    const auto parsed = parse_all({{"other6.test/126", ""}});
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->addresses, (Ipv6Ranges{range6("fd00:9::4", "fd00:9::7")}));
}

TEST(Ipv6Targets, UnresolvedNamesAreListedWithTheirOrigin) {
    const auto parsed = parse_all({{"fd00::1", ""}, {"gone6.test", "list.txt line 2"}});
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->unresolved, (std::vector<std::string>{"list.txt line 2: cannot resolve 'gone6.test'"}));
}

TEST(Ipv6Targets, ThePrefixLimitIsTheBookCapacity) {
    ASSERT_EQ(AddressBook::kCapacity, 16777215u);
    // A /104 is 2^24 addresses, one more than the keys of 0.0.0.0/8 less 0.0.0.0: refused, as is anything wider.
    for (const char* too_wide : {"fd00::/104", "fd00::/64", "::/0"}) {
        const auto parsed = parse_all({{too_wide, ""}});
        ASSERT_FALSE(parsed) << too_wide;
        EXPECT_EQ(parsed.error(), "bad target '" + std::string(too_wide) +
                                      "': too many addresses: one IPv6 scan walks at most 16777215 (2^24 - 1: a /105 fits, a /104 does not)");
    }
    const auto range = parse_all({{"fd00::1-fd00::100:0", "big.txt line 7"}});  // 2^24 addresses
    ASSERT_FALSE(range);
    EXPECT_EQ(range.error(), "big.txt line 7: bad target 'fd00::1-fd00::100:0': too many addresses: one IPv6 scan walks at most "
                             "16777215 (2^24 - 1: a /105 fits, a /104 does not)");
    const auto fits = parse_all({{"fd00::1-fd00::ff:ffff", ""}, {"fd00::/105", ""}});  // 2^24 - 1 and 2^23
    ASSERT_TRUE(fits) << fits.error();
}

TEST(Ipv6Targets, TheTotalLimitToo) {
    const auto parsed = parse_all({{"fd00::/105", ""}, {"fd01::/105", ""}, {"fd02::/105", ""}});  // 3 * 2^23
    ASSERT_TRUE(parsed) << parsed.error();
    const auto booked = book_targets(parsed->addresses);
    ASSERT_FALSE(booked);
    EXPECT_EQ(booked.error(), "the targets hold 25165824 IPv6 addresses: too many addresses: one IPv6 scan walks at most 16777215 (2^24 - 1: a /105 fits, a /104 does not)");
}

TEST(Ipv6Targets, NoIpv4InAnIpv6Scan) {
    for (const char* ipv4 : {"10.0.0.1", "10.0.0.0/24", "10.0.0-3.1"}) {
        const auto parsed = parse_all({{"fd00::1", ""}, {ipv4, ""}});
        ASSERT_FALSE(parsed) << ipv4;
        EXPECT_EQ(parsed.error(), "cannot mix IPv4 and IPv6 targets in one scan: run two scans ('" + std::string(ipv4) + "' is IPv4)");
    }
}

TEST(Ipv6Targets, BadExpressionsSayWhy) {
    const std::pair<const char*, const char*> cases[] = {
        {"fd00::g", "bad target 'fd00::g': 'fd00::g' is not an IPv6 address: "},
        {"fd00::/129", "bad target 'fd00::/129': 'fd00::/129' is not an IPv6 prefix: the length is not a number from 0 to 128"},
        {"fd00::9-fd00::1", "bad target 'fd00::9-fd00::1': 'fd00::9-fd00::1' is not an IPv6 range: its end comes before its start"},
        {"fd00::1-fd00::9/120", "bad target 'fd00::1-fd00::9/120': a range takes no '/length'"},
        {"fe80::1%eth0", "bad target 'fe80::1%eth0': 'fe80::1%eth0' is not an IPv6 address: zone indices ('%') are not supported"},
        {"box6.test/200", "bad target 'box6.test/200': prefix must be 0-128"},
        {"/120", "bad target '/120': missing address before '/'"},
        {"::ffff:10.0.0.1", "bad target '::ffff:10.0.0.1': an IPv4-mapped address (::ffff:0:0/96, RFC 4291 2.5.5.2) is an "
                            "IPv4 host: scan its IPv4 address without -6"},
    };
    for (const auto& [expression, message] : cases) {
        const auto parsed = parse_all({{expression, ""}});
        ASSERT_FALSE(parsed) << expression;
        EXPECT_TRUE(parsed.error().starts_with(message)) << parsed.error();
    }
}

TEST(Ipv6Targets, MergeAndSubtractAtTheEndsOfTheSpace) {
    const Ipv6 last{~0ULL, ~0ULL};
    EXPECT_EQ(merge_ranges({{last, last}, {ip6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0"), last}, {Ipv6{}, Ipv6{}}, {ip6("::1"), ip6("::1")}}),
              (Ipv6Ranges{{Ipv6{}, ip6("::1")}, {ip6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0"), last}}));
    const Ipv6Ranges from{{Ipv6{}, ip6("::ff")}, {ip6("::1:0"), ip6("::1:ffff")}};
    const Ipv6Ranges cut{{Ipv6{}, ip6("::0")}, {ip6("::10"), ip6("::1f")}, {ip6("::f0"), ip6("::1:0")}, {ip6("::1:ffff"), last}};
    EXPECT_EQ(subtract_ranges(from, cut), (Ipv6Ranges{{ip6("::1"), ip6("::f")}, {ip6("::20"), ip6("::ef")}, {ip6("::1:1"), ip6("::1:fffe")}}));
    EXPECT_EQ(subtract_ranges({{ip6("::1:0"), ip6("::1:ffff")}}, {{ip6("::1:0:0"), ip6("::1:0:0")}}), (Ipv6Ranges{{ip6("::1:0"), ip6("::1:ffff")}}));
    EXPECT_EQ(address_count({{Ipv6{}, last}}), ~0ULL);
    EXPECT_EQ(address_count({{ip6("::1"), ip6("::10")}, {ip6("::20"), ip6("::20")}}), 17u);
}

TEST(Ipv6Targets, TheBookKeysFollowTheAddressOrder) {
    const auto parsed = parse_all({{"fd77:73::200", ""}, {"fd77:73::100/126", ""}, {"fd77:73::2", ""}});
    ASSERT_TRUE(parsed) << parsed.error();
    const auto booked = book_targets(parsed->addresses);
    ASSERT_TRUE(booked) << booked.error();
    ASSERT_EQ(booked->keys.ranges().size(), 1u);
    EXPECT_EQ(booked->keys.ranges().front(), (Ipv4Range{Ipv4{0, 0, 0, 1}, Ipv4{0, 0, 0, 6}}));
    const std::vector<std::string> expected{"fd77:73::2", "fd77:73::100", "fd77:73::101", "fd77:73::102", "fd77:73::103", "fd77:73::200"};
    for (std::uint64_t i = 0; i < booked->keys.size(); ++i) EXPECT_EQ(booked->book->text(booked->keys.at(i)), expected[i]);
    EXPECT_EQ(booked->book->key_of(ip6("fd77:73::102")), (Ipv4{0, 0, 0, 4}));
}

TEST(Ipv6Targets, MulticastIsNeverScanned) {
    EXPECT_TRUE(refuse_never_unicast(Ipv6Ranges{range6("fd00::1", "fd00::2")}));
    const auto multicast = refuse_never_unicast(Ipv6Ranges{range6("fd00::1", "fd00::2"), range6("ff02::1", "ff02::1")});
    ASSERT_FALSE(multicast);
    EXPECT_EQ(multicast.error(), "refusing to scan multicast addresses (ff00::/8, RFC 4291 2.7): ff02::1");
    const auto across = refuse_never_unicast(Ipv6Ranges{range6("feff:ffff:ffff:ffff:ffff:ffff:ffff:ff00", "ff00::ff")});
    ASSERT_FALSE(across);
    EXPECT_EQ(across.error(), "refusing to scan multicast addresses (ff00::/8, RFC 4291 2.7): ff00::");
}

TEST(Ipv6Targets, CommandLineExcludesAndWarnings) {
    std::ostringstream err;
    const auto hosts = command_line_hosts6(
        ipv6_config({{"fd77:73::100/124", ""}, {"gone6.test", "list.txt line 4"}},
                    {{"fd77:73::104-fd77:73::10b", ""}, {"10.0.0.0/8", ""}, {"box6.test", ""}}),  // IPv4 exclusions pass over
        lab_resolver, err);
    ASSERT_TRUE(hosts) << hosts.error();
    EXPECT_EQ(*hosts, (Ipv6Ranges{range6("fd77:73::100", "fd77:73::103"), range6("fd77:73::10c", "fd77:73::10f")}));
    EXPECT_EQ(err.str(), "flagscan: warning: list.txt line 4: cannot resolve 'gone6.test'; skipping it\n");
}

TEST(Ipv6Targets, CommandLineErrors) {
    std::ostringstream err;
    const auto none = command_line_hosts6(ipv6_config({{"gone6.test", ""}}), lab_resolver, err);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error(), "nothing to scan: no target resolved: cannot resolve 'gone6.test'");
    const auto all_excluded = command_line_hosts6(ipv6_config({{"fd00::1", ""}}, {{"fd00::/120", ""}}), lab_resolver, err);
    ASSERT_FALSE(all_excluded);
    EXPECT_EQ(all_excluded.error(), "no targets left to scan after --exclude");
    const auto exclude_unresolved = command_line_hosts6(ipv6_config({{"fd00::1", ""}}, {{"gone6.test", ""}}), lab_resolver, err);
    ASSERT_FALSE(exclude_unresolved);
    EXPECT_EQ(exclude_unresolved.error(), "--exclude: cannot resolve 'gone6.test'");
}

TEST(Ipv6Targets, AnIpv4ScanPassesOverIpv6Exclusions) {
    ScanConfig config;
    config.targets = {{"10.0.0.0/30", ""}};
    config.excludes = {{"fd00::/120", ""}, {"10.0.0.1", ""}};
    std::ostringstream err;
    const auto hosts = command_line_hosts(config, [](std::string_view) { return std::vector<Ipv4>{}; }, err);
    ASSERT_TRUE(hosts) << hosts.error();
    EXPECT_EQ(hosts->size(), 3u);
}

// The lab's routes as /proc/net/ipv6_route lists them (lab.sh up 73): the /64 on the veth, the
// /120 routed via fd77:73::2, our own address (RTF_LOCAL), multicast, a default route elsewhere.
constexpr std::string_view kLabRoutes =
    "fd770073000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001    fsh73\n"
    "fd770073000000000000000000000100 78 00000000000000000000000000000000 00 fd770073000000000000000000000002 00000400 00000001 00000000 00000003    fsh73\n"
    "fd770073000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001    fsh73\n"
    "ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001    fsh73\n"
    "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
    "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001    fsh73\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n"
    "not a route line\n";

TEST(Ipv6Targets, KernelRoutesSayWhatIsOnTheLink) {
    const auto routes = parse_ipv6_routes(kLabRoutes);
    ASSERT_EQ(routes.size(), 8u);
    EXPECT_EQ(routes[1].destination.str(), "fd77:73::100/120");
    EXPECT_EQ(routes[1].next_hop, ip6("fd77:73::2"));
    EXPECT_EQ(routes[1].metric, 0x400u);
    EXPECT_EQ(routes[1].device, "fsh73");
    EXPECT_TRUE(on_link(routes, ip6("fd77:73::2"), "fsh73"));     // the namespace's veth: NDP finds it
    EXPECT_TRUE(on_link(routes, ip6("fd77:73::1"), "fsh73"));     // ourselves, as IPv4's subnet says
    EXPECT_FALSE(on_link(routes, ip6("fd77:73::100"), "fsh73"));  // the /120 is behind fd77:73::2, inside the /64
    EXPECT_FALSE(on_link(routes, ip6("fd77:73::2"), "eth0"));     // another interface's link
    EXPECT_FALSE(on_link(routes, ip6("2001:db8::1"), "eth0"));    // the default route has a gateway
    EXPECT_EQ(route_for(routes, ip6("2001:db8::1"))->metric, 0x400u);  // the gateway's default, not the reject route
    EXPECT_TRUE(on_link(routes, ip6("fe80::1"), "fsh73"));  // fe80::/64 is on every link: -e's
    EXPECT_TRUE(on_link(routes, ip6("fe80::1"), "eth0"));
}

TEST(Ipv6Targets, TheRouteInKeys) {
    const Ipv6Ranges targets{range6("fd77:73::100", "fd77:73::103")};
    auto booked = book_targets(targets);
    ASSERT_TRUE(booked) << booked.error();
    const RouteChoice6 route{ip6("fd77:73::1"), "fsh73", Ipv6Prefix::of(ip6("fd77:73::1"), 64), MacAddress{2, 0, 0, 0, 0, 1}};
    const auto routed = keyed_route(route, targets, false, *booked->book);
    ASSERT_TRUE(routed) << routed.error();
    EXPECT_EQ(routed->source, (Ipv4{0, 0, 0, 5}));  // after the targets' keys
    EXPECT_EQ(booked->book->text(routed->source), "fd77:73::1");
    EXPECT_EQ(routed->interface, "fsh73");
    EXPECT_FALSE(routed->subnet);
    const auto attached = keyed_route(route, targets, true, *booked->book);
    ASSERT_TRUE(attached) << attached.error();
    EXPECT_EQ(attached->source, (Ipv4{0, 0, 0, 5}));  // the same key: the book had it
    EXPECT_TRUE(attached->on_link(Ipv4{0, 0, 0, 1}) && attached->on_link(Ipv4{0, 0, 0, 4}));
    const RouteChoice6 self{ip6("fd77:73::102"), "fsh73", std::nullopt, std::nullopt};  // a target scanning itself
    EXPECT_EQ(keyed_route(self, targets, false, *booked->book)->source, (Ipv4{0, 0, 0, 3}));
}

// ::1 is on lo: the kernel's choice, asked without a packet.
TEST(Ipv6Targets, KernelSourceForLoopback) {
    const auto source = kernel_source_for6(ip6("::1"), "");
    if (!source) GTEST_SKIP() << "no IPv6 on this machine: " << source.error();
    EXPECT_EQ(*source, ip6("::1"));
    const auto route = choose_route6(ip6("::1"), "", std::nullopt);
    ASSERT_TRUE(route) << route.error();
    EXPECT_EQ(route->interface, "lo");
    EXPECT_EQ(route->subnet, Ipv6Prefix::of(ip6("::1"), 128));
    const auto link_local = kernel_source_for6(ip6("fe80::1"), "");
    ASSERT_FALSE(link_local);
    EXPECT_EQ(link_local.error(), "the link-local target fe80::1 is on every link: name the interface with -e");
}

TEST(Ipv6Targets, ListScanWritesRfc5952Addresses) {
    ScanConfig config = ipv6_config({{"FD77:73:0::100/126", ""}, {"fd77:73::0:0:200", ""}}, {{"fd77:73::101", ""}});
    config.no_dns = true;
    const std::vector<std::string> listed{"fd77:73::100", "fd77:73::102", "fd77:73::103", "fd77:73::200"};
    std::ostringstream out, err;
    ASSERT_EQ(run_list_command(config, out, err), 0) << err.str();
    std::string expected;
    for (const auto& address : listed) expected += "flagscan scan report for " + address + "\n";
    EXPECT_NE(out.str().find(expected), std::string::npos) << out.str();
    EXPECT_NE(out.str().find("flagscan done: 4 IP addresses (0 hosts up)"), std::string::npos) << out.str();
    config.json_path = "-";
    std::ostringstream json;
    ASSERT_EQ(run_list_command(config, json, err), 0) << err.str();
    expected.clear();
    for (const auto& address : listed) expected += R"({"ip":")" + address + R"(","status":"listed"})" + "\n";
    EXPECT_EQ(json.str(), expected);
}

}  // namespace
}  // namespace flagscan

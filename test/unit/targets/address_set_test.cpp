// Unit tests for AddressSet and nmap target syntax (fake resolver only, never real DNS).
#include "flagscan/targets/address_set.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>

namespace flagscan {
namespace {

Ipv4 ip(std::string_view text) { return *Ipv4::parse(text); }
Ipv4Range range(std::string_view first, std::string_view last) { return {ip(first), ip(last)}; }

// Resolves a fixed table of names and counts its calls.
struct FakeResolver {
    std::map<std::string, std::vector<Ipv4>> names{
        {"host.example", {ip("192.0.2.10"), ip("192.0.2.20")}},
        {"gw.lab", {ip("10.9.8.7")}},
    };
    int calls = 0;
    Resolver resolver() {
        return [this](std::string_view name) {
            ++calls;
            const auto it = names.find(std::string(name));
            return it == names.end() ? std::vector<Ipv4>{} : it->second;
        };
    }
};

Result<AddressSet> parse_one(std::string_view expression) {
    FakeResolver fake;
    AddressSet set;
    Result<bool> ok = add_target(set, expression, fake.resolver());
    if (!ok) return Error{ok.error()};
    return set;
}

std::string error_of(std::string_view expression) {
    Result<AddressSet> r = parse_one(expression);
    return r ? std::string("(no error)") : r.error();
}

// ---- AddressSet ----

TEST(AddressSet, EmptySet) {
    AddressSet set;
    EXPECT_TRUE(set.empty());
    EXPECT_EQ(set.size(), 0u);
    EXPECT_FALSE(set.contains(ip("0.0.0.0")));
    EXPECT_EQ(set.at(0), Ipv4{});  // out of range: no crash
}

TEST(AddressSet, AddMergesOverlappingAndAdjacentRanges) {
    AddressSet set;
    set.add(range("10.0.0.10", "10.0.0.20"));
    set.add(range("10.0.0.30", "10.0.0.40"));
    set.add(range("10.0.0.1", "10.0.0.5"));
    ASSERT_EQ(set.ranges().size(), 3u);
    EXPECT_EQ(set.ranges()[0], range("10.0.0.1", "10.0.0.5"));
    set.add(range("10.0.0.6", "10.0.0.9"));  // adjacent on both sides
    ASSERT_EQ(set.ranges().size(), 2u);
    EXPECT_EQ(set.ranges()[0], range("10.0.0.1", "10.0.0.20"));
    set.add(range("10.0.0.15", "10.0.0.35"));  // overlaps both
    ASSERT_EQ(set.ranges().size(), 1u);
    EXPECT_EQ(set.ranges()[0], range("10.0.0.1", "10.0.0.40"));
    EXPECT_EQ(set.size(), 40u);
    set.add(ip("10.0.0.7"));  // already inside
    EXPECT_EQ(set.size(), 40u);
}

TEST(AddressSet, AddSpanningSeveralRangesAndReversedRangeIgnored) {
    AddressSet set;
    for (int i = 0; i < 10; ++i) set.add(Ipv4{static_cast<std::uint32_t>(i * 10)});
    set.add(range("0.0.0.5", "0.0.0.75"));
    const std::vector<Ipv4Range> expected{range("0.0.0.0", "0.0.0.0"), range("0.0.0.5", "0.0.0.75"),
                                          range("0.0.0.80", "0.0.0.80"), range("0.0.0.90", "0.0.0.90")};
    EXPECT_EQ(set.ranges(), expected);
    set.add(range("0.0.0.76", "0.0.0.89"));  // bridges the last three
    EXPECT_EQ(set.ranges().back(), range("0.0.0.5", "0.0.0.90"));
    set.add(range("10.0.0.9", "10.0.0.1"));  // first > last: nothing
    EXPECT_EQ(set.size(), 1u + 86u);
    EXPECT_EQ(set.at(1), range("0.0.0.5", "0.0.0.5").first);
}

TEST(AddressSet, WholeSpaceAndTopAddressDoNotOverflow) {
    AddressSet set;
    set.add(range("255.255.255.0", "255.255.255.255"));
    set.add(ip("0.0.0.0"));
    EXPECT_EQ(set.ranges().size(), 2u);
    set.add(range("0.0.0.1", "255.255.254.255"));
    ASSERT_EQ(set.ranges().size(), 1u);
    EXPECT_EQ(set.size(), std::uint64_t{1} << 32);
    EXPECT_EQ(set.at((std::uint64_t{1} << 32) - 1), ip("255.255.255.255"));
    EXPECT_TRUE(set.contains(ip("255.255.255.255")));
}

TEST(AddressSet, Subtract) {
    AddressSet set;
    set.add(range("10.0.0.0", "10.0.0.255"));
    set.add(range("10.0.2.0", "10.0.2.255"));
    AddressSet cut;
    cut.add(ip("10.0.0.0"));
    cut.add(range("10.0.0.100", "10.0.0.199"));
    cut.add(range("10.0.0.250", "10.0.2.9"));  // spans the end of one range and the start of the next
    cut.add(ip("10.0.2.255"));
    set.subtract(cut);
    const std::vector<Ipv4Range> expected{range("10.0.0.1", "10.0.0.99"), range("10.0.0.200", "10.0.0.249"),
                                          range("10.0.2.10", "10.0.2.254")};
    EXPECT_EQ(set.ranges(), expected);
    EXPECT_EQ(set.size(), 99u + 50u + 245u);
    EXPECT_EQ(set.at(99), ip("10.0.0.200"));
}

TEST(AddressSet, SubtractEverythingAndNothing) {
    AddressSet set;
    set.add(range("10.0.0.0", "10.0.0.255"));
    set.subtract(AddressSet{});
    EXPECT_EQ(set.size(), 256u);
    set.subtract(set);
    EXPECT_TRUE(set.empty());
    EXPECT_EQ(set.size(), 0u);
    AddressSet all;
    all.add(range("0.0.0.0", "255.255.255.255"));
    AddressSet hole;
    hole.add(range("0.0.0.0", "0.0.0.9"));
    hole.add(range("255.255.255.250", "255.255.255.255"));
    all.subtract(hole);
    EXPECT_EQ(all.ranges(), std::vector<Ipv4Range>{range("0.0.0.10", "255.255.255.249")});
}

// Random adds and subtracts checked against a std::set model over a small address space.
TEST(AddressSet, MatchesModelUnderRandomOperations) {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<std::uint32_t> addr(0, 2000);
    std::uniform_int_distribution<std::uint32_t> len(0, 30);
    AddressSet set;
    std::set<std::uint32_t> model;
    for (int step = 0; step < 400; ++step) {
        const std::uint32_t first = addr(rng);
        const std::uint32_t last = first + len(rng);
        if (step % 5 == 4) {
            AddressSet cut;
            cut.add(Ipv4Range{Ipv4{first}, Ipv4{last}});
            set.subtract(cut);
            for (std::uint32_t v = first; v <= last; ++v) model.erase(v);
        } else {
            set.add(Ipv4Range{Ipv4{first}, Ipv4{last}});
            for (std::uint32_t v = first; v <= last; ++v) model.insert(v);
        }
    }
    ASSERT_EQ(set.size(), model.size());
    std::uint64_t i = 0;
    for (std::uint32_t v : model) ASSERT_EQ(set.at(i++), Ipv4{v});
    for (std::uint32_t v = 0; v < 2100; ++v) ASSERT_EQ(set.contains(Ipv4{v}), model.count(v) == 1) << v;
    for (std::size_t k = 1; k < set.ranges().size(); ++k)  // disjoint and not adjacent
        ASSERT_GT(set.ranges()[k].first.value(), set.ranges()[k - 1].last.value() + 1);
}

// ---- target expressions ----

TEST(Targets, SingleAddress) {
    Result<AddressSet> r = parse_one("10.0.0.1");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->ranges(), std::vector<Ipv4Range>{range("10.0.0.1", "10.0.0.1")});
}

TEST(Targets, CidrUsesNetworkOfAnyAddress) {
    Result<AddressSet> r = parse_one("10.0.0.77/24");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->ranges(), std::vector<Ipv4Range>{range("10.0.0.0", "10.0.0.255")});
    EXPECT_EQ(parse_one("192.168.1.1/32")->size(), 1u);
    EXPECT_EQ(parse_one("192.168.1.1/31")->ranges(), std::vector<Ipv4Range>{range("192.168.1.0", "192.168.1.1")});
    EXPECT_EQ(parse_one("1.2.3.4/0")->size(), std::uint64_t{1} << 32);
    EXPECT_EQ(parse_one("172.16.5.4/12")->ranges(), std::vector<Ipv4Range>{range("172.16.0.0", "172.31.255.255")});
}

TEST(Targets, OctetRangesAndLists) {
    Result<AddressSet> r = parse_one("10.0.0-3.1-254");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->size(), 4u * 254u);
    EXPECT_EQ(r->ranges().size(), 4u);
    EXPECT_EQ(r->at(254), ip("10.0.1.1"));

    r = parse_one("10.0.0,2.1-5");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->ranges(), (std::vector<Ipv4Range>{range("10.0.0.1", "10.0.0.5"), range("10.0.2.1", "10.0.2.5")}));

    r = parse_one("10.0.0.-");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->ranges(), std::vector<Ipv4Range>{range("10.0.0.0", "10.0.0.255")});

    r = parse_one("10.0.0.250-,-2,7,5,7");  // open ends, unsorted list with a duplicate
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->ranges(), (std::vector<Ipv4Range>{range("10.0.0.0", "10.0.0.2"), range("10.0.0.5", "10.0.0.5"),
                                                   range("10.0.0.7", "10.0.0.7"), range("10.0.0.250", "10.0.0.255")}));

    r = parse_one("10.*.0.1");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->size(), 256u);
    EXPECT_TRUE(r->contains(ip("10.200.0.1")));
}

TEST(Targets, FullTrailingOctetsFoldIntoOneRange) {
    Result<AddressSet> r = parse_one("10.1-2.-.-");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->ranges(), std::vector<Ipv4Range>{range("10.1.0.0", "10.2.255.255")});
    r = parse_one("-.-.-.-");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->size(), std::uint64_t{1} << 32);
}

TEST(Targets, SixtyFiveThousandSingletonsAreFast) {
    const auto start = std::chrono::steady_clock::now();
    Result<AddressSet> r = parse_one("10.0-255.0-255.1");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->size(), 65536u);
    EXPECT_EQ(r->ranges().size(), 65536u);
    EXPECT_EQ(r->at(0), ip("10.0.0.1"));
    EXPECT_EQ(r->at(257), ip("10.1.1.1"));
    EXPECT_EQ(r->at(65535), ip("10.255.255.1"));
    EXPECT_TRUE(r->contains(ip("10.7.9.1")));
    EXPECT_FALSE(r->contains(ip("10.7.9.2")));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(Targets, TooManySeparateRangesIsAnErrorNotAnExplosion) {
    EXPECT_EQ(error_of("0-255.0-255.0-255.1,3"),
              "bad target '0-255.0-255.0-255.1,3': expands to too many separate ranges (more than 4194304 in all)");
    // The cap is over the whole list: short expressions cannot add up to gigabytes either.
    const std::vector<std::string> many{"1-.0-63.-.1", "1-.0-63.-.3", "1-.0-63.-.5", "1-.0-63.-.7"};
    const auto start = std::chrono::steady_clock::now();
    auto r = parse_targets(many, [](std::string_view) { return std::vector<Ipv4>{}; });
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("too many separate ranges"), std::string::npos) << r.error();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Targets, NamesUseTheFirstAddress) {
    FakeResolver fake;
    AddressSet set;
    ASSERT_TRUE(add_target(set, "host.example", fake.resolver()));
    EXPECT_EQ(set.ranges(), std::vector<Ipv4Range>{range("192.0.2.10", "192.0.2.10")});
    ASSERT_TRUE(add_target(set, "gw.lab/30", fake.resolver()));
    EXPECT_TRUE(set.contains(ip("10.9.8.4")));
    EXPECT_TRUE(set.contains(ip("10.9.8.7")));
    EXPECT_EQ(set.size(), 5u);
    EXPECT_EQ(fake.calls, 2);
}

TEST(Targets, AddressesNeverReachTheResolver) {
    FakeResolver fake;
    AddressSet set;
    ASSERT_TRUE(add_target(set, "10.0.0.1", fake.resolver()));
    ASSERT_TRUE(add_target(set, "10.0.0.0/30", fake.resolver()));
    ASSERT_TRUE(add_target(set, "10.0.1.1-3", fake.resolver()));
    EXPECT_FALSE(add_target(set, "300.1.1.1", fake.resolver()));
    EXPECT_EQ(fake.calls, 0);
}

TEST(Targets, UnresolvableNames) {
    EXPECT_EQ(error_of("nosuch.host"), "cannot resolve 'nosuch.host'");
    EXPECT_EQ(error_of("nosuch.host/24"), "cannot resolve 'nosuch.host' in target 'nosuch.host/24'");
    AddressSet set;
    Result<bool> r = add_target(set, "host.example", Resolver{});  // no resolver at all: an error, no throw
    EXPECT_FALSE(r);
    EXPECT_EQ(r.error(), "cannot resolve 'host.example'");
}

TEST(Targets, BadExpressionsGiveOneClearLine) {
    EXPECT_EQ(error_of("10.0.0.0/33"), "bad target '10.0.0.0/33': prefix must be 0-32");
    EXPECT_EQ(error_of("1.2.3.4/"), "bad target '1.2.3.4/': prefix must be 0-32");
    EXPECT_EQ(error_of("1.2.3.4/x"), "bad target '1.2.3.4/x': prefix must be 0-32");
    EXPECT_EQ(error_of("1.2.3.4/-1"), "bad target '1.2.3.4/-1': prefix must be 0-32");
    EXPECT_EQ(error_of("1.2.3.4/24/8"), "bad target '1.2.3.4/24/8': prefix must be 0-32");
    EXPECT_EQ(error_of("/24"), "bad target '/24': missing address before '/'");
    EXPECT_EQ(error_of(""), "bad target '': empty expression");
    EXPECT_EQ(error_of("   "), "bad target '   ': empty expression");
    EXPECT_EQ(error_of("...."), "bad target '....': expected 4 octets separated by '.'");
    EXPECT_EQ(error_of("..."), "bad target '...': empty octet");
    EXPECT_EQ(error_of("300.1.1.1"), "bad target '300.1.1.1': '300' is not an octet value 0-255");
    EXPECT_EQ(error_of("10.0.0.5-3"), "bad target '10.0.0.5-3': range 5-3 is reversed");
    EXPECT_EQ(error_of("10.0.0"), "bad target '10.0.0': expected 4 octets separated by '.'");
    EXPECT_EQ(error_of("10.1"), "bad target '10.1': expected 4 octets separated by '.'");
    EXPECT_EQ(error_of("10.0.0.1.5"), "bad target '10.0.0.1.5': expected 4 octets separated by '.'");
    EXPECT_EQ(error_of("10.0.0,.1"), "bad target '10.0.0,.1': empty octet");
    EXPECT_EQ(error_of("10.0.0.1-2-3"), "bad target '10.0.0.1-2-3': '1-2-3' is not an octet range");
    EXPECT_EQ(error_of("10.0.0.0001"), "bad target '10.0.0.0001': '0001' is not an octet value 0-255");
    EXPECT_EQ(error_of("10.0-3.0.0/24"), "bad target '10.0-3.0.0/24': a prefix cannot be combined with octet ranges");
    EXPECT_EQ(error_of("0x0a.0.0.1"),
              "bad target '0x0a.0.0.1': not a dotted-quad address (hex, octal and short forms are not accepted)");
    EXPECT_EQ(error_of("bad host!"), "bad target 'bad host!': not a valid host name");
    EXPECT_EQ(error_of("a..b"), "bad target 'a..b': not a valid host name");
    EXPECT_EQ(error_of("-"), "bad target '-': expected 4 octets separated by '.'");
}

TEST(Targets, SurroundingWhitespaceIsIgnored) {
    Result<AddressSet> r = parse_one("  10.0.0.1\t");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->size(), 1u);
}

TEST(Targets, HugeAndHostileInputsAreRejectedWithShortMessages) {
    const std::vector<std::string> inputs{std::string(1 << 20, '1'), std::string(1 << 20, '.'),
                                          std::string(1 << 20, 'a'), "1.1.1." + std::string(1 << 20, '9'),
                                          std::string("10.0.0.1\n/24"), std::string("10.0\0.0.1", 9),
                                          std::string(1 << 16, ',') + "1.1.1"};
    for (const std::string& input : inputs) {
        const std::string error = error_of(input);
        EXPECT_NE(error, "(no error)");
        EXPECT_LT(error.size(), 300u) << error;
        EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    }
}

TEST(Targets, AddTargetMergesIntoANonEmptySet) {
    FakeResolver fake;
    AddressSet set;
    ASSERT_TRUE(add_target(set, "10.0.0.5", fake.resolver()));
    ASSERT_TRUE(add_target(set, "10.0.0-20.5", fake.resolver()));  // many ranges: the rebuild path
    ASSERT_TRUE(add_target(set, "10.0.3.0/24", fake.resolver()));
    EXPECT_EQ(set.size(), 21u + 255u);
    EXPECT_TRUE(set.contains(ip("10.0.20.5")));
    EXPECT_TRUE(set.contains(ip("10.0.3.200")));
    const Result<bool> bad = add_target(set, "10.0.0.0/40", fake.resolver());
    EXPECT_FALSE(bad);
    EXPECT_EQ(set.size(), 21u + 255u);  // a failed expression leaves the set alone
}

TEST(Targets, ParseTargetsUnionsAndStopsAtFirstError) {
    FakeResolver fake;
    const std::vector<std::string> good{"10.0.0.0/30", "10.0.0.2-5", "host.example", "10.0.0.9"};
    Result<AddressSet> r = parse_targets(good, fake.resolver());
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->ranges(), (std::vector<Ipv4Range>{range("10.0.0.0", "10.0.0.5"), range("10.0.0.9", "10.0.0.9"),
                                                   range("192.0.2.10", "192.0.2.10")}));
    const std::vector<std::string> bad{"10.0.0.1", "10.0.0.0/33", "nosuch.host"};
    r = parse_targets(bad, fake.resolver());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "bad target '10.0.0.0/33': prefix must be 0-32");
    EXPECT_TRUE(parse_targets({}, fake.resolver())->empty());
}

TEST(Targets, ManyUnorderedSingletonsParseQuickly) {
    std::mt19937 rng(7);
    std::vector<std::string> expressions;
    std::set<std::uint32_t> model;
    for (int i = 0; i < 100000; ++i) {
        const std::uint32_t v = rng();
        model.insert(v);
        expressions.push_back(Ipv4{v}.str());
    }
    const auto start = std::chrono::steady_clock::now();
    Result<AddressSet> r = parse_targets(expressions, FakeResolver{}.resolver());
    ASSERT_TRUE(r) << r.error();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    ASSERT_EQ(r->size(), model.size());
    std::uint64_t i = 0;
    for (std::uint32_t v : model) ASSERT_EQ(r->at(i++), Ipv4{v});
}

// ---- lists and files ----

class TargetFile : public ::testing::Test {
protected:
    std::string write(const std::string& text) {
        path_ = ::testing::TempDir() + "flagscan_targets_" + std::to_string(::getpid()) + ".txt";
        std::ofstream(path_, std::ios::binary) << text;
        return path_;
    }
    void TearDown() override {
        if (!path_.empty()) std::remove(path_.c_str());
    }
    std::string path_;
};

TEST_F(TargetFile, WhitespaceAndCommentsSeparateCommasDoNot) {
    const std::string path = write(
        "# lab hosts\n"
        "10.0.0.1 10.0.0.2\t10.0.0.0/30\r\n"
        "host.example gw.lab 10.1.0,2.1-5  # trailing comment, 10.9.9.9\n"
        "\n"
        "   #only a comment\n"
        "192.168.0.1-5");
    Result<std::vector<TargetExpression>> r = read_target_file(path);
    ASSERT_TRUE(r) << r.error();
    const auto at = [&](int line) { return path + " line " + std::to_string(line); };
    EXPECT_EQ(r.value(), (std::vector<TargetExpression>{{"10.0.0.1", at(2)},
                                                        {"10.0.0.2", at(2)},
                                                        {"10.0.0.0/30", at(2)},
                                                        {"host.example", at(3)},
                                                        {"gw.lab", at(3)},
                                                        {"10.1.0,2.1-5", at(3)},
                                                        {"192.168.0.1-5", at(6)}}));
}

// nmap: a name that does not resolve is a warning and the rest is scanned; a bad expression
// stops everything, and names the file and line it came from.
TEST_F(TargetFile, BadLineIsNamedByFileAndLine) {
    const std::string path = write("10.0.0.1\n# fine so far\n\n10.0.0.0/33\n");
    Result<std::vector<TargetExpression>> expressions = read_target_file(path);
    ASSERT_TRUE(expressions) << expressions.error();
    Result<ParsedTargets> r = parse_target_list(expressions.value(), FakeResolver{}.resolver());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), path + " line 4: bad target '10.0.0.0/33': prefix must be 0-32");
}

TEST(TargetList, UnresolvableNamesAreListedAndTheRestKept) {
    FakeResolver fake;
    const std::vector<TargetExpression> expressions{{"10.0.0.1", ""},
                                                    {"nosuch.host", ""},
                                                    {"gw.lab", "list.txt line 2"},
                                                    {"gone.example/30", "list.txt line 3"}};
    Result<ParsedTargets> r = parse_target_list(expressions, fake.resolver());
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->addresses.ranges(), (std::vector<Ipv4Range>{range("10.0.0.1", "10.0.0.1"), range("10.9.8.7", "10.9.8.7")}));
    EXPECT_EQ(r->unresolved, (std::vector<std::string>{
                                 "cannot resolve 'nosuch.host'",
                                 "list.txt line 3: cannot resolve 'gone.example' in target 'gone.example/30'"}));
}

TEST(TargetList, NothingResolvedIsAnEmptySetWithEveryName) {
    const std::vector<TargetExpression> expressions{{"a.invalid", ""}, {"b.invalid", ""}};
    Result<ParsedTargets> r = parse_target_list(expressions, FakeResolver{}.resolver());
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(r->addresses.empty());
    EXPECT_EQ(r->unresolved.size(), 2u);
}

TEST(TargetList, OctetListsWithCommasInOneExpression) {
    const std::vector<TargetExpression> expressions{{"10.0.0.1,3", ""}, {"10.0.1-2.1,3", ""}};
    Result<ParsedTargets> r = parse_target_list(expressions, FakeResolver{}.resolver());
    ASSERT_TRUE(r) << r.error();
    std::vector<std::string> listed;
    for (std::uint64_t i = 0; i < r->addresses.size(); ++i) listed.push_back(r->addresses.at(i).str());
    // nmap 7.93 -sL -n lists the same six.
    EXPECT_EQ(listed, (std::vector<std::string>{"10.0.0.1", "10.0.0.3", "10.0.1.1", "10.0.1.3", "10.0.2.1", "10.0.2.3"}));
}

TEST_F(TargetFile, EmptyFileGivesNoExpressions) {
    Result<std::vector<TargetExpression>> r = read_target_file(write(""));
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(r->empty());
}

TEST_F(TargetFile, MissingFileOrDirectoryIsAnErrorNamingIt) {
    Result<std::vector<TargetExpression>> r = read_target_file("/nonexistent/flagscan/x");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "cannot read target file '/nonexistent/flagscan/x': No such file or directory");
    r = read_target_file("/");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "cannot read target file '/': Is a directory");
}

TEST(SplitList, CommaSeparated) {
    EXPECT_EQ(split_list("10.0.0.1,10.0.0.0/24,host.example"),
              (std::vector<std::string>{"10.0.0.1", "10.0.0.0/24", "host.example"}));
    EXPECT_EQ(split_list(" a, ,b,,"), (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(split_list("").empty());
    EXPECT_TRUE(split_list(",,,").empty());
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

// ---- zmap and masscan blocklists as --excludefile ----

TEST(AddressRange, WholeAddressesOnBothSidesOfTheDash) {
    Result<AddressSet> r = parse_one("10.0.0.250-10.0.1.4");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->ranges(), (std::vector<Ipv4Range>{range("10.0.0.250", "10.0.1.4")}));
    EXPECT_EQ(r->size(), 11u);
    r = parse_one("0.0.0.0-255.255.255.255");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->size(), std::uint64_t{1} << 32);
    EXPECT_EQ(error_of("10.0.1.4-10.0.0.250"), "bad target '10.0.1.4-10.0.0.250': range 10.0.1.4-10.0.0.250 is reversed");
    // nmap's octet ranges are unchanged: one '-' inside an octet.
    r = parse_one("10.0.0.1-3");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->size(), 3u);
}

// Excerpt of masscan's data/exclude.conf (its layout: comments, CIDRs, ranges, spaced ranges).
TEST_F(TargetFile, MasscanExcludeConf) {
    const std::string path = write(
        "# This is the list of IP addresses that should be excluded from scanning.\n"
        "## http://www.iana.org/assignments/iana-ipv4-special-registry/iana-ipv4-special-registry.xhtml\n"
        "0.0.0.0/8 # RFC1122: \"This host on this network\"\n"
        "\n"
        "10.0.0.0/8 # RFC1918: Private-Use\n"
        "192.0.2.0-192.0.2.255\t# RFC5737: TEST-NET-1\n"
        "198.51.100.0 - 198.51.100.255  # RFC5737: TEST-NET-2\n"
        "203.0.113.7\n");
    Result<std::vector<TargetExpression>> expressions = read_target_file(path);
    ASSERT_TRUE(expressions) << expressions.error();
    const auto at = [&](int line) { return path + " line " + std::to_string(line); };
    EXPECT_EQ(expressions.value(), (std::vector<TargetExpression>{{"0.0.0.0/8", at(3)},
                                                                  {"10.0.0.0/8", at(5)},
                                                                  {"192.0.2.0-192.0.2.255", at(6)},
                                                                  {"198.51.100.0-198.51.100.255", at(7)},
                                                                  {"203.0.113.7", at(8)}}));
    Result<ParsedTargets> r = parse_target_list(expressions.value(), FakeResolver{}.resolver());
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->addresses.ranges(), (std::vector<Ipv4Range>{range("0.0.0.0", "0.255.255.255"),
                                                             range("10.0.0.0", "10.255.255.255"),
                                                             range("192.0.2.0", "192.0.2.255"),
                                                             range("198.51.100.0", "198.51.100.255"),
                                                             range("203.0.113.7", "203.0.113.7")}));
}

// zmap's conf/blocklist.conf: CIDRs with whole-line and trailing comments.
TEST_F(TargetFile, ZmapBlocklistConf) {
    const std::string path = write(
        "# From IANA IPv4 Special-Purpose Address Registry\n"
        "# http://www.iana.org/assignments/iana-ipv4-special-registry/iana-ipv4-special-registry.xhtml\n"
        "# Updated 2013-05-22\n"
        "\n"
        "0.0.0.0/8           # RFC1122: \"This host on this network\"\n"
        "100.64.0.0/10       # RFC6598: Shared Address Space\n"
        "169.254.0.0/16      # RFC3927: Link Local\n"
        "255.255.255.255/32  # RFC0919: Limited Broadcast\n");
    Result<std::vector<TargetExpression>> expressions = read_target_file(path);
    ASSERT_TRUE(expressions) << expressions.error();
    Result<ParsedTargets> r = parse_target_list(expressions.value(), FakeResolver{}.resolver());
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->addresses.size(), (1u << 24) + (1u << 22) + (1u << 16) + 1u);
    EXPECT_EQ(expressions->back().origin, path + " line 8");
}

TEST_F(TargetFile, BadBlocklistLineIsNamedByFileAndLine) {
    const std::string path = write("10.0.0.0/8 # fine\n10.1.0.0 - 10.0.0.0 # reversed\n");
    Result<std::vector<TargetExpression>> expressions = read_target_file(path);
    ASSERT_TRUE(expressions) << expressions.error();
    Result<ParsedTargets> r = parse_target_list(expressions.value(), FakeResolver{}.resolver());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), path + " line 2: bad target '10.1.0.0-10.0.0.0': range 10.1.0.0-10.0.0.0 is reversed");
}

}  // namespace
}  // namespace flagscan

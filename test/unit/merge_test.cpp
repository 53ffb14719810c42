// Unit tests for flagscan merge: crafted shard outputs (JSON lines, nmap XML) combined in address
// order with counts summed, and every refusal (another scan, a shard twice, a cut file, garbage).
#include "flagscan/cli/merge.hpp"

#include <gtest/gtest.h>

#include "nmap_formats_fixture.hpp"

namespace flagscan {
namespace {

std::string scan_line(const std::string& shard, const std::string& seed = "7", const std::string& by = "hosts") {
    return R"({"type":"scan","version":"0.2.0","seed":)" + seed + R"(,"targets":"10.0.0.0/28","ports":"tcp:1-100","scan":"syn","listing":"default","shard":")" +
           shard + R"(","shard_by":")" + by + R"(","shard_from":"OMPI_COMM_WORLD_RANK"})" + "\n";
}

std::string host(const std::string& ip, int open, int closed) {
    std::string text;
    for (int p = 0; p < open; ++p)
        text += R"({"ip":")" + ip + R"(","port":)" + std::to_string(22 + p) + R"(,"proto":"tcp","state":"open","reason":"syn-ack","ttl":64})" + "\n";
    return text + R"({"ip":")" + ip + R"(","status":"up","reason":"echo-reply","counts":{"open":)" + std::to_string(open) +
           R"(,"closed":)" + std::to_string(closed) + R"(,"filtered":0}})" + "\n";
}

std::string summary(int addresses, int up) {
    return R"({"type":"summary","addresses":)" + std::to_string(addresses) + R"(,"up":)" + std::to_string(up) +
           R"(,"elapsed":1.50,"interrupted":false})" + "\n";
}

TEST(MergeJsonl, HostsInAddressOrderAndTheSummaryRecounted) {
    const std::vector<MergeInput> inputs{
        {"b.jsonl", scan_line("2/2") + host("10.0.0.9", 1, 99) + host("10.0.0.2", 0, 100) + summary(8, 2)},
        {"a.jsonl", scan_line("1/2") + host("10.0.0.10", 2, 98) + summary(8, 1)}};
    const auto merged = merge_jsonl(inputs);
    ASSERT_TRUE(merged.ok()) << merged.error();
    EXPECT_TRUE(merged->missing.empty());
    const std::string& text = merged->text;
    EXPECT_EQ(text.find(R"({"type":"scan")"), 0u);
    EXPECT_NE(text.find(R"("shard":"1/1")"), std::string::npos);
    const auto two = text.find(R"("ip":"10.0.0.2")"), nine = text.find(R"("ip":"10.0.0.9")"), ten = text.find(R"("ip":"10.0.0.10")");
    EXPECT_LT(two, nine);
    EXPECT_LT(nine, ten);
    EXPECT_NE(text.find(R"({"type":"summary","addresses":16,"up":3,)"), std::string::npos) << text;
}

// -Pn shards split one host's ports: its lines come together, its counts summed, and a state
// past nmap's 25 is folded again.
TEST(MergeJsonl, AHostSplitByProbesIsJoined) {
    std::string first = scan_line("1/2", "7", "probes");
    for (int p = 1; p <= 20; ++p) first += R"({"ip":"10.0.0.1","port":)" + std::to_string(p) + R"(,"proto":"tcp","state":"closed","reason":"reset"})" + "\n";
    first += R"({"ip":"10.0.0.1","status":"up","counts":{"open":0,"closed":20,"filtered":0}})" "\n" + summary(1, 1);
    std::string second = scan_line("2/2", "7", "probes");
    for (int p = 21; p <= 40; ++p) second += R"({"ip":"10.0.0.1","port":)" + std::to_string(p) + R"(,"proto":"tcp","state":"closed","reason":"reset"})" + "\n";
    second += R"({"ip":"10.0.0.1","port":80,"proto":"tcp","state":"open","reason":"syn-ack"})" "\n";
    second += R"({"ip":"10.0.0.1","status":"up","counts":{"open":1,"closed":20,"filtered":0}})" "\n" + summary(1, 1);
    const auto merged = merge_jsonl({{"one", first}, {"two", second}});
    ASSERT_TRUE(merged.ok()) << merged.error();
    EXPECT_EQ(merged->text.find(R"("state":"closed")"), std::string::npos) << "40 closed ports fold";
    EXPECT_NE(merged->text.find(R"("port":80)"), std::string::npos);
    EXPECT_NE(merged->text.find(R"("counts":{"open":1,"closed":40,"filtered":0})"), std::string::npos) << merged->text;
    EXPECT_NE(merged->text.find(R"("addresses":1,"up":1)"), std::string::npos) << merged->text;
}

TEST(MergeJsonl, Refusals) {
    const std::string a = scan_line("1/2") + host("10.0.0.1", 1, 0) + summary(8, 1);
    const std::string b = scan_line("2/2") + summary(8, 0);
    EXPECT_NE(merge_jsonl({{"a", a}, {"c", scan_line("2/2", "8") + summary(8, 0)}}).error().find("another scan"), std::string::npos);
    EXPECT_NE(merge_jsonl({{"a", a}, {"c", scan_line("2/2", "8") + summary(8, 0)}}).error().find("seed"), std::string::npos);
    EXPECT_NE(merge_jsonl({{"a", a}, {"a2", a}}).error().find("shard 1/2 given twice"), std::string::npos);
    EXPECT_NE(merge_jsonl({{"a", a}, {"d", scan_line("2/3") + summary(8, 0)}}).error().find("not the same split"), std::string::npos);
    EXPECT_NE(merge_jsonl({{"a", a}, {"cut", scan_line("2/2") + host("10.0.0.3", 0, 1)}}).error().find("cut: no summary line"), std::string::npos);
    EXPECT_NE(merge_jsonl({{"a", a}, {"junk", "hello\n"}}).error().find("junk line 1"), std::string::npos);
    EXPECT_NE(merge_jsonl({{"old", host("10.0.0.3", 0, 1)}}).error().find("old: no scan line"), std::string::npos);
    EXPECT_NE(merge_jsonl({{"a", a}, {"torn", scan_line("2/2") + "{\"ip\":\"10.0.0.3\",\"port\n" + summary(8, 0)}}).error().find("torn line 2"),
              std::string::npos);
    const auto missing = merge_jsonl({{"b", b}});
    ASSERT_TRUE(missing.ok()) << missing.error();
    ASSERT_EQ(missing->missing.size(), 1u);
    EXPECT_EQ(missing->missing.front(), "shard 1/2 missing");
    EXPECT_NE(missing->text.find(R"("interrupted":true)"), std::string::npos);
}

std::string xml_shard(const std::string& shard, const std::string& hosts, int total, int up, const std::string& seed = "7") {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n<!-- flagscan 0.2.0 scan initiated x as: flagscan -->\n"
           "<!-- flagscan-scan {\"version\":\"0.2.0\",\"seed\":" + seed + ",\"targets\":\"10.0.0.0/28 exclude 10.0.0.0-\\u002d\","
           "\"ports\":\"tcp:1-100\",\"scan\":\"syn\",\"listing\":\"default\",\"shard\":\"" + shard +
           "\",\"shard_by\":\"hosts\",\"shard_from\":\"\"} -->\n"
           "<nmaprun scanner=\"nmap\" args=\"flagscan\" start=\"1\" startstr=\"x\" version=\"0.2.0\" xmloutputversion=\"1.05\">\n"
           "<scaninfo type=\"syn\" protocol=\"tcp\" numservices=\"100\" services=\"1-100\"/>\n<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n" +
           hosts + "<runstats><finished time=\"5\" timestr=\"x\" summary=\"x\" elapsed=\"1.00\" exit=\"success\"/><hosts up=\"" +
           std::to_string(up) + "\" down=\"" + std::to_string(total - up) + "\" total=\"" + std::to_string(total) +
           "\"/>\n</runstats>\n</nmaprun>\n";
}

std::string xml_host(const std::string& ip) {
    return "<host><status state=\"up\" reason=\"echo-reply\" reason_ttl=\"64\"/>\n<address addr=\"" + ip +
           "\" addrtype=\"ipv4\"/>\n<hostnames>\n</hostnames>\n<ports><extraports state=\"closed\" count=\"99\">\n"
           "<extrareasons reason=\"reset\" count=\"99\" proto=\"tcp\" ports=\"1-21,23-100\"/>\n</extraports>\n"
           "<port protocol=\"tcp\" portid=\"22\"><state state=\"open\" reason=\"syn-ack\" reason_ttl=\"64\"/></port>\n</ports>\n"
           "<times srtt=\"100\" rttvar=\"50\" to=\"100000\"/>\n</host>\n";
}

TEST(MergeXml, OneNmaprunWithEveryHostAndRunstatsSummed) {
    const auto merged = merge_xml({{"b.xml", xml_shard("2/2", xml_host("10.0.0.9") + xml_host("10.0.0.3"), 8, 2)},
                                   {"a.xml", xml_shard("1/2", xml_host("10.0.0.4"), 8, 1)}});
    ASSERT_TRUE(merged.ok()) << merged.error();
    const std::string& text = merged->text;
    EXPECT_LT(text.find("10.0.0.3"), text.find("10.0.0.4"));
    EXPECT_LT(text.find("10.0.0.4"), text.find("10.0.0.9"));
    EXPECT_NE(text.find("<hosts up=\"3\" down=\"13\" total=\"16\"/>"), std::string::npos) << text;
    EXPECT_NE(text.find("flagscan-scan"), std::string::npos);
    testing::expect_valid_against_nmap_dtd(text, "merge");
}

TEST(MergeXml, Refusals) {
    const std::string a = xml_shard("1/2", xml_host("10.0.0.4"), 8, 1);
    EXPECT_NE(merge_xml({{"a", a}, {"b", xml_shard("2/2", "", 8, 0, "9")}}).error().find("another scan"), std::string::npos);
    EXPECT_NE(merge_xml({{"a", a}, {"a2", a}}).error().find("given twice"), std::string::npos);
    EXPECT_NE(merge_xml({{"a", a}, {"cut", a.substr(0, a.find("<runstats>"))}}).error().find("cut: no <runstats>"), std::string::npos);
    EXPECT_NE(merge_xml({{"plain", "<?xml version=\"1.0\"?>\n<nmaprun></nmaprun>\n"}}).error().find("plain: no flagscan-scan"), std::string::npos);
    EXPECT_NE(merge_xml({{"text", "hello"}}).error().find("text: not an nmap XML"), std::string::npos);
    // Numbers past 64 bits, or not numbers, refuse the file (no exception, no made-up count).
    std::string huge = a;
    huge.replace(huge.find("count=\"99\""), 11, "count=\"99999999999999999999999\"");
    EXPECT_NE(merge_xml({{"huge", huge}}).error().find("huge: a <host> with a corrupt"), std::string::npos);
    std::string word = a;
    word.replace(word.find("total=\"8\""), 9, "total=\"x8\"");
    EXPECT_NE(merge_xml({{"word", word}}).error().find("word: its <runstats> is corrupt"), std::string::npos);
    const auto missing = merge_xml({{"a", a}});
    ASSERT_TRUE(missing.ok());
    EXPECT_EQ(missing->missing, std::vector<std::string>{"shard 2/2 missing"});
    EXPECT_NE(missing->text.find("exit=\"error\""), std::string::npos);
}

}  // namespace
}  // namespace flagscan

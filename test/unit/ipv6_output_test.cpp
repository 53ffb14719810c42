// IPv6 scans' reports: every output, the packet trace, --explain, merge and resume write the hosts
// (AddressBook keys inside the scan) as their IPv6 addresses, never as 0.0.0.x.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>

#include "flagscan/cli/merge.hpp"
#include "flagscan/cli/reporting.hpp"
#include "flagscan/cli/resume_file.hpp"
#include "flagscan/output/explain.hpp"
#include "flagscan/output/packet_trace.hpp"
#include "ipv6_packets.hpp"
#include "nmap_formats_fixture.hpp"

namespace flagscan {
namespace {

using testing::fixed_summary;
using testing::NmapFormats;
using testing::verdict;

using Ipv6Output = NmapFormats;

Ipv6 v6(std::string_view text) { return *Ipv6::parse(text); }

const Ipv6 kScanner6 = v6("fd77:1::1");
const Ipv6 kTarget6 = v6("fd77:1::2");

// The book of a scan of fd77:1::2 and fd77:1::3 (keys 0.0.0.1, 0.0.0.2) from fd77:1::1 (0.0.0.3),
// as the targets step builds it: the targets first, in order, then our own address.
std::shared_ptr<AddressBook> scan_book() {
    auto book = std::make_shared<AddressBook>();
    EXPECT_TRUE(book->add(Ipv6Range{v6("fd77:1::2"), v6("fd77:1::3")}));
    EXPECT_TRUE(book->key_for(kScanner6));
    return book;
}

AddressSet keys(std::uint32_t count) {
    AddressSet set;
    set.add(Ipv4Range{Ipv4{1}, Ipv4{count}});
    return set;
}

// -6 -sS -sU of fd77:1::2-fd77:1::3: TCP 22, 80, 1000-1029 and UDP 53, 2000-2029. The first host
// answers (22 open, 80 admin-prohibited, the rest closed: folded); the second drops everything
// (every state folded: "All 63 scanned ports ... are in ignored states").
struct SynUdpScan6 {
    std::shared_ptr<AddressBook> book = scan_book();
    TargetSet targets;
    Results results;

    SynUdpScan6() : targets(with_book(TargetSet(keys(2), slots()), book)), results(targets, {&syn_kind(), &udp_kind()}, true) {
        PortResult open = verdict(PortState::open, Reason::syn_ack, 64);
        open.reply_kind = ReplyEvidence::Kind::tcp;
        open.reply_flags = TcpFlags::syn | TcpFlags::ack;
        set(0, Port{22}, 0, open);
        PortResult prohibited = verdict(PortState::filtered, Reason::admin_prohibited, 64);
        prohibited.reply_kind = ReplyEvidence::Kind::icmp_unreachable;
        prohibited.icmp_code = 13;  // ICMPv6 1/1 as translate6 reads it (nmap's admin-prohibited)
        set(0, Port{80}, 0, prohibited);
        results.note_reply_packet(index(0, Port{80}, 0), Ipv4{1}, Port{40000});
        for (std::uint16_t p = 1000; p <= 1029; ++p) set(0, Port{p}, 0, verdict(PortState::closed, Reason::reset, 64));
        PortResult udp = verdict(PortState::open, Reason::udp_response, 64);
        udp.reply_kind = ReplyEvidence::Kind::udp;
        set(0, Port{53}, 1, udp);
        for (std::uint16_t p = 2000; p <= 2029; ++p) {
            PortResult closed = verdict(PortState::closed, Reason::port_unreach, 64);
            closed.reply_kind = ReplyEvidence::Kind::icmp_unreachable;
            closed.icmp_code = 3;  // ICMPv6 1/4
            set(0, Port{p}, 1, closed);
            results.note_reply_packet(index(0, Port{p}, 1), Ipv4{1}, Port{40001});
        }
        for (const Slot& slot : targets.slots())
            set(1, slot.port, slot.lane,
                slot.lane == 0 ? verdict(PortState::filtered, Reason::no_response, 0)
                               : verdict(PortState::open_filtered, Reason::no_response, 0));
        results.note_reply(0, 900);
    }
    static TargetSet with_book(TargetSet set, std::shared_ptr<const AddressBook> book) {
        set.set_address_book(std::move(book));
        return set;
    }
    static std::vector<Slot> slots() {
        std::vector<Slot> list;
        for (const std::uint16_t p : {22, 80}) list.push_back(Slot{Port{p}, 0});
        for (std::uint16_t p = 1000; p <= 1029; ++p) list.push_back(Slot{Port{p}, 0});
        list.push_back(Slot{Port{53}, 1});
        for (std::uint16_t p = 2000; p <= 2029; ++p) list.push_back(Slot{Port{p}, 1});
        return list;
    }
    std::uint64_t index(std::uint32_t host, Port port, std::uint8_t lane) const {
        return host * targets.slot_count() + static_cast<std::uint64_t>(targets.slot_index(lane, port));
    }
    void set(std::uint32_t host, Port port, std::uint8_t lane, const PortResult& result) {
        results.set(index(host, port, lane), result);
    }
    static ScanSummary summary() {
        return fixed_summary("SYN and UDP scan", {"flagscan", "-6", "-sS", "-sU", "-p", "T:22,80,1000-1029,U:53,2000-2029",
                                                  "-Pn", "-n", "fd77:1::2-fd77:1::3"});
    }
};

// -6 -sn of fd77:1::2-fd77:1::3 by ICMPv6 echo: the first answers, the second does not.
struct PingScan6 {
    std::shared_ptr<AddressBook> book = scan_book();
    TargetSet targets;
    Results results;

    PingScan6()
        : targets(SynUdpScan6::with_book(TargetSet(keys(2), std::vector<Slot>{Slot{Port{0}, 0}}), book)),
          results(targets, {&ping_echo_kind()}) {
        PortResult echo = verdict(PortState::open, Reason::echo_reply, 64);
        echo.rtt_us = 310;
        results.set(0, echo);
        results.note_reply(0, 310);
        results.set(1, verdict(PortState::filtered, Reason::no_response, 0));
    }
    static ScanSummary summary() {
        ScanSummary s = fixed_summary("host discovery", {"flagscan", "-6", "-sn", "-v", "-n", "fd77:1::2-fd77:1::3"});
        s.verbosity = 1;
        return s;
    }
};

void expect_no_keys(const std::string& text) { EXPECT_EQ(text.find("0.0.0."), std::string::npos) << text; }

TEST_F(Ipv6Output, NormalReportNamesHostsByTheirAddresses) {
    const SynUdpScan6 scan;
    std::ostringstream out;
    write_normal(out, scan.results, testing::fixture_services(), ReportOptions{}, SynUdpScan6::summary());
    const std::string text = out.str();
    EXPECT_NE(text.find("flagscan scan report for fd77:1::2\n"), std::string::npos) << text;
    EXPECT_NE(text.find("flagscan scan report for fd77:1::3\n"), std::string::npos) << text;
    EXPECT_NE(text.find("All 63 scanned ports on fd77:1::3 are in ignored states.\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\n22/tcp "), std::string::npos) << text;
    expect_no_keys(text);
}

TEST_F(Ipv6Output, GrepableHostFieldIsTheAddress) {
    const SynUdpScan6 scan;
    std::ostringstream out;
    write_grepable(out, scan.results, testing::fixture_services(), ReportOptions{}, SynUdpScan6::summary());
    const std::string text = out.str();
    EXPECT_NE(text.find("Host: fd77:1::2 ()\tStatus: Up\n"), std::string::npos) << text;
    EXPECT_NE(text.find("Host: fd77:1::2 ()\tPorts: 22/open/tcp//ssh///, 80/filtered/tcp//http///, 53/open/udp//domain///"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("Host: fd77:1::3 ()\tStatus: Up\n"), std::string::npos) << text;
    expect_no_keys(text);
}

// The "ip" member in RFC 5952's canonical form, on port lines and host lines alike.
TEST_F(Ipv6Output, JsonLinesIpIsCanonical) {
    const SynUdpScan6 scan;
    std::ostringstream out;
    write_jsonl(out, scan.results, ReportOptions{}, SynUdpScan6::summary());
    const std::string text = out.str();
    EXPECT_NE(text.find(R"({"ip":"fd77:1::2","port":22,"proto":"tcp","state":"open")"), std::string::npos) << text;
    EXPECT_NE(text.find(R"({"ip":"fd77:1::2","status":"up")"), std::string::npos) << text;
    EXPECT_NE(text.find(R"({"ip":"fd77:1::3","status":"up")"), std::string::npos) << text;
    expect_no_keys(text);
}

// <address addrtype="ipv6">, the command line as typed (with -6, as nmap -6 writes args), and the
// document valid against nmap.dtd.
TEST_F(Ipv6Output, XmlAddressIsIpv6AndTheDocumentIsValid) {
    const SynUdpScan6 scan;
    std::ostringstream out;
    write_xml(out, scan.results, testing::fixture_services(), ReportOptions{}, SynUdpScan6::summary());
    const std::string text = out.str();
    EXPECT_NE(text.find("<address addr=\"fd77:1::2\" addrtype=\"ipv6\"/>"), std::string::npos) << text;
    EXPECT_NE(text.find("<address addr=\"fd77:1::3\" addrtype=\"ipv6\"/>"), std::string::npos) << text;
    EXPECT_NE(text.find("args=\"flagscan -6 -sS -sU"), std::string::npos) << text;
    EXPECT_NE(text.find("<scaninfo type=\"syn\" protocol=\"tcp\" numservices=\"32\" services=\"22,80,1000-1029\"/>"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("addrtype=\"ipv4\""), std::string::npos) << text;
    expect_no_keys(text);
    testing::expect_valid_against_nmap_dtd(text, "ipv6-syn-udp");
}

TEST_F(Ipv6Output, DiscoveryReportsNameTheAddress) {
    const PingScan6 scan;
    std::ostringstream normal, jsonl, xml;
    write_discovery_normal(normal, scan.results, PingScan6::summary());
    EXPECT_NE(normal.str().find("flagscan scan report for fd77:1::2\nHost is up, received echo-reply ttl 64"), std::string::npos)
        << normal.str();
    write_discovery_jsonl(jsonl, scan.results, PingScan6::summary());
    EXPECT_EQ(jsonl.str().rfind(R"({"ip":"fd77:1::2","status":"up","reason":"echo-reply")", 0), 0u) << jsonl.str();
    write_xml(xml, scan.results, testing::fixture_services(), ReportOptions{}, PingScan6::summary());
    EXPECT_NE(xml.str().find("<address addr=\"fd77:1::2\" addrtype=\"ipv6\"/>"), std::string::npos) << xml.str();
    EXPECT_NE(xml.str().find("<address addr=\"fd77:1::3\" addrtype=\"ipv6\"/>"), std::string::npos) << xml.str();  // -v: down too
    for (const std::string& text : {normal.str(), jsonl.str(), xml.str()}) expect_no_keys(text);
    testing::expect_valid_against_nmap_dtd(xml.str(), "ipv6-ping");
}

// The ARP lane of an IPv6 scan is neighbor discovery: its answer is nmap -6's "nd-response".
TEST_F(Ipv6Output, NeighborDiscoveryAnswerIsNdResponse) {
    const auto book = scan_book();
    const TargetSet targets = SynUdpScan6::with_book(TargetSet(keys(1), std::vector<Slot>{Slot{Port{0}, 0}}), book);
    Results results{targets, {&ping_arp_kind()}};
    PortResult answer = verdict(PortState::open, Reason::arp_response, 0);
    answer.rtt_us = 95;
    results.set(0, answer);
    std::ostringstream normal, xml;
    write_discovery_normal(normal, results, PingScan6::summary());
    EXPECT_NE(normal.str().find("Host is up, received nd-response"), std::string::npos) << normal.str();
    write_xml(xml, results, testing::fixture_services(), ReportOptions{}, PingScan6::summary());
    EXPECT_NE(xml.str().find("<status state=\"up\" reason=\"nd-response\""), std::string::npos) << xml.str();
    std::ostringstream v4;  // an IPv4 scan keeps arp-response
    const TargetSet plain{keys(1), std::vector<Slot>{Slot{Port{0}, 0}}};
    Results v4_results{plain, {&ping_arp_kind()}};
    v4_results.set(0, answer);
    write_discovery_normal(v4, v4_results, PingScan6::summary());
    EXPECT_NE(v4.str().find("received arp-response"), std::string::npos) << v4.str();
}

// The narrative names the target by its address, endpoints in brackets, the hop limit, and the
// ICMPv6 message RFC 7915 5.2 read as the ICMP code the rule names.
TEST_F(Ipv6Output, ExplainSpeaksIcmpv6AndHopLimit) {
    const SynUdpScan6 scan;
    std::ostringstream out;
    ReportOptions options;
    options.all_ports = true;
    write_explanations(out, scan.results, options, ExplainContext{});
    std::string text;  // wrapped lines joined again
    for (char c : out.str()) {
        if (c == '\n') c = ' ';
        if (c == ' ' && !text.empty() && text.back() == ' ') continue;
        text += c;
    }
    EXPECT_NE(text.find("IPv6: the scan went over IPv6."), std::string::npos) << text;
    EXPECT_NE(text.find("Why each tcp port of fd77:1::2 is in its state"), std::string::npos) << text;
    EXPECT_NE(text.find("SYN,ACK from [fd77:1::2]:22, hop limit 64"), std::string::npos) << text;
    EXPECT_NE(text.find("a UDP datagram from [fd77:1::2]:53, hop limit 64"), std::string::npos) << text;
    EXPECT_NE(text.find("ICMPv6 destination unreachable, code 4 (port unreachable, RFC 4443 3.1; read as ICMP 3/3, "
                        "RFC 7915 5.2) (port-unreach), from fd77:1::2 (the target itself), hop limit 64"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("ICMPv6 destination unreachable, code 1, 5 or 6 (communication with the destination "
                        "administratively prohibited"),
              std::string::npos)
        << text;
    expect_no_keys(text);
}

// Packets of an IPv6 scan as the wire carries them: IPv6 addresses, ports after brackets, hop
// limit, ICMPv6 types and codes, the quoted probe, neighbor discovery.
TEST(Ipv6PacketTrace, Ipv6PacketsAsTheWireCarriesThem) {
    const auto syn = test6::packet6(kScanner6, kTarget6, {}, ipproto::tcp,
                                    test6::tcp6(kScanner6, kTarget6, Port{61232}, Port{22}, 1000, TcpFlags{TcpFlags::syn}));
    EXPECT_EQ(trace_sent6(*decode_ipv6(ByteView{syn})), "SENT  [fd77:1::1]:61232 > [fd77:1::2]:22 SYN seq=1000 hlim=64");
    const auto probe = test6::packet6(kScanner6, kTarget6, {}, ipproto::udp,
                                      test6::udp6(kScanner6, kTarget6, Port{40000}, Port{53}, {1, 2, 3}));
    EXPECT_EQ(trace_sent6(*decode_ipv6(ByteView{probe})), "SENT  [fd77:1::1]:40000 > [fd77:1::2]:53 UDP 3 bytes hlim=64");
    const auto unreachable = test6::packet6(kTarget6, kScanner6, {}, ipproto::icmpv6,
                                            test6::icmp6(kTarget6, kScanner6, 1, 4, 0, probe), 63);
    EXPECT_EQ(trace_received6(*decode_ipv6(ByteView{unreachable}), PacketOutcome{PacketOutcome::Kind::answer, 50}),
              "RCVD  fd77:1::2 > fd77:1::1 ICMPv6 1/4 port-unreach about [fd77:1::1]:40000 > [fd77:1::2]:53 hlim=63 (0.05 ms)");
    const auto echo = test6::packet6(kTarget6, kScanner6, {}, ipproto::icmpv6,
                                     test6::icmp6(kTarget6, kScanner6, 129, 0, (7u << 16) | 9u, {}));
    EXPECT_EQ(trace_received6(*decode_ipv6(ByteView{echo}), PacketOutcome{PacketOutcome::Kind::stray, -1}),
              "RCVD  fd77:1::2 > fd77:1::1 ICMPv6 129/0 id=7 seq=9 hlim=64 [stray: not an answer to this scan]");
    const MacAddress mac{0x02, 0x77, 0, 0, 0, 2};
    const auto advert = test6::packet6(kTarget6, kScanner6, {}, ipproto::icmpv6,
                                       test6::icmp6(kTarget6, kScanner6, 136, 0, 0x6000'0000u,
                                                    test6::neighbor_body(kTarget6, &mac, 2)),
                                       255);
    EXPECT_EQ(trace_received6(*decode_ipv6(ByteView{advert}), PacketOutcome{PacketOutcome::Kind::answer, 50}),
              "RCVD  fd77:1::2 > fd77:1::1 ICMPv6 136/0 neighbor advertisement fd77:1::2 is-at 02:77:00:00:00:02 hlim=255 "
              "(0.05 ms)");
}

// A translated reply (keys for addresses) read through the book, and a connect step.
TEST(Ipv6PacketTrace, KeysThroughTheBook) {
    const auto book = scan_book();
    const Ipv4 target = *book->key_of(kTarget6), me = *book->key_of(kScanner6);
    auto rst = make_tcp_packet(target, me, Port{22}, Port{61232}, 0, 1001, TcpFlags{TcpFlags::rst | TcpFlags::ack}, 0, 64);
    EXPECT_EQ(trace_received(*decode_ipv4(ByteView{rst}), PacketOutcome{PacketOutcome::Kind::answer, 50}, book.get()),
              "RCVD  [fd77:1::2]:22 > [fd77:1::1]:61232 RST,ACK ack=1001 ttl=64 win=0 (0.05 ms)");
    EXPECT_EQ(trace_connect(target, Port{22}, 0, 25000, book.get()), "CONN (0.0250s) TCP localhost > [fd77:1::2]:22 => Connected");
    EXPECT_EQ(trace_connect(Ipv4{10, 0, 0, 2}, Port{22}, 0, 25000), "CONN (0.0250s) TCP localhost > 10.0.0.2:22 => Connected");
}

// --packet-trace's hooks: an IPv6 probe decoded from the bytes sent; a reply translated to keys
// shown as its frame carried it (the IPv6 packet past the link header), not as the translation.
TEST(Ipv6PacketTrace, HooksShowTheFramesIpv6Packet) {
    const auto book = scan_book();
    std::ostringstream trace;
    LoopHooks hooks;
    add_packet_trace(hooks, trace, book.get());
    const auto syn = test6::packet6(kScanner6, kTarget6, {}, ipproto::tcp,
                                    test6::tcp6(kScanner6, kTarget6, Port{61232}, Port{22}, 1000, TcpFlags{TcpFlags::syn}));
    hooks.sent(Probe{}, syn, 0);
    const auto synack = test6::packet6(
        kTarget6, kScanner6, {}, ipproto::tcp,
        test6::tcp6(kTarget6, kScanner6, Port{22}, Port{61232}, 5, TcpFlags{TcpFlags::syn | TcpFlags::ack}));
    std::vector<std::uint8_t> ethernet(14, 0);
    ethernet[12] = 0x86, ethernet[13] = 0xdd;
    ethernet.insert(ethernet.end(), synack.begin(), synack.end());
    Frame frame;
    frame.assign(ethernet, 0);
    DecodedPacket translated;  // what the reply translation hands the engine
    translated.link_header = 14;
    translated.ip.src = *book->key_of(kTarget6);
    translated.ip.dst = *book->key_of(kScanner6);
    translated.ip.ttl = 64;
    translated.ip.protocol = ipproto::tcp;
    translated.tcp = decode_ipv6(ByteView{synack})->tcp;
    hooks.received(frame, translated, PacketOutcome{PacketOutcome::Kind::answer, 50});
    EXPECT_EQ(trace.str(),
              "SENT  [fd77:1::1]:61232 > [fd77:1::2]:22 SYN seq=1000 hlim=64\n"
              "RCVD  [fd77:1::2]:22 > [fd77:1::1]:61232 SYN,ACK seq=5 ack=0 hlim=64 win=1024 (0.05 ms)\n");
}

// Shards of an IPv6 scan merged: hosts in address order (numeric, not text order), the merged
// XML still valid.
TEST_F(Ipv6Output, MergeOrdersIpv6Hosts) {
    const std::string identity = R"("version":"0.2.0","seed":7,"targets":"fd77:1::/120","ports":"tcp:22","scan":"syn",)"
                                 R"("listing":"default","shard_by":"hosts","shard_from":"")";
    const auto jsonl = [&](const std::string& shard, const std::string& ip) {
        return R"({"type":"scan",)" + identity + R"(,"shard":")" + shard + "\"}\n" + R"({"ip":")" + ip +
               R"(","status":"up","counts":{"open":0,"closed":1,"filtered":0}})" + "\n" +
               R"({"type":"summary","addresses":128,"up":1,"elapsed":1.00,"interrupted":false})" + "\n";
    };
    const auto merged = merge_jsonl({{"a", jsonl("1/2", "fd77:1::10")}, {"b", jsonl("2/2", "fd77:1::9")}});
    ASSERT_TRUE(merged.ok()) << merged.error();
    EXPECT_LT(merged->text.find("fd77:1::9\""), merged->text.find("fd77:1::10\"")) << merged->text;

    const auto xml = [&](const std::string& shard, const std::string& ip) {
        std::string text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n<!-- flagscan-scan {" +
                           xml_comment_json(identity + R"(,"shard":")" + shard + '"') +
                           "} -->\n<nmaprun scanner=\"nmap\" args=\"flagscan -6\" start=\"1\" startstr=\"x\" version=\"0.2.0\" "
                           "xmloutputversion=\"1.05\">\n<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n";
        text += "<host><status state=\"up\" reason=\"user-set\" reason_ttl=\"0\"/>\n<address addr=\"" + ip +
                "\" addrtype=\"ipv6\"/>\n<hostnames>\n</hostnames>\n</host>\n";
        return text + "<runstats><finished time=\"2\" timestr=\"y\" summary=\"s\" elapsed=\"1.00\" exit=\"success\"/>"
                      "<hosts up=\"1\" down=\"63\" total=\"64\"/>\n</runstats>\n</nmaprun>\n";
    };
    const auto merged_xml = merge_xml({{"a.xml", xml("1/2", "fd77:1::10")}, {"b.xml", xml("2/2", "fd77:1::9")}});
    ASSERT_TRUE(merged_xml.ok()) << merged_xml.error();
    const std::string& text = merged_xml->text;
    EXPECT_LT(text.find("addr=\"fd77:1::9\" addrtype=\"ipv6\""), text.find("addr=\"fd77:1::10\" addrtype=\"ipv6\"")) << text;
    testing::expect_valid_against_nmap_dtd(text, "ipv6-merge");
}

// An IPv6 scan's resume file names its hosts by index and its targets by the command line (the
// IPv6 addresses as typed), never by key: read back and restored into the target set a resumed
// scan rebuilds (a new book, the same addresses in the same order), the reports are the same.
TEST_F(Ipv6Output, ResumeRoundTripsAnIpv6Scan) {
    const SynUdpScan6 scan;
    ResumeState state;
    state.args = {"-6", "-sS", "-sU", "-p", "T:22,80,1000-1029,U:53,2000-2029", "-Pn", "-n", "fd77:1::2-fd77:1::3"};
    state.seed = 42;
    state.phases = {capture_phase("ports", scan.results, ResumePoint{scan.targets.size(), {}})};
    const std::string text = serialize(state);
    expect_no_keys(text);
    EXPECT_NE(text.find("arg fd77:1::2-fd77:1::3\n"), std::string::npos) << text;
    const auto back = parse_resume(text);
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->args, state.args);

    TargetSet rebuilt = SynUdpScan6::with_book(TargetSet(keys(2), SynUdpScan6::slots()), scan_book());
    Results resumed{rebuilt, {&syn_kind(), &udp_kind()}};
    const auto restored = restore_phase(*back->phase("ports"), resumed);
    ASSERT_TRUE(restored) << restored.error();
    std::ostringstream before, after;
    write_jsonl(before, scan.results, ReportOptions{}, SynUdpScan6::summary());
    write_jsonl(after, resumed, ReportOptions{}, SynUdpScan6::summary());
    EXPECT_EQ(after.str(), before.str());
    EXPECT_NE(after.str().find(R"("ip":"fd77:1::2")"), std::string::npos);
}

}  // namespace
}  // namespace flagscan

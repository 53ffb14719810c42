// Reports: what is listed, what is summarised, and the exact JSON lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "flagscan/output/report.hpp"
#include "flagscan/output/service_report.hpp"
#include "nmap_formats_fixture.hpp"
#include "sim_scan.hpp"

namespace flagscan {
namespace {

PortResult verdict(PortState state, Reason reason) {
    PortResult result;
    result.state = state;
    result.reason = reason;
    return result;
}

struct Fixture {
    TargetSet targets;
    Results results;

    // 21-24, 80, 135, then 27 more closed ports (1000-1026): 30 closed in all, above nmap's 25,
    // so closed is the state the report summarises.
    Fixture() : targets(hosts(), ports()), results(targets, {&syn_kind()}) {
        set(0, PortState::closed, Reason::reset, 64);
        set(1, PortState::open, Reason::syn_ack, 64);
        set(2, PortState::closed, Reason::reset, 64);
        set(3, PortState::closed, Reason::reset, 64);
        set(4, PortState::open, Reason::syn_ack, 64);
        set(5, PortState::filtered, Reason::no_response, 0);
        for (std::uint64_t i = 6; i < targets.slot_count(); ++i) set(i, PortState::closed, Reason::reset, 64);
        results.note_reply(0, 120);
    }
    static std::vector<Port> ports() {
        std::vector<Port> list{Port{21}, Port{22}, Port{23}, Port{24}, Port{80}, Port{135}};
        for (std::uint16_t p = 1000; p <= 1026; ++p) list.push_back(Port{p});
        return list;
    }
    static AddressSet hosts() {
        AddressSet set;
        set.add(Ipv4{10, 0, 0, 2});
        return set;
    }
    void set(std::uint64_t index, PortState state, Reason reason, std::uint8_t ttl) {
        PortResult r;
        r.state = state;
        r.reason = reason;
        r.ttl = ttl;
        results.set(index, r);
    }
};

TEST(Report, JsonLinesListThePortsOutsideTheCommonState) {
    Fixture f;
    std::ostringstream out;
    write_jsonl(out, f.results, ReportOptions{}, ScanSummary{});
    EXPECT_EQ(out.str(),
              R"({"ip":"10.0.0.2","port":22,"proto":"tcp","state":"open","reason":"syn-ack","ttl":64})" "\n"
              R"({"ip":"10.0.0.2","port":80,"proto":"tcp","state":"open","reason":"syn-ack","ttl":64})" "\n"
              R"({"ip":"10.0.0.2","port":135,"proto":"tcp","state":"filtered","reason":"no-response"})" "\n"
              R"({"ip":"10.0.0.2","status":"up","counts":{"open":2,"closed":30,"filtered":1}})" "\n");
}

TEST(Report, HostNameInJsonIsEscaped) {
    Fixture f;
    std::ostringstream out;
    ScanSummary summary;
    summary.host_names = {"odd\"name\x01"};
    write_jsonl(out, f.results, ReportOptions{}, summary);
    EXPECT_NE(out.str().find(R"("hostname":"odd\"name\u0001")"), std::string::npos) << out.str();
}

// How the host was judged up goes on its JSON line and, with --reason, in nmap's words on the
// normal report's "Host is up" line; unknown (a replay), it is left out.
TEST(Report, HostReasonInJsonAndWithReasonInTheNormalReport) {
    Fixture f;
    ScanSummary summary;
    summary.host_reasons = {Reason::arp_response};
    std::ostringstream json;
    write_jsonl(json, f.results, ReportOptions{}, summary);
    EXPECT_NE(json.str().find(R"({"ip":"10.0.0.2","status":"up","reason":"arp-response","counts":{)"), std::string::npos)
        << json.str();
    const ServiceTable services = ServiceTable::from_etc_services("");
    ReportOptions options;
    options.reason = true;
    std::ostringstream with_reason, without;
    write_normal(with_reason, f.results, services, options, summary);
    EXPECT_NE(with_reason.str().find("Host is up, received arp-response (0.000120s latency).\n"), std::string::npos)
        << with_reason.str();
    write_normal(without, f.results, services, ReportOptions{}, summary);
    EXPECT_NE(without.str().find("Host is up (0.000120s latency).\n"), std::string::npos) << without.str();
}

TEST(Report, AllPortsAndOpenOnly) {
    Fixture f;
    std::ostringstream all, open;
    ReportOptions options;
    options.all_ports = true;
    write_jsonl(all, f.results, options, ScanSummary{});
    const std::string all_text = all.str();
    EXPECT_EQ(std::count(all_text.begin(), all_text.end(), '\n'), 34);
    options = {};
    options.open_only = true;
    write_jsonl(open, f.results, options, ScanSummary{});
    const std::string open_text = open.str();
    EXPECT_EQ(std::count(open_text.begin(), open_text.end(), '\n'), 3);
    EXPECT_EQ(open_text.find(R"("state":"filtered")"), std::string::npos);
}

TEST(Report, NormalTableSummarisesAndShowsReasons) {
    Fixture f;
    std::ostringstream out;
    ReportOptions options;
    options.reason = true;
    ServiceTable services = ServiceTable::from_etc_services("ssh 22/tcp\nhttp 80/tcp\n");
    write_normal(out, f.results, services, options, ScanSummary{"SYN scan", "now", 1.5, false, {"gw.lab"}});
    const std::string text = out.str();
    EXPECT_NE(text.find("flagscan scan report for gw.lab (10.0.0.2)"), std::string::npos) << text;
    EXPECT_NE(text.find("Not shown: 30 closed tcp ports (reset)"), std::string::npos) << text;
    EXPECT_NE(text.find("22/tcp    open            ssh             syn-ack ttl 64"), std::string::npos) << text;
    EXPECT_NE(text.find("135/tcp   filtered        unknown         no-response"), std::string::npos) << text;
    EXPECT_NE(text.find("1 IP address (1 host up) scanned in 1.50 seconds"), std::string::npos) << text;
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

// nmap's rule: up to 25 ports in a state are listed, more are summarised; open ones never are.
TEST(Report, SmallStatesAndOpenPortsAreListed) {
    AddressSet host;
    host.add(Ipv4{10, 0, 0, 9});
    std::vector<Port> ports;
    for (std::uint16_t p = 1; p <= 60; ++p) ports.push_back(Port{p});
    const TargetSet targets{host, ports};
    Results results{targets, {&syn_kind()}};
    const PortResult open = verdict(PortState::open, Reason::syn_ack), closed = verdict(PortState::closed, Reason::reset);
    for (std::uint64_t i = 0; i < 60; ++i) results.set(i, i < 35 ? open : closed);  // 35 open, 25 closed
    EXPECT_TRUE(host_listing(results, 0, ReportOptions{}).not_shown.empty());  // closed has only 25; open is never folded
    std::ostringstream out;
    write_jsonl(out, results, ReportOptions{}, ScanSummary{});
    const std::string text = out.str();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 61);
}

// --top-ports gives ports in frequency order; reports list them by lane, then port (nmap's).
TEST(Report, PortsAreListedInPortOrderLaneByLane) {
    AddressSet host;
    host.add(Ipv4{10, 0, 0, 9});
    const TargetSet targets{host, std::vector<Slot>{{Port{443}, 0}, {Port{53}, 1}, {Port{22}, 0}, {Port{7}, 1}}};
    Results results{targets, {&syn_kind(), &udp_kind()}};
    PortResult open;
    open.state = PortState::open;
    open.reason = Reason::syn_ack;
    for (std::uint64_t i = 0; i < 4; ++i) results.set(i, open);
    std::ostringstream out;
    write_jsonl(out, results, ReportOptions{}, ScanSummary{});
    const std::string text = out.str();
    const auto at = [&](const char* what) { return text.find(what); };
    EXPECT_LT(at(R"("port":22,"proto":"tcp")"), at(R"("port":443,"proto":"tcp")")) << text;
    EXPECT_LT(at(R"("port":443,"proto":"tcp")"), at(R"("port":7,"proto":"udp")")) << text;
    EXPECT_LT(at(R"("port":7,"proto":"udp")"), at(R"("port":53,"proto":"udp")")) << text;
}

TEST(Report, PortsWithoutAVerdictAreNeitherListedNorSummarised) {
    AddressSet host;
    host.add(Ipv4{10, 0, 0, 9});
    const TargetSet targets{host, {Port{1}, Port{2}, Port{3}, Port{4}, Port{5}}};
    Results results{targets, {&syn_kind()}};  // an interrupted scan: only two ports decided
    PortResult open;
    open.state = PortState::open;
    open.reason = Reason::syn_ack;
    results.set(1, open);
    PortResult closed;
    closed.state = PortState::closed;
    closed.reason = Reason::reset;
    results.set(3, closed);
    std::ostringstream out;
    ReportOptions options;
    options.all_ports = true;
    write_jsonl(out, results, options, ScanSummary{});
    EXPECT_EQ(out.str(),
              R"({"ip":"10.0.0.9","port":2,"proto":"tcp","state":"open","reason":"syn-ack"})" "\n"
              R"({"ip":"10.0.0.9","port":4,"proto":"tcp","state":"closed","reason":"reset"})" "\n"
              R"({"ip":"10.0.0.9","status":"up","complete":false,"not_scanned":3,"counts":{"open":1,"closed":1,"filtered":0}})" "\n");
    EXPECT_TRUE(host_listing(results, 0, options).not_shown.empty());  // --all-ports: nothing folded
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

using testing::one_host;
using testing::port_range;
using testing::SimScan;

const Ipv4 kLabHost{10, 77, 0, 2};

std::string normal_text(const Results& results, const ReportOptions& options, bool interrupted = false) {
    std::ostringstream out;
    ScanSummary summary{"scan", "now", 1.0, interrupted, {}};
    write_normal(out, results, ServiceTable::from_etc_services("ssh 22/tcp\nhttp 80/tcp\n"), options, summary);
    return out.str();
}

std::string jsonl_text(const Results& results, const ReportOptions& options) {
    std::ostringstream out;
    write_jsonl(out, results, options, ScanSummary{});
    return out.str();
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

std::string line_with(const std::string& text, const std::string& what) {
    const auto at = text.find(what);
    if (at == std::string::npos) return "";
    const auto begin = text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at) + 1;
    return text.substr(begin, text.find('\n', at) - begin);
}

ReportOptions open_only() {
    ReportOptions options;
    options.open_only = true;
    return options;
}

// A FIN scan of 1-100 (as nmap -sF --open on the lab): open and dropped ports are open|filtered,
// rejected ones filtered, the rest closed.
TEST(ReportOpen, ListsOpenFilteredPortsAndKeepsTheNotShownLine) {
    SimConfig net;
    SimHost host;
    host.open = {22, 80};
    host.dropped = {30, 31, 32};
    host.rejected = {40, 41};
    net.hosts[kLabHost] = host;
    SimScan scan{one_host(kLabHost), port_range(1, 100), net, *probe_kind_by_letter('F')};
    scan.run();
    const std::string text = normal_text(*scan.results, open_only());
    EXPECT_NE(text.find("Not shown: 93 closed tcp ports (reset), 2 filtered tcp ports (admin-prohibited)\n"),
              std::string::npos) << text;
    for (const char* port : {"22/tcp", "30/tcp", "31/tcp", "32/tcp", "80/tcp"})
        EXPECT_NE(text.find(std::string(port) + " "), std::string::npos) << port << " missing in\n" << text;
    EXPECT_EQ(count_of(text, "open|filtered"), 5u) << text;
    const std::string json = jsonl_text(*scan.results, open_only());
    EXPECT_EQ(count_of(json, R"("state":"open|filtered")"), 5u) << json;
    EXPECT_EQ(count_of(json, "\n"), 6u) << json;  // five ports, one host
}

// nmap -sA --open on the lab: unfiltered is "possibly open" too, so the host stays, but above 25
// it folds like any state; equal groups come latest-first (113 rejected before 135 dropped there).
TEST(ReportOpen, FoldsPossiblyOpenStatesAbove25) {
    SimConfig net;
    SimHost host;
    host.rejected = {13, 14, 15};
    host.dropped = {35, 45, 55};
    net.hosts[kLabHost] = host;
    SimScan scan{one_host(kLabHost), port_range(1, 100), net, *probe_kind_by_letter('A')};
    scan.run();
    const std::string text = normal_text(*scan.results, open_only());
    EXPECT_NE(text.find("All 100 scanned ports on 10.77.0.2 are in ignored states.\n"
                        "Not shown: 94 unfiltered tcp ports (reset), 3 filtered tcp ports (no-response), "
                        "3 filtered tcp ports (admin-prohibited)\n"),
              std::string::npos) << text;
    EXPECT_EQ(text.find("PORT"), std::string::npos) << text;
    EXPECT_EQ(jsonl_text(*scan.results, open_only()),
              R"({"ip":"10.77.0.2","status":"up","counts":{"open":0,"closed":0,"filtered":6,"unfiltered":94}})" "\n");
}

// nmap leaves out a host with nothing possibly open, yet counts it up.
TEST(ReportOpen, LeavesOutHostsWithNothingPossiblyOpen) {
    SimConfig net;
    SimHost open_host, closed_host, silent_host;
    open_host.open = {22};
    silent_host.drop_all = true;
    net.hosts[Ipv4{10, 77, 0, 2}] = open_host;
    net.hosts[Ipv4{10, 77, 0, 3}] = closed_host;
    net.hosts[Ipv4{10, 77, 0, 4}] = silent_host;
    AddressSet hosts;
    for (std::uint8_t last = 2; last <= 4; ++last) hosts.add(Ipv4{10, 77, 0, last});
    SimScan scan{hosts, port_range(20, 30), net};
    scan.run();
    const std::string text = normal_text(*scan.results, open_only());
    EXPECT_NE(text.find("report for 10.77.0.2\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("10.77.0.3"), std::string::npos) << text;
    EXPECT_EQ(text.find("10.77.0.4"), std::string::npos) << text;
    EXPECT_NE(text.find("Not shown: 10 closed tcp ports (reset)\n"), std::string::npos) << text;
    EXPECT_NE(text.find("3 IP addresses (3 hosts up)"), std::string::npos) << text;  // -Pn: all up
    const std::string json = jsonl_text(*scan.results, open_only());
    EXPECT_EQ(json,
              R"({"ip":"10.77.0.2","port":22,"proto":"tcp","state":"open","reason":"syn-ack","ttl":64})" "\n"
              R"js({"ip":"10.77.0.2","status":"up","os_hint":"unknown (TTL 64, window 64240, no options; distance 1)",)js"
              R"("counts":{"open":1,"closed":10,"filtered":0}})" "\n");
}

// nmap's "port" is singular when its whole state holds one port.
TEST(ReportOpen, OnePortIsSingular) {
    AddressSet host;
    host.add(kLabHost);
    const TargetSet targets{host, {Port{21}, Port{22}}};
    Results results{targets, {&syn_kind()}};
    results.set(0, verdict(PortState::closed, Reason::reset));
    results.set(1, verdict(PortState::open, Reason::syn_ack));
    EXPECT_EQ(line_with(normal_text(results, open_only()), "Not shown"), "Not shown: 1 closed tcp port (reset)");
    EXPECT_EQ(line_with(normal_text(results, ReportOptions{}), "Not shown"), "");  // one closed port is listed
}

// nmap folds every state with more than 25 ports, reason by reason, not only the biggest one.
TEST(ReportNotShown, EveryStateAbove25IsFoldedReasonByReason) {
    SimConfig net;
    SimHost host;
    host.open = {22, 80};
    for (std::uint16_t p = 100; p < 160; ++p) host.dropped.insert(p);
    host.rejected = {170, 171, 172};
    net.hosts[kLabHost] = host;
    SimScan scan{one_host(kLabHost), port_range(1, 200), net};
    scan.run();
    const std::string text = normal_text(*scan.results, ReportOptions{});
    EXPECT_EQ(line_with(text, "Not shown"),
              "Not shown: 135 closed tcp ports (reset), 60 filtered tcp ports (no-response), "
              "3 filtered tcp ports (admin-prohibited)");
    EXPECT_NE(text.find("PORT      STATE           SERVICE\n"
                        "22/tcp    open            ssh\n"
                        "80/tcp    open            http\n\n"),
              std::string::npos) << text;
    EXPECT_EQ(jsonl_text(*scan.results, ReportOptions{}),
              R"({"ip":"10.77.0.2","port":22,"proto":"tcp","state":"open","reason":"syn-ack","ttl":64})" "\n"
              R"({"ip":"10.77.0.2","port":80,"proto":"tcp","state":"open","reason":"syn-ack","ttl":64})" "\n"
              R"js({"ip":"10.77.0.2","status":"up","os_hint":"unknown (TTL 64, window 64240, no options; distance 1)",)js"
              R"("counts":{"open":2,"closed":135,"filtered":63}})" "\n");
    const auto listing = host_listing(*scan.results, 0, ReportOptions{});
    ASSERT_EQ(listing.not_shown.size(), 3u);
    EXPECT_EQ(listing.folded_ports(), 198u);
}

// The 25-port rule counts a state over the whole host: 29 closed TCP and 9 closed UDP ports are
// 38 closed ones, all folded (nmap: getStateCounts is per host, the groups per protocol).
TEST(ReportNotShown, AStateIsCountedOverEveryProtocol) {
    AddressSet host;
    host.add(kLabHost);
    std::vector<Slot> slots;
    for (std::uint16_t p = 1; p <= 30; ++p) slots.push_back({Port{p}, 0});
    for (std::uint16_t p = 1; p <= 10; ++p) slots.push_back({Port{p}, 1});
    const TargetSet targets{host, slots};
    Results results{targets, {&syn_kind(), &udp_kind()}};
    for (std::uint64_t i = 0; i < slots.size(); ++i) {
        const bool udp = slots[i].lane == 1;
        const bool open = slots[i].port.value() == (udp ? 7 : 22);
        results.set(i, open ? verdict(PortState::open, udp ? Reason::udp_response : Reason::syn_ack)
                            : verdict(PortState::closed, udp ? Reason::port_unreach : Reason::reset));
    }
    EXPECT_EQ(line_with(normal_text(results, ReportOptions{}), "Not shown"),
              "Not shown: 29 closed tcp ports (reset), 9 closed udp ports (port-unreach)");
    const std::string json = jsonl_text(results, ReportOptions{});
    EXPECT_EQ(count_of(json, "\n"), 3u) << json;  // 22/tcp, 7/udp, the host
}

// Ctrl-C after some 300 verdicts of 2000: what was not scanned is said, and counted nowhere else.
TEST(ReportInterrupted, SaysWhatWasNotScannedAndFoldsOnlyWhatWas) {
    SimConfig net;
    SimHost host;
    host.open = {22, 80};
    net.hosts[kLabHost] = host;
    SimScan scan{one_host(kLabHost), port_range(1, 2000), net};
    std::atomic<bool> stop{false};
    LoopHooks hooks;
    hooks.tick = [&](Micros) {  // once both open ports are known, so that the host has a port to list
        const auto found = scan.results->host(0).counts[static_cast<int>(PortState::open)];
        stop = scan.engine->decided() >= 300 && found == 2;
    };
    scan.run(hooks, stop);
    const auto counts = scan.results->host(0).counts;
    const std::uint32_t left = counts[static_cast<int>(PortState::unscanned)];
    const std::uint32_t closed = counts[static_cast<int>(PortState::closed)];
    ASSERT_GT(left, 0u);
    ASSERT_GT(closed, 25u);
    const std::string text = normal_text(*scan.results, ReportOptions{}, true);
    EXPECT_EQ(line_with(text, "Scan interrupted: "),
              "Scan interrupted: " + std::to_string(left) + " of 2000 ports not scanned.");
    EXPECT_EQ(line_with(text, "Not shown"), "Not shown: " + std::to_string(closed) + " closed tcp ports (reset)");
    EXPECT_EQ(text.find("in ignored states"), std::string::npos) << text;
    const std::string json = jsonl_text(*scan.results, ReportOptions{});
    EXPECT_NE(json.find(R"("status":"up","complete":false,"not_scanned":)" + std::to_string(left) + ","),
              std::string::npos) << json;
    // Without the interruption (a replay that never probed some ports) the count stays, unexplained.
    EXPECT_EQ(line_with(normal_text(*scan.results, ReportOptions{}), "not scanned"),
              std::to_string(left) + " of 2000 ports not scanned.");
}

// Interrupted before any verdict: no "Not shown", no table, only what was not scanned.
TEST(ReportInterrupted, NothingScannedYet) {
    AddressSet host;
    host.add(kLabHost);
    const TargetSet targets{host, port_range(1, 50)};
    Results results{targets, {&syn_kind()}};
    const std::string text = normal_text(results, ReportOptions{}, true);
    EXPECT_NE(text.find("Scan interrupted: 50 of 50 ports not scanned.\n\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("Not shown"), std::string::npos) << text;
    EXPECT_EQ(text.find("PORT"), std::string::npos) << text;
    EXPECT_EQ(jsonl_text(results, ReportOptions{}),
              R"({"ip":"10.77.0.2","status":"up","complete":false,"not_scanned":50,"counts":{"open":0,"closed":0,"filtered":0}})" "\n");
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

// A host that answered nothing: a live -Pn scan set it up (user-set); a replay knows only that
// the scanner probed it, and says so rather than inventing a -Pn nobody gave.
TEST(Report, ASilentHostIsUserSetLiveAndUnknownInAReplay) {
    AddressSet one;
    one.add(Ipv4{10, 0, 0, 9});
    const TargetSet targets{one, {Port{22}}};
    Results results{targets, {&syn_kind()}};
    results.set(0, verdict(PortState::filtered, Reason::no_response));
    ScanSummary live;
    live.host_reasons = {Reason::user_set};
    std::ostringstream live_text, replay_text;
    write_normal(live_text, results, ServiceTable{}, ReportOptions{}, live);
    write_normal(replay_text, results, ServiceTable{}, ReportOptions{}, ScanSummary{});
    EXPECT_NE(live_text.str().find("Host is up (user-set: no reply seen).\n"), std::string::npos) << live_text.str();
    EXPECT_NE(replay_text.str().find("Host sent nothing back in the capture (the scanner probed it as up).\n"),
              std::string::npos) << replay_text.str();
    EXPECT_EQ(replay_text.str().find("user-set"), std::string::npos) << replay_text.str();
}

// -sV: the VERSION column (nmap's text), ssl/http, tcpwrapped, the table's guess with '?', the
// host's Service Info (no application CPE), and the closing "Service detection performed.".
TEST(ReportServices, NormalAsExpected) {
    const testing::ServiceScan scan;
    std::ostringstream out;
    write_normal(out, scan.results, testing::ServiceScan::services(), ReportOptions{}, testing::ServiceScan::summary());
    EXPECT_EQ(out.str(), testing::expected_file("services.nmap"));
}

TEST(ReportServices, JsonAsExpected) {
    const testing::ServiceScan scan;
    std::ostringstream out;
    write_jsonl(out, scan.results, ReportOptions{}, testing::ServiceScan::summary());
    EXPECT_EQ(out.str(), testing::expected_file("services.jsonl"));
}

// nmap's column order: SERVICE, REASON, VERSION.
TEST(ReportServices, ReasonComesBeforeVersion) {
    const testing::ServiceScan scan;
    ReportOptions options;
    options.reason = true;
    std::ostringstream out;
    write_normal(out, scan.results, testing::ServiceScan::services(), options, testing::ServiceScan::summary());
    EXPECT_NE(out.str().find("PORT      STATE           SERVICE         REASON          VERSION\n"
                             "22/tcp    open            ssh             syn-ack ttl 64  OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)\n"
                             "25/tcp    open            tcpwrapped      syn-ack ttl 64\n"),
              std::string::npos)
        << out.str();
}

// A name wider than the column widens it (nmap sizes its columns), so VERSION stays in line.
TEST(ReportServices, WideNamesWidenTheColumn) {
    testing::ServiceScan scan;
    ServiceFound rdp = ServiceFound::probed("ms-wbt-server", ServiceTunnel::ssl);
    rdp.product = "xrdp";
    scan.results.services().set(scan.index(Port{8080}), rdp);
    std::ostringstream out;
    write_normal(out, scan.results, testing::ServiceScan::services(), ReportOptions{}, testing::ServiceScan::summary());
    EXPECT_NE(out.str().find("PORT      STATE           SERVICE           VERSION\n"
                             "22/tcp    open            ssh               OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)\n"),
              std::string::npos)
        << out.str();
    EXPECT_NE(out.str().find("\n8080/tcp  open            ssl/ms-wbt-server xrdp\n"), std::string::npos) << out.str();
}

// -sV ran but left no entry (an interrupted scan, nothing matched): the column is there, an open
// port's table name gets '?', a closed one's does not, and no Service Info line is written.
TEST(ReportServices, PerformedWithoutEntries) {
    Fixture f;
    f.results.services().mark_performed();
    const ServiceTable services = ServiceTable::from_nmap_services("ssh\t22/tcp\t0.18\nftp\t21/tcp\t0.2\n");
    ReportOptions options;
    options.all_ports = true;
    std::ostringstream out;
    write_normal(out, f.results, services, options, ScanSummary{});
    EXPECT_NE(out.str().find("PORT      STATE           SERVICE         VERSION\n"
                             "21/tcp    closed          ftp\n"
                             "22/tcp    open            ssh?\n"
                             "23/tcp    closed          unknown\n"),
              std::string::npos)
        << out.str();
    EXPECT_NE(out.str().find("\n80/tcp    open            unknown\n"), std::string::npos) << out.str();
    EXPECT_EQ(out.str().find("Service Info"), std::string::npos) << out.str();
    EXPECT_NE(out.str().find("\nService detection performed.\nflagscan done: 1 IP address (1 host up)"), std::string::npos)
        << out.str();
}

// Without -sV nothing of it shows: no column, no '?', no closing line.
TEST(ReportServices, NothingWithoutServiceDetection) {
    const Fixture f;
    const ServiceTable services = ServiceTable::from_nmap_services("ssh\t22/tcp\t0.18\n");
    std::ostringstream out;
    write_normal(out, f.results, services, ReportOptions{}, ScanSummary{});
    EXPECT_NE(out.str().find("PORT      STATE           SERVICE\n22/tcp    open            ssh\n"), std::string::npos)
        << out.str();
    EXPECT_EQ(out.str().find("VERSION"), std::string::npos);
    EXPECT_EQ(out.str().find("Service detection"), std::string::npos);
}

// No host up, no closing line (nmap's rule).
TEST(ReportServices, NoClosingLineWithoutAHostUp) {
    Fixture f;
    f.results.services().mark_performed();
    std::ostringstream out;
    write_service_detection_note(out, f.results, 0);
    EXPECT_EQ(out.str(), "");
    write_service_detection_note(out, f.results, 1);
    EXPECT_EQ(out.str(), "Service detection performed.\n");
}

// nmap 7.93 -sV's table for the lab had these cells (its column widths are its own):
//   2222/tcp open  ssh        OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)
//   4443/tcp open  ssl/http   OpenSSL s_server -www httpd (command line: s_server ... -quiet)
//   Service Info: OS: Linux; CPE: cpe:/o:linux:linux_kernel
TEST(ReportServices, CellsAsNmapWroteThem) {
    const testing::LabServiceScan scan;
    std::ostringstream out;
    write_normal(out, scan.results, ServiceTable{}, ReportOptions{}, ScanSummary{});
    for (const char* line : {"2222/tcp  open            ssh             OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)\n",
                             "2525/tcp  open            tcpwrapped\n", "3306/tcp  open            tcpwrapped\n",
                             "4443/tcp  open            ssl/http        OpenSSL s_server -www httpd (command line: s_server "
                             "-accept 4443 -cert c.pem -key k.pem -www -quiet)\n",
                             "8000/tcp  open            http            SimpleHTTPServer 0.6 (Python 3.11.7)\n",
                             "\nService Info: OS: Linux; CPE: cpe:/o:linux:linux_kernel\n\nService detection performed.\n"})
        EXPECT_NE(out.str().find(line), std::string::npos) << line << "\nin\n" << out.str();
}

}  // namespace
}  // namespace flagscan

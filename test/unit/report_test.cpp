// Reports: what is listed, what is summarised, and the exact JSON lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "flagscan/output/report.hpp"

namespace flagscan {
namespace {

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
    PortResult open, closed;
    open.state = PortState::open;
    open.reason = Reason::syn_ack;
    closed.state = PortState::closed;
    closed.reason = Reason::reset;
    for (std::uint64_t i = 0; i < 60; ++i) results.set(i, i < 35 ? open : closed);  // 35 open, 25 closed
    const auto summary = summarised_states(results, 0, ReportOptions{});
    EXPECT_EQ(summary[0].count, 0u);  // closed has only 25; open is never summarised
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
              R"({"ip":"10.0.0.9","status":"up","counts":{"open":1,"closed":1,"filtered":0}})" "\n");
    EXPECT_EQ(summarised_states(results, 0, options)[0].count, 0u);  // --all-ports: nothing summarised
}

}  // namespace
}  // namespace flagscan

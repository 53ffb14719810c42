// Hand-built Results for the XML and grepable tests: an -sS -sU scan and an -sn discovery, times fixed.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "flagscan/output/formats.hpp"

namespace flagscan::testing {

// The expected outputs checked in beside the tests.
inline std::string expected_file(const std::string& name) {
    std::ifstream file{std::string(FLAGSCAN_SOURCE_ROOT) + "/test/unit/expected/" + name};
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

// XML checked against nmap's DTD with xmllint (through a file named after NAME); the test is
// skipped, at its end, when xmllint or nmap.dtd is not installed.
inline void expect_valid_against_nmap_dtd(const std::string& xml, const std::string& name) {
    if (std::system("command -v xmllint >/dev/null 2>&1") != 0 || !std::filesystem::exists("/usr/share/nmap/nmap.dtd"))
        GTEST_SKIP() << "xmllint or nmap.dtd is not installed";
    const auto path = std::filesystem::temp_directory_path() / ("flagscan-" + name + "-" + std::to_string(::getpid()) + ".xml");
    std::ofstream{path} << xml;
    const std::string command = "xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd '" + path.string() + "' 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    std::filesystem::remove(path);
}

// Dates are printed in local time (nmap's ctime): the expected files are in UTC.
class NmapFormats : public ::testing::Test {
protected:
    void SetUp() override {
        setenv("TZ", "UTC", 1);
        tzset();
    }
};

inline PortResult verdict(PortState state, Reason reason, std::uint8_t ttl) {
    PortResult result;
    result.state = state;
    result.reason = reason;
    result.ttl = ttl;
    return result;
}

inline ServiceTable fixture_services() {
    return ServiceTable::from_nmap_services(
        "ssh\t22/tcp\t0.18\nhttp\t80/tcp\t0.48\nodd/name\t113/tcp\t0.002\n"
        "domain\t53/udp\t0.2\ntftp\t69/udp\t0.01\nsnmp\t161/udp\t0.4\n");
}

inline ScanSummary fixed_summary(std::string title, std::vector<std::string> args) {
    ScanSummary summary;
    summary.title = std::move(title);
    summary.command_line = quoted_command_line(args);
    summary.start_unix = 1796189150;  // Wed Dec  2 05:25:50 2026 UTC
    summary.end_unix = 1796189153;
    summary.elapsed_seconds = 2.44;
    summary.version = "0.1.0";
    return summary;
}

// -sS -sU -Pn of two hosts: TCP 22, 80, 113, 135, 1000-1029 and UDP 53, 69, 161, 2000-2029 (135/tcp
// is not in the service table).
// 10.0.0.2 answers (two ports open per protocol, closed folded with a reason per protocol);
// 10.0.0.3 drops everything (filtered TCP and open|filtered UDP, both folded).
struct SynUdpScan {
    TargetSet targets;
    Results results;

    SynUdpScan() : targets(hosts(), slots()), results(targets, {&syn_kind(), &udp_kind()}) {
        set(0, Port{22}, 0, verdict(PortState::open, Reason::syn_ack, 64));
        set(0, Port{80}, 0, verdict(PortState::open, Reason::syn_ack, 64));
        set(0, Port{113}, 0, verdict(PortState::filtered, Reason::admin_prohibited, 64));
        set(0, Port{135}, 0, verdict(PortState::filtered, Reason::no_response, 0));
        for (std::uint16_t p = 1000; p <= 1029; ++p) set(0, Port{p}, 0, verdict(PortState::closed, Reason::reset, 64));
        set(0, Port{53}, 1, verdict(PortState::open, Reason::udp_response, 64));
        set(0, Port{69}, 1, verdict(PortState::open_filtered, Reason::no_response, 0));
        set(0, Port{161}, 1, verdict(PortState::closed, Reason::port_unreach, 64));
        for (std::uint16_t p = 2000; p <= 2029; ++p) set(0, Port{p}, 1, verdict(PortState::closed, Reason::port_unreach, 64));
        for (const Slot& slot : targets.slots())
            set(1, slot.port, slot.lane,
                slot.lane == 0 ? verdict(PortState::filtered, Reason::no_response, 0)
                               : verdict(PortState::open_filtered, Reason::no_response, 0));
        results.note_reply(0, 1200);
    }
    static AddressSet hosts() {
        AddressSet set;
        set.add(Ipv4{10, 0, 0, 2});
        set.add(Ipv4{10, 0, 0, 3});
        return set;
    }
    static std::vector<Slot> slots() {
        std::vector<Slot> list;
        for (const std::uint16_t p : {22, 80, 113, 135}) list.push_back(Slot{Port{p}, 0});
        for (std::uint16_t p = 1000; p <= 1029; ++p) list.push_back(Slot{Port{p}, 0});
        for (const std::uint16_t p : {161, 53, 69}) list.push_back(Slot{Port{p}, 1});  // -p order: reports sort
        for (std::uint16_t p = 2000; p <= 2029; ++p) list.push_back(Slot{Port{p}, 1});
        return list;
    }
    void set(std::uint32_t host, Port port, std::uint8_t lane, const PortResult& result) {
        results.set(host * targets.slot_count() + static_cast<std::uint64_t>(targets.slot_index(lane, port)), result);
    }
    static ScanSummary summary() {
        ScanSummary s = fixed_summary("SYN and UDP scan", {"flagscan", "-sS", "-sU", "-p", "T:22,80,113,135,1000-1029,U:53,69,161,2000-2029",
                                                           "-Pn", "-n", "-oX", "a&b <c>.xml", "10.0.0.2-3"});
        s.host_names = {"gw.lab", ""};
        s.host_reasons = {Reason::arp_response, Reason::none};
        return s;
    }
};

// -sn of 10.0.0.1-3 with ICMP echo and ARP: .1 answers echo, .2 ARP, .3 nothing.
struct PingScan {
    TargetSet targets;
    Results results;

    PingScan() : targets(hosts(), std::vector<Slot>{Slot{Port{0}, 0}, Slot{Port{0}, 1}}),
                 results(targets, {&ping_echo_kind(), &ping_arp_kind()}) {
        PortResult echo = verdict(PortState::open, Reason::echo_reply, 64);
        echo.rtt_us = 310;
        results.set(0, echo);
        results.set(1, verdict(PortState::filtered, Reason::no_response, 0));
        results.note_reply(0, 310);
        results.set(2, verdict(PortState::filtered, Reason::no_response, 0));
        PortResult arp = verdict(PortState::open, Reason::arp_response, 0);
        arp.rtt_us = 95;
        results.set(3, arp);
        results.set(4, verdict(PortState::filtered, Reason::no_response, 0));
        results.set(5, verdict(PortState::filtered, Reason::no_response, 0));
    }
    static AddressSet hosts() {
        AddressSet set;
        for (std::uint8_t last = 1; last <= 3; ++last) set.add(Ipv4{10, 0, 0, last});
        return set;
    }
    static ScanSummary summary() {
        ScanSummary s = fixed_summary("host discovery", {"flagscan", "-sn", "-v", "-n", "10.0.0.1-3"});
        s.elapsed_seconds = 1.24;
        s.end_unix = 1796189151;
        s.verbosity = 1;
        return s;
    }
};

// -sS -sV -Pn of 10.0.0.2, ports 22, 25, 80, 443, 8080 open and 1000-1029 closed (folded): what
// service detection found of each open port, as the phase fills the table: OpenSSH on 22,
// tcpwrapped 25, nginx on 80 and inside TLS on 443, nothing matched on 8080 (the table's guess).
struct ServiceScan {
    TargetSet targets;
    Results results;

    ServiceScan() : targets(hosts(), slots()), results(targets, {&syn_kind()}) {
        for (std::uint16_t p : {22, 25, 80, 443, 8080}) set(Port{p}, verdict(PortState::open, Reason::syn_ack, 64));
        for (std::uint16_t p = 1000; p <= 1029; ++p) set(Port{p}, verdict(PortState::closed, Reason::reset, 64));
        results.note_reply(0, 120);
        ServicesFound& found = results.services();
        found.mark_performed();
        ServiceFound ssh = ServiceFound::probed("ssh");
        ssh.product = "OpenSSH";
        ssh.version = "9.2p1 Debian 2+deb12u3";
        ssh.extrainfo = "protocol 2.0";
        ssh.ostype = "Linux";
        ssh.cpe = {"cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel"};
        found.set(index(Port{22}), ssh);
        found.set(index(Port{25}), ServiceFound::wrapped());
        found.set(index(Port{80}), nginx(ServiceTunnel::none));
        found.set(index(Port{443}), nginx(ServiceTunnel::ssl));
        found.set(index(Port{8080}), ServiceFound::table("http-proxy"));
    }
    static ServiceFound nginx(ServiceTunnel tunnel) {
        ServiceFound http = ServiceFound::probed("http", tunnel);
        http.product = "nginx";
        http.version = "1.22.1";
        http.cpe = {"cpe:/a:igor_sysoev:nginx:1.22.1"};
        return http;
    }
    static ServiceTable services() {
        return ServiceTable::from_nmap_services("ssh\t22/tcp\t0.18\nsmtp\t25/tcp\t0.13\nhttp\t80/tcp\t0.48\n"
                                                "https\t443/tcp\t0.2\nhttp-proxy\t8080/tcp\t0.04\n");
    }
    static AddressSet hosts() {
        AddressSet set;
        set.add(Ipv4{10, 0, 0, 2});
        return set;
    }
    static std::vector<Slot> slots() {
        std::vector<Slot> list;
        for (const std::uint16_t p : {22, 25, 80, 443, 8080}) list.push_back(Slot{Port{p}, 0});
        for (std::uint16_t p = 1000; p <= 1029; ++p) list.push_back(Slot{Port{p}, 0});
        return list;
    }
    std::uint64_t index(Port port) const { return static_cast<std::uint64_t>(targets.slot_index(0, port)); }
    void set(Port port, const PortResult& result) { results.set(index(port), result); }
    static ScanSummary summary() {
        return fixed_summary("SYN scan", {"flagscan", "-sS", "-sV", "-p", "22,25,80,443,8080,1000-1029", "-Pn", "-n",
                                          "10.0.0.2"});
    }
};

// What nmap 7.93 -sV found on the lab (10.77.24.2, ports 2222 2525 3306 4443 8000: a Python
// server sending an OpenSSH banner, one closing at once, lab-listener's silent 3306, openssl
// s_server -www, python3 -m http.server), entered as the -sV phase would enter it; the tests
// compare flagscan's port lines with the ones nmap wrote that day.
struct LabServiceScan {
    TargetSet targets;
    Results results;

    LabServiceScan() : targets(hosts(), slots()), results(targets, {&syn_kind()}) {
        for (const Slot& slot : targets.slots()) results.set(index(slot.port), verdict(PortState::open, Reason::syn_ack, 64));
        ServicesFound& found = results.services();
        found.mark_performed();
        ServiceFound ssh = ServiceFound::probed("ssh");
        ssh.product = "OpenSSH";
        ssh.version = "9.2p1 Debian 2+deb12u3";
        ssh.extrainfo = "protocol 2.0";
        ssh.ostype = "Linux";
        ssh.cpe = {"cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel"};
        found.set(index(Port{2222}), ssh);
        found.set(index(Port{2525}), ServiceFound::wrapped());
        found.set(index(Port{3306}), ServiceFound::wrapped());
        ServiceFound tls = ServiceFound::probed("http", ServiceTunnel::ssl);
        tls.product = "OpenSSL s_server -www httpd";
        tls.extrainfo = "command line: s_server -accept 4443 -cert c.pem -key k.pem -www -quiet";
        tls.cpe = {"cpe:/a:openssl:openssl"};
        found.set(index(Port{4443}), tls);
        ServiceFound python = ServiceFound::probed("http");
        python.product = "SimpleHTTPServer";
        python.version = "0.6";
        python.extrainfo = "Python 3.11.7";
        python.cpe = {"cpe:/a:python:simplehttpserver:0.6"};
        found.set(index(Port{8000}), python);
    }
    static AddressSet hosts() {
        AddressSet set;
        set.add(Ipv4{10, 77, 24, 2});
        return set;
    }
    static std::vector<Slot> slots() {
        std::vector<Slot> list;
        for (const std::uint16_t p : {2222, 2525, 3306, 4443, 8000}) list.push_back(Slot{Port{p}, 0});
        return list;
    }
    std::uint64_t index(Port port) const { return static_cast<std::uint64_t>(targets.slot_index(0, port)); }
};

}  // namespace flagscan::testing

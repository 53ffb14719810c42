// Unit tests for ServiceTable: both file formats, name lookup, top ports and the built-in ranking.
#include "flagscan/targets/services.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "flagscan/targets/port_list.hpp"

namespace flagscan {
namespace {

constexpr const char* nmap_sample =
    "# Fields in this file are: Service name, portnum/protocol, open-frequency, optional comments\n"
    "#\n"
    "tcpmux\t1/tcp\t0.001995\t# TCP Port Service Multiplexer\n"
    "ftp\t21/tcp\t0.197667\t# File Transfer [Control]\n"
    "ssh\t22/tcp\t0.182286\t# Secure Shell Login\n"
    "ssh\t22/udp\t0.003905\n"
    "telnet\t23/tcp\t0.221265\r\n"
    "domain\t53/udp\t0.213496\n"
    "http\t80/tcp\t0.484143\n"
    "tied-b\t9001/tcp\t0.001995\n"
    "tied-a\t7000/tcp\t0.001995\n"
    "sctp-only\t80/sctp\t0.5\n"
    "no-frequency\t81/tcp\n"
    "bad-port\t70000/tcp\t0.9\n"
    "bad-port2\tx/tcp\t0.9\n"
    "bad-port3\t/tcp\t0.9\n"
    "no-proto\t82\t0.9\n"
    "bad-freq\t83/tcp\tlots\n"
    "nan-freq\t84/tcp\tnan\n"
    "neg-freq\t85/tcp\t-0.5\n"
    "\n"
    "   \n"
    "http\t80/tcp\t0.000001\t# a later duplicate does not replace the first\n"
    "https\t443/tcp\t0.208669";  // no final newline

std::vector<std::uint16_t> numbers(const std::vector<Port>& ports) {
    std::vector<std::uint16_t> out;
    for (Port p : ports) out.push_back(p.value());
    return out;
}

std::optional<std::string> slurp(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(Services, NmapFormatNames) {
    const ServiceTable table = ServiceTable::from_nmap_services(nmap_sample);
    EXPECT_TRUE(table.has_frequencies());
    EXPECT_EQ(table.name(Port{22}, Protocol::tcp), "ssh");
    EXPECT_EQ(table.name(Port{22}, Protocol::udp), "ssh");
    EXPECT_EQ(table.name(Port{23}, Protocol::tcp), "telnet");
    EXPECT_EQ(table.name(Port{80}, Protocol::tcp), "http");
    EXPECT_EQ(table.name(Port{443}, Protocol::tcp), "https");
    EXPECT_EQ(table.name(Port{53}, Protocol::tcp), "unknown");  // listed for udp only
    EXPECT_EQ(table.name(Port{81}, Protocol::tcp), "unknown");  // bad lines are skipped
    EXPECT_EQ(table.name(Port{82}, Protocol::tcp), "unknown");
    EXPECT_EQ(table.name(Port{83}, Protocol::tcp), "unknown");
    EXPECT_EQ(table.name(Port{84}, Protocol::tcp), "unknown");
    EXPECT_EQ(table.name(Port{85}, Protocol::tcp), "unknown");
    EXPECT_EQ(table.name(Port{4464}, Protocol::tcp), "unknown");  // 70000 mod 65536 is not smuggled in
}

TEST(Services, NmapFormatTopPortsByFrequencyThenPort) {
    const ServiceTable table = ServiceTable::from_nmap_services(nmap_sample);
    EXPECT_EQ(numbers(table.top_ports(Protocol::tcp, 4)), (std::vector<std::uint16_t>{80, 23, 443, 21}));
    EXPECT_EQ(numbers(table.top_ports(Protocol::tcp, 100)),
              (std::vector<std::uint16_t>{80, 23, 443, 21, 22, 1, 7000, 9001}));
    EXPECT_EQ(numbers(table.top_ports(Protocol::udp, 100)), (std::vector<std::uint16_t>{53, 22}));
    EXPECT_TRUE(table.top_ports(Protocol::tcp, 0).empty());
}

TEST(Services, EtcServicesFormat) {
    const ServiceTable table = ServiceTable::from_etc_services(
        "# /etc/services\n"
        "tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer\n"
        "discard\t\t9/tcp\t\tsink null\n"
        "ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol\n"
        "http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP\n"
        "www-alt\t\t80/tcp\n"
        "domain\t\t53/udp\r\n"
        "broken\t\t99999/tcp\n"
        "lonely\n"
        "sctp-thing\t\t9/sctp\n");
    EXPECT_FALSE(table.has_frequencies());
    EXPECT_EQ(table.name(Port{1}, Protocol::tcp), "tcpmux");
    EXPECT_EQ(table.name(Port{9}, Protocol::tcp), "discard");
    EXPECT_EQ(table.name(Port{22}, Protocol::tcp), "ssh");
    EXPECT_EQ(table.name(Port{80}, Protocol::tcp), "http");  // first line wins
    EXPECT_EQ(table.name(Port{53}, Protocol::udp), "domain");
    EXPECT_EQ(table.name(Port{53}, Protocol::tcp), "unknown");
}

TEST(Services, WithoutFrequenciesTcpUsesTheBuiltinRanking) {
    const ServiceTable table = ServiceTable::from_etc_services("ssh 22/tcp\n");
    const std::span<const std::uint16_t> builtin = builtin_top_tcp_ports();
    const std::vector<Port> top = table.top_ports(Protocol::tcp, 10);
    ASSERT_EQ(top.size(), 10u);
    for (std::size_t i = 0; i < top.size(); ++i) EXPECT_EQ(top[i].value(), builtin[i]);
    EXPECT_EQ(table.top_ports(Protocol::tcp, 1000000).size(), builtin.size());
    EXPECT_TRUE(table.top_ports(Protocol::udp, 10).empty());  // no UDP ranking is known
    const ServiceTable empty;
    EXPECT_EQ(empty.top_ports(Protocol::tcp, 3).size(), 3u);
    EXPECT_EQ(empty.name(Port{22}, Protocol::tcp), "unknown");
}

TEST(Services, GarbageInputNeverCrashes) {
    std::string garbage;
    for (int i = 0; i < 5000; ++i) garbage += std::string("\t/ # \0 1/tcp 0.5 x/udp\n", 23) + char(i % 256);
    const ServiceTable a = ServiceTable::from_nmap_services(garbage);
    const ServiceTable b = ServiceTable::from_etc_services(garbage);
    EXPECT_EQ(a.name(Port{1}, Protocol::tcp), "unknown");
    EXPECT_EQ(b.name(Port{1}, Protocol::tcp), "unknown");
    EXPECT_FALSE(ServiceTable::from_nmap_services("").has_frequencies());
}

TEST(Services, BuiltinRankingMatchesInstalledNmapServices) {
    const std::optional<std::string> text = slurp("/usr/share/nmap/nmap-services");
    if (!text) GTEST_SKIP() << "nmap-services is not installed";
    const auto start = std::chrono::steady_clock::now();
    const ServiceTable table = ServiceTable::from_nmap_services(*text);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::milliseconds(500));  // a few ms in practice; generous for sanitizers
    EXPECT_EQ(table.name(Port{22}, Protocol::tcp), "ssh");
    const std::vector<Port> top = table.top_ports(Protocol::tcp, 1000);
    const std::span<const std::uint16_t> builtin = builtin_top_tcp_ports();
    ASSERT_EQ(top.size(), 1000u);
    ASSERT_GE(builtin.size(), 1000u);
    for (std::size_t i = 0; i < 1000; ++i) ASSERT_EQ(top[i].value(), builtin[i]) << "rank " << i;
}

TEST(Services, LoadSystemPrefersNmapServices) {
    const ServiceTable table = ServiceTable::load_system();
    if (slurp("/usr/share/nmap/nmap-services")) {
        EXPECT_TRUE(table.has_frequencies());
        EXPECT_EQ(table.name(Port{22}, Protocol::tcp), "ssh");
    } else if (slurp("/etc/services")) {
        EXPECT_FALSE(table.has_frequencies());
    }
    EXPECT_EQ(table.name(Port{1}, Protocol::udp).empty(), false);
}

TEST(Services, PortsNamedPerProtocol) {
    const ServiceTable table = ServiceTable::from_nmap_services(nmap_sample);
    EXPECT_EQ(numbers(table.ports_named("ssh", Protocol::tcp)), (std::vector<std::uint16_t>{22}));
    EXPECT_EQ(numbers(table.ports_named("ssh", Protocol::udp)), (std::vector<std::uint16_t>{22}));
    EXPECT_EQ(numbers(table.ports_named("domain", Protocol::udp)), (std::vector<std::uint16_t>{53}));
    EXPECT_TRUE(table.ports_named("domain", Protocol::tcp).empty());
    EXPECT_TRUE(table.ports_named("sctp-only", Protocol::tcp).empty());
    EXPECT_TRUE(table.ports_named("HTTP", Protocol::tcp).empty());  // case matters, as in nmap
}

TEST(Services, PortsNamedWithWildcards) {
    const ServiceTable table = ServiceTable::from_nmap_services(nmap_sample);
    EXPECT_EQ(numbers(table.ports_named("http*", Protocol::tcp)), (std::vector<std::uint16_t>{80, 443}));
    EXPECT_EQ(numbers(table.ports_named("tied-?", Protocol::tcp)), (std::vector<std::uint16_t>{7000, 9001}));
    EXPECT_EQ(numbers(table.ports_named("*s*", Protocol::tcp)), (std::vector<std::uint16_t>{22, 443}));
    EXPECT_EQ(numbers(table.ports_named("t*x", Protocol::tcp)), (std::vector<std::uint16_t>{1}));  // tcpmux
    EXPECT_EQ(table.ports_named("*", Protocol::tcp).size(), 8u);
    EXPECT_TRUE(table.ports_named("t*z", Protocol::tcp).empty());
    EXPECT_TRUE(table.ports_named("", Protocol::tcp).empty());
    const auto start = std::chrono::steady_clock::now();  // no exponential backtracking
    EXPECT_TRUE(table.ports_named("*t*t*t*t*t*t*t*t*t*t*t*t*t*t*t*t*q", Protocol::tcp).empty());
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(Services, PortsNamedInTheRealNmapServices) {
    const std::optional<std::string> text = slurp("/usr/share/nmap/nmap-services");
    if (!text) GTEST_SKIP() << "nmap-services is not installed";
    const ServiceTable table = ServiceTable::from_nmap_services(*text);
    // What nmap 7.93 scans for -p http (TCP) and -sU -p domain.
    EXPECT_EQ(numbers(table.ports_named("http", Protocol::tcp)), (std::vector<std::uint16_t>{80, 8008}));
    EXPECT_EQ(numbers(table.ports_named("domain", Protocol::udp)), (std::vector<std::uint16_t>{53}));
}

}  // namespace
}  // namespace flagscan

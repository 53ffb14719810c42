// Unit tests for nmap -p port specs and the built-in top-ports ranking.
#include "flagscan/targets/port_list.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace flagscan {
namespace {

std::vector<std::uint16_t> numbers(std::string_view spec) {
    Result<std::vector<Port>> r = parse_ports(spec);
    EXPECT_TRUE(r) << spec << ": " << r.error();
    std::vector<std::uint16_t> out;
    if (r)
        for (Port p : r.value()) out.push_back(p.value());
    return out;
}

std::string error_of(std::string_view spec) {
    Result<std::vector<Port>> r = parse_ports(spec);
    return r ? std::string("(no error)") : r.error();
}

TEST(PortList, SinglesAndListsComeOutSortedAndUnique) {
    EXPECT_EQ(numbers("22"), (std::vector<std::uint16_t>{22}));
    EXPECT_EQ(numbers("22,80,443"), (std::vector<std::uint16_t>{22, 80, 443}));
    EXPECT_EQ(numbers("443,22,80,22,80"), (std::vector<std::uint16_t>{22, 80, 443}));
    EXPECT_EQ(numbers("65535"), (std::vector<std::uint16_t>{65535}));
    EXPECT_EQ(numbers("0022"), (std::vector<std::uint16_t>{22}));
}

TEST(PortList, Ranges) {
    const std::vector<std::uint16_t> r = numbers("1000-2000");
    ASSERT_EQ(r.size(), 1001u);
    EXPECT_EQ(r.front(), 1000);
    EXPECT_EQ(r.back(), 2000);
    EXPECT_EQ(numbers("80-80"), (std::vector<std::uint16_t>{80}));
    EXPECT_EQ(numbers("25,20-23,22"), (std::vector<std::uint16_t>{20, 21, 22, 23, 25}));
}

TEST(PortList, OpenEndedRanges) {
    std::vector<std::uint16_t> r = numbers("-");
    ASSERT_EQ(r.size(), 65535u);
    EXPECT_EQ(r.front(), 1);
    EXPECT_EQ(r.back(), 65535);
    r = numbers("-1024");
    ASSERT_EQ(r.size(), 1024u);
    EXPECT_EQ(r.front(), 1);
    r = numbers("60000-");
    ASSERT_EQ(r.size(), 5536u);
    EXPECT_EQ(r.front(), 60000);
    EXPECT_EQ(r.back(), 65535);
}

TEST(PortList, PortZeroOnlyWhenExplicit) {
    EXPECT_EQ(numbers("0"), (std::vector<std::uint16_t>{0}));
    EXPECT_EQ(numbers("0-3"), (std::vector<std::uint16_t>{0, 1, 2, 3}));
    EXPECT_EQ(numbers("-3"), (std::vector<std::uint16_t>{1, 2, 3}));
}

TEST(PortList, TcpPrefix) {
    EXPECT_EQ(numbers("T:22,80"), (std::vector<std::uint16_t>{22, 80}));
    EXPECT_EQ(numbers("22,T:80-81"), (std::vector<std::uint16_t>{22, 80, 81}));
}

TEST(PortList, Errors) {
    EXPECT_EQ(error_of("70000"), "bad port spec '70000': ports are 0-65535");
    EXPECT_EQ(error_of("65536"), "bad port spec '65536': ports are 0-65535");
    EXPECT_EQ(error_of("99999999999999999999999"), "bad port spec '99999999999999999999999': ports are 0-65535");
    EXPECT_EQ(error_of("22,70000"), "bad port spec '70000': ports are 0-65535");
    EXPECT_EQ(error_of("0x16"), "bad port spec '0x16': not a port number, and no service has that name");
    EXPECT_EQ(error_of("http"), "bad port spec 'http': not a port number, and no service has that name");
    EXPECT_EQ(error_of(" 22"), "bad port spec ' 22': not a port number, and no service has that name");
    EXPECT_EQ(error_of("+22"), "bad port spec '+22': not a port number, and no service has that name");
    EXPECT_EQ(error_of(""), "bad port spec '': no ports given");
    EXPECT_EQ(error_of("1-2-3"), "bad port range '1-2-3': expected N, N-M, -M or N-");
    EXPECT_EQ(error_of("90-80"), "bad port range '90-80': start is greater than end");
    EXPECT_EQ(error_of("-0"), "bad port range '-0': start is greater than end");
    EXPECT_EQ(error_of("1-70000"), "bad port spec '70000': ports are 0-65535");
    EXPECT_EQ(error_of("22,"), "bad port spec '22,': empty item");
    EXPECT_EQ(error_of(",22"), "bad port spec ',22': empty item");
    EXPECT_EQ(error_of("22,,80"), "bad port spec '22,,80': empty item");
    EXPECT_EQ(error_of("T:"), "bad port spec 'T:': empty item");
    EXPECT_EQ(error_of("U:53"), "bad port spec 'U:53': no TCP ports in it");
    EXPECT_EQ(error_of("S:53"), "bad port spec 'S:53': only TCP (T:) and UDP (U:) ports are scanned");
    EXPECT_EQ(error_of("T:22,P:6"), "bad port spec 'P:6': only TCP (T:) and UDP (U:) ports are scanned");
    EXPECT_EQ(error_of("X:53"), "bad port spec 'X:53': unknown protocol prefix");
}

TEST(PortList, HugeSpecsAreHandled) {
    std::string many;
    for (int i = 0; i < 20000; ++i) many += "1-65535,";
    many += "7";
    EXPECT_EQ(numbers(many).size(), 65535u);
    const std::string error = error_of(std::string(1 << 20, '9'));
    EXPECT_LT(error.size(), 200u);
    EXPECT_EQ(error.find('\n'), std::string::npos);
    EXPECT_NE(error_of(std::string(1 << 20, '-')), "(no error)");
    EXPECT_NE(error_of(std::string(1 << 20, ',')), "(no error)");
    EXPECT_EQ(error_of(std::string("2\n2")), "bad port spec '2?2': not a port number, and no service has that name");
}

TEST(BuiltinPorts, AtLeastAThousandUniqueNonZeroPortsMostCommonFirst) {
    const std::span<const std::uint16_t> ports = builtin_top_tcp_ports();
    ASSERT_GE(ports.size(), 1000u);
    EXPECT_EQ(ports[0], 80);
    EXPECT_EQ(ports[1], 23);
    EXPECT_EQ(ports[2], 443);
    const std::set<std::uint16_t> unique(ports.begin(), ports.end());
    EXPECT_EQ(unique.size(), ports.size());
    EXPECT_EQ(unique.count(0), 0u);
    EXPECT_EQ(unique.count(22), 1u);
    EXPECT_EQ(unique.count(3389), 1u);
}

}  // namespace
}  // namespace flagscan

namespace flagscan {
namespace {

std::vector<std::uint16_t> values(const std::vector<Port>& ports) {
    std::vector<std::uint16_t> out;
    for (const Port p : ports) out.push_back(p.value());
    return out;
}

TEST(PortSpec, PrefixesHoldUntilTheNextOneAndBarePortsGoToBoth) {
    auto spec = parse_port_spec("22,U:53,111,T:21-23,80");
    ASSERT_TRUE(spec) << spec.error();
    EXPECT_EQ(values(spec->tcp), (std::vector<std::uint16_t>{21, 22, 23, 80}));
    EXPECT_EQ(values(spec->udp), (std::vector<std::uint16_t>{22, 53, 111}));
}

TEST(PortSpec, UdpOnlySpecLeavesTcpEmpty) {
    auto spec = parse_port_spec("U:53,161");
    ASSERT_TRUE(spec) << spec.error();
    EXPECT_TRUE(spec->tcp.empty());
    EXPECT_EQ(values(spec->udp), (std::vector<std::uint16_t>{53, 161}));
    EXPECT_FALSE(parse_port_spec("U:70000"));
}

// A tiny nmap-services: http is listed on two TCP ports, as in the real file (80, 8008).
ServiceTable sample_services() {
    return ServiceTable::from_nmap_services(
        "ssh\t22/tcp\t0.18\nssh\t22/udp\t0.003\ndomain\t53/tcp\t0.04\ndomain\t53/udp\t0.21\n"
        "http\t80/tcp\t0.48\nhttp\t80/udp\t0.03\nhttp\t8008/tcp\t0.006\nhttps\t443/tcp\t0.2\n"
        "http-alt\t8080/tcp\t0.04\nsnmp\t161/udp\t0.43\n");
}

TEST(PortSpec, ServiceNamesAreEveryPortListedUnderThem) {
    auto spec = parse_port_spec("ssh,http,1000-1001", sample_services());
    ASSERT_TRUE(spec) << spec.error();
    EXPECT_EQ(values(spec->tcp), (std::vector<std::uint16_t>{22, 80, 1000, 1001, 8008}));
    EXPECT_EQ(values(spec->udp), (std::vector<std::uint16_t>{22, 80, 1000, 1001}));
}

TEST(PortSpec, ServiceNamesFollowTheProtocolPrefix) {
    auto spec = parse_port_spec("T:ssh,U:domain,snmp", sample_services());
    ASSERT_TRUE(spec) << spec.error();
    EXPECT_EQ(values(spec->tcp), (std::vector<std::uint16_t>{22}));
    EXPECT_EQ(values(spec->udp), (std::vector<std::uint16_t>{53, 161}));
    auto domain = parse_port_spec("domain", sample_services());  // what -sU -p domain scans: 53/udp
    ASSERT_TRUE(domain) << domain.error();
    EXPECT_EQ(values(domain->udp), (std::vector<std::uint16_t>{53}));
}

TEST(PortSpec, ServiceNameWildcards) {
    auto spec = parse_port_spec("T:http*", sample_services());
    ASSERT_TRUE(spec) << spec.error();
    EXPECT_EQ(values(spec->tcp), (std::vector<std::uint16_t>{80, 443, 8008, 8080}));
    auto one = parse_port_spec("T:http?", sample_services());
    ASSERT_TRUE(one) << one.error();
    EXPECT_EQ(values(one->tcp), (std::vector<std::uint16_t>{443}));
}

TEST(PortSpec, UnknownServiceNamesAreOneLineNamingThem) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"ssh,sshh", "sshh"},  // a typo
        {"SSH", "SSH"},        // case matters, as in nmap
        {"ssh-http", "ssh-http"},  // no ranges of names (nmap refuses them too)
        {"20-ssh", "20-ssh"},
        {"U:https", "https"},  // listed for TCP only
    };
    for (const auto& [spec, named] : cases) {
        auto r = parse_port_spec(spec, sample_services());
        ASSERT_FALSE(r) << spec;
        EXPECT_EQ(r.error(), "bad port spec '" + named + "': not a port number, and no service has that name");
    }
    EXPECT_FALSE(parse_port_spec("ssh"));  // without a table, no name is known
}

TEST(PortSpec, NamesServicesTellsWhenATableIsNeeded) {
    EXPECT_FALSE(names_services("22,80,T:1-100,U:53,-"));
    EXPECT_TRUE(names_services("ssh"));
    EXPECT_TRUE(names_services("T:http*"));
}

}  // namespace
}  // namespace flagscan

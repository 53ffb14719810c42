// ServicesFound: -sV's sparse side table of Results, stored as nmap stores it, and nmap's version text.
#include <gtest/gtest.h>

#include <string>

#include "flagscan/engine/services_found.hpp"

namespace flagscan {
namespace {

TEST(ServicesFound, KeepsOnlyThePortsGiven) {
    ServicesFound found;
    EXPECT_FALSE(found.performed());
    EXPECT_EQ(found.find(7), nullptr);
    found.mark_performed();
    found.set(4'000'000'000ULL, ServiceFound::probed("ssh"));
    EXPECT_TRUE(found.performed());
    EXPECT_EQ(found.size(), 1u);
    ASSERT_NE(found.find(4'000'000'000ULL), nullptr);
    EXPECT_EQ(found.find(4'000'000'000ULL)->name, "ssh");
    found.set(4'000'000'000ULL, ServiceFound::wrapped());
    EXPECT_EQ(found.size(), 1u);
    EXPECT_EQ(found.find(4'000'000'000ULL)->name, "tcpwrapped");
}

// identd's user per port, kept apart from the service (-I runs without -sV), sanitized.
TEST(ServicesFound, OwnersStandApartFromServices) {
    ServicesFound found;
    EXPECT_EQ(found.owner(22), nullptr);
    found.set_owner(22, "root");
    found.set_owner(80, std::string("www\001data") + std::string(100, 'x'));
    EXPECT_EQ(found.size(), 0u);
    ASSERT_NE(found.owner(22), nullptr);
    EXPECT_EQ(*found.owner(22), "root");
    ASSERT_NE(found.owner(80), nullptr);
    EXPECT_EQ(found.owner(80)->size(), 80u);
    EXPECT_EQ(found.owner(80)->substr(0, 8), "www.data");
}

// nmap's conf and method: 10 probed, 8 tcpwrapped, 3 table.
TEST(ServicesFound, ConfidenceAndMethodAsNmap) {
    const ServiceFound probed = ServiceFound::probed("http", ServiceTunnel::ssl);
    EXPECT_EQ(probed.method, ServiceMethod::probed);
    EXPECT_EQ(probed.confidence, 10);
    EXPECT_EQ(probed.tunnel, ServiceTunnel::ssl);
    const ServiceFound wrapped = ServiceFound::wrapped();
    EXPECT_EQ(wrapped.method, ServiceMethod::probed);
    EXPECT_EQ(wrapped.confidence, 8);
    EXPECT_TRUE(wrapped.tcpwrapped);
    EXPECT_EQ(wrapped.name, "tcpwrapped");
    const ServiceFound table = ServiceFound::table("http-proxy");
    EXPECT_EQ(table.method, ServiceMethod::table);
    EXPECT_EQ(table.confidence, 3);
}

// nmap's cstringSanityCheck: cut to its field sizes, non-printable bytes as '.'.
TEST(ServicesFound, StoredAsNmapStoresIt) {
    ServicesFound found;
    ServiceFound odd = ServiceFound::probed("ht\x01tp");
    odd.product = std::string(100, 'p');
    odd.version = "1.0\r\n\xc3\xa9";
    odd.extrainfo = std::string(300, 'e');
    odd.ostype = std::string(40, 'o');
    odd.devicetype = std::string(40, 'd');
    odd.hostname = std::string(90, 'h');
    odd.cpe = {"cpe:/a:" + std::string(100, 'x')};
    odd.confidence = 200;
    ServiceFound nameless;
    nameless.tcpwrapped = true;
    found.set(1, odd);
    found.set(2, nameless);
    const ServiceFound& kept = *found.find(1);
    EXPECT_EQ(kept.name, "ht.tp");
    EXPECT_EQ(kept.product, std::string(80, 'p'));
    EXPECT_EQ(kept.version, "1.0....");
    EXPECT_EQ(kept.extrainfo, std::string(256, 'e'));
    EXPECT_EQ(kept.ostype, std::string(32, 'o'));
    EXPECT_EQ(kept.devicetype, std::string(32, 'd'));
    EXPECT_EQ(kept.hostname, std::string(80, 'h'));
    EXPECT_EQ(kept.cpe.at(0).size(), 80u);
    EXPECT_EQ(kept.confidence, 10);
    EXPECT_EQ(found.find(2)->name, "tcpwrapped");
}

// populateFullVersionString: product, version, "(extrainfo)", each only when given.
TEST(FullVersion, JoinsWhatIsGiven) {
    ServiceFound ssh = ServiceFound::probed("ssh");
    EXPECT_EQ(full_version(ssh), "");
    ssh.product = "OpenSSH";
    EXPECT_EQ(full_version(ssh), "OpenSSH");
    ssh.extrainfo = "protocol 2.0";
    EXPECT_EQ(full_version(ssh), "OpenSSH (protocol 2.0)");
    ssh.version = "9.2p1 Debian 2+deb12u3";
    EXPECT_EQ(full_version(ssh), "OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)");
    ServiceFound only_info;
    only_info.extrainfo = "Ubuntu";
    EXPECT_EQ(full_version(only_info), "(Ubuntu)");
    ServiceFound only_version;
    only_version.version = "2.4";
    EXPECT_EQ(full_version(only_version), "2.4");
}

// nmap's 160-byte buffer: a piece that does not fit is cut and ends in "...", extrainfo inside
// its parentheses; a piece is dropped when fewer than 8 bytes are left.
TEST(FullVersion, CutAsNmapCutsIt) {
    ServiceFound big;
    big.product = std::string(80, 'p');
    big.version = std::string(80, 'v');
    big.extrainfo = "dropped";
    EXPECT_EQ(full_version(big), std::string(80, 'p') + ' ' + std::string(75, 'v') + "...");
    ServiceFound info;
    info.product = "P";
    info.extrainfo = std::string(200, 'e');
    EXPECT_EQ(full_version(info), "P (" + std::string(152, 'e') + "...)");
    EXPECT_EQ(full_version(info).size(), 159u);
    ServiceFound exact;
    exact.product = std::string(150, 'p');
    exact.version = "7";  // 8 left: fits after the space
    exact.extrainfo = "x";  // 7 left: dropped
    EXPECT_EQ(full_version(exact), std::string(150, 'p') + " 7");
}

}  // namespace
}  // namespace flagscan

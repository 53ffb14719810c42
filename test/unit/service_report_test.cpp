// A port's service as the outputs show it: nmap's names ("ssl/http", "http?"), Service Info, JSON.
#include <gtest/gtest.h>

#include "flagscan/output/service_report.hpp"
#include "nmap_formats_fixture.hpp"

namespace flagscan {
namespace {

using testing::ServiceScan;

TEST(ShownService, NmapNames) {
    ServiceScan scan;
    const ServiceTable table = ServiceScan::services();
    EXPECT_EQ(shown_service(scan.results, scan.index(Port{22}), table), "ssh");
    EXPECT_EQ(shown_service(scan.results, scan.index(Port{25}), table), "tcpwrapped");
    EXPECT_EQ(shown_service(scan.results, scan.index(Port{443}), table), "ssl/http");
    EXPECT_EQ(shown_service(scan.results, scan.index(Port{8080}), table), "http-proxy?");
    EXPECT_EQ(shown_service(scan.results, scan.index(Port{1000}), table), "unknown");  // closed, not listed
    scan.results.services().set(scan.index(Port{8080}), ServiceFound::table("", ServiceTunnel::ssl));
    EXPECT_EQ(shown_service(scan.results, scan.index(Port{8080}), table), "ssl/http-proxy?");  // the table's name
    scan.results.services().set(scan.index(Port{8080}), ServiceFound::probed("", ServiceTunnel::ssl));
    EXPECT_EQ(shown_service(scan.results, scan.index(Port{8080}), ServiceTable{}), "ssl/unknown");
}

TEST(PortService, TheEntryElseTheTable) {
    const ServiceScan scan;
    const ServiceTable table = ServiceScan::services();
    EXPECT_EQ(port_service(scan.results, scan.index(Port{22}), table).product, "OpenSSH");
    const ServiceFound closed = port_service(scan.results, scan.index(Port{1000}), table);
    EXPECT_EQ(closed.name, "");
    EXPECT_EQ(closed.method, ServiceMethod::table);
    EXPECT_FALSE(names_service(closed));
    const ServiceFound listed = port_service(scan.results, scan.index(Port{1000}),
                                             ServiceTable::from_nmap_services("cadlock2\t1000/tcp\t0.001\n"));
    EXPECT_EQ(listed.name, "cadlock2");
    EXPECT_EQ(listed.confidence, 3);
    EXPECT_TRUE(names_service(listed));
    EXPECT_TRUE(names_service(ServiceFound::table("", ServiceTunnel::ssl)));
}

TEST(ServiceInfo, OneHostsLine) {
    const ServiceScan scan;
    EXPECT_EQ(service_info_line(scan.results, 0, ""), "Service Info: OS: Linux; CPE: cpe:/o:linux:linux_kernel");
}

// Hosts (but the host's own DNS name, in any case), OSs, Devices and CPEs (no applications),
// each distinct, at most 5, plural when more than one; only open ports count.
TEST(ServiceInfo, EveryKindAsNmapListsIt) {
    ServiceScan scan;
    const char* names[] = {"GW.lab", "mail", "MAIL", "a", "b", "c", "d", "e"};
    const std::uint16_t ports[] = {22, 25, 80, 443, 8080, 1000, 1001, 1002};
    for (std::size_t i = 0; i < std::size(ports); ++i) {
        ServiceFound found = ServiceFound::probed("x");
        found.hostname = names[i];
        found.ostype = i % 2 == 0 ? "Linux" : "Windows";
        found.devicetype = i == 1 ? "router" : "";
        found.cpe = {"cpe:/a:app:" + std::to_string(i), "cpe:/o:os:" + std::to_string(i % 2), "cpe:/h:hw"};
        scan.results.services().set(scan.index(Port{ports[i]}), found);
    }
    // 1000-1002 are closed: their entries are not the host's.
    EXPECT_EQ(service_info_line(scan.results, 0, "gw.lab"),
              "Service Info: Hosts: mail, a, b; OSs: Linux, Windows; Device: router; CPE: cpe:/o:os:0, cpe:/h:hw, "
              "cpe:/o:os:1");
}

TEST(ServiceInfo, NothingToldNoLine) {
    ServiceScan scan;
    for (const std::uint16_t port : {22, 80, 443})
        scan.results.services().set(scan.index(Port{port}), ServiceFound::probed("ssh"));
    EXPECT_EQ(service_info_line(scan.results, 0, ""), "");
}

TEST(ServiceJson, EmptyFieldsLeftOut) {
    EXPECT_EQ(service_json(ServiceFound::wrapped()), R"({"name":"tcpwrapped","method":"probed"})");
    EXPECT_EQ(service_json(ServiceFound::table("")), R"({"method":"table"})");
    ServiceFound full = ServiceFound::probed("http", ServiceTunnel::ssl);
    full.product = "a\"b";
    full.version = "1";
    full.extrainfo = "e";
    full.ostype = "Linux";
    full.devicetype = "router";
    full.hostname = "h";
    full.cpe = {"cpe:/a:x", "cpe:/o:y"};
    EXPECT_EQ(service_json(full), R"({"name":"http","product":"a\"b","version":"1","extrainfo":"e","ostype":"Linux",)"
                                  R"("devicetype":"router","hostname":"h","cpe":["cpe:/a:x","cpe:/o:y"],"method":"probed",)"
                                  R"("tunnel":"ssl"})");
}

TEST(UnrecognizedServices, OneFingerprintAsNmapIntroducesIt) {
    EXPECT_EQ(unrecognized_services_text({}), "");
    EXPECT_EQ(unrecognized_services_text({"SF-Port7-UDP:V=0.2.0;"}),
              "1 service unrecognized despite returning data. If you know the service/version, please submit the following "
              "fingerprint at https://nmap.org/cgi-bin/submit.cgi?new-service :\nSF-Port7-UDP:V=0.2.0;\n");
}

TEST(UnrecognizedServices, SeveralEachAfterASeparator) {
    const std::string text = unrecognized_services_text({"A;", "B;"});
    EXPECT_EQ(text.rfind("2 services unrecognized despite returning data. If you know the service/version, please submit "
                         "the following fingerprints at https://nmap.org/cgi-bin/submit.cgi?new-service :\n",
                         0),
              0u)
        << text;
    const std::string separator = "==============NEXT SERVICE FINGERPRINT (SUBMIT INDIVIDUALLY)==============\n";
    EXPECT_NE(text.find(separator + "A;\n" + separator + "B;\n"), std::string::npos) << text;
}

TEST(UnrecognizedServices, NineKeptAtMostAsNmapKeepsThem) {
    std::vector<std::string> kept;
    ServiceFound service = ServiceFound::table("x");
    keep_fingerprint(kept, service);
    EXPECT_TRUE(kept.empty()) << "no fingerprint, nothing kept";
    service.fingerprint = "F;";
    for (int i = 0; i < 12; ++i) keep_fingerprint(kept, service);
    EXPECT_EQ(kept.size(), 9u);
}

}  // namespace
}  // namespace flagscan

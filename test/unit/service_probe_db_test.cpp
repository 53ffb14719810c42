// Unit tests for ServiceProbeDb: the whole installed nmap-service-probes, FILE:LINE errors, escapes, probe order.
#include "flagscan/service/probe_db.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "flagscan/net/text.hpp"
#include "flagscan/service/load.hpp"

namespace flagscan {
namespace {

constexpr const char* nmap_probes_path = "/usr/share/nmap/nmap-service-probes";

std::optional<ServiceProbeDb> installed_db() {
    const std::optional<std::string> text = read_text_file(nmap_probes_path);
    if (!text) return std::nullopt;
    Result<ServiceProbeDb> db = ServiceProbeDb::parse(*text, nmap_probes_path);
    EXPECT_TRUE(db.ok()) << db.error();
    if (!db) return std::nullopt;
    return std::move(db).value();
}

std::string parse_error(const std::string& text) {
    const Result<ServiceProbeDb> db = ServiceProbeDb::parse(text, "probes.txt");
    return db ? "(parsed)" : db.error();
}

TEST(ServiceProbeDb, WholeInstalledFileParsesAndEveryRegexCompiles) {
    const std::optional<std::string> text = read_text_file(nmap_probes_path);
    if (!text) GTEST_SKIP() << nmap_probes_path << " is not installed (nmap-common)";
    const auto started = std::chrono::steady_clock::now();
    const Result<ServiceProbeDb> db = ServiceProbeDb::parse(*text, nmap_probes_path);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    ASSERT_TRUE(db.ok()) << db.error();

    // Every match/softmatch line of the file is a rule; every Probe line a probe.
    std::size_t probe_lines = 0, rule_lines = 0, soft_lines = 0;
    for (std::size_t pos = 0; pos < text->size();) {
        const std::size_t end = std::min(text->find('\n', pos), text->size());
        const std::string_view line = std::string_view(*text).substr(pos, end - pos);
        probe_lines += line.starts_with("Probe ");
        rule_lines += line.starts_with("match ") || line.starts_with("softmatch ");
        soft_lines += line.starts_with("softmatch ");
        pos = end + 1;
    }
    EXPECT_EQ(db->probes().size(), probe_lines);
    EXPECT_EQ(db->rule_count(), rule_lines);
    std::size_t soft = 0, jit = 0;
    for (const ServiceProbe& p : db->probes())
        for (const MatchRule& r : p.rules) {
            soft += r.soft;
            jit += r.regex.jit();
        }
    EXPECT_EQ(soft, soft_lines);
    std::printf("[ counts   ] %zu probes, %zu rules (%zu softmatch), %zu JIT-compiled, parsed in %.0f ms\n",
                db->probes().size(), db->rule_count(), soft, jit, ms);

    ASSERT_TRUE(db->null_probe());
    const ServiceProbe& null = db->probe(*db->null_probe());
    EXPECT_TRUE(null.payload.empty());
    EXPECT_EQ(null.totalwaitms, 6000);
    EXPECT_EQ(null.tcpwrappedms, 3000);
    EXPECT_EQ(null.rarity, ServiceProbe::default_rarity);  // the NULL probe has no rarity line
    EXPECT_TRUE(db->excluded(Port{9100}, Protocol::tcp));
    EXPECT_TRUE(db->excluded(Port{9107}, Protocol::tcp));
    EXPECT_FALSE(db->excluded(Port{9108}, Protocol::tcp));
    EXPECT_FALSE(db->excluded(Port{9100}, Protocol::udp));

    const std::optional<std::size_t> get = db->find("GetRequest", Protocol::tcp);
    ASSERT_TRUE(get);
    const ServiceProbe& get_request = db->probe(*get);
    EXPECT_EQ(std::string(get_request.payload.begin(), get_request.payload.end()), "GET / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(get_request.rarity, 1);
    EXPECT_TRUE(get_request.port_is_probable(Port{80}, false));
    EXPECT_TRUE(get_request.port_is_probable(Port{443}, true));
    EXPECT_FALSE(get_request.port_is_probable(Port{443}, false));
    EXPECT_EQ(get_request.fallbacks, (std::vector<std::size_t>{*get, *db->null_probe()}));

    // HTTPOptions falls back on GetRequest, then NULL.
    const std::optional<std::size_t> options = db->find("HTTPOptions", Protocol::tcp);
    ASSERT_TRUE(options);
    EXPECT_EQ(db->probe(*options).fallbacks, (std::vector<std::size_t>{*options, *get, *db->null_probe()}));
    // A UDP probe never falls back on the (TCP) NULL probe.
    const std::optional<std::size_t> dns = db->find("DNSVersionBindReq", Protocol::udp);
    ASSERT_TRUE(dns);
    EXPECT_EQ(db->probe(*dns).fallbacks, (std::vector<std::size_t>{*dns}));
    // The same name under both protocols is two probes.
    EXPECT_NE(db->find("RPCCheck", Protocol::tcp), db->find("RPCCheck", Protocol::udp));
}

TEST(ServiceProbeDb, ProbeOrderIsNullThenPortProbesThenByRarity) {
    const std::optional<ServiceProbeDb> db = installed_db();
    if (!db) GTEST_SKIP() << nmap_probes_path << " is not installed";
    const std::vector<std::size_t> order = db->probes_for(Port{80}, Protocol::tcp, version_intensity_default, false);
    ASSERT_FALSE(order.empty());
    EXPECT_EQ(order[0], *db->null_probe());
    // Every probe listing port 80 comes before every one that does not, each group in file order.
    std::size_t first_other = order.size();
    for (std::size_t i = 1; i < order.size(); ++i)
        if (!db->probe(order[i]).port_is_probable(Port{80}, false)) {
            first_other = i;
            break;
        }
    for (std::size_t i = 1; i < order.size(); ++i) {
        const ServiceProbe& p = db->probe(order[i]);
        EXPECT_EQ(p.protocol, Protocol::tcp);
        EXPECT_EQ(p.port_is_probable(Port{80}, false), i < first_other) << p.name;
        if (i >= first_other) {
            EXPECT_LE(p.rarity, version_intensity_default) << p.name;
        }
        if (i > 1 && i != first_other) {
            EXPECT_LT(order[i - 1], order[i]);
        }
    }
    EXPECT_EQ(db->probe(order[1]).name, "GetRequest");
    // Lighter intensities send fewer probes; --version-all sends every TCP probe.
    const std::size_t light = db->probes_for(Port{80}, Protocol::tcp, version_intensity_light, false).size();
    const std::size_t all = db->probes_for(Port{80}, Protocol::tcp, version_intensity_all, false).size();
    const std::size_t tcp = static_cast<std::size_t>(std::count_if(db->probes().begin(), db->probes().end(),
                                                                   [](const ServiceProbe& p) { return p.protocol == Protocol::tcp; }));
    EXPECT_LT(light, order.size());
    EXPECT_LT(order.size(), all);
    EXPECT_EQ(all, tcp);
    // UDP: no NULL probe.
    const std::vector<std::size_t> udp = db->probes_for(Port{53}, Protocol::udp, version_intensity_default, false);
    ASSERT_FALSE(udp.empty());
    EXPECT_EQ(db->probe(udp[0]).protocol, Protocol::udp);
    EXPECT_TRUE(db->probe(udp[0]).port_is_probable(Port{53}, false));
}

TEST(ServiceProbeDb, SoftmatchNarrowsTheRestOfThePlan) {
    const std::optional<ServiceProbeDb> db = installed_db();
    if (!db) GTEST_SKIP() << nmap_probes_path << " is not installed";
    ProbePlan plan(*db, Port{21}, Protocol::tcp, version_intensity_default, false);
    EXPECT_EQ(plan.next(), db->null_probe());
    plan.soft_matched("ftp");
    std::size_t sent = 0;
    while (const std::optional<std::size_t> next = plan.next()) {
        EXPECT_TRUE(db->probe_can_match(*next, "ftp")) << db->probe(*next).name;
        ++sent;
    }
    EXPECT_GT(sent, 0u);
    EXPECT_LT(sent, db->probes_for(Port{21}, Protocol::tcp, version_intensity_default, false).size());
}

TEST(ServiceProbeDb, PayloadEscapesAndDefaults) {
    const Result<ServiceProbeDb> db = ServiceProbeDb::parse(
        "# a comment\n"
        "\n"
        "Probe TCP Esc q|\\0\\r\\n\\t\\xff\\x41\\\\\\a|\n"
        "Probe UDP Other q=a|b= no-payload\r\n"
        "rarity 8\n"
        "ports 53, 100-102\n"
        "sslports 853\n"
        "totalwaitms 100\n"
        "tcpwrappedms 300000\n",
        "probes.txt");
    ASSERT_TRUE(db.ok()) << db.error();
    ASSERT_EQ(db->probes().size(), 2u);
    const ServiceProbe& esc = db->probe(0);
    EXPECT_EQ(esc.payload, (std::vector<std::uint8_t>{0, '\r', '\n', '\t', 0xff, 'A', '\\', '\a'}));
    EXPECT_EQ(esc.rarity, 5);
    EXPECT_EQ(esc.totalwaitms, 5000);
    EXPECT_EQ(esc.tcpwrappedms, 2000);
    EXPECT_FALSE(esc.no_payload);
    EXPECT_FALSE(db->null_probe());
    EXPECT_EQ(esc.fallbacks, (std::vector<std::size_t>{0}));
    const ServiceProbe& other = db->probe(1);
    EXPECT_EQ(other.protocol, Protocol::udp);
    EXPECT_EQ(std::string(other.payload.begin(), other.payload.end()), "a|b");
    EXPECT_TRUE(other.no_payload);
    EXPECT_EQ(other.rarity, 8);
    EXPECT_EQ(other.ports, (std::vector<Port>{Port{53}, Port{100}, Port{101}, Port{102}}));
    EXPECT_EQ(other.sslports, (std::vector<Port>{Port{853}}));
    EXPECT_EQ(other.totalwaitms, 100);
    EXPECT_EQ(other.tcpwrappedms, 300000);
}

TEST(ServiceProbeDb, MalformedLinesNameFileAndLine) {
    const std::string probe = "Probe TCP NULL q||\n";
    EXPECT_EQ(parse_error("Probe TCP NULL q||\nbogus 1\n"), "probes.txt:2: unknown directive 'bogus'");
    EXPECT_EQ(parse_error("ports 80\n"), "probes.txt:1: 'ports' before any Probe line");
    EXPECT_EQ(parse_error("Probe SCTP X q||\n"), "probes.txt:1: the protocol is TCP or UDP, not 'SCTP'");
    EXPECT_EQ(parse_error("Probe TCP X q|abc\n"), "probes.txt:1: the probe string has no closing delimiter");
    EXPECT_EQ(parse_error("Probe TCP X q|\\q|\n"), "probes.txt:1: probe string: bad escape '\\q'");
    EXPECT_EQ(parse_error("Probe TCP X q|\\x4|\n"), "probes.txt:1: probe string: bad escape '\\x4': \\x takes two hex digits");
    EXPECT_EQ(parse_error(probe + "rarity 0\n"), "probes.txt:2: bad rarity '0': 1-9");
    EXPECT_EQ(parse_error(probe + "totalwaitms 99\n"), "probes.txt:2: bad totalwaitms '99': 100-300000");
    EXPECT_EQ(parse_error(probe + "ports 80-x\n"), "probes.txt:2: bad port list '80-x': ports and ranges such as 21-25,53,80");
    EXPECT_EQ(parse_error(probe + "\n# c\nmatch ftp m|^220 (|\n"),
              "probes.txt:4: bad regex at offset 6: missing closing parenthesis");
    EXPECT_EQ(parse_error(probe + "match ftp m|^220\n"), "probes.txt:2: the pattern m|... has no closing delimiter");
    EXPECT_EQ(parse_error(probe + "match ftp m|^220|x\n"), "probes.txt:2: unknown regex flag 'x': flags are i and s");
    EXPECT_EQ(parse_error(probe + "match ftp m|a*|\n"), "probes.txt:2: the pattern matches an empty answer");
    EXPECT_EQ(parse_error(probe + "match ftp m|^220| z/x/\n"),
              "probes.txt:2: unknown version field 'z': fields are p/ v/ i/ h/ o/ d/ cpe:/");
    EXPECT_EQ(parse_error(probe + "match ftp m|^220| p/x\n"), "probes.txt:2: version field 'p/x' has no closing delimiter");
    EXPECT_EQ(parse_error(probe + "match ftp m|^(220)| v/$Q(1)/\n"),
              "probes.txt:2: bad template '$Q(1)' at '$Q(1)': unknown helper '$Q'");
    EXPECT_EQ(parse_error(probe + "match ftp m|^(220)| v/$I(1,\"=\")/\n"),
              "probes.txt:2: bad template '$I(1,\"=\")' at '$I(1,\"=\")': $I(n,\">\") or $I(n,\"<\"): the byte order is \">\" or \"<\"");
    EXPECT_EQ(parse_error(probe + "fallback Nowhere\n"), "probes.txt:2: unknown fallback probe 'Nowhere' (no probe has that name)");
    EXPECT_EQ(parse_error(probe + "fallback NULL,,X\n"), "probes.txt:2: unknown fallback probe 'X' (no probe has that name)");
    EXPECT_EQ(parse_error(probe + "Exclude 80\n"), "probes.txt:2: the Exclude directive must come before every Probe");
    EXPECT_EQ(parse_error("Exclude 80\nExclude 81\n"), "probes.txt:2: only one Exclude directive is allowed");
}

TEST(ServiceProbeDb, FallbackChainsResolveForwardAndKeepOrder) {
    const Result<ServiceProbeDb> db = ServiceProbeDb::parse(
        "Exclude T:9100-9101,U:7\n"
        "Probe TCP NULL q||\n"
        "Probe TCP A q|a|\n"
        "fallback C,B\n"
        "Probe TCP B q|b|\n"
        "Probe TCP C q|c|\n",
        "probes.txt");
    ASSERT_TRUE(db.ok()) << db.error();
    EXPECT_EQ(db->probe(1).fallbacks, (std::vector<std::size_t>{1, 3, 2, 0}));
    EXPECT_EQ(db->probe(0).fallbacks, (std::vector<std::size_t>{0}));
    // A name no probe of the same protocol has: the other protocol's probe (as nmap).
    const Result<ServiceProbeDb> cross = ServiceProbeDb::parse("Probe UDP A q||\nProbe TCP A q||\nProbe TCP B q||\nfallback A\nProbe UDP C q||\nfallback A,B\n", "p");
    ASSERT_TRUE(cross.ok()) << cross.error();
    EXPECT_EQ(cross->probe(2).fallbacks, (std::vector<std::size_t>{2, 1}));
    EXPECT_EQ(cross->probe(3).fallbacks, (std::vector<std::size_t>{3, 0, 2}));
    EXPECT_TRUE(db->excluded(Port{9101}, Protocol::tcp));
    EXPECT_TRUE(db->excluded(Port{7}, Protocol::udp));
    EXPECT_FALSE(db->excluded(Port{7}, Protocol::tcp));
}

TEST(ServiceProbeDb, BuiltInSetParses) {
    Result<ServiceProbeDb> db = builtin_service_probes();
    ASSERT_TRUE(db.ok()) << db.error();
    EXPECT_TRUE(db->null_probe());
    EXPECT_TRUE(db->find("GetRequest", Protocol::tcp));
    EXPECT_TRUE(db->find("TLSClientHello", Protocol::tcp));
    // UDP (RFC 1035, RFC 5905, RFC 1157): the payloads' own lengths agree with their bytes.
    const auto dns = db->find("DNSVersionBindReq", Protocol::udp);
    const auto ntp = db->find("NTPRequest", Protocol::udp);
    const auto snmp = db->find("SNMPv1public", Protocol::udp);
    ASSERT_TRUE(dns && ntp && snmp);
    EXPECT_EQ(db->probe(*dns).payload.size(), 30u);
    EXPECT_EQ(db->probe(*ntp).payload.size(), 48u) << "an NTP packet without extensions";
    const auto& get = db->probe(*snmp).payload;
    ASSERT_EQ(get.size(), 43u);
    EXPECT_EQ(get[1] + 2u, get.size()) << "the SEQUENCE's length";
    EXPECT_EQ(get[14] + 15u, get.size()) << "the GetRequest PDU's length";
    EXPECT_EQ(db->probes_for(Port{53}, Protocol::udp, 7, false).front(), *dns) << "no NULL probe over UDP";
    LoadedProbes loaded{std::move(db).value(), "built-in", true};
    EXPECT_EQ(loaded.describe(), "nmap-service-probes not found; using flagscan's built-in set of 7 probes");
}

TEST(ServiceProbeDb, LoaderChoosesExplicitFileAndReportsItsErrors) {
    EXPECT_EQ(load_service_probes(std::optional<std::string>{"/nonexistent/probes"}).error(),
              "/nonexistent/probes: cannot read the file");
    const Result<LoadedProbes> fallback = load_service_probes(ProbeFileChoice{std::nullopt, std::string("/nonexistent")});
    ASSERT_TRUE(fallback.ok()) << fallback.error();
    if (!read_text_file(nmap_probes_path)) {
        EXPECT_TRUE(fallback->builtin);
    } else {
        EXPECT_FALSE(fallback->builtin);
        EXPECT_EQ(fallback->source, nmap_probes_path);
    }
}

}  // namespace
}  // namespace flagscan

// Unit tests for UdpPayloads: the nmap-payloads parser, its errors, the built-in set's bytes and the loaders.
#include "flagscan/probe/udp_payloads.hpp"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

#include "flagscan/targets/port_list.hpp"

namespace flagscan {
namespace {

using namespace std::string_literals;

constexpr const char* nmap_payloads_path = "/usr/share/nmap/nmap-payloads";

std::string text_of(std::span<const std::uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

std::string payload(const UdpPayloads& table, std::uint16_t port) { return text_of(table.for_port(Port{port})); }

std::uint32_t be16(std::span<const std::uint8_t> b, std::size_t at) { return (b[at] << 8) | b[at + 1]; }
std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t at) { return (be16(b, at) << 16) | be16(b, at + 2); }

std::optional<std::string> file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

UdpPayloads parsed(std::string_view text) {
    Result<UdpPayloads> table = UdpPayloads::parse(text);
    EXPECT_TRUE(table.ok()) << table.error();
    return table ? std::move(table).value() : UdpPayloads{};
}

// --- the format ------------------------------------------------------------------------

// Every feature of the format in a few lines.
constexpr std::string_view sample =
    "# a comment line\n"
    "udp 7 \"\\x0D\\x0a\\x41z\"   # \\xHH, either case, then a plain letter\n"
    "udp 9,1024-1030\n"
    "  \"one \\\"two\\\"\\\\\"  # a comment between strings\n"
    "\n"
    "  \"\\0\\a\\b\\f\\n\\r\\t\\v\\'\\?# not a comment\"\r\n"
    "udp 11 \"\\0\\x31\" \"\"\n"
    "udp 12 \"raw\tbytes \xff ok\"\n";

TEST(UdpPayloads, ParsesEscapesContinuedStringsRangesAndComments) {
    const UdpPayloads table = parsed(sample);
    EXPECT_EQ(table.source(), "nmap-payloads");
    EXPECT_EQ(payload(table, 7), "\r\nAz");
    const std::string nine = "one \"two\"\\\0\a\b\f\n\r\t\v'?# not a comment"s;
    EXPECT_EQ(payload(table, 9), nine);
    EXPECT_EQ(payload(table, 11), "\0" "1"s);  // \0 is one NUL, never octal
    EXPECT_EQ(payload(table, 12), "raw\tbytes \xff ok");
    for (std::uint16_t port = 1024; port <= 1030; ++port) EXPECT_EQ(payload(table, port), nine) << port;
    EXPECT_TRUE(table.for_port(Port{1023}).empty());
    EXPECT_TRUE(table.for_port(Port{1031}).empty());
    EXPECT_TRUE(table.for_port(Port{8}).empty());
    EXPECT_TRUE(table.for_port(Port{0}).empty());
    EXPECT_TRUE(table.for_port(Port{65535}).empty());
    EXPECT_EQ(table.port_count(), 1u + 8u + 1u + 1u);
    EXPECT_EQ(table.payload_count(), 4u);
}

TEST(UdpPayloads, TheFirstEntryForAPortWins) {
    const UdpPayloads table = parsed(
        "udp 53 \"first\"\n"
        "udp 53,54 \"second\"\n"       // 53 keeps "first"; 54 is new
        "udp 53-54 \"third\"\n"        // no port left: not stored at all
        "udp 100-200 \"wide\"\n"
        "udp 150,201 \"narrow\"\n");
    EXPECT_EQ(payload(table, 53), "first");
    EXPECT_EQ(payload(table, 54), "second");
    EXPECT_EQ(payload(table, 150), "wide");
    EXPECT_EQ(payload(table, 201), "narrow");
    EXPECT_EQ(table.port_count(), 2u + 101u + 1u);
    EXPECT_EQ(table.payload_count(), 4u);
}

TEST(UdpPayloads, OtherProtocolsAndSourceAreParsedAndIgnored) {
    const UdpPayloads table = parsed(
        "tcp 80 \"GET / HTTP/1.0\\r\\n\\r\\n\"\n"
        "udp 500\n"
        "  \"ike\"\n"
        "source 500\n"
        "sctp 80 \"x\" source 9\n"
        "udp 80 \"after\" source 1234\n");
    EXPECT_EQ(payload(table, 500), "ike");
    EXPECT_EQ(payload(table, 80), "after");  // the tcp and sctp entries took nothing
    EXPECT_EQ(table.port_count(), 2u);
}

TEST(UdpPayloads, EmptyInputsAndTheDefaultTable) {
    for (const char* text : {"", "\n\n", "# only a comment", "   \t\r\n# x\n"}) {
        const UdpPayloads table = parsed(text);
        EXPECT_EQ(table.port_count(), 0u) << text;
        EXPECT_TRUE(table.for_port(Port{53}).empty());
    }
    const UdpPayloads none;
    EXPECT_EQ(none.source(), "none");
    EXPECT_EQ(none.port_count(), 0u);
    EXPECT_TRUE(none.for_port(Port{53}).empty());
}

TEST(UdpPayloads, MalformedInputNamesTheLine) {
    struct Case {
        const char* text;
        const char* error;
    };
    const std::array<Case, 17> cases = {{
        {"udp 53 \"abc\n", "line 1: unterminated string"},
        {"udp 53 \"ok\"\n  \"abc", "line 2: unterminated string"},
        {"udp 53 \"ends in a backslash\\", "line 1: unterminated string"},
        {"udp 53 \"line\\\nbreak\"", "line 1: unterminated string"},
        {"\n\nudp 53 \"\\q\"", "line 3: bad escape '\\q'"},
        {"udp 53 \"\\8\"", "line 1: bad escape '\\8'"},
        {"udp 53 \"\\x4\"", "line 1: bad escape '\\x4': \\x takes two hex digits"},
        {"udp 53 \"\\xZZ\"", "line 1: bad escape '\\xZZ': \\x takes two hex digits"},
        {"udp 53 \"a\"\nudp 70000 \"b\"", "line 2: bad port spec '70000': ports are 0-65535"},
        {"udp 90-80 \"b\"", "line 1: bad port range '90-80': start is greater than end"},
        {"udp U:53 \"b\"", "line 1: bad port list 'U:53'"},
        {"udp 53\nudp 54 \"b\"", "line 1: 'udp' entry has no payload string"},
        {"udp 53 \"a\"\n\nudp 54\n", "line 3: 'udp' entry has no payload string"},
        {"udp \"b\"", "line 1: 'udp' has no port list"},
        {"\"stray\"", "line 1: a string outside an entry"},
        {"source 53", "line 1: 'source' outside an entry"},
        {"udp 53 \"a\" source\nudp 54 \"b\"", "line 1: 'source' needs one port number"},
    }};
    for (const Case& c : cases) {
        const Result<UdpPayloads> table = UdpPayloads::parse(c.text);
        ASSERT_FALSE(table.ok()) << c.text;
        EXPECT_EQ(table.error(), c.error) << c.text;
        EXPECT_EQ(table.error().find('\n'), std::string::npos);
    }
}

TEST(UdpPayloads, APayloadMustFitOneDatagram) {
    std::string fits = "udp 1 \"";
    for (std::size_t i = 0; i < UdpPayloads::max_payload_size / 4; ++i) fits += "\\x00abc";
    fits += "abc\"";  // 65504 + 3 = 65507 bytes
    const Result<UdpPayloads> ok = UdpPayloads::parse(fits);
    ASSERT_TRUE(ok.ok()) << ok.error();
    EXPECT_EQ(ok->for_port(Port{1}).size(), UdpPayloads::max_payload_size);
    const Result<UdpPayloads> too_long = UdpPayloads::parse(fits + "\n\"!\"");
    ASSERT_FALSE(too_long.ok());
    EXPECT_EQ(too_long.error(), "line 1: payload longer than a UDP datagram can carry (65507 bytes)");
}

// Each cut is copied to a buffer of its exact size, so a read past the end trips ASan.
void parse_every_cut(std::string_view text, std::size_t step) {
    for (std::size_t n = 0; n <= text.size(); n += step) {
        const std::vector<char> cut(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(n));
        const Result<UdpPayloads> table = UdpPayloads::parse(std::string_view(cut.data(), cut.size()));
        if (!table) {
            EXPECT_EQ(table.error().rfind("line ", 0), 0u) << table.error();
        }
    }
}

TEST(UdpPayloads, EveryCutOfAValidFileParsesOrSaysWhere) {
    // Cut mid-string, mid-escape, mid-number: no crash, no read past the end, a line number.
    parse_every_cut(sample, 1);
    parse_every_cut(builtin_udp_payloads_text(), 7);
}

// --- the built-in set ------------------------------------------------------------------

// The built-in set, decoded field by field: the bytes are what each RFC says.
class UdpPayloadsBuiltin : public testing::Test {
protected:
    const UdpPayloads table = UdpPayloads::builtin();
};

TEST_F(UdpPayloadsBuiltin, HasEachListedPort) {
    const Result<UdpPayloads> direct = UdpPayloads::parse(builtin_udp_payloads_text());
    ASSERT_TRUE(direct.ok()) << direct.error();
    EXPECT_EQ(table.source(), "built-in");
    const std::array<std::uint16_t, 11> ports = {53, 69, 111, 123, 137, 161, 500, 1900, 5060, 5353, 11211};
    for (const std::uint16_t port : ports) EXPECT_FALSE(table.for_port(Port{port}).empty()) << port;
    EXPECT_EQ(table.port_count(), ports.size());
    EXPECT_EQ(table.payload_count(), ports.size());
    for (const std::uint16_t port : {0, 1, 7, 52, 54, 124, 1234, 5354, 65535})
        EXPECT_TRUE(table.for_port(Port{static_cast<std::uint16_t>(port)}).empty()) << port;
}

TEST_F(UdpPayloadsBuiltin, DnsIsARootNsQuery) {
    const std::span<const std::uint8_t> dns = table.for_port(Port{53});
    ASSERT_EQ(dns.size(), 17u);
    EXPECT_EQ(be16(dns, 2) & 0x8000, 0u);  // QR 0: a query
    EXPECT_EQ((be16(dns, 2) >> 11) & 0xf, 0u);  // OPCODE QUERY
    EXPECT_EQ(be16(dns, 4), 1u);  // QDCOUNT
    EXPECT_EQ(be16(dns, 6) + be16(dns, 8) + be16(dns, 10), 0u);
    EXPECT_EQ(dns[12], 0u);  // the root name
    EXPECT_EQ(be16(dns, 13), 2u);  // NS
    EXPECT_EQ(be16(dns, 15), 1u);  // IN
}

TEST_F(UdpPayloadsBuiltin, MdnsAsksForTheServiceList) {
    const std::span<const std::uint8_t> mdns = table.for_port(Port{5353});
    ASSERT_GT(mdns.size(), 16u);
    EXPECT_EQ(be16(mdns, 4), 1u);  // QDCOUNT
    std::string name;  // the QNAME's labels, dotted
    std::size_t at = 12;
    while (at < mdns.size() && mdns[at] != 0) {
        const std::size_t length = mdns[at];
        ASSERT_LT(at + length, mdns.size());
        name += text_of(mdns.subspan(at + 1, length)) + ".";
        at += 1 + length;
    }
    EXPECT_EQ(name, "_services._dns-sd._udp.local.");
    ASSERT_EQ(mdns.size(), at + 5);
    EXPECT_EQ(be16(mdns, at + 1), 12u);  // PTR
    EXPECT_EQ(be16(mdns, at + 3), 1u);  // IN, unicast-response bit clear
}

TEST_F(UdpPayloadsBuiltin, NtpIsAVersion4ClientPacket) {
    const std::span<const std::uint8_t> ntp = table.for_port(Port{123});
    ASSERT_EQ(ntp.size(), 48u);
    EXPECT_EQ(ntp[0], 0x23);
    EXPECT_EQ(ntp[0] >> 6, 0);  // LI: no warning
    EXPECT_EQ((ntp[0] >> 3) & 7, 4);  // VN 4
    EXPECT_EQ(ntp[0] & 7, 3);  // mode 3: client
    EXPECT_NE(be32(ntp, 40), 0u);  // transmit timestamp set
    // 2023-11-16 in NTP era 0: seconds since 1900 = 2208988800 + Unix time.
    EXPECT_EQ(be32(ntp, 40), 2208988800u + 1700102528u);
}

// One BER TLV (short-form lengths only, which is all a small request needs).
struct Tlv {
    std::uint8_t tag = 0;
    std::span<const std::uint8_t> value;
    std::span<const std::uint8_t> rest;
};

std::optional<Tlv> read_tlv(std::span<const std::uint8_t> in) {
    if (in.size() < 2 || in[1] >= 0x80 || in.size() < 2u + in[1]) return std::nullopt;
    return Tlv{in[0], in.subspan(2, in[1]), in.subspan(2 + in[1])};
}

TEST_F(UdpPayloadsBuiltin, SnmpIsAV1GetRequestForSysDescr) {
    const std::span<const std::uint8_t> snmp = table.for_port(Port{161});
    const auto message = read_tlv(snmp);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->tag, 0x30);  // SEQUENCE
    EXPECT_TRUE(message->rest.empty());  // the length covers exactly the datagram
    const auto version = read_tlv(message->value);
    ASSERT_TRUE(version);
    EXPECT_EQ(version->tag, 0x02);
    EXPECT_EQ(text_of(version->value), std::string(1, '\0'));  // version-1 is 0
    const auto community = read_tlv(version->rest);
    ASSERT_TRUE(community);
    EXPECT_EQ(community->tag, 0x04);
    EXPECT_EQ(text_of(community->value), "public");
    const auto pdu = read_tlv(community->rest);
    ASSERT_TRUE(pdu);
    EXPECT_EQ(pdu->tag, 0xa0);  // GetRequest-PDU
    EXPECT_TRUE(pdu->rest.empty());
    const auto request_id = read_tlv(pdu->value);
    ASSERT_TRUE(request_id);
    const auto error_status = read_tlv(request_id->rest);
    ASSERT_TRUE(error_status);
    const auto error_index = read_tlv(error_status->rest);
    ASSERT_TRUE(error_index);
    const auto bindings = read_tlv(error_index->rest);
    ASSERT_TRUE(bindings);
    const auto binding = read_tlv(bindings->value);
    ASSERT_TRUE(binding);
    const auto name = read_tlv(binding->value);
    ASSERT_TRUE(name);
    EXPECT_EQ(name->tag, 0x06);
    // 1.3.6.1.2.1.1.1.0: the first two arcs as 40 * 1 + 3 = 0x2b.
    EXPECT_EQ(text_of(name->value), "\x2b\x06\x01\x02\x01\x01\x01\x00"s);
    const auto value = read_tlv(name->rest);
    ASSERT_TRUE(value);
    EXPECT_EQ(value->tag, 0x05);  // NULL
    EXPECT_TRUE(value->value.empty());
}

TEST_F(UdpPayloadsBuiltin, NetbiosIsANodeStatusRequestForTheWildcard) {
    const std::span<const std::uint8_t> nb = table.for_port(Port{137});
    ASSERT_EQ(nb.size(), 50u);
    EXPECT_EQ(be16(nb, 2), 0u);  // request, query, unicast
    EXPECT_EQ(be16(nb, 4), 1u);  // QDCOUNT
    ASSERT_EQ(nb[12], 32);
    std::string name;  // undo RFC 1001's half-byte encoding
    for (std::size_t i = 13; i < 45; i += 2) name += static_cast<char>(((nb[i] - 'A') << 4) | (nb[i + 1] - 'A'));
    EXPECT_EQ(name, std::string("*") + std::string(15, '\0'));
    EXPECT_EQ(nb[45], 0);
    EXPECT_EQ(be16(nb, 46), 0x21u);  // NBSTAT
    EXPECT_EQ(be16(nb, 48), 1u);  // IN
}

TEST_F(UdpPayloadsBuiltin, RpcIsAPortmapperNullCall) {
    const std::span<const std::uint8_t> rpc = table.for_port(Port{111});
    ASSERT_EQ(rpc.size(), 40u);
    EXPECT_EQ(be32(rpc, 4), 0u);  // CALL
    EXPECT_EQ(be32(rpc, 8), 2u);  // RPC version 2
    EXPECT_EQ(be32(rpc, 12), 100000u);  // portmapper
    EXPECT_EQ(be32(rpc, 16), 2u);
    EXPECT_EQ(be32(rpc, 20), 0u);  // NULL
    for (std::size_t at = 24; at < 40; at += 4) EXPECT_EQ(be32(rpc, at), 0u);  // AUTH_NONE, empty
}

TEST_F(UdpPayloadsBuiltin, IkeLengthsAddUp) {
    const std::span<const std::uint8_t> ike = table.for_port(Port{500});
    ASSERT_EQ(ike.size(), 84u);
    EXPECT_EQ(text_of(ike.first(8)), "FLAGSCAN");
    EXPECT_EQ(be32(ike, 8) | be32(ike, 12), 0u);  // responder cookie
    EXPECT_EQ(ike[16], 1);  // next: SA
    EXPECT_EQ(ike[17], 0x10);  // version 1.0
    EXPECT_EQ(ike[18], 2);  // Main Mode
    EXPECT_EQ(be32(ike, 24), ike.size());
    EXPECT_EQ(be16(ike, 30), ike.size() - 28);  // SA payload
    EXPECT_EQ(be32(ike, 32), 1u);  // DOI IPSEC
    EXPECT_EQ(be16(ike, 42), ike.size() - 40);  // proposal
    EXPECT_EQ(ike[47], 1);  // one transform
    EXPECT_EQ(be16(ike, 50), ike.size() - 48);  // transform
    EXPECT_EQ((ike.size() - 56) % 4, 0u);
    for (std::size_t at = 56; at < ike.size(); at += 4) EXPECT_EQ(ike[at] & 0x80, 0x80) << at;  // TV attributes
}

TEST_F(UdpPayloadsBuiltin, TftpIsAReadRequest) {
    const std::string tftp = payload(table, 69);
    EXPECT_EQ(tftp, "\0\x01" "flagscan.probe\0octet\0"s);
}

TEST_F(UdpPayloadsBuiltin, TextProtocols) {
    const std::string ssdp = payload(table, 1900);
    EXPECT_EQ(ssdp.rfind("M-SEARCH * HTTP/1.1\r\n", 0), 0u);
    EXPECT_NE(ssdp.find("\r\nMAN: \"ssdp:discover\"\r\n"), std::string::npos);
    EXPECT_EQ(ssdp.substr(ssdp.size() - 4), "\r\n\r\n");
    const std::string sip = payload(table, 5060);
    EXPECT_EQ(sip.rfind("OPTIONS sip:", 0), 0u);
    for (const char* header : {"\r\nVia: SIP/2.0/UDP ", ";branch=z9hG4bK", "\r\nMax-Forwards: ", "\r\nTo: ", "\r\nFrom: ",
                               ";tag=", "\r\nCall-ID: ", "\r\nCSeq: 1 OPTIONS\r\n", "\r\nContent-Length: 0\r\n\r\n"})
        EXPECT_NE(sip.find(header), std::string::npos) << header;
    EXPECT_EQ(sip.substr(sip.size() - 4), "\r\n\r\n");
    const std::string memcached = payload(table, 11211);
    EXPECT_EQ(memcached, "FS\0\0\0\x01\0\0version\r\n"s);  // frame header: 1 datagram
}

// --- loading ---------------------------------------------------------------------------

TEST(UdpPayloads, LoadFileNamesThePathInErrors) {
    const std::string dir = testing::TempDir();
    const std::string good = dir + "/flagscan-payloads-good";
    const std::string bad = dir + "/flagscan-payloads-bad";
    std::ofstream(good) << "udp 7 \"echo\"\n";
    std::ofstream(bad) << "udp 7 \"echo\"\nudp 8 \"\\q\"\n";
    const Result<UdpPayloads> loaded = UdpPayloads::load_file(good);
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    EXPECT_EQ(loaded->source(), "nmap-payloads (" + good + ")");
    EXPECT_EQ(payload(*loaded, 7), "echo");
    const Result<UdpPayloads> broken = UdpPayloads::load_file(bad);
    ASSERT_FALSE(broken.ok());
    EXPECT_EQ(broken.error(), bad + ": line 2: bad escape '\\q'");
    const Result<UdpPayloads> missing = UdpPayloads::load_file(dir + "/flagscan-no-such-file");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error(), dir + "/flagscan-no-such-file: cannot read the file");
    std::filesystem::remove(good);
    std::filesystem::remove(bad);
}

TEST(UdpPayloads, LoadSystemSaysWhereItsPayloadsCameFrom) {
    const UdpPayloads table = UdpPayloads::load_system();
    std::optional<std::string> found;
    for (const char* path : {"/usr/share/nmap/nmap-payloads", "/usr/local/share/nmap/nmap-payloads"})
        if (!found && UdpPayloads::load_file(path).ok()) found = path;
    if (found) {
        EXPECT_EQ(table.source(), "nmap-payloads (" + *found + ")");
    } else {
        EXPECT_EQ(table.source(), "built-in");
        EXPECT_EQ(table.port_count(), UdpPayloads::builtin().port_count());
    }
}

TEST(UdpPayloads, NmapsOwnFileParsesCompletely) {
    const std::optional<std::string> text = file_text(nmap_payloads_path);
    if (!text) GTEST_SKIP() << nmap_payloads_path << " is not installed";
    const Result<UdpPayloads> table = UdpPayloads::parse(*text);
    ASSERT_TRUE(table.ok()) << table.error();
    EXPECT_GE(table->port_count(), 50u);
    // Read independently, line by line: every port of every "udp <ports>" entry has a payload.
    std::istringstream lines(*text);
    std::string line;
    std::size_t entries = 0;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string protocol, ports;
        if (!(words >> protocol >> ports) || protocol != "udp") continue;
        ++entries;
        const Result<std::vector<Port>> listed = parse_ports(ports);
        ASSERT_TRUE(listed.ok()) << line;
        for (const Port port : listed.value()) EXPECT_FALSE(table->for_port(port).empty()) << line;
    }
    EXPECT_GE(entries, 50u);
    EXPECT_LE(table->payload_count(), entries);
    // load_system reads the same file to the same table.
    const UdpPayloads system = UdpPayloads::load_system();
    EXPECT_EQ(system.source(), std::string("nmap-payloads (") + nmap_payloads_path + ")");
    ASSERT_EQ(system.port_count(), table->port_count());
    for (std::uint32_t port = 0; port <= 65535; ++port) {
        const Port p{static_cast<std::uint16_t>(port)};
        ASSERT_EQ(text_of(system.for_port(p)), text_of(table->for_port(p))) << port;
    }
}

}  // namespace
}  // namespace flagscan

// Writes the hand-built captures of pcap-fixtures/ (built-*), each with the result the RFC rules
// give for it: cases a Linux lab cannot make (a Windows-like stack, ICMP net and host
// unreachable, duplicate, reordered and late replies) and damaged input (malformed packets,
// truncated, lying or foreign files).
//
// Usage: make_fixtures DIR (pcap-fixtures/). Deterministic: the same bytes on every run.
//        make_fixtures --masscan-sized HOSTS FILE: a large capture for the replay's memory test.
//
// Packets come from the simulator's builders (make_tcp_packet, make_icmp_error); malformed ones
// are those packets edited byte by byte. Each capture's .expected is written from the verdicts
// declared below, port by port, in flagscan's JSON-lines format: it states what the rules say,
// it is not a snapshot of what flagscan printed. The addresses are documentation ones (RFC
// 5737): nothing here is ever sent anywhere.
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <string_view>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/tcp_flags.hpp"
#include "../unit/ipv6_packets.hpp"
#include "flagscan/wire/sim_network.hpp"

namespace {

using namespace flagscan;
using Bytes = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

const Ipv4 kScanner{192, 0, 2, 1};
const Ipv4 kOtherScanner{192, 0, 2, 2};
const Ipv4 kTarget{192, 0, 2, 10};
const Ipv4 kRouter{198, 51, 100, 254};
constexpr std::uint8_t kLinuxTtl = 64;
constexpr std::uint8_t kWindowsTtl = 128;
constexpr std::uint8_t kRouterTtl = 254;
constexpr std::uint8_t S = TcpFlags::syn, A = TcpFlags::ack, R = TcpFlags::rst, F = TcpFlags::fin,
                       P = TcpFlags::psh, U = TcpFlags::urg;

// ---- link layers ---------------------------------------------------------------------------

enum class Link { ethernet, ethernet_vlan, raw, null_loopback, sll_vlan, sll2_vlan };

int dlt_of(Link link) {
    switch (link) {
        case Link::ethernet:
        case Link::ethernet_vlan: return DLT_EN10MB;
        case Link::raw: return DLT_RAW;
        case Link::null_loopback: return DLT_NULL;
        case Link::sll_vlan: return DLT_LINUX_SLL;
        case Link::sll2_vlan: return DLT_LINUX_SLL2;
    }
    return DLT_EN10MB;
}

Bytes concat(Bytes head, const Bytes& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
}

// The scanner's MAC ends in 01, the target's (or its router's) in 0a.
Bytes ethernet_header(bool outgoing, std::uint16_t type) {
    Bytes scanner{0x02, 0, 0, 0, 0, 0x01}, target{0x02, 0, 0, 0, 0, 0x0a};
    Bytes out = outgoing ? concat(target, scanner) : concat(scanner, target);
    out.push_back(static_cast<std::uint8_t>(type >> 8));
    out.push_back(static_cast<std::uint8_t>(type));
    return out;
}

// Linux cooked headers as libpcap writes them when the kernel hands it a frame's 802.1Q tag
// apart (PACKET_AUXDATA): protocol 0x8100, then the tag (VLAN 7) and the IPv4 EtherType. v1
// (16 bytes): packet type (4 outgoing, 0 to us), ARPHRD_ETHER, address length, address,
// protocol. v2 (20 bytes): protocol, reserved, interface index, ARPHRD_ETHER, packet type,
// address length, address.
Bytes sll_vlan_header(bool outgoing) {
    return {0, static_cast<std::uint8_t>(outgoing ? 4 : 0), 0, 1, 0, 6, 0x02, 0, 0, 0, 0,
            static_cast<std::uint8_t>(outgoing ? 0x01 : 0x0a), 0, 0, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00};
}
Bytes sll2_vlan_header(bool outgoing) {
    return {0x81, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, static_cast<std::uint8_t>(outgoing ? 4 : 0), 6, 0x02, 0, 0, 0, 0,
            static_cast<std::uint8_t>(outgoing ? 0x01 : 0x0a), 0, 0, 0x00, 0x07, 0x08, 0x00};
}

Bytes frame(Link link, const Bytes& ip, bool outgoing) {
    switch (link) {
        case Link::ethernet: return concat(ethernet_header(outgoing, 0x0800), ip);
        case Link::ethernet_vlan: {  // IEEE 802.1Q tag, VLAN 7, then the IPv4 ethertype
            Bytes head = ethernet_header(outgoing, 0x8100);
            head.insert(head.end(), {0x00, 0x07, 0x08, 0x00});
            return concat(head, ip);
        }
        case Link::raw: return ip;
        case Link::null_loopback: return concat({2, 0, 0, 0}, ip);  // AF_INET, little-endian host
        case Link::sll_vlan: return concat(sll_vlan_header(outgoing), ip);
        case Link::sll2_vlan: return concat(sll2_vlan_header(outgoing), ip);
    }
    return ip;
}

// ---- packets -------------------------------------------------------------------------------

// A probe from the scanner (window 1024, like nmap's and flagscan's).
Bytes probe(std::uint16_t port, std::uint32_t seq, std::uint8_t flags, std::uint16_t sport = 40000,
            std::uint32_t ack = 0, Ipv4 from = kScanner) {
    return make_tcp_packet(from, kTarget, Port{sport}, Port{port}, seq, ack, TcpFlags{flags}, 1024, 64);
}

std::uint32_t seq_of(const Bytes& tcp_packet) { return *ByteView{tcp_packet}.be32(20 + 4); }
std::uint32_t ack_of(const Bytes& tcp_packet) { return *ByteView{tcp_packet}.be32(20 + 8); }
std::uint16_t sport_of(const Bytes& tcp_packet) { return *ByteView{tcp_packet}.be16(20); }
std::uint16_t dport_of(const Bytes& tcp_packet) { return *ByteView{tcp_packet}.be16(20 + 2); }
std::uint8_t flags_of(const Bytes& tcp_packet) { return tcp_packet[20 + 13]; }
// The segment's data bytes (RFC 793 SEG.LEN less SYN and FIN): IP total length less both headers.
std::uint32_t data_length_of(const Bytes& tcp_packet) {
    return *ByteView{tcp_packet}.be16(2) - 20u - (tcp_packet[20 + 12] >> 4) * 4u;
}

// RFC 793 p.65-66, SEGMENT ARRIVES: the target's answer to PROBE. A segment with ACK draws
// <SEQ=SEG.ACK><CTL=RST>; any other draws <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, where SYN
// and FIN each count one; a SYN to a listening port draws SYN,ACK.
Bytes rst_to(const Bytes& probe_bytes, std::uint8_t ttl = kLinuxTtl, std::uint16_t window = 0) {
    const std::uint8_t f = flags_of(probe_bytes);
    const Ipv4 from{*ByteView{probe_bytes}.be32(16)}, to{*ByteView{probe_bytes}.be32(12)};
    const Port sport{dport_of(probe_bytes)}, dport{sport_of(probe_bytes)};
    if ((f & A) != 0) return make_tcp_packet(from, to, sport, dport, ack_of(probe_bytes), 0, TcpFlags{R}, window, ttl);
    const std::uint32_t used = ((f & S) != 0 ? 1u : 0u) + ((f & F) != 0 ? 1u : 0u) + data_length_of(probe_bytes);
    return make_tcp_packet(from, to, sport, dport, 0, seq_of(probe_bytes) + used, TcpFlags{R | A}, window, ttl);
}

Bytes syn_ack_to(const Bytes& probe_bytes, std::uint8_t ttl = kLinuxTtl) {
    const Ipv4 from{*ByteView{probe_bytes}.be32(16)}, to{*ByteView{probe_bytes}.be32(12)};
    return make_tcp_packet(from, to, Port{dport_of(probe_bytes)}, Port{sport_of(probe_bytes)}, 0x5eed0000u,
                           seq_of(probe_bytes) + 1, TcpFlags{S | A}, 64240, ttl);
}

// ICMP error about PROBE from FROM quoting its first QUOTE bytes (RFC 792: the IP header and
// 8 bytes at least; RFC 1812 4.3.2.3: as much as fits in 576).
Bytes icmp_about(const Bytes& probe_bytes, std::uint8_t type, std::uint8_t code, Ipv4 from = kTarget,
                 std::uint8_t ttl = kLinuxTtl, std::size_t quote = 576) {
    Bytes quoted(probe_bytes.begin(), probe_bytes.begin() + static_cast<long>(std::min(quote, probe_bytes.size())));
    if (quoted.size() >= 16) return make_icmp_error(from, type, code, quoted, ttl);
    // Too short for make_icmp_error (it reads the quoted destination): build it on a full
    // quote, then cut the quote and fix the lengths and checksums.
    Bytes out = make_icmp_error(from, type, code, probe_bytes, ttl);
    out.resize(20 + 8 + quoted.size());
    put_be16(std::span<std::uint8_t>{out}, 2, static_cast<std::uint16_t>(out.size()));
    put_be16(std::span<std::uint8_t>{out}, 10, 0);
    put_be16(std::span<std::uint8_t>{out}, 10, ipv4_header_checksum(std::span<const std::uint8_t>{out}.first(20)));
    put_be16(std::span<std::uint8_t>{out}, 22, 0);
    put_be16(std::span<std::uint8_t>{out}, 22, checksum_finish(checksum_add(std::span<const std::uint8_t>{out}.subspan(20))));
    return out;
}

void fix_ip_checksum(Bytes& ip) {
    const std::size_t header = std::size_t{ip[0] & 0x0fu} * 4;
    put_be16(std::span<std::uint8_t>{ip}, 10, 0);
    if (header <= ip.size()) {
        put_be16(std::span<std::uint8_t>{ip}, 10, ipv4_header_checksum(std::span<const std::uint8_t>{ip}.first(header)));
    }
}

void fix_tcp_checksum(Bytes& ip) {
    const std::size_t header = std::size_t{ip[0] & 0x0fu} * 4;
    std::span<std::uint8_t> tcp = std::span<std::uint8_t>{ip}.subspan(header);
    put_be16(tcp, 16, 0);
    put_be16(tcp, 16, transport_checksum(Ipv4{*ByteView{ip}.be32(12)}, Ipv4{*ByteView{ip}.be32(16)}, 6, tcp));
}

void fix_icmp_checksum(Bytes& ip) {
    const std::size_t header = std::size_t{ip[0] & 0x0fu} * 4;
    std::span<std::uint8_t> icmp = std::span<std::uint8_t>{ip}.subspan(header);
    put_be16(icmp, 2, 0);
    put_be16(icmp, 2, checksum_finish(checksum_add(icmp)));
}

// The same packet with IP options (RFC 791 3.1) inserted after the fixed header: the header
// grows by OPTIONS (a multiple of 4), lengths and checksums follow.
Bytes with_ip_options(const Bytes& ip, const Bytes& options) {
    Bytes out(ip.begin(), ip.begin() + 20);
    out.insert(out.end(), options.begin(), options.end());
    out.insert(out.end(), ip.begin() + 20, ip.end());
    out[0] = static_cast<std::uint8_t>(0x40 | ((20 + options.size()) / 4));
    put_be16(std::span<std::uint8_t>{out}, 2, static_cast<std::uint16_t>(out.size()));
    fix_ip_checksum(out);
    return out;
}

// ---- captures and their expected results ------------------------------------------------------

struct Verdict {
    std::string state;
    std::string reason;
    std::uint8_t ttl = 0;  // of the reply that decided; 0 when nothing did
    std::string proto = "tcp";
};

class Fixture {
public:
    Fixture(std::string name, Link link) : name_(std::move(name)), link_(link) {}

    // Appends a frame 100 us after the previous one (or AFTER us).
    void add(const Bytes& ip, bool outgoing, std::int64_t after = 100) {
        now_ += after;
        frames_.push_back({now_, frame(link_, ip, outgoing)});
    }
    void out(const Bytes& ip, std::int64_t after = 100) { add(ip, true, after); }
    void in(const Bytes& ip, std::int64_t after = 100) { add(ip, false, after); }
    void raw_frame(Bytes bytes, std::int64_t after = 100) {
        now_ += after;
        frames_.push_back({now_, std::move(bytes)});
    }

    void expect(Ipv4 host, std::uint16_t port, Verdict verdict) { current()[{host.value(), port}] = std::move(verdict); }
    void expect(std::uint16_t port, Verdict verdict) { expect(kTarget, port, std::move(verdict)); }
    // How the JSON names HOST: an IPv6 capture's hosts are AddressBook keys (0.0.0.N, in address
    // order), which the reports write as the addresses they stand for.
    void name_host(Ipv4 host, std::string text) { host_names_[host.value()] = std::move(text); }
    void args(std::string line) { args_ = std::move(line); }
    // A capture holding several scans: the verdicts declared from now on are scan NAME's, and
    // each of its JSON lines names it ("scan":"FIN"), after the scans declared before it.
    void scan(std::string name) { scans_.emplace_back(std::move(name), Verdicts{}); }
    // The most bytes of each frame the capture keeps (tcpdump -s); 256 unless set.
    void snaplen(std::size_t bytes) { snaplen_ = bytes; }
    void stderr_contains(std::string text) { stderr_ = std::move(text); }
    // The capture shows how the hosts were found up (an ARP reply to the scanner: "arp-response").
    void host_reason(std::string reason) { host_reason_ = std::move(reason); }
    // flagscan disagrees with the rule: the suite reports the fixture as skipped, with REASON.
    void skip(std::string reason) { skip_ = std::move(reason); }

    const std::string& name() const { return name_; }

    // NAME.pcap (libpcap's writer), NAME.expected, and NAME.args / NAME.stderr when set.
    void write(const fs::path& dir) const {
        write_pcap(dir / (name_ + ".pcap"));
        write_results(dir);
    }
    // NAME.expected, and NAME.args / NAME.stderr / NAME.skip when set (for captures written by hand).
    void write_results(const fs::path& dir) const {
        write_text(dir / (name_ + ".expected"), expected_json());
        if (!args_.empty()) write_text(dir / (name_ + ".args"), args_ + "\n");
        if (!stderr_.empty()) write_text(dir / (name_ + ".stderr"), stderr_ + "\n");
        if (!skip_.empty()) write_text(dir / (name_ + ".skip"), skip_ + "\n");
    }

    void write_pcap(const fs::path& path) const {
        pcap_t* dead = pcap_open_dead_with_tstamp_precision(dlt_of(link_), static_cast<int>(snaplen_),
                                                            PCAP_TSTAMP_PRECISION_MICRO);
        pcap_dumper_t* dumper = pcap_dump_open(dead, path.c_str());
        if (dumper == nullptr) {
            std::fprintf(stderr, "make_fixtures: %s: %s\n", path.c_str(), pcap_geterr(dead));
            std::exit(1);
        }
        for (const auto& [ts, bytes] : frames_) {
            pcap_pkthdr header{};
            header.ts.tv_sec = static_cast<time_t>(ts / 1'000'000);
            header.ts.tv_usec = static_cast<suseconds_t>(ts % 1'000'000);
            header.caplen = static_cast<bpf_u_int32>(std::min(bytes.size(), snaplen_));
            header.len = static_cast<bpf_u_int32>(bytes.size());
            pcap_dump(reinterpret_cast<u_char*>(dumper), &header, bytes.data());
        }
        pcap_dump_close(dumper);
        pcap_close(dead);
    }

    static void write_text(const fs::path& path, const std::string& text) {
        std::ofstream file(path, std::ios::binary | std::ios::trunc);
        file << text;
        if (!file) {
            std::fprintf(stderr, "make_fixtures: cannot write %s\n", path.c_str());
            std::exit(1);
        }
    }

private:
    using Verdicts = std::map<std::pair<std::uint32_t, std::uint16_t>, Verdict>;
    Verdicts& current() { return scans_.empty() ? verdicts_ : scans_.back().second; }

    std::string expected_json() const {
        if (scans_.empty()) return expected_json(verdicts_, "");
        std::string out;
        for (const auto& [scan, verdicts] : scans_) out += expected_json(verdicts, scan);
        return out;
    }

    // flagscan's -oJ with --all-ports: every port of a host in port order, then the host line
    // with the open, closed and filtered counts always and the other states when non-zero.
    std::string expected_json(const Verdicts& verdicts, const std::string& scan) const {
        static constexpr const char* kStates[] = {"open", "closed", "filtered", "unfiltered", "open|filtered",
                                                  "closed|filtered"};
        const std::string named = scan.empty() ? "" : R"(,"scan":")" + scan + '"';
        std::string out;
        std::map<std::string, int> counts;
        std::uint8_t syn_ack_ttl = 0;  // of the host's first port decided by a SYN-ACK (0: none)
        for (auto it = verdicts.begin(); it != verdicts.end(); ++it) {
            const auto& [key, verdict] = *it;
            const auto named_host = host_names_.find(key.first);
            const std::string ip = named_host != host_names_.end() ? named_host->second : Ipv4{key.first}.str();
            out += R"({"ip":")" + ip + '"' + named + R"(,"port":)" + std::to_string(key.second) + R"(,"proto":")" +
                   verdict.proto + R"(","state":")" + verdict.state + R"(","reason":")" + verdict.reason + '"';
            if (verdict.ttl != 0) out += R"(,"ttl":)" + std::to_string(verdict.ttl);
            out += "}\n";
            ++counts[verdict.state];
            if (verdict.reason == "syn-ack" && syn_ack_ttl == 0) syn_ack_ttl = verdict.ttl;
            const auto next = std::next(it);
            if (next != verdicts.end() && next->first.first == key.first) continue;
            out += R"({"ip":")" + ip + '"' + named + R"(,"status":"up",)";
            if (!host_reason_.empty()) out += R"("reason":")" + host_reason_ + R"(",)";
            if (syn_ack_ttl != 0) out += os_hint_json(syn_ack_ttl);
            syn_ack_ttl = 0;
            out += R"("counts":{)";
            const char* separator = "";
            for (int s = 0; s < 6; ++s) {
                const int n = counts[kStates[s]];
                if (s >= 3 && n == 0) continue;
                out += separator + std::string("\"") + kStates[s] + "\":" + std::to_string(n);
                separator = ",";
            }
            out += "}}\n";
            counts.clear();
        }
        return out;
    }

    // The passive OS hint of a host that answered with SYN-ACKs: syn_ack_to()'s carry no options,
    // window 64240, DF, which no signature matches, so the facts alone ("unknown").
    static std::string os_hint_json(std::uint8_t ttl) {
        if (ttl > 64) {
            std::fprintf(stderr, "make_fixtures: a SYN-ACK with TTL %d: write its os_hint here\n", int{ttl});
            std::exit(1);
        }
        const int hops = 64 - ttl;
        return R"js("os_hint":"unknown (TTL 64, window 64240, no options; distance )js" + std::to_string(hops + 1) + ")\",";
    }

    std::string name_;
    Link link_;
    std::int64_t now_ = 1'700'000'000'000'000;  // 2023-11-14 22:13:20 UTC, in microseconds
    std::vector<std::pair<std::int64_t, Bytes>> frames_;
    Verdicts verdicts_;
    std::vector<std::pair<std::string, Verdicts>> scans_;  // several scans (scan()): each one's verdicts
    std::string args_;
    std::string stderr_;
    std::string skip_;
    std::string host_reason_;
    std::map<std::uint32_t, std::string> host_names_;
    std::size_t snaplen_ = 256;
};

const Verdict kNoResponseFiltered{"filtered", "no-response", 0};
const Verdict kNoResponseOpenFiltered{"open|filtered", "no-response", 0};
Verdict closed(std::uint8_t ttl = kLinuxTtl) { return {"closed", "reset", ttl}; }
Verdict open_syn_ack(std::uint8_t ttl = kLinuxTtl) { return {"open", "syn-ack", ttl}; }
Verdict filtered(std::string reason, std::uint8_t ttl = kLinuxTtl) { return {"filtered", std::move(reason), ttl}; }

// ---- the hand-built cases ----------------------------------------------------------------

// A Windows-like stack answers RST,ACK to FIN, NULL and XMAS on open ports too (against RFC 793
// p.65-66, LISTEN: drop them), so to these scans every answering port is closed (reset): the
// capture cannot show which were open. Silent ports stay open|filtered.
Fixture windows_like(const std::string& name, Link link, std::uint8_t flags) {
    Fixture f(name, link);
    // Ports 21 and 445 are closed, 80, 135 and 3389 open, 443 behind a dropping firewall.
    std::uint32_t seq = 0x10000000;
    for (std::uint16_t port : {21, 80, 135, 443, 445, 3389}) {
        const Bytes p = probe(port, seq += 0x01010101, flags);
        f.out(p);
        if (port == 443) continue;  // a firewall drops it: no answer to either try
        f.in(rst_to(p, kWindowsTtl), 150);
        f.expect(port, closed(kWindowsTtl));
    }
    f.out(probe(443, 0x0badf00d, flags, 40001), 1'000'000);  // the retransmission, from the next port
    f.expect(443, kNoResponseOpenFiltered);
    return f;
}

// ICMP destination unreachable (RFC 792) for every code the rule table knows, from the target
// and from a router on the way (net and host unreachable come from routers, RFC 1812 5.2.7.1):
// each is "filtered" with its code's reason. Code 4 (fragmentation needed) and time exceeded
// (type 11) say nothing about the port: those ports end as a SYN scan's silence, filtered
// (no-response). An open and a closed port for contrast.
Fixture icmp_unreachable() {
    Fixture f("built-icmp-unreachable", Link::ethernet);
    struct Case {
        std::uint16_t port;
        std::uint8_t type, code;
        Ipv4 from;
        std::uint8_t ttl;
        const char* reason;
    };
    const Case cases[] = {
        {10, 3, 0, kRouter, kRouterTtl, "net-unreach"},       {11, 3, 1, kRouter, kRouterTtl, "host-unreach"},
        {12, 3, 2, kTarget, kLinuxTtl, "proto-unreach"},      {13, 3, 3, kTarget, kLinuxTtl, "port-unreach"},
        {14, 3, 9, kRouter, kRouterTtl, "net-prohibited"},    {15, 3, 10, kRouter, kRouterTtl, "host-prohibited"},
        {16, 3, 13, kTarget, kLinuxTtl, "admin-prohibited"},  {17, 3, 4, kRouter, kRouterTtl, nullptr},
        {18, 11, 0, kRouter, kRouterTtl, nullptr},
    };
    std::uint32_t seq = 0x20000000;
    for (const auto& c : cases) {
        const Bytes p = probe(c.port, seq += 0x01000193, S);
        f.out(p);
        // Linux quotes the whole probe; routers often only the IP header and 8 bytes (RFC 792).
        f.in(icmp_about(p, c.type, c.code, c.from, c.ttl, c.from == kRouter ? 28 : 576));
        f.expect(c.port, c.reason ? filtered(c.reason, c.ttl) : kNoResponseFiltered);
    }
    const Bytes open = probe(19, seq += 7, S), shut = probe(20, seq += 7, S);
    f.out(open);
    f.out(shut);
    f.in(syn_ack_to(open));
    f.in(rst_to(shut));
    f.expect(19, open_syn_ack());
    f.expect(20, closed());
    return f;
}

// Duplicate replies: a SYN,ACK the target retransmits (RFC 793 3.4: its SYN was not
// acknowledged), a RST captured twice, an ICMP error twice, and a probe retransmitted before
// its first answer came, so both tries are answered. Each port is decided once and counted once.
Fixture duplicates() {
    Fixture f("built-duplicates", Link::ethernet);
    const Bytes open = probe(22, 0x30000001, S), shut = probe(23, 0x30000002, S), reject = probe(113, 0x30000003, S);
    const Bytes try0 = probe(24, 0x30000004, S), try1 = probe(24, 0x30000004, S);  // nmap resends the same bytes
    f.out(open);
    f.out(shut);
    f.out(reject);
    f.out(try0);
    f.in(syn_ack_to(open));
    f.in(rst_to(shut));
    f.in(rst_to(shut), 5);
    f.in(icmp_about(reject, 3, 13));
    f.out(try1, 300'000);
    f.in(rst_to(try0), 20);
    f.in(rst_to(try1), 20);
    f.in(syn_ack_to(open), 1'000'000);
    f.in(icmp_about(reject, 3, 13), 10);
    f.in(syn_ack_to(open), 2'000'000);
    f.expect(22, open_syn_ack());
    f.expect(23, closed());
    f.expect(24, closed());
    f.expect(113, filtered("admin-prohibited"));
    return f;
}

// Replies in another order than their probes: reversed, interleaved with later probes, and the
// answer to a second try (from the next source port, as flagscan sends) before the answer to the
// first. Every reply names its probe by ports and sequence number, so order does not matter.
Fixture reordered() {
    Fixture f("built-reordered", Link::ethernet_vlan);
    std::vector<Bytes> probes;
    for (std::uint16_t port = 1; port <= 6; ++port) probes.push_back(probe(port, 0x40000000u + port * 7919u, S));
    for (int i = 0; i < 3; ++i) f.out(probes[static_cast<std::size_t>(i)]);
    f.in(syn_ack_to(probes[2]));
    f.out(probes[3]);
    f.in(rst_to(probes[1]));
    f.out(probes[4]);
    f.out(probes[5]);
    f.in(rst_to(probes[5]));
    f.in(icmp_about(probes[4], 3, 13));
    f.in(rst_to(probes[3]));
    f.in(syn_ack_to(probes[0]));
    const Bytes first = probe(7, 0x47000000, S, 40000), second = probe(7, 0x47000001, S, 40001);
    f.out(first);
    f.out(second, 400'000);
    f.in(syn_ack_to(second), 50);
    f.in(syn_ack_to(first), 50);
    f.expect(1, open_syn_ack());
    f.expect(2, closed());
    f.expect(3, open_syn_ack());
    f.expect(4, closed());
    f.expect(5, filtered("admin-prohibited"));
    f.expect(6, closed());
    f.expect(7, open_syn_ack());
    return f;
}

// Replies that come after the last retransmission, seconds later: they still decide the port,
// overturning the "no-response" that silence alone would give (the README's rule: a late reply
// overturns a verdict of silence). Port 8000: three tries from one source port with one
// sequence number (nmap's way), a RST 10 s after the last. Port 8001: three tries from source
// ports 40000-40002 (flagscan's way), a SYN,ACK to the FIRST try 12 s later. Port 8002: a late
// ICMP error. Port 8003: silent throughout.
Fixture late_reply() {
    Fixture f("built-late-reply", Link::ethernet);
    const Bytes a = probe(8000, 0x50000000, S, 50123);
    const Bytes b0 = probe(8001, 0x51000000, S, 40000), b1 = probe(8001, 0x51000001, S, 40001),
                b2 = probe(8001, 0x51000002, S, 40002);
    const Bytes c = probe(8002, 0x52000000, S, 50123), d = probe(8003, 0x53000000, S, 50123);
    for (int t = 0; t < 3; ++t) {
        f.out(a, t == 0 ? 100 : 1'000'000);
        f.out(t == 0 ? b0 : t == 1 ? b1 : b2);
        f.out(c);
        f.out(d);
    }
    f.in(rst_to(a), 10'000'000);
    f.in(syn_ack_to(b0), 2'000'000);
    f.in(icmp_about(c, 3, 13), 500'000);
    f.expect(8000, closed());
    f.expect(8001, open_syn_ack());
    f.expect(8002, filtered("admin-prohibited"));
    f.expect(8003, kNoResponseFiltered);
    return f;
}

// Malformed frames between good ones. Skipped and counted (not IPv4, or an IPv4 header that
// cannot be trusted): a frame too short for its link header, an IP header cut short, version 6
// behind the IPv4 ethertype, IHL below 5, IHL past the bytes captured, a total length shorter
// than the header, a bad header checksum, IPv6 between unspecified addresses (::, RFC 4291 2.5.2). Decoded but answering nothing: a total
// length that leaves no room for the TCP header, an ARP reply (read since ARP discovery). Benign and used: a total length larger than
// the bytes captured (a snaplen cut) and Ethernet padding after a short datagram. Ports whose
// only answer was broken end as silence: filtered (no-response).
Fixture malformed() {
    Fixture f("built-malformed", Link::ethernet);
    std::vector<Bytes> p;
    for (std::uint16_t port = 30; port <= 36; ++port) {
        p.push_back(probe(port, 0x60000000u + port, S));
        f.out(p.back());
    }
    auto eth = [](const Bytes& ip) { return frame(Link::ethernet, ip, false); };
    const Bytes good30 = rst_to(p[0]);

    const Bytes good30_frame = eth(good30);
    f.raw_frame(Bytes(good30_frame.begin(), good30_frame.begin() + 10));  // no room for Ethernet
    f.raw_frame(Bytes(good30_frame.begin(), good30_frame.begin() + 14 + 12));  // IP header cut at 12
    Bytes v6 = good30;
    v6[0] = 0x65;  // version 6 behind ethertype 0x0800
    f.in(v6);
    Bytes ihl4 = good30;
    ihl4[0] = 0x44;  // IHL 4: 16 bytes, less than the fixed header
    fix_ip_checksum(ihl4);
    f.in(ihl4);
    Bytes ihl15 = good30;
    ihl15[0] = 0x4f;  // IHL 15: 60 bytes, more than the 40 there are
    f.in(ihl15);
    Bytes short_total = good30;
    put_be16(std::span<std::uint8_t>{short_total}, 2, 12);  // total length 12 < the 20-byte header
    fix_ip_checksum(short_total);
    f.in(short_total);
    Bytes bad_checksum = good30;  // the only answer port 30 gets
    bad_checksum[10] ^= 0x5a;
    f.in(bad_checksum);
    f.raw_frame(concat(ethernet_header(false, 0x0806),
                       {0, 1, 8, 0, 6, 4, 0, 2, 2, 0, 0, 0, 0, 0x0a, 192, 0, 2, 10, 2, 0, 0, 0, 0, 1, 192, 0, 2, 1}));
    f.host_reason("arp-response");  // that ARP reply: the target answered the scanner's ARP
    Bytes ipv6(40, 0);
    ipv6[0] = 0x60;
    ipv6[6] = 6;  // next header TCP
    f.raw_frame(concat(ethernet_header(false, 0x86dd), ipv6));
    f.expect(30, kNoResponseFiltered);

    Bytes no_room = rst_to(p[1]);  // IP says 24 bytes: 4 of TCP, though 20 were captured
    put_be16(std::span<std::uint8_t>{no_room}, 2, 24);
    fix_ip_checksum(no_room);
    f.in(no_room);
    f.expect(31, kNoResponseFiltered);

    Bytes long_total = rst_to(p[2]);  // IP says 1500 bytes; 40 were captured (a snaplen cut)
    put_be16(std::span<std::uint8_t>{long_total}, 2, 1500);
    fix_ip_checksum(long_total);
    f.in(long_total);
    f.expect(32, closed());

    Bytes padded = eth(rst_to(p[3]));  // 54 bytes padded to Ethernet's 60 (IEEE 802.3 minimum)
    padded.resize(60, 0);
    f.raw_frame(padded);
    f.expect(33, closed());

    f.in(syn_ack_to(p[4]));
    f.expect(34, open_syn_ack());
    Bytes cut_tcp = rst_to(p[5]);  // TCP header cut at 12 bytes by the capture (and IP agrees)
    cut_tcp.resize(32);
    put_be16(std::span<std::uint8_t>{cut_tcp}, 2, 32);
    fix_ip_checksum(cut_tcp);
    f.in(cut_tcp);
    f.expect(35, kNoResponseFiltered);
    f.in(rst_to(p[6]));
    f.expect(36, closed());
    f.stderr_contains("skipped 8 that were malformed, not IP, or ICMPv6 that answers no probe");
    return f;
}

// ICMP errors that quote too little to name a probe: RFC 792 asks for the IP header and 64 bits
// of data, which for TCP hold the ports and the sequence number. Quotes of the header and 4
// bytes (ports, no sequence number), of 12 bytes of the header, an ICMP message cut to 4 bytes,
// a quoted header whose IHL runs past the quote, and a quote of another sequence number are all
// ignored: those ports end as silence, filtered (no-response). A quote of exactly the header and
// 8 bytes is enough (port 45).
Fixture icmp_short_quotes() {
    Fixture f("built-icmp-short-quotes", Link::raw);
    std::vector<Bytes> p;
    for (std::uint16_t port = 40; port <= 45; ++port) {
        p.push_back(probe(port, 0x70000000u + port * 31u, S));
        f.out(p.back());
    }
    f.in(icmp_about(p[0], 3, 13, kTarget, kLinuxTtl, 24));
    f.in(icmp_about(p[1], 3, 13, kTarget, kLinuxTtl, 12));
    Bytes cut = icmp_about(p[2], 3, 13);
    cut.resize(24);
    put_be16(std::span<std::uint8_t>{cut}, 2, 24);
    fix_ip_checksum(cut);
    f.in(cut);
    Bytes lying = icmp_about(p[3], 3, 13, kTarget, kLinuxTtl, 28);
    lying[28] = 0x4f;  // the quoted header claims 60 bytes; 28 were quoted
    fix_icmp_checksum(lying);
    f.in(lying);
    Bytes other = p[4];
    put_be32(std::span<std::uint8_t>{other}, 24, 0xdeadbeef);  // not the sequence number we sent
    fix_tcp_checksum(other);
    f.in(icmp_about(other, 3, 13));
    f.in(icmp_about(p[5], 3, 13, kTarget, kLinuxTtl, 28));
    for (std::uint16_t port = 40; port <= 44; ++port) f.expect(port, kNoResponseFiltered);
    f.expect(45, filtered("admin-prohibited"));
    return f;
}

// IP options are part of IPv4 (RFC 791 3.1): a header longer than 20 bytes is read past its
// options. Probes with a Router Alert option (RFC 2113), a RST and a SYN,ACK whose headers
// carry options, and an ICMP error whose own header and quoted probe both carry them.
Fixture ip_options() {
    Fixture f("built-ip-options", Link::ethernet);
    const Bytes router_alert{0x94, 0x04, 0x00, 0x00};
    const Bytes nops_and_end{0x01, 0x01, 0x01, 0x00, 0x01, 0x01, 0x01, 0x00};
    const Bytes p50 = with_ip_options(probe(50, 0x80000050, S), router_alert);
    const Bytes p51 = with_ip_options(probe(51, 0x80000051, S), router_alert);
    const Bytes p52 = with_ip_options(probe(52, 0x80000052, S), router_alert);
    const Bytes p53 = probe(53, 0x80000053, S);
    for (const auto* p : {&p50, &p51, &p52, &p53}) f.out(*p);
    // Replies built from the plain probes (the same ports and numbers), then given options.
    f.in(with_ip_options(rst_to(probe(50, 0x80000050, S)), nops_and_end));
    f.in(with_ip_options(syn_ack_to(probe(51, 0x80000051, S)), router_alert));
    f.in(with_ip_options(icmp_about(p52, 3, 13), nops_and_end));
    f.in(rst_to(p53));
    f.expect(50, closed());
    f.expect(51, open_syn_ack());
    f.expect(52, filtered("admin-prohibited"));
    f.expect(53, closed());
    return f;
}

// Fragments (RFC 791 3.2): only the first fragment (offset 0) holds the transport header. A
// later fragment whose bytes happen to look like a RST answering port 60 must not be read as
// TCP, so port 60 ends as silence; a first fragment holding the whole RST of port 61 is read
// (its header is complete); an ICMP error that quotes a later fragment names no probe (port 62).
Fixture fragments() {
    Fixture f("built-fragments", Link::ethernet);
    const Bytes p60 = probe(60, 0x90000060, S), p61 = probe(61, 0x90000061, S), p62 = probe(62, 0x90000062, S),
                p63 = probe(63, 0x90000063, S);
    for (const auto* p : {&p60, &p61, &p62, &p63}) f.out(*p);
    Bytes later = rst_to(p60);
    put_be16(std::span<std::uint8_t>{later}, 6, 0x0008);  // offset 8 (64 bytes), last fragment
    fix_ip_checksum(later);
    f.in(later);
    Bytes first = rst_to(p61);
    put_be16(std::span<std::uint8_t>{first}, 6, 0x2000);  // more fragments, offset 0
    fix_ip_checksum(first);
    f.in(first);
    Bytes quoted_later = p62;
    put_be16(std::span<std::uint8_t>{quoted_later}, 6, 0x0010);
    fix_ip_checksum(quoted_later);
    f.in(icmp_about(quoted_later, 3, 13));
    f.in(rst_to(p63));
    f.expect(60, kNoResponseFiltered);
    f.expect(61, closed());
    f.expect(62, kNoResponseFiltered);
    f.expect(63, closed());
    return f;
}

// A RST whose TCP checksum is wrong. RFC 1122 4.2.2.7 / RFC 793 p.16: a segment with a bad
// checksum is discarded, so it decides nothing: port 70 ends as silence, filtered. Port 71's
// RST is intact.
Fixture bad_tcp_checksum() {
    Fixture f("built-bad-tcp-checksum", Link::ethernet);
    const Bytes p70 = probe(70, 0xa0000070, S), p71 = probe(71, 0xa0000071, S);
    f.out(p70);
    f.out(p71);
    Bytes bad = rst_to(p70);
    bad[20 + 16] ^= 0xff;
    f.in(bad);
    f.in(rst_to(p71));
    // TCP checksums of replies are deliberately not verified (nmap does not either): a capture
    // on the receiving host sees the checksum offload left it, and over veth or loopback every
    // SYN,ACK carries a partial checksum that the kernel itself accepts (seen in the lab:
    // "cksum 0x20bb (incorrect -> 0xda44)" on a SYN,ACK from a listening port). RFC 1122
    // 4.2.2.7 asks a TCP to discard such segments; a scanner reading captures cannot tell an
    // offloaded checksum from a corrupted one, so it reads the RST: port 70 is closed.
    f.expect(70, closed());
    f.expect(71, closed());
    return f;
}

// Two scanners in one capture: 192.0.2.1 SYN-scans six ports, 192.0.2.2 FIN-scans three. By
// default the replay reads the busier one; --scanner picks the other, whose probes also give
// the scan type (FIN). Replies to the first scanner answer nothing of the second's scan.
Fixture two_scanners() {
    Fixture f("built-two-scanners", Link::null_loopback);
    for (std::uint16_t port = 1; port <= 6; ++port) {
        const Bytes p = probe(port, 0xb0000000u + port, S);
        f.out(p);
        f.in(rst_to(p));
    }
    const Bytes fin20 = probe(20, 0xb1000020, F, 41000, 0, kOtherScanner),
                fin21 = probe(21, 0xb1000021, F, 41000, 0, kOtherScanner),
                fin22 = probe(22, 0xb1000022, F, 41000, 0, kOtherScanner);
    f.out(fin20);
    f.out(fin21);
    f.out(fin22);
    f.in(rst_to(fin20));
    f.in(icmp_about(fin21, 3, 13));
    f.args("--scanner 192.0.2.2");
    f.expect(kTarget, 20, closed());
    f.expect(kTarget, 21, filtered("admin-prohibited"));
    f.expect(kTarget, 22, kNoResponseOpenFiltered);
    return f;
}

// A short SYN scan the damaged files below are cut from: ports 1-4 answered, port 5's answer
// is the last record.
Fixture small_syn_scan(const std::string& name) {
    Fixture f(name, Link::ethernet);
    std::vector<Bytes> p;
    for (std::uint16_t port = 1; port <= 5; ++port) {
        p.push_back(probe(port, 0xc0000000u + port, S));
        f.out(p.back());
    }
    for (std::size_t i = 0; i < 5; ++i) f.in(i == 1 ? syn_ack_to(p[i]) : rst_to(p[i]));
    for (std::uint16_t port = 1; port <= 4; ++port) f.expect(port, port == 2 ? open_syn_ack() : closed());
    return f;
}

// ---- what the capture's scan is (issue 11 items 3, 4, 15, 16) -------------------------------

const Ipv4 kSshServer{192, 0, 2, 50};
const Ipv4 kResolver{192, 0, 2, 53};

// The TCP segment PACKET carrying DATA (lengths and checksums follow).
Bytes with_tcp_data(Bytes packet, const std::string& data) {
    packet.insert(packet.end(), data.begin(), data.end());
    put_be16(std::span<std::uint8_t>{packet}, 2, static_cast<std::uint16_t>(packet.size()));
    fix_ip_checksum(packet);
    fix_tcp_checksum(packet);
    return packet;
}

Bytes udp_datagram(Ipv4 from, Ipv4 to, std::uint16_t sport, std::uint16_t dport, const std::string& data,
                   std::uint8_t ttl = kLinuxTtl) {
    const Bytes payload(data.begin(), data.end());
    return make_udp_packet(from, to, Port{sport}, Port{dport}, payload, ttl);
}

// A SYN scan of ports 20-25 (22 open, 25 silent, the rest closed) with, from the same machine,
// an SSH session to another host (its handshake, then PSH,ACK segments with data both ways and
// their ACKs) and a DNS lookup (a query to the resolver and its answer). Only the scan is
// replayed: a TCP conversation with data both ways is an established connection (RFC 793 3.4),
// no scan's; one datagram to one port of one host is no scan. Neither the SSH server nor the
// resolver appears; stderr says what was left out.
Fixture background_traffic() {
    Fixture f("built-background-traffic", Link::ethernet);
    const Bytes ssh_syn = make_tcp_packet(kScanner, kSshServer, Port{50022}, Port{22}, 0x11110000, 0, TcpFlags{S}, 64240, 64);
    f.out(ssh_syn);
    f.in(syn_ack_to(ssh_syn));
    std::uint32_t mine = 0x11110001, theirs = 0x5eed0001;
    const auto segment = [&](bool from_me, const std::string& data) {
        const Bytes bytes =
            from_me ? make_tcp_packet(kScanner, kSshServer, Port{50022}, Port{22}, mine, theirs, TcpFlags{P | A}, 501, 64)
                    : make_tcp_packet(kSshServer, kScanner, Port{22}, Port{50022}, theirs, mine, TcpFlags{P | A}, 509, 64);
        (from_me ? mine : theirs) += static_cast<std::uint32_t>(data.size());
        if (from_me) f.out(data.empty() ? bytes : with_tcp_data(bytes, data));
        else f.in(data.empty() ? bytes : with_tcp_data(bytes, data));
    };
    segment(true, "");  // the handshake's ACK
    segment(false, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
    segment(true, "SSH-2.0-OpenSSH_9.6\r\n");
    std::vector<Bytes> p;
    for (std::uint16_t port = 20; port <= 25; ++port) {
        p.push_back(probe(port, 0xd0000000u + port, S));
        f.out(p.back());
        if (port == 21) f.out(udp_datagram(kScanner, kResolver, 53535, 53, "\x12\x34\x01\x00\x00\x01 example query"));
        if (port == 23) segment(false, std::string(48, 'k'));  // keystrokes echoed, the session goes on
    }
    f.in(udp_datagram(kResolver, kScanner, 53, 53535, "\x12\x34\x81\x80\x00\x01 example answer"));
    segment(true, std::string(36, 'x'));
    segment(false, "");
    for (std::size_t i = 0; i < p.size(); ++i) {
        const std::uint16_t port = static_cast<std::uint16_t>(20 + i);
        if (port == 25) continue;
        f.in(port == 22 ? syn_ack_to(p[i]) : rst_to(p[i]));
        f.expect(port, port == 22 ? open_syn_ack() : closed());
    }
    f.expect(25, kNoResponseFiltered);
    f.stderr_contains("left out 8 packets of TCP connections that carried data both ways\n"
                      "left out 1 UDP datagram of 192.0.2.1 to 1 host, 1 port: one port of one host is no scan");
    return f;
}

// A SYN scan of 20-39 (22 open, 25 silent, the rest closed), then a FIN scan of 30-39 (32 and
// 35 silent, the rest closed) from another source port. Two scans, each replayed on its own,
// in capture order; no FIN is a try of the SYN scan. NAME: with ARGS "-sF" only the FIN scan.
Fixture syn_then_fin(const std::string& name, const std::string& args) {
    Fixture f(name, Link::ethernet);
    const bool both = args.empty();
    if (both) f.scan("SYN");
    for (std::uint16_t port = 20; port <= 39; ++port) {
        const Bytes p = probe(port, 0xe0000000u + port, S, 40000);
        f.out(p);
        if (port == 25) continue;
        f.in(port == 22 ? syn_ack_to(p) : rst_to(p), 150);
        if (both) f.expect(port, port == 22 ? open_syn_ack() : closed());
    }
    if (both) {
        f.expect(25, kNoResponseFiltered);
        f.scan("FIN");
    }
    for (std::uint16_t port = 30; port <= 39; ++port) {
        const Bytes p = probe(port, 0xe1000000u + port, F, 41000);
        f.out(p, 500'000);
        const bool silent = port == 32 || port == 35;
        if (!silent) f.in(rst_to(p), 150);
        f.expect(port, silent ? kNoResponseOpenFiltered : closed());
    }
    if (!both) {
        f.args(args);
        f.stderr_contains("left out 20 SYN probes of 192.0.2.1 to 1 host, 20 ports: another scan (-sS replays it)");
    }
    return f;
}

Verdict udp_verdict(std::string state, std::string reason, std::uint8_t ttl) {
    return {std::move(state), std::move(reason), ttl, "udp"};
}

// A SYN scan of 20-23 and a UDP scan of 53, 123, 161, 500 from one machine, interleaved (as
// nmap -sS -sU sends them). UDP 53 answers with a datagram (open, RFC 768), 123 draws ICMP 3/3
// from the target (closed, RFC 1122 3.2.2.1), 161 is silent (open|filtered), 500 draws 3/13
// (filtered). With ARGS "-sS -sU": one run of both protocols, TCP ports then UDP ones; without:
// two scans, SYN then UDP, each on its own.
Fixture syn_and_udp(const std::string& name, const std::string& args) {
    Fixture f(name, Link::ethernet);
    const bool split = args.empty();
    if (split) f.scan("SYN");
    const std::uint16_t udp_ports[] = {53, 123, 161, 500};
    std::vector<Bytes> udp;
    for (std::uint16_t i = 0; i < 4; ++i) {
        const std::uint16_t port = static_cast<std::uint16_t>(20 + i);
        const Bytes p = probe(port, 0xf0000000u + port, S);
        f.out(p);
        f.in(port == 22 ? syn_ack_to(p) : rst_to(p));
        f.expect(port, port == 22 ? open_syn_ack() : closed());
        udp.push_back(udp_datagram(kScanner, kTarget, 40001, udp_ports[i], ""));
        f.out(udp.back());
    }
    if (split) f.scan("UDP");
    f.in(udp_datagram(kTarget, kScanner, 53, 40001, "\x00\x00\x81\x80"));
    f.in(icmp_about(udp[1], 3, 3));
    f.in(icmp_about(udp[3], 3, 13));
    f.expect(53, udp_verdict("open", "udp-response", kLinuxTtl));
    f.expect(123, udp_verdict("closed", "port-unreach", kLinuxTtl));
    f.expect(161, udp_verdict("open|filtered", "no-response", 0));
    f.expect(500, udp_verdict("filtered", "admin-prohibited", kLinuxTtl));
    if (!split) f.args(args);
    return f;
}

// Two scanners, no --scanner: the busier one (192.0.2.1, SYN to ports 1-6) is replayed, and
// stderr names the other (192.0.2.2, FIN to 20-22) and how to replay it.
Fixture second_scanner() {
    Fixture f("built-second-scanner", Link::ethernet);
    for (std::uint16_t port = 1; port <= 6; ++port) {
        const Bytes p = probe(port, 0xb2000000u + port, S);
        f.out(p);
        f.in(rst_to(p));
        f.expect(port, closed());
        if (port <= 3) f.out(probe(static_cast<std::uint16_t>(19 + port), 0xb3000000u + port, F, 41000, 0, kOtherScanner));
    }
    f.stderr_contains(
        "a second scanner is in the capture: 192.0.2.2 sent 3 probes; replaying 192.0.2.1's 6 (the most; --scanner 192.0.2.2 "
        "replays the other)");
    return f;
}

// -sF given for a capture of SYN probes: said on stderr, and the SYN probes are read as FIN ones
// as asked (a RST acknowledging SEG.SEQ+1 answers either; RFC 793 p.65: closed), silence as a
// FIN scan's (open|filtered).
Fixture kind_contradicts() {
    Fixture f("built-kind-contradicts", Link::ethernet);
    for (std::uint16_t port = 1; port <= 3; ++port) {
        const Bytes p = probe(port, 0xb4000000u + port, S);
        f.out(p);
        if (port == 3) continue;
        f.in(rst_to(p));
        f.expect(port, closed());
    }
    f.expect(3, kNoResponseOpenFiltered);
    f.args("-sF");
    f.stderr_contains("-sF was given, but 192.0.2.1 sent no FIN probes: replaying its SYN probes as a FIN scan, as asked");
    return f;
}

// Records out of time order: the first record (a probe to port 3) carries the latest probe
// time, 2 s after the others; its answer is the last record. The scan took max - min of the
// timestamps (2.00 s), not last - first record (0.00 s). `-oN /dev/stderr` shows the footer.
Fixture out_of_order_time() {
    Fixture f("built-out-of-order-time", Link::ethernet);
    const Bytes p3 = probe(3, 0xb5000003, S);
    f.out(p3, 2'000'000);
    for (std::uint16_t port = 1; port <= 2; ++port) {
        const Bytes p = probe(port, 0xb5000000u + port, S);
        f.out(p, port == 1 ? -2'000'000 : 100);
        f.in(rst_to(p));
        f.expect(port, closed());
    }
    f.in(rst_to(p3), 2'000'000 - 300 + 100);
    f.expect(3, closed());
    f.args("-oN /dev/stderr");
    f.stderr_contains("scanned in 2.00 seconds");
    return f;
}

// --explain true to the capture (issue 11, items 7-9 and 12). nmap-style: port 100 tried twice,
// from source ports 45322 and 45324, 1 s apart, and silent to the capture's end 2 s later; port
// 101 refused by a router (ICMP 3/13 from 198.51.100.254: filtered, and the router named); port
// 102's RST cut short inside its TCP header (IP says 40 bytes, 32 are there: it cannot be read);
// port 103's RST acknowledges another sequence number (it answers no probe of this scan); port
// 104's ICMP 3/4 from the router answers the probe but no SYN row reads it (RFC 1191: a path MTU
// message). Every verdict but 101's is silence's, filtered (no-response); each explanation says
// what came back.
Fixture explain_evidence() {
    Fixture f("built-explain-evidence", Link::ethernet);
    const Bytes first = probe(100, 0x70000000, S, 45322), second = probe(100, 0x70000001, S, 45324);
    const Bytes refused = probe(101, 0x71000000, S, 45322), cut = probe(102, 0x72000000, S, 45322),
                other = probe(103, 0x73000000, S, 45322), mtu = probe(104, 0x74000000, S, 45322);
    for (const Bytes* p : {&first, &refused, &cut, &other, &mtu}) f.out(*p);
    f.in(icmp_about(refused, 3, 13, kRouter, kRouterTtl, 28));
    Bytes cut_rst = rst_to(cut);
    cut_rst.resize(32);  // the IP header still says 40 bytes
    f.in(cut_rst);
    f.in(rst_to(probe(103, 0x0badcafe, S, 45322)));
    f.out(second, 1'000'000);
    f.in(icmp_about(mtu, 3, 4, kRouter, kRouterTtl, 28), 2'000'000);
    for (std::uint16_t port : {100, 102, 103, 104}) f.expect(port, kNoResponseFiltered);
    f.expect(101, filtered("admin-prohibited", kRouterTtl));
    f.args("--explain");
    f.stderr_contains(
        "Sent:   SYN probe, 2 tries from source ports 45322 and 45324; the scanner waited 1.00 s\n"
        "between them; the capture shows no answer that decides in the 2.00 s from the\n"
        "Back:   ICMP destination unreachable, code 13 (admin-prohibited), from 198.51.100.254, a\n"
        "router, not the target, ttl 254, after 0.40 ms.\n"
        "Back:   nothing that can be read. The capture holds a TCP segment from 192.0.2.10:102,\n"
        "Back:   nothing that answers the probes. The capture holds a RST,ACK from\n"
        "Back:   nothing that decides. The capture holds an ICMP destination unreachable (type 3\n"
        "code 4), from 198.51.100.254, a router, not the target, about a probe to this");
    return f;
}

// A SYN scan as `tcpdump -i any` records it on a host whose interface sits on VLAN 7: libpcap
// writes the 802.1Q tag the kernel gave it apart after the Linux cooked header (protocol
// 0x8100), and tcpdump reads through it. Port 22 open, 23 closed, 24 silent.
Fixture cooked_vlan(const std::string& name, Link link) {
    Fixture f(name, link);
    const Bytes open = probe(22, 0xd0000022, S), shut = probe(23, 0xd0000023, S), silent = probe(24, 0xd0000024, S);
    for (const auto* p : {&open, &shut, &silent}) f.out(*p);
    f.in(syn_ack_to(open));
    f.in(rst_to(shut));
    f.expect(22, open_syn_ack());
    f.expect(23, closed());
    f.expect(24, kNoResponseFiltered);
    return f;
}

// IP (an IPv4 packet) cut into fragments of SIZE data bytes, a multiple of 8 (RFC 791 3.2): each
// piece repeats the header with its own total length, offset in 8-byte units and MF bit, and
// carries identification ID.
std::vector<Bytes> fragments_of(Bytes ip, std::size_t size, std::uint16_t id) {
    const std::size_t header = std::size_t{ip[0] & 0x0fu} * 4;
    put_be16(std::span<std::uint8_t>{ip}, 4, id);
    std::vector<Bytes> out;
    for (std::size_t at = header; at < ip.size(); at += size) {
        const std::size_t n = std::min(size, ip.size() - at);
        Bytes piece(ip.begin(), ip.begin() + static_cast<long>(header));
        piece.insert(piece.end(), ip.begin() + static_cast<long>(at), ip.begin() + static_cast<long>(at + n));
        put_be16(std::span<std::uint8_t>{piece}, 2, static_cast<std::uint16_t>(piece.size()));
        const bool more = at + n < ip.size();
        put_be16(std::span<std::uint8_t>{piece}, 6, static_cast<std::uint16_t>((more ? 0x2000u : 0u) | (at - header) / 8));
        fix_ip_checksum(piece);
        out.push_back(piece);
    }
    return out;
}

// nmap -f: every SYN cut into fragments of 8 data bytes (RFC 791 3.2), so that no single frame
// holds the TCP flags (they are in the second piece). Reassembled (RFC 815), the probes are a
// SYN scan: port 1 closed, 2 open, 3 (its pieces sent last first) closed, 4 silent. Port 5's
// second piece never comes: no whole probe, so port 5 is not part of the scan.
Fixture nmap_fragments() {
    Fixture f("built-nmap-fragments", Link::ethernet);
    std::vector<Bytes> p;
    for (std::uint16_t port = 1; port <= 4; ++port) {
        p.push_back(probe(port, 0xe0000000u + port, S, 51234));
        auto pieces = fragments_of(p.back(), 8, static_cast<std::uint16_t>(0x4400 + port));
        if (port == 3) std::reverse(pieces.begin(), pieces.end());
        for (const Bytes& piece : pieces) f.out(piece, 10);
    }
    const auto unfinished = fragments_of(probe(5, 0xe0000005, S, 51234), 8, 0x4405);
    f.out(unfinished[0], 10);
    f.out(unfinished[2], 10);
    f.in(rst_to(p[0]));
    f.in(syn_ack_to(p[1]));
    f.in(rst_to(p[2]));
    f.expect(1, closed());
    f.expect(2, open_syn_ack());
    f.expect(3, closed());
    f.expect(4, kNoResponseFiltered);
    return f;
}

// An IPv6 TCP segment (RFC 8200 header, RFC 793 segment; its checksum over the RFC 8200 8.1
// pseudo-header) from 2001:db8::1 to 2001:db8::10 (RFC 3849 documentation addresses).
Bytes ipv6_tcp(bool outgoing, std::uint16_t port, std::uint8_t flags) {
    Bytes scanner{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}, target = scanner;
    target[15] = 0x10;
    Bytes tcp(20, 0);
    const std::span<std::uint8_t> t{tcp};
    put_be16(t, 0, outgoing ? 40000 : port);
    put_be16(t, 2, outgoing ? port : 40000);
    put_be32(t, 4, outgoing ? 0xf0000000u + port : 0);
    put_be32(t, 8, outgoing ? 0 : 0xf0000001u + port);
    tcp[12] = 0x50;
    tcp[13] = flags;
    put_be16(t, 14, outgoing ? 1024 : flags == (S | A) ? 64240 : 0);
    Bytes ip{0x60, 0, 0, 0, 0, 20, 6, 64};
    ip = concat(concat(ip, outgoing ? scanner : target), outgoing ? target : scanner);
    Bytes pseudo = concat(Bytes(ip.begin() + 8, ip.end()), {0, 0, 0, 20, 0, 0, 0, 6});
    put_be16(t, 16, checksum_finish(checksum_add(std::span<const std::uint8_t>{tcp}, checksum_add(std::span<const std::uint8_t>{pseudo}))));
    return concat(ip, tcp);
}

// An IPv6 UDP scan from 2001:db8::1 port 40000 to 2001:db8::10, each probe's cookie in the low
// 16 bits of its flow label (as flagscan's, translate6.hpp), answered as RFC 4443 and RFC 7915 5.2 say:
// 7 ICMPv6 1/4 port unreachable quoting it: **closed** (3/3); 8 1/1 administratively prohibited:
// **filtered** (read as 3/13, admin-prohibited); 9 1/4 whose outer packet carries hop-by-hop and
// destination options and whose quote a destination options header: **closed**, read past them
// (RFC 8200 4); 10 an error quoting another flow label (another probe's): names no probe,
// **open|filtered** (no-response), as 11 that is silent; 12 a UDP answer: **open**.
void ipv6_udp_scan(const fs::path& dir) {
    namespace t6 = flagscan::test6;
    const Ipv6 scanner = *Ipv6::parse("2001:db8::1"), target = *Ipv6::parse("2001:db8::10");
    Fixture f("built-ipv6-udp", Link::ethernet);
    const auto frame = [](bool outgoing, const Bytes& packet) { return concat(ethernet_header(outgoing, 0x86dd), packet); };
    const auto probe = [&](std::uint16_t port, std::vector<t6::Extension> chain = {}) {
        return t6::packet6(scanner, target, std::move(chain), ipproto::udp, t6::udp6(scanner, target, Port{40000}, Port{port}, {}));
    };
    const auto error = [&](std::uint8_t code, const Bytes& quoted, std::vector<t6::Extension> chain = {}) {
        return t6::packet6(target, scanner, std::move(chain), ipproto::icmpv6, t6::icmp6(target, scanner, 1, code, 0, quoted));
    };
    for (std::uint16_t port = 7; port <= 12; ++port)
        f.raw_frame(frame(true, port == 9 ? probe(port, {t6::destination_options()}) : probe(port)));
    f.raw_frame(frame(false, error(4, probe(7))));
    f.raw_frame(frame(false, error(1, probe(8))));
    f.raw_frame(frame(false, error(4, probe(9, {t6::destination_options()}), {t6::hop_by_hop(), t6::destination_options(1)})));
    Bytes other = probe(10);
    other[3] ^= 0x01;  // flow label 0x12344: not the probe's
    f.raw_frame(frame(false, error(4, other)));
    f.raw_frame(frame(false, t6::packet6(target, scanner, {}, ipproto::udp, t6::udp6(target, scanner, Port{12}, Port{40000}, {1, 2}))));
    const Ipv4 key{0, 0, 0, 2};  // ::1 -> 0.0.0.1, ::10 -> 0.0.0.2 (address order)
    f.name_host(key, "2001:db8::10");
    f.expect(key, 7, {"closed", "port-unreach", kLinuxTtl, "udp"});
    f.expect(key, 8, {"filtered", "admin-prohibited", kLinuxTtl, "udp"});
    f.expect(key, 9, {"closed", "port-unreach", kLinuxTtl, "udp"});
    f.expect(key, 10, {"open|filtered", "no-response", 0, "udp"});
    f.expect(key, 11, {"open|filtered", "no-response", 0, "udp"});
    f.expect(key, 12, {"open", "udp-response", kLinuxTtl, "udp"});
    f.write_pcap(dir / "built-ipv6-udp.pcap");
    f.write_results(dir);
}

// An IPv6 SYN scan (2001:db8::1 to 2001:db8::10, Ethernet): read through the replay's book, whose
// keys follow address order (::1 -> 0.0.0.1, ::10 -> 0.0.0.2): 22 SYN,ACK open, 23 RST,ACK
// closed (RFC 793), 24 silent filtered (no-response), as for IPv4.
void ipv6_scan(const fs::path& dir) {
    Fixture v6("built-ipv6-syn", Link::ethernet);
    for (std::uint16_t port : {22, 23, 24}) v6.raw_frame(concat(ethernet_header(true, 0x86dd), ipv6_tcp(true, port, S)));
    v6.raw_frame(concat(ethernet_header(false, 0x86dd), ipv6_tcp(false, 22, S | A)));
    v6.raw_frame(concat(ethernet_header(false, 0x86dd), ipv6_tcp(false, 23, R | A)));
    const Ipv4 target{0, 0, 0, 2};
    v6.name_host(target, "2001:db8::10");
    v6.expect(target, 22, open_syn_ack());
    v6.expect(target, 23, closed());
    v6.expect(target, 24, kNoResponseFiltered);
    v6.write_pcap(dir / "built-ipv6-syn.pcap");
    v6.write_results(dir);
    ipv6_udp_scan(dir);
}

// Captures that hold a scan flagscan cannot read, each refused with the reason rather than
// "no probes": a SYN scan captured with snaplen 40 and with 48 (tcpdump
// -s: the TCP header ends 54 bytes into an Ethernet frame); probes in 8-byte fragments whose
// second piece is missing, so that none can be reassembled.
void unreadable_scans(const fs::path& dir) {
    for (std::size_t snaplen : {40, 48}) {
        Fixture cut = small_syn_scan("built-snaplen-" + std::to_string(snaplen));
        cut.snaplen(snaplen);
        cut.write_pcap(dir / ("built-snaplen-" + std::to_string(snaplen) + ".pcap"));
        Fixture::write_text(dir / ("built-snaplen-" + std::to_string(snaplen) + ".fails"),
                            "snaplen is " + std::to_string(snaplen) + " bytes, too short for a TCP header\n");
    }

    Fixture pieces("built-fragments-unfinished", Link::ethernet);
    for (std::uint16_t port = 1; port <= 3; ++port) {
        const auto all = fragments_of(probe(port, 0xe1000000u + port, S, 51234), 8, static_cast<std::uint16_t>(0x4500 + port));
        pieces.out(all[0], 10);
        pieces.out(all[2], 10);
    }
    pieces.write_pcap(dir / "built-fragments-unfinished.pcap");
    Fixture::write_text(dir / "built-fragments-unfinished.fails", "6 IPv4 fragments belong to datagrams the capture does not hold whole\n");
}

// ---- reply matching (issue 11) --------------------------------------------------------------

// The TCP packet with DATA bytes of payload after its header (nmap --data-length, hping3 -d).
Bytes with_data(const Bytes& tcp_packet, std::size_t data) {
    return with_tcp_data(tcp_packet, std::string(data, 'x'));
}

Bytes with_ip_id(Bytes ip, std::uint16_t id) {
    put_be16(std::span<std::uint8_t>{ip}, 4, id);
    fix_ip_checksum(ip);
    return ip;
}

// A UDP probe from the scanner; its IP identification tells its tries apart (an ICMP error quotes it).
Bytes udp_probe(std::uint16_t port, std::uint16_t ip_id, std::uint16_t sport) {
    return with_ip_id(make_udp_packet(kScanner, kTarget, Port{sport}, Port{port}, {}, 64), ip_id);
}

// A UDP port's verdicts: ICMP 3/3 from the target, a service's answer, silence.
Verdict udp_closed() { return udp_verdict("closed", "port-unreach", kLinuxTtl); }
Verdict udp_open() { return udp_verdict("open", "udp-response", kLinuxTtl); }
Verdict udp_silent() { return udp_verdict("open|filtered", "no-response", 0); }

// A service's answer, from the probed port to the probe's source port (RFC 768).
Bytes udp_answer_to(const Bytes& probe_bytes) {
    return udp_datagram(kTarget, kScanner, dport_of(probe_bytes), sport_of(probe_bytes), "answer");
}

// nmap -sS --data-length 20 and hping3 -S -d 20: SYNs carrying 20 bytes of data. RFC 793 p.65-66
// (SEGMENT ARRIVES, CLOSED): the RST to a segment without ACK is <SEQ=0><ACK=SEG.SEQ+SEG.LEN>,
// SYN and FIN counting one each and the data its length (Linux: seq + syn + fin + data). A
// SYN,ACK acknowledges the SYN alone (p.66, LISTEN: the data is queued until the handshake
// completes). Ports 23 and 25 closed (25 from hping3's next source port), 22 open, 113 refused
// with ICMP 3/13, 135 silent to both tries.
Fixture data_length_syn() {
    Fixture f("built-data-length-syn", Link::ethernet);
    const Bytes open = with_data(probe(22, 0xd0000022, S), 20), shut = with_data(probe(23, 0xd0000023, S), 20),
                hping = with_data(probe(25, 0xd0000025, S, 2331), 20),
                refused = with_data(probe(113, 0xd0000113, S), 20), silent = with_data(probe(135, 0xd0000135, S), 20);
    for (const auto* p : {&open, &shut, &hping, &refused, &silent}) f.out(*p);
    f.in(syn_ack_to(open));
    f.in(rst_to(shut));
    f.in(rst_to(hping));
    f.in(icmp_about(refused, 3, 13));
    f.out(with_data(probe(135, 0xd1000135, S), 20), 1'000'000);
    f.expect(22, open_syn_ack());
    f.expect(23, closed());
    f.expect(25, closed());
    f.expect(113, filtered("admin-prohibited"));
    f.expect(135, kNoResponseFiltered);
    return f;
}

// The same for -sF / -sN with --data-length 20: closed ports answer RST,ACK acknowledging
// SEG.SEQ + (FIN) + 20 and are closed; open ones drop the segment (RFC 793 p.65-66, LISTEN)
// and stay open|filtered.
Fixture data_length_stealth(const std::string& name, std::uint8_t flags) {
    Fixture f(name, Link::ethernet);
    std::uint32_t seq = 0xd2000000;
    for (std::uint16_t port : {21, 22, 23, 80}) {
        const Bytes p = with_data(probe(port, seq += 0x01000001, flags), 20);
        f.out(p);
        if (port == 22 || port == 80) {
            f.expect(port, kNoResponseOpenFiltered);
            continue;
        }
        f.in(rst_to(p), 150);
        f.expect(port, closed());
    }
    return f;
}

// nmap -g 53 and hping3 -k: every try leaves from one source port, with a new sequence number.
// An answer to an earlier try that comes after a later try went out matches that try (nmap does
// the same) and decides the port. Port 80: SYN,ACK to try 0, after try 1. Port 23: RST to try 0,
// after try 2. Port 113: ICMP 3/13 quoting try 1, after try 2. Port 135: silent. Port 25: a RST
// acknowledging a sequence number no try carried names no probe: silence, filtered.
Fixture fixed_sport_late() {
    Fixture f("built-fixed-sport-late", Link::ethernet);
    std::map<std::uint16_t, std::vector<Bytes>> tries;
    for (std::uint32_t t = 0; t < 3; ++t) {
        for (std::uint16_t port : {23, 25, 80, 113, 135}) {
            if (port == 80 && t == 2) continue;  // answered before the third round
            tries[port].push_back(probe(port, 0xe0000000u + port * 0x10000u + t * 0x3b9u, S, 53));
            f.out(tries[port].back(), t > 0 && port == 23 ? 1'000'000 : 100);
        }
        if (t == 1) f.in(syn_ack_to(tries[80][0]), 200);
    }
    f.in(rst_to(tries[23][0]), 300);
    f.in(icmp_about(tries[113][1], 3, 13));
    f.in(rst_to(probe(25, 0xe0000000u + 25 * 0x10000u + 0x777, S, 53)));
    f.expect(23, closed());
    f.expect(25, kNoResponseFiltered);
    f.expect(80, open_syn_ack());
    f.expect(113, filtered("admin-prohibited"));
    f.expect(135, kNoResponseFiltered);
    return f;
}

// The same for UDP (nmap -sU -g 53, hping3 -2 -k): a datagram has no sequence number; its tries
// differ in their IP identification, which an ICMP error quotes, and a service's answer names
// the probe by its port pair alone. Port 161: the answer comes after try 1. Port 7: ICMP 3/3
// quoting try 0, after try 1. Port 69: silent.
Fixture udp_fixed_sport_late() {
    Fixture f("built-udp-fixed-sport-late", Link::ethernet);
    std::map<std::uint16_t, std::vector<Bytes>> tries;
    for (std::uint16_t t = 0; t < 2; ++t) {
        for (std::uint16_t port : {7, 69, 161}) {
            tries[port].push_back(udp_probe(port, static_cast<std::uint16_t>(0x4000 + port * 4 + t), 53));
            f.out(tries[port].back(), t > 0 && port == 7 ? 1'000'000 : 100);
        }
    }
    f.in(udp_answer_to(tries[161][0]), 200);
    f.in(icmp_about(tries[7][0], 3, 3));
    f.expect(7, udp_closed());
    f.expect(69, udp_silent());
    f.expect(161, udp_open());
    return f;
}

// ICMP port unreachable (3/3) means closed only from the target itself (RFC 1122 3.2.2.1: its
// UDP layer found no socket); from another address (a router or firewall on the path) it means
// the probe was refused on the way: filtered (nmap's rule). Port 7: 3/3 from the target; port
// 9: 3/3 from a router; port 1004: 3/13 from the target; port 53: a service answers; port 69:
// silent. A SYN scan calls any ICMP unreachable filtered (built-icmp-unreachable).
Fixture udp_router_unreachable() {
    Fixture f("built-udp-router-unreach", Link::ethernet);
    std::map<std::uint16_t, Bytes> p;
    for (std::uint16_t port : {7, 9, 53, 69, 1004}) {
        p[port] = udp_probe(port, static_cast<std::uint16_t>(0x5000 + port), 40000);
        f.out(p[port]);
    }
    f.in(icmp_about(p[7], 3, 3));
    f.in(icmp_about(p[9], 3, 3, kRouter, kRouterTtl, 28));
    f.in(icmp_about(p[1004], 3, 13));
    f.in(udp_answer_to(p[53]));
    f.expect(7, udp_closed());
    f.expect(9, udp_verdict("filtered", "port-unreach", kRouterTtl));
    f.expect(53, udp_open());
    f.expect(69, udp_silent());
    f.expect(1004, udp_verdict("filtered", "admin-prohibited", kLinuxTtl));
    return f;
}

// tcpdump -i any on a machine that bridges the scanner's traffic sees every frame twice (on the
// bridge port and on the bridge), the same bytes microseconds apart. A probe seen twice is one
// try, not two (-v counts 4 probes, not 8); a reply seen twice counts once.
Fixture probe_seen_twice() {
    Fixture f("built-probe-seen-twice", Link::ethernet);
    const Bytes open = probe(22, 0xf0000022, S), shut = probe(23, 0xf0000023, S), refused = probe(113, 0xf0000113, S),
                silent = probe(135, 0xf0000135, S);
    for (const auto* p : {&open, &shut, &refused, &silent}) {
        f.out(*p);
        f.out(*p, 4);
    }
    for (const Bytes& reply : {syn_ack_to(open), rst_to(shut), icmp_about(refused, 3, 13)}) {
        f.in(reply);
        f.in(reply, 4);
    }
    f.args("-v");
    f.stderr_contains(", 4 probes");
    f.expect(22, open_syn_ack());
    f.expect(23, closed());
    f.expect(113, filtered("admin-prohibited"));
    f.expect(135, kNoResponseFiltered);
    return f;
}

// ---- files ---------------------------------------------------------------------------------

Bytes read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_failing(const fs::path& dir, const std::string& name, const Bytes& bytes, const std::string& error) {
    write_bytes(dir / (name + ".pcap"), bytes);
    Fixture::write_text(dir / (name + ".fails"), error + "\n");
}

// Damaged and foreign files. A capture cut inside its last record, or whose last record header
// claims more bytes than any capture holds, is replayed up to the damage (port 5's answer is
// lost: silence) with a warning; a file cut inside its file header, an empty file, a text file,
// a link type flagscan cannot decode and a capture with no TCP probe are one-line errors.
void damaged_files(const fs::path& dir) {
    Fixture cut = small_syn_scan("built-truncated-record");
    cut.expect(5, kNoResponseFiltered);
    cut.stderr_contains("cut short");
    cut.write(dir);
    Bytes bytes = read_file(dir / "built-truncated-record.pcap");
    bytes.resize(bytes.size() - 20);  // inside the last record's data
    write_bytes(dir / "built-truncated-record.pcap", bytes);

    Fixture lies = small_syn_scan("built-record-length-lies");
    lies.expect(5, kNoResponseFiltered);
    lies.stderr_contains("cut short");
    lies.write(dir);
    bytes = read_file(dir / "built-record-length-lies.pcap");
    // The last record: a 16-byte header (seconds, microseconds, caplen, len; the byte order of
    // the machine that wrote the file, little-endian here) and a 54-byte frame. Its caplen
    // becomes 0x7fffffff, past anything libpcap accepts.
    const std::size_t caplen = bytes.size() - 54 - 8;
    for (std::size_t i = 0; i < 4; ++i) bytes[caplen + i] = i == 3 ? 0x7f : 0xff;
    write_bytes(dir / "built-record-length-lies.pcap", bytes);

    Fixture whole = small_syn_scan("built-file-header-cut");
    whole.write_pcap(dir / "built-file-header-cut.pcap");
    bytes = read_file(dir / "built-file-header-cut.pcap");
    bytes.resize(12);
    write_failing(dir, "built-file-header-cut", bytes, "truncated dump file");
    write_failing(dir, "built-empty-file", {}, "truncated dump file");
    const std::string text = "This is not a capture: it is the README of another project.\n";
    write_failing(dir, "built-not-a-capture", Bytes(text.begin(), text.end()), "unknown file format");

    Fixture wifi("built-unknown-linktype", Link::ethernet);
    wifi.add(probe(80, 1, S), true);
    wifi.write_pcap(dir / "built-unknown-linktype.pcap");
    bytes = read_file(dir / "built-unknown-linktype.pcap");
    bytes[20] = 105;  // LINKTYPE_IEEE802_11 in the file header's link type field
    write_failing(dir, "built-unknown-linktype", bytes, "is not one flagscan decodes");

    Fixture none("built-no-probes", Link::ethernet);
    none.in(syn_ack_to(probe(80, 1, S)));
    none.in(icmp_about(probe(81, 2, S), 3, 13));
    none.write_pcap(dir / "built-no-probes.pcap");
    Fixture::write_text(dir / "built-no-probes.fails", "holds no TCP or UDP probes\n");
}

// ---- pcapng written by hand (IETF draft-ietf-opsawg-pcapng), little-endian --------------------

void put_le(Bytes& out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

// A block: type, total length, BODY padded to 4 bytes, total length again.
Bytes pcapng_block(std::uint32_t type, Bytes body) {
    body.resize((body.size() + 3) / 4 * 4, 0);
    Bytes out;
    put_le(out, type, 4);
    put_le(out, body.size() + 12, 4);
    out.insert(out.end(), body.begin(), body.end());
    put_le(out, body.size() + 12, 4);
    return out;
}

// An interface description: LINKTYPE, snaplen 256, and if_tsresol 9 (nanoseconds) when NANO.
Bytes pcapng_interface(std::uint16_t linktype, bool nano) {
    Bytes body;
    put_le(body, linktype, 2);
    put_le(body, 0, 2);
    put_le(body, 256, 4);
    if (nano) body.insert(body.end(), {9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0});  // if_tsresol=9, opt_endofopt
    return pcapng_block(1, body);
}

// An enhanced packet block on INTERFACE at TS (in that interface's units).
Bytes pcapng_packet(std::uint32_t interface, std::uint64_t ts, const Bytes& frame) {
    Bytes body;
    put_le(body, interface, 4);
    put_le(body, ts >> 32, 4);
    put_le(body, ts & 0xffffffffu, 4);
    put_le(body, frame.size(), 4);
    put_le(body, frame.size(), 4);
    body.insert(body.end(), frame.begin(), frame.end());
    return pcapng_block(6, body);
}

// `dumpcap -i eth0 -i any`: a SYN scan whose probes were recorded on an Ethernet interface
// (microseconds) and whose replies on a Linux cooked one (nanoseconds), described by a second
// interface block that comes after the first packets. libpcap 1.10 stops there ("an interface
// has a type 113 different from the type of the first interface"); each interface's own link
// type reads it whole: port 1 closed, 2 open, 3 filtered (no-response).
void pcapng_two_link_types(const fs::path& dir) {
    const std::string name = "built-pcapng-two-link-types";
    const Bytes p1 = probe(1, 0xd1000001, S), p2 = probe(2, 0xd1000002, S), p3 = probe(3, 0xd1000003, S);
    Bytes section;
    put_le(section, 0x1A2B3C4D, 4);
    put_le(section, 1, 2);
    put_le(section, 0, 2);
    put_le(section, ~std::uint64_t{0}, 8);  // section length not given
    Bytes file = pcapng_block(0x0A0D0D0A, section);
    const std::uint64_t start_us = 1'700'000'000'000'000;
    file = concat(file, pcapng_interface(1, false));
    file = concat(file, pcapng_packet(0, start_us + 100, frame(Link::ethernet, p1, true)));
    file = concat(file, pcapng_packet(0, start_us + 200, frame(Link::ethernet, p2, true)));
    file = concat(file, pcapng_interface(113, true));
    file = concat(file, pcapng_packet(0, start_us + 300, frame(Link::ethernet, p3, true)));
    const Bytes sll_in{0, 0, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 0x0a, 0, 0, 0x08, 0x00};
    file = concat(file, pcapng_packet(1, (start_us + 400) * 1000 + 17, concat(sll_in, rst_to(p1))));
    file = concat(file, pcapng_packet(1, (start_us + 500) * 1000 + 17, concat(sll_in, syn_ack_to(p2))));
    write_bytes(dir / (name + ".pcapng"), file);
    Fixture f(name, Link::ethernet);
    f.expect(1, closed());
    f.expect(2, open_syn_ack());
    f.expect(3, kNoResponseFiltered);
    f.write_results(dir);
}

// ---- a masscan-sized capture (issue 11 item 6), written on demand, never committed ----------

// HOSTS hosts of 198.18.0.0/15 (RFC 2544's benchmark range) probed once each on one random port
// from one source port, in a shuffled order at 100,000 probes a second, as masscan sends; every
// tenth host answers SYN,ACK, six in ten RST, three in ten nothing, each reply ~1 ms after its
// probe. Prints "open N closed N filtered N" (what the replay must find).
int masscan_sized(std::uint32_t hosts, const fs::path& path) {
    Fixture f("masscan-sized", Link::ethernet);
    std::uint64_t state = 0x9e3779b97f4a7c15ull;  // xorshift64: deterministic, no <random> engine state to pin
    const auto next = [&state] {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        return state;
    };
    std::vector<std::uint32_t> order(hosts);
    for (std::uint32_t i = 0; i < hosts; ++i) order[i] = i;
    for (std::uint32_t i = hosts; i > 1; --i) std::swap(order[i - 1], order[next() % i]);
    std::deque<std::pair<std::int64_t, Bytes>> replies;  // (due, packet), due times ascending
    std::int64_t now = 0;                                 // the time of the last frame written, in us
    std::uint32_t open = 0, closed_ports = 0, silent = 0;
    const auto write_at = [&](std::int64_t when, const Bytes& packet, bool outgoing) {
        f.add(packet, outgoing, when - now);
        now = when;
    };
    const auto flush = [&](std::int64_t until) {
        for (; !replies.empty() && replies.front().first <= until; replies.pop_front())
            write_at(replies.front().first, replies.front().second, false);
    };
    std::int64_t sent_at = 0;
    for (const std::uint32_t i : order) {
        const Ipv4 host{(198u << 24) | (18u << 16) | i};
        const auto port = static_cast<std::uint16_t>(1 + next() % 65535);
        const Bytes syn = make_tcp_packet(kScanner, host, Port{61000}, Port{port}, static_cast<std::uint32_t>(next()), 0,
                                          TcpFlags{S}, 1024, 64);
        sent_at += 10;
        flush(sent_at);
        write_at(sent_at, syn, true);
        const auto kind = i % 10;
        if (kind == 0) ++open, replies.emplace_back(sent_at + 1000, syn_ack_to(syn));
        else if (kind <= 6) ++closed_ports, replies.emplace_back(sent_at + 1000, rst_to(syn));
        else ++silent;
    }
    flush(std::numeric_limits<std::int64_t>::max());
    f.write_pcap(path);
    std::printf("open %u closed %u filtered %u\n", open, closed_ports, silent);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::string_view{argv[1]} == "--masscan-sized") {
        const long hosts = std::strtol(argv[2], nullptr, 10);
        if (hosts < 1 || hosts > (1 << 17)) return std::fprintf(stderr, "make_fixtures: HOSTS is 1..131072\n"), 2;
        return masscan_sized(static_cast<std::uint32_t>(hosts), argv[3]);
    }
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_fixtures DIR (pcap-fixtures/)\n"
                             "       make_fixtures --masscan-sized HOSTS FILE (a capture for the memory test)\n");
        return 2;
    }
    const fs::path dir = argv[1];
    if (!fs::is_directory(dir)) {
        std::fprintf(stderr, "make_fixtures: %s is not a directory\n", argv[1]);
        return 1;
    }
    const std::vector<Fixture> fixtures{
        windows_like("built-windows-fin", Link::raw, F),
        windows_like("built-windows-null", Link::ethernet, 0),
        windows_like("built-windows-xmas", Link::null_loopback, F | P | U),
        icmp_unreachable(),
        duplicates(),
        reordered(),
        late_reply(),
        malformed(),
        icmp_short_quotes(),
        ip_options(),
        fragments(),
        bad_tcp_checksum(),
        two_scanners(),
        background_traffic(),
        syn_then_fin("built-syn-then-fin", ""),
        syn_then_fin("built-syn-then-fin-given", "-sF"),
        syn_and_udp("built-syn-udp", "-sS -sU"),
        syn_and_udp("built-syn-udp-split", ""),
        second_scanner(),
        kind_contradicts(),
        out_of_order_time(),
        explain_evidence(),
        cooked_vlan("built-sll-vlan", Link::sll_vlan),
        cooked_vlan("built-sll2-vlan", Link::sll2_vlan),
        nmap_fragments(),
        data_length_syn(),
        data_length_stealth("built-data-length-fin", F),
        data_length_stealth("built-data-length-null", 0),
        fixed_sport_late(),
        udp_fixed_sport_late(),
        udp_router_unreachable(),
        probe_seen_twice(),
    };
    for (const auto& fixture : fixtures) fixture.write(dir);
    damaged_files(dir);
    unreadable_scans(dir);
    ipv6_scan(dir);
    pcapng_two_link_types(dir);
    std::printf("make_fixtures: wrote %zu captures and the damaged files into %s\n", fixtures.size(), argv[1]);
    return 0;
}

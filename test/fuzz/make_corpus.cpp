// Writes the fuzzer's seed corpus (test/fuzz/corpus/): real reply frames on every link type,
// made with the simulator's packet builders, and a few command-line texts.
//
// Usage: make_corpus DIR. Each frame seed is one byte naming the link type (decode_fuzzer.cpp's
// order: 0 Ethernet, 1 raw IP, 2 Linux SLL, 3 Linux SLL2, 4 BSD loopback), then the frame.
// The replies answer probes from 10.77.0.1, source port 40000 + try, under CookieKey{1, 2}:
// the identity decode_fuzzer gives its Correlator, so these seeds reach the rule table.
// The ipv6-* seeds are IPv6 frames for decode_frame6 and decode_ipv6: extension header chains,
// ICMPv6 errors quoting TCP and UDP probes, Neighbor Discovery, a later fragment.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/tcp_flags.hpp"
#include "flagscan/probe/cookie.hpp"
#include "flagscan/wire/sim_network.hpp"
#include "../unit/ipv6_packets.hpp"

namespace {

using namespace flagscan;
using Bytes = std::vector<std::uint8_t>;

const Ipv4 kUs{10, 77, 0, 1};
const Ipv4 kTarget{10, 77, 1, 2};
const Ipv4 kRouter{10, 77, 0, 254};
constexpr std::uint16_t kBase = 40000;

std::uint32_t cookie(std::uint16_t dport, std::uint16_t sport) {
    return CookieKey{1, 2}(kUs, kTarget, Port{dport}, Port{sport});
}

Bytes reply(std::uint16_t port, std::uint16_t try_no, std::uint8_t flags, std::uint16_t window) {
    const auto sport = static_cast<std::uint16_t>(kBase + try_no);
    return make_tcp_packet(kTarget, kUs, Port{port}, Port{sport}, 0x1000 + port, cookie(port, sport) + 1,
                           TcpFlags{flags}, window, 64);
}

Bytes probe(std::uint16_t port) {
    return make_tcp_packet(kUs, kTarget, Port{kBase}, Port{port}, cookie(port, kBase), 0, TcpFlags{TcpFlags::syn},
                           1024, 64);
}

Bytes cat(std::initializer_list<std::uint8_t> head, const Bytes& tail) {
    Bytes out(head);
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
}

// Link headers: the IPv4 ethertype 0x0800 where each link type keeps it.
Bytes ethernet(const Bytes& ip) {
    return cat({0, 2, 0, 0, 0, 2, 0, 2, 0, 0, 0, 1, 0x08, 0x00}, ip);
}
Bytes ethernet_vlan(const Bytes& ip) {
    return cat({0, 2, 0, 0, 0, 2, 0, 2, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00}, ip);
}
Bytes linux_sll(const Bytes& ip) {
    return cat({0, 0, 0, 1, 0, 6, 0, 2, 0, 0, 0, 2, 0, 0, 0x08, 0x00}, ip);
}
Bytes linux_sll2(const Bytes& ip) {
    return cat({0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 2, 0, 0, 0, 2, 0, 0}, ip);
}
Bytes bsd_loopback(const Bytes& ip) { return cat({2, 0, 0, 0}, ip); }

// Link headers naming IPv6: EtherType 0x86dd, or the loopback family (30: macOS AF_INET6).
Bytes ethernet6(const Bytes& ip) { return cat({0, 2, 0, 0, 0, 2, 0, 2, 0, 0, 0, 1, 0x86, 0xdd}, ip); }
Bytes linux_sll6(const Bytes& ip) { return cat({0, 0, 0, 1, 0, 6, 0, 2, 0, 0, 0, 2, 0, 0, 0x86, 0xdd}, ip); }
Bytes linux_sll2_6(const Bytes& ip) { return cat({0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 2, 0, 0, 0, 2, 0, 0}, ip); }
Bytes bsd_loopback6(const Bytes& ip) { return cat({30, 0, 0, 0}, ip); }

namespace v6 {
using namespace test6;
const Ipv6 kUs = *Ipv6::parse("fd00:77::1");
const Ipv6 kTarget = *Ipv6::parse("fd00:77:1::2");
const Ipv6 kRouter = *Ipv6::parse("fd00:77::fe");
constexpr MacAddress kMac{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};

Bytes syn_ack(std::vector<Extension> chain) {
    return packet6(kTarget, kUs, std::move(chain), ipproto::tcp,
                   tcp6(kTarget, kUs, Port{22}, Port{kBase}, 0x1234, TcpFlags{TcpFlags::syn | TcpFlags::ack}));
}
Bytes unreachable(std::uint8_t code, const Bytes& quote) {
    return packet6(kRouter, kUs, {}, ipproto::icmpv6, icmp6(kRouter, kUs, 1, code, 0, quote));
}
Bytes udp_probe() {
    return packet6(kUs, kTarget, {destination_options(0)}, ipproto::udp,
                   udp6(kUs, kTarget, Port{kBase}, Port{53}, Bytes(12, 0)));
}
Bytes tcp_probe() {
    return packet6(kUs, kTarget, {}, ipproto::tcp, tcp6(kUs, kTarget, Port{kBase}, Port{443}, 1, TcpFlags{TcpFlags::syn}));
}
Bytes advertisement() {
    return packet6(kTarget, kUs, {}, ipproto::icmpv6,
                   icmp6(kTarget, kUs, 136, 0, 0x6000'0000u, neighbor_body(kTarget, &kMac, 2)), 255);
}
Bytes echo_reply() {
    return packet6(kTarget, kUs, {hop_by_hop(0)}, ipproto::icmpv6, icmp6(kTarget, kUs, 129, 0, 0x4242'0001u, Bytes(8, 0)));
}
}  // namespace v6

bool write(const std::string& dir, const std::string& name, std::uint8_t link, const Bytes& frame) {
    Bytes bytes = cat({link}, frame);
    std::FILE* f = std::fopen((dir + "/" + name).c_str(), "wb");
    if (f == nullptr) return false;
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    return std::fclose(f) == 0 && ok;
}

bool write_text(const std::string& dir, const std::string& name, std::string_view text) {
    std::FILE* f = std::fopen((dir + "/" + name).c_str(), "wb");
    if (f == nullptr) return false;
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    const Bytes quote = probe(113);
    const Bytes short_quote(quote.begin(), quote.begin() + 24);  // IP header + both ports only
    bool ok = write(dir, "synack-ethernet", 0, ethernet(reply(22, 0, TcpFlags::syn | TcpFlags::ack, 64240)));
    ok = write(dir, "rst-raw-try1", 1, reply(23, 1, TcpFlags::rst | TcpFlags::ack, 0)) && ok;
    ok = write(dir, "icmp-admin-sll", 2, linux_sll(make_icmp_error(kRouter, 3, 13, quote, 63))) && ok;
    ok = write(dir, "rst-stray-sll2", 3, linux_sll2(reply(80, 9, TcpFlags::rst, 0))) && ok;
    ok = write(dir, "icmp-short-quote-loopback", 4, bsd_loopback(make_icmp_error(kRouter, 3, 3, short_quote, 63))) &&
         ok;
    ok = write(dir, "synack-vlan", 0, ethernet_vlan(reply(443, 2, TcpFlags::syn | TcpFlags::ack, 29200))) && ok;
    ok = write(dir, "ipv6-synack-chain-ethernet", 0,
               ethernet6(v6::syn_ack({test6::hop_by_hop(1), test6::destination_options(0), test6::routing(0),
                                      test6::fragment(0, true, 5)}))) && ok;
    ok = write(dir, "ipv6-port-unreach-udp-raw", 1, v6::unreachable(4, v6::udp_probe())) && ok;
    ok = write(dir, "ipv6-admin-prohibited-tcp-sll", 2, linux_sll6(v6::unreachable(1, v6::tcp_probe()))) && ok;
    ok = write(dir, "ipv6-neighbor-advert-sll2", 3, linux_sll2_6(v6::advertisement())) && ok;
    ok = write(dir, "ipv6-echo-reply-loopback", 4, bsd_loopback6(v6::echo_reply())) && ok;
    ok = write(dir, "ipv6-later-fragment-ethernet", 0, ethernet6(v6::syn_ack({test6::fragment(3, false, 5)}))) && ok;
    ok = write_text(dir, "ipv6.txt", "fd00:77::1 2001:db8::/120 fd00::1-fd00::ff ::ffff:10.77.1.2") && ok;
    ok = write_text(dir, "ports.txt", "T:22,80,443,1000-2000,60000-") && ok;
    ok = write_text(dir, "targets.txt", "10.0.0-3.1-254 192.168.0.0/24\n10.1,2.-.* lab.example/30 10.77.1.2") && ok;
    ok = write_text(dir, "scanflags.txt", "SYNFIN") && ok;
    if (!ok) std::perror(("make_corpus: " + dir).c_str());
    return ok ? 0 : 1;
}

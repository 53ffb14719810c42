// Writes the fuzzer's seed corpus (test/fuzz/corpus/): real reply frames on every link type,
// made with the simulator's packet builders, and a few command-line texts.
//
// Usage: make_corpus DIR. Each frame seed is one byte naming the link type (decode_fuzzer.cpp's
// order: 0 Ethernet, 1 raw IP, 2 Linux SLL, 3 Linux SLL2, 4 BSD loopback), then the frame.
// The replies answer probes from 10.77.0.1, source port 40000 + try, under CookieKey{1, 2}:
// the identity decode_fuzzer gives its Correlator, so these seeds reach the rule table.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/tcp_flags.hpp"
#include "flagscan/probe/cookie.hpp"
#include "flagscan/wire/sim_network.hpp"

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
    ok = write_text(dir, "ports.txt", "T:22,80,443,1000-2000,60000-") && ok;
    ok = write_text(dir, "targets.txt", "10.0.0-3.1-254 192.168.0.0/24\n10.1,2.-.* lab.example/30 10.77.1.2") && ok;
    ok = write_text(dir, "scanflags.txt", "SYNFIN") && ok;
    if (!ok) std::perror(("make_corpus: " + dir).c_str());
    return ok ? 0 : 1;
}

// slow-responder: a TUN device that answers IPv4 probes like a Linux host, each address after its own delay.
//
// The lab's kernel has no netem, so its slow hosts live here: lab.sh routes a small block of
// addresses into this TUN device, and every answer a Linux stack with the layout's port rules
// would give is written back after the destination address's delay. One thread, one poll loop,
// a timer queue of finished replies: no thread per packet.
// IPv4 only: the lab's IPv6 side (lab.sh) has no slow hosts; an IPv6 twin would need its own
// header, ICMPv6 with its pseudo-header checksum and the RFC 4443 error rules, not a small change.
//
// usage: slow-responder TUN ADDR:MS... [--open-tcp P,P] [--rejected-tcp ..] [--dropped-tcp ..]
//                                     [--open-udp ..] [--rejected-udp ..] [--dropped-udp ..]
// Prints "ready" once the device exists (lab.sh then brings it up and routes to it).

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;
using View = std::span<const std::uint8_t>;

constexpr std::size_t kMaxPacket = 65536;
constexpr std::size_t kMaxQueued = 1 << 18;  // replies waiting; beyond that the "link" drops them
constexpr int kReadsPerWake = 256;           // then flush due replies, so writing never starves
constexpr std::uint8_t kTtl = 64;
constexpr std::uint16_t kWindow = 64240;
constexpr std::uint16_t kMss = 1460;
constexpr std::size_t kMaxQuote = 548;  // RFC 1812 4.3.2.3: an ICMP error stays within 576 bytes

// TCP flags (RFC 793 3.1).
constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

// ---- configuration -----------------------------------------------------------------------

struct PortRules {
    std::set<std::uint16_t> open, rejected, dropped;
};

struct Config {
    std::string tun;
    std::map<std::uint32_t, std::chrono::milliseconds> delays;  // host-order address -> delay
    PortRules tcp, udp;
};

std::optional<unsigned> parse_uint(std::string_view text, unsigned max) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value > max) return std::nullopt;
    return value;
}

// "22,80,443" (may be empty) -> ports 1..65535.
std::optional<std::set<std::uint16_t>> parse_ports(std::string_view text) {
    std::set<std::uint16_t> ports;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const auto port = parse_uint(text.substr(0, comma), 65535);
        if (!port || *port == 0) return std::nullopt;
        ports.insert(static_cast<std::uint16_t>(*port));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    }
    return ports;
}

// "10.77.21.64:500" -> (address, 500 ms); delays up to one minute.
bool parse_host(std::string_view text, Config& config) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return false;
    in_addr addr{};
    const std::string ip(text.substr(0, colon));
    const auto ms = parse_uint(text.substr(colon + 1), 60000);
    if (!ms || inet_pton(AF_INET, ip.c_str(), &addr) != 1) return false;
    return config.delays.emplace(ntohl(addr.s_addr), std::chrono::milliseconds(*ms)).second;
}

std::optional<Config> parse_args(int argc, char** argv) {
    if (argc < 3) return std::nullopt;
    Config config;
    config.tun = argv[1];
    if (config.tun.empty() || config.tun.size() >= IFNAMSIZ) return std::nullopt;
    const std::map<std::string_view, std::set<std::uint16_t>*> lists{
        {"--open-tcp", &config.tcp.open},         {"--rejected-tcp", &config.tcp.rejected},
        {"--dropped-tcp", &config.tcp.dropped},   {"--open-udp", &config.udp.open},
        {"--rejected-udp", &config.udp.rejected}, {"--dropped-udp", &config.udp.dropped}};
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (const auto list = lists.find(arg); list != lists.end()) {
            const auto ports = i + 1 < argc ? parse_ports(argv[++i]) : std::nullopt;
            if (!ports) return std::nullopt;
            *list->second = *ports;
        } else if (!parse_host(arg, config)) {
            return std::nullopt;
        }
    }
    if (config.delays.empty()) return std::nullopt;
    return config;
}

// ---- the TUN device ----------------------------------------------------------------------

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// Opens /dev/net/tun as NAME: raw IPv4 packets, no packet-information prefix. -1 after printing why.
int open_tun(const std::string& name) {
    const int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        std::fprintf(stderr, "slow-responder: /dev/net/tun: %s\n", std::strerror(errno));
        return -1;
    }
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::memcpy(ifr.ifr_name, name.c_str(), name.size());
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        std::fprintf(stderr, "slow-responder: TUNSETIFF %s: %s\n", name.c_str(), std::strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

// ---- bytes -------------------------------------------------------------------------------

std::uint16_t get16(View b, std::size_t at) { return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]); }

std::uint32_t get32(View b, std::size_t at) {
    return static_cast<std::uint32_t>(get16(b, at)) << 16 | get16(b, at + 2);
}

void put16(Bytes& b, std::size_t at, std::uint32_t v) {
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}

void put32(Bytes& b, std::size_t at, std::uint32_t v) {
    put16(b, at, v >> 16);
    put16(b, at + 2, v);
}

// RFC 1071 one's-complement sum of B added to SUM (not yet folded).
std::uint32_t sum16(View b, std::uint32_t sum = 0) {
    for (std::size_t i = 0; i + 1 < b.size(); i += 2) sum += get16(b, i);
    if (b.size() % 2) sum += static_cast<std::uint32_t>(b.back()) << 8;
    return sum;
}

std::uint16_t fold(std::uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

// RFC 793 3.1 / RFC 768: the pseudo header's sum for a PROTO segment of LEN bytes.
std::uint32_t pseudo_sum(std::uint32_t src, std::uint32_t dst, std::uint8_t proto, std::size_t len) {
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + static_cast<std::uint32_t>(len);
}

// ---- parsing (bounds-checked views) ------------------------------------------------------

struct Ipv4 {
    View packet;  // header and payload, trimmed to the total length
    View payload;
    std::uint32_t src, dst;
    std::uint8_t proto;
};

// RFC 791 3.1. Fragments are not reassembled: a Linux host would, but no probe here fragments.
std::optional<Ipv4> parse_ipv4(View b) {
    if (b.size() < 20 || b[0] >> 4 != 4) return std::nullopt;
    const std::size_t header = (b[0] & 0x0f) * 4u, total = get16(b, 2);
    const bool fragment = (get16(b, 6) & 0x3fff) != 0;  // MF or an offset
    if (header < 20 || total < header || total > b.size() || fragment) return std::nullopt;
    if (fold(sum16(b.first(header))) != 0) return std::nullopt;
    const View packet = b.first(total);
    return Ipv4{packet, packet.subspan(header), get32(b, 12), get32(b, 16), b[9]};
}

struct Tcp {
    std::uint16_t sport, dport;
    std::uint32_t seq, ack;
    std::uint8_t flags;
    std::size_t data_len;
};

std::optional<Tcp> parse_tcp(const Ipv4& ip) {
    const View s = ip.payload;
    if (s.size() < 20) return std::nullopt;
    const std::size_t header = (s[12] >> 4) * 4u;
    if (header < 20 || header > s.size()) return std::nullopt;
    if (fold(sum16(s, pseudo_sum(ip.src, ip.dst, IPPROTO_TCP, s.size()))) != 0) return std::nullopt;
    return Tcp{get16(s, 0), get16(s, 2), get32(s, 4), get32(s, 8), s[13], s.size() - header};
}

// ---- building replies --------------------------------------------------------------------

// An IPv4 packet from SRC to DST around PAYLOAD: DF set, TTL 64, header checksum filled in.
Bytes ipv4_packet(std::uint32_t src, std::uint32_t dst, std::uint8_t proto, const Bytes& payload) {
    Bytes p(20 + payload.size());
    p[0] = 0x45;
    put16(p, 2, static_cast<std::uint32_t>(20 + payload.size()));
    put16(p, 6, 0x4000);  // DF, as Linux sets on TCP and ICMP replies
    p[8] = kTtl;
    p[9] = proto;
    put32(p, 12, src);
    put32(p, 16, dst);
    put16(p, 10, fold(sum16(View(p).first(20))));
    std::copy(payload.begin(), payload.end(), p.begin() + 20);
    return p;
}

struct Segment {
    std::uint32_t seq, ack;
    std::uint8_t flags;
    std::uint16_t window;
    bool mss;  // an MSS option, as on a SYN+ACK
};

// A TCP segment answering TCP (ports swapped) from the probe's destination.
Bytes tcp_reply(const Ipv4& ip, const Tcp& tcp, const Segment& out) {
    Bytes s(out.mss ? 24 : 20);
    put16(s, 0, tcp.dport);
    put16(s, 2, tcp.sport);
    put32(s, 4, out.seq);
    put32(s, 8, out.ack);
    s[12] = static_cast<std::uint8_t>(s.size() / 4 << 4);
    s[13] = out.flags;
    put16(s, 14, out.window);
    if (out.mss) put32(s, 20, 0x02040000u | kMss);  // kind 2, length 4 (RFC 793 3.1)
    put16(s, 16, fold(sum16(s, pseudo_sum(ip.dst, ip.src, IPPROTO_TCP, s.size()))));
    return ipv4_packet(ip.dst, ip.src, IPPROTO_TCP, s);
}

// An ICMP message TYPE/CODE with the 4 bytes REST after the checksum and BODY, to the probe's source.
Bytes icmp_reply(const Ipv4& ip, std::uint8_t type, std::uint8_t code, std::uint32_t rest, View body) {
    Bytes m(8);
    m[0] = type;
    m[1] = code;
    put32(m, 4, rest);
    m.insert(m.end(), body.begin(), body.end());
    put16(m, 2, fold(sum16(m)));
    return ipv4_packet(ip.dst, ip.src, IPPROTO_ICMP, m);
}

// RFC 792 / RFC 1122 3.2.2.1: destination unreachable CODE quoting the probe's start.
Bytes unreachable(const Ipv4& ip, std::uint8_t code) {
    return icmp_reply(ip, 3, code, 0, ip.packet.first(std::min(ip.packet.size(), kMaxQuote)));
}

// ---- answering like a Linux host ---------------------------------------------------------

// The SYN+ACK's sequence number: a keyed hash of the connection (a SYN cookie), so the ACK that
// completes a kernel's handshake is told apart from an ACK probe without keeping state.
std::uint32_t cookie(const Ipv4& ip, const Tcp& tcp, std::uint64_t secret) {
    std::uint64_t x = secret ^ (std::uint64_t{ip.src} << 32 | ip.dst) ^
                      (std::uint64_t{tcp.sport} << 16 | tcp.dport) * 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;  // splitmix64's finalizer
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return static_cast<std::uint32_t>(x ^ (x >> 31));
}

// RFC 793 p. 65 (CLOSED): anything but a RST draws a RST; it takes its sequence number from the
// segment's ACK field, else it is RST+ACK with seq 0 acknowledging the segment (SYN, FIN count).
Bytes reset_for(const Ipv4& ip, const Tcp& tcp) {
    if (tcp.flags & kAck) return tcp_reply(ip, tcp, {tcp.ack, 0, kRst, 0, false});
    const auto len = static_cast<std::uint32_t>(tcp.data_len + !!(tcp.flags & kSyn) + !!(tcp.flags & kFin));
    return tcp_reply(ip, tcp, {0, tcp.seq + len, kRst | kAck, 0, false});
}

// RFC 793 p. 65-66 (LISTEN): RST ignored; an ACK draws a RST (but the ACK of our own SYN+ACK
// completes a handshake, and a FIN on that connection is reset, as a closing listener would);
// SYN draws SYN+ACK; anything else (FIN, NULL, XMAS) is dropped.
std::optional<Bytes> listen_answer(const Ipv4& ip, const Tcp& tcp, std::uint64_t secret) {
    const std::uint32_t isn = cookie(ip, tcp, secret);
    if (tcp.flags & kRst) return std::nullopt;
    if (tcp.flags & kAck) {
        const bool established = tcp.ack == isn + 1;
        if (established && !(tcp.flags & kFin)) return std::nullopt;
        return reset_for(ip, tcp);
    }
    if (tcp.flags & kSyn) return tcp_reply(ip, tcp, {isn, tcp.seq + 1, kSyn | kAck, kWindow, true});
    return std::nullopt;
}

std::optional<Bytes> answer_tcp(const Ipv4& ip, const PortRules& rules, std::uint64_t secret) {
    const auto tcp = parse_tcp(ip);
    if (!tcp || rules.dropped.contains(tcp->dport)) return std::nullopt;
    if (rules.rejected.contains(tcp->dport)) return unreachable(ip, 13);  // admin-prohibited
    if (rules.open.contains(tcp->dport)) return listen_answer(ip, *tcp, secret);
    if (tcp->flags & kRst) return std::nullopt;
    return reset_for(ip, *tcp);
}

// RFC 768 / RFC 1122 3.2.2.1: an open port echoes the datagram (1 byte for an empty one, as
// lab-listener does), a closed one draws port unreachable.
std::optional<Bytes> answer_udp(const Ipv4& ip, const PortRules& rules) {
    const View d = ip.payload;
    const std::size_t len = d.size() < 8 ? 0 : get16(d, 4);
    if (len < 8 || len > d.size()) return std::nullopt;
    const bool summed = get16(d, 6) != 0;  // RFC 768: zero means no checksum
    if (summed && fold(sum16(d.first(len), pseudo_sum(ip.src, ip.dst, IPPROTO_UDP, len))) != 0) return std::nullopt;
    const std::uint16_t port = get16(d, 2);
    if (rules.dropped.contains(port)) return std::nullopt;
    if (rules.rejected.contains(port)) return unreachable(ip, 13);
    if (!rules.open.contains(port)) return unreachable(ip, 3);
    const View data = d.subspan(8, len - 8);
    Bytes u(8);
    put16(u, 0, port);
    put16(u, 2, get16(d, 0));
    u.insert(u.end(), data.begin(), data.end());
    if (data.empty()) u.push_back(0);
    put16(u, 4, static_cast<std::uint32_t>(u.size()));
    const std::uint16_t sum = fold(sum16(u, pseudo_sum(ip.dst, ip.src, IPPROTO_UDP, u.size())));
    put16(u, 6, sum == 0 ? 0xffff : sum);
    return ipv4_packet(ip.dst, ip.src, IPPROTO_UDP, u);
}

// Milliseconds since midnight UT (RFC 792, timestamp message).
std::uint32_t ms_since_midnight() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<std::uint32_t>(now.tv_sec % 86400 * 1000 + now.tv_nsec / 1000000);
}

// RFC 792: echo -> echo reply with the same id, sequence and data; timestamp -> timestamp reply
// with the originate time copied and our receive and transmit times.
std::optional<Bytes> answer_icmp(const Ipv4& ip) {
    const View m = ip.payload;
    if (m.size() < 8 || fold(sum16(m)) != 0) return std::nullopt;
    const std::uint32_t rest = get32(m, 4);
    if (m[0] == 8 && m[1] == 0) return icmp_reply(ip, 0, 0, rest, m.subspan(8));
    if (m[0] != 13 || m[1] != 0 || m.size() < 20) return std::nullopt;
    Bytes times(12);
    const std::uint32_t now = ms_since_midnight();
    put32(times, 0, get32(m, 8));
    put32(times, 4, now);
    put32(times, 8, now);
    return icmp_reply(ip, 14, 0, rest, times);
}

std::optional<Bytes> answer(const Ipv4& ip, const Config& config, std::uint64_t secret) {
    switch (ip.proto) {
    case IPPROTO_TCP: return answer_tcp(ip, config.tcp, secret);
    case IPPROTO_UDP: return answer_udp(ip, config.udp);
    case IPPROTO_ICMP: return answer_icmp(ip);
    default: return std::nullopt;  // a Linux host would send protocol unreachable; no scan needs it
    }
}

// ---- the loop ----------------------------------------------------------------------------

// Replies waiting for their due time; equal times keep their arrival order.
using TimerQueue = std::multimap<Clock::time_point, Bytes>;

// Reads every waiting packet (up to a bound) and queues the answers to those for a slow host.
void read_packets(int fd, const Config& config, std::uint64_t secret, Bytes& buffer, TimerQueue& queue) {
    for (int n = 0; n < kReadsPerWake; ++n) {
        const ssize_t got = read(fd, buffer.data(), buffer.size());
        if (got <= 0) return;  // EAGAIN: nothing more now
        const auto ip = parse_ipv4(View(buffer.data(), static_cast<std::size_t>(got)));
        const auto host = ip ? config.delays.find(ip->dst) : config.delays.end();
        if (host == config.delays.end()) continue;
        auto reply = answer(*ip, config, secret);
        if (reply && queue.size() < kMaxQueued) queue.emplace(Clock::now() + host->second, std::move(*reply));
    }
}

// Writes every reply whose time has come; returns poll's timeout until the next one (-1: none).
int write_due(int fd, TimerQueue& queue) {
    const auto now = Clock::now();
    while (!queue.empty() && queue.begin()->first <= now) {
        const Bytes& packet = queue.begin()->second;
        (void)write(fd, packet.data(), packet.size());  // a failed write loses one reply, as a link would
        queue.erase(queue.begin());
    }
    if (queue.empty()) return -1;
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(queue.begin()->first - now);
    return static_cast<int>(wait.count());
}

int serve(int fd, const Config& config) {
    const std::uint64_t secret = std::uint64_t{std::random_device{}()} << 32 | std::random_device{}();
    TimerQueue queue;
    Bytes buffer(kMaxPacket);
    std::printf("ready\n");  // lab.sh waits for this line, then brings the device up and routes to it
    std::fflush(stdout);
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        const int ready = poll(&p, 1, write_due(fd, queue));
        if (ready < 0 && errno != EINTR) {
            std::fprintf(stderr, "slow-responder: poll: %s\n", std::strerror(errno));
            return 1;
        }
        if (ready > 0) read_packets(fd, config, secret, buffer, queue);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const auto config = parse_args(argc, argv);
    if (!config) {
        std::fprintf(stderr,
                     "usage: slow-responder TUN ADDR:MS... [--open-tcp P,P] [--rejected-tcp P,P] "
                     "[--dropped-tcp P,P] [--open-udp P,P] [--rejected-udp P,P] [--dropped-udp P,P]\n");
        return 2;
    }
    const Fd tun(open_tun(config->tun));
    if (tun.get() < 0) return 1;
    return serve(tun.get(), *config);
}

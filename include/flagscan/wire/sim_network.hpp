// SimNetwork: a simulated wire and target hosts that answer like a Linux (or Windows) TCP/UDP/ICMP stack.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

struct SimHost {
    std::set<std::uint16_t> open;
    std::set<std::uint16_t> rejected;  // ICMP 3/13 (admin prohibited), like nftables' reject
    std::set<std::uint16_t> dropped;   // silently dropped, like an nftables drop rule
    bool drop_all = false;             // a host behind a firewall that drops everything
    bool windows_like = false;         // answers RST to FIN/NULL/XMAS on open ports too
    std::uint8_t ttl = 64;
    Micros latency = -1;               // one-way delay to this host; -1: the network's (SimConfig::latency)
    double reply_loss = 0.0;           // chance that a reply of this host is lost, beside the network's loss
    std::set<std::uint16_t> open_udp;      // a service that answers every datagram (echoes its payload)
    std::set<std::uint16_t> rejected_udp;  // ICMP 3/13, like nftables' reject with icmp admin-prohibited
    std::set<std::uint16_t> dropped_udp;   // silently dropped; any other UDP port is closed (ICMP 3/3)
    // ICMP error rate limit per destination, like Linux's icmp_ratelimit: one token every
    // 1/icmp_errors_per_s seconds, at most icmp_burst saved. 0: unlimited. Linux's default is 1/s, 6.
    double icmp_errors_per_s = 0;
    int icmp_burst = 6;
    bool icmp_spent_at_start = false;  // the bucket starts empty: someone spent it just before
    // The host-wide ICMP budget, like Linux's icmp_global_allow (net.ipv4.icmp_msgs_per_sec,
    // icmp_msgs_burst), shared by every destination. 0: none. Linux's default is 1000/s, 50.
    double icmp_global_per_s = 0;
    int icmp_global_burst = 50;
    bool answers_ping = true;       // ICMP echo -> echo reply (net.ipv4.icmp_echo_ignore_all=0)
    bool answers_timestamp = true;  // ICMP timestamp -> timestamp reply
};

struct SimConfig {
    Micros latency = 200;         // one-way delay, each direction, to hosts that set none of their own
    double loss = 0.0;            // chance that a reply is lost (the target's egress drops it)
    double capacity_pps = 0.0;    // probes beyond this rate are dropped (a queue overflows); 0: none
    std::uint64_t seed = 1;
    std::map<Ipv4, SimHost> hosts;  // addresses not listed do not exist (no answer)
};

struct SimCounters {
    std::uint64_t probes = 0;
    std::uint64_t overflowed = 0;
    std::uint64_t lost = 0;
    std::uint64_t replies = 0;
    std::uint64_t icmp_limited = 0;  // ICMP errors a host did not send: its rate limit had no token
};

// Both ends of the wire for a test: what the engine sends arrives here, and the replies the
// simulated hosts make come back through wait(), which moves the FakeClock forward.
class SimNetwork final : public FrameSink, public FrameSource {
public:
    SimNetwork(SimConfig config, FakeClock& clock);

    std::size_t send(std::span<const std::span<const std::uint8_t>> packets) override;
    LinkType link() const override { return LinkType::raw_ip; }
    void wait(Micros deadline, std::vector<Frame>& out) override;

    const SimCounters& counters() const { return counters_; }

private:
    struct Pending {
        Micros due;
        std::vector<std::uint8_t> bytes;
    };
    // Linux's inet_peer rate-limit state for one (simulated host, destination) pair.
    struct IcmpBucket {
        Micros credit = 0;  // time saved up, at most burst intervals
        Micros last = 0;    // when credit was last brought up to date
    };
    void answer(const DecodedPacket& probe, std::span<const std::uint8_t> raw);
    void answer_tcp(const SimHost& host, const DecodedPacket& probe, std::span<const std::uint8_t> raw);
    void answer_udp(const SimHost& host, const DecodedPacket& probe, std::span<const std::uint8_t> raw);
    void answer_icmp(const SimHost& host, const DecodedPacket& probe, std::span<const std::uint8_t> raw);
    void unreachable(const SimHost& host, const DecodedPacket& probe, std::uint8_t code,
                     std::span<const std::uint8_t> raw);
    bool icmp_error_allowed(const SimHost& host, Ipv4 from, Ipv4 to);
    bool peer_allows(const SimHost& host, Ipv4 from, Ipv4 to);
    bool global_allows(const SimHost& host, Ipv4 from);
    bool overflows();
    void schedule(const SimHost& host, std::vector<std::uint8_t> bytes);  // after the host's round trip
    Micros one_way(const SimHost& host) const;

    SimConfig config_;
    FakeClock* clock_;
    std::mt19937_64 random_;
    std::multimap<Micros, std::vector<std::uint8_t>> pending_;
    SimCounters counters_;
    double capacity_tokens_ = 0;
    Micros capacity_refill_ = -1;
    std::map<std::pair<Ipv4, Ipv4>, IcmpBucket> icmp_buckets_;  // (host, destination)
    // Linux's icmp_global state of one simulated host: credit (may go below zero) and stamp.
    struct GlobalBudget {
        int credit = 0;
        Micros stamp = 0;  // the last refill
    };
    std::map<Ipv4, GlobalBudget> icmp_global_;
};

// Reply packets as a Linux stack builds them, for the simulator and for tests' real bytes.
std::vector<std::uint8_t> make_tcp_packet(Ipv4 src, Ipv4 dst, Port sport, Port dport, std::uint32_t seq,
                                          std::uint32_t ack, TcpFlags flags, std::uint16_t window, std::uint8_t ttl);
// UDP datagram with a correct UDP checksum (RFC 768: a computed 0 is sent as 0xffff). The
// payload must leave the packet under 64 KiB.
std::vector<std::uint8_t> make_udp_packet(Ipv4 src, Ipv4 dst, Port sport, Port dport,
                                          std::span<const std::uint8_t> payload, std::uint8_t ttl);
// ICMP query or its reply (RFC 792: echo 8/0, timestamp 13/14; code 0): type, id, seq, then `data`
// (the echo data, or the timestamp message's 12 bytes of originate/receive/transmit).
std::vector<std::uint8_t> make_icmp_query(Ipv4 src, Ipv4 dst, std::uint8_t type, std::uint16_t id, std::uint16_t seq,
                                          std::span<const std::uint8_t> data, std::uint8_t ttl);
// ICMP error (type/code) from `from`, quoting the first bytes of `offending` (RFC 1812 4.3.2.3: as
// much as fits in 576 bytes).
std::vector<std::uint8_t> make_icmp_error(Ipv4 from, std::uint8_t type, std::uint8_t code,
                                          std::span<const std::uint8_t> offending, std::uint8_t ttl);

}  // namespace flagscan

// SimNetwork: a simulated wire and target hosts that answer like a Linux (or Windows) TCP stack.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <set>
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
};

struct SimConfig {
    Micros latency = 200;         // one-way delay, each direction
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
    void answer(const DecodedPacket& probe, std::span<const std::uint8_t> raw);
    bool overflows();
    void schedule(std::vector<std::uint8_t> bytes);

    SimConfig config_;
    FakeClock* clock_;
    std::mt19937_64 random_;
    std::multimap<Micros, std::vector<std::uint8_t>> pending_;
    SimCounters counters_;
    double capacity_tokens_ = 0;
    Micros capacity_refill_ = -1;
};

// Reply packets as a Linux stack builds them, for the simulator and for tests' real bytes.
std::vector<std::uint8_t> make_tcp_packet(Ipv4 src, Ipv4 dst, Port sport, Port dport, std::uint32_t seq,
                                          std::uint32_t ack, TcpFlags flags, std::uint16_t window, std::uint8_t ttl);
// ICMP error (type/code) from `from`, quoting the first bytes of `offending` (RFC 1812 4.3.2.3: as
// much as fits in 576 bytes).
std::vector<std::uint8_t> make_icmp_error(Ipv4 from, std::uint8_t type, std::uint8_t code,
                                          std::span<const std::uint8_t> offending, std::uint8_t ttl);

}  // namespace flagscan

// The simulated network: RFC 793 answers from Linux-like and Windows-like hosts, with loss and delay.
#include "flagscan/wire/sim_network.hpp"

#include <algorithm>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"

namespace flagscan {
namespace {

std::vector<std::uint8_t> ipv4_packet(Ipv4 src, Ipv4 dst, std::uint8_t protocol, std::uint8_t ttl,
                                      std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> out(20 + payload.size());
    std::span<std::uint8_t> ip{out};
    out[0] = 0x45;
    put_be16(ip, 2, static_cast<std::uint16_t>(out.size()));
    put_be16(ip, 6, 0x4000);  // DF
    out[8] = ttl;
    out[9] = protocol;
    put_be32(ip, 12, src.value());
    put_be32(ip, 16, dst.value());
    put_be16(ip, 10, ipv4_header_checksum(ip.first(20)));
    std::copy(payload.begin(), payload.end(), out.begin() + 20);
    return out;
}

}  // namespace

std::vector<std::uint8_t> make_tcp_packet(Ipv4 src, Ipv4 dst, Port sport, Port dport, std::uint32_t seq,
                                          std::uint32_t ack, TcpFlags flags, std::uint16_t window, std::uint8_t ttl) {
    std::vector<std::uint8_t> tcp(20);
    std::span<std::uint8_t> t{tcp};
    put_be16(t, 0, sport.value());
    put_be16(t, 2, dport.value());
    put_be32(t, 4, seq);
    put_be32(t, 8, ack);
    tcp[12] = 5 << 4;
    tcp[13] = flags.bits();
    put_be16(t, 14, window);
    put_be16(t, 16, transport_checksum(src, dst, ipproto::tcp, t));
    return ipv4_packet(src, dst, ipproto::tcp, ttl, tcp);
}

std::vector<std::uint8_t> make_icmp_error(Ipv4 from, std::uint8_t type, std::uint8_t code,
                                          std::span<const std::uint8_t> offending, std::uint8_t ttl) {
    auto quoted = offending.first(std::min<std::size_t>(offending.size(), 576 - 28));
    std::vector<std::uint8_t> icmp(8 + quoted.size());
    icmp[0] = type;
    icmp[1] = code;
    std::copy(quoted.begin(), quoted.end(), icmp.begin() + 8);
    put_be16(std::span<std::uint8_t>{icmp}, 2, checksum_finish(checksum_add(icmp)));
    const Ipv4 to{*ByteView{offending}.be32(12)};
    return ipv4_packet(from, to, ipproto::icmp, ttl, icmp);
}

SimNetwork::SimNetwork(SimConfig config, FakeClock& clock)
    : config_(std::move(config)), clock_(&clock), random_(config_.seed) {}

bool SimNetwork::overflows() {
    if (config_.capacity_pps <= 0) return false;
    const Micros now = clock_->now();
    const double burst = std::max(1.0, config_.capacity_pps / 100.0);  // a 10 ms queue
    if (capacity_refill_ < 0) {
        capacity_tokens_ = burst;
        capacity_refill_ = now;
    }
    capacity_tokens_ = std::min(burst, capacity_tokens_ + double(now - capacity_refill_) * config_.capacity_pps / kSecond);
    capacity_refill_ = now;
    if (capacity_tokens_ < 1.0) return true;
    capacity_tokens_ -= 1.0;
    return false;
}

std::size_t SimNetwork::send(std::span<const std::span<const std::uint8_t>> packets) {
    for (auto raw : packets) {
        ++counters_.probes;
        if (overflows()) {
            ++counters_.overflowed;
            continue;
        }
        if (auto probe = decode_ipv4(ByteView{raw})) answer(*probe, raw);
    }
    return packets.size();
}

// What a Linux stack does with a TCP segment to a port (RFC 793 p.65-66, "SEGMENT ARRIVES"):
// CLOSED: RST for anything but RST; LISTEN: SYN -> SYN,ACK, ACK -> RST, RST -> nothing, anything
// else (FIN, NULL, XMAS) -> dropped. Windows-like hosts answer RST in LISTEN too.
void SimNetwork::answer(const DecodedPacket& probe, std::span<const std::uint8_t> raw) {
    auto host_it = config_.hosts.find(probe.ip.dst);
    if (host_it == config_.hosts.end() || !probe.tcp) return;
    const SimHost& host = host_it->second;
    const auto& tcp = *probe.tcp;
    const std::uint16_t port = tcp.dport.value();
    if (host.drop_all || host.dropped.contains(port)) return;
    if (host.rejected.contains(port)) {
        schedule(make_icmp_error(probe.ip.dst, icmp_type::unreachable, 13, raw, host.ttl));
        return;
    }
    const TcpFlags f = tcp.flags;
    if (f.any(TcpFlags::rst)) return;
    const bool open = host.open.contains(port);
    auto reply = [&](std::uint32_t seq, std::uint32_t ack, TcpFlags flags, std::uint16_t window) {
        schedule(make_tcp_packet(probe.ip.dst, probe.ip.src, tcp.dport, tcp.sport, seq, ack, flags, window, host.ttl));
    };
    if (f.any(TcpFlags::ack)) {
        reply(tcp.ack, 0, TcpFlags{TcpFlags::rst}, 0);
        return;
    }
    const std::uint32_t used = (f.any(TcpFlags::syn) ? 1u : 0u) + (f.any(TcpFlags::fin) ? 1u : 0u);
    if (open && f.any(TcpFlags::syn)) {
        reply(0x5eed0000u ^ port, tcp.seq + 1, TcpFlags{TcpFlags::syn | TcpFlags::ack}, 64240);
    } else if (!open || host.windows_like) {
        reply(0, tcp.seq + used, TcpFlags{TcpFlags::rst | TcpFlags::ack}, 0);
    }
}

void SimNetwork::schedule(std::vector<std::uint8_t> bytes) {
    if (config_.loss > 0 && std::uniform_real_distribution<double>{0.0, 1.0}(random_) < config_.loss) {
        ++counters_.lost;
        return;
    }
    ++counters_.replies;
    pending_.emplace(clock_->now() + 2 * config_.latency, std::move(bytes));
}

void SimNetwork::wait(Micros deadline, std::vector<Frame>& out) {
    const Micros next = pending_.empty() ? deadline : std::min(deadline, pending_.begin()->first);
    if (next > clock_->now()) clock_->set(next);
    const Micros now = clock_->now();
    while (!pending_.empty() && pending_.begin()->first <= now) {
        out.emplace_back().assign(pending_.begin()->second, pending_.begin()->first);
        pending_.erase(pending_.begin());
    }
}

}  // namespace flagscan

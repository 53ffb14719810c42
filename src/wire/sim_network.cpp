// The simulated network: RFC 793/768/792 answers from Linux-like and Windows-like hosts, with loss and delay.
#include "flagscan/wire/sim_network.hpp"

#include <algorithm>
#include <array>
#include <cmath>

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

// The probe's bytes from `skip` past its IP header up to `limit` past it (a UDP length field, say),
// cut to the IP total length and to what was captured.
std::span<const std::uint8_t> transport_data(const DecodedPacket& probe, std::span<const std::uint8_t> raw,
                                             std::size_t skip, std::size_t limit) {
    const std::size_t start = std::size_t{probe.ip.header_length} + skip;
    const std::size_t end = std::min({raw.size(), std::size_t{probe.ip.total_length}, probe.ip.header_length + limit});
    if (start >= end) return {};
    return raw.subspan(start, end - start);
}

// RFC 792 timestamps: milliseconds since midnight UT; the fake clock's epoch stands for midnight.
std::uint32_t ms_since_midnight(Micros t) {
    constexpr Micros kDay = 86'400 * kSecond;
    return static_cast<std::uint32_t>(((t % kDay + kDay) % kDay) / kMillisecond);
}

// What an open UDP service sends back: the datagram's payload (an echo service), or a few bytes
// when it was empty, so that the reply is visibly data.
std::vector<std::uint8_t> udp_answer(std::span<const std::uint8_t> payload) {
    if (!payload.empty()) return {payload.begin(), payload.end()};
    return {'s', 'i', 'm', '\n'};
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

std::vector<std::uint8_t> make_udp_packet(Ipv4 src, Ipv4 dst, Port sport, Port dport,
                                          std::span<const std::uint8_t> payload, std::uint8_t ttl) {
    std::vector<std::uint8_t> udp(8 + payload.size());
    std::span<std::uint8_t> u{udp};
    put_be16(u, 0, sport.value());
    put_be16(u, 2, dport.value());
    put_be16(u, 4, static_cast<std::uint16_t>(udp.size()));
    std::copy(payload.begin(), payload.end(), udp.begin() + 8);
    const std::uint16_t sum = transport_checksum(src, dst, ipproto::udp, u);
    put_be16(u, 6, sum == 0 ? 0xffff : sum);  // RFC 768: 0 means "no checksum"
    return ipv4_packet(src, dst, ipproto::udp, ttl, udp);
}

std::vector<std::uint8_t> make_icmp_query(Ipv4 src, Ipv4 dst, std::uint8_t type, std::uint16_t id, std::uint16_t seq,
                                          std::span<const std::uint8_t> data, std::uint8_t ttl) {
    std::vector<std::uint8_t> icmp(8 + data.size());
    std::span<std::uint8_t> m{icmp};
    icmp[0] = type;
    put_be16(m, 4, id);
    put_be16(m, 6, seq);
    std::copy(data.begin(), data.end(), icmp.begin() + 8);
    put_be16(m, 2, checksum_finish(checksum_add(icmp)));
    return ipv4_packet(src, dst, ipproto::icmp, ttl, icmp);
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

// Hosts that do not exist, and hosts behind a drop-everything firewall, answer nothing.
void SimNetwork::answer(const DecodedPacket& probe, std::span<const std::uint8_t> raw) {
    auto host_it = config_.hosts.find(probe.ip.dst);
    if (host_it == config_.hosts.end() || host_it->second.drop_all) return;
    const SimHost& host = host_it->second;
    if (probe.tcp) {
        answer_tcp(host, probe, raw);
    } else if (probe.udp) {
        answer_udp(host, probe, raw);
    } else if (probe.icmp) {
        answer_icmp(host, probe, raw);
    }
}

// What a Linux stack does with a TCP segment to a port (RFC 793 p.65-66, "SEGMENT ARRIVES"):
// CLOSED: RST for anything but RST; LISTEN: SYN -> SYN,ACK, ACK -> RST, RST -> nothing, anything
// else (FIN, NULL, XMAS) -> dropped. Windows-like hosts answer RST in LISTEN too.
void SimNetwork::answer_tcp(const SimHost& host, const DecodedPacket& probe, std::span<const std::uint8_t> raw) {
    const auto& tcp = *probe.tcp;
    const std::uint16_t port = tcp.dport.value();
    if (host.dropped.contains(port)) return;
    if (host.rejected.contains(port)) {
        unreachable(host, probe, 13, raw);
        return;
    }
    const TcpFlags f = tcp.flags;
    if (f.any(TcpFlags::rst)) return;
    const bool open = host.open.contains(port);
    auto reply = [&](std::uint32_t seq, std::uint32_t ack, TcpFlags flags, std::uint16_t window) {
        schedule(host, make_tcp_packet(probe.ip.dst, probe.ip.src, tcp.dport, tcp.sport, seq, ack, flags, window, host.ttl));
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

// A UDP datagram (RFC 768): a listening service answers from its port to the sender's; with no
// socket bound, RFC 1122 3.2.2.1 says the host SHOULD send ICMP port unreachable (3/3), which Linux does.
void SimNetwork::answer_udp(const SimHost& host, const DecodedPacket& probe, std::span<const std::uint8_t> raw) {
    const auto& udp = *probe.udp;
    const std::uint16_t port = udp.dport.value();
    if (host.dropped_udp.contains(port)) return;
    if (host.rejected_udp.contains(port)) {
        unreachable(host, probe, 13, raw);
    } else if (host.open_udp.contains(port)) {
        const auto answer = udp_answer(transport_data(probe, raw, 8, udp.length));
        schedule(host, make_udp_packet(probe.ip.dst, probe.ip.src, udp.dport, udp.sport, answer, host.ttl));
    } else {
        unreachable(host, probe, 3, raw);
    }
}

// ICMP queries (RFC 792), as Linux's icmp_echo and icmp_timestamp answer them: echo -> echo reply
// with the same id, seq and data; timestamp (at least 4 bytes: the originate time) -> timestamp
// reply with originate copied and receive = transmit = when the probe arrives. Other types get no answer.
void SimNetwork::answer_icmp(const SimHost& host, const DecodedPacket& probe, std::span<const std::uint8_t> raw) {
    const auto& icmp = *probe.icmp;
    const auto data = transport_data(probe, raw, 8, probe.ip.total_length);
    if (icmp.type == icmp_type::echo && host.answers_ping) {
        schedule(host, make_icmp_query(probe.ip.dst, probe.ip.src, icmp_type::echo_reply, icmp.id, icmp.seq, data, host.ttl));
    } else if (icmp.type == icmp_type::timestamp && host.answers_timestamp && data.size() >= 4) {
        std::array<std::uint8_t, 12> times{};
        std::copy_n(data.begin(), 4, times.begin());
        const std::uint32_t arrived = ms_since_midnight(clock_->now() + one_way(host));
        put_be32(times, 4, arrived);
        put_be32(times, 8, arrived);
        schedule(host,
            make_icmp_query(probe.ip.dst, probe.ip.src, icmp_type::timestamp_reply, icmp.id, icmp.seq, times, host.ttl));
    }
}

// ICMP destination unreachable (RFC 792) quoting the probe, if the host's rate limit allows it.
void SimNetwork::unreachable(const SimHost& host, const DecodedPacket& probe, std::uint8_t code,
                             std::span<const std::uint8_t> raw) {
    if (!icmp_error_allowed(host, probe.ip.dst, probe.ip.src)) {
        ++counters_.icmp_limited;
        return;
    }
    schedule(host, make_icmp_error(probe.ip.dst, icmp_type::unreachable, code, raw, host.ttl));
}

// Why: Linux (since 6.12, "icmp: change the order of rate limits") asks the host-wide budget
// first (icmp_global_allow, without spending it), then the destination's (inet_peer_xrlim_allow),
// and only an error both allow spends the global budget (icmp_global_consume).
bool SimNetwork::icmp_error_allowed(const SimHost& host, Ipv4 from, Ipv4 to) {
    if (!global_allows(host, from) || !peer_allows(host, from, to)) return false;
    if (host.icmp_global_per_s > 0) icmp_global_[from].credit -= static_cast<int>(random_() % 3);
    return true;
}

// Why: Linux limits the ICMP errors it sends to each destination (RFC 1812 4.3.2.8 allows it) with
// inet_peer_xrlim_allow: the peer saves up elapsed time, at most XRLIM_BURST_FACTOR (6) intervals
// of icmp_ratelimit (1000 ms), and each error spends one interval; with less saved the error is not
// sent. A new peer starts with a full bucket (or an empty one: icmp_spent_at_start). This is what makes UDP scans of Linux hosts slow.
bool SimNetwork::peer_allows(const SimHost& host, Ipv4 from, Ipv4 to) {
    if (host.icmp_errors_per_s <= 0) return true;
    const Micros interval = std::max<Micros>(1, std::llround(double(kSecond) / host.icmp_errors_per_s));
    const Micros cap = interval * std::max(0, host.icmp_burst);
    const Micros now = clock_->now();
    const Micros start = host.icmp_spent_at_start ? 0 : cap;
    auto [it, fresh] = icmp_buckets_.try_emplace({from, to}, IcmpBucket{start, now});
    IcmpBucket& bucket = it->second;
    if (!fresh) bucket.credit = std::min(cap, bucket.credit + (now - bucket.last));
    bucket.last = now;
    if (bucket.credit < interval) return false;
    bucket.credit -= interval;
    return true;
}

// Why: Linux's icmp_global_allow (icmp_msgs_per_sec, icmp_msgs_burst) lets an error out while
// credit is left; at none it refills, but no sooner than 20 ms (HZ/50) after the last refill,
// with the time since then (at most a second) times the rate, up to the burst. Each error sent
// spends 0, 1 or 2 credits at random (icmp_global_consume: one on average, unguessable), so
// credit can go below zero. The first error finds a full budget.
bool SimNetwork::global_allows(const SimHost& host, Ipv4 from) {
    if (host.icmp_global_per_s <= 0) return true;
    const Micros now = clock_->now();
    GlobalBudget& budget = icmp_global_.try_emplace(from, GlobalBudget{host.icmp_global_burst, now}).first->second;
    if (budget.credit > 0) return true;
    const Micros delta = std::min(now - budget.stamp, kSecond);
    if (delta < 20 * kMillisecond) return false;
    const auto incr = static_cast<int>(host.icmp_global_per_s * double(delta) / double(kSecond));
    if (incr == 0) return false;
    budget.stamp = now;
    budget.credit = std::min(budget.credit + incr, host.icmp_global_burst);
    return true;
}

Micros SimNetwork::one_way(const SimHost& host) const { return host.latency >= 0 ? host.latency : config_.latency; }

void SimNetwork::schedule(const SimHost& host, std::vector<std::uint8_t> bytes) {
    const double loss = 1.0 - (1.0 - config_.loss) * (1.0 - host.reply_loss);
    if (loss > 0 && std::uniform_real_distribution<double>{0.0, 1.0}(random_) < loss) {
        ++counters_.lost;
        return;
    }
    ++counters_.replies;
    pending_.emplace(clock_->now() + 2 * one_way(host), std::move(bytes));
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

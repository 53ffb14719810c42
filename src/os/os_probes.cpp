// OsProbes: the table of nmap's OS detection probes (nmap.org/book/osdetect-methods.html) and their recognition.
#include "flagscan/os/os_probes.hpp"

#include <algorithm>

namespace flagscan {
namespace {

// TCP options of each probe, byte for byte as nmap sends them (osscan-methods, "TCP/IP
// fingerprinting methods"). W = window scale (kind 3), M = MSS (2), T = timestamp (8, TSval
// 0xFFFFFFFF, TSecr 0), S = SACK permitted (4), N = NOP (1), L = end of list (0).
// SEQ1: W10 N M1460 T S
constexpr std::array<std::uint8_t, 20> kSeq1Options{0x03, 0x03, 0x0a, 0x01, 0x02, 0x04, 0x05, 0xb4, 0x08, 0x0a,
                                                    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02};
// SEQ2: M1400 W0 S T L
constexpr std::array<std::uint8_t, 20> kSeq2Options{0x02, 0x04, 0x05, 0x78, 0x03, 0x03, 0x00, 0x04, 0x02, 0x08,
                                                    0x0a, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00};
// SEQ3: T N N W5 N M640
constexpr std::array<std::uint8_t, 20> kSeq3Options{0x08, 0x0a, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
                                                    0x01, 0x01, 0x03, 0x03, 0x05, 0x01, 0x02, 0x04, 0x02, 0x80};
// SEQ4: S T W10 L
constexpr std::array<std::uint8_t, 16> kSeq4Options{0x04, 0x02, 0x08, 0x0a, 0xff, 0xff, 0xff, 0xff,
                                                    0x00, 0x00, 0x00, 0x00, 0x03, 0x03, 0x0a, 0x00};
// SEQ5: M536 S T W10 L
constexpr std::array<std::uint8_t, 20> kSeq5Options{0x02, 0x04, 0x02, 0x18, 0x04, 0x02, 0x08, 0x0a, 0xff, 0xff,
                                                    0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x03, 0x03, 0x0a, 0x00};
// SEQ6: M265 S T
constexpr std::array<std::uint8_t, 16> kSeq6Options{0x02, 0x04, 0x01, 0x09, 0x04, 0x02, 0x08, 0x0a,
                                                    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00};
// ECN: W10 N M1460 S N N
constexpr std::array<std::uint8_t, 12> kEcnOptions{0x03, 0x03, 0x0a, 0x01, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x01, 0x01};
// T2-T6: W10 N M265 T S
constexpr std::array<std::uint8_t, 20> kTOptions{0x03, 0x03, 0x0a, 0x01, 0x02, 0x04, 0x01, 0x09, 0x08, 0x0a,
                                                 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02};
// T7: W15 N M265 T S
constexpr std::array<std::uint8_t, 20> kT7Options{0x03, 0x03, 0x0f, 0x01, 0x02, 0x04, 0x01, 0x09, 0x08, 0x0a,
                                                  0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02};

constexpr Micros kMs = 1000;
constexpr std::uint8_t kSyn = TcpFlags::syn, kFin = TcpFlags::fin, kAck = TcpFlags::ack, kUrg = TcpFlags::urg,
                       kPsh = TcpFlags::psh, kEce = TcpFlags::ece, kCwr = TcpFlags::cwr;

// The fields every probe has; the rest stay at their defaults until set.
constexpr OsProbe base(OsProbeId id, std::string_view name, std::uint8_t protocol, OsTarget target,
                       std::uint8_t port_offset, Micros at) {
    OsProbe p;
    p.id = id;
    p.name = name;
    p.protocol = protocol;
    p.target = target;
    p.source_port_offset = port_offset;
    p.send_offset = at;
    return p;
}

constexpr OsProbe seq(OsProbeId id, std::string_view name, std::uint8_t n, std::uint16_t window,
            std::span<const std::uint8_t> options) {
    OsProbe p = base(id, name, ipproto::tcp, OsTarget::open_tcp, n, n * 100 * kMs);
    p.tcp = OsTcpFields{TcpFlags{kSyn}, window, 0, 0, n, true, options};
    return p;
}

// T2-T7 (and ECN): the probes after the ICMP and UDP ones, 25 ms apart from 575 ms on.
constexpr OsProbe t_probe(OsProbeId id, std::string_view name, OsTarget target, std::uint8_t port_offset, Micros at,
                bool df, std::uint8_t flags, std::uint16_t window, std::span<const std::uint8_t> options) {
    OsProbe p = base(id, name, ipproto::tcp, target, port_offset, at);
    p.dont_fragment = df;
    p.tcp = OsTcpFields{TcpFlags{flags}, window, 0, 0, 0, true, options};
    return p;
}

constexpr OsProbe echo(OsProbeId id, std::string_view name, Micros at, std::uint8_t tos, bool df, std::uint8_t code,
             std::uint16_t id_offset, std::uint16_t seq, std::uint16_t length) {
    OsProbe p = base(id, name, ipproto::icmp, OsTarget::icmp, 0, at);
    p.tos = tos;
    p.dont_fragment = df;
    p.icmp = OsIcmpFields{code, id_offset, seq, length};
    return p;
}

constexpr std::array<OsProbe, kOsProbeCount> make_table() {
    OsProbe u1 = base(OsProbeId::u1, "U1", ipproto::udp, OsTarget::closed_udp, 0, 575 * kMs);
    u1.ip_id = 0x1042;
    OsProbe ecn = t_probe(OsProbeId::ecn, "ECN", OsTarget::open_tcp, 12, 600 * kMs, false, kCwr | kEce | kSyn, 3, kEcnOptions);
    ecn.tcp.urgent = 63477;
    ecn.tcp.reserved = 0x8;
    ecn.tcp.carries_ack = false;
    return {
        seq(OsProbeId::seq1, "SEQ1", 0, 1, kSeq1Options),
        seq(OsProbeId::seq2, "SEQ2", 1, 63, kSeq2Options),
        seq(OsProbeId::seq3, "SEQ3", 2, 4, kSeq3Options),
        seq(OsProbeId::seq4, "SEQ4", 3, 4, kSeq4Options),
        seq(OsProbeId::seq5, "SEQ5", 4, 16, kSeq5Options),
        seq(OsProbeId::seq6, "SEQ6", 5, 512, kSeq6Options),
        // IE1: TOS 0, DF, code 9, seq 295, 120 data bytes; IE2: TOS 0x04 (reliability), no DF,
        // code 0, the next id, seq 296, 150 bytes.
        echo(OsProbeId::ie1, "IE1", 525 * kMs, 0, true, 9, 0, 295, 120),
        echo(OsProbeId::ie2, "IE2", 550 * kMs, 0x04, false, 0, 1, 296, 150),
        u1,
        ecn,
        // T2: no flags, DF, open; T3: SYN FIN URG PSH, open; T4: ACK, DF, open; T5: SYN, closed;
        // T6: ACK, DF, closed; T7: FIN PSH URG, closed, window scale 15.
        t_probe(OsProbeId::t2, "T2", OsTarget::open_tcp, 14, 625 * kMs, true, 0, 128, kTOptions),
        t_probe(OsProbeId::t3, "T3", OsTarget::open_tcp, 15, 650 * kMs, false, kSyn | kFin | kUrg | kPsh, 256, kTOptions),
        t_probe(OsProbeId::t4, "T4", OsTarget::open_tcp, 16, 675 * kMs, true, kAck, 1024, kTOptions),
        t_probe(OsProbeId::t5, "T5", OsTarget::closed_tcp, 17, 700 * kMs, false, kSyn, 31337, kTOptions),
        t_probe(OsProbeId::t6, "T6", OsTarget::closed_tcp, 18, 725 * kMs, true, kAck, 32768, kTOptions),
        t_probe(OsProbeId::t7, "T7", OsTarget::closed_tcp, 19, 750 * kMs, false, kFin | kPsh | kUrg, 65535, kT7Options),
    };
}

constexpr std::array<OsProbe, kOsProbeCount> kTable = make_table();

bool same_bytes(ByteView a, std::span<const std::uint8_t> b) {
    return a.size() == b.size() && std::equal(b.begin(), b.end(), a.span().begin());
}

bool matches_tcp(const OsProbe& p, const TcpHeader& tcp, ByteView segment) {
    auto options = tcp_options(segment);
    return options && tcp.flags == p.tcp.flags && tcp.window == p.tcp.window && tcp.urgent == p.tcp.urgent &&
           same_bytes(*options, p.tcp.options);
}

bool matches_icmp(const OsProbe& p, const DecodedPacket& d) {
    const auto& icmp = *d.icmp;
    return icmp.type == icmp_type::echo && icmp.code == p.icmp.code && icmp.seq == p.icmp.seq &&
           d.ip.tos == p.tos && d.ip.total_length == d.ip.header_length + 8u + p.icmp.data_length;
}

bool matches_udp(const OsProbe& p, const DecodedPacket& d, ByteView segment) {
    auto data = segment.from(8);
    if (d.ip.id != p.ip_id || !data || data->size() != p.udp.data_length) return false;
    return std::all_of(data->span().begin(), data->span().end(), [&](std::uint8_t b) { return b == p.udp.fill; });
}

}  // namespace

std::span<const OsProbe> os_probes() { return kTable; }

const OsProbe& os_probe(OsProbeId id) { return os_probes()[static_cast<std::size_t>(id)]; }

std::optional<OsProbeId> identify_os_probe(const DecodedPacket& decoded, ByteView packet) {
    auto segment = ipv4_payload(packet);
    if (!segment) return std::nullopt;
    for (const auto& p : os_probes()) {
        if (p.protocol != decoded.ip.protocol || p.dont_fragment != decoded.ip.dont_fragment) continue;
        const bool match = (decoded.tcp && p.protocol == ipproto::tcp && matches_tcp(p, *decoded.tcp, *segment)) ||
                           (decoded.icmp && p.protocol == ipproto::icmp && matches_icmp(p, decoded)) ||
                           (decoded.udp && p.protocol == ipproto::udp && matches_udp(p, decoded, *segment));
        if (match) return p.id;
    }
    return std::nullopt;
}

}  // namespace flagscan

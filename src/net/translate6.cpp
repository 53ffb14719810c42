// IPv6 packets read as the engine's IPv4-keyed DecodedPacket: addresses to AddressBook keys, ICMPv6 to ICMP (RFC 7915 5.2).
#include "flagscan/net/translate6.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace flagscan {
namespace {

// Names IPv6 addresses by their keys: looks them up, or (a replay) adds the new ones.
class Keys {
public:
    explicit Keys(const AddressBook& book) : known_(book) {}
    explicit Keys(AddressBook& book) : known_(book), growing_(&book) {}
    std::optional<Ipv4> operator()(Ipv6 address) const {
        return growing_ != nullptr ? growing_->key_for(address) : known_.key_of(address);
    }
    bool adding() const { return growing_ != nullptr; }

private:
    const AddressBook& known_;
    AddressBook* growing_ = nullptr;
};

// The header fields a rule row or a report reads, as IPv6 carries them (translate6.hpp's mapping):
// hop limit as TTL, traffic class as TOS (both the same DSCP/ECN byte, RFC 2474, 3168), the flow
// label's low 16 bits as the IP identification (where our UDP probes carry their cookie; RFC 6437
// lets the source choose the label, and an ICMPv6 error quotes it whole). RFC 8200 5: no router
// fragments an IPv6 packet, so every one is "don't fragment".
// `any_source`: a source without a key is named 0.0.0.0 (never a key) rather than refused.
std::optional<Ipv4Header> translate_header(const Ipv6Header& ip, const Keys& keys, bool any_source = false) {
    if (ip.dst == Ipv6{} || ip.src == Ipv6{}) return std::nullopt;  // RFC 4291 2.5.2: no answer of a scan's
    auto src = keys(ip.src);
    const auto dst = keys(ip.dst);
    if (!src && any_source) src = Ipv4{};
    if (!src || !dst) return std::nullopt;
    Ipv4Header out;
    out.src = *src;
    out.dst = *dst;
    out.ttl = ip.hop_limit;
    out.tos = ip.traffic_class;
    out.id = static_cast<std::uint16_t>(ip.flow_label & 0xffff);
    out.protocol = ip.next_header == ipproto::icmpv6 ? ipproto::icmp : ip.next_header;  // RFC 7915 5.1
    out.total_length = static_cast<std::uint16_t>(std::min<std::uint32_t>(0xffff, 40u + ip.payload_length));
    out.header_length = ip.header_length;
    out.later_fragment = ip.later_fragment();
    out.more_fragments = ip.fragment && ip.fragment->more;
    out.dont_fragment = true;
    return out;
}

struct IcmpCode {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
};

// RFC 7915 5.2: the ICMPv4 type and code of an ICMPv6 message (icmp6_readings' row for it);
// nullopt for what it drops (ND and MLD, other informational messages, unknown errors, the codes
// it names no mapping for: "Other Code values: Silently drop").
std::optional<IcmpCode> icmp_of(const Icmp6Header& icmp) {
    for (const Icmp6Reading& row : icmp6_readings()) {
        if (row.type6 != icmp.type || (row.code6 != Icmp6Reading::any && row.code6 != icmp.code)) continue;
        return IcmpCode{row.type4, row.code4 == Icmp6Reading::kept ? icmp.code : static_cast<std::uint8_t>(row.code4)};
    }
    return std::nullopt;
}

// The probe an error quotes, its IPv6 header translated as the packet's own (RFC 7915 5.3: the
// inner header is translated too); a quoted echo request reads as an ICMP echo.
std::optional<QuotedProbe> translate_quote(const QuotedProbe6& quoted, const Keys& keys) {
    const auto ip = translate_header(quoted.ip, keys);
    if (!ip) return std::nullopt;
    QuotedProbe out{static_cast<const QuotedTransport&>(quoted), *ip};
    if (out.query_type == icmp6_type::echo_request) out.query_type = icmp_type::echo;
    if (out.query_type == icmp6_type::echo_reply) out.query_type = icmp_type::echo_reply;
    return out;
}

// An error's outer source may be a router on the path, an address no target has: a live scan
// that does not know it still hears of its probe, as from 0.0.0.0, and the correlator then reads
// the error as from elsewhere than the target (RFC 1122 3.2.2.1), as for IPv4.
std::optional<DecodedPacket> translate_icmp(const DecodedPacket6& packet, const Keys& keys) {
    const Icmp6Header& icmp6 = *packet.icmp6;
    const auto mapped = icmp_of(icmp6);
    if (!mapped) return std::nullopt;
    IcmpHeader icmp{mapped->type, mapped->code, icmp6.id, icmp6.seq, std::nullopt};
    const bool error = is_icmp6_error(icmp6.type);
    if (error && icmp6.quoted) {
        icmp.quoted = translate_quote(*icmp6.quoted, keys);
        if (!icmp.quoted) return std::nullopt;  // about a packet that is none of ours
    }
    const auto ip = translate_header(packet.ip, keys, error && icmp.quoted);
    if (!ip) return std::nullopt;
    DecodedPacket out{static_cast<const DecodedTransport&>(packet), *ip, icmp, std::nullopt};
    return out;
}

// A Neighbor Advertisement (RFC 4861 4.4) answers "who has TARGET" as an ARP reply does (RFC 826
// operation 2): the target's address as the sender's, its link-layer address from the Target
// Link-Layer Address option, else the frame's sender. RFC 4861 7.1.2: a valid one has hop limit
// 255 (it never crossed a router) and code 0. The NA's own source may be link-local: the key is
// the target's.
std::optional<DecodedPacket> translate_advertisement(const DecodedPacket6& packet, const Keys& keys) {
    const Icmp6Header& icmp6 = *packet.icmp6;
    if (!icmp6.neighbor || packet.ip.hop_limit != 255 || icmp6.code != 0) return std::nullopt;
    if (packet.ip.dst == Ipv6{} || icmp6.neighbor->target == Ipv6{}) return std::nullopt;
    const auto sender = keys(icmp6.neighbor->target);
    const auto to = keys(packet.ip.dst);
    if (!sender || !to) return std::nullopt;
    ArpHeader arp{2, icmp6.neighbor->link_address.value_or(packet.link_src.value_or(MacAddress{})), *sender, *to};
    Ipv4Header ip;
    ip.src = *sender;
    ip.dst = *to;
    ip.protocol = ipproto::arp;
    DecodedPacket out{static_cast<const DecodedTransport&>(packet), ip, std::nullopt, arp};
    out.tcp.reset();
    out.udp.reset();
    return out;
}

// TCP, UDP, a message cut short or another protocol: the header translated, the rest as decoded.
std::optional<DecodedPacket> translate(const DecodedPacket6& packet, const Keys& keys) {
    if (packet.icmp6 && packet.icmp6->type == icmp6_type::neighbor_advertisement) return translate_advertisement(packet, keys);
    if (packet.icmp6) return translate_icmp(packet, keys);
    const auto ip = translate_header(packet.ip, keys);
    if (!ip) return std::nullopt;
    return DecodedPacket{static_cast<const DecodedTransport&>(packet), *ip, std::nullopt, std::nullopt};
}

}  // namespace

// RFC 7915 5.2's table, row by row, in RFC 4443's words.
std::span<const Icmp6Reading> icmp6_readings() {
    using R = Icmp6Reading;
    constexpr std::string_view unreachable = "destination unreachable", rfc_unreachable = "RFC 4443 3.1";
    constexpr std::string_view problem = "parameter problem", rfc_problem = "RFC 4443 3.4";
    static constexpr std::array rows{
        R{icmp6_type::unreachable, icmp6_unreachable::no_route, icmp_type::unreachable, 1, unreachable, "no route", rfc_unreachable},
        // RFC 7915 says 10 (host administratively prohibited). flagscan reads it as 13,
        // "communication administratively prohibited" (RFC 1812 5.2.7.1), the same words as
        // RFC 4443's code 1: what a firewall's reject sends over IPv4 too, and the reason nmap -6
        // gives the packet (admin-prohibited).
        R{icmp6_type::unreachable, icmp6_unreachable::admin_prohibited, icmp_type::unreachable, 13, unreachable,
          "communication with the destination administratively prohibited", rfc_unreachable},
        R{icmp6_type::unreachable, icmp6_unreachable::beyond_scope, icmp_type::unreachable, 1, unreachable,
          "beyond the scope of the source address", rfc_unreachable},
        R{icmp6_type::unreachable, icmp6_unreachable::address, icmp_type::unreachable, 1, unreachable, "address unreachable",
          rfc_unreachable},
        R{icmp6_type::unreachable, icmp6_unreachable::port, icmp_type::unreachable, 3, unreachable, "port unreachable",
          rfc_unreachable},
        // RFC 4443 3.1's codes 5 (source address failed ingress/egress policy) and 6 (reject
        // route to destination), newer than RFC 7915's table ("Other Code values: Silently
        // drop"), are policy refusals as code 1 is: read as 13, so that a port behind them is
        // filtered by an answer rather than called silent.
        R{icmp6_type::unreachable, icmp6_unreachable::source_policy, icmp_type::unreachable, 13, unreachable,
          "source address failed policy", rfc_unreachable},
        R{icmp6_type::unreachable, icmp6_unreachable::reject_route, icmp_type::unreachable, 13, unreachable, "reject route",
          rfc_unreachable},
        R{icmp6_type::packet_too_big, R::any, icmp_type::unreachable, 4, "packet too big", "", "RFC 4443 3.2"},
        R{icmp6_type::time_exceeded, R::any, icmp_type::time_exceeded, R::kept, "time exceeded", "", "RFC 4443 3.3"},
        R{icmp6_type::parameter_problem, 0, icmp_type::parameter_problem, 0, problem, "erroneous header field", rfc_problem},
        R{icmp6_type::parameter_problem, 1, icmp_type::unreachable, 2, problem, "unrecognized next header", rfc_problem},
        R{icmp6_type::echo_request, R::any, icmp_type::echo, 0, "echo request", "", "RFC 4443 4.1"},
        R{icmp6_type::echo_reply, R::any, icmp_type::echo_reply, 0, "echo reply", "", "RFC 4443 4.2"},
    };
    return rows;
}

std::optional<DecodedPacket> translate6(const DecodedPacket6& packet, AddressBook& book, BookUse use) {
    if (use == BookUse::look_up) return translate(packet, Keys{std::as_const(book)});
    return translate(packet, Keys{book});
}

std::optional<DecodedPacket> translate6(const DecodedPacket6& packet, const AddressBook& book) {
    return translate(packet, Keys{book});
}

FrameDecoder FrameDecoder::looking_up(const AddressBook* book) {
    FrameDecoder decoder;
    decoder.known_ = book;
    return decoder;
}

FrameDecoder FrameDecoder::adding(AddressBook& book) {
    FrameDecoder decoder;
    decoder.known_ = &book;
    decoder.growing_ = &book;
    return decoder;
}

std::optional<DecodedPacket> FrameDecoder::translated(const DecodedPacket6& packet) const {
    if (growing_ != nullptr) return translate6(packet, *growing_, BookUse::add);
    return translate6(packet, *known_);
}

std::optional<DecodedPacket> FrameDecoder::decode(LinkType link, ByteView frame) const {
    if (known_ == nullptr) return decode_frame(link, frame);
    if (const auto packet = decode_frame6(link, frame)) return translated(*packet);
    if (growing_ == nullptr) return std::nullopt;  // a live IPv6 scan: no IPv4 packet is about it
    return decode_frame(link, frame);
}

}  // namespace flagscan

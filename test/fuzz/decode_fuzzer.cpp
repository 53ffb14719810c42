// libFuzzer target: every parser of untrusted input in the core library, on one input.
//
// The input's first byte picks the link type; the rest is a captured frame. The frame is
// decoded (decode_frame, then decode_ipv4 on the same bytes), and whatever decodes is handed to
// a Correlator's cookie check and, when it passes, to the SYN rule table. The same bytes go
// through the IPv6 decoder (decode_frame6, decode_ipv6, ipv6_payload and its checksum). The whole
// input is also read as text by the command-line parsers: --scanflags, a dotted quad, an IPv6
// address (whose RFC 5952 text must parse back to it), prefix and range, -p, and targets
// (split on whitespace, as -iL does) with a resolver that resolves nothing: no DNS, ever.
#include <algorithm>
#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/engine/correlator.hpp"
#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/decode6.hpp"
#include "flagscan/net/text.hpp"
#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/ipv6.hpp"
#include "flagscan/net/tcp_flags.hpp"
#include "flagscan/probe/cookie.hpp"
#include "flagscan/probe/probe_kind.hpp"
#include "flagscan/probe/udp_payloads.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/targets/port_list.hpp"

namespace {

using namespace flagscan;

constexpr std::array kLinks{LinkType::ethernet, LinkType::raw_ip, LinkType::linux_sll, LinkType::linux_sll2,
                            LinkType::bsd_loopback};

// Reads every field, so that a bad value (an uninitialised byte, a bad bool) shows up here.
std::uint64_t fold(const DecodedPacket& p) {
    std::uint64_t sum = p.ip.src.value() ^ p.ip.dst.value() ^ p.ip.ttl ^ p.ip.protocol ^ p.ip.id ^
                        p.ip.total_length ^ p.ip.header_length ^ (p.ip.later_fragment ? 1u : 0u);
    if (p.tcp) sum ^= p.tcp->sport.value() ^ p.tcp->seq ^ p.tcp->ack ^ p.tcp->flags.bits() ^ p.tcp->window;
    if (p.udp) sum ^= p.udp->dport.value() ^ p.udp->length;
    if (p.icmp) {
        sum ^= p.icmp->type ^ p.icmp->code ^ p.icmp->id ^ p.icmp->seq;
        if (p.icmp->quoted) sum ^= p.icmp->quoted->ip.dst.value() ^ p.icmp->quoted->tcp_seq.value_or(0);
    }
    return sum;
}

std::uint64_t fold6(const Ipv6Header& ip) {
    std::uint64_t sum = ip.src.high() ^ ip.src.low() ^ ip.dst.low() ^ ip.hop_limit ^ ip.traffic_class ^ ip.flow_label ^
                        ip.payload_length ^ ip.next_header ^ ip.header_length ^ (ip.later_fragment() ? 1u : 0u);
    for (std::size_t i = 0; i < ip.extension_count; ++i) sum ^= ip.extensions[i].type ^ ip.extensions[i].length;
    if (ip.fragment) sum ^= ip.fragment->offset ^ ip.fragment->id ^ (ip.fragment->more ? 1u : 0u);
    return sum;
}

std::uint64_t fold6(const DecodedPacket6& p) {
    std::uint64_t sum = fold6(p.ip) ^ p.link_header;
    if (p.tcp) sum ^= p.tcp->sport.value() ^ p.tcp->seq ^ p.tcp->ack ^ p.tcp->flags.bits() ^ p.tcp->options.size;
    if (p.udp) sum ^= p.udp->dport.value() ^ p.udp->length ^ p.udp->head_length;
    if (p.icmp6) {
        const Icmp6Header& icmp = *p.icmp6;
        sum ^= icmp.type ^ icmp.code ^ icmp.id ^ icmp.seq ^ icmp.mtu ^ icmp.pointer ^ icmp.checksum;
        if (icmp.quoted) sum ^= fold6(icmp.quoted->ip) ^ icmp.quoted->dport.value() ^ icmp.quoted->tcp_seq.value_or(0);
        if (icmp.neighbor) sum ^= icmp.neighbor->target.low() ^ (icmp.neighbor->link_address ? 1u : 0u);
    }
    return sum;
}

void decode_as_ipv6(LinkType link, ByteView frame) {
    volatile std::uint64_t sink = 0;
    if (auto packet = decode_frame6(link, frame)) sink = sink ^ fold6(*packet);
    if (auto packet = decode_ipv6(frame)) {
        sink = sink ^ fold6(*packet);
        if (auto upper = ipv6_payload(frame))
            sink = sink ^ transport_checksum(packet->ip.src, packet->ip.dst, packet->ip.next_header, upper->span());
    }
}

// The kinds of the fuzzed correlator's lanes.
const std::array<const ProbeKind*, 5> kLaneKinds{&syn_kind(), &udp_kind(), &ping_echo_kind(), &ping_timestamp_kind(),
                                                &ping_arp_kind()};

void check_packet(const Correlator& correlator, const DecodedPacket& packet) {
    volatile std::uint64_t sink = fold(packet);
    (void)sink;
    const auto answer = correlator.identify(packet);
    if (!answer) return;
    const Rule* rule = match_rule(*kLaneKinds[answer->lane % kLaneKinds.size()], answer->evidence);
    if (rule != nullptr) (void)rule_reason(*rule, answer->evidence);
}

void decode(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return;
    // The same identity and key as make_corpus.cpp, so that its seeds pass the cookie check.
    // Lane 0 is SYN, as the seeds were made; the others reach the UDP, ICMP query and ARP paths.
    const Correlator correlator{ScannerIdentity{Ipv4{10, 77, 0, 1}, Port{40000}, 7, 5}, CookieKey{1, 2},
                                {kLaneKinds.begin(), kLaneKinds.end()}};
    const LinkType link = kLinks[data[0] % kLinks.size()];
    const ByteView frame{std::span<const std::uint8_t>(data + 1, size - 1)};
    if (auto packet = decode_frame(link, frame)) check_packet(correlator, *packet);
    if (auto packet = decode_ipv4(frame)) check_packet(correlator, *packet);
    decode_as_ipv6(link, frame);
}

// Words separated by whitespace, as -iL reads a target file (the parser trims these six too).
std::vector<std::string> split_whitespace(std::string_view text) {
    constexpr std::string_view space = " \t\n\r\v\f";
    std::vector<std::string> words;
    std::size_t start = text.find_first_not_of(space);
    while (start != std::string_view::npos) {
        const std::size_t end = std::min(text.find_first_of(space, start), text.size());
        words.emplace_back(text.substr(start, end - start));
        start = text.find_first_not_of(space, end);
    }
    return words;
}

// Why a cap: parse_targets may materialise up to 2^22 ranges for one list (max_ranges_in_all,
// 32 MiB; before that cap, a few words like "1-.-.-.1" took gigabytes), which is fine for a
// scanner but costs seconds per input under ASan: a known cost, not something to rediscover on
// every run. Words whose expansion could exceed kMaxRanges (an upper bound, computed from the text
// without the parser) are left out, and at most kMaxWords words are parsed.
constexpr std::uint64_t kMaxRanges = 1u << 12;
constexpr std::size_t kMaxWords = 8;

// An octet value as the parser reads one ("0".."255", at most 3 digits), or `fallback` when empty.
std::optional<unsigned> octet_value(std::string_view text, unsigned fallback) {
    if (text.empty()) return fallback;
    if (text.size() > 3 || text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    unsigned value = 0;
    for (char c : text) value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 255) return std::nullopt;
    return value;
}

// The values one octet ("1,5-9,20-", "*") holds; nullopt when unsure (the parser rejects it).
std::optional<std::bitset<256>> octet_values(std::string_view octet) {
    std::bitset<256> values;
    for (std::string_view item : split_on(octet, ',')) {
        if (item == "*" || item == "-") {
            values.set();
            continue;
        }
        const std::size_t dash = item.find('-');
        const auto lo = octet_value(item.substr(0, dash), 0);
        const auto hi = dash == std::string_view::npos ? lo : octet_value(item.substr(dash + 1), 255);
        if (item.empty() || !lo || !hi || *lo > *hi) return std::nullopt;
        for (unsigned v = *lo; v <= *hi; ++v) values.set(v);
    }
    return values;
}

// Runs of consecutive values: each becomes one range.
std::uint64_t runs(const std::bitset<256>& values) {
    std::uint64_t count = 0;
    for (std::size_t v = 0; v < 256; ++v) count += values.test(v) && (v == 0 || !values.test(v - 1)) ? 1 : 0;
    return count;
}

// An upper bound on the ranges parse_targets expands one word into, counted as the parser counts
// them: trailing octets that hold every value fold into the octet before them, whose runs of
// values each make one range per combination of the octets ahead of it.
std::uint64_t expansion_bound(std::string_view word) {
    if (word.find_first_not_of("0123456789.,-*") != std::string_view::npos) return 1;  // a name, a CIDR
    const std::vector<std::string_view> parts = split_on(word, '.');
    if (parts.size() != 4) return 1;  // rejected before any expansion
    std::array<std::optional<std::bitset<256>>, 4> octets;
    for (std::size_t i = 0; i < 4; ++i) octets[i] = octet_values(parts[i]);
    std::size_t last = 3;
    while (last > 0 && octets[last] && octets[last]->all()) --last;
    std::uint64_t bound = 1;
    for (std::size_t i = 0; i < last; ++i) bound *= octets[i] ? octets[i]->count() : 256;
    return bound * (octets[last] ? runs(*octets[last]) : 128);
}

// RFC 5952 text is one of the RFC 4291 forms: it must parse back to the same address.
void parse_ipv6_text(std::string_view text) {
    if (auto ip = Ipv6::parse(text)) {
        const auto again = Ipv6::parse(ip->str());
        if (!again || *again != *ip) __builtin_trap();
    }
    if (auto prefix = parse_ipv6_prefix(text)) {
        if (!prefix->contains(prefix->last()) || prefix->host_count() == 0) __builtin_trap();
    }
    if (auto range = parse_ipv6_range(text)) {
        if (range->last < range->first || range->host_count() == 0) __builtin_trap();
    }
}

void parse_text(std::string_view text) {
    if (auto flags = TcpFlags::parse(text)) (void)flags->str();
    if (auto ip = Ipv4::parse(text)) (void)ip->str();
    parse_ipv6_text(text);
    if (auto ports = parse_ports(text)) (void)ports->size();
    if (auto spec = parse_port_spec(text)) (void)spec->udp.size();
    if (auto payloads = UdpPayloads::parse(text)) (void)payloads->for_port(Port{53}).size();
    std::vector<std::string> words = split_whitespace(text);
    if (words.size() > kMaxWords) words.resize(kMaxWords);
    std::erase_if(words, [](const std::string& word) { return expansion_bound(word) > kMaxRanges; });
    const Resolver no_dns = [](std::string_view) { return std::vector<Ipv4>{}; };
    if (auto targets = parse_targets(words, no_dns)) (void)targets->size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    decode(data, size);
    parse_text(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}

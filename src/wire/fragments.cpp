// IPv4 fragmentation (RFC 791 3.2) of finished packets, and the sink that sends the pieces.
#include "flagscan/wire/fragments.hpp"

#include <algorithm>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/checksum.hpp"

namespace flagscan {
namespace {

constexpr std::size_t kOffLength = 2, kOffFlags = 6, kOffSum = 10;
constexpr std::uint16_t kDontFragment = 0x4000, kMoreFragments = 0x2000, kOffsetMask = 0x1fff;

// RFC 791 3.1: an option whose "copied" bit (0x80) is set goes into every fragment; the others
// only into the first. The kept options are padded to a 4-byte boundary with End of Option List.
std::vector<std::uint8_t> later_header(std::span<const std::uint8_t> header) {
    std::vector<std::uint8_t> out(header.begin(), header.begin() + 20);
    for (std::size_t at = 20; at < header.size();) {
        const std::uint8_t type = header[at];
        if (type == 0) break;                                   // End of Option List
        const std::size_t length = type == 1 ? 1 : (at + 1 < header.size() ? header[at + 1] : 0);
        if (length == 0 || at + length > header.size()) break;  // malformed: keep what came before
        if (type & 0x80) out.insert(out.end(), header.begin() + static_cast<long>(at), header.begin() + static_cast<long>(at + length));
        at += length;
    }
    out.resize((out.size() + 3) / 4 * 4, 0);
    out[0] = static_cast<std::uint8_t>(0x40 | (out.size() / 4));
    return out;
}

// One fragment: HEADER, then DATA (which starts OFFSET bytes into the packet's data).
std::vector<std::uint8_t> one_fragment(std::span<const std::uint8_t> header, std::span<const std::uint8_t> data,
                                       std::size_t offset, bool more, std::uint16_t flags) {
    std::vector<std::uint8_t> out(header.begin(), header.end());
    out.insert(out.end(), data.begin(), data.end());
    std::span<std::uint8_t> ip{out};
    put_be16(ip, kOffLength, static_cast<std::uint16_t>(out.size()));
    const auto field = static_cast<std::uint16_t>((flags & ~(kMoreFragments | kOffsetMask)) |
                                                  (more ? kMoreFragments : 0) | (offset / 8));
    put_be16(ip, kOffFlags, field);
    put_be16(ip, kOffSum, 0);
    put_be16(ip, kOffSum, ipv4_header_checksum(ip.first(header.size())));
    return out;
}

}  // namespace

std::vector<std::vector<std::uint8_t>> fragment_ipv4(std::span<const std::uint8_t> packet, std::size_t data_per_fragment) {
    const ByteView view{packet};
    const std::size_t ihl = packet.empty() ? 0 : std::size_t{packet[0] & 0x0fu} * 4;
    const std::uint16_t flags = view.be16(kOffFlags).value_or(kDontFragment);
    const std::size_t total = std::min<std::size_t>(view.be16(kOffLength).value_or(0), packet.size());
    const bool ipv4 = packet.size() >= 20 && (packet[0] >> 4) == 4 && ihl >= 20 && total >= ihl;
    if (!ipv4 || (flags & kDontFragment) || data_per_fragment == 0 || data_per_fragment % 8 != 0 ||
        total - ihl <= data_per_fragment)
        return {std::vector<std::uint8_t>(packet.begin(), packet.end())};
    // A packet that is itself a fragment is split further: its offset and MF carry on (RFC 791 3.2).
    const std::size_t base = static_cast<std::size_t>(flags & kOffsetMask) * 8;
    const bool last_more = flags & kMoreFragments;
    const auto header = packet.first(ihl);
    const auto later = later_header(header);
    const auto data = packet.subspan(ihl, total - ihl);
    std::vector<std::vector<std::uint8_t>> out;
    for (std::size_t at = 0; at < data.size(); at += data_per_fragment) {
        const std::size_t n = std::min(data_per_fragment, data.size() - at);
        const bool more = at + n < data.size() || last_more;
        out.push_back(one_fragment(at == 0 ? header : std::span<const std::uint8_t>{later}, data.subspan(at, n),
                                   base + at, more, flags));
    }
    return out;
}

std::size_t FragmentingSink::send(std::span<const std::span<const std::uint8_t>> packets) {
    std::vector<std::vector<std::uint8_t>> pieces;
    std::vector<std::size_t> ends;  // pieces.size() after each packet
    for (const auto& packet : packets) {
        auto fragments = fragment_ipv4(packet, per_fragment_);
        for (auto& fragment : fragments) pieces.push_back(std::move(fragment));
        ends.push_back(pieces.size());
    }
    std::vector<std::span<const std::uint8_t>> views(pieces.begin(), pieces.end());
    const std::size_t sent = inner_.send(views);
    return static_cast<std::size_t>(std::upper_bound(ends.begin(), ends.end(), sent) - ends.begin());
}

}  // namespace flagscan

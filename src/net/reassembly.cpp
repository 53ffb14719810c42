// IPv4 reassembly by RFC 815's hole list, keeping the first bytes of each datagram only.
#include "flagscan/net/reassembly.hpp"

#include <algorithm>

#include "flagscan/net/checksum.hpp"

namespace flagscan {

Ipv4Reassembler::Datagram& Ipv4Reassembler::datagram_for(const Key& key, std::int64_t now_us) {
    auto it = pending_.find(key);
    if (it != pending_.end() && now_us - it->second.started > kTimeoutUs) {  // timed out: start again
        dropped_fragments_ += it->second.fragments;
        pending_.erase(it);
        it = pending_.end();
    }
    if (it != pending_.end()) return it->second;
    if (pending_.size() >= kMaxDatagrams) {  // full: the oldest goes
        auto oldest = std::min_element(pending_.begin(), pending_.end(), [](const auto& a, const auto& b) {
            return a.second.started < b.second.started;
        });
        dropped_fragments_ += oldest->second.fragments;
        pending_.erase(oldest);
    }
    Datagram& d = pending_[key];
    d.started = now_us;
    return d;
}

// RFC 815 steps 1-6: every hole the fragment [FIRST, LAST] touches is replaced by what is left of
// it before and after the fragment (after it only while more fragments follow). False when the
// hole list grows past kMaxHoles.
bool Ipv4Reassembler::fill_holes(Datagram& d, std::uint32_t first, std::uint32_t last, bool more) {
    std::vector<Hole> next;
    for (const Hole& hole : d.holes) {
        if (first > hole.last || last < hole.first) {
            next.push_back(hole);
            continue;
        }
        if (first > hole.first) next.push_back({hole.first, first - 1});
        if (last < hole.last && more) next.push_back({last + 1, hole.last});
    }
    d.holes = std::move(next);
    return d.holes.size() <= kMaxHoles;
}

std::optional<std::vector<std::uint8_t>> Ipv4Reassembler::add(ByteView fragment, std::int64_t now_us,
                                                              bool already_read) {
    auto packet = decode_ipv4(fragment);
    if (!packet || !is_fragment(packet->ip)) return std::nullopt;
    const Ipv4Header& ip = packet->ip;
    const std::uint32_t first = std::uint32_t{*fragment.be16(6) & 0x1fffu} * 8;
    const std::uint32_t size = ip.total_length - ip.header_length;
    // RFC 791: every fragment but the last carries a multiple of 8 bytes; none ends past 65535.
    if (size == 0 || (ip.more_fragments && size % 8 != 0) || ip.header_length + first + size > 0xffff)
        return std::nullopt;
    const std::uint32_t last = first + size - 1;
    const Key key{ip.src.value(), ip.dst.value(), ip.protocol, ip.id};
    Datagram& d = datagram_for(key, now_us);
    ++d.fragments;
    if (first == 0) {
        d.header.assign(fragment.span().begin(), fragment.span().begin() + ip.header_length);
        d.already_read = d.already_read || already_read;
    }
    if (!ip.more_fragments) d.length = last + 1;
    const ByteView data = *fragment.first(ip.total_length).from(ip.header_length);
    for (std::size_t i = 0; i < data.size() && first + i < kKeep; ++i) {
        d.data[first + i] = *data.u8(i);
        d.captured.set(first + i);
    }
    if (!fill_holes(d, first, last, ip.more_fragments)) {
        dropped_fragments_ += d.fragments;
        pending_.erase(key);
        return std::nullopt;
    }
    if (!d.holes.empty() || d.header.empty()) return std::nullopt;
    std::optional<std::vector<std::uint8_t>> out;
    if (!d.already_read) out = whole(d);
    pending_.erase(key);
    return out;
}

// The first fragment's header, now for the whole datagram, then the data captured from byte 0 on.
std::vector<std::uint8_t> Ipv4Reassembler::whole(const Datagram& d) {
    std::vector<std::uint8_t> out = d.header;
    const std::span<std::uint8_t> header{out};
    put_be16(header, 2, static_cast<std::uint16_t>(out.size() + d.length));
    put_be16(header, 6, static_cast<std::uint16_t>(*ByteView{out}.be16(6) & 0x4000u));  // DF stays
    put_be16(header, 10, 0);
    put_be16(header, 10, ipv4_header_checksum(std::span<const std::uint8_t>{out}));
    for (std::size_t i = 0; i < std::min<std::size_t>(d.length, kKeep) && d.captured.test(i); ++i)
        out.push_back(d.data[i]);
    return out;
}

std::uint64_t Ipv4Reassembler::fragments_unused() const {
    std::uint64_t waiting = 0;
    for (const auto& [key, d] : pending_) waiting += d.fragments;
    return dropped_fragments_ + waiting;
}

}  // namespace flagscan

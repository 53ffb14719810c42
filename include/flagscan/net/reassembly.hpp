// Ipv4Reassembler: IPv4 fragments back into datagrams (RFC 791 3.2, RFC 815), in bounded memory.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/decode.hpp"

namespace flagscan {

// Why: a scanner that fragments its probes (nmap -f: 8 data bytes per fragment) puts the TCP
// flags in the second fragment, so no single frame shows a probe. Only the first kKeep bytes of a
// datagram are kept (every header a verdict reads), so memory is bounded by kMaxDatagrams
// whatever the capture holds; a datagram not completed within kTimeoutUs of its first fragment
// (Linux's ipfrag_time; RFC 791 suggests 15 s at least), or pushed out by newer ones, is dropped.
class Ipv4Reassembler {
public:
    static constexpr std::size_t kKeep = 256;
    static constexpr std::size_t kMaxDatagrams = 1024;
    static constexpr std::size_t kMaxHoles = 32;
    static constexpr std::int64_t kTimeoutUs = 30'000'000;

    // A fragment: MF set or a non-zero offset.
    static bool is_fragment(const Ipv4Header& ip) { return ip.more_fragments || ip.later_fragment; }

    // FRAGMENT (an IPv4 packet whose header decode_ipv4 accepted, a fragment) seen at NOW_US.
    // Returns the datagram it completes: its first kKeep bytes, under the first fragment's header
    // rewritten to say "whole" (offset 0, MF clear, the full total length, a new checksum).
    // ALREADY_READ marks a first fragment whose headers the caller used as they were: its
    // datagram is completed quietly (nullopt), so that it is not read twice.
    std::optional<std::vector<std::uint8_t>> add(ByteView fragment, std::int64_t now_us, bool already_read = false);

    // Fragments of datagrams dropped unfinished, plus those still waiting.
    std::uint64_t fragments_unused() const;

private:
    using Key = std::tuple<std::uint32_t, std::uint32_t, std::uint8_t, std::uint16_t>;  // src, dst, proto, id
    struct Hole {
        std::uint32_t first = 0;
        std::uint32_t last = 0;
    };
    struct Datagram {
        std::int64_t started = 0;
        std::vector<Hole> holes{{0, 0xffffffffu}};  // RFC 815: one hole, 0 to "infinity"
        std::vector<std::uint8_t> header;           // the first fragment's, once seen
        std::array<std::uint8_t, kKeep> data{};
        std::bitset<kKeep> captured;
        std::uint32_t length = 0;  // data bytes, known once the last fragment (MF clear) is in
        std::uint64_t fragments = 0;
        bool already_read = false;
    };

    Datagram& datagram_for(const Key& key, std::int64_t now_us);
    static bool fill_holes(Datagram& d, std::uint32_t first, std::uint32_t last, bool more);
    static std::vector<std::uint8_t> whole(const Datagram& d);

    std::map<Key, Datagram> pending_;
    std::uint64_t dropped_fragments_ = 0;
};

}  // namespace flagscan

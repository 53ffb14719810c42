// RawPacket: one IPv4 packet built field by field with libnet (every header field chosen), for probes that are not templates.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/net/tcp_flags.hpp"

namespace flagscan {

// RFC 791 3.1: the fields of the IPv4 header a probe chooses.
struct RawIp {
    Ipv4 src, dst;
    std::uint8_t ttl = 64;
    std::uint8_t tos = 0;
    std::uint16_t id = 0;
    bool dont_fragment = false;
};

// RFC 793 3.1 (and RFC 3168's ECE/CWR): every field of the header; `reserved` is the 4 bits after
// the data offset; `options` are written as given (a multiple of 4 bytes).
struct RawTcp {
    Port sport, dport;
    std::uint32_t seq = 0, ack = 0;
    TcpFlags flags;
    std::uint8_t reserved = 0;
    std::uint16_t window = 0, urgent = 0;
    std::span<const std::uint8_t> options;
};

// RFC 792: an echo request (type 8) with any code and `data_length` zero bytes of data.
struct RawEcho {
    std::uint8_t code = 0;
    std::uint16_t id = 0, seq = 0;
    std::uint16_t data_length = 0;
};

// RFC 768.
struct RawUdp {
    Port sport, dport;
    std::span<const std::uint8_t> payload;
};

// The packet (from the IP header on), checksums computed. Errors are libnet's, one line.
Result<std::vector<std::uint8_t>> build_raw_tcp(const RawIp& ip, const RawTcp& tcp);
Result<std::vector<std::uint8_t>> build_raw_echo(const RawIp& ip, const RawEcho& echo);
Result<std::vector<std::uint8_t>> build_raw_udp(const RawIp& ip, const RawUdp& udp);

}  // namespace flagscan

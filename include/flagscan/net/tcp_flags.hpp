// TcpFlags: the TCP control bits (RFC 793 section 3.1, RFC 3168 for ECE/CWR) as a strong type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flagscan {

class TcpFlags {
public:
    static constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20,
                                  ece = 0x40, cwr = 0x80;

    constexpr TcpFlags() = default;
    constexpr explicit TcpFlags(std::uint8_t bits) : bits_(bits) {}

    constexpr std::uint8_t bits() const { return bits_; }
    constexpr bool has(std::uint8_t mask) const { return (bits_ & mask) == mask; }
    constexpr bool any(std::uint8_t mask) const { return (bits_ & mask) != 0; }
    constexpr auto operator<=>(const TcpFlags&) const = default;

    // "SYN,ACK" / "RST" / "none"; the order is nmap's packet-trace order.
    std::string str() const;
    // "SYNFIN", "syn,ack", "URGPSHFIN", "0x29", "41": nmap's --scanflags forms.
    static std::optional<TcpFlags> parse(std::string_view text);

private:
    std::uint8_t bits_ = 0;
};

}  // namespace flagscan

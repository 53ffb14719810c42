// IPv4 header options for every raw probe (--ip-options, nmap's syntax): parsed, padded, described.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"

namespace flagscan {

// The option bytes of the IPv4 header (RFC 791 3.1), padded with End of Option List (0) to a
// multiple of 4, at most 40 bytes (the header's 4-bit length counts at most 15 words).
struct IpOptions {
    static constexpr std::size_t kMax = 40;
    std::vector<std::uint8_t> bytes;
    // Loose or strict source route: the packet goes to the first hop (the IP destination), and
    // the target takes the last slot of the route (as nmap sends it). Offsets into `bytes`.
    std::optional<std::size_t> first_hop;
    std::optional<std::size_t> last_hop;
    bool empty() const { return bytes.empty(); }
    bool operator==(const IpOptions&) const = default;
};

// nmap's --ip-options: "R" record route (9 slots), "T" timestamps (9 slots), "U" timestamps
// with addresses (4 slots), "L ADDR ..." loose / "S ADDR ..." strict source route (at most 8
// hops, one slot left for the target), or bytes: "\x01\x07\x27" (hex), "\1\7\39" (decimal),
// "*N" repeats the byte before it to N in all. Errors are one line.
Result<IpOptions> parse_ip_options(std::string_view text);

// "record route (9 slots)", "loose source route via 10.0.0.1, 10.0.0.2", "bytes 01 07 ...":
// what --explain says was sent.
std::string describe_ip_options(const IpOptions& options);

}  // namespace flagscan

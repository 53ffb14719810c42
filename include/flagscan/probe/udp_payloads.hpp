// UdpPayloads: port -> the bytes a UDP probe carries so the service there answers, from nmap-payloads or built in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"

namespace flagscan {

// Why: an empty datagram is ignored by most UDP services, so "no reply" could not tell an
// open port from a filtered one. A request the service understands (a DNS query on 53, an
// NTP client packet on 123, ...) makes an open port answer, which is proof it is open. This
// is nmap's idea, and nmap's file of such requests (nmap-payloads) is read when installed.
class UdpPayloads {
public:
    // The largest payload one IPv4 datagram can carry: 65535 - 20 (IP) - 8 (UDP).
    static constexpr std::size_t max_payload_size = 65507;

    UdpPayloads() = default;  // no payloads at all; source() is "none"

    // nmap-payloads from /usr/share/nmap or /usr/local/share/nmap when one is readable and
    // parses, else builtin().
    static UdpPayloads load_system();
    // One nmap-payloads file; errors name the path ("PATH: line 12: bad escape '\q'").
    static Result<UdpPayloads> load_file(const std::string& path);
    // The built-in set: builtin_udp_payloads_text() parsed; source() is "built-in".
    static UdpPayloads builtin();
    // nmap-payloads format, one entry:
    //   udp <ports> "<C string>" ["<C string>" ...] [source <port>]
    // Strings are concatenated and may stand on following lines; escapes are nmap's (\xHH,
    // \0, \a \b \f \n \r \t \v; another non-alphanumeric character stands for itself); '#'
    // starts a comment outside strings; <ports> is nmap's port syntax ("7,9,1024-1030").
    // Entries of other protocols are parsed and skipped, "source" is parsed and ignored, and
    // a port listed by several entries keeps the first entry's payload (as nmap sends it).
    // Errors are one line naming the line: "line 7: unterminated string".
    static Result<UdpPayloads> parse(std::string_view text);

    // The payload for a port; an empty span when none is known (send an empty datagram).
    // O(log runs), no allocation; the span lives as long as this table, so asking a temporary
    // table (UdpPayloads::builtin().for_port(p)) does not compile.
    std::span<const std::uint8_t> for_port(Port port) const&;
    std::span<const std::uint8_t> for_port(Port port) const&& = delete;
    std::size_t port_count() const { return port_count_; }   // ports that have a payload
    std::size_t payload_count() const { return ends_.size(); }  // distinct payloads stored
    // "nmap-payloads (/usr/share/nmap/nmap-payloads)", "nmap-payloads" (parse), "built-in", "none".
    std::string_view source() const { return source_; }

private:
    // Ports [first, last] all carry payload number `payload`.
    struct Run {
        std::uint16_t first;
        std::uint16_t last;
        std::uint32_t payload;
    };
    std::span<const std::uint8_t> payload(std::uint32_t index) const;
    void index_ports(std::span<const std::uint32_t> payload_of_port);

    std::vector<std::uint8_t> bytes_;   // every payload, back to back
    std::vector<std::uint32_t> ends_;   // payload i is bytes_[i ? ends_[i - 1] : 0, ends_[i])
    std::vector<Run> runs_;             // sorted by port, disjoint
    std::size_t port_count_ = 0;
    std::string source_ = "none";
};

// The built-in set, in nmap-payloads format, for machines without nmap: DNS (53), TFTP (69),
// portmapper (111), NTP (123), NetBIOS-NS (137), SNMP (161), IKE (500), SSDP (1900),
// SIP (5060), mDNS (5353) and memcached (11211).
std::string_view builtin_udp_payloads_text();

}  // namespace flagscan

// ServiceTable: port -> service name and port frequency, from nmap-services or /etc/services.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "flagscan/net/ipv4.hpp"

namespace flagscan {

enum class Protocol : std::uint8_t { tcp, udp };

class ServiceTable {
public:
    // nmap-services format: "name<ws>port/proto<ws>frequency[<ws># comment]"; bad lines are skipped.
    static ServiceTable from_nmap_services(std::string_view text);
    // /etc/services format: "name<ws>port/proto[<ws>aliases][# comment]"; frequency 0.
    static ServiceTable from_etc_services(std::string_view text);
    // nmap's file when installed (/usr/share/nmap/nmap-services), else /etc/services, else empty.
    static ServiceTable load_system();

    bool has_frequencies() const { return has_frequencies_; }
    // "ssh" for 22/tcp; "unknown" when not listed (nmap's word).
    std::string_view name(Port port, Protocol proto) const;
    // Whether the table lists the port at all (nmap's XML and grepable name only listed ones).
    bool lists(Port port, Protocol proto) const { return entries_.contains(key(port, proto)); }
    // The n most frequent ports of a protocol, most frequent first (ties: lower port first).
    // When the table has no frequencies (and for TCP), the built-in ranking is used instead.
    std::vector<Port> top_ports(Protocol proto, std::size_t n) const;
    // The ports of a protocol whose service name matches `pattern`, ascending: "http" is every
    // port listed as http (80 and 8008 in nmap-services); '*' and '?' are wildcards ("http*").
    // Case matters, as in nmap's -p.
    std::vector<Port> ports_named(std::string_view pattern, Protocol proto) const;

private:
    struct Entry {
        std::string name;
        double frequency = 0.0;
    };
    static std::uint32_t key(Port port, Protocol proto) {
        return (std::uint32_t{port.value()} << 1) | static_cast<std::uint32_t>(proto);
    }
    std::unordered_map<std::uint32_t, Entry> entries_;
    bool has_frequencies_ = false;
};

}  // namespace flagscan

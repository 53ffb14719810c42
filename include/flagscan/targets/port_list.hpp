// Port lists: nmap's -p syntax, and the built-in fallback for --top-ports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/targets/services.hpp"

namespace flagscan {

// The ports of a -p spec per protocol, each sorted and unique.
struct PortSpec {
    std::vector<Port> tcp;
    std::vector<Port> udp;
};

// Parses nmap's -p syntax:
//   "22"  "22,80,443"  "1000-2000"  "-" (1-65535)  "-1024" (1-1024)  "60000-" (60000-65535)
//   "U:53,111,T:21-25,80": a "T:" or "U:" prefix names the protocol of the items from there
//   on; items before any prefix are for both protocols (as in nmap).
//   "ssh,http", "U:domain", "http*": service names from `services` (nmap-services), each
//   every port the protocol lists under that name; '*' and '?' are wildcards (as in nmap)
// Port 0 is accepted only when written explicitly ("0" or "0-10"), as nmap does.
// Errors are one line: "bad port spec '70000': ports are 0-65535", "bad port range '90-80'",
// "bad port spec 'sshh': not a port number, and no service has that name".
Result<PortSpec> parse_port_spec(std::string_view spec, const ServiceTable& services);

// The same without service names (a name is an error).
Result<PortSpec> parse_port_spec(std::string_view spec);

// True when a -p spec names a service ("ssh", "T:http*"), so it needs a ServiceTable.
bool names_services(std::string_view spec);

// The TCP ports of a -p spec; an error when it names none.
Result<std::vector<Port>> parse_ports(std::string_view spec);

// The most common TCP ports by nmap's frequency ranking, most common first, built into the
// binary for machines without nmap-services. Holds at least 1000 entries.
std::span<const std::uint16_t> builtin_top_tcp_ports();

}  // namespace flagscan

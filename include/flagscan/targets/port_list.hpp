// Port lists: nmap's -p syntax, and the built-in fallback for --top-ports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"

namespace flagscan {

// Parses nmap's -p syntax into a sorted list of unique ports:
//   "22"  "22,80,443"  "1000-2000"  "-" (1-65535)  "-1024" (1-1024)  "60000-" (60000-65535)
//   "T:22,80" (a "T:" prefix is accepted; "U:" / "S:" parts are an error until UDP exists)
// Port 0 is accepted only when written explicitly ("0" or "0-10"), as nmap does.
// Errors are one line: "bad port spec '70000': ports are 0-65535", "bad port range '90-80'".
Result<std::vector<Port>> parse_ports(std::string_view spec);

// The most common TCP ports by nmap's frequency ranking, most common first, built into the
// binary for machines without nmap-services. Holds at least 1000 entries.
std::span<const std::uint16_t> builtin_top_tcp_ports();

}  // namespace flagscan

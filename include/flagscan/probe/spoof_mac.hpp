// --spoof-mac (nmap's): the Ethernet source address raw probes go out from, parsed from 0, a vendor name, a prefix or a whole MAC.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"

namespace flagscan {

// One line of nmap-mac-prefixes: an OUI (IEEE 802 24-bit prefix) and its vendor's name.
struct MacVendor {
    std::uint32_t oui = 0;
    std::string name;
};

// Every "0020F2 Vendor Name" line of nmap-mac-prefixes' text, in file order; comments and
// malformed lines are passed over.
std::vector<MacVendor> parse_mac_prefixes(std::string_view text);
// /usr/share/nmap/nmap-mac-prefixes, or nothing when it cannot be read.
std::vector<MacVendor> load_mac_prefixes();

// The MAC --spoof-mac ARG stands for, nmap's rules: "0" all random; 2-12 hex digits in pairs,
// optionally separated by ':' or '-' ("0020F2", "00:20", "02-01-02-03-04-05"), a prefix whose
// rest is random; anything else the first vendor (in file order) whose name starts with ARG,
// case-insensitively, its OUI with a random rest. The random bytes come from `seed` (the
// scan's), so a scan reproduces. IEEE 802 (802-2014 8.2): the first octet's I/G bit marks a
// group address, which is never a frame's source, so it is refused in a given prefix and
// cleared in a drawn one; a wholly drawn MAC also sets the U/L bit, locally administered, so it
// never takes a vendor's registered address (nmap leaves both bits to chance).
Result<MacAddress> parse_spoof_mac(std::string_view arg, std::span<const MacVendor> vendors, std::uint64_t seed);

// The vendor registered for `mac`'s OUI, or "No registered vendor" (nmap's words).
std::string mac_vendor(const MacAddress& mac, std::span<const MacVendor> vendors);

// nmap's line: "Spoofing MAC address 00:20:F2:12:34:56 (Oracle)".
std::string spoofing_line(const MacAddress& mac, std::span<const MacVendor> vendors);

}  // namespace flagscan

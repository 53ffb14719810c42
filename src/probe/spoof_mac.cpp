// --spoof-mac: nmap-mac-prefixes read, the argument parsed, the random rest drawn from the scan's seed.
#include "flagscan/probe/spoof_mac.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "flagscan/probe/probe_builder.hpp"

namespace flagscan {
namespace {

constexpr std::uint8_t kGroupBit = 0x01;  // IEEE 802: I/G, first octet's least significant bit
constexpr std::uint8_t kLocalBit = 0x02;  // IEEE 802: U/L, set in a locally administered address
constexpr std::uint64_t kMacStream = 0x7370'6f6f'666d'6163ULL;  // "spoofmac": its own draws of the seed

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// "0020F2", "00:20:f2", "00-20-F2-01-02-03": the bytes of 1-6 hex pairs, separators only
// between pairs; nullopt for anything else (a vendor name, an odd digit count).
std::optional<std::vector<std::uint8_t>> hex_prefix(std::string_view text) {
    std::vector<std::uint8_t> bytes;
    for (std::size_t at = 0; at < text.size();) {
        if (!bytes.empty() && (text[at] == ':' || text[at] == '-')) ++at;
        if (at + 2 > text.size() || bytes.size() == 6) return std::nullopt;
        const int high = hex_value(text[at]), low = hex_value(text[at + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        bytes.push_back(static_cast<std::uint8_t>(high * 16 + low));
        at += 2;
    }
    if (bytes.empty()) return std::nullopt;
    return bytes;
}

bool starts_with_folded(std::string_view name, std::string_view prefix) {
    return name.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), name.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
}

std::string upper_text(const MacAddress& mac) {
    char text[18];
    std::snprintf(text, sizeof text, "%02X:%02X:%02X:%02X:%02X:%02X", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return text;
}

}  // namespace

std::vector<MacVendor> parse_mac_prefixes(std::string_view text) {
    std::vector<MacVendor> vendors;
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
        if (line.size() < 8 || line[6] != ' ') continue;
        std::uint32_t oui = 0;
        const auto [end, ec] = std::from_chars(line.data(), line.data() + 6, oui, 16);
        if (ec != std::errc{} || end != line.data() + 6) continue;
        std::string name = line.substr(7);
        while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
        if (!name.empty()) vendors.push_back(MacVendor{oui, std::move(name)});
    }
    return vendors;
}

std::vector<MacVendor> load_mac_prefixes() {
    std::ifstream in{"/usr/share/nmap/nmap-mac-prefixes"};
    if (!in) return {};
    std::ostringstream text;
    text << in.rdbuf();
    return parse_mac_prefixes(text.str());
}

Result<MacAddress> parse_spoof_mac(std::string_view arg, std::span<const MacVendor> vendors, std::uint64_t seed) {
    MacAddress mac{};
    const auto drawn = random_data(mac.size(), seed ^ kMacStream);
    std::copy(drawn.begin(), drawn.end(), mac.begin());
    if (arg == "0") {
        mac[0] = static_cast<std::uint8_t>((mac[0] & ~kGroupBit) | kLocalBit);
        return mac;
    }
    std::vector<std::uint8_t> given;
    if (auto prefix = hex_prefix(arg)) {
        given = std::move(*prefix);
    } else {
        const auto vendor = std::ranges::find_if(vendors, [&](const MacVendor& v) { return !arg.empty() && starts_with_folded(v.name, arg); });
        if (vendor == vendors.end())
            return Error{"bad --spoof-mac '" + std::string(arg) + "': give 0 (random), hex digits in pairs (a prefix or a whole "
                         "MAC, e.g. 0020F2 or 02:01:02:03:04:05) or a vendor name from nmap-mac-prefixes" +
                         (vendors.empty() ? std::string(" (not found on this system)") : std::string())};
        given = {static_cast<std::uint8_t>(vendor->oui >> 16), static_cast<std::uint8_t>(vendor->oui >> 8),
                 static_cast<std::uint8_t>(vendor->oui)};
    }
    if ((given[0] & kGroupBit) != 0)
        return Error{"bad --spoof-mac '" + std::string(arg) + "': its first octet has the group (multicast) bit set, and a "
                     "group address is never a frame's source (IEEE 802)"};
    std::copy(given.begin(), given.end(), mac.begin());
    return mac;
}

std::string mac_vendor(const MacAddress& mac, std::span<const MacVendor> vendors) {
    const std::uint32_t oui = (std::uint32_t{mac[0]} << 16) | (std::uint32_t{mac[1]} << 8) | mac[2];
    const auto vendor = std::ranges::find_if(vendors, [oui](const MacVendor& v) { return v.oui == oui; });
    return vendor != vendors.end() ? vendor->name : "No registered vendor";
}

std::string spoofing_line(const MacAddress& mac, std::span<const MacVendor> vendors) {
    return "Spoofing MAC address " + upper_text(mac) + " (" + mac_vendor(mac, vendors) + ")";
}

}  // namespace flagscan

// Parsing and printing of IPv4 addresses.
#include "flagscan/net/ipv4.hpp"

#include <charconv>
#include <cstdio>

namespace flagscan {

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
    std::uint32_t value = 0;
    const char* p = text.data();
    const char* end = text.data() + text.size();
    for (int i = 0; i < 4; ++i) {
        if (i > 0) {
            if (p == end || *p != '.') return std::nullopt;
            ++p;
        }
        unsigned octet = 0;
        auto [next, ec] = std::from_chars(p, end, octet);
        if (ec != std::errc{} || next == p || next - p > 3 || octet > 255) return std::nullopt;
        p = next;
        value = (value << 8) | octet;
    }
    if (p != end) return std::nullopt;
    return Ipv4{value};
}

std::string mac_text(const MacAddress& mac) {
    char text[18];
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return text;
}

std::string Ipv4::str() const {
    std::string out;
    out.reserve(15);
    for (int i = 0; i < 4; ++i) {
        if (i > 0) out += '.';
        out += std::to_string(octet(i));
    }
    return out;
}

}  // namespace flagscan

// --ip-options: nmap's spellings of IPv4 options (RFC 791 3.1) turned into header bytes.
#include "flagscan/probe/ip_options.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>

namespace flagscan {
namespace {

constexpr std::uint8_t kEnd = 0, kNop = 1, kRecordRoute = 7, kTimestamp = 68, kLooseRoute = 131, kStrictRoute = 137;

Error bad(std::string_view text, const std::string& why) { return Error{"bad --ip-options '" + std::string(text) + "': " + why}; }

std::vector<std::string_view> words(std::string_view text) {
    std::vector<std::string_view> out;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t start = text.find_first_not_of(" ,", at);
        if (start == std::string_view::npos) break;
        const std::size_t end = std::min(text.find_first_of(" ,", start), text.size());
        out.push_back(text.substr(start, end - start));
        at = end;
    }
    return out;
}

// RFC 791: record route (type 7) with 9 empty slots, after a NOP that aligns them (as nmap).
// Internet timestamp (type 68, RFC 791): flag 0, 9 timestamps; flag 1, 4 address+timestamp pairs.
IpOptions recording(char letter) {
    IpOptions o;
    if (letter == 'R') o.bytes = {kNop, kRecordRoute, 39, 4};
    if (letter == 'T') o.bytes = {kTimestamp, 40, 5, 0};
    if (letter == 'U') o.bytes = {kTimestamp, 36, 5, 1};
    o.bytes.resize(letter == 'U' ? 36 : 40, 0);
    return o;
}

// RFC 791 loose (131) / strict (137) source route: the hops given, then a slot for the target.
Result<IpOptions> source_route(std::string_view text, char letter, const std::vector<std::string_view>& hops) {
    if (hops.empty()) return bad(text, std::string(1, letter) + " needs at least one hop address");
    if (hops.size() > 8) return bad(text, "at most 8 hops: the route's last of 9 slots is the target's");
    IpOptions o;
    o.bytes = {kNop, letter == 'L' ? kLooseRoute : kStrictRoute, static_cast<std::uint8_t>(3 + 4 * (hops.size() + 1)), 4};
    o.first_hop = o.bytes.size();
    for (const auto hop : hops) {
        const auto ip = Ipv4::parse(hop);
        if (!ip) return bad(text, "'" + std::string(hop) + "' is no IPv4 address");
        for (int i = 0; i < 4; ++i) o.bytes.push_back(ip->octet(i));
    }
    o.last_hop = o.bytes.size();
    o.bytes.resize(o.bytes.size() + 4, 0);
    return o;
}

// "\x01\x07*3\39": one byte per escape (hex after \x, decimal after \), "*N" repeats the last.
Result<IpOptions> raw_bytes(std::string_view text) {
    IpOptions o;
    for (std::size_t at = 0; at < text.size();) {
        const char c = text[at];
        if (c == ' ') { ++at; continue; }
        if (c != '\\' && c != '*') return bad(text, std::string("unexpected '") + c + "': give R, T, U, L, S or \\xHH bytes");
        const bool hex = c == '\\' && at + 1 < text.size() && text[at + 1] == 'x';
        const std::size_t from = at + (hex ? 2 : 1);
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(text.data() + from, text.data() + text.size(), value, hex ? 16 : 10);
        if (c == '*' && (ec != std::errc{} || o.bytes.empty() || value < 2 || value > IpOptions::kMax))
            return bad(text, "'*N' repeats the byte before it to N in all, N from 2 to 40");
        if (c == '\\' && (ec != std::errc{} || value > 255)) return bad(text, "a byte is \\xHH or \\DDD, at most 255");
        if (c == '*') o.bytes.insert(o.bytes.end(), value - 1, o.bytes.back());
        else o.bytes.push_back(static_cast<std::uint8_t>(value));
        if (o.bytes.size() > IpOptions::kMax) return bad(text, "more than 40 bytes of options (RFC 791: the header holds at most 60)");
        at = static_cast<std::size_t>(end - text.data());
    }
    if (o.bytes.empty()) return bad(text, "no option");
    return o;
}

}  // namespace

Result<IpOptions> parse_ip_options(std::string_view text) {
    const auto parts = words(text);
    if (parts.empty()) return bad(text, "no option");
    const std::string_view first = parts.front();
    Result<IpOptions> parsed = Error{""};
    if (first.size() == 1 && (first == "R" || first == "T" || first == "U")) {
        if (parts.size() > 1) return bad(text, std::string(first) + " takes no arguments");
        parsed = recording(first[0]);
    } else if (first.size() == 1 && (first == "L" || first == "S")) {
        parsed = source_route(text, first[0], {parts.begin() + 1, parts.end()});
    } else {
        parsed = raw_bytes(text);
    }
    if (!parsed) return parsed;
    parsed->bytes.resize((parsed->bytes.size() + 3) / 4 * 4, kEnd);  // RFC 791: padding is zero
    return parsed;
}

std::string describe_ip_options(const IpOptions& options) {
    const auto& b = options.bytes;
    const std::size_t at = !b.empty() && b[0] == kNop ? 1 : 0;
    const std::uint8_t type = at < b.size() ? b[at] : kEnd;
    if (options.first_hop && options.last_hop) {
        std::string via;
        for (std::size_t h = *options.first_hop; h + 4 <= *options.last_hop; h += 4)
            via += (via.empty() ? "" : ", ") + Ipv4{b[h], b[h + 1], b[h + 2], b[h + 3]}.str();
        return std::string(type == kStrictRoute ? "strict" : "loose") + " source route via " + via;
    }
    if (type == kRecordRoute && at + 1 < b.size()) return "record route (" + std::to_string((b[at + 1] - 3) / 4) + " slots)";
    if (type == kTimestamp && at + 3 < b.size())
        return b[at + 3] == 1 ? "timestamps with addresses (" + std::to_string((b[at + 1] - 4) / 8) + " slots)"
                              : "timestamps (" + std::to_string((b[at + 1] - 4) / 4) + " slots)";
    std::string hex = "bytes";
    for (const std::uint8_t byte : b) {
        char two[4];
        std::snprintf(two, sizeof two, " %02x", byte);
        hex += two;
    }
    return hex;
}

}  // namespace flagscan

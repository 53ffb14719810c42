// ServiceTable: parsing of nmap-services and /etc/services, name lookup and the top-ports ranking.
#include "flagscan/targets/services.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "flagscan/net/text.hpp"
#include "flagscan/targets/port_list.hpp"

namespace flagscan {

namespace {

constexpr const char* nmap_services_path = "/usr/share/nmap/nmap-services";
constexpr const char* etc_services_path = "/etc/services";

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// The first three blank-separated fields of a line, before any '#'.
struct Fields {
    std::array<std::string_view, 3> field{};
    std::size_t count = 0;
};

Fields fields_of(std::string_view line) {
    line = line.substr(0, line.find('#'));
    Fields f;
    std::size_t i = 0;
    while (f.count < f.field.size()) {
        while (i < line.size() && is_blank(line[i])) ++i;
        if (i == line.size()) break;
        const std::size_t start = i;
        while (i < line.size() && !is_blank(line[i])) ++i;
        f.field[f.count++] = line.substr(start, i - start);
    }
    return f;
}

// "22/tcp" -> (22, tcp); other protocols (sctp) and bad numbers give nothing.
std::optional<std::pair<Port, Protocol>> parse_port_proto(std::string_view text) {
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos || slash == 0) return std::nullopt;
    const auto port = parse_whole<unsigned>(text.substr(0, slash));
    if (!port || *port > 65535) return std::nullopt;
    const std::string_view proto = text.substr(slash + 1);
    if (proto == "tcp") return std::pair{Port{static_cast<std::uint16_t>(*port)}, Protocol::tcp};
    if (proto == "udp") return std::pair{Port{static_cast<std::uint16_t>(*port)}, Protocol::udp};
    return std::nullopt;
}

std::optional<double> parse_frequency(std::string_view text) {
    const auto value = parse_whole<double>(text);
    if (!value || !std::isfinite(*value) || *value < 0.0) return std::nullopt;
    return value;
}

// Calls f(line) for each line of text, without the newline.
template <class F>
void for_each_line(std::string_view text, F&& f) {
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        f(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
}

// Why iterative with one backtrack point: the pattern's last '*' is the only one worth retrying
// from (a later mismatch never needs an earlier star to absorb more), so matching is linear-ish
// and has no recursion for a hostile pattern such as "*a*a*a*a*b".
bool wildcard_match(std::string_view pattern, std::string_view text) {
    std::size_t p = 0, t = 0;
    std::size_t star = std::string_view::npos, star_text = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
            ++p, ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            star_text = t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++star_text;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

}  // namespace

ServiceTable ServiceTable::from_nmap_services(std::string_view text) {
    ServiceTable table;
    table.entries_.reserve(text.size() / 32);
    for_each_line(text, [&](std::string_view line) {
        const Fields f = fields_of(line);
        if (f.count < 3) return;
        const auto port_proto = parse_port_proto(f.field[1]);
        const auto frequency = parse_frequency(f.field[2]);
        if (!port_proto || !frequency) return;
        Entry entry{std::string(f.field[0]), *frequency};
        table.entries_.try_emplace(key(port_proto->first, port_proto->second), std::move(entry));
    });
    table.has_frequencies_ = !table.entries_.empty();
    return table;
}

ServiceTable ServiceTable::from_etc_services(std::string_view text) {
    ServiceTable table;
    for_each_line(text, [&](std::string_view line) {
        const Fields f = fields_of(line);
        if (f.count < 2) return;
        const auto port_proto = parse_port_proto(f.field[1]);
        if (!port_proto) return;
        // The first line for a port wins, as with getservbyport.
        table.entries_.try_emplace(key(port_proto->first, port_proto->second), Entry{std::string(f.field[0]), 0.0});
    });
    return table;
}

ServiceTable ServiceTable::load_system() {
    if (std::optional<std::string> text = read_text_file(nmap_services_path)) {
        ServiceTable table = from_nmap_services(*text);
        if (table.has_frequencies()) return table;
    }
    if (std::optional<std::string> text = read_text_file(etc_services_path)) return from_etc_services(*text);
    return ServiceTable{};
}

std::string_view ServiceTable::name(Port port, Protocol proto) const {
    const auto it = entries_.find(key(port, proto));
    return it == entries_.end() ? std::string_view{"unknown"} : std::string_view{it->second.name};
}

std::vector<Port> ServiceTable::top_ports(Protocol proto, std::size_t n) const {
    if (!has_frequencies_) {
        if (proto != Protocol::tcp) return {};  // no ranking is known for UDP without nmap-services
        const std::span<const std::uint16_t> builtin = builtin_top_tcp_ports();
        std::vector<Port> ports;
        for (std::uint16_t p : builtin.first(std::min(n, builtin.size()))) ports.push_back(Port{p});
        return ports;
    }
    std::vector<std::pair<double, Port>> ranked;
    for (const auto& [k, entry] : entries_)
        if ((k & 1u) == static_cast<std::uint32_t>(proto))
            ranked.emplace_back(entry.frequency, Port{static_cast<std::uint16_t>(k >> 1)});
    const auto more_frequent = [](const auto& x, const auto& y) {
        return x.first != y.first ? x.first > y.first : x.second < y.second;
    };
    const std::size_t count = std::min(n, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(count), ranked.end(), more_frequent);
    std::vector<Port> ports;
    ports.reserve(count);
    for (std::size_t i = 0; i < count; ++i) ports.push_back(ranked[i].second);
    return ports;
}

std::vector<Port> ServiceTable::ports_named(std::string_view pattern, Protocol proto) const {
    std::vector<Port> ports;
    for (const auto& [k, entry] : entries_)
        if ((k & 1u) == static_cast<std::uint32_t>(proto) && wildcard_match(pattern, entry.name))
            ports.push_back(Port{static_cast<std::uint16_t>(k >> 1)});
    std::sort(ports.begin(), ports.end());
    return ports;
}

}  // namespace flagscan

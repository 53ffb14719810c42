// nmap's -p syntax: port numbers, ranges with open ends, and the "T:" / "U:" protocol prefixes.
#include "flagscan/net/text.hpp"
#include "flagscan/targets/port_list.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace flagscan {

namespace {

struct PortRange {
    unsigned first;
    unsigned last;
};

Result<unsigned> parse_port(std::string_view text) {
    const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return c >= '0' && c <= '9';
    });
    if (!digits) return Error{"bad port spec " + quote_for_error(text) + ": not a port number"};
    const auto value = parse_whole<unsigned>(text);
    if (!value || *value > 65535) return Error{"bad port spec " + quote_for_error(text) + ": ports are 0-65535"};
    return *value;
}

// "N", "N-M", "-M" (from 1), "N-" (to 65535), "-" (1-65535).
Result<PortRange> parse_range(std::string_view item) {
    const std::size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
        Result<unsigned> port = parse_port(item);
        if (!port) return Error{port.error()};
        return PortRange{port.value(), port.value()};
    }
    if (item.find('-', dash + 1) != std::string_view::npos)
        return Error{"bad port range " + quote_for_error(item) + ": expected N, N-M, -M or N-"};
    const std::string_view first_text = item.substr(0, dash);
    const std::string_view last_text = item.substr(dash + 1);
    Result<unsigned> first = first_text.empty() ? Result<unsigned>{1u} : parse_port(first_text);
    if (!first) return Error{first.error()};
    Result<unsigned> last = last_text.empty() ? Result<unsigned>{65535u} : parse_port(last_text);
    if (!last) return Error{last.error()};
    if (first.value() > last.value()) return Error{"bad port range " + quote_for_error(item) + ": start is greater than end"};
    return PortRange{first.value(), last.value()};
}

enum class Which : std::uint8_t { both, tcp, udp };

// Reads a "T:" or "U:" prefix, which holds for the items after it too (nmap's rule); "S:" and
// "P:" name SCTP and IP protocol scans, which flagscan does not do.
Result<std::string_view> strip_protocol(std::string_view item, Which& which) {
    if (item.size() < 2 || item[1] != ':') return item;
    if (item[0] == 'T' || item[0] == 'U') {
        which = item[0] == 'T' ? Which::tcp : Which::udp;
        return item.substr(2);
    }
    if (item[0] == 'S' || item[0] == 'P')
        return Error{"bad port spec " + quote_for_error(item) + ": only TCP (T:) and UDP (U:) ports are scanned"};
    return Error{"bad port spec " + quote_for_error(item) + ": unknown protocol prefix"};
}

bool is_number_item(std::string_view item) {
    return std::all_of(item.begin(), item.end(), [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
}

struct Wanted {
    std::vector<bool> tcp = std::vector<bool>(65536, false);
    std::vector<bool> udp = std::vector<bool>(65536, false);
};

// A service name (or pattern): the ports of the protocols in `which` listed under it.
Result<bool> add_named(std::string_view item, Which which, const ServiceTable& services, Wanted& wanted) {
    bool found = false;
    for (const auto& [proto, marks] : {std::pair{Protocol::tcp, &wanted.tcp}, std::pair{Protocol::udp, &wanted.udp}}) {
        if (which == (proto == Protocol::tcp ? Which::udp : Which::tcp)) continue;
        for (const Port port : services.ports_named(item, proto)) {
            (*marks)[port.value()] = true;
            found = true;
        }
    }
    if (!found) return Error{"bad port spec " + quote_for_error(item) + ": not a port number, and no service has that name"};
    return true;
}

Result<bool> add_item(std::string_view item, Which which, const ServiceTable& services, Wanted& wanted) {
    if (!is_number_item(item)) return add_named(item, which, services, wanted);
    Result<PortRange> range = parse_range(item);
    if (!range) return Error{range.error()};
    if (which != Which::udp) std::fill(wanted.tcp.begin() + range->first, wanted.tcp.begin() + range->last + 1, true);
    if (which != Which::tcp) std::fill(wanted.udp.begin() + range->first, wanted.udp.begin() + range->last + 1, true);
    return true;
}

std::vector<Port> ports_of(const std::vector<bool>& wanted) {
    std::vector<Port> ports;
    for (unsigned p = 0; p < wanted.size(); ++p)
        if (wanted[p]) ports.push_back(Port{static_cast<std::uint16_t>(p)});
    return ports;
}

}  // namespace

Result<PortSpec> parse_port_spec(std::string_view spec, const ServiceTable& services) {
    if (spec.empty()) return Error{"bad port spec '': no ports given"};
    Wanted wanted;
    Which which = Which::both;
    std::size_t start = 0;
    while (start <= spec.size()) {
        std::size_t comma = spec.find(',', start);
        if (comma == std::string_view::npos) comma = spec.size();
        Result<std::string_view> item = strip_protocol(spec.substr(start, comma - start), which);
        if (!item) return Error{item.error()};
        if (item.value().empty()) return Error{"bad port spec " + quote_for_error(spec) + ": empty item"};
        if (Result<bool> ok = add_item(item.value(), which, services, wanted); !ok) return Error{ok.error()};
        start = comma + 1;
    }
    return PortSpec{ports_of(wanted.tcp), ports_of(wanted.udp)};
}

Result<PortSpec> parse_port_spec(std::string_view spec) { return parse_port_spec(spec, ServiceTable{}); }

bool names_services(std::string_view spec) {
    return std::any_of(spec.begin(), spec.end(), [](char c) {
        return !((c >= '0' && c <= '9') || c == '-' || c == ',' || c == ':' || c == 'T' || c == 'U');
    });
}

Result<std::vector<Port>> parse_ports(std::string_view spec) {
    auto both = parse_port_spec(spec);
    if (!both) return Error{both.error()};
    if (both->tcp.empty()) return Error{"bad port spec " + quote_for_error(spec) + ": no TCP ports in it"};
    return std::move(both->tcp);
}

}  // namespace flagscan

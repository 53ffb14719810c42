// Source address and interface selection from the kernel's routing table, for IPv4 and IPv6 targets.
#include "flagscan/cli/route.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <memory>
#include <tuple>

#include "flagscan/net/text.hpp"
#include "flagscan/wire/fd.hpp"

namespace flagscan {
namespace {

struct IfaddrsDeleter {
    void operator()(ifaddrs* list) const { freeifaddrs(list); }
};

std::optional<Ipv4> ipv4_of(const sockaddr* address) {
    if (address == nullptr || address->sa_family != AF_INET) return std::nullopt;
    return Ipv4{ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr)};
}

// The network an address with this netmask is directly attached to.
std::optional<Ipv4Range> subnet_of(Ipv4 ip, const sockaddr* netmask) {
    auto mask = ipv4_of(netmask);
    if (!mask) return std::nullopt;
    const std::uint32_t first = ip.value() & mask->value();
    return Ipv4Range{Ipv4{first}, Ipv4{first | ~mask->value()}};
}

// The interface's Ethernet address (SIOCGIFHWADDR, netdevice(7)), when it has one.
std::optional<MacAddress> mac_of(const std::string& name) {
    Fd fd{::socket(AF_INET, SOCK_DGRAM, 0)};
    ifreq request{};
    if (!fd || name.size() >= sizeof request.ifr_name) return std::nullopt;
    std::memcpy(request.ifr_name, name.c_str(), name.size());
    if (::ioctl(fd.get(), SIOCGIFHWADDR, &request) != 0 || request.ifr_hwaddr.sa_family != ARPHRD_ETHER) return std::nullopt;
    MacAddress mac{};
    std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, mac.size());
    return mac;
}

// The first choice `pick` makes among the interfaces' addresses (getifaddrs), in their order.
template <class Pick>
auto first_interface(Pick pick) -> decltype(pick(std::declval<const ifaddrs&>())) {
    ifaddrs* raw = nullptr;
    if (getifaddrs(&raw) != 0) return std::nullopt;
    const std::unique_ptr<ifaddrs, IfaddrsDeleter> list{raw};
    for (const ifaddrs* entry = list.get(); entry != nullptr; entry = entry->ifa_next)
        if (auto found = pick(*entry)) return found;
    return std::nullopt;
}

// The interface holding `address`, or the first IPv4 address of `name` when address is unset.
std::optional<RouteChoice> find_interface(std::optional<Ipv4> address, const std::string& name) {
    return first_interface([&](const ifaddrs& entry) -> std::optional<RouteChoice> {
        auto ip = ipv4_of(entry.ifa_addr);
        if (!ip || (!name.empty() && name != entry.ifa_name) || (address && *address != *ip)) return std::nullopt;
        return RouteChoice{*ip, entry.ifa_name, subnet_of(*ip, entry.ifa_netmask), mac_of(entry.ifa_name)};
    });
}

// ---- IPv6 ----

constexpr std::uint32_t kRtfGateway = 0x0002;  // linux/route.h RTF_GATEWAY
constexpr std::uint32_t kRtfReject = 0x0200;   // linux/route.h RTF_REJECT: "unreachable", "prohibit" routes

std::optional<Ipv6> ipv6_of(const sockaddr* address) {
    if (address == nullptr || address->sa_family != AF_INET6) return std::nullopt;
    const auto& in6 = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
    return Ipv6::from_bytes(std::span<const std::uint8_t, 16>{in6.s6_addr, 16});
}

// RFC 4291 2.5.6: fe80::/10.
bool link_local(Ipv6 address) { return (address.high() >> 54) == (0xfe80ULL >> 6); }

// The prefix an address with this netmask holds on its interface: the mask's leading one bits.
std::optional<Ipv6Prefix> prefix_of(Ipv6 address, const sockaddr* netmask) {
    const auto mask = ipv6_of(netmask);
    if (!mask) return std::nullopt;
    const int length = std::countl_one(mask->high()) + (mask->high() == ~std::uint64_t{0} ? std::countl_one(mask->low()) : 0);
    return Ipv6Prefix::of(address, static_cast<std::uint8_t>(length));
}

// The interface holding `address`; with no address, the first one of `name` of the target's scope.
std::optional<RouteChoice6> find_interface6(std::optional<Ipv6> address, const std::string& name, Ipv6 target) {
    return first_interface([&](const ifaddrs& entry) -> std::optional<RouteChoice6> {
        auto ip = ipv6_of(entry.ifa_addr);
        if (!ip || (!name.empty() && name != entry.ifa_name)) return std::nullopt;
        if (address ? *address != *ip : link_local(*ip) != link_local(target)) return std::nullopt;
        return RouteChoice6{*ip, entry.ifa_name, prefix_of(*ip, entry.ifa_netmask), mac_of(entry.ifa_name)};
    });
}

// 1 to 16 hex digits, as /proc writes them.
std::optional<std::uint64_t> parse_hex64(std::string_view hex) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
    if (hex.empty() || hex.size() > 16 || ec != std::errc{} || end != hex.data() + hex.size()) return std::nullopt;
    return value;
}

std::optional<Ipv6> hex_address(std::string_view hex) {
    if (hex.size() != 32) return std::nullopt;
    const auto high = parse_hex64(hex.substr(0, 16));
    const auto low = parse_hex64(hex.substr(16));
    if (!high || !low) return std::nullopt;
    return Ipv6{*high, *low};
}

std::optional<Ipv6Route> parse_route_line(std::string_view line) {
    std::vector<std::string_view> fields;
    for (std::string_view field : split_on(line, ' '))
        if (!field.empty()) fields.push_back(field);
    if (fields.size() != 10) return std::nullopt;
    const auto destination = hex_address(fields[0]);
    const auto length = parse_hex64(fields[1]);
    const auto next_hop = hex_address(fields[4]);
    const auto metric = parse_hex64(fields[5]);
    const auto flags = parse_hex64(fields[8]);
    if (!destination || !length || *length > 128 || !next_hop || !metric || !flags) return std::nullopt;
    return Ipv6Route{Ipv6Prefix::of(*destination, static_cast<std::uint8_t>(*length)), *next_hop,
                     static_cast<std::uint32_t>(*metric), static_cast<std::uint32_t>(*flags), std::string(fields[9])};
}

}  // namespace

Result<Ipv4> kernel_source_for(Ipv4 target) {
    Fd fd{::socket(AF_INET, SOCK_DGRAM, 0)};
    if (!fd) return Error{std::string("cannot ask the routing table: ") + std::strerror(errno)};
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    to.sin_addr.s_addr = htonl(target.value());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
        return Error{"no route to " + target.str() + ": " + std::strerror(errno)};
    sockaddr_in me{};
    socklen_t length = sizeof me;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&me), &length) != 0)
        return Error{std::string("cannot read the route's source address: ") + std::strerror(errno)};
    return Ipv4{ntohl(me.sin_addr.s_addr)};
}

bool interface_exists(const std::string& name) { return if_nametoindex(name.c_str()) != 0; }

Result<RouteChoice> choose_route(Ipv4 target, const std::string& interface, std::optional<Ipv4> source) {
    if (!interface.empty() && !interface_exists(interface)) return Error{"unknown interface '" + interface + "'"};
    if (!source && interface.empty()) {
        auto kernel = kernel_source_for(target);
        if (!kernel) return Error{kernel.error()};
        source = *kernel;
    }
    if (auto found = find_interface(source, interface)) return *found;
    if (source && !interface.empty()) return RouteChoice{*source, interface, std::nullopt, mac_of(interface)};  // -S spoofs
    if (source) return Error{"no interface holds the source address " + source->str() + " (give one with -e)"};
    return Error{"interface '" + interface + "' has no IPv4 address (give one with -S)"};
}



std::vector<Ipv6Route> parse_ipv6_routes(std::string_view text) {
    std::vector<Ipv6Route> routes;
    for (std::string_view line : split_on(text, '\n'))
        if (auto route = parse_route_line(line)) routes.push_back(std::move(*route));
    return routes;
}

std::vector<Ipv6Route> kernel_ipv6_routes() {
    const auto text = read_text_file("/proc/net/ipv6_route");
    return text ? parse_ipv6_routes(*text) : std::vector<Ipv6Route>{};
}

std::optional<Ipv6Route> route_for(std::span<const Ipv6Route> routes, Ipv6 target, const std::string& device) {
    const Ipv6Route* best = nullptr;
    const auto rank = [&](const Ipv6Route& r) { return std::tuple{-int{r.destination.length}, r.metric, r.device != device}; };
    for (const Ipv6Route& route : routes)
        if (route.destination.contains(target) && (best == nullptr || rank(route) < rank(*best))) best = &route;
    if (best == nullptr) return std::nullopt;
    return *best;
}

bool on_link(std::span<const Ipv6Route> routes, Ipv6 target, const std::string& interface) {
    const auto route = route_for(routes, target, interface);
    return route && route->next_hop == Ipv6{} && (route->flags & (kRtfGateway | kRtfReject)) == 0 && route->device == interface;
}

Result<Ipv6> kernel_source_for6(Ipv6 target, const std::string& interface) {
    if (link_local(target) && interface.empty())
        return Error{"the link-local target " + target.str() + " is on every link: name the interface with -e"};
    Fd fd{::socket(AF_INET6, SOCK_DGRAM, 0)};
    if (!fd) return Error{std::string("cannot ask the IPv6 routing table: ") + std::strerror(errno)};
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_port = htons(9);
    const Ipv6::Bytes bytes = target.bytes();
    std::memcpy(to.sin6_addr.s6_addr, bytes.data(), bytes.size());
    if (link_local(target)) to.sin6_scope_id = if_nametoindex(interface.c_str());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
        return Error{"no route to " + target.str() + ": " + std::strerror(errno)};
    sockaddr_in6 me{};
    socklen_t length = sizeof me;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&me), &length) != 0)
        return Error{std::string("cannot read the route's source address: ") + std::strerror(errno)};
    return *ipv6_of(reinterpret_cast<const sockaddr*>(&me));
}

Result<RouteChoice6> choose_route6(Ipv6 target, const std::string& interface, std::optional<Ipv6> source) {
    if (!interface.empty() && !interface_exists(interface)) return Error{"unknown interface '" + interface + "'"};
    if (!source && interface.empty()) {
        auto kernel = kernel_source_for6(target, interface);
        if (!kernel) return Error{kernel.error()};
        source = *kernel;
    }
    if (auto found = find_interface6(source, interface, target)) return *found;
    if (source && !interface.empty()) return RouteChoice6{*source, interface, std::nullopt, mac_of(interface)};  // -S spoofs
    if (source) return Error{"no interface holds the source address " + source->str() + " (give one with -e)"};
    return Error{"interface '" + interface + "' has no IPv6 address" + (link_local(target) ? " on the link" : "") +
                 " (give one with -S)"};
}

Result<RouteChoice> keyed_route(const RouteChoice6& route, const Ipv6Ranges& targets, bool targets_on_link, AddressBook& book) {
    const auto source = book.key_for(route.source);
    if (!source) return Error{"too many IPv6 addresses: no key left for the source address " + route.source.str()};
    RouteChoice keyed{*source, route.interface, std::nullopt, route.mac};
    if (!targets_on_link || targets.empty()) return keyed;
    const auto first = book.key_of(targets.front().first);
    const auto last = book.key_of(targets.back().last);
    if (first && last) keyed.subnet = Ipv4Range{*first, *last};
    return keyed;
}

}  // namespace flagscan

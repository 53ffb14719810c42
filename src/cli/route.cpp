// Source address and interface selection from the kernel's routing table.
#include "flagscan/cli/route.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

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

// The interface holding `address`, or the first IPv4 address of `name` when address is unset.
std::optional<RouteChoice> find_interface(std::optional<Ipv4> address, const std::string& name) {
    ifaddrs* raw = nullptr;
    if (getifaddrs(&raw) != 0) return std::nullopt;
    std::unique_ptr<ifaddrs, IfaddrsDeleter> list{raw};
    for (const ifaddrs* entry = list.get(); entry != nullptr; entry = entry->ifa_next) {
        auto ip = ipv4_of(entry->ifa_addr);
        if (!ip) continue;
        const bool name_ok = name.empty() || name == entry->ifa_name;
        const bool address_ok = !address || *address == *ip;
        if (name_ok && address_ok)
            return RouteChoice{*ip, entry->ifa_name, subnet_of(*ip, entry->ifa_netmask), mac_of(entry->ifa_name)};
    }
    return std::nullopt;
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

}  // namespace flagscan

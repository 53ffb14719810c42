// Source address and interface selection from the kernel's routing table.
#include "flagscan/cli/route.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
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
        if (name_ok && address_ok) return RouteChoice{*ip, entry->ifa_name};
    }
    return std::nullopt;
}

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

}  // namespace

bool interface_exists(const std::string& name) { return if_nametoindex(name.c_str()) != 0; }

Result<RouteChoice> choose_route(Ipv4 target, const std::string& interface, std::optional<Ipv4> source) {
    if (!interface.empty() && !interface_exists(interface)) return Error{"unknown interface '" + interface + "'"};
    if (!source && interface.empty()) {
        auto kernel = kernel_source_for(target);
        if (!kernel) return Error{kernel.error()};
        source = *kernel;
    }
    if (auto found = find_interface(source, interface)) return *found;
    if (source && !interface.empty()) return RouteChoice{*source, interface};  // -S spoofs: trust the user
    if (source) return Error{"no interface holds the source address " + source->str() + " (give one with -e)"};
    return Error{"interface '" + interface + "' has no IPv4 address (give one with -S)"};
}

}  // namespace flagscan

// The kernel's neighbours through an rtnetlink dump, and IPv4 next hops from /proc/net/route.
#include "flagscan/cli/neighbors.hpp"

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <sstream>

#include "flagscan/cli/route.hpp"
#include "flagscan/wire/fd.hpp"

namespace flagscan {
namespace {

// NUD states with a MAC worth using (linux/neighbour.h); INCOMPLETE and FAILED have none.
constexpr std::uint16_t kUsable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT;

// One neighbour message's address and MAC, when it is of `ifindex` and usable.
std::optional<Neighbor> neighbor_of(const nlmsghdr* header, int ifindex) {
    const auto* message = static_cast<const ndmsg*>(NLMSG_DATA(header));
    if (message->ndm_ifindex != ifindex || (message->ndm_state & kUsable) == 0) return std::nullopt;
    std::optional<Ipv6> address;
    std::optional<MacAddress> mac;
    int left = static_cast<int>(RTM_PAYLOAD(header));
    for (const rtattr* attribute = RTM_RTA(message); RTA_OK(attribute, left); attribute = RTA_NEXT(attribute, left)) {
        const auto* data = static_cast<const std::uint8_t*>(RTA_DATA(attribute));
        const std::size_t size = RTA_PAYLOAD(attribute);
        if (attribute->rta_type == NDA_DST && size == 4) address = Ipv6::mapped(Ipv4{ntohl(*reinterpret_cast<const std::uint32_t*>(data))});
        if (attribute->rta_type == NDA_DST && size == 16) address = Ipv6::from_bytes(std::span<const std::uint8_t, 16>{data, 16});
        if (attribute->rta_type == NDA_LLADDR && size == 6) std::copy(data, data + 6, mac.emplace().begin());
    }
    if (!address || !mac) return std::nullopt;
    return Neighbor{*address, *mac};
}

// One RTM_GETNEIGH dump of `family` (rtnetlink(7)), its usable entries of `ifindex` appended.
void dump_neighbors(int family, int ifindex, std::vector<Neighbor>& out) {
    Fd fd{::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)};
    if (!fd) return;
    struct {
        nlmsghdr header;
        ndmsg message;
    } request{};
    request.header.nlmsg_len = sizeof request;
    request.header.nlmsg_type = RTM_GETNEIGH;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.message.ndm_family = static_cast<std::uint8_t>(family);
    if (::send(fd.get(), &request, sizeof request, 0) < 0) return;
    std::array<char, 32768> buffer{};
    for (;;) {
        const ssize_t got = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
        if (got <= 0) return;
        auto left = static_cast<unsigned>(got);
        for (auto* header = reinterpret_cast<const nlmsghdr*>(buffer.data()); NLMSG_OK(header, left); header = NLMSG_NEXT(header, left)) {
            if (header->nlmsg_type == NLMSG_DONE || header->nlmsg_type == NLMSG_ERROR) return;
            if (header->nlmsg_type != RTM_NEWNEIGH) continue;
            if (auto neighbor = neighbor_of(header, ifindex)) out.push_back(*neighbor);
        }
    }
}

}  // namespace

std::vector<Neighbor> kernel_neighbors(const std::string& device) {
    std::vector<Neighbor> found;
    const int ifindex = static_cast<int>(if_nametoindex(device.c_str()));
    if (ifindex == 0) return found;
    dump_neighbors(AF_INET, ifindex, found);
    dump_neighbors(AF_INET6, ifindex, found);
    return found;
}

std::vector<Ipv4Route> parse_ipv4_routes(std::string_view text) {
    std::vector<Ipv4Route> routes;
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields{line};
        std::string device, destination, gateway, flags, refcnt, use, metric, mask;
        if (!(fields >> device >> destination >> gateway >> flags >> refcnt >> use >> metric >> mask)) continue;
        const auto word = [](const std::string& hex) -> std::optional<std::uint32_t> {
            if (hex.size() != 8 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) return std::nullopt;
            return ntohl(static_cast<std::uint32_t>(std::stoul(hex, nullptr, 16)));  // printed as the raw __be32
        };
        const auto d = word(destination), g = word(gateway), m = word(mask);
        if (!d || !g || !m || metric.find_first_not_of("0123456789") != std::string::npos) continue;
        routes.push_back(Ipv4Route{Ipv4{*d}, Ipv4{*m}, Ipv4{*g}, static_cast<std::uint32_t>(std::stoul(metric)), device});
    }
    return routes;
}

std::vector<Ipv4Route> kernel_ipv4_routes() {
    std::ifstream in{"/proc/net/route"};
    std::ostringstream text;
    text << in.rdbuf();
    return parse_ipv4_routes(text.str());
}

std::optional<Ipv4> next_hop4(std::span<const Ipv4Route> routes, Ipv4 target, const std::string& device) {
    const Ipv4Route* best = nullptr;
    for (const auto& route : routes) {
        if (route.device != device || (target.value() & route.mask.value()) != route.destination.value()) continue;
        if (best == nullptr || route.mask.value() > best->mask.value() ||
            (route.mask.value() == best->mask.value() && route.metric < best->metric))
            best = &route;
    }
    if (best == nullptr) return std::nullopt;
    return best->gateway.value() == 0 ? target : best->gateway;
}

std::function<std::optional<Ipv6>(const Ipv6& destination)> kernel_next_hops(const std::string& device, bool ipv6) {
    if (ipv6) {
        return [routes = kernel_ipv6_routes(), device](const Ipv6& destination) -> std::optional<Ipv6> {
            const auto route = route_for(routes, destination, device);
            if (!route) return std::nullopt;
            return route->next_hop == Ipv6{} ? destination : route->next_hop;
        };
    }
    return [routes = kernel_ipv4_routes(), device](const Ipv6& destination) -> std::optional<Ipv6> {
        const auto v4 = destination.v4_mapped();
        const auto hop = v4 ? next_hop4(routes, *v4, device) : std::nullopt;
        return hop ? std::optional{Ipv6::mapped(*hop)} : std::nullopt;
    };
}

}  // namespace flagscan

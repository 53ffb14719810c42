// Parallel, time-bounded reverse DNS with getnameinfo, for IPv4 and IPv6 addresses.
#include "flagscan/cli/reverse_dns.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace flagscan {
namespace {

constexpr std::size_t kWorkers = 8;

// Shared by the caller and the workers, so that a worker still blocked in getnameinfo when
// the caller has gone on keeps it alive. An IPv4 address is held as ::ffff:a.b.c.d (RFC 4291
// 2.5.5.2), and :: stands for "do not look up".
struct Lookups {
    explicit Lookups(std::vector<Ipv6> ips) : addresses(std::move(ips)), names(addresses.size()) {}
    std::vector<Ipv6> addresses;
    std::atomic<std::size_t> next{0};
    std::mutex mutex;
    std::condition_variable finished;
    std::vector<std::string> names;
    std::size_t done = 0;
};

std::string name_of(const sockaddr* address, socklen_t length) {
    char host[NI_MAXHOST] = {};
    const int status = getnameinfo(address, length, host, sizeof host, nullptr, 0, NI_NAMEREQD);
    return status == 0 ? std::string(host) : std::string();
}

std::string name_of(Ipv6 ip) {
    if (ip == Ipv6{}) return {};  // a placeholder: nothing to look up
    if (const auto v4 = ip.v4_mapped()) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(v4->value());
        return name_of(reinterpret_cast<const sockaddr*>(&address), sizeof address);
    }
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    const Ipv6::Bytes bytes = ip.bytes();
    std::memcpy(address.sin6_addr.s6_addr, bytes.data(), bytes.size());
    return name_of(reinterpret_cast<const sockaddr*>(&address), sizeof address);
}

// What each lookup asks about: 0.0.0.0 and a key not in `book` are placeholders (::).
std::vector<Ipv6> lookup_addresses(const std::vector<Ipv4>& addresses, const AddressBook* book) {
    std::vector<Ipv6> out;
    out.reserve(addresses.size());
    for (const Ipv4 ip : addresses) {
        if (book != nullptr) out.push_back(book->address_of(ip).value_or(Ipv6{}));
        else out.push_back(ip == Ipv4{} ? Ipv6{} : Ipv6::mapped(ip));
    }
    return out;
}

void work(const std::shared_ptr<Lookups>& lookups) {
    for (;;) {
        const std::size_t i = lookups->next.fetch_add(1);
        if (i >= lookups->addresses.size()) return;
        std::string name = name_of(lookups->addresses[i]);
        std::lock_guard lock{lookups->mutex};
        lookups->names[i] = std::move(name);
        if (++lookups->done == lookups->addresses.size()) lookups->finished.notify_all();
    }
}

}  // namespace

std::vector<std::string> reverse_names(const std::vector<Ipv4>& addresses, Micros budget, const AddressBook* book) {
    if (addresses.empty()) return {};
    auto lookups = std::make_shared<Lookups>(lookup_addresses(addresses, book));
    for (std::size_t i = 0; i < std::min(kWorkers, addresses.size()); ++i) std::thread(work, lookups).detach();
    std::unique_lock lock{lookups->mutex};
    lookups->finished.wait_for(lock, std::chrono::microseconds(budget),
                               [&] { return lookups->done == lookups->addresses.size(); });
    return lookups->names;
}

}  // namespace flagscan

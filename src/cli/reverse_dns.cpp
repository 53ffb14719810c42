// Parallel, time-bounded reverse DNS with getnameinfo.
#include "flagscan/cli/reverse_dns.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace flagscan {
namespace {

constexpr std::size_t kWorkers = 8;

// Shared by the caller and the workers, so that a worker still blocked in getnameinfo when
// the caller has gone on keeps it alive (which is why it holds the addresses themselves, an
// IPv4 one as ::ffff:a.b.c.d, and no pointer to the scan's book).
struct Lookups {
    explicit Lookups(std::vector<Ipv6> ips) : addresses(std::move(ips)), names(addresses.size()) {}
    std::vector<Ipv6> addresses;
    std::atomic<std::size_t> next{0};
    std::mutex mutex;
    std::condition_variable finished;
    std::vector<std::string> names;
    std::size_t done = 0;
};

std::string name_of(const sockaddr* address, socklen_t size) {
    char host[NI_MAXHOST] = {};
    const int status = getnameinfo(address, size, host, sizeof host, nullptr, 0, NI_NAMEREQD);
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
    std::copy(bytes.begin(), bytes.end(), address.sin6_addr.s6_addr);
    return name_of(reinterpret_cast<const sockaddr*>(&address), sizeof address);
}

// What to look up for `ip`: a key's IPv6 address, else the IPv4 address mapped; :: for 0.0.0.0.
Ipv6 lookup_address(Ipv4 ip, const AddressBook* book) {
    if (ip == Ipv4{}) return Ipv6{};
    if (book != nullptr) {
        if (const auto address = book->address_of(ip)) return *address;
    }
    return Ipv6::mapped(ip);
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
    std::vector<Ipv6> wanted;
    wanted.reserve(addresses.size());
    for (const Ipv4 ip : addresses) wanted.push_back(lookup_address(ip, book));
    auto lookups = std::make_shared<Lookups>(std::move(wanted));
    for (std::size_t i = 0; i < std::min(kWorkers, addresses.size()); ++i) std::thread(work, lookups).detach();
    std::unique_lock lock{lookups->mutex};
    lookups->finished.wait_for(lock, std::chrono::microseconds(budget),
                               [&] { return lookups->done == lookups->addresses.size(); });
    return lookups->names;
}

}  // namespace flagscan

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
// the caller has gone on keeps it alive.
struct Lookups {
    explicit Lookups(std::vector<Ipv4> ips) : addresses(std::move(ips)), names(addresses.size()) {}
    std::vector<Ipv4> addresses;
    std::atomic<std::size_t> next{0};
    std::mutex mutex;
    std::condition_variable finished;
    std::vector<std::string> names;
    std::size_t done = 0;
};

std::string name_of(Ipv4 ip) {
    if (ip == Ipv4{}) return {};  // a placeholder: nothing to look up
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(ip.value());
    char host[NI_MAXHOST] = {};
    const int status = getnameinfo(reinterpret_cast<const sockaddr*>(&address), sizeof address, host, sizeof host,
                                   nullptr, 0, NI_NAMEREQD);
    return status == 0 ? std::string(host) : std::string();
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

std::vector<std::string> reverse_names(const std::vector<Ipv4>& addresses, Micros budget) {
    if (addresses.empty()) return {};
    auto lookups = std::make_shared<Lookups>(addresses);
    for (std::size_t i = 0; i < std::min(kWorkers, addresses.size()); ++i) std::thread(work, lookups).detach();
    std::unique_lock lock{lookups->mutex};
    lookups->finished.wait_for(lock, std::chrono::microseconds(budget),
                               [&] { return lookups->done == lookups->addresses.size(); });
    return lookups->names;
}

}  // namespace flagscan

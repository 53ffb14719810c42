// Reverse DNS for the hosts a report shows, in parallel and within a time budget.
#pragma once

#include <string>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/net/address_book.hpp"
#include "flagscan/net/ipv4.hpp"

namespace flagscan {

// The PTR name of each address ("" when it has none, the budget ran out first, or the address
// is 0.0.0.0, which stands for "do not look up"). Lookups run
// on worker threads (getnameinfo blocks); whatever has not answered within `budget` is left
// unnamed, and its thread finishes on its own. `book`: an IPv6 scan's, whose keys are looked up
// as the IPv6 addresses they stand for (ip6.arpa, RFC 3596), never as 0.0.0.x.
std::vector<std::string> reverse_names(const std::vector<Ipv4>& addresses, Micros budget,
                                       const AddressBook* book = nullptr);

}  // namespace flagscan

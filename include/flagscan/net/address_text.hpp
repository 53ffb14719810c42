// How reports write a scan's addresses: an IPv6 scan's keys through its AddressBook, ports after them.
#pragma once

#include <string>
#include <string_view>

#include "flagscan/net/address_book.hpp"
#include "flagscan/net/ipv4.hpp"

namespace flagscan {

// `ip` of a scan whose book is `book`: through the book (an IPv6 scan's key as its address,
// RFC 5952), or as itself when there is none (an IPv4 scan: null). TargetSet::address_text is
// this for the scan's own book.
inline std::string address_text(const AddressBook* book, Ipv4 ip) { return book != nullptr ? book->text(ip) : ip.str(); }

// An address (as address_text gives it) and a port in one word: "10.0.0.2:22", "[fd77:1::2]:22"
// (an IPv6 address in brackets, RFC 5952 section 6, since its own colons would swallow the port's).
inline std::string endpoint_text(std::string_view address, Port port) {
    const std::string number = ":" + std::to_string(port.value());
    if (address.find(':') != std::string_view::npos) return "[" + std::string(address) + "]" + number;
    return std::string(address) + number;
}

}  // namespace flagscan

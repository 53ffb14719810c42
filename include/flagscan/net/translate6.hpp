// Captured IPv6 packets turned into the IPv4-keyed DecodedPacket the engine reads (RFC 7915-style, AddressBook keys).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "flagscan/net/address_book.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/net/decode6.hpp"

namespace flagscan {

// One row of the ICMPv6-to-ICMP table translate6 reads errors and echoes by (RFC 7915 5.2, the
// policy codes read as flagscan does): ICMPv6 type and code (`any`: every code), the ICMP type and
// code it reads as (`kept`: the ICMPv6 code), and RFC 4443's words: the message's name, the
// code's meaning (empty when the type says it all) and the section.
struct Icmp6Reading {
    static constexpr int any = -1, kept = -1;
    std::uint8_t type6 = 0;
    int code6 = any;
    std::uint8_t type4 = 0;
    int code4 = kept;
    std::string_view name;
    std::string_view meaning;
    std::string_view section;
};
std::span<const Icmp6Reading> icmp6_readings();

// How the translation names an IPv6 address: a live scan knows every address it may hear about
// (its targets and its own source) and looks them up, so a packet naming another one is no
// answer of its (a stray, dropped); a replay learns the addresses from the capture and gives
// each new one the next key.
enum class BookUse : std::uint8_t { look_up, add };

// The IPv6 packet as the engine reads an IPv4 one:
// addresses -> AddressBook keys; hop limit -> ttl; traffic class -> tos; flow label's low 16 bits
// -> ip.id (our UDP probes carry their cookie there); ICMPv6 -> ICMP as RFC 7915 5.2 says, an
// error's quoted probe translated likewise; a Neighbor Advertisement -> an ARP reply. nullopt
// when an address has no key (BookUse::look_up) or the book is full, for ICMPv6 messages RFC 7915
// drops, and for packets no scan answer is (the unspecified address, RFC 4291 2.5.2). One
// exception: an ICMPv6 error quoting a probe of ours from an address without a key (a router on
// the path) gets ip.src 0.0.0.0 (no key), so it still reads as "from elsewhere than the target".
// `book` is only written with BookUse::add.
std::optional<DecodedPacket> translate6(const DecodedPacket6& packet, AddressBook& book, BookUse use);
// A live scan's: BookUse::look_up over a book it does not change.
std::optional<DecodedPacket> translate6(const DecodedPacket6& packet, const AddressBook& book);

// What one scan makes of a captured frame, the one place every path asks (the live loop, every
// pass of a replay; the hooks they feed get its packets): an IPv4 scan reads IPv4 and ARP frames
// (decode_frame); a live IPv6 scan reads IPv6 frames only, through its book (look_up); a replay
// reads both, learning IPv6 addresses as it meets them (add; its keys, in 0.0.0.0/8, never name
// an IPv4 host of a capture).
class FrameDecoder {
public:
    FrameDecoder() = default;  // an IPv4 scan
    static FrameDecoder ipv4() { return FrameDecoder{}; }
    // A live IPv6 scan: null `book` is an IPv4 scan (TargetSet::address_book()'s null).
    static FrameDecoder looking_up(const AddressBook* book);
    static FrameDecoder adding(AddressBook& book);  // a replay

    std::optional<DecodedPacket> decode(LinkType link, ByteView frame) const;

private:
    std::optional<DecodedPacket> translated(const DecodedPacket6& packet) const;
    const AddressBook* known_ = nullptr;
    AddressBook* growing_ = nullptr;
};

}  // namespace flagscan

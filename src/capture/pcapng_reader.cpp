// Reading pcapng blocks by hand: section headers, interfaces, enhanced/simple/obsolete packets.
#include "flagscan/capture/pcapng_reader.hpp"

#include <algorithm>

namespace flagscan {
namespace {

constexpr std::uint32_t kSectionHeader = 0x0A0D0D0A, kInterface = 1, kObsoletePacket = 2, kSimplePacket = 3,
                        kEnhancedPacket = 6;
constexpr std::uint32_t kMaxBlock = 16u << 20;  // past any packet a capture holds: a lying length

std::uint32_t load32(const std::uint8_t* p, bool little) {
    return little ? std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24
                  : std::uint32_t{p[3]} | std::uint32_t{p[2]} << 8 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[0]} << 24;
}

}  // namespace

bool PcapngReader::starts_pcapng(std::span<const std::uint8_t> first) {
    return first.size() >= 4 && first[0] == 0x0A && first[1] == 0x0D && first[2] == 0x0D && first[3] == 0x0A;
}

Result<PcapngReader> PcapngReader::open(std::unique_ptr<std::istream> in) {
    PcapngReader reader{std::move(in)};
    std::uint32_t type = 0;
    while (reader.interfaces_.empty()) {
        if (!reader.read_block(type)) return Error{reader.damage_.empty() ? "truncated dump file" : reader.damage_};
        if (type == kInterface && !reader.add_interface()) return Error{reader.damage_};
        if (type == kEnhancedPacket || type == kSimplePacket || type == kObsoletePacket)
            return Error{"a packet block comes before any interface description block"};
    }
    return reader;
}

// One block into body_ (what lies between its length fields); the section header block also
// sets the byte order (its magic, RFC draft 4.1). False at the end of the file or at damage.
bool PcapngReader::read_block(std::uint32_t& type) {
    std::uint8_t head[12];
    if (!in_->read(reinterpret_cast<char*>(head), 8)) {
        if (in_->gcount() != 0) damage_ = "the file ends inside a block header";
        return false;
    }
    std::size_t consumed = 8;
    if (load32(head, true) == kSectionHeader) {
        if (!in_->read(reinterpret_cast<char*>(head + 8), 4)) return damage_ = "the file ends inside a section header", false;
        if (load32(head + 8, true) == 0x1A2B3C4D) little_ = true;
        else if (load32(head + 8, false) == 0x1A2B3C4D) little_ = false;
        else return damage_ = "a section header block with a bad byte-order magic", false;
        interfaces_.clear();  // interface numbers start again in each section
        consumed = 12;
    }
    type = load32(head, little_);
    const std::uint32_t length = load32(head + 4, little_);
    if (length < 12 || length % 4 != 0 || length > kMaxBlock || length < consumed + 4)
        return damage_ = "a block claims a length of " + std::to_string(length) + " bytes", false;
    body_.assign(head + 8, head + consumed);
    body_.resize(length - 12);
    const std::size_t rest = length - consumed;  // the body left, then the trailing length
    std::vector<std::uint8_t> tail(rest);
    if (!in_->read(reinterpret_cast<char*>(tail.data()), static_cast<std::streamsize>(rest)))
        return damage_ = "the file ends inside a block", false;
    std::copy(tail.begin(), tail.end() - 4, body_.begin() + static_cast<long>(consumed - 8));
    return true;
}

std::uint32_t PcapngReader::u32(std::size_t at) const {
    return at + 4 <= body_.size() ? load32(body_.data() + at, little_) : 0;
}
std::uint16_t PcapngReader::u16(std::size_t at) const {
    if (at + 2 > body_.size()) return 0;
    return static_cast<std::uint16_t>(little_ ? body_[at] | body_[at + 1] << 8 : body_[at] << 8 | body_[at + 1]);
}

// Interface description: link type (2 bytes), reserved (2), snaplen (4), then options, of which
// if_tsresol (9) and if_tsoffset (14) matter here.
bool PcapngReader::add_interface() {
    if (body_.size() < 8) return damage_ = "an interface description block is too short", false;
    Interface interface;
    interface.dlt = u16(0);
    interface.snaplen = u32(4);
    for (std::size_t at = 8; at + 4 <= body_.size();) {
        const std::uint16_t code = u16(at), size = u16(at + 2);
        if (code == 0 || at + 4 + size > body_.size()) break;
        if (code == 9 && size >= 1) {
            interface.binary = (body_[at + 4] & 0x80) != 0;
            interface.exponent = body_[at + 4] & 0x7f;
        }
        if (code == 14 && size >= 8)
            interface.offset_s = static_cast<std::int64_t>(std::uint64_t{u32(at + 4)} | std::uint64_t{u32(at + 8)} << 32);
        at += 4 + (size + 3u) / 4 * 4;
    }
    interfaces_.push_back(interface);
    return true;
}

Micros PcapngReader::micros(const Interface& interface, std::uint64_t ts) const {
    std::uint64_t us = 0;
    if (interface.binary) {
        us = interface.exponent >= 64 ? 0 : static_cast<std::uint64_t>((static_cast<unsigned __int128>(ts) * 1'000'000) >> interface.exponent);
    } else if (interface.exponent <= 6) {
        us = ts;
        for (std::uint8_t e = interface.exponent; e < 6; ++e) us *= 10;
    } else {
        us = ts;
        for (std::uint8_t e = interface.exponent; e > 6 && us > 0; --e) us /= 10;
    }
    return static_cast<Micros>(us) + interface.offset_s * kSecond;
}

std::optional<PcapngReader::Record> PcapngReader::packet(std::uint32_t interface, std::uint64_t ts,
                                                         std::uint32_t caplen, std::size_t at) {
    if (interface >= interfaces_.size()) return damage_ = "a packet names interface " + std::to_string(interface) +
                                                          ", which no interface description block describes", std::nullopt;
    if (at > body_.size() || caplen > body_.size() - at) return damage_ = "a packet block is shorter than its packet", std::nullopt;
    const Interface& i = interfaces_[interface];
    return Record{std::span<const std::uint8_t>{body_}.subspan(at, caplen), micros(i, ts), i.dlt};
}

std::optional<PcapngReader::Record> PcapngReader::next() {
    std::uint32_t type = 0;
    while (read_block(type)) {
        switch (type) {
            case kInterface:
                if (!add_interface()) return std::nullopt;
                break;
            case kEnhancedPacket:  // interface, ts high, ts low, captured length, original length, data
                return packet(u32(0), std::uint64_t{u32(4)} << 32 | u32(8), u32(12), 20);
            case kObsoletePacket:  // interface (2), drops (2), ts high, ts low, captured, original, data
                return packet(u16(0), std::uint64_t{u32(4)} << 32 | u32(8), u32(12), 20);
            case kSimplePacket:  // original length, data up to the block's end; interface 0, no time
                if (body_.size() < 4) return damage_ = "a simple packet block is too short", std::nullopt;
                return packet(0, 0, std::min<std::uint32_t>(u32(0), static_cast<std::uint32_t>(body_.size() - 4)), 4);
            default:  // name resolution, statistics, custom, section header: nothing to read here
                break;
        }
    }
    return std::nullopt;
}

}  // namespace flagscan

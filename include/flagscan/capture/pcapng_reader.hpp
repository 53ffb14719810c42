// PcapngReader: a pcapng file block by block, each interface with its own link type.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/net/result.hpp"

namespace flagscan {

// Why not libpcap: libpcap 1.10 reads one link type per file, and stops at the first interface
// description whose link type (or snaplen) differs from the first one's ("an interface has a
// type 113 different from the type of the first interface"), which `tcpdump -i any` on several
// interfaces, dumpcap -i A -i B and mergecap all write. The pcapng format (IETF
// draft-ietf-opsawg-pcapng: section header, interface description, enhanced, simple and obsolete
// packet blocks) gives each interface its link type and timestamp resolution; every length
// in it is checked before it is used.
class PcapngReader {
public:
    static bool starts_pcapng(std::span<const std::uint8_t> first_bytes);

    // Reads up to the first interface description; an error when the file holds none first.
    static Result<PcapngReader> open(std::unique_ptr<std::istream> in);

    struct Record {
        std::span<const std::uint8_t> bytes;  // valid until the next call
        Micros ts = 0;
        int dlt = 0;  // the interface's link type (LINKTYPE_*, as libpcap's DLT values here)
    };
    // The next packet, nullopt at the end or at damage (damage() then says what).
    std::optional<Record> next();
    const std::string& damage() const { return damage_; }
    int first_dlt() const { return interfaces_.front().dlt; }
    std::uint32_t first_snaplen() const { return interfaces_.front().snaplen; }

private:
    struct Interface {
        int dlt = 0;
        std::uint32_t snaplen = 0;
        bool binary = false;       // if_tsresol: units of 2^-exponent s, else 10^-exponent s
        std::uint8_t exponent = 6;
        std::int64_t offset_s = 0;  // if_tsoffset
    };
    explicit PcapngReader(std::unique_ptr<std::istream> in) : in_(std::move(in)) {}
    bool read_block(std::uint32_t& type);
    std::uint32_t u32(std::size_t at) const;
    std::uint16_t u16(std::size_t at) const;
    bool add_interface();
    Micros micros(const Interface& interface, std::uint64_t ts) const;
    std::optional<Record> packet(std::uint32_t interface, std::uint64_t ts, std::uint32_t caplen, std::size_t at);

    std::unique_ptr<std::istream> in_;
    bool little_ = true;
    std::vector<std::uint8_t> body_;
    std::vector<Interface> interfaces_;
    std::string damage_;
};

}  // namespace flagscan

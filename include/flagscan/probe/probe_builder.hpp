// ProbeBuilder: a libnet-built packet template, patched per probe (address, ports, seq, checksums).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "flagscan/engine/probe.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/probe/probe_kind.hpp"

namespace flagscan {

struct ProbeShape {
    std::uint8_t ttl = 64;
    std::uint16_t window = 1024;  // what nmap's raw SYN uses
    std::uint16_t mss = 1460;     // 0: no options
};

class ProbeBuilder {
public:
    // Builds the template once with libnet (context LIBNET_NONE: construction only, no root).
    static Result<ProbeBuilder> create(const ProbeKind& kind, const ProbeShape& shape);

    // Size of every probe this builder writes: the IPv4 packet, no link header.
    std::size_t size() const { return template_.size(); }
    // Writes the probe's packet into out (out.size() >= size()).
    void build(const Probe& probe, std::span<std::uint8_t> out) const;

private:
    explicit ProbeBuilder(std::vector<std::uint8_t> bytes) : template_(std::move(bytes)) {}
    std::vector<std::uint8_t> template_;
};

}  // namespace flagscan

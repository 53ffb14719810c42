// Frames and the two ends of the wire: FrameSink (where probes go) and FrameSource (where replies come from).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/net/decode.hpp"

namespace flagscan {

// A captured frame, cut to the first bytes that hold every header a reply's verdict needs
// (link, IP with options, ICMP, the quoted IP header with options and 8 bytes of its payload).
struct Frame {
    static constexpr std::size_t kCapacity = 256;
    Micros ts = 0;               // on the engine's clock
    // The link type of the interface it came from, when the source's frames do not all share
    // one (a pcapng file whose interfaces differ); else the source's link() holds for it.
    std::optional<LinkType> link;
    std::uint16_t length = 0;    // bytes held
    std::array<std::uint8_t, kCapacity> bytes{};

    std::span<const std::uint8_t> span() const { return {bytes.data(), length}; }
    void assign(std::span<const std::uint8_t> data, Micros when);
};

// Where finished packets (IPv4, no link header) go: a raw socket, a pcap file, a simulator.
class FrameSink {
public:
    virtual ~FrameSink() = default;
    // Sends all packets or as many as it can; returns how many went out.
    virtual std::size_t send(std::span<const std::span<const std::uint8_t>> packets) = 0;
};

// Where replies come from: a live capture, a pcap file, a simulator.
class FrameSource {
public:
    virtual ~FrameSource() = default;
    virtual LinkType link() const = 0;
    // Appends the frames that arrived, waiting until `deadline` (engine clock) if none has.
    virtual void wait(Micros deadline, std::vector<Frame>& out) = 0;
};

}  // namespace flagscan

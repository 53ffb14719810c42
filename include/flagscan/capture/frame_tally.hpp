// FrameTally: what a capture's frames held, so that a replay finding no scan can say why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "flagscan/capture/pcap_file.hpp"
#include "flagscan/net/decode.hpp"

namespace flagscan {

class FrameTally {
public:
    // One frame as read from the file, what the replay's decoder made of it (nullopt: nothing), and
    // whether the replay takes it for a probe.
    void count(LinkType link, ByteView frame, const std::optional<DecodedPacket>& packet, bool probe);

    // When no frame was a probe: why, in words (a snaplen too short for the TCP header,
    // fragments that never made a datagram). nullopt when some frame was a probe, or when
    // nothing here explains their absence.
    std::optional<std::string> why_no_probes(const PcapFile& file) const;

private:
    std::uint64_t frames_ = 0;
    std::uint64_t probes_ = 0;
    std::uint64_t cut_tcp_ = 0;    // IPv4 TCP, not a later fragment, header cut by the capture
    std::uint64_t cut_udp_ = 0;
    std::size_t tcp_end_ = 0;      // where the cut TCP headers would have ended in their frames
};

}  // namespace flagscan

// Replay: re-derive every verdict of a captured scan with the same engine a live scan uses.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_set>
#include <vector>

#include "flagscan/engine/engine.hpp"
#include "flagscan/engine/scan_loop.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

// What a capture shows about the scan in it: who sent probes, with which flags, to whom.
class ScanSurvey {
public:
    void add(const DecodedPacket& packet);

    struct Conclusion {
        Ipv4 scanner;
        ProbeKind kind;
        AddressSet hosts;
        std::vector<Port> ports;
        bool kind_inferred = true;
    };
    // The scanner is the address that sent the most probes (TCP without RST that is not a
    // SYN,ACK, or UDP), unless given; the kind is UDP when most of its probes are UDP, else the
    // one whose flags its TCP probes carry most, unless given (ACK and Window probes look alike:
    // a capture says ACK, -sW says otherwise).
    Result<Conclusion> conclude(std::optional<Ipv4> scanner, const ProbeKind* kind) const;

    static bool is_probe(const DecodedPacket& packet);

private:
    struct Sender {
        std::uint64_t probes = 0;
        std::map<std::uint8_t, std::uint64_t> by_flags;
        std::unordered_set<std::uint32_t> targets;
        std::vector<bool> ports = std::vector<bool>(65536);
        std::uint64_t udp_probes = 0;
        std::vector<bool> udp_ports = std::vector<bool>(65536);
    };
    std::map<Ipv4, Sender> senders_;
};

struct ReplayCounts {
    std::uint64_t frames = 0;
    std::uint64_t undecodable = 0;  // not IPv4, or malformed (short headers, lying lengths, bad checksums)
    std::uint64_t probes = 0;
    Micros first = -1;
    Micros last = -1;
};

// Feeds every frame to the engine: the scanner's probes to replay_probe (the same record the
// live sender makes), everything else to on_packet; the capture's timestamps are the clock.
// At the end, probes still unanswered get the verdict for silence.
ReplayCounts replay_capture(Engine& engine, LinkType link, const std::function<std::optional<Frame>()>& next,
                            const LoopHooks& hooks = {});

}  // namespace flagscan

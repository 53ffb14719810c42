// The scan loop: moves probes from the engine to a FrameSink and replies from a FrameSource back.
#pragma once

#include <atomic>
#include <functional>
#include <span>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/engine.hpp"
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

// Optional observers (packet trace, pcap writer, progress); empty ones cost nothing.
struct LoopHooks {
    std::function<void(const Probe&, std::span<const std::uint8_t> packet, Micros when)> sent;
    std::function<void(const Frame&, const DecodedPacket&, const PacketOutcome&)> received;
    std::function<void(Micros now)> tick;  // after each round of the loop
};

// Adds `tick` after the ones already there (the timeline, the status line, the outputs).
void add_tick(LoopHooks& hooks, std::function<void(Micros now)> tick);

enum class ScanEnd { finished, interrupted };

// Runs until the engine has a verdict for every port or `stop` is set. The same loop drives a
// live scan (SteadyClock, raw socket, libpcap) and a test (FakeClock, SimNetwork).
ScanEnd run_scan(Engine& engine, const ProbeBuilder& builder, FrameSink& sink, FrameSource& source, const Clock& clock,
                 const std::atomic<bool>& stop, const LoopHooks& hooks = {});

}  // namespace flagscan

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
    std::function<void(const PacketOutcome&)> answered;  // every reply's outcome, captured or a connect()'s
    std::function<void(Micros now)> tick;  // after each round of the loop
};

// Two observers in one: `first`, then `second` (either may be empty).
template <typename... Args>
std::function<void(Args...)> chain(std::function<void(Args...)> first, std::function<void(Args...)> second) {
    if (!first) return second;
    if (!second) return first;
    return [first = std::move(first), second = std::move(second)](Args... args) {
        first(args...);
        second(args...);
    };
}

// Adds `more`'s observers after those `hooks` already has, so that features never overwrite each other.
void add_hooks(LoopHooks& hooks, LoopHooks more);

enum class ScanEnd { finished, interrupted };

// Runs until the engine has a verdict for every port or `stop` is set. The same loop drives a
// live scan (SteadyClock, raw socket, libpcap) and a test (FakeClock, SimNetwork).
// Once `stop` is set it sends nothing more but still takes replies in (drain_replies), then
// returns ScanEnd::interrupted; ports still without a verdict stay unscanned (a resume point's).
ScanEnd run_scan(Engine& engine, const ProbeBuilder& builder, FrameSink& sink, FrameSource& source, const Clock& clock,
                 const std::atomic<bool>& stop, const LoopHooks& hooks = {});

// The end of an interrupted scan: the engine stops sending, and replies to what is in flight are
// still matched for up to one timeout (engine.rto()), or until nothing is in flight.
// `receive(deadline)` hands the engine what came in by `deadline` (a frame source, sockets).
ScanEnd drain_replies(Engine& engine, const Clock& clock, const std::function<void(Micros deadline)>& receive,
                      const LoopHooks& hooks = {});

}  // namespace flagscan

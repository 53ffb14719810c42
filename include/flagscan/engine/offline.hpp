// Offline: every probe of a scan crafted and paced as a live scan sends it, none put on a wire (--offline).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/correlator.hpp"
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/targets/permutation.hpp"
#include "flagscan/targets/target_set.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

// What a live scan's first tries are made of: the walk over host x slot (the same seed and
// shard as the engine's), the correlator that stamps the cookie, the builder that patches the
// lane's template, and the pace (probes per second and burst, as the engine's; rate 0: none).
struct OfflinePlan {
    const TargetSet& targets;
    const ShardWalk& walk;
    const Correlator& stamps;
    const ProbeBuilder& builder;
    std::uint16_t first_ip_id = 0;
    double rate = 0;
    double burst = 1;
};

struct OfflineRun {
    std::uint64_t crafted = 0;  // probes crafted and handed to the sink
    Micros elapsed = 0;
    bool interrupted = false;   // `stop` was set before the walk's end
};

// Crafts try 0 of every index of the walk, in its order, and hands them to `sink` in batches:
// no reply is waited for, no probe is sent twice, nothing is kept per (host, port). Paced by
// plan.rate when set (`sleep_until` waits for the next token; clock and wait are injected so a
// test drives them); else as fast as crafting goes. Stops early, between batches, when `stop` is set.
OfflineRun craft_offline(const OfflinePlan& plan, FrameSink& sink, const Clock& clock, const std::atomic<bool>& stop,
                         const std::function<void(Micros)>& sleep_until);

}  // namespace flagscan

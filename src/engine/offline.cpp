// Offline: the walk, the cookie and the template patch of a live scan in one tight loop, into a sink.
#include "flagscan/engine/offline.hpp"

#include <array>
#include <vector>

#include "flagscan/engine/token_bucket.hpp"

namespace flagscan {
namespace {

constexpr std::size_t kBatch = 256;  // probes per sink call: one virtual call, one clock read

// How many of the next `wanted` probes may go at `now`.
std::size_t admitted(TokenBucket& pace, Micros now, std::size_t wanted) {
    std::size_t n = 0;
    while (n < wanted && pace.take(now)) ++n;
    return n;
}

}  // namespace

// Why batches: the per-probe work is the Feistel step, one binary search in the address ranges,
// SipHash and two checksums over a 44-byte template; anything per probe beyond that (a clock
// read, a virtual call, an allocation) would be a large share of it. The buffers are allocated
// once, up front.
OfflineRun craft_offline(const OfflinePlan& plan, FrameSink& sink, const Clock& clock, const std::atomic<bool>& stop,
                         const std::function<void(Micros)>& sleep_until) {
    const std::size_t stride = plan.builder.size();
    std::vector<std::uint8_t> buffer(kBatch * stride);
    std::array<std::span<const std::uint8_t>, kBatch> packets;
    TokenBucket pace(plan.rate, plan.burst);
    const Micros started = clock.now();
    OfflineRun run;
    std::uint16_t ip_id = plan.first_ip_id;
    const std::uint64_t steps = plan.walk.size();
    std::uint64_t step = 0;
    while (step < steps) {
        if (stop.load(std::memory_order_relaxed)) {
            run.interrupted = true;
            break;
        }
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kBatch, steps - step));
        if (!pace.unlimited()) {
            const Micros now = clock.now();
            n = admitted(pace, now, n);
            if (n == 0) {
                sleep_until(pace.next(now));
                continue;
            }
        }
        for (std::size_t i = 0; i < n; ++i, ++step) {
            const std::uint64_t index = plan.walk(step);
            const Probe probe = plan.stamps.probe_for(plan.targets.at(index), index, 0, ip_id++);
            const std::span<std::uint8_t> out{buffer.data() + i * stride, stride};
            packets[i] = out.first(plan.builder.build(probe, out));
        }
        sink.send(std::span<const std::span<const std::uint8_t>>{packets.data(), n});
        run.crafted += n;
    }
    run.elapsed = clock.now() - started;
    return run;
}

}  // namespace flagscan

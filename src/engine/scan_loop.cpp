// The loop that joins the engine to the wire.
#include "flagscan/engine/scan_loop.hpp"

#include <array>
#include <vector>

namespace flagscan {
namespace {

constexpr std::size_t kBatch = 64;  // probes handed to the sink in one call (one sendmmsg)

class Batch {
public:
    explicit Batch(std::size_t packet_size) : storage_(kBatch * packet_size), size_(packet_size) {}

    std::span<const std::span<const std::uint8_t>> build(const ProbeBuilder& builder, std::span<const Probe> probes) {
        for (std::size_t i = 0; i < probes.size(); ++i) {
            std::span<std::uint8_t> slot{storage_.data() + i * size_, size_};
            views_[i] = slot.first(builder.build(probes[i], slot));
        }
        return {views_.data(), probes.size()};
    }

private:
    std::vector<std::uint8_t> storage_;
    std::size_t size_;
    std::array<std::span<const std::uint8_t>, kBatch> views_{};
};

void deliver(Engine& engine, LinkType link, const std::vector<Frame>& frames, const LoopHooks& hooks) {
    for (const auto& frame : frames) {
        auto packet = decode_frame(link, ByteView{frame.span()});
        if (!packet) continue;
        const PacketOutcome outcome = engine.on_packet(*packet, frame.ts);
        if (hooks.received) hooks.received(frame, *packet, outcome);
    }
}

}  // namespace

void add_tick(LoopHooks& hooks, std::function<void(Micros now)> tick) {
    if (!hooks.tick) {
        hooks.tick = std::move(tick);
        return;
    }
    hooks.tick = [first = std::move(hooks.tick), then = std::move(tick)](Micros now) {
        first(now);
        then(now);
    };
}

ScanEnd run_scan(Engine& engine, const ProbeBuilder& builder, FrameSink& sink, FrameSource& source, const Clock& clock,
                 const std::atomic<bool>& stop, const LoopHooks& hooks) {
    std::array<Probe, kBatch> probes;
    Batch batch{builder.size()};
    std::vector<Frame> frames;
    frames.reserve(4096);
    for (;;) {
        if (stop.load(std::memory_order_relaxed)) return ScanEnd::interrupted;
        const Micros now = clock.now();
        const std::size_t n = engine.poll_sends(now, probes);
        if (n > 0) {
            auto packets = batch.build(builder, std::span{probes.data(), n});
            sink.send(packets);
            if (hooks.sent) {
                for (std::size_t i = 0; i < n; ++i) hooks.sent(probes[i], packets[i], now);
            }
        } else if (engine.finished()) {
            break;
        }
        frames.clear();
        source.wait(n > 0 ? now : engine.next_deadline(now), frames);
        deliver(engine, source.link(), frames, hooks);
        if (hooks.tick) hooks.tick(clock.now());
    }
    return ScanEnd::finished;
}

}  // namespace flagscan

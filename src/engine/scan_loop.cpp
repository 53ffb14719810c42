// The loop that joins the engine to the wire.
#include "flagscan/engine/scan_loop.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "flagscan/net/translate6.hpp"

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

// Each frame read as the scan reads it (an IPv6 scan's through its book), then to the engine.
void deliver(Engine& engine, LinkType link, const std::vector<Frame>& frames, const LoopHooks& hooks) {
    const FrameDecoder decoder = FrameDecoder::looking_up(engine.targets().address_book());
    for (const auto& frame : frames) {
        auto packet = decoder.decode(link, ByteView{frame.span()});
        if (!packet) continue;
        const PacketOutcome outcome = engine.on_packet(*packet, frame.ts);
        if (hooks.received) hooks.received(frame, *packet, outcome);
        if (hooks.answered) hooks.answered(outcome);
    }
}

}  // namespace

void add_hooks(LoopHooks& hooks, LoopHooks more) {
    hooks.sent = chain(std::move(hooks.sent), std::move(more.sent));
    hooks.received = chain(std::move(hooks.received), std::move(more.received));
    hooks.answered = chain(std::move(hooks.answered), std::move(more.answered));
    hooks.tick = chain(std::move(hooks.tick), std::move(more.tick));
}

ScanEnd run_scan(Engine& engine, const ProbeBuilder& builder, FrameSink& sink, FrameSource& source, const Clock& clock,
                 const std::atomic<bool>& stop, const LoopHooks& hooks) {
    std::array<Probe, kBatch> probes;
    Batch batch{builder.size()};
    std::vector<Frame> frames;
    frames.reserve(4096);
    for (;;) {
        if (stop.load(std::memory_order_relaxed)) {
            return drain_replies(engine, clock, [&](Micros deadline) {
                frames.clear();
                source.wait(deadline, frames);
                deliver(engine, source.link(), frames, hooks);
            }, hooks);
        }
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

// Why wait at all: the probes in flight were sent, and their answers are on their way; taking
// them in costs at most one timeout and saves sending them again on resume.
ScanEnd drain_replies(Engine& engine, const Clock& clock, const std::function<void(Micros deadline)>& receive,
                      const LoopHooks& hooks) {
    engine.stop_sending();
    const Micros until = clock.now() + engine.rto();
    for (;;) {
        const Micros now = clock.now();
        engine.poll_sends(now, {});  // runs the timers: what timed out is no longer in flight
        if (engine.in_flight() == 0 || now >= until) return ScanEnd::interrupted;
        receive(std::min(until, engine.next_deadline(now)));
        if (hooks.tick) hooks.tick(clock.now());
    }
}

}  // namespace flagscan

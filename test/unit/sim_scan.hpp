// A scan against the simulated network, driven by a fake clock: shared by the engine's tests.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include "flagscan/engine/scan_loop.hpp"
#include "flagscan/wire/sim_network.hpp"

namespace flagscan::testing {

inline const Ipv4 kScanner{10, 77, 0, 1};

struct SimScan {
    TargetSet targets;
    std::vector<const ProbeKind*> kinds;  // per lane
    EngineConfig config;
    SimConfig network;
    const UdpPayloads* payloads = nullptr;
    std::function<void(Results&)> restore;  // fills the fresh Results before the engine starts (a resumed scan)
    bool evidence = false;                  // keep each port's PortEvidence (as --explain does)
    std::optional<Keep> keep;               // how much of each host Results keeps (default: by size)

    FakeClock clock{1'000'000};
    std::unique_ptr<SimNetwork> sim;
    std::unique_ptr<Results> results;
    std::unique_ptr<Engine> engine;
    ScanEnd end = ScanEnd::finished;

    SimScan(AddressSet hosts, std::vector<Port> ports, SimConfig net, const ProbeKind& kind = syn_kind(), int timing = 4)
        : SimScan(std::move(hosts), lane_zero(ports), {&kind}, std::move(net), timing) {}

    SimScan(AddressSet hosts, std::vector<Slot> slots, std::vector<const ProbeKind*> lane_kinds, SimConfig net, int timing = 4)
        : targets(std::move(hosts), std::move(slots)), kinds(std::move(lane_kinds)), network(std::move(net)) {
        config.timing = *timing_template(timing);
        config.me = ScannerIdentity{kScanner, Port{40000}, static_cast<std::uint8_t>(config.timing.max_retries + 1)};
        config.seed = 7;
    }

    // Runs the whole scan; returns the fake time it took.
    Micros run(const LoopHooks& hooks = {}) {
        const std::atomic<bool> never{false};
        return run(hooks, never);
    }

    // The same, ended early (as Ctrl-C does) once `stop` is set, by a hook for instance.
    Micros run(const LoopHooks& hooks, const std::atomic<bool>& stop) {
        sim = std::make_unique<SimNetwork>(network, clock);
        results = std::make_unique<Results>(targets, kinds, evidence, keep);
        if (restore) restore(*results);
        engine = std::make_unique<Engine>(targets, config, CookieKey{11, 22}, *results);
        auto builder = ProbeBuilder::create(kinds, ProbeShape{}, payloads);
        const Micros start = clock.now();
        end = run_scan(*engine, builder.value(), *sim, *sim, clock, stop, hooks);
        return clock.now() - start;
    }

    PortResult at(Ipv4 host, std::uint16_t port, std::uint8_t lane = 0) const {
        const auto h = *targets.hosts().index_of(host);
        return results->port(h * targets.slot_count() + static_cast<std::uint64_t>(targets.slot_index(lane, Port{port})));
    }

    static std::vector<Slot> lane_zero(const std::vector<Port>& ports) {
        std::vector<Slot> slots;
        for (const Port port : ports) slots.push_back(Slot{port, 0});
        return slots;
    }
};

inline std::vector<Port> port_range(std::uint16_t first, std::uint16_t last) {
    std::vector<Port> ports;
    for (unsigned p = first; p <= last; ++p) ports.emplace_back(static_cast<std::uint16_t>(p));
    return ports;
}

inline AddressSet one_host(Ipv4 ip) {
    AddressSet set;
    set.add(ip);
    return set;
}

}  // namespace flagscan::testing

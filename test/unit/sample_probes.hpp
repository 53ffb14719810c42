// Test helpers for the probe-shaping tests: one probe built from a lane template, and a sink that keeps what it is sent.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan::testing {

// PROBE as ProbeBuilder writes it for a one-lane scan of KIND shaped by SHAPE.
inline std::vector<std::uint8_t> built_probe(const ProbeKind& kind, const ProbeShape& shape, const Probe& probe,
                                             const UdpPayloads* payloads = nullptr) {
    const ProbeKind* kinds[] = {&kind};
    auto builder = ProbeBuilder::create(kinds, shape, payloads);
    EXPECT_TRUE(builder) << builder.error();
    if (!builder) return {};
    std::vector<std::uint8_t> out(builder->size());
    out.resize(builder->build(probe, out));
    return out;
}

// Keeps a copy of every packet it takes, and takes at most `limit` of a batch.
struct KeepingSink final : FrameSink {
    std::vector<std::vector<std::uint8_t>> packets;
    std::size_t limit = 1000;
    std::size_t send(std::span<const std::span<const std::uint8_t>> batch) override {
        const std::size_t n = std::min(limit, batch.size());
        for (std::size_t i = 0; i < n; ++i) packets.emplace_back(batch[i].begin(), batch[i].end());
        return n;
    }
};

}  // namespace flagscan::testing

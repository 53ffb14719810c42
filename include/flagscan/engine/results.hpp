// Results: one verdict per (host, port) with its evidence, and what each host showed.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/probe/port_state.hpp"
#include "flagscan/probe/probe_kind.hpp"
#include "flagscan/targets/target_set.hpp"

namespace flagscan {

struct PortResult {
    PortState state = PortState::unscanned;
    Reason reason = Reason::none;
    std::uint8_t ttl = 0;     // of the reply (0 when none)
    std::uint8_t tries = 0;   // sends made for this port
    std::uint8_t answered_try = 0;
    std::uint8_t rule = 0;    // row of the probe kind's rule table that matched
    ReplyEvidence::Kind reply_kind = ReplyEvidence::Kind::none;
    std::uint8_t reply_flags = 0;   // TCP flags of the reply
    std::uint8_t icmp_code = 0;     // of an ICMP unreachable reply
    std::uint16_t reply_window = 0;
    std::uint32_t rtt_us = 0;  // of the answered try, when known
};

struct HostResult {
    std::uint32_t replies = 0;       // replies of any kind that came from the host
    Micros min_rtt = -1;             // lowest RTT measured to it (-1: none)
    double icmp_limit = 0;           // ICMP errors per second it was found to allow (0: no limit met)
    std::array<std::uint32_t, kPortStateCount> counts{};  // ports per PortState
};

class Results {
public:
    // kinds[lane]: the probe kind of each lane of the target set (reports and --explain read
    // every slot's verdict through its kind).
    Results(const TargetSet& targets, std::vector<const ProbeKind*> kinds);

    void set(std::uint64_t index, const PortResult& result);
    void note_reply(std::uint32_t host_index, Micros rtt);
    void note_icmp_limit(std::uint32_t host_index, double per_second) { hosts_[host_index].icmp_limit = per_second; }

    const TargetSet& targets() const { return *targets_; }
    const ProbeKind& kind(std::uint8_t lane) const { return *kinds_[lane]; }
    const std::vector<const ProbeKind*>& kinds() const { return kinds_; }
    const PortResult& port(std::uint64_t index) const { return ports_[index]; }
    const HostResult& host(std::uint32_t host_index) const { return hosts_[host_index]; }
    std::uint64_t decided() const { return decided_; }
    // Ports in one state over every host (the open count a status line shows).
    std::uint64_t state_total(PortState state) const { return totals_[static_cast<int>(state)]; }
    // The hosts whose every port got a verdict since the last call, in the order they finished
    // (so outputs can write a host the moment it is done).
    std::vector<std::uint32_t> take_finished_hosts();

private:
    const TargetSet* targets_;
    std::vector<const ProbeKind*> kinds_;
    std::vector<PortResult> ports_;
    std::vector<HostResult> hosts_;
    std::uint64_t decided_ = 0;
    std::array<std::uint64_t, kPortStateCount> totals_{};
    std::vector<std::uint32_t> finished_;  // hosts done, not yet taken
};

}  // namespace flagscan

// What a raw scan's probes carry that each run draws or the command line sets: the seed, the block of source ports, our identity.
#pragma once

#include <cstdint>
#include <string>

#include "flagscan/cli/options.hpp"
#include "flagscan/engine/correlator.hpp"
#include "flagscan/targets/target_set.hpp"

namespace flagscan {

// 64 bits from std::random_device (a scan's seed, its source-port block).
std::uint64_t random_u64();

// Every phase of a scan (discovery, then ports) takes its lanes' source ports from one block
// that starts at `base`, so one capture filter covers them all. With -g every TCP and UDP probe
// leaves from that one port instead (ScannerIdentity), and the block serves only as the ICMP
// queries' identifiers: it stays random, so that -g 65535 is port 65535, not the block's end.
struct PortBlock {
    std::uint16_t base = 0;
    std::uint8_t tries = 1;
    Port fixed;  // -g; 0: none
    std::uint16_t os_ports = 0;  // -O: ports after the lanes' for the OS probes (kOsPortsPerTry a try)
    static constexpr unsigned kLanes = 2 * TargetSet::kMaxLanes;  // discovery + port scan
    static constexpr std::uint8_t kPortScanLane = TargetSet::kMaxLanes;  // where the port scan's lanes start
    Port last() const { return Port{static_cast<std::uint16_t>(base + kLanes * tries - 1)}; }
    // The first of the -O ports: right after the lanes'.
    Port os_base() const { return Port{static_cast<std::uint16_t>(last().value() + 1)}; }
    // The TCP and UDP ports replies come back to, as a BPF primitive after "dst " or "src ".
    std::string bpf_ports() const {
        const std::string os = os_ports == 0 ? std::string{}
                                             : "portrange " + std::to_string(os_base().value()) + "-" +
                                                   std::to_string(os_base().value() + os_ports - 1);
        if (fixed.value() != 0) return os.empty() ? "port " + std::to_string(fixed.value()) : "(port " + std::to_string(fixed.value()) + " or " + os + ")";
        return "portrange " + std::to_string(base) + "-" + std::to_string(last().value() + os_ports);
    }
};

// A random block in 33000-60000 with room for every lane's every try.
PortBlock port_block(const ScanConfig& config);

// Who one phase's probes say they are from: `source`, and the ports of the block from
// `first_lane` on (0: discovery; PortBlock::kPortScanLane: the port scan), `lanes` of them.
ScannerIdentity scanner_identity(Ipv4 source, const PortBlock& block, std::uint8_t first_lane, std::uint8_t lanes = 1);

}  // namespace flagscan

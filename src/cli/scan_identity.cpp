// The seed and source-port block of a scan, shared by the live scan and --offline.
#include "flagscan/cli/scan_identity.hpp"

#include <algorithm>
#include <random>

#include "flagscan/os/os_scan.hpp"

namespace flagscan {

std::uint64_t random_u64() {
    std::random_device device;
    return (std::uint64_t{device()} << 32) | device();
}

PortBlock port_block(const ScanConfig& config) {
    const auto tries = static_cast<std::uint8_t>(config.timing.max_retries + 1);
    const auto os_ports = static_cast<std::uint16_t>(config.os.enabled ? kOsPortsPerTry * config.os.max_tries : 0);
    const unsigned span = PortBlock::kLanes * tries + os_ports;
    const unsigned base = 33000 + random_u64() % (60000 - 33000);
    return PortBlock{static_cast<std::uint16_t>(std::min<unsigned>(base, 65535u - span)), tries,
                     config.source_port.value_or(Port{}), os_ports};
}

ScannerIdentity scanner_identity(Ipv4 source, const PortBlock& block, std::uint8_t first_lane, std::uint8_t lanes) {
    const auto base = static_cast<std::uint16_t>(block.base + first_lane * block.tries);
    return ScannerIdentity{source, Port{base}, block.tries, lanes, block.fixed};
}

}  // namespace flagscan

// The scan command: a live scan, the replay of a capture, or the list of the targets (-sL).
#include "flagscan/cli/runner.hpp"

#include <libnet.h>
#include <pcap/pcap.h>

#include "flagscan/version.hpp"

namespace flagscan {

int run_scan_command(const ScanConfig& config, std::ostream& out, std::ostream& err) {
    if (config.list_only) return run_list_command(config, out, err);
    return config.replay_path.empty() ? run_live_command(config, out, err) : run_replay_command(config, out, err);
}

std::string version_text() {
    return "flagscan " + std::string(kVersion) + "\nCompiled with: " + pcap_lib_version() + ", libnet " +
           LIBNET_VERSION + "\nExit status: 0 done, 1 bad input, 2 runtime failure, 130 interrupted\n";
}

}  // namespace flagscan

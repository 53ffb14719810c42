// The scan command: a live scan, or the replay of a capture.
#include "flagscan/cli/runner.hpp"

namespace flagscan {

int run_scan_command(const ScanConfig& config, std::ostream& out, std::ostream& err) {
    return config.replay_path.empty() ? run_live_command(config, out, err) : run_replay_command(config, out, err);
}

}  // namespace flagscan

// The scan command: a live scan, the replay of a capture, or the list of the targets (-sL).
#include "flagscan/cli/runner.hpp"

#include <libnet.h>
#include <pcap/pcap.h>

#include "flagscan/cli/resume_file.hpp"
#include "flagscan/version.hpp"

namespace flagscan {

// --resume FILE: the scan the file records, continued where it stopped (nothing is sent when the
// file, or its command line, is refused).
int resume_scan_command(const std::string& path, std::ostream& out, std::ostream& err) {
    auto state = read_resume_file(path);
    if (!state) return err << "flagscan: " << path << ": " << state.error() << '\n', 1;
    auto line = command_line_from_resume(*state);
    if (!line) return err << "flagscan: " << path << ": " << line.error() << '\n', 1;
    ScanConfig config = std::move(line->config);
    if (!config.replay_path.empty() || config.list_only)
        return err << "flagscan: " << path << ": records a replay or a list scan, which have nothing to resume\n", 1;
    config.resume_path = path;
    return run_live_command(config, out, err, &*state);
}

int run_scan_command(const ScanConfig& config, std::ostream& out, std::ostream& err) {
    if (!config.resume_path.empty()) return resume_scan_command(config.resume_path, out, err);
    if (config.list_only) return run_list_command(config, out, err);
    if (config.offline) return run_offline_command(config, out, err);
    return config.replay_path.empty() ? run_live_command(config, out, err) : run_replay_command(config, out, err);
}

std::string version_text() {
    return "flagscan " + std::string(kVersion) + "\nCompiled with: " + pcap_lib_version() + ", libnet " +
           LIBNET_VERSION + "\nExit status: 0 done, 1 bad input, 2 runtime failure, 130 interrupted\n";
}

}  // namespace flagscan

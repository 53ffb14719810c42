// TextOutputs: stdout, -oN and -oJ for the commands that write lines, not a Results.
#include "flagscan/cli/text_outputs.hpp"

namespace flagscan {

std::ostream* TextOutputs::open_file(const std::string& path) {
    files.push_back(std::make_unique<std::ofstream>(path));
    paths.push_back(path);
    return files.back().get();
}

std::optional<std::string> TextOutputs::failed() {
    for (std::size_t i = 0; i < files.size(); ++i) {
        files[i]->flush();
        if (!*files[i]) return paths[i];
    }
    return std::nullopt;
}

TextOutputs TextOutputs::open(const ScanConfig& config, std::ostream& out) {
    TextOutputs outputs;
    if (config.json_path != "-") outputs.normal.push_back(&out);
    if (!config.normal_path.empty()) outputs.normal.push_back(outputs.open_file(config.normal_path));
    if (config.json_path == "-") outputs.json = &out;
    else if (!config.json_path.empty()) outputs.json = outputs.open_file(config.json_path);
    return outputs;
}

}  // namespace flagscan

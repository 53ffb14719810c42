// OutputSet: the saved normal report (-oN) carries -sV's closing line before nmap's comment footer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#include "flagscan/cli/outputs.hpp"
#include "nmap_formats_fixture.hpp"

namespace flagscan {
namespace {

using testing::ServiceScan;

std::string file_text(const std::filesystem::path& path) {
    std::ifstream file{path};
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

class Outputs : public testing::NmapFormats {
protected:
    // The outputs `config` names, opened, with stdout in out_.
    OutputSet open(const ScanConfig& config) {
        auto outputs = OutputSet::open(config, out_);
        if (!outputs) throw std::runtime_error(outputs.error());  // gtest fails the test with it
        return std::move(*outputs);
    }

    std::ostringstream out_, err_;
    const ServiceScan scan_;
    const ServiceTable services_ = ServiceScan::services();
    const ReportOptions options_;
    const ScanSummary summary_ = ServiceScan::summary();
    const ScanView view_{scan_.results, services_, options_, summary_, false};
};

TEST_F(Outputs, SavedNormalReportSaysServiceDetectionRan) {
    const auto path = std::filesystem::temp_directory_path() / ("flagscan-outputs-" + std::to_string(::getpid()) + ".nmap");
    ScanConfig config;
    config.normal_path = path.string();
    OutputSet outputs = open(config);
    outputs.start(view_);
    EXPECT_TRUE(outputs.finish(view_, err_)) << err_.str();
    const std::string saved = file_text(path);
    std::filesystem::remove(path);
    EXPECT_NE(saved.find("\n8080/tcp  open            http-proxy?\nService Info: OS: Linux; CPE: cpe:/o:linux:linux_kernel\n\n"
                         "Service detection performed.\n# flagscan done at Wed Dec  2 05:25:53 2026 -- 1 IP address (1 "
                         "host up) scanned in 2.44 seconds\n"),
              std::string::npos)
        << saved;
    EXPECT_NE(out_.str().find("\nService detection performed.\nflagscan done: 1 IP address (1 host up)"), std::string::npos)
        << out_.str();
}

// A host is written the moment it finishes and reaches the file at the end of the scan loop's
// round (OutputSet::flush), so a scan killed after that round leaves it on disk.
TEST_F(Outputs, FinishedHostIsOnDiskAfterTheRoundsFlush) {
    const auto path = std::filesystem::temp_directory_path() / ("flagscan-outputs-" + std::to_string(::getpid()) + ".jsonl");
    ScanConfig config;
    config.json_path = path.string();
    OutputSet outputs = open(config);
    outputs.start(view_);
    outputs.host_finished(view_, 0);
    outputs.flush();
    const std::string streamed = file_text(path);
    EXPECT_TRUE(outputs.finish(view_, err_)) << err_.str();
    std::filesystem::remove(path);
    EXPECT_NE(streamed.find("\"port\":8080,\"proto\":\"tcp\",\"state\":\"open\""), std::string::npos) << streamed;
    EXPECT_NE(streamed.find("\"status\":\"up\""), std::string::npos) << streamed;
}

}  // namespace
}  // namespace flagscan

// OutputSet: the saved normal report (-oN) carries -sV's closing line before nmap's comment footer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
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

class Outputs : public testing::NmapFormats {};

TEST_F(Outputs, SavedNormalReportSaysServiceDetectionRan) {
    const auto path = std::filesystem::temp_directory_path() / ("flagscan-outputs-" + std::to_string(::getpid()) + ".nmap");
    ScanConfig config;
    config.normal_path = path.string();
    std::ostringstream out, err;
    auto outputs = OutputSet::open(config, out);
    ASSERT_TRUE(outputs) << outputs.error();
    const ServiceScan scan;
    const ServiceTable services = ServiceScan::services();
    const ReportOptions options;
    const ScanSummary summary = ServiceScan::summary();
    const ScanView view{scan.results, services, options, summary, false};
    outputs->start(view);
    EXPECT_TRUE(outputs->finish(view, err)) << err.str();
    const std::string saved = file_text(path);
    std::filesystem::remove(path);
    EXPECT_NE(saved.find("\n8080/tcp  open            http-proxy?\nService Info: OS: Linux; CPE: cpe:/o:linux:linux_kernel\n\n"
                         "Service detection performed.\n# flagscan done at Wed Dec  2 05:25:53 2026 -- 1 IP address (1 "
                         "host up) scanned in 2.44 seconds\n"),
              std::string::npos)
        << saved;
    EXPECT_NE(out.str().find("\nService detection performed.\nflagscan done: 1 IP address (1 host up)"), std::string::npos)
        << out.str();
}

// A host is written the moment it finishes and reaches the file at the end of the scan loop's
// round (OutputSet::flush), so a scan killed after that round leaves it on disk.
TEST_F(Outputs, FinishedHostIsOnDiskAfterTheRoundsFlush) {
    const auto path = std::filesystem::temp_directory_path() / ("flagscan-outputs-" + std::to_string(::getpid()) + ".jsonl");
    ScanConfig config;
    config.json_path = path.string();
    std::ostringstream out, err;
    auto outputs = OutputSet::open(config, out);
    ASSERT_TRUE(outputs) << outputs.error();
    const ServiceScan scan;
    const ServiceTable services = ServiceScan::services();
    const ReportOptions options;
    const ScanSummary summary = ServiceScan::summary();
    const ScanView view{scan.results, services, options, summary, false};
    outputs->start(view);
    outputs->host_finished(view, 0);
    outputs->flush();
    const std::string streamed = file_text(path);
    EXPECT_TRUE(outputs->finish(view, err)) << err.str();
    std::filesystem::remove(path);
    EXPECT_NE(streamed.find("\"port\":8080,\"proto\":\"tcp\",\"state\":\"open\""), std::string::npos) << streamed;
    EXPECT_NE(streamed.find("\"status\":\"up\""), std::string::npos) << streamed;
}

}  // namespace
}  // namespace flagscan

// The manual page (doc/flagscan.1, as meson configures and installs it) against the help text:
// every long option --help lists has an entry, it names no option that does not exist, and
// EXIT STATUS lists the exit codes.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "flagscan/cli/detect.hpp"
#include "flagscan/cli/options.hpp"

namespace flagscan {
namespace {

std::string help_text() {
    const char* const argv[] = {"flagscan", "--help"};
    auto line = parse_command_line(2, argv);
    if (!line || line->action != CommandLine::Action::help) return {};
    return line->help;
}

std::vector<std::string> man_page_lines() {
    std::ifstream file{FLAGSCAN_MAN_PAGE};
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);) lines.push_back(line);
    return lines;
}

// "--name" as the help writes it.
std::set<std::string> help_options(const std::string& help) {
    const std::regex option{R"(--[a-z][a-z0-9]*(?:-[a-z0-9]+)*)"};
    std::set<std::string> found;
    for (std::sregex_iterator it{help.begin(), help.end(), option}, end; it != end; ++it) found.insert(it->str());
    return found;
}

// "\-\-name\-part" (roff writes a dash as "\-") in one line, given back as "--name-part".
std::set<std::string> roff_options(const std::string& line) {
    const std::regex option{R"(\\-\\-[a-z][a-z0-9]*(?:\\-[a-z0-9]+)*)"};
    std::set<std::string> found;
    for (std::sregex_iterator it{line.begin(), line.end(), option}, end; it != end; ++it)
        found.insert(std::regex_replace(it->str(), std::regex{R"(\\-)"}, "-"));
    return found;
}

// The options a page names anywhere, and those it gives an entry: the tag line after ".TP".
struct PageOptions {
    std::set<std::string> anywhere;
    std::set<std::string> entries;
};

PageOptions page_options(const std::vector<std::string>& lines) {
    PageOptions page;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto named = roff_options(lines[i]);
        page.anywhere.insert(named.begin(), named.end());
        if (i > 0 && lines[i - 1] == ".TP") page.entries.insert(named.begin(), named.end());
    }
    return page;
}

// The tags (".B 130" -> "130") of the entries in the section whose heading is `title`.
std::set<std::string> section_tags(const std::vector<std::string>& lines, const std::string& title) {
    std::set<std::string> tags;
    bool inside = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].rfind(".SH", 0) == 0) inside = lines[i] == ".SH " + title;
        if (inside && i > 0 && lines[i - 1] == ".TP" && lines[i].rfind(".B ", 0) == 0) tags.insert(lines[i].substr(3));
    }
    return tags;
}

TEST(ManPage, HelpListsLongOptions) {
    const auto options = help_options(help_text());
    EXPECT_GT(options.size(), 50u) << help_text();
    EXPECT_TRUE(options.count("--output-xml"));
    EXPECT_TRUE(options.count("--stats-every"));
}

TEST(ManPage, EveryLongOptionOfTheHelpHasAnEntry) {
    const auto lines = man_page_lines();
    ASSERT_FALSE(lines.empty()) << "cannot read " << FLAGSCAN_MAN_PAGE;
    const auto page = page_options(lines);
    for (const auto& option : help_options(help_text()))
        EXPECT_TRUE(page.entries.count(option)) << option << " (in --help) has no entry in " << FLAGSCAN_MAN_PAGE;
}

// `flagscan detect --help`: the subcommand's own options.
std::string detect_help_text() {
    auto options = parse_detect_options({"--help"});
    return options ? options->help_text : std::string{};
}

TEST(ManPage, EveryDetectOptionHasAnEntry) {
    const auto page = page_options(man_page_lines());
    const auto options = help_options(detect_help_text());
    EXPECT_TRUE(options.count("--slow-window")) << detect_help_text();
    for (const auto& option : options)
        EXPECT_TRUE(page.entries.count(option)) << option << " (in detect --help) has no entry in " << FLAGSCAN_MAN_PAGE;
}

TEST(ManPage, NamesNoOptionTheHelpLacks) {
    auto help = help_options(help_text());
    const auto detect = help_options(detect_help_text());
    help.insert(detect.begin(), detect.end());
    for (const auto& option : page_options(man_page_lines()).anywhere)
        EXPECT_TRUE(help.count(option)) << option << " is in " << FLAGSCAN_MAN_PAGE << " but not in --help";
}

TEST(ManPage, ExitStatusListsEveryCode) {
    EXPECT_EQ(section_tags(man_page_lines(), "EXIT STATUS"), (std::set<std::string>{"0", "1", "2", "130"}));
}

TEST(ManPage, CarriesTheVersion) {
    const auto lines = man_page_lines();
    ASSERT_GT(lines.size(), 1u);
    EXPECT_NE(lines[1].find("\"flagscan " FLAGSCAN_VERSION "\""), std::string::npos) << lines[1];
}

TEST(ManPage, RoffOptionsAreReadWhole) {
    EXPECT_EQ(roff_options(R"(.BI \-\-resume\-file " FILE" or \-\-resume)"),
              (std::set<std::string>{"--resume-file", "--resume"}));
    EXPECT_EQ(roff_options(R"(.BR \-p ", " \-\-ports " \fISPEC\fR" "\-p\-")"), (std::set<std::string>{"--ports"}));
}

}  // namespace
}  // namespace flagscan

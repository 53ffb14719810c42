// What the replay suites share about the fixture directory: the environment, files as text,
// lines and words, gtest-safe names.
#pragma once

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace flagscan::testsupport {

inline std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? std::string(value) : std::string();
}

inline std::string flagscan_bin() { return env("FLAGSCAN_BIN"); }
inline std::filesystem::path fixtures_dir() { return env("FLAGSCAN_FIXTURES"); }

inline std::optional<std::string> read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

inline std::vector<std::string> words_of(const std::string& text) {
    std::vector<std::string> words;
    std::istringstream in(text);
    for (std::string word; in >> word;) words.push_back(word);
    return words;
}

// A fixture's name as a gtest parameter name: letters and digits, the rest '_'.
inline std::string test_name(const std::string& name) {
    std::string out;
    for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return out.empty() ? "unnamed" : out;
}

}  // namespace flagscan::testsupport

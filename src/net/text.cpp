// Quoting user input inside one-line error messages, C-style unescaping, whole-file reads.
#include "flagscan/net/text.hpp"

#include <array>
#include <cstdio>
#include <memory>

namespace flagscan {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int hex_value(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The character a one-letter escape stands for, as in nmap's cstring_unescape: \0 is a NUL
// (no octal), other letters and digits are errors, any other character stands for itself.
std::optional<char> simple_escape(char c) {
    switch (c) {
        case '0': return '\0';
        case 'a': return '\a';
        case 'b': return '\b';
        case 'f': return '\f';
        case 'n': return '\n';
        case 'r': return '\r';
        case 't': return '\t';
        case 'v': return '\v';
        default: return is_alnum(c) ? std::nullopt : std::optional<char>{c};
    }
}

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

std::string quote_for_error(std::string_view text) {
    constexpr std::size_t kLongest = 80;
    std::string out = "'";
    for (char c : text.substr(0, kLongest)) {
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? '?' : c;
    }
    if (text.size() > kLongest) out += "...";
    return out + "'";
}

Result<std::string> unescape_c_string(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\\') {
            out += raw[i];
        } else if (i + 1 < raw.size() && raw[i + 1] == 'x') {
            const int high = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
            const int low = i + 3 < raw.size() ? hex_value(raw[i + 3]) : -1;
            if (high < 0 || low < 0)
                return Error{"bad escape " + quote_for_error(raw.substr(i, 4)) + ": \\x takes two hex digits"};
            out += static_cast<char>(high * 16 + low);
            i += 3;
        } else {
            const std::optional<char> c = i + 1 < raw.size() ? simple_escape(raw[i + 1]) : std::nullopt;
            if (!c) return Error{"bad escape " + quote_for_error(raw.substr(i, 2))};
            out += *c;
            ++i;
        }
    }
    return out;
}

std::string_view trim_space(std::string_view text) {
    constexpr std::string_view blanks = " \t\r\n\v\f";
    const std::size_t first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

std::vector<std::string_view> split_on(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == separator) {
            parts.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    return parts;
}

std::optional<std::string> read_text_file(const std::string& path) {
    const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
    if (!file) return std::nullopt;
    std::string text;
    std::array<char, 65536> buffer;
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) text.append(buffer.data(), n);
    if (std::ferror(file.get())) return std::nullopt;
    return text;
}

}  // namespace flagscan

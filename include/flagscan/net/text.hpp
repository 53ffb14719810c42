// Small text helpers shared by the parsers: error quoting, C-style escapes, whole-file reads.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/result.hpp"

namespace flagscan {

// User input quoted for a one-line error: 'text', cut at 80 characters, control bytes as '?'.
std::string quote_for_error(std::string_view text);

// The bytes a C-style string's inside stands for, as nmap's cstring_unescape reads them
// (nmap-payloads strings, nmap-service-probes q|...| probe strings): \xHH, \0 (a NUL, no
// octal), \a \b \f \n \r \t \v; another non-alphanumeric character stands for itself (\\, \|).
// Errors: "bad escape '\q'", "bad escape '\x4': \x takes two hex digits".
Result<std::string> unescape_c_string(std::string_view raw);

// `text` cut at every `separator`; "a,,b" gives an empty middle part (callers report it), ""
// gives one empty part.
std::vector<std::string_view> split_on(std::string_view text, char separator);

// `text` without the blanks (space, tab, CR, LF, VT, FF) at either end.
std::string_view trim_space(std::string_view text);

// `text` read whole as a number (std::from_chars: no locale, no spaces, no trailing junk, no sign
// for unsigned types), or nullopt when it is not one or does not fit T. Every parser reads its
// numbers through this one.
template <class T>
std::optional<T> parse_whole(std::string_view text) {
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// A whole file's bytes; nullopt when it cannot be opened or read.
std::optional<std::string> read_text_file(const std::string& path);

}  // namespace flagscan

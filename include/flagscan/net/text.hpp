// Small text helpers shared by the parsers: error quoting, C-style escapes, whole-file reads.
#pragma once

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

// A whole file's bytes; nullopt when it cannot be opened or read.
std::optional<std::string> read_text_file(const std::string& path);

}  // namespace flagscan

// Small text helpers shared by the parsers' error messages.
#pragma once

#include <string>
#include <string_view>

namespace flagscan {

// User input quoted for a one-line error: 'text', cut at 80 characters, control bytes as '?'.
std::string quote_for_error(std::string_view text);

}  // namespace flagscan

// Quoting user input inside one-line error messages.
#include "flagscan/net/text.hpp"

namespace flagscan {

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

}  // namespace flagscan

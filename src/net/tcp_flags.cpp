// Spelling TCP flags out for people, and reading them back from --scanflags.
#include "flagscan/net/tcp_flags.hpp"

#include <array>
#include <cctype>
#include <charconv>

namespace flagscan {
namespace {

struct FlagName {
    std::uint8_t bit;
    std::string_view name;
};

constexpr std::array<FlagName, 8> kNames{{{TcpFlags::syn, "SYN"},
                                          {TcpFlags::fin, "FIN"},
                                          {TcpFlags::rst, "RST"},
                                          {TcpFlags::psh, "PSH"},
                                          {TcpFlags::ack, "ACK"},
                                          {TcpFlags::urg, "URG"},
                                          {TcpFlags::ece, "ECE"},
                                          {TcpFlags::cwr, "CWR"}}};

std::optional<TcpFlags> parse_number(std::string_view text) {
    unsigned value = 0;
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc{} || end != text.data() + text.size() || value > 0xff) return std::nullopt;
    return TcpFlags{static_cast<std::uint8_t>(value)};
}

}  // namespace

std::string TcpFlags::str() const {
    std::string out;
    for (const auto& [bit, name] : kNames) {
        if (!any(bit)) continue;
        if (!out.empty()) out += ',';
        out += name;
    }
    return out.empty() ? "none" : out;
}

std::optional<TcpFlags> TcpFlags::parse(std::string_view text) {
    if (text.empty()) return std::nullopt;
    if (std::isdigit(static_cast<unsigned char>(text[0]))) return parse_number(text);
    std::uint8_t bits = 0;
    while (!text.empty()) {
        if (text[0] == ',' || text[0] == '|' || text[0] == '+') {
            text.remove_prefix(1);
            continue;
        }
        if (text.size() < 3) return std::nullopt;
        bool matched = false;
        for (const auto& [bit, name] : kNames) {
            bool same = true;
            for (std::size_t i = 0; i < 3; ++i) same = same && std::toupper(static_cast<unsigned char>(text[i])) == name[i];
            if (!same) continue;
            bits |= bit;
            matched = true;
            break;
        }
        if (!matched) return std::nullopt;
        text.remove_prefix(3);
    }
    return TcpFlags{bits};
}

}  // namespace flagscan

// VersionTemplate: parsing nmap's $1 / $P() / $SUBST() / $I() templates and filling them from captures.
#include "flagscan/service/version_template.hpp"

#include <algorithm>
#include <cstring>

#include "flagscan/net/text.hpp"

namespace flagscan {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
bool is_printable(std::uint8_t c) { return c >= 0x20 && c < 0x7f; }

// One argument of a helper: a group number or a C string.
struct Argument {
    bool is_string = false;
    std::uint32_t number = 0;
    std::string text;
};

// Reads the helper arguments after '(' up to and including ')'; `pos` ends after the ')'.
Result<std::vector<Argument>> read_arguments(std::string_view text, std::size_t& pos) {
    std::vector<Argument> args;
    for (;;) {
        while (pos < text.size() && is_blank(text[pos])) ++pos;
        if (pos >= text.size()) return Error{"unterminated helper arguments"};
        if (text[pos] == ')' && args.empty()) {
            ++pos;
            return args;
        }
        Argument arg;
        if (text[pos] == '"') {
            const std::size_t start = ++pos;
            while (pos < text.size() && text[pos] != '"') pos += (text[pos] == '\\') ? 2 : 1;
            if (pos >= text.size()) return Error{"unterminated string in helper arguments"};
            Result<std::string> bytes = unescape_c_string(text.substr(start, pos - start));
            if (!bytes) return Error{bytes.error()};
            arg.is_string = true;
            arg.text = std::move(bytes).value();
            ++pos;
        } else if (is_digit(text[pos])) {
            while (pos < text.size() && is_digit(text[pos]) && arg.number < 1000)
                arg.number = arg.number * 10 + static_cast<std::uint32_t>(text[pos++] - '0');
        } else {
            return Error{"helper arguments are group numbers and \"strings\""};
        }
        args.push_back(std::move(arg));
        while (pos < text.size() && is_blank(text[pos])) ++pos;
        if (pos < text.size() && text[pos] == ')') {
            ++pos;
            return args;
        }
        if (pos >= text.size() || text[pos] != ',') return Error{"expected ',' or ')' in helper arguments"};
        ++pos;
    }
}

Result<std::uint8_t> group_of(const Argument& arg) {
    if (arg.is_string || arg.number < 1 || arg.number > 9) return Error{"a helper's first argument is a group 1-9"};
    return static_cast<std::uint8_t>(arg.number);
}

// The piece a helper ($P, $SUBST, $I) stands for, from its name and arguments.
Result<VersionTemplate::Piece> helper_piece(std::string_view name, const std::vector<Argument>& args) {
    using Kind = VersionTemplate::Kind;
    VersionTemplate::Piece piece;
    const std::size_t wanted = name == "P" ? 1 : name == "SUBST" ? 3 : name == "I" ? 2 : 0;
    if (wanted == 0) return Error{"unknown helper " + quote_for_error("$" + std::string(name))};
    if (args.size() != wanted) return Error{"$" + std::string(name) + " takes " + std::to_string(wanted) + " arguments"};
    const Result<std::uint8_t> group = group_of(args[0]);
    if (!group) return Error{group.error()};
    piece.group = *group;
    if (name == "P") {
        piece.kind = Kind::printable;
    } else if (name == "SUBST") {
        if (!args[1].is_string || !args[2].is_string || args[1].text.empty())
            return Error{"$SUBST(n,\"from\",\"to\") takes two strings, the first not empty"};
        piece.kind = Kind::subst;
        piece.text = args[1].text;
        piece.replacement = args[2].text;
    } else {
        if (!args[1].is_string || (args[1].text != ">" && args[1].text != "<"))
            return Error{"$I(n,\">\") or $I(n,\"<\"): the byte order is \">\" or \"<\""};
        piece.kind = Kind::integer;
        piece.big_endian = args[1].text == ">";
    }
    return piece;
}

// Reads the variable at text[pos] == '$'; `pos` ends after it.
Result<VersionTemplate::Piece> read_variable(std::string_view text, std::size_t& pos) {
    ++pos;
    if (pos < text.size() && is_digit(text[pos])) {
        if (text[pos] == '0') return Error{"$0 is not a group: groups are $1-$9"};
        VersionTemplate::Piece piece;
        piece.kind = VersionTemplate::Kind::capture;
        piece.group = static_cast<std::uint8_t>(text[pos++] - '0');
        return piece;
    }
    const std::size_t open = text.find('(', pos);
    if (open == std::string_view::npos || open == pos || open - pos > 8)
        return Error{"'$' is followed by a group 1-9 or a helper $P( $SUBST( $I("};
    const std::string_view name = text.substr(pos, open - pos);
    pos = open + 1;
    const Result<std::vector<Argument>> args = read_arguments(text, pos);
    if (!args) return Error{args.error()};
    return helper_piece(name, *args);
}

constexpr std::string_view cpe_reserved = ":/?#[]@!$&'()*+,;=%<>\"";

// CPE 2.2's reserved characters (section 5.4) as %XX, blanks as '_', the rest in lower case.
std::string cpe_escape(std::string_view text) {
    constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (cpe_reserved.find(c) != std::string_view::npos) {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 15];
        } else if (is_blank(c)) {
            out += '_';
        } else {
            out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        }
    }
    return out;
}

// The value one variable stands for; nullopt when nmap leaves the field empty.
std::optional<std::string> variable_value(const VersionTemplate::Piece& piece, std::span<const std::uint8_t> subject,
                                          std::span<const Capture> captures) {
    using Kind = VersionTemplate::Kind;
    if (piece.group >= captures.size() || !captures[piece.group].set) return std::nullopt;
    const Capture& c = captures[piece.group];
    const std::span<const std::uint8_t> bytes = subject.subspan(c.begin, c.end - c.begin);
    std::string out;
    switch (piece.kind) {
        case Kind::capture:
            out.assign(bytes.begin(), bytes.end());
            break;
        case Kind::printable:
            for (std::uint8_t b : bytes)
                if (is_printable(b)) out += static_cast<char>(b);
            break;
        case Kind::subst: {
            const std::string_view from = piece.text;
            for (std::size_t i = 0; i < bytes.size();) {
                if (bytes.size() - i >= from.size() && std::memcmp(bytes.data() + i, from.data(), from.size()) == 0) {
                    out += piece.replacement;
                    i += from.size();
                } else {
                    out += static_cast<char>(bytes[i++]);
                }
            }
            break;
        }
        case Kind::integer: {
            if (bytes.size() > 8) return std::nullopt;
            std::uint64_t value = 0;
            for (std::size_t i = 0; i < bytes.size(); ++i)
                value = (value << 8) | bytes[piece.big_endian ? i : bytes.size() - 1 - i];
            out = std::to_string(value);
            break;
        }
        case Kind::literal:
            return piece.text;
    }
    // nmap builds fields as C strings: a NUL inside a capture ends what it brings.
    if (const std::size_t nul = out.find('\0'); nul != std::string::npos) out.resize(nul);
    return out;
}

}  // namespace

Result<VersionTemplate> VersionTemplate::parse(std::string_view text) {
    VersionTemplate tmpl;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t dollar = text.find('$', pos);
        const std::size_t literal_end = dollar == std::string_view::npos ? text.size() : dollar;
        if (literal_end > pos) tmpl.pieces_.push_back(Piece{Kind::literal, std::string(text.substr(pos, literal_end - pos)), {}, 0, true});
        pos = literal_end;
        if (pos >= text.size()) break;
        const std::size_t start = pos;
        Result<Piece> piece = read_variable(text, pos);
        if (!piece) return Error{"bad template " + quote_for_error(text) + " at " + quote_for_error(text.substr(start, 12)) + ": " + piece.error()};
        tmpl.pieces_.push_back(std::move(piece).value());
    }
    return tmpl;
}

std::optional<std::string> VersionTemplate::fill(std::span<const std::uint8_t> subject, std::span<const Capture> captures,
                                                  std::size_t max_length, bool cpe) const {
    std::string out;
    for (const Piece& piece : pieces_) {
        if (piece.kind == Kind::literal) {
            out += piece.text;
        } else {
            std::optional<std::string> value = variable_value(piece, subject, captures);
            if (!value) return std::nullopt;
            out += cpe ? cpe_escape(*value) : *value;
        }
        if (out.size() > max_length) return std::nullopt;
    }
    while (!out.empty() && (is_blank(out.back()) || out.back() == ',')) out.pop_back();
    return out;
}

std::uint8_t VersionTemplate::largest_group() const {
    std::uint8_t largest = 0;
    for (const Piece& piece : pieces_) largest = std::max(largest, piece.group);
    return largest;
}

}  // namespace flagscan

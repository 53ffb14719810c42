// VersionTemplate: a p/ v/ i/ h/ o/ d/ cpe:/ field of a match line, parsed once, filled from a match's captures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/result.hpp"
#include "flagscan/service/regex.hpp"

namespace flagscan {

// nmap's template language, each piece of text one of:
//   literal text
//   $1 .. $9              the capture as it is
//   $P(n)                 the capture's printable characters only ("W\0O\0R\0K" -> "WORK")
//   $SUBST(n,"from","to") the capture with every "from" replaced by "to" (C escapes in both)
//   $I(n,">") $I(n,"<")   the capture (at most 8 bytes) read as an unsigned big / little
//                         endian integer, in decimal
// A '$' followed by anything else is an error when the line is read, where nmap would only
// drop the field when it is filled.
class VersionTemplate {
public:
    enum class Kind : std::uint8_t { literal, capture, printable, subst, integer };
    struct Piece {
        Kind kind = Kind::literal;
        std::string text;         // literal text; for subst the "from" bytes
        std::string replacement;  // subst: the "to" bytes
        std::uint8_t group = 0;   // 1..9
        bool big_endian = true;   // integer
    };

    // Errors: "bad template 'v/$Q(1)/': unknown helper '$Q'".
    static Result<VersionTemplate> parse(std::string_view text);

    // The field for one match; nullopt where nmap leaves it empty: a group that did not take
    // part or does not exist, a $I capture over 8 bytes, or a result longer than max_length.
    // Trailing blanks and commas are removed (as nmap). `cpe` escapes what the captures bring
    // (lower case, ' ' -> '_', CPE's reserved characters -> %XX); the literal text stays.
    std::optional<std::string> fill(std::span<const std::uint8_t> subject, std::span<const Capture> captures,
                                     std::size_t max_length, bool cpe = false) const;

    std::span<const Piece> pieces() const { return pieces_; }
    // The largest capture group the template uses (0 when none).
    std::uint8_t largest_group() const;

private:
    std::vector<Piece> pieces_;
};

}  // namespace flagscan

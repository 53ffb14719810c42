// Regex: one PCRE2 pattern compiled once (JIT where available), matched with bounded effort.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "flagscan/net/result.hpp"

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;
struct pcre2_real_match_context_8;
struct pcre2_real_jit_stack_8;

namespace flagscan {

// Perl's m/.../ flags that nmap-service-probes allows.
struct RegexFlags {
    bool caseless = false;  // i
    bool dotall = false;    // s
};

// One capture group of a match: [begin, end) of the subject; unset when the group did not take part.
struct Capture {
    std::size_t begin = 0;
    std::size_t end = 0;
    bool set = false;
};

// Why the limits: a match line comes from a file and the subject from a hostile server; a
// pattern with nested quantifiers over a long answer could otherwise backtrack for hours.
// nmap's own bounds (match limit 50000, depth 1000, heap 10 MiB) keep every attempt short;
// an attempt that hits one counts as "no match", as it does in nmap.
struct RegexLimits {
    std::uint32_t match_limit = 50000;
    std::uint32_t depth_limit = 1000;
    std::uint32_t heap_limit_kib = 10240;
};

class MatchScratch;

// A compiled pattern. The subject is bytes, not UTF-8: \xff matches the byte 0xff.
class Regex {
public:
    Regex() = default;  // matches nothing
    // Errors: "bad regex at offset 4: missing closing parenthesis".
    static Result<Regex> compile(std::string_view pattern, RegexFlags flags);

    // Whether the pattern can match an empty subject (nmap refuses such match lines).
    bool matches_empty() const;
    bool jit() const { return jit_; }
    std::uint32_t capture_count() const { return captures_; }

    // Captures 0..capture_count() of the first match (0 is the whole match), or nullopt on no
    // match or when a limit was hit. Const and thread-safe: the per-thread state is `scratch`.
    std::optional<std::vector<Capture>> match(std::span<const std::uint8_t> subject, MatchScratch& scratch) const;

private:
    struct CodeFree {
        void operator()(pcre2_real_code_8* code) const;
    };
    std::unique_ptr<pcre2_real_code_8, CodeFree> code_;
    std::uint32_t captures_ = 0;
    bool jit_ = false;
};

// The mutable state one matching thread needs: a match-data block (the ovector), a match
// context holding the limits, and a JIT stack larger than PCRE2's 32 KiB default.
class MatchScratch {
public:
    explicit MatchScratch(RegexLimits limits = {});
    MatchScratch(MatchScratch&&) noexcept = default;
    MatchScratch& operator=(MatchScratch&&) noexcept = default;

private:
    friend class Regex;
    struct DataFree {
        void operator()(pcre2_real_match_data_8* data) const;
    };
    struct ContextFree {
        void operator()(pcre2_real_match_context_8* context) const;
    };
    struct StackFree {
        void operator()(pcre2_real_jit_stack_8* stack) const;
    };
    std::unique_ptr<pcre2_real_match_data_8, DataFree> data_;
    std::unique_ptr<pcre2_real_match_context_8, ContextFree> context_;
    std::unique_ptr<pcre2_real_jit_stack_8, StackFree> jit_stack_;
};

}  // namespace flagscan

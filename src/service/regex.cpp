// Regex and MatchScratch: PCRE2 compile (+JIT, silently skipped when unavailable) and bounded matching.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "flagscan/service/regex.hpp"

#include <pcre2.h>

#include <array>
#include <string>

namespace flagscan {

namespace {

// Capture pairs one scratch holds; a pattern with more groups still matches, its extra groups unset.
constexpr std::uint32_t kScratchPairs = 64;
// JIT stack: start at PCRE2's default, grow up to 1 MiB for patterns with deep alternations.
constexpr std::size_t kJitStackStart = 32 * 1024;
constexpr std::size_t kJitStackMax = 1024 * 1024;

std::string pcre2_message(int code) {
    std::array<PCRE2_UCHAR, 256> buffer{};
    const int n = pcre2_get_error_message(code, buffer.data(), buffer.size());
    if (n < 0) return "PCRE2 error " + std::to_string(code);
    return std::string(reinterpret_cast<const char*>(buffer.data()), static_cast<std::size_t>(n));
}

}  // namespace

void Regex::CodeFree::operator()(pcre2_code* code) const { pcre2_code_free(code); }
void MatchScratch::DataFree::operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
void MatchScratch::ContextFree::operator()(pcre2_match_context* context) const { pcre2_match_context_free(context); }
void MatchScratch::StackFree::operator()(pcre2_jit_stack* stack) const { pcre2_jit_stack_free(stack); }

Result<Regex> Regex::compile(std::string_view pattern, RegexFlags flags) {
    std::uint32_t options = 0;
    if (flags.caseless) options |= PCRE2_CASELESS;
    if (flags.dotall) options |= PCRE2_DOTALL;
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                                     &error_code, &error_offset, nullptr);
    if (code == nullptr)
        return Error{"bad regex at offset " + std::to_string(error_offset) + ": " + pcre2_message(error_code)};
    Regex regex;
    regex.code_.reset(code);
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &regex.captures_);
    // JIT is an optimisation only: where it is not built in (or fails) the interpreter runs.
    regex.jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    return regex;
}

bool Regex::matches_empty() const {
    std::uint32_t value = 0;
    return code_ && pcre2_pattern_info(code_.get(), PCRE2_INFO_MATCHEMPTY, &value) == 0 && value != 0;
}

std::optional<std::vector<Capture>> Regex::match(std::span<const std::uint8_t> subject, MatchScratch& scratch) const {
    if (!code_) return std::nullopt;
    const PCRE2_SPTR bytes = subject.empty() ? reinterpret_cast<PCRE2_SPTR>("") : subject.data();
    const int rc = pcre2_match(code_.get(), bytes, subject.size(), 0, 0, scratch.data_.get(), scratch.context_.get());
    if (rc < 0) return std::nullopt;  // no match, or a limit reached: both are "no match"
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(scratch.data_.get());
    const std::uint32_t pairs = pcre2_get_ovector_count(scratch.data_.get());
    std::vector<Capture> captures(captures_ + 1);
    for (std::uint32_t i = 0; i < captures.size() && i < pairs; ++i) {
        const PCRE2_SIZE begin = ovector[2 * i];
        const PCRE2_SIZE end = ovector[2 * i + 1];
        if (begin == PCRE2_UNSET || end == PCRE2_UNSET || begin > end || end > subject.size()) continue;
        captures[i] = Capture{begin, end, true};
    }
    return captures;
}

MatchScratch::MatchScratch(RegexLimits limits)
    : data_(pcre2_match_data_create(kScratchPairs, nullptr)),
      context_(pcre2_match_context_create(nullptr)),
      jit_stack_(pcre2_jit_stack_create(kJitStackStart, kJitStackMax, nullptr)) {
    pcre2_set_match_limit(context_.get(), limits.match_limit);
    pcre2_set_depth_limit(context_.get(), limits.depth_limit);
    pcre2_set_heap_limit(context_.get(), limits.heap_limit_kib);
    if (jit_stack_) pcre2_jit_stack_assign(context_.get(), nullptr, jit_stack_.get());
}

}  // namespace flagscan

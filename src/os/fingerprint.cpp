// Fingerprint: lookup, nmap's one-test-per-line and "OS:"-wrapped text forms, and their parser.
#include "flagscan/os/fingerprint.hpp"

#include <algorithm>

#include "flagscan/net/text.hpp"

namespace flagscan {

const std::string* FingerprintTest::find(std::string_view attribute) const {
    auto it = std::find_if(attributes.begin(), attributes.end(), [&](const auto& a) { return a.first == attribute; });
    return it == attributes.end() ? nullptr : &it->second;
}

void FingerprintTest::set(std::string_view attribute, std::string value) {
    auto it = std::find_if(attributes.begin(), attributes.end(), [&](const auto& a) { return a.first == attribute; });
    if (it != attributes.end()) {
        it->second = std::move(value);
        return;
    }
    attributes.emplace_back(std::string(attribute), std::move(value));
}

std::string FingerprintTest::str() const {
    std::string text = name + "(";
    for (std::size_t i = 0; i < attributes.size(); ++i) text += (i ? "%" : "") + attributes[i].first + "=" + attributes[i].second;
    return text + ")";
}

const FingerprintTest* Fingerprint::find(std::string_view test) const {
    auto it = std::find_if(tests.begin(), tests.end(), [&](const auto& t) { return t.name == test; });
    return it == tests.end() ? nullptr : &*it;
}

FingerprintTest* Fingerprint::find(std::string_view test) {
    auto it = std::find_if(tests.begin(), tests.end(), [&](const auto& t) { return t.name == test; });
    return it == tests.end() ? nullptr : &*it;
}

std::string Fingerprint::str() const {
    std::string text;
    for (const auto& t : tests) text += t.str() + "\n";
    return text;
}

namespace {

bool is_test_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    });
}

// nmap wraps its printed fingerprint at 72 characters after the "OS:" (osscan.cc mergeFPs,
// FP_RESULT_WRAP_LINE_LEN 74 counted from the prefix's 3).
constexpr std::size_t kWrapWidth = 72;
constexpr std::string_view kWrapPrefix = "OS:";

}  // namespace

Result<FingerprintTestView> split_fingerprint_test(std::string_view text) {
    if (text.empty()) return Error{"empty test"};
    const std::size_t open = text.find('(');
    if (open == std::string_view::npos) return Error{"missing '('"};
    if (text.back() != ')') return Error{"missing ')' at the end"};
    FingerprintTestView view{text.substr(0, open), {}};
    if (!is_test_name(view.name)) return Error{"bad test name"};
    const std::string_view body = text.substr(open + 1, text.size() - open - 2);
    if (body.find_first_of("()") != std::string_view::npos) return Error{"stray parenthesis"};
    if (body.empty()) return view;
    for (std::string_view attribute : split_on(body, '%')) {
        const std::size_t equals = attribute.find('=');
        if (equals == std::string_view::npos || equals == 0)
            return Error{"attribute without a name or '='"};
        view.attributes.emplace_back(attribute.substr(0, equals), attribute.substr(equals + 1));
    }
    return view;
}

Result<Fingerprint> parse_fingerprint(std::string_view text) {
    // Both forms become one run of tests, NAME(...)NAME(...): the printed form cuts its lines
    // anywhere (inside a name or a value), so the lines are joined before the tests are cut.
    std::string joined;
    for (std::string_view line : split_on(text, '\n')) {
        line = trim_space(line);
        if (line.starts_with(kWrapPrefix)) line.remove_prefix(kWrapPrefix.size());
        joined += line;
    }
    Fingerprint fingerprint;
    for (std::size_t at = 0; at < joined.size();) {
        const std::size_t close = joined.find(')', at);
        const std::string_view rest = std::string_view(joined).substr(at);
        if (close == std::string::npos) return Error{"fingerprint: missing ')' in " + quote_for_error(rest)};
        const std::string_view group = std::string_view(joined).substr(at, close + 1 - at);
        auto view = split_fingerprint_test(group);
        if (!view) return Error{"fingerprint: " + view.error() + " in " + quote_for_error(group)};
        at = close + 1;
        if (fingerprint.find(view->name)) continue;
        FingerprintTest& test = fingerprint.tests.emplace_back(FingerprintTest{std::string(view->name), {}});
        for (const auto& [name, value] : view->attributes) test.attributes.emplace_back(name, value);
    }
    if (fingerprint.tests.empty()) return Error{"fingerprint: no tests"};
    return fingerprint;
}

std::string wrap_fingerprint(const Fingerprint& fingerprint) {
    std::string run;
    for (const auto& t : fingerprint.tests) run += t.str();
    std::string wrapped;
    for (std::size_t at = 0; at < run.size(); at += kWrapWidth)
        wrapped.append(kWrapPrefix).append(run, at, kWrapWidth).append("\n");
    return wrapped;
}

}  // namespace flagscan

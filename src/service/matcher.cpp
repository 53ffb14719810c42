// ServiceMatcher: nmap's fallback chain over compiled rules, and filling a rule's version fields.
#include "flagscan/service/matcher.hpp"

#include <array>

namespace flagscan {

namespace {

// nmap's field buffers (service_scan.cc), less the NUL and one: longer results leave the field empty.
constexpr std::size_t kFieldMax = 78;
constexpr std::size_t kExtraMax = 254;
constexpr std::size_t kTypeMax = 30;

void fill(std::string& out, const std::optional<VersionTemplate>& tmpl, std::span<const std::uint8_t> answer,
          std::span<const Capture> captures, std::size_t max_length) {
    if (!tmpl) return;
    if (std::optional<std::string> value = tmpl->fill(answer, captures, max_length)) out = std::move(*value);
}

// A CPE's part letter: "cpe:/a:..." -> 'a'; 0 when it has none.
char cpe_part(const std::string& cpe) { return cpe.size() > 5 ? cpe[5] : '\0'; }

// nmap keeps one CPE per part (a, h, o), the line's last of each, and lists them in that order.
std::vector<std::string> fill_cpes(const std::vector<VersionTemplate>& templates, std::span<const std::uint8_t> answer,
                                   std::span<const Capture> captures) {
    constexpr std::array<char, 3> parts = {'a', 'h', 'o'};
    std::array<std::string, 3> by_part;
    for (const VersionTemplate& tmpl : templates) {
        std::optional<std::string> cpe = tmpl.fill(answer, captures, kFieldMax, true);
        if (!cpe) continue;
        for (std::size_t i = 0; i < parts.size(); ++i)
            if (cpe_part(*cpe) == parts[i]) by_part[i] = std::move(*cpe);
    }
    std::vector<std::string> out;
    for (std::string& cpe : by_part)
        if (!cpe.empty()) out.push_back(std::move(cpe));
    return out;
}

}  // namespace

ServiceMatcher::ServiceMatcher(const ServiceProbeDb& db, RegexLimits limits) : db_(&db), scratch_(limits) {}

std::optional<ServiceMatch> ServiceMatcher::match_rule(const MatchRule& rule, std::span<const std::uint8_t> answer) {
    const std::optional<std::vector<Capture>> captures = rule.regex.match(answer, scratch_);
    if (!captures) return std::nullopt;
    ServiceMatch m;
    m.service = rule.service;
    m.soft = rule.soft;
    m.line = rule.line;
    fill(m.product, rule.product, answer, *captures, kFieldMax);
    fill(m.version, rule.version, answer, *captures, kFieldMax);
    fill(m.extrainfo, rule.extrainfo, answer, *captures, kExtraMax);
    fill(m.hostname, rule.hostname, answer, *captures, kFieldMax);
    fill(m.ostype, rule.ostype, answer, *captures, kTypeMax);
    fill(m.devicetype, rule.devicetype, answer, *captures, kTypeMax);
    m.cpe = fill_cpes(rule.cpe, answer, *captures);
    return m;
}

std::optional<ServiceMatch> ServiceMatcher::match(std::size_t probe_index, std::span<const std::uint8_t> answer) {
    if (probe_index >= db_->probes().size()) return std::nullopt;
    for (const std::size_t fallback : db_->probe(probe_index).fallbacks) {
        for (const MatchRule& rule : db_->probe(fallback).rules) {
            std::optional<ServiceMatch> m = match_rule(rule, answer);
            if (!m) continue;
            m->probe = fallback;
            return m;
        }
    }
    return std::nullopt;
}

bool ServiceVerdict::offer(const ServiceMatch& match) {
    if (settled()) return true;
    if (match.soft && best_) return false;  // nmap keeps the first softmatch
    best_ = match;
    return !match.soft;
}

}  // namespace flagscan

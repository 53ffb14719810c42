// libFuzzer target: the nmap-service-probes parser and the matcher (PCRE2, templates) on one input.
//
// The input is a probe file's text, a NUL byte, then a server's answer (no NUL: the whole input
// is both). The text is parsed as nmap-service-probes; when it parses, the answer is matched
// against every probe's fallback chain, each match's fields are read, and the probe plans of a
// few ports are walked (with a softmatch narrowing one).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "flagscan/service/matcher.hpp"
#include "flagscan/service/probe_db.hpp"

namespace {

using namespace flagscan;

constexpr std::size_t kMaxProbesMatched = 32;

std::size_t fold(const ServiceMatch& m) {
    std::size_t sum = m.service.size() + m.product.size() + m.version.size() + m.extrainfo.size() + m.hostname.size() +
                      m.ostype.size() + m.devicetype.size() + m.probe + m.line + (m.soft ? 1 : 0);
    for (const std::string& cpe : m.cpe) sum += cpe.size();
    return sum;
}

std::size_t walk_plans(const ServiceProbeDb& db) {
    std::size_t sum = 0;
    for (const std::uint16_t port : {21, 80, 443}) {
        for (const Protocol protocol : {Protocol::tcp, Protocol::udp}) {
            ProbePlan plan(db, Port{port}, protocol, version_intensity_default, port == 443);
            std::size_t steps = 0;
            while (const std::optional<std::size_t> next = plan.next()) {
                sum += *next;
                if (++steps == 2 && !db.probe(*next).rules.empty()) plan.soft_matched(db.probe(*next).rules[0].service);
            }
        }
    }
    return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = input.find('\0');
    const std::string_view text = input.substr(0, nul);
    const std::span<const std::uint8_t> answer =
        nul == std::string_view::npos ? std::span<const std::uint8_t>(data, size) : std::span<const std::uint8_t>(data + nul + 1, size - nul - 1);

    const Result<ServiceProbeDb> db = ServiceProbeDb::parse(text, "fuzz");
    if (!db) {
        if (db.error().empty()) __builtin_trap();  // an error always says what is wrong
        return 0;
    }
    ServiceMatcher matcher(*db);
    volatile std::size_t sink = walk_plans(*db);
    for (std::size_t i = 0; i < db->probes().size() && i < kMaxProbesMatched; ++i) {
        if (const std::optional<ServiceMatch> m = matcher.match(i, answer)) sink = sink + fold(*m);
    }
    (void)sink;
    return 0;
}

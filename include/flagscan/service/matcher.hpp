// ServiceMatcher: an answer to a probe tried against the rules nmap tries, giving service, product and version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "flagscan/service/probe_db.hpp"
#include "flagscan/service/regex.hpp"

namespace flagscan {

// What a match line says about a port. Fields a line does not give (or that came out too
// long or from a group that did not take part, as nmap leaves them) are empty.
struct ServiceMatch {
    std::string service, product, version, extrainfo, hostname, ostype, devicetype;
    std::vector<std::string> cpe;  // "cpe:/a:...", then "cpe:/h:...", "cpe:/o:..." (one each, as nmap)
    bool soft = false;
    std::size_t probe = 0;  // the probe whose rule matched (the one sent, a fallback, or NULL)
    std::size_t line = 0;   // that rule's line in the file
};

// One matching thread's matcher over a shared, immutable ServiceProbeDb.
class ServiceMatcher {
public:
    explicit ServiceMatcher(const ServiceProbeDb& db, RegexLimits limits = {});

    // nmap's read handler: the whole answer so far to probe `probe_index` is tried against that
    // probe's rules, then those of its `fallback` probes, then (TCP) the NULL probe's, each in
    // file order; the first rule that matches, hard or soft, is the answer. nullopt: none did.
    std::optional<ServiceMatch> match(std::size_t probe_index, std::span<const std::uint8_t> answer);

    // One rule alone.
    std::optional<ServiceMatch> match_rule(const MatchRule& rule, std::span<const std::uint8_t> answer);

private:
    const ServiceProbeDb* db_;
    MatchScratch scratch_;
};

// What one port's answers have shown so far (nmap's processMatch): the first softmatch is
// kept and later softmatches are ignored; a hard match settles the port.
class ServiceVerdict {
public:
    // Records a result; true when it settles the port (a hard match).
    bool offer(const ServiceMatch& match);
    bool settled() const { return best_ && !best_->soft; }
    // The hard match, else the softmatch, else nullopt.
    const std::optional<ServiceMatch>& best() const { return best_; }

private:
    std::optional<ServiceMatch> best_;
};

}  // namespace flagscan

// OS matching: nmap's expression rules, accuracy from MatchPoints, the best-matches list and the -O report.
#include "flagscan/os/os_match.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace flagscan {

namespace {

bool is_hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }
bool all_hex(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_hex_digit); }
char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string_view without_leading_zeros(std::string_view s) {
    while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
    return s;
}

// Two hex numbers of any length (nmap compares them as strings: the longer, once leading zeros
// are gone, is the larger; else the first differing digit decides). <0, 0, >0.
int compare_hex(std::string_view a, std::string_view b) {
    a = without_leading_zeros(a);
    b = without_leading_zeros(b);
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (upper(a[i]) != upper(b[i])) return upper(a[i]) < upper(b[i]) ? -1 : 1;
    return 0;
}

// One alternative against a value of hex digits: ">X", "<X", "A-B" or a number.
bool numeric_alternative(std::string_view value, std::string_view alternative) {
    if (alternative.front() == '>' || alternative.front() == '<') {
        const std::string_view bound = alternative.substr(1);
        if (!all_hex(bound)) return false;
        const int order = compare_hex(value, bound);
        return alternative.front() == '>' ? order > 0 : order < 0;
    }
    const std::size_t dash = alternative.find('-');
    if (dash != std::string_view::npos) {
        const std::string_view low = alternative.substr(0, dash), high = alternative.substr(dash + 1);
        return all_hex(low) && all_hex(high) && compare_hex(value, low) >= 0 && compare_hex(value, high) <= 0;
    }
    return all_hex(alternative) && compare_hex(value, alternative) == 0;
}

// "M[>500]ST11W[1-5]": the text outside brackets is literal; each bracket is an expression
// (without brackets) matched against the whole run of hex digits at its place.
bool nested_alternative(std::string_view value, std::string_view alternative) {
    std::size_t at = 0;  // in value
    for (std::size_t from = 0;;) {
        const std::size_t open = alternative.find('[', from);
        const std::string_view literal = alternative.substr(from, open == std::string_view::npos ? open : open - from);
        if (open == std::string_view::npos) return value.substr(at) == literal;
        if (value.substr(at, literal.size()) != literal) return false;
        at += literal.size();
        const std::size_t close = alternative.find(']', open);
        if (close == std::string_view::npos) return false;
        std::size_t digits = 0;
        while (at + digits < value.size() && is_hex_digit(value[at + digits])) ++digits;
        if (digits == 0 || !os_expr_match(value.substr(at, digits), alternative.substr(open + 1, close - open - 1))) return false;
        at += digits;
        from = close + 1;
    }
}

bool alternative_matches(std::string_view value, std::string_view alternative, bool nested) {
    if (alternative.empty() || value.empty()) return alternative.empty() && value.empty();
    if (nested && alternative.find('[') != std::string_view::npos) return nested_alternative(value, alternative);
    if (all_hex(value)) return numeric_alternative(value, alternative);
    return value == alternative;
}

}  // namespace

bool os_expr_match(std::string_view value, std::string_view expression, bool nested) {
    int depth = 0;  // inside brackets, '|' belongs to the bracket's expression
    std::size_t start = 0;
    for (std::size_t i = 0; i <= expression.size(); ++i) {
        const char c = i < expression.size() ? expression[i] : '|';
        if (nested && c == '[') ++depth;
        if (nested && c == ']' && depth > 0) --depth;
        if (c != '|' || depth > 0) continue;
        if (alternative_matches(value, expression.substr(start, i - start), nested)) return true;
        start = i + 1;
    }
    return false;
}

OsSubject::OsSubject(const OsDb& db, const Fingerprint& fingerprint) : values_(db.slot_count()), nested_(db.slot_count()) {
    // nmap reads brackets in the TCP options only: every OPS attribute and every O.
    for (std::size_t slot = 0; slot < db.slot_count(); ++slot)
        nested_[slot] = db.slot_test(slot).name == "OPS" || db.slot_attribute(slot) == "O";
    for (const OsTestPoints& test : db.match_points()) {
        const FingerprintTest* given = fingerprint.find(test.name);
        if (!given) continue;
        for (const auto& [name, value] : given->attributes) {
            const auto slot = db.slot(test.name, name);
            if (slot && !values_[*slot]) values_[*slot] = value;
        }
    }
}

double os_accuracy(const OsDb& db, std::size_t entry, const OsSubject& subject, double threshold) {
    // Once more points are lost than (1 - threshold) of all the entry gives, the accuracy can
    // only end below the threshold: stop (osscan.cc compare_fingerprints' max_mismatch).
    const auto most_lost = static_cast<std::uint64_t>((1.0 - threshold) * db.entry(entry).max_points);
    std::uint64_t possible = 0, matched = 0;
    for (std::size_t slot = 0; slot < db.slot_count(); ++slot) {
        const auto expression = db.expression(entry, slot);
        const auto value = subject.value(slot);
        if (!expression || !value) continue;
        possible += db.slot_points(slot);
        if (os_expr_match(*value, *expression, subject.nested(slot)))
            matched += db.slot_points(slot);
        else if (possible - matched > most_lost)
            break;
    }
    return possible ? static_cast<double>(matched) / static_cast<double>(possible) : 0;
}

std::vector<OsAttributeMiss> os_misses(const OsDb& db, std::size_t entry, const OsSubject& subject) {
    std::vector<OsAttributeMiss> misses;
    for (std::size_t slot = 0; slot < db.slot_count(); ++slot) {
        const auto expression = db.expression(entry, slot);
        const auto value = subject.value(slot);
        if (!expression || !value || os_expr_match(*value, *expression, subject.nested(slot))) continue;
        misses.push_back({db.slot_test(slot).name, std::string(db.slot_attribute(slot)), std::string(*value),
                          std::string(*expression), db.slot_points(slot)});
    }
    return misses;
}

int OsMatch::percent() const { return static_cast<int>(std::floor(accuracy * 100)); }

// Why the list works as it does (osscan.cc match_fingerprint): entries are scored in file
// order; a name already listed keeps its better score; the list holds the 36 best, and once
// full an entry must beat its last by 0.00001 to enter; more than 36 perfect matches means
// the fingerprint says too little to name an OS.
OsMatches match_fingerprint(const OsDb& db, const Fingerprint& subject, double threshold) {
    const OsSubject laid_out(db, subject);
    OsMatches out;
    out.result = OsMatchResult::success;
    double entrance = threshold;
    for (std::size_t entry = 0; entry < db.entries().size(); ++entry) {
        const double accuracy = os_accuracy(db, entry, laid_out, entrance);
        if (accuracy < entrance && accuracy != 1.0) continue;
        const std::string& name = db.entry(entry).name;
        auto same = std::find_if(out.matches.begin(), out.matches.end(),
                                 [&](const OsMatch& m) { return db.entry(m.entry).name == name; });
        if (same != out.matches.end()) {
            if (same->accuracy >= accuracy) continue;
            out.matches.erase(same);
        }
        if (accuracy == 1.0) {
            if (out.perfect == os_max_matches) {
                out.result = OsMatchResult::too_many_matches;
                return out;
            }
            ++out.perfect;
        }
        auto at = std::find_if(out.matches.begin(), out.matches.end(), [&](const OsMatch& m) { return m.accuracy < accuracy; });
        out.matches.insert(at, OsMatch{entry, accuracy});
        if (out.matches.size() > os_max_matches) out.matches.pop_back();
        if (out.matches.size() == os_max_matches) entrance = std::min(out.matches.back().accuracy + 0.00001, 1.0);
    }
    if (out.matches.empty()) out.result = OsMatchResult::no_matches;
    return out;
}

namespace {

bool same_class(const OsClass& a, const OsClass& b) {
    return a.vendor == b.vendor && a.family == b.family && a.device_type == b.device_type && a.generation == b.generation;
}

}  // namespace

OsClassification classify(const OsDb& db, const OsMatches& matches) {
    OsClassification out;
    if (matches.result == OsMatchResult::too_many_matches) {
        out.result = OsMatchResult::too_many_matches;
        return out;
    }
    out.result = OsMatchResult::success;
    for (std::size_t i = 0; i < matches.matches.size(); ++i) {
        const bool perfect = i < matches.perfect;
        for (const OsClass& os_class : db.entry(matches.matches[i].entry).classes) {
            if (std::any_of(out.classes.begin(), out.classes.end(), [&](const OsClassMatch& c) { return same_class(*c.os_class, os_class); }))
                continue;
            if (out.classes.size() == os_max_matches) {
                if (perfect) out.result = OsMatchResult::too_many_matches;
                return out;
            }
            if (out.perfect > 0 && !perfect) return out;  // lesser matches add nothing to perfect ones
            out.classes.push_back({&os_class, matches.matches[i].accuracy});
            if (perfect) ++out.perfect;
        }
    }
    if (out.classes.empty()) out.result = OsMatchResult::no_matches;
    return out;
}

std::optional<std::string> os_not_ideal_reason(const OsScanConditions& c) {
    char buffer[128];
    if (c.scan_delay_ms > 500) return "Scan delay (" + std::to_string(c.scan_delay_ms) + ") is greater than 500";
    if (c.timing_level > 4) return "Timing level 5 (Insane) used";
    if (c.open_tcp_port <= 0) return "Missing an open TCP port so results incomplete";
    if (c.closed_tcp_port <= 0) return "Missing a closed TCP port so results incomplete";
    if (c.distance < -1) return "Host distance (" + std::to_string(c.distance) + " network hops) appears to be negative";
    if (c.distance > 5) return "Host distance (" + std::to_string(c.distance) + " network hops) is greater than five";
    if (c.max_timing_ratio > 1.4) {
        std::snprintf(buffer, sizeof buffer, "maxTimingRatio (%e) is greater than 1.4", c.max_timing_ratio);
        return std::string(buffer);
    }
    if (c.closed_udp_port < 0 && !c.udp_scan) return "Didn't receive UDP response. Please try again with -sSU";
    if (c.incomplete) return "Some probes failed to send so results incomplete";
    return std::nullopt;
}

namespace {

constexpr std::size_t kMostListed = 8;  // output.cc MAX_OS_CLASSMEMBERS

void add_if_new(std::vector<std::string>& list, const std::string& item, bool& overflow) {
    if (std::find(list.begin(), list.end(), item) != list.end()) return;
    if (list.size() >= kMostListed)
        overflow = true;
    else
        list.push_back(item);
}

struct Family {
    std::string name, generations;
    double accuracy = 0;
};

// output.cc printosclassificationoutput: the classes within 10% of the best (only the perfect
// ones unless guessing, at most 10 imperfect), their device types, CPEs and "vendor family"
// with generations; nothing at all when a list would pass 8 items.
void summarize(const OsClassification& c, bool guess, OsReport& report) {
    if (c.result != OsMatchResult::success) return;
    std::vector<std::string> types, cpes;
    std::vector<Family> families;
    bool overflow = false;
    for (std::size_t i = 0; i < c.classes.size(); ++i) {
        const double accuracy = c.classes[i].accuracy;
        if ((!guess && i >= c.perfect) || accuracy <= c.classes[0].accuracy - 0.1 || (accuracy < 1.0 && i > 9)) break;
        const OsClass& os_class = *c.classes[i].os_class;
        add_if_new(types, os_class.device_type, overflow);
        for (const OsCpe& cpe : os_class.cpe) add_if_new(cpes, cpe.name, overflow);
        const std::string name = os_class.vendor == os_class.family ? os_class.family : os_class.vendor + " " + os_class.family;
        auto family = std::find_if(families.begin(), families.end(), [&](const Family& f) { return f.name == name; });
        if (family != families.end()) {
            // nmap skips a generation found anywhere in the list so far (strstr).
            const std::string& g = os_class.generation;
            if (!g.empty() && family->generations.find(g) == std::string::npos)
                family->generations += (family->generations.empty() ? "" : "|") + g;
        } else if (families.size() >= kMostListed) {
            overflow = true;
            break;
        } else {
            families.push_back({name, os_class.generation, accuracy});
        }
    }
    if (overflow || families.empty()) return;
    report.device_types = std::move(types);
    report.cpes = std::move(cpes);
    report.just_guessing = c.perfect == 0;
    for (std::size_t i = 0; i < families.size(); ++i) {
        std::string line = families[i].name;
        if (!families[i].generations.empty()) line += " " + families[i].generations;
        if (i >= c.perfect) line += " (" + std::to_string(OsMatch{0, families[i].accuracy}.percent()) + "%)";
        report.running.push_back(std::move(line));
    }
}

// The matches within 10% of the best, at most 10 (output.cc, for <osmatch> and the guesses).
std::vector<OsMatch> near_best(const OsMatches& m) {
    std::vector<OsMatch> near;
    for (std::size_t i = 0; i < 10 && i < m.matches.size() && m.matches[i].accuracy > m.matches[0].accuracy - 0.10; ++i)
        near.push_back(m.matches[i]);
    return near;
}

constexpr std::string_view kSubmit = " (If you know what OS is running on it, see https://nmap.org/submit/ ).";

void perfect_or_guesses(const OsDb& db, const OsMatches& m, const OsReportOptions& o, bool guess, OsReport& report) {
    if (m.perfect > 0) {
        report.listed.assign(m.matches.begin(), m.matches.begin() + static_cast<std::ptrdiff_t>(m.perfect));
        for (const OsMatch& match : report.listed) report.details.push_back(db.entry(match.entry).name);
        report.print_fingerprint = o.verbose > 1;
        return;
    }
    if (o.verbose > 1 && o.not_ideal) report.not_ideal = o.not_ideal;
    report.listed = near_best(m);
    if (guess)
        for (const OsMatch& match : report.listed) report.guesses.emplace_back(db.entry(match.entry).name, match.percent());
    if (!o.not_ideal) {
        report.notes.push_back("No exact OS matches for host" + std::string(kSubmit));
        report.print_fingerprint = true;
    } else {
        report.notes.emplace_back("No exact OS matches for host (test conditions non-ideal).");
        report.print_fingerprint = o.verbose > 1;
        report.wrap_fingerprint = false;
    }
}

}  // namespace

OsReport os_report(const OsDb& db, const OsMatches& m, const OsReportOptions& o) {
    OsReport report;
    const bool guess = o.osscan_guess || o.not_ideal.has_value();
    const bool too_many = m.result == OsMatchResult::too_many_matches || m.perfect > 8;
    report.unreliable_warning = o.unreliable && !too_many;
    summarize(classify(db, m), guess, report);
    if (m.result == OsMatchResult::success && !too_many) {
        perfect_or_guesses(db, m, o, guess, report);
    } else if (m.result == OsMatchResult::no_matches) {
        if (!o.not_ideal) {
            report.notes.push_back("No OS matches for host" + std::string(kSubmit));
            report.print_fingerprint = true;
        } else {
            report.not_ideal = o.not_ideal;
            report.notes.emplace_back("No OS matches for host");
            report.print_fingerprint = o.verbose > 1;
            report.wrap_fingerprint = false;
        }
    } else {
        report.notes.emplace_back("Too many fingerprints match this host to give specific OS details");
        report.print_fingerprint = o.verbose > 1;
        report.wrap_fingerprint = false;
    }
    return report;
}

namespace {

std::string joined(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? std::string(separator) : "") + items[i];
    return out;
}

}  // namespace

std::vector<std::string> OsReport::lines() const {
    std::vector<std::string> out;
    if (unreliable_warning)
        out.emplace_back("Warning: OSScan results may be unreliable because we could not find at least 1 open and 1 closed port");
    if (!running.empty()) {
        out.push_back("Device type: " + joined(device_types, "|"));
        out.push_back(std::string(just_guessing ? "Running (JUST GUESSING): " : "Running: ") + joined(running, ", "));
        if (!cpes.empty()) out.push_back("OS CPE: " + joined(cpes, " "));
    }
    if (not_ideal) out.push_back("OS fingerprint not ideal because: " + *not_ideal);
    if (!details.empty()) out.push_back("OS details: " + joined(details, ", "));
    if (!guesses.empty()) {
        std::vector<std::string> items;
        for (const auto& [name, percent] : guesses) items.push_back(name + " (" + std::to_string(percent) + "%)");
        out.push_back("Aggressive OS guesses: " + joined(items, ", "));
    }
    out.insert(out.end(), notes.begin(), notes.end());
    return out;
}

}  // namespace flagscan

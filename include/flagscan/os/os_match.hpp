// OS matching: nmap-os-db expressions, a subject fingerprint scored against every entry, and nmap's -O verdict lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flagscan/os/fingerprint.hpp"
#include "flagscan/os/os_db.hpp"

namespace flagscan {

// Whether a subject's value satisfies a database expression (osscan.cc expr_match as nmap has
// it since 7.94, which fixed 7.93's prefix matches: "A|B" no longer takes "AS"): alternatives split by '|', an empty one matching only an empty value; for a
// value of hex digits, "A-B" (inclusive), ">X", "<X" and plain numbers compare as hex numbers
// (leading zeros and case aside); anything else compares as a literal string ("M5B4ST11NW7"
// is equal or not, never a prefix). With `nested` (the OPS test and every "O" attribute) a
// bracket matches the run of hex digits at its place: "M[>500]ST11W[1-5]".
bool os_expr_match(std::string_view value, std::string_view expression, bool nested = false);

// A subject fingerprint laid out in the database's slots (views into `fingerprint`, which
// must outlive it); tests and attributes the database does not score are left out.
class OsSubject {
public:
    OsSubject(const OsDb& db, const Fingerprint& fingerprint);
    std::optional<std::string_view> value(std::size_t slot) const { return values_[slot]; }
    // Whether the slot's expressions may hold brackets (os_expr_match's `nested`).
    bool nested(std::size_t slot) const { return nested_[slot]; }

private:
    std::vector<std::optional<std::string_view>> values_;
    std::vector<bool> nested_;
};

// One attribute compared: nmap's verbose "T1.W: "FAF0" NOMATCH "16A0" (25 points)".
struct OsAttributeMiss {
    std::string test, attribute, value, expression;
    std::uint32_t points = 0;
};

// An entry's accuracy against the subject (osscan.cc compare_fingerprints): the MatchPoints of
// the attributes whose expression the value satisfies over the MatchPoints of every attribute
// both give; a test or attribute either side lacks counts for nothing. 0 when nothing is
// compared. Below `threshold` it may stop early and return any lower value (nmap does).
double os_accuracy(const OsDb& db, std::size_t entry, const OsSubject& subject, double threshold = 0);
// The attributes that did not match, in MatchPoints order.
std::vector<OsAttributeMiss> os_misses(const OsDb& db, std::size_t entry, const OsSubject& subject);

// nmap's constants (osscan.h OSSCAN_GUESS_THRESHOLD, FingerPrintResults.h MAX_FP_RESULTS).
inline constexpr double os_guess_threshold = 0.85;
inline constexpr std::size_t os_max_matches = 36;

enum class OsMatchResult { success, no_matches, too_many_matches };

struct OsMatch {
    std::size_t entry = 0;  // index in OsDb::entries()
    double accuracy = 0;    // 0..1
    // nmap prints floor(accuracy * 100).
    int percent() const;
};

// osscan.cc match_fingerprint: every entry at or above the threshold, best first (a tie keeps
// the database's order), one per entry name (the best), at most 36; the perfect ones first.
// More than 36 perfect matches: too_many_matches.
struct OsMatches {
    OsMatchResult result = OsMatchResult::no_matches;
    std::vector<OsMatch> matches;
    std::size_t perfect = 0;
};
OsMatches match_fingerprint(const OsDb& db, const Fingerprint& subject, double threshold = os_guess_threshold);

// The classes of the matches, each (vendor, family, generation, device type) once with its best
// match's accuracy, at most 36; only the perfect matches' when there are any
// (FingerPrintResults.cc populateClassification).
struct OsClassMatch {
    const OsClass* os_class = nullptr;
    double accuracy = 0;
};
struct OsClassification {
    OsMatchResult result = OsMatchResult::no_matches;
    std::vector<OsClassMatch> classes;
    std::size_t perfect = 0;
};
OsClassification classify(const OsDb& db, const OsMatches& matches);

// What makes a fingerprint unfit for submission to nmap (FingerPrintResults.cc
// OmitSubmissionFP); nmap then prints its guesses even without --osscan-guess.
struct OsScanConditions {
    int open_tcp_port = -1;  // the ports the probes used; -1 when none was known
    int closed_tcp_port = -1;
    int closed_udp_port = -1;
    bool udp_scan = false;  // -sU ran
    int distance = -1;      // hops, -1 unknown
    int scan_delay_ms = 0;
    int timing_level = 3;  // -T
    double max_timing_ratio = 0;
    bool incomplete = false;  // some probes could not be sent
};
// nmap's sentence ("Didn't receive UDP response. Please try again with -sSU"), or nullopt.
std::optional<std::string> os_not_ideal_reason(const OsScanConditions& conditions);

struct OsReportOptions {
    bool osscan_guess = false;              // --osscan-guess / --fuzzy
    std::optional<std::string> not_ideal;   // os_not_ideal_reason(...)
    bool unreliable = false;                // no open or no closed TCP port was found
    int verbose = 0;
};

// nmap's -O report for one host (output.cc printosscanoutput, printosclassificationoutput).
struct OsReport {
    // "Warning: OSScan results may be unreliable because we could not find at least 1 open and 1 closed port"
    bool unreliable_warning = false;
    // "Running: Linux 2.6.X|3.X, Microsoft Windows 7 (93%)": one per "vendor family", its
    // generations joined by '|', the percent only after the perfect classes. Empty: none of the
    // three summary lines (no classes, or more than 8 types, CPEs or families to list).
    std::vector<std::string> running;
    std::vector<std::string> device_types;  // "Device type: general purpose|router"
    bool just_guessing = false;  // "Running (JUST GUESSING): ..."
    std::vector<std::string> cpes;  // "OS CPE: cpe:/o:linux:linux_kernel:2.6 ..."
    // "OS fingerprint not ideal because: ..." (printed before the details or guesses).
    std::optional<std::string> not_ideal;
    std::vector<std::string> details;  // "OS details: a, b": the perfect matches' names
    std::vector<std::pair<std::string, int>> guesses;  // "Aggressive OS guesses: a (96%), b (93%)"
    // The matches nmap writes as XML <osmatch> (and flagscan as JSON matches).
    std::vector<OsMatch> listed;
    // Lines after those: "No exact OS matches for host (...).", "No OS matches for host",
    // "Too many fingerprints match this host to give specific OS details".
    std::vector<std::string> notes;
    // Whether nmap prints "TCP/IP fingerprint:" and the fingerprint after the notes, and in
    // which form (wrapped "OS:" lines, or one test per line).
    bool print_fingerprint = false;
    bool wrap_fingerprint = true;

    // The lines in nmap's order, without the fingerprint.
    std::vector<std::string> lines() const;
};
OsReport os_report(const OsDb& db, const OsMatches& matches, const OsReportOptions& options);

}  // namespace flagscan

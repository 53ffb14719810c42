// Fingerprint: nmap's second-generation OS fingerprint, tests of named attributes (SEQ(SP=105%GCD=1)).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flagscan/net/result.hpp"

namespace flagscan {

// One test line: its name (SEQ, OPS, WIN, ECN, T1-T7, U1, IE, or SCAN) and its attributes in
// nmap's order, each value in nmap's encoding (hex numbers upper-case, no 0x: "W1=FAF0").
// A subject fingerprint holds plain values; a database entry's values are expressions
// ("SP=F8-10C", "CI=Z|RD", "W=>8000"), which the matcher (os_db) evaluates.
struct FingerprintTest {
    std::string name;
    std::vector<std::pair<std::string, std::string>> attributes;

    // The attribute's value, or nullptr when the test has no such attribute.
    const std::string* find(std::string_view attribute) const;
    // Sets (or replaces, keeping its place) one attribute.
    void set(std::string_view attribute, std::string value);
    // NAME(A=1%B=2)
    std::string str() const;
};

struct Fingerprint {
    std::vector<FingerprintTest> tests;

    const FingerprintTest* find(std::string_view test) const;
    FingerprintTest* find(std::string_view test);
    // One test per line, in the order held (nmap's: SCAN SEQ OPS WIN ECN T1-T7 U1 IE).
    std::string str() const;
};

// One test's text, NAME(A=1%B=2), cut into views of it (no copy). Errors name the fault
// only (the caller quotes the text): "missing '('", "attribute without a name or '='".
struct FingerprintTestView {
    std::string_view name;
    std::vector<std::pair<std::string_view, std::string_view>> attributes;
};
Result<FingerprintTestView> split_fingerprint_test(std::string_view text);

// A subject fingerprint from its text: nmap's printed form (lines "OS:SCAN(V=7.93%E=4...",
// cut anywhere, as in nmap -O output and XML <osfingerprint fingerprint="...">) or the
// one-test-per-line form of Fingerprint::str(). Blank lines and blanks around lines are
// skipped. When a test appears twice (nmap prints each distinct SEQ of its tries), the
// first is kept, as nmap's parser keeps it.
Result<Fingerprint> parse_fingerprint(std::string_view text);

// nmap's printed form: the tests end to end, cut every 72 characters, each line led by "OS:"
// (osscan.cc mergeFPs, wrapped for submission).
std::string wrap_fingerprint(const Fingerprint& fingerprint);

}  // namespace flagscan

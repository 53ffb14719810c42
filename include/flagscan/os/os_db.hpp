// OsDb: nmap-os-db parsed (MatchPoints, every Fingerprint entry with its classes, CPEs and test expressions), compact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flagscan/net/result.hpp"
#include "flagscan/os/fingerprint.hpp"

namespace flagscan {

// Debian's nmap-common installs it here.
inline constexpr std::string_view default_os_db_path = "/usr/share/nmap/nmap-os-db";

// One name of a CPE line: `CPE cpe:/o:linux:linux_kernel:2.6 auto` (the "auto" flag: nmap's
// tools generated the line).
struct OsCpe {
    std::string name;
    bool automatic = false;
};

// `Class vendor | family | generation | device type`, and the CPE lines under it.
struct OsClass {
    std::string vendor;       // "Linux", "Microsoft"
    std::string family;       // "Linux", "Windows", "embedded"
    std::string generation;   // "2.6.X", "7"; empty when the line leaves it out
    std::string device_type;  // "general purpose", "router"
    std::vector<OsCpe> cpe;
};

// One `Fingerprint` entry; its test expressions live in OsDb's slots.
struct OsEntry {
    std::string name;  // "Linux 2.6.32 - 3.10"
    std::uint32_t line = 0;
    std::vector<OsClass> classes;
    std::uint32_t max_points = 0;  // MatchPoints of every attribute it gives (nmap's numprints)
};

// One test of the MatchPoints block: its attributes in nmap's order with their points. The
// database's attributes are numbered end to end ("slots": SEQ.SP is 0, SEQ.GCD 1 ...).
struct OsTestPoints {
    std::string name;
    std::vector<std::pair<std::string, std::uint32_t>> attributes;
    std::size_t first_slot = 0;
    bool has_r = false;  // R is one of its attributes (every test but SEQ, OPS, WIN)
};

class OsDb {
public:
    OsDb() = default;

    // The whole file; `file_name` names it in errors, one line each:
    //   "nmap-os-db:2417: unknown attribute 'XX' in test T1: 'T1(XX=1)'"
    // SEQ/OPS/WIN(R=N) is read as absent (osscan.cc FingerTest::str2AVal); a test giving no R
    // has no R, as nmap 7.93 reads it (7.94 and later imply R=Y).
    static Result<OsDb> parse(std::string_view text, std::string_view file_name);
    // The file at `path`: "nmap-os-db not found at PATH: install nmap-common (apt-get install
    // nmap-common) or pass --os-db FILE" when it is not there.
    static Result<OsDb> load(const std::string& path = std::string(default_os_db_path));

    std::span<const OsEntry> entries() const { return entries_; }
    const OsEntry& entry(std::size_t index) const { return entries_[index]; }
    std::span<const OsTestPoints> match_points() const { return tests_; }
    std::size_t slot_count() const { return slot_test_.size(); }
    // The slot of TEST.ATTRIBUTE, nullopt when MatchPoints does not name it.
    std::optional<std::size_t> slot(std::string_view test, std::string_view attribute) const;
    const OsTestPoints& slot_test(std::size_t slot) const { return tests_[slot_test_[slot]]; }
    std::string_view slot_attribute(std::size_t slot) const;
    std::uint32_t slot_points(std::size_t slot) const;
    // The entry's expression for that slot; nullopt when the entry does not give it.
    std::optional<std::string_view> expression(std::size_t entry, std::size_t slot) const;
    // The entry's tests as a Fingerprint, in MatchPoints order (values are expressions).
    Fingerprint fingerprint(std::size_t entry) const;
    // Distinct expressions held (each stored once).
    std::size_t expression_count() const { return spans_.size() - 1; }
    // Bytes held by the slots and expressions (the entries' names and classes aside).
    std::size_t slot_bytes() const;

private:
    friend class OsDbParser;
    std::vector<OsTestPoints> tests_;
    std::vector<std::uint16_t> slot_test_;  // slot -> index in tests_
    std::vector<OsEntry> entries_;
    std::vector<std::uint32_t> slots_;  // entries_.size() x slot_count(): index in spans_, 0 = absent
    std::string pool_;                  // the distinct expressions, end to end
    std::vector<std::pair<std::uint32_t, std::uint32_t>> spans_{{0, 0}};  // offset, length in pool_
};

}  // namespace flagscan

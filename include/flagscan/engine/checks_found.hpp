// ChecksFound: what the weakness checks (--checks) found on each port, kept sparsely beside the verdicts.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace flagscan {

// One check's finding on one port: nmap's script output, and the evidence behind it.
struct CheckFinding {
    std::string id;                     // the check: "ftp-anon"
    std::string output;                 // what it found, as nmap's script output; lines split by '\n'
    std::vector<std::string> evidence;  // the lines exchanged, "> " sent, "< " received, escaped printable
};

// The side table of Results: only the ports with a finding have an entry, so a scan of many
// ports costs nothing here. A port's findings stay in the order they were added (the checks'
// table order: the run adds them so).
class ChecksFound {
public:
    // The checks ran over this scan (the outputs then say so, even when nothing was found).
    void mark_performed() { performed_ = true; }
    bool performed() const { return performed_; }

    void add(std::uint64_t index, CheckFinding finding) { found_[index].push_back(std::move(finding)); }
    // The port's findings, or null when it has none.
    const std::vector<CheckFinding>* find(std::uint64_t index) const {
        const auto found = found_.find(index);
        return found == found_.end() ? nullptr : &found->second;
    }
    std::size_t ports() const { return found_.size(); }

private:
    bool performed_ = false;
    std::unordered_map<std::uint64_t, std::vector<CheckFinding>> found_;
};

}  // namespace flagscan

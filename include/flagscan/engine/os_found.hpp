// OsFound: what OS detection (-O) found of each host, kept beside the verdicts for every output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace flagscan {

// nmap's <osclass> under an <osmatch>.
struct OsClassFound {
    std::string type, vendor, family, generation;
    int accuracy = 0;
    std::vector<std::string> cpe;
};

// nmap's <osmatch>: a database entry and its accuracy in percent.
struct OsMatchFound {
    std::string name;
    int accuracy = 0;
    std::uint32_t line = 0;
    std::vector<OsClassFound> classes;
};

// nmap's <portused>: a port the probes went to.
struct OsPortUsed {
    std::string state;  // "open", "closed"
    std::string proto;  // "tcp", "udp"
    std::uint16_t port = 0;
};

// One host's -O verdict, in the forms the outputs need.
struct OsFound {
    std::vector<OsPortUsed> ports_used;
    std::vector<OsMatchFound> matches;     // best first (nmap's XML osmatch list)
    std::string fingerprint;               // nmap's wrapped "OS:" form
    std::vector<std::string> lines;        // the normal report's lines, in nmap's order
    bool print_fingerprint = false;        // "TCP/IP fingerprint:" and the fingerprint after the lines
    std::vector<std::string> after_lines;  // Uptime guess, Network Distance, TCP Sequence Prediction, IP ID ...
    std::optional<int> distance;
    std::optional<std::int64_t> uptime;    // seconds
    std::string lastboot;                  // ctime text of the boot
    std::optional<unsigned> seq_index;     // <tcpsequence>
    std::string seq_difficulty, seq_values;
    std::string ipid_class, ipid_values;   // <ipidsequence>
    std::string ts_class;                  // <tcptssequence class>, "" when no timestamps were compared
    std::string ts_values;                 // <tcptssequence values>: the TSvals, hex, when they had a rate
    int tries = 0;
    int answered = 0;                      // probes answered in the try reported, of 16
};

// The side table: one entry per host OS detection ran on.
class OsTable {
public:
    void mark_performed() { performed_ = true; }
    bool performed() const { return performed_; }
    void set(std::uint32_t host, OsFound found) { found_[host] = std::move(found); }
    const OsFound* find(std::uint32_t host) const {
        const auto it = found_.find(host);
        return it == found_.end() ? nullptr : &it->second;
    }

private:
    bool performed_ = false;
    std::unordered_map<std::uint32_t, OsFound> found_;
};

}  // namespace flagscan

// The command line: nmap's spellings and readable long forms, parsed into one immutable ScanConfig.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flagscan/cli/shards.hpp"
#include "flagscan/engine/timing.hpp"
#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/ipv6.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/os/os_db.hpp"
#include "flagscan/output/report.hpp"
#include "flagscan/probe/ip_options.hpp"
#include "flagscan/probe/probe_kind.hpp"
#include "flagscan/service/checks.hpp"
#include "flagscan/service/ftp_bounce.hpp"
#include "flagscan/service/load.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/wire/decoys.hpp"

namespace flagscan {

// Host discovery methods (-PE -PP -PS -PA -PU); none given: nmap's default set.
struct PingPlan {
    bool echo = false;
    bool timestamp = false;
    bool arp = false;  // -PR
    std::vector<Port> syn;
    std::vector<Port> ack;
    std::vector<Port> udp;
    bool given() const { return echo || timestamp || arp || !syn.empty() || !ack.empty() || !udp.empty(); }
};

// -O: nmap's OS detection after the port scan, and how it is reported.
struct OsScanChoice {
    bool enabled = false;       // -O, --osscan
    bool print_fingerprint = false;  // --os-fingerprint: nmap's "OS:" block even when a match was found
    bool guess = false;         // --osscan-guess, --fuzzy
    bool limit = false;         // --osscan-limit: only hosts with an open and a closed TCP port
    int max_tries = 5;          // --max-os-tries (nmap: 5 when the conditions are good, else 2)
    std::string db_path{default_os_db_path};  // --os-db
};

struct ScanConfig {
    std::vector<TargetExpression> targets;   // from the command line and -iL
    std::vector<TargetExpression> excludes;  // from --exclude and --excludefile
    bool ipv6 = false;                       // -6, or implied by an IPv6 target: every target is IPv6
    std::string ports_spec;                  // -p; empty: --top-ports
    std::size_t top_ports = 1000;
    bool top_ports_given = false;            // --top-ports N with -p: the N most common of those ports (nmap)
    ProbeKind kind = syn_kind();             // -sS..-sM, -sT, or --scanflags over one of them
    bool kind_given = false;                 // a TCP scan type was named (replay: overrides inference)
    bool tcp_scan = true;                    // false for -sU alone
    bool udp_scan = false;                   // -sU
    std::optional<BounceServer> ftp_bounce;  // -b: the FTP server to bounce through (kind: ftp_bounce_kind())
    bool ping_only = false;                  // -sn
    bool list_only = false;                  // -sL: list the targets, send nothing
    bool offline = false;                    // --offline, --dryrun: craft and count (or -w) the probes, send none
    bool include_reserved = false;           // --include-reserved: RFC 6890 blocks inside wide ranges too
    PingPlan ping;                           // -PE -PP -PS -PA -PU
    std::string replay_path;                 // --replay FILE
    std::optional<Ipv4> scanner;             // --scanner ADDR (replay)
    std::string write_path;                  // -w FILE
    bool explain = false;                    // --explain
    bool banners = false;                    // --banners
    bool ident = false;                      // -I: ask identd (RFC 1413) who owns each open TCP port
    bool packet_trace = false;               // --packet-trace
    Micros stats_every = 0;                  // --stats-every; 0: a status line only on a terminal
    bool skip_discovery = false;             // -Pn
    bool no_dns = false;                     // -n
    std::string interface;                   // -e
    std::optional<Ipv4> source;              // -S with an IPv4 address
    std::optional<Ipv6> source6;             // -S with an IPv6 address (an IPv6 scan)
    std::optional<Port> source_port;         // -g
    std::optional<std::uint8_t> ttl;         // --ttl; none: 64 (raw probes)
    std::size_t fragment_data = 0;           // -f 8, -ff 16, --mtu N: data bytes per IP fragment; 0: unfragmented
    std::optional<std::uint16_t> data_length;  // --data-length: random bytes in every TCP/UDP/ICMP probe (none: UDP payloads)
    bool badsum = false;                     // --badsum: TCP/UDP checksums wrong on purpose
    std::vector<DecoyEntry> decoys;          // -D as typed; empty: no decoys
    IpOptions ip_options;                    // --ip-options; empty: none
    std::string spoof_mac;                   // --spoof-mac as typed (probe/spoof_mac.hpp); empty: our own MAC
    Timing timing;
    std::uint64_t seed = 0;
    bool seed_given = false;
    ShardChoice shard;                       // --shard I/N, --shards N --shard I, --shard auto; default 1/1
    bool shard_given = false;                // any of them (then --seed is required)
    double max_rate_total = 0;               // --max-rate-total: divided by the shard count into timing.max_rate
    ReportOptions report;
    std::string json_path;                   // -oJ
    std::string normal_path;                 // -oN; "-oN -" leaves it empty (the normal report is on stdout anyway)
    std::string xml_path;                    // -oX
    std::string grepable_path;               // -oG
    std::string all_base;                    // -oA BASE: BASE.nmap, BASE.xml, BASE.gnmap, BASE.jsonl
    std::vector<std::string> args;           // argv after the program name (what a resume file records)
    std::string command_line;                // argv as typed, quoted as nmap echoes it (-oX args, -oG header)
    int verbosity = 0;
    std::string resume_path;                 // --resume FILE: continue the scan FILE records (nothing else given)
    std::string resume_file = "flagscan.resume";  // --resume-file: where an interrupted scan records itself
    bool version_detection = false;          // -sV
    int version_intensity = version_intensity_default;  // --version-intensity 0-9, --version-light 2, --version-all 9
    ProbeFileChoice probe_files;             // --versiondb FILE, --datadir DIR: where nmap-service-probes is read
    std::vector<const Check*> checks;        // --checks: the weakness checks run after -sV (none: no --checks)
    OsScanChoice os;                         // -O and its options
};

struct CommandLine {
    enum class Action { scan, help, version, explain_rules, list_checks } action = Action::scan;
    ScanConfig config;
    std::string help;
};

// Parses argv. Errors are one line ("bad port spec '70000': ...", "unknown option '--frob'").
// `env`: where --shard auto reads the rank (the process's environment unless a test gives one).
Result<CommandLine> parse_command_line(int argc, const char* const* argv, const EnvLookup& env = system_environment());

// Translates nmap's multi-letter short flags (-sS, -Pn, -iL, -oJ, -p-) into long options, so
// the parser sees one spelling per option. Exposed for its tests.
std::vector<std::string> translate_nmap_flags(const std::vector<std::string>& args);

// "100ms", "2s", "1m", "0.5" (seconds, as nmap reads a bare number) -> microseconds.
std::optional<Micros> parse_duration(std::string_view text);

}  // namespace flagscan

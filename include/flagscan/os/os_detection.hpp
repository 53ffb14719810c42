// OsDetection: the -O phase after the port scan: per host, the ports chosen, nmap's tries sent and matched, the verdict kept in Results.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/results.hpp"
#include "flagscan/os/os_db.hpp"
#include "flagscan/os/os_scan.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

struct OsDetectionSettings {
    Ipv4 source;
    Port first_source_port;  // kOsPortsPerTry x max_tries ports from here are ours (the capture sees them)
    int max_tries = 5;
    bool guess = false;              // --osscan-guess
    bool limit = false;              // --osscan-limit
    bool print_fingerprint = false;  // --os-fingerprint
    bool udp_scan = false;           // -sU ran (nmap: a closed UDP port was known)
    bool on_link = false;            // the targets are on our Ethernet (SCAN's DC=D)
    std::optional<Ipv4Range> link_subnet;  // live: our Ethernet's network; a target inside it is on the link
    int verbose = 0;
    int timing_level = 3;
    std::uint8_t ttl = 64;
    Micros rtt = 0;                  // the slowest host's round trip: the tries' wait for a host with none of its own
    std::string version;             // SCAN's V
    std::uint64_t seed = 0;
    // When the fingerprint is taken (SCAN's D and TM, the boot time from the uptime): none, the
    // clock's; a replay gives the capture's, so that its report is the same on every run.
    std::optional<std::int64_t> now_unix;
    std::optional<std::array<std::uint8_t, 3>> mac_prefix;  // SCAN's M, when the target's MAC is known (replay)
};

struct OsDetectionRun {
    int hosts = 0;      // hosts probed
    int matched = 0;    // with a match listed
    std::vector<std::string> notes;  // -v lines: tries and probes answered per host
    bool interrupted = false;
};

// The ports OS detection uses on one host (nmap's rules): the first open TCP port, the first
// closed TCP port, the first closed UDP port; a closed one not found is a random port in
// 30000-44780, as nmap picks it; no open TCP port: the probes that need one are not sent.
struct OsPortChoice {
    std::optional<Port> open_tcp;
    Port closed_tcp, closed_udp;
    bool closed_tcp_known = false, closed_udp_known = false;
};
OsPortChoice choose_os_ports(const Results& results, std::uint32_t host, std::uint64_t random);

// One host's verdict from its tries (live ones, or a capture's: os_capture): each try's
// fingerprint matched, the best try's matches listed, the tries' fingerprints merged.
OsFound os_verdict(Ipv4 target, const OsPortChoice& ports, const std::vector<OsRound>& rounds, const OsDb& db,
                   const OsDetectionSettings& settings);

// Runs -O over every host of `results` that answered, up to 16 hosts at once (each its own
// tries, one after the other), through one sink and one capture: a reply goes to its source's host.
OsDetectionRun detect_os(Results& results, const OsDb& db, const OsDetectionSettings& settings, FrameSink& sink,
                         FrameSource& source, const Clock& clock, const std::atomic<bool>& stop);

}  // namespace flagscan

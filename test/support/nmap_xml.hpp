// Checks of nmap-format XML for the suites that run the flagscan binary: nmap.dtd and ndiff.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace flagscan::testsupport {

inline constexpr const char* kNmapDtd = "/usr/share/nmap/nmap.dtd";

// Why the XML checks cannot run here (xmllint, ndiff or nmap.dtd missing), or nullopt.
std::optional<std::string> xmllint_missing();
std::optional<std::string> ndiff_missing();

// xmllint --noout --dtdvalid nmap.dtd PATH: "" when valid, else xmllint's complaint.
std::string dtd_errors(const std::string& path);

// The lines of `ndiff A B` that tell a port or host-state difference: every "-" or "+" line but
// the "Nmap ... scan initiated" ones and a host's name line (which differs when one file names
// the MAC address and the other does not). Empty: the two scans agree.
std::vector<std::string> ndiff_differences(const std::string& a, const std::string& b);

}  // namespace flagscan::testsupport

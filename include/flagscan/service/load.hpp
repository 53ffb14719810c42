// load_service_probes: nmap-service-probes from --versiondb, --datadir or nmap's install, else the built-in set.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "flagscan/net/result.hpp"
#include "flagscan/service/probe_db.hpp"

namespace flagscan {

// Where the probes came from, for the line a scan prints.
struct LoadedProbes {
    ServiceProbeDb db;
    std::string source;    // the file's path, or "built-in"
    bool builtin = false;  // nmap-service-probes was not found
    // "nmap-service-probes not found; using flagscan's built-in set of 4 probes", or
    // "service probes: /usr/share/nmap/nmap-service-probes (186 probes, 11917 rules)".
    std::string describe() const;
};

// Where to look, from the command line.
struct ProbeFileChoice {
    std::optional<std::string> versiondb;  // --versiondb FILE: this file or an error
    std::optional<std::string> datadir;    // --datadir DIR: DIR/nmap-service-probes first
};

// --versiondb's file when given (unreadable or malformed: an error); else the first readable
// of DIR/nmap-service-probes (--datadir), /usr/share/nmap/nmap-service-probes (Debian's
// nmap-common), /usr/local/share/nmap/nmap-service-probes; else the built-in set. A file
// that is found but does not parse is an error ("FILE:LINE: ..."), never silently replaced.
Result<LoadedProbes> load_service_probes(const ProbeFileChoice& choice = {});
Result<LoadedProbes> load_service_probes(const std::optional<std::string>& versiondb);

// The built-in set: a NULL probe (SSH, FTP, SMTP, POP3, IMAP and telnet banners), GetRequest
// (HTTP Server headers: nginx, Apache; redis's error), RedisPing, and a TLS ClientHello that
// recognises a ServerHello or an alert as "ssl". Written for flagscan in nmap's format.
std::string_view builtin_service_probes_text();
Result<ServiceProbeDb> builtin_service_probes();

}  // namespace flagscan

// ServicesFound: what service detection (-sV) said of each open port, kept sparsely beside the verdicts.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace flagscan {

// How the service name was found (nmap's <service method=...>): read off the services table
// (nothing matched), or from the port's own answers.
enum class ServiceMethod : std::uint8_t { table, probed };
// What the service was found inside: nothing, or a TLS session flagscan opened (nmap: "ssl/http").
enum class ServiceTunnel : std::uint8_t { none, ssl };

// nmap's name confidence (<service conf=...>), as its portlist.cc sets it.
inline constexpr std::uint8_t kConfidenceProbed = 10;     // a match or softmatch line
inline constexpr std::uint8_t kConfidenceTcpwrapped = 8;  // closed at once, nothing said
inline constexpr std::uint8_t kConfidenceTable = 3;       // the services table's guess

// One port's service, as nmap's serviceDeductions. Empty strings are fields nobody gave.
struct ServiceFound {
    std::string name;  // "ssh", "http" (without "ssl/": that is `tunnel`); "" unknown
    std::string product, version, extrainfo, hostname, ostype, devicetype;
    std::vector<std::string> cpe;  // "cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel"
    std::string fingerprint;       // nmap's service fingerprint of an unrecognised answer (<service servicefp>)
    ServiceMethod method = ServiceMethod::table;
    ServiceTunnel tunnel = ServiceTunnel::none;
    std::uint8_t confidence = kConfidenceTable;  // 0..10
    bool tcpwrapped = false;                     // the connection closed at once with no data

    // A match (or softmatch) line's verdict: method probed, conf 10.
    static ServiceFound probed(std::string name, ServiceTunnel tunnel = ServiceTunnel::none);
    // nmap's "tcpwrapped": method probed, conf 8.
    static ServiceFound wrapped(ServiceTunnel tunnel = ServiceTunnel::none);
    // Nothing matched: the services table's name ("" when it has none), method table, conf 3.
    static ServiceFound table(std::string name, ServiceTunnel tunnel = ServiceTunnel::none);
};

// nmap's version text of the port (populateFullVersionString): product, version and
// "(extrainfo)" joined by spaces, cut with "..." to fit 159 characters as nmap cuts it.
std::string full_version(const ServiceFound& found);

// The side table of Results: one entry per port service detection looked at (open ports
// only), so a scan of many closed ports costs nothing here.
class ServicesFound {
public:
    // Service detection ran over this scan (every report then shows its VERSION column, its
    // "Service Info" and its closing line, even when it found nothing).
    void mark_performed() { performed_ = true; }
    bool performed() const { return performed_; }

    // The port's service, replacing any before. Stored as nmap stores it (setServiceProbeResults):
    // product, version, hostname and each CPE cut at 80 characters, extrainfo at 256, ostype and
    // devicetype at 32, every non-printable byte turned '.'; a tcpwrapped port is named so.
    void set(std::uint64_t index, ServiceFound found);
    // The port's entry, or null.
    const ServiceFound* find(std::uint64_t index) const;
    std::size_t size() const { return found_.size(); }

    // Ident (-I) asked over this scan: every report then shows its OWNER column, even empty.
    void mark_ident_performed() { ident_performed_ = true; }
    bool ident_performed() const { return ident_performed_; }

    // Who owns the port's service, as identd (RFC 1413, -I) answered: the USERID reply's user
    // field, non-printable bytes turned '.', cut at 80 characters. Replaces any before.
    void set_owner(std::uint64_t index, std::string user);
    // The port's owner, or null when identd named none.
    const std::string* owner(std::uint64_t index) const;

private:
    bool performed_ = false;
    bool ident_performed_ = false;
    std::unordered_map<std::uint64_t, ServiceFound> found_;
    std::unordered_map<std::uint64_t, std::string> owners_;
};

}  // namespace flagscan

// ServiceProbeDb: nmap-service-probes parsed (probes, their match/softmatch rules, compiled once) and probe selection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/service/regex.hpp"
#include "flagscan/service/version_template.hpp"
#include "flagscan/targets/port_list.hpp"
#include "flagscan/targets/services.hpp"

namespace flagscan {

// One match or softmatch line: `match <service> m|regex|[is] [p/../ v/../ i/../ h/../ o/../
// d/../ cpe:/../[a]]...`. A softmatch names a service to narrow the probes to; its templates
// (rare) are filled as a match's are.
struct MatchRule {
    std::string service;
    bool soft = false;
    Regex regex;
    std::optional<VersionTemplate> product, version, extrainfo, hostname, ostype, devicetype;
    std::vector<VersionTemplate> cpe;  // in the line's order, each "cpe:/a:...", "cpe:/o:..."
    std::size_t line = 0;              // in the file, for --version-trace and errors
};

// One Probe directive and the lines under it.
struct ServiceProbe {
    // nmap's defaults for a probe that does not say (service_scan.h, service_scan.cc).
    static constexpr int default_rarity = 5;
    static constexpr int default_totalwaitms = 5000;
    static constexpr int default_tcpwrappedms = 2000;

    Protocol protocol = Protocol::tcp;
    std::string name;
    std::vector<std::uint8_t> payload;  // q|...| with its escapes undone; empty for NULL
    bool no_payload = false;            // "no-payload": not used as a UDP scan payload
    std::vector<Port> ports;            // `ports`, sorted and unique
    std::vector<Port> sslports;         // `sslports`, sorted and unique
    int rarity = default_rarity;        // 1 (sent almost always) .. 9 (only with --version-all)
    int totalwaitms = default_totalwaitms;
    int tcpwrappedms = default_tcpwrappedms;
    // The probes whose rules are tried on this probe's answer, in order, as nmap compiles them:
    // this probe, its `fallback` probes (by name, the same protocol's first), then for TCP the
    // NULL probe.
    std::vector<std::size_t> fallbacks;
    std::vector<MatchRule> rules;  // match and softmatch lines, in the file's order
    std::size_t line = 0;

    bool is_null() const { return name == "NULL"; }
    // Whether `ports` (or `sslports` inside a TLS tunnel) lists the port.
    bool port_is_probable(Port port, bool tunnel_ssl) const;
    // Whether any of this probe's rules (match or softmatch) names the service.
    bool can_match(std::string_view service) const;
};

// --version-intensity values nmap names.
inline constexpr int version_intensity_default = 7;
inline constexpr int version_intensity_light = 2;
inline constexpr int version_intensity_all = 9;

class ServiceProbeDb {
public:
    ServiceProbeDb() = default;

    // The whole file. `file_name` only names it in errors, which are one line each:
    //   "nmap-service-probes:4211: bad regex at offset 7: missing closing parenthesis"
    // Every regex is compiled here (JIT where available), once.
    static Result<ServiceProbeDb> parse(std::string_view text, std::string_view file_name);

    std::span<const ServiceProbe> probes() const { return probes_; }
    const ServiceProbe& probe(std::size_t index) const { return probes_[index]; }
    std::size_t rule_count() const;
    // The TCP NULL probe (banner wait); nullopt when the file has none.
    std::optional<std::size_t> null_probe() const { return null_probe_; }
    // The probe of a protocol with that name ("GetRequest"), as fallback names are resolved.
    std::optional<std::size_t> find(std::string_view name, Protocol protocol) const;

    // The Exclude directive: ports never version-probed unless --allports (nmap excludes
    // T:9100-9107, printers that print whatever they are sent).
    bool excluded(Port port, Protocol protocol) const;
    const PortSpec& exclude() const { return exclude_; }

    bool probe_can_match(std::size_t probe_index, std::string_view service) const {
        return probes_[probe_index].can_match(service);
    }

    // The probes for one open port, in the order nmap sends them: the NULL probe (TCP only),
    // then the probes of the protocol whose `ports` (`sslports` when tunnel_ssl) list the port,
    // in file order, then the others with rarity <= intensity, in file order. Before any
    // softmatch; see ProbePlan for what a softmatch changes.
    std::vector<std::size_t> probes_for(Port port, Protocol protocol, int intensity, bool tunnel_ssl) const;

private:
    std::vector<ServiceProbe> probes_;
    std::optional<std::size_t> null_probe_;
    PortSpec exclude_;
};

// nmap's walk through the probes for one port (ServiceNFO::nextProbe): next() gives the next
// probe to send; after a softmatch, soft_matched() narrows the rest to the probes that can
// name that service (every probe's rarity no longer counts), unless intensity is 9
// (--version-all keeps every probe).
class ProbePlan {
public:
    ProbePlan(const ServiceProbeDb& db, Port port, Protocol protocol, int intensity, bool tunnel_ssl);
    std::optional<std::size_t> next();
    void soft_matched(std::string service) { soft_service_ = std::move(service); }
    const std::optional<std::string>& soft_service() const { return soft_service_; }

private:
    enum class Stage : std::uint8_t { null_probe, port_probes, other_probes, done };
    bool wanted(const ServiceProbe& probe) const;

    const ServiceProbeDb* db_;
    Port port_;
    Protocol protocol_;
    int intensity_;
    bool tunnel_ssl_;
    Stage stage_ = Stage::null_probe;
    std::size_t cursor_ = 0;
    std::optional<std::string> soft_service_;
};

}  // namespace flagscan

// What every output says of a port's service, after -sV or from the services table alone, as nmap says it.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/engine/results.hpp"
#include "flagscan/targets/services.hpp"

namespace flagscan {

// The services table's protocol of a probe kind's ports.
Protocol table_protocol(const ProbeKind& kind);

// nmap's getServiceDeductions: the port's -sV entry, else what the services table says of the
// port (method table, conf 3; no name when the table does not list it).
ServiceFound port_service(const Results& results, std::uint64_t index, const ServiceTable& services);

// Whether the outputs name a service for the port at all (nmap: a name, a fingerprint or a
// tunnel): XML writes a <service>, grepable fills its service slot.
bool names_service(const ServiceFound& service);

// The SERVICE column (nmap's getNmapServiceName): "ssl/" inside TLS, the name ("unknown" when
// none), and after -sV a '?' on an open port whose name is only the table's guess ("http?").
std::string shown_service(const Results& results, std::uint64_t index, const ServiceTable& services);

// "Service Info: Host: mail; OS: Linux; CPE: cpe:/o:linux:linux_kernel" (nmap's
// printserviceinfooutput): what the host's open ports told of it, at most 5 of each kind, the
// hostnames that differ from its reverse DNS name, CPEs other than applications ("a"). Empty
// when they told nothing.
std::string service_info_line(const Results& results, std::uint32_t host, std::string_view dns_name);

// "Service detection performed.": after the hosts of a normal report when -sV ran and a host
// was up (nmap's closing line, its request for reports left out).
void write_service_detection_note(std::ostream& out, const Results& results, std::uint64_t hosts_up);

// nmap's printportoutput keeps the service fingerprints of the ports it lists, 9 at most:
// adds the service's, if it has one and there is room.
void keep_fingerprint(std::vector<std::string>& fingerprints, const ServiceFound& service);

// What nmap prints below a host's port table for them: "1 service unrecognized despite
// returning data. If you know the service/version, please submit the following fingerprint
// at https://nmap.org/cgi-bin/submit.cgi?new-service :" and each fingerprint on its lines (a
// "NEXT SERVICE FINGERPRINT" line before each when there are several). "" when none.
std::string unrecognized_services_text(const std::vector<std::string>& fingerprints);

// The JSON object of a port's -sV entry: {"name":..,"product":..,"version":..,"extrainfo":..,
// "ostype":..,"devicetype":..,"hostname":..,"cpe":[..],"method":"probed","tunnel":"ssl"},
// empty fields left out.
std::string service_json(const ServiceFound& service);

}  // namespace flagscan

// A port's service as the outputs show it: nmap's portlist.cc naming and output.cc "Service Info".
#include "flagscan/output/service_report.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "flagscan/output/report.hpp"

namespace flagscan {
namespace {

// nmap's MAX_SERVICE_INFO_FIELDS: what one "Service Info" line lists of each kind.
constexpr std::size_t kInfoFields = 5;
// At or below this confidence an open port's name is a guess, shown with '?' after -sV.
constexpr std::uint8_t kGuessedConfidence = 5;
// nmap's output.cc keeps a fingerprint while it holds at most 8 ("saved_servicefps.size() <= 8").
constexpr std::size_t kSavedFingerprints = 8;

bool same_host_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// Adds `value` unless it is there already or the list is full (nmap's fixed tables).
void add_distinct(std::vector<std::string>& list, const std::string& value) {
    if (value.empty() || list.size() == kInfoFields) return;
    if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

// "<delim>OS: Linux" or "<delim>OSs: Linux, Windows".
void append_field(std::string& line, const char*& delim, std::string_view label, const std::vector<std::string>& values,
                  bool plural) {
    if (values.empty()) return;
    line.append(delim).append(label).append(plural && values.size() > 1 ? "s" : "").append(": ");
    for (std::size_t i = 0; i < values.size(); ++i) line.append(i == 0 ? "" : ", ").append(values[i]);
    delim = "; ";
}

void append_json(std::string& out, std::string_view key, std::string_view value) {
    if (value.empty()) return;
    out.append(out.size() > 1 ? ",\"" : "\"").append(key).append("\":\"").append(json_string(value)).append("\"");
}

}  // namespace

Protocol table_protocol(const ProbeKind& kind) { return kind.protocol == ipproto::udp ? Protocol::udp : Protocol::tcp; }

ServiceFound port_service(const Results& results, std::uint64_t index, const ServiceTable& services) {
    if (const ServiceFound* found = results.services().find(index)) return *found;
    const Target target = results.targets().at(index);
    const Protocol proto = table_protocol(results.kind(target.lane));
    return ServiceFound::table(services.lists(target.port, proto) ? std::string(services.name(target.port, proto)) : "");
}

bool names_service(const ServiceFound& service) {
    return !service.name.empty() || !service.fingerprint.empty() || service.tunnel != ServiceTunnel::none;
}

std::string shown_service(const Results& results, std::uint64_t index, const ServiceTable& services) {
    const ServiceFound* found = results.services().find(index);
    const std::string prefix = found != nullptr && found->tunnel == ServiceTunnel::ssl ? "ssl/" : "";
    const Target target = results.targets().at(index);
    const std::string name = found != nullptr && !found->name.empty()
                                 ? found->name
                                 : std::string(services.name(target.port, table_protocol(results.kind(target.lane))));
    if (name.empty() || name == "unknown") return prefix + "unknown";
    const bool guessed = results.services().performed() && results.port(index).state == PortState::open &&
                         (found == nullptr || found->confidence <= kGuessedConfidence);
    return prefix + name + (guessed ? "?" : "");
}

std::string service_info_line(const Results& results, std::uint32_t host, std::string_view dns_name) {
    std::vector<std::string> names, ostypes, devicetypes, cpes;
    if (results.services().size() == 0) return {};  // no port's service known: skip the walk over every slot of every host
    const std::uint64_t slots = results.targets().slot_count();
    for (const std::uint32_t i : results.targets().report_order()) {
        const std::uint64_t index = host * slots + i;
        const ServiceFound* found = results.services().find(index);
        if (found == nullptr || results.port(index).state != PortState::open) continue;
        if (!same_host_name(dns_name, found->hostname) &&
            std::none_of(names.begin(), names.end(), [&](const std::string& n) { return same_host_name(n, found->hostname); }))
            add_distinct(names, found->hostname);
        add_distinct(ostypes, found->ostype);
        add_distinct(devicetypes, found->devicetype);
        for (const std::string& cpe : found->cpe)
            if (cpe.rfind("cpe:/a", 0) != 0) add_distinct(cpes, cpe);  // an application belongs to its port
    }
    std::string line;
    const char* delim = " ";
    append_field(line, delim, "Host", names, true);
    append_field(line, delim, "OS", ostypes, true);
    append_field(line, delim, "Device", devicetypes, true);
    append_field(line, delim, "CPE", cpes, false);
    return line.empty() ? line : "Service Info:" + line;
}

void write_service_detection_note(std::ostream& out, const Results& results, std::uint64_t hosts_up) {
    if (hosts_up == 0) return;
    const bool os = results.os().performed(), services = results.services().performed();
    if (os && services) out << "OS and Service detection performed.\n";
    else if (os) out << "OS detection performed.\n";
    else if (services) out << "Service detection performed.\n";
}

void keep_fingerprint(std::vector<std::string>& fingerprints, const ServiceFound& service) {
    if (!service.fingerprint.empty() && fingerprints.size() <= kSavedFingerprints) fingerprints.push_back(service.fingerprint);
}

std::string unrecognized_services_text(const std::vector<std::string>& fingerprints) {
    if (fingerprints.empty()) return {};
    const bool several = fingerprints.size() > 1;
    std::string text = std::to_string(fingerprints.size()) + (several ? " services" : " service") +
                       " unrecognized despite returning data. If you know the service/version, please submit the following"
                       " fingerprint" + (several ? "s" : "") + " at https://nmap.org/cgi-bin/submit.cgi?new-service :\n";
    for (const std::string& fingerprint : fingerprints) {
        if (several) text += "==============NEXT SERVICE FINGERPRINT (SUBMIT INDIVIDUALLY)==============\n";
        text += fingerprint + '\n';
    }
    return text;
}

std::string service_json(const ServiceFound& service) {
    std::string out = "{";
    append_json(out, "name", service.name);
    append_json(out, "product", service.product);
    append_json(out, "version", service.version);
    append_json(out, "extrainfo", service.extrainfo);
    append_json(out, "ostype", service.ostype);
    append_json(out, "devicetype", service.devicetype);
    append_json(out, "hostname", service.hostname);
    if (!service.cpe.empty()) {
        out.append(out.size() > 1 ? ",\"cpe\":[" : "\"cpe\":[");
        for (std::size_t i = 0; i < service.cpe.size(); ++i)
            out.append(i == 0 ? "\"" : ",\"").append(json_string(service.cpe[i])).append("\"");
        out += ']';
    }
    append_json(out, "method", service.method == ServiceMethod::probed ? "probed" : "table");
    if (service.tunnel == ServiceTunnel::ssl) append_json(out, "tunnel", "ssl");
    return out + '}';
}

}  // namespace flagscan

// Shared by the live tests: the lab layout, a JSON-lines reader, a process runner and the lab fixture.
#include "live_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <tuple>

namespace flagscan::live {

// ---- layout ----------------------------------------------------------------------------------

namespace {

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

std::optional<std::set<int>> parse_int_list(std::string_view text) {
    std::set<int> values;
    std::istringstream words{std::string(text)};
    std::string word;
    while (words >> word) {
        int value = 0;
        const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
        if (ec != std::errc{} || end != word.data() + word.size()) return std::nullopt;
        values.insert(value);
    }
    return values;
}

// "0:50 1:200" -> {0: 50, 1: 200}; nullopt on a malformed or repeated offset.
std::optional<std::map<int, int>> parse_int_pairs(std::string_view text) {
    std::map<int, int> pairs;
    std::istringstream words{std::string(text)};
    std::string word;
    while (words >> word) {
        const auto colon = word.find(':');
        if (colon == std::string::npos) return std::nullopt;
        const auto key = parse_int_list(std::string_view(word).substr(0, colon));
        const auto value = parse_int_list(std::string_view(word).substr(colon + 1));
        if (!key || !value || key->size() != 1 || value->size() != 1) return std::nullopt;
        if (!pairs.emplace(*key->begin(), *value->begin()).second) return std::nullopt;
    }
    return pairs;
}

}  // namespace

std::optional<Layout> Layout::load(const std::string& path, std::string& error) {
    std::ifstream in(path);
    if (!in) {
        error = "cannot read layout " + path;
        return std::nullopt;
    }
    Layout layout;
    const std::map<std::string_view, std::set<int>*> fields{
        {"open_tcp", &layout.open_tcp},
        {"rejected_tcp", &layout.rejected_tcp},
        {"dropped_tcp", &layout.dropped_tcp},
        {"dropped_hosts", &layout.dropped_hosts},
        {"open_udp", &layout.open_udp},
        {"rejected_udp", &layout.rejected_udp},
        {"dropped_udp", &layout.dropped_udp},
        {"wide_dropped_mod4", &layout.wide_dropped_mod4},
        {"lan_hosts", &layout.lan_hosts},
        {"lan_silent", &layout.lan_silent}};
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        const std::string_view content = trim(std::string_view(line).substr(0, line.find('#')));
        if (content.empty()) continue;
        const auto equals = content.find('=');
        const std::string_view key = trim(content.substr(0, equals));
        if (equals != std::string_view::npos && key == "slow_hosts") {
            const auto pairs = parse_int_pairs(content.substr(equals + 1));
            if (!pairs) {
                error = path + ":" + std::to_string(number) + ": expected slow_hosts=OFFSET:MS...";
                return std::nullopt;
            }
            layout.slow_hosts = *pairs;
            continue;
        }
        const auto values = equals == std::string_view::npos
                                ? std::nullopt
                                : parse_int_list(content.substr(equals + 1));
        if (!values) {
            error = path + ":" + std::to_string(number) + ": expected key=integers";
            return std::nullopt;
        }
        if (const auto field = fields.find(key); field != fields.end()) {
            *field->second = *values;
        }
    }
    return layout;
}

PortRole port_role(const Layout& layout, int port, bool host_dropped) {
    // The namespace's nftables rules run before any socket lookup: drop, then reject.
    if (host_dropped || layout.dropped_tcp.contains(port)) return PortRole::dropped;
    if (layout.rejected_tcp.contains(port)) return PortRole::rejected;
    if (layout.open_tcp.contains(port)) return PortRole::open;
    return PortRole::closed;
}

Verdict ScanKind::verdict(PortRole role) const {
    const Expect& expect = role == PortRole::open       ? open
                           : role == PortRole::closed   ? closed
                           : role == PortRole::rejected ? rejected
                                                        : dropped;
    return {std::string(expect.state), std::string(expect.reason)};
}

void PrintTo(const ScanKind& kind, std::ostream* os) { *os << kind.name << " (" << kind.option << ")"; }

std::vector<ScanKind> linux_flag_scan_kinds() {
    std::vector<ScanKind> kinds;
    for (const auto& kind : kLinuxTcpScanKinds) {
        if (kind.option != "-sS") kinds.push_back(kind);
    }
    return kinds;
}

Verdict expected_verdict(const ScanKind& kind, const Layout& layout, int port, bool host_dropped) {
    return kind.verdict(port_role(layout, port, host_dropped));
}

Verdict expected_syn_verdict(const Layout& layout, int port, bool host_dropped) {
    return expected_verdict(kLinuxTcpScanKinds.front(), layout, port, host_dropped);
}

PortRole udp_port_role(const Layout& layout, int port, bool host_dropped) {
    // The same nftables order as for TCP: drop, then reject, then the socket lookup.
    if (host_dropped || layout.dropped_udp.contains(port)) return PortRole::dropped;
    if (layout.rejected_udp.contains(port)) return PortRole::rejected;
    if (layout.open_udp.contains(port)) return PortRole::open;
    return PortRole::closed;
}

Verdict expected_udp_verdict(const Layout& layout, int port, bool host_dropped) {
    return kUdpScan.verdict(udp_port_role(layout, port, host_dropped));
}

// ---- JSON lines ------------------------------------------------------------------------------

namespace {

std::optional<long> to_long(const JsonObject& object, const std::string& key) {
    const auto it = object.find(key);
    if (it == object.end()) return std::nullopt;
    long value = 0;
    const auto& text = it->second;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string field(const JsonObject& object, const std::string& key) {
    const auto it = object.find(key);
    return it == object.end() ? std::string() : it->second;
}

std::optional<PortLine> to_port_line(const JsonObject& object) {
    const auto port = to_long(object, "port");
    if (!port || !object.contains("ip") || !object.contains("state")) return std::nullopt;
    return PortLine{field(object, "ip"), static_cast<int>(*port), field(object, "proto"),
                    Verdict{field(object, "state"), field(object, "reason")}};
}

std::optional<HostLine> to_host_line(const JsonObject& object) {
    if (!object.contains("ip") || !object.contains("status")) return std::nullopt;
    HostLine host{field(object, "ip"), field(object, "status"), {}, object};
    for (const auto& [key, value] : object) {
        if (key.starts_with("counts.")) {
            const auto count = to_long(object, key);
            if (!count) return std::nullopt;
            host.counts[key.substr(7)] = *count;
        }
    }
    return host;
}

}  // namespace


ScanOutput read_scan_output(const std::string& path) {
    ScanOutput output;
    std::ifstream in(path);
    if (!in) {
        output.errors.push_back("cannot read " + path);
        return output;
    }
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (trim(line).empty()) continue;
        const auto object = parse_json_object(line);
        if (object && object->contains("type")) continue;  // the scan and summary lines (flagscan merge's)
        const auto port = object ? to_port_line(*object) : std::nullopt;
        const auto host = object && !port ? to_host_line(*object) : std::nullopt;
        if (port) {
            output.ports.push_back(*port);
        } else if (host) {
            output.hosts.push_back(*host);
        } else {
            output.errors.push_back("line " + std::to_string(number) + ": " + line);
        }
    }
    return output;
}

// ---- comparing -------------------------------------------------------------------------------

VerdictMap verdicts_of(const ScanOutput& output, std::vector<PortKey>& duplicates) {
    VerdictMap verdicts;
    for (const auto& line : output.ports) {
        if (!verdicts.emplace(PortKey{line.ip, line.port}, line.verdict).second) {
            duplicates.emplace_back(line.ip, line.port);
        }
    }
    return verdicts;
}

VerdictMap verdicts_of(const ScanOutput& output, std::string_view proto, std::vector<PortKey>& duplicates) {
    ScanOutput only;
    for (const auto& line : output.ports) {
        if (line.proto == proto) only.ports.push_back(line);
    }
    return verdicts_of(only, duplicates);
}

namespace {

std::string verdict_text(const Verdict* verdict) {
    if (!verdict) return "(no line)";
    return verdict->reason.empty() ? verdict->state : verdict->state + "/" + verdict->reason;
}

// "1-3, 7, 9-12" from sorted ports, at most LIMIT ranges.
std::string port_ranges(const std::vector<int>& ports, std::size_t limit = 24) {
    std::string text;
    std::size_t ranges = 0;
    for (std::size_t i = 0; i < ports.size();) {
        std::size_t j = i;
        while (j + 1 < ports.size() && ports[j + 1] == ports[j] + 1) ++j;
        if (++ranges > limit) return text + ", ...";
        text += (text.empty() ? "" : ", ") + std::to_string(ports[i]);
        if (j > i) text += "-" + std::to_string(ports[j]);
        i = j + 1;
    }
    return text;
}

}  // namespace

std::string describe_differences(const VerdictMap& expected, const VerdictMap& actual) {
    // (ip, expected, got) -> ports, so a systematic error reads as one line.
    std::map<std::tuple<std::string, std::string, std::string>, std::vector<int>> groups;
    auto note = [&](const PortKey& key, const Verdict* want, const Verdict* got) {
        if (want && got && *want == *got) return;
        groups[{key.first, verdict_text(want), verdict_text(got)}].push_back(key.second);
    };
    for (const auto& [key, want] : expected) {
        const auto it = actual.find(key);
        note(key, &want, it == actual.end() ? nullptr : &it->second);
    }
    for (const auto& [key, got] : actual) {
        if (!expected.contains(key)) {
            groups[{key.first, "(not scanned)", verdict_text(&got)}].push_back(key.second);
        }
    }
    std::string text;
    for (const auto& [group, ports] : groups) {
        const auto& [ip, want, got] = group;
        text += "  " + ip + ": expected " + want + ", got " + got + ": " + port_ranges(ports) +
                " (" + std::to_string(ports.size()) +
                (ports.size() == 1 ? " port)\n" : " ports)\n");
    }
    return text;
}

VerdictMap states_only(VerdictMap verdicts) {
    for (auto& [key, verdict] : verdicts) verdict.reason.clear();
    return verdicts;
}

// ---- nmap's XML ------------------------------------------------------------------------------

namespace {

// One start, end or empty-element tag; text, comments, declarations and processing
// instructions are skipped (nmap's XML has no CDATA).
struct XmlTag {
    std::string name;
    std::map<std::string, std::string> attributes;
    bool opens = true;   // <name ...> or <name .../>
    bool closes = false; // </name> or <name .../>
};

std::string xml_unescape(std::string_view text) {
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        bool replaced = false;
        for (const auto& [entity, c] : kEntities) {
            if (text.substr(i).starts_with(entity)) {
                out += c;
                i += entity.size();
                replaced = true;
                break;
            }
        }
        if (!replaced) out += text[i++];
    }
    return out;
}

// Reads the tag that starts at TEXT[POS] == '<'; POS ends past its '>'. nullopt when malformed.
std::optional<XmlTag> read_tag(std::string_view text, std::size_t& pos) {
    XmlTag tag;
    std::size_t i = pos + 1;
    if (i < text.size() && text[i] == '/') {
        tag.opens = false;
        tag.closes = true;
        ++i;
    }
    const auto name_end = text.find_first_of(" \t\r\n/>", i);
    if (name_end == std::string_view::npos || name_end == i) return std::nullopt;
    tag.name = std::string(text.substr(i, name_end - i));
    i = name_end;
    while (i < text.size()) {
        i = text.find_first_not_of(" \t\r\n", i);
        if (i == std::string_view::npos) return std::nullopt;
        if (text[i] == '>') break;
        if (text.substr(i).starts_with("/>")) {
            tag.closes = true;
            ++i;
            break;
        }
        const auto equals = text.find('=', i);
        if (equals == std::string_view::npos || equals + 1 >= text.size()) return std::nullopt;
        const char quote = text[equals + 1];
        const auto value_end = text.find(quote, equals + 2);
        if ((quote != '"' && quote != '\'') || value_end == std::string_view::npos) return std::nullopt;
        tag.attributes[std::string(trim(text.substr(i, equals - i)))] =
            xml_unescape(text.substr(equals + 2, value_end - equals - 2));
        i = value_end + 1;
    }
    if (i >= text.size()) return std::nullopt;
    pos = i + 1;
    return tag;
}

// Every tag of TEXT in order; nullopt when one is malformed.
std::optional<std::vector<XmlTag>> read_tags(std::string_view text) {
    std::vector<XmlTag> tags;
    std::size_t pos = 0;
    while ((pos = text.find('<', pos)) != std::string_view::npos) {
        const auto rest = text.substr(pos);
        const std::string_view skip_to = rest.starts_with("<!--") ? "-->"
                                         : rest.starts_with("<!") || rest.starts_with("<?") ? ">"
                                                                                          : "";
        if (!skip_to.empty()) {
            const auto end = text.find(skip_to, pos);
            if (end == std::string_view::npos) return std::nullopt;
            pos = end + skip_to.size();
            continue;
        }
        auto tag = read_tag(text, pos);
        if (!tag) return std::nullopt;
        tags.push_back(std::move(*tag));
    }
    return tags;
}

// "1-21,23,25-79" as ports; nullopt when malformed.
std::optional<std::vector<int>> parse_port_ranges(std::string_view text) {
    std::vector<int> ports;
    std::istringstream items{std::string(text)};
    std::string item;
    while (std::getline(items, item, ',')) {
        const auto dash = item.find('-');
        const std::string first_text = item.substr(0, dash);
        const std::string last_text = dash == std::string::npos ? first_text : item.substr(dash + 1);
        int first = 0, last = 0;
        const auto a = std::from_chars(first_text.data(), first_text.data() + first_text.size(), first);
        const auto b = std::from_chars(last_text.data(), last_text.data() + last_text.size(), last);
        if (a.ec != std::errc{} || a.ptr != first_text.data() + first_text.size() ||
            b.ec != std::errc{} || b.ptr != last_text.data() + last_text.size() || first < 0 ||
            last < first || last > 65535) {
            return std::nullopt;
        }
        for (int port = first; port <= last; ++port) ports.push_back(port);
    }
    return ports;
}

std::optional<long> attribute_number(const XmlTag& tag, const std::string& name) {
    const auto it = tag.attributes.find(name);
    if (it == tag.attributes.end()) return std::nullopt;
    long value = 0;
    const auto& text = it->second;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string attribute(const XmlTag& tag, const std::string& name) {
    const auto it = tag.attributes.find(name);
    return it == tag.attributes.end() ? std::string() : it->second;
}

// Walks nmap's <host> elements, filling a VerdictMap; the first problem ends the walk.
class NmapXmlReader {
public:
    NmapXmlReader(const std::vector<int>& scanned, std::string_view protocol) : scanned_(scanned), protocol_(protocol) {}

    std::optional<VerdictMap> read(const std::vector<XmlTag>& tags, std::string& error) {
        for (const auto& tag : tags) {
            if (tag.opens) on_open(tag);
            if (tag.closes) on_close(tag.name);
            if (!error_.empty()) break;
        }
        if (error_.empty() && in_host_) error_ = "unterminated <host>";
        if (!error_.empty()) {
            error = error_;
            return std::nullopt;
        }
        return verdicts_;
    }

private:
    // An <extraports> group whose ports could not all be named from its <extrareasons>.
    struct Unplaced {
        Verdict verdict;
        long count = 0;
    };

    void on_open(const XmlTag& tag) {
        if (tag.name == "host") {
            in_host_ = true;
            ip_.clear();
            unplaced_.clear();
        } else if (!in_host_) {
            return;  // <hosthint> and the rest before the host proper
        } else if (tag.name == "address" && (attribute(tag, "addrtype") == "ipv4" || attribute(tag, "addrtype") == "ipv6")) {
            ip_ = attribute(tag, "addr");
        } else if (tag.name == "extraports") {
            open_extraports(tag);
        } else if (tag.name == "extrareasons" && in_extraports_) {
            place_extrareasons(tag);
        } else if (tag.name == "port") {
            port_ = attribute(tag, "protocol") == protocol_ ? attribute_number(tag, "portid") : std::nullopt;
        } else if (tag.name == "state" && port_) {
            set(static_cast<int>(*port_), {attribute(tag, "state"), attribute(tag, "reason")});
        }
    }

    void on_close(const std::string& name) {
        if (name == "port") port_.reset();
        if (name == "extraports" && in_extraports_) close_extraports();
        if (name == "host" && in_host_) close_host();
    }

    void open_extraports(const XmlTag& tag) {
        const auto count = attribute_number(tag, "count");
        if (!count || *count < 0) {
            error_ = "<extraports> without a count";
            return;
        }
        in_extraports_ = true;
        extra_ = {Verdict{attribute(tag, "state"), ""}, *count};
    }

    void place_extrareasons(const XmlTag& tag) {
        if (!tag.attributes.contains("ports")) return;  // nmap before 7.80: placed at </host>
        const auto ports = parse_port_ranges(attribute(tag, "ports"));
        if (!ports) {
            error_ = "bad <extrareasons ports=\"" + attribute(tag, "ports") + "\">";
            return;
        }
        for (const int port : *ports) set(port, {extra_.verdict.state, attribute(tag, "reason")});
        extra_.count -= static_cast<long>(ports->size());
    }

    void close_extraports() {
        in_extraports_ = false;
        if (extra_.count < 0) error_ = "<extrareasons> name more ports than their <extraports> count";
        if (extra_.count > 0) unplaced_.push_back(extra_);
    }

    // The ports nmap folded without naming them are the scanned ports no element named.
    void close_host() {
        in_host_ = false;
        if (unplaced_.empty()) return;
        if (unplaced_.size() > 1) {
            error_ = ip_ + ": several <extraports> groups without port lists: cannot place them";
            return;
        }
        long placed = 0;
        for (const int port : scanned_) {
            if (!verdicts_.contains({ip_, port})) {
                verdicts_[{ip_, port}] = unplaced_.front().verdict;
                ++placed;
            }
        }
        if (placed != unplaced_.front().count) {
            error_ = ip_ + ": <extraports count=" + std::to_string(unplaced_.front().count) +
                     "> but " + std::to_string(placed) + " scanned ports are not listed";
        }
    }

    void set(int port, Verdict verdict) {
        if (ip_.empty()) {
            error_ = "a port before the host's IP <address>";
        } else if (!verdicts_.emplace(PortKey{ip_, port}, std::move(verdict)).second) {
            error_ = ip_ + ": port " + std::to_string(port) + " given twice";
        }
    }

    const std::vector<int>& scanned_;
    std::string_view protocol_;
    VerdictMap verdicts_;
    std::string error_;
    bool in_host_ = false;
    bool in_extraports_ = false;
    std::string ip_;
    std::optional<long> port_;
    Unplaced extra_;
    std::vector<Unplaced> unplaced_;
};

}  // namespace

std::optional<VerdictMap> read_nmap_xml(const std::string& path, const std::vector<int>& scanned,
                                        std::string& error, std::string_view protocol) {
    std::ifstream in(path);
    if (!in) {
        error = "cannot read " + path;
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    const auto tags = read_tags(text.str());
    if (!tags) {
        error = path + ": malformed XML";
        return std::nullopt;
    }
    auto verdicts = NmapXmlReader(scanned, protocol).read(*tags, error);
    if (!verdicts) error = path + ": " + error;
    return verdicts;
}

std::optional<std::map<int, XmlService>> read_xml_services(const std::string& path, std::string& error) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    const auto tags = in ? read_tags(text.str()) : std::nullopt;
    if (!tags) {
        error = path + ": cannot read or malformed XML";
        return std::nullopt;
    }
    std::map<int, XmlService> services;
    int port = -1;  // the TCP <port> open, -1: none
    for (const XmlTag& tag : *tags) {
        if (tag.name == "port" && tag.opens) {
            const auto number = attribute(tag, "protocol") == "tcp" ? attribute_number(tag, "portid") : std::nullopt;
            port = number ? static_cast<int>(*number) : -1;
            if (port >= 0) services[port] = XmlService{};
        } else if (tag.name == "service" && tag.opens && port >= 0) {
            services[port] = XmlService{attribute(tag, "name"), attribute(tag, "product"), attribute(tag, "version"),
                                        attribute(tag, "tunnel")};
        }
        if (tag.name == "port" && tag.closes) port = -1;
    }
    return services;
}

// ---- environment -----------------------------------------------------------------------------

std::string env_or(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value && *value ? std::string(value) : fallback;
}

#ifndef FLAGSCAN_LAB_ID_DEFAULT
#define FLAGSCAN_LAB_ID_DEFAULT 11
#endif

namespace {

// A whole number from 0 to 99, or -1.
int small_number(const std::string& text) {
    int n = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    return (ec == std::errc{} && end == text.data() + text.size() && n >= 0 && n <= 99) ? n : -1;
}

}  // namespace

// FLAGSCAN_LAB_ID (default 11) plus the GoogleTest shard this process runs (GTEST_SHARD_INDEX,
// set by meson for the live suite's shards): each shard has a lab of its own.
int lab_id() {
    const int base = small_number(env_or("FLAGSCAN_LAB_ID", std::to_string(FLAGSCAN_LAB_ID_DEFAULT)));
    const int shard = small_number(env_or("GTEST_SHARD_INDEX", "0"));
    if (base < 0 || shard < 0 || base + shard > 99) return -1;
    return base + shard;
}

std::string lab_address(int last_octet) {
    return "10.77." + std::to_string(lab_id()) + "." + std::to_string(last_octet);
}

std::string lab_address6(const std::string& suffix) { return "fd77:" + std::to_string(lab_id()) + "::" + suffix; }

bool in_path(const std::string& command) {
    std::istringstream dirs(env_or("PATH", ""));
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (!dir.empty() && access((dir + "/" + command).c_str(), X_OK) == 0) return true;
    }
    return false;
}

std::string flagscan_bin() { return env_or("FLAGSCAN_BIN", ""); }
std::string lab_script() { return env_or("FLAGSCAN_LAB", ""); }

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "flagscan-live-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

std::string root_skip_reason() {
    if (geteuid() == 0) return {};
    return "live tests need root: they build network namespaces and send raw packets "
           "(run as root: meson test -C build --suite live)";
}

std::string lab_command(const std::vector<std::string>& args) {
    if (lab_script().empty()) return "FLAGSCAN_LAB is not set (path to test/lab/lab.sh)";
    std::vector<std::string> argv{lab_script(), args.front(), std::to_string(lab_id())};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    const auto result = run_process(argv, std::chrono::seconds(60));
    if (result.exited() && result.exit_code == 0) return {};
    return "lab.sh " + args.front() + " failed: " + result.describe();
}

std::string lab_command_for(int id, const std::vector<std::string>& args) {
    if (lab_script().empty()) return "FLAGSCAN_LAB is not set (path to test/lab/lab.sh)";
    std::vector<std::string> argv{lab_script(), args.front(), std::to_string(id)};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    const auto result = run_process(argv, std::chrono::seconds(60));
    if (result.exited() && result.exit_code == 0) return {};
    return "lab.sh " + args.front() + " " + std::to_string(id) + " failed: " + result.describe();
}

ExtraLab::ExtraLab(int id, const std::vector<std::string>& options) : id_(id) {
    lab_command_for(id_, {"down"});  // a lab left behind by a crashed run
    std::vector<std::string> up{"up"};
    up.insert(up.end(), options.begin(), options.end());
    error_ = lab_command_for(id_, up);
}

ExtraLab::~ExtraLab() {
    if (const auto error = lab_command_for(id_, {"down"}); !error.empty()) ADD_FAILURE() << error;
}

std::string ExtraLab::address(int last_octet) const {
    return "10.77." + std::to_string(id_) + "." + std::to_string(last_octet);
}

// ---- fixture ---------------------------------------------------------------------------------

namespace {

std::string layout_path() {
    return env_or("FLAGSCAN_LAB_LAYOUT",
                  (std::filesystem::path(lab_script()).parent_path() / "layout.conf").string());
}

// Why the suite cannot run at all (checked before touching the network), or empty.
std::string precondition_error() {
    if (lab_id() < 0) return "FLAGSCAN_LAB_ID (plus the GoogleTest shard index) must be 0..99";
    if (flagscan_bin().empty()) return "FLAGSCAN_BIN is not set (path to the flagscan binary)";
    if (access(flagscan_bin().c_str(), X_OK) != 0) return "FLAGSCAN_BIN not executable: " + flagscan_bin();
    return {};
}

}  // namespace

void LabTest::SetUpTestSuite() {
    skip_reason_ = root_skip_reason();
    setup_error_ = skip_reason_.empty() ? precondition_error() : std::string();
    if (!skip_reason_.empty() || !setup_error_.empty()) return;
    layout_ = Layout::load(layout_path(), setup_error_);
    if (!layout_) return;
    lab_command({"down"});  // a lab left behind by a crashed run
    lab_started_ = true;
    setup_error_ = lab_command({"up"});
}

void LabTest::TearDownTestSuite() {
    if (!lab_started_) return;
    lab_started_ = false;
    if (const auto error = lab_command({"down"}); !error.empty()) ADD_FAILURE() << error;
}

void LabTest::SetUp() {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
}

const Layout& LabTest::layout() { return *layout_; }

LabTest::Scan LabTest::scan(const std::vector<std::string>& args, const std::string& target) {
    return scan(args, std::vector<std::string>{target});
}

LabTest::Scan LabTest::scan(const std::vector<std::string>& args, const std::vector<std::string>& targets) {
    const TempDir dir;
    const std::string json = dir.path() + "/scan.jsonl";
    std::vector<std::string> argv{flagscan_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"-oJ", json});
    argv.insert(argv.end(), targets.begin(), targets.end());
    Scan result;
    // Generous (a full scan takes seconds) yet 4 hung scans stay inside meson's 900 s.
    result.process = run_process(argv, std::chrono::seconds(120));
    result.output = read_scan_output(json);
    return result;
}

LabTest::LossGuard::LossGuard(int percent) {
    error_ = lab_command({"loss", std::to_string(percent)});
    ok_ = error_.empty();
}

LabTest::LossGuard::~LossGuard() {
    if (const auto error = lab_command({"loss", "0"}); !error.empty()) ADD_FAILURE() << error;
}

NftRule::NftRule(int lab, const std::string& hook, const std::string& rule)
    : NftRule("fslab" + std::to_string(lab), hook, rule) {}

NftRule::NftRule(const std::string& ns, const std::string& hook, const std::string& rule)
    : ns_(ns), table_("fstest" + hook) {
    const TempDir dir;
    const std::string rules = dir.path() + "/rule.nft";
    std::ofstream{rules} << "table ip " << table_ << " {\n  chain " << hook << " {\n"
                         << "    type filter hook " << hook << " priority 0; policy accept;\n"
                         << "    " << rule << "\n  }\n}\n";
    const auto added = run_process({"ip", "netns", "exec", ns_, "nft", "-f", rules}, std::chrono::seconds(10));
    if (added.exit_code != 0) error_ = added.describe();
}

NftRule::~NftRule() {
    if (!error_.empty()) return;
    const auto removed =
        run_process({"ip", "netns", "exec", ns_, "nft", "delete", "table", "ip", table_}, std::chrono::seconds(10));
    if (removed.exit_code != 0) ADD_FAILURE() << removed.describe();
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// "1-30,80,113": the port list as nmap and flagscan take it.
std::string port_argument(const std::vector<int>& ports) {
    std::string out;
    for (std::size_t i = 0; i < ports.size();) {
        std::size_t j = i;
        while (j + 1 < ports.size() && ports[j + 1] == ports[j] + 1) ++j;
        out += (out.empty() ? "" : ",") + std::to_string(ports[i]);
        if (j > i) out += "-" + std::to_string(ports[j]);
        i = j + 1;
    }
    return out;
}

// The host side of the lab's veth, from `lab.sh info ID` (host_if=fsh<ID>); empty if unknown.
std::string lab_host_interface(std::string& error) {
    const auto info = run_process({lab_script(), "info", std::to_string(lab_id())}, std::chrono::seconds(30));
    if (!info.exited() || info.exit_code != 0) {
        error = "lab.sh info failed: " + info.describe();
        return {};
    }
    std::istringstream lines(info.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("host_if=")) return line.substr(8);
    }
    error = "lab.sh info printed no host_if=:\n" + info.out;
    return {};
}

std::string lab_route6_error(const std::string& address, const std::string& iface) {
    if (iface.empty()) return "no lab interface to check " + address + " against";
    const auto route = run_process({"ip", "-6", "-o", "route", "get", address}, std::chrono::seconds(10));
    if (!route.exited() || route.exit_code != 0) return "ip -6 route get " + address + " failed: " + route.describe();
    if (route.out.find(" dev " + iface + " ") == std::string::npos) {
        return address + " does not route through " + iface + ": " + route.out;
    }
    return {};
}

std::string lab_targets6_error(const std::vector<std::string>& targets) {
    std::string error;
    const std::string iface = lab_host_interface(error);
    for (const auto& target : targets) {
        const std::string address = target.substr(0, target.find('/'));
        if (const auto why = lab_route6_error(address, iface); !why.empty()) return error + why;
    }
    return {};
}

Tcpdump::Tcpdump(const std::string& iface, const std::string& file, const std::string& log)
    : Tcpdump(iface, file, log, "", "net 10.77." + std::to_string(lab_id()) + ".0/24 or net " + lab_address6("") + "/64") {}

Tcpdump::Tcpdump(const std::string& iface, const std::string& file, const std::string& log, const std::string& netns,
                 const std::string& filter)
    : log_(log) {
    std::vector<std::string> argv{"tcpdump", "-i", iface, "--immediate-mode", "-s", "256", "-U",
                                  "-Z", "root", "-n", "-w", file, filter};
    if (!netns.empty()) argv.insert(argv.begin(), {"ip", "netns", "exec", netns});
    pid_ = fork();
    if (pid_ == 0) exec_child(argv, log);
    if (pid_ < 0) {
        error_ = std::string("fork: ") + std::strerror(errno);
        return;
    }
    wait_until_listening();
}

std::string Tcpdump::stop() {
    if (pid_ <= 0) return read_file(log_);
    kill(pid_, SIGINT);
    bool exited = false;
    for (int i = 0; i < 200 && !exited; ++i) {
        int status = 0;
        exited = waitpid(pid_, &status, WNOHANG) == pid_;
        if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!exited) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
    return read_file(log_);
}

void Tcpdump::exec_child(const std::vector<std::string>& argv, const std::string& log) {
    const int null_fd = open("/dev/null", O_RDWR);
    const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(null_fd, STDIN_FILENO);
    dup2(null_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
}

void Tcpdump::wait_until_listening() {
    for (int i = 0; i < 200; ++i) {
        if (read_file(log_).find("listening on") != std::string::npos) return;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            error_ = "tcpdump exited before it listened: " + read_file(log_);
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    error_ = "tcpdump not listening after 10 s: " + read_file(log_);
}

int pcap_matching(const std::string& pcap, const std::string& filter) {
    const auto r = run_process({"tcpdump", "-n", "-r", pcap, filter}, std::chrono::seconds(30));
    return static_cast<int>(std::count(r.out.begin(), r.out.end(), '\n'));
}

VethCapture::VethCapture() {
    const std::string iface = lab_host_interface(error);
    if (!iface.empty()) tcpdump = std::make_unique<Tcpdump>(iface, pcap, dir.path() + "/tcpdump.log");
    if (tcpdump && !tcpdump->error().empty()) error = tcpdump->error();
}

}  // namespace flagscan::live

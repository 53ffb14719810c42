// flagscan merge: the shards' JSON-lines or XML outputs of one scan, checked and combined.
#include "flagscan/cli/merge.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "flagscan/output/formats.hpp"
#include "flagscan/version.hpp"
#include "flagscan/net/ipv6.hpp"
#include "flagscan/net/text.hpp"

namespace flagscan {
namespace {

// ---- a JSON object's top-level members, each value's raw text (bounds-checked, no throw) ----

using Members = std::map<std::string, std::string>;

class MemberReader {
public:
    explicit MemberReader(std::string_view text) : text_(text) {}

    std::optional<Members> read() {
        Members members;
        if (!take('{')) return std::nullopt;
        if (take('}')) return finished(members);
        do {
            std::string key;
            if (!string(key) || !take(':')) return std::nullopt;
            space();
            const std::size_t start = pos_;
            if (!skip_value()) return std::nullopt;
            members[key] = std::string(text_.substr(start, pos_ - start));
        } while (take(','));
        if (!take('}')) return std::nullopt;
        return finished(members);
    }

private:
    std::optional<Members> finished(Members& members) {
        space();
        return pos_ == text_.size() ? std::optional<Members>{std::move(members)} : std::nullopt;
    }
    void space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r')) ++pos_;
    }
    bool take(char c) {
        space();
        if (pos_ >= text_.size() || text_[pos_] != c) return false;
        return ++pos_, true;
    }
    // A string's contents, its escapes resolved (\uXXXX below 0x80 only: what flagscan writes).
    bool string(std::string& out) {
        if (!take('"')) return false;
        while (pos_ < text_.size()) {
            const char c = text_[pos_++];
            if (c == '"') return true;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= text_.size()) return false;
            const char e = text_[pos_++];
            if (e != 'u') {
                out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
                continue;
            }
            unsigned code = 0;
            if (pos_ + 4 > text_.size()) return false;
            const auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, code, 16);
            if (ec != std::errc{} || end != text_.data() + pos_ + 4) return false;
            out += static_cast<char>(code & 0xff);
            pos_ += 4;
        }
        return false;
    }
    // A value of any kind: strings and nesting are followed so a ',' or '}' inside them is skipped.
    bool skip_value() {
        int depth = 0;
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c == '"') {
                std::string ignored;
                if (!string(ignored)) return false;
            } else if (c == '{' || c == '[') {
                ++depth, ++pos_;
            } else if (c == '}' || c == ']') {
                if (depth == 0) return true;
                --depth, ++pos_;
            } else if (c == ',' && depth == 0) {
                return true;
            } else {
                ++pos_;
            }
        }
        return depth == 0;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

std::optional<Members> members_of(std::string_view line) { return MemberReader(line).read(); }

// A member's string value, unescaped; "" when absent or not a string.
std::string text_of(const Members& members, const std::string& key) {
    const auto found = members.find(key);
    if (found == members.end() || found->second.empty() || found->second.front() != '"') return {};
    const auto one = MemberReader("{" + found->second + ":0}").read();  // the string, read as a key
    return one && !one->empty() ? one->begin()->first : std::string{};
}

std::uint64_t number_of(const Members& members, const std::string& key) {
    const auto found = members.find(key);
    std::uint64_t value = 0;
    if (found != members.end()) std::from_chars(found->second.data(), found->second.data() + found->second.size(), value);
    return value;
}

// ---- the scan each output belongs to ----

struct Identity {
    Members scan;   // every member but the shard's own
    Shard shard;
    bool by_hosts = true;
};

Result<Identity> identity_of(const Members& members, const std::string& name) {
    Identity identity;
    identity.scan = members;
    for (const char* own : {"type", "shard", "shard_from"}) identity.scan.erase(own);
    auto shard = parse_shard_spec(text_of(members, "shard"));
    if (!shard) return Error{name + ": its scan line has no valid shard"};
    identity.shard = *shard;
    identity.by_hosts = text_of(members, "shard_by") != "probes";
    return identity;
}

// The members that differ between two scans, named ("seed, ports").
std::string differences(const Members& a, const Members& b) {
    std::set<std::string> keys;
    for (const auto& [key, value] : a) keys.insert(key);
    for (const auto& [key, value] : b) keys.insert(key);
    std::string named;
    for (const auto& key : keys) {
        const auto x = a.find(key), y = b.find(key);
        if (x != a.end() && y != b.end() && x->second == y->second) continue;
        named += (named.empty() ? "" : ", ") + key;
    }
    return named;
}

// Every input of the same scan and a different shard of the same count; the shards not given.
Result<std::vector<std::string>> check_shards(const std::vector<Identity>& identities, const std::vector<MergeInput>& inputs) {
    std::map<std::uint64_t, std::string> seen;
    const Identity& first = identities.front();
    for (std::size_t i = 0; i < identities.size(); ++i) {
        const Identity& identity = identities[i];
        if (identity.scan != first.scan)
            return Error{inputs[i].name + " is the output of another scan than " + inputs.front().name + " (they differ in " +
                         differences(identity.scan, first.scan) + ")"};
        if (identity.shard.count != first.shard.count)
            return Error{inputs[i].name + " is shard " + shard_text(identity.shard) + ", " + inputs.front().name + " shard " +
                         shard_text(first.shard) + ": not the same split"};
        const auto [at, added] = seen.emplace(identity.shard.index, inputs[i].name);
        if (!added) return Error{"shard " + shard_text(identity.shard) + " given twice (" + at->second + " and " + inputs[i].name + ")"};
    }
    std::vector<std::string> missing;
    for (std::uint64_t index = 0; index < first.shard.count; ++index)
        if (!seen.contains(index)) missing.push_back("shard " + shard_text(Shard{index, first.shard.count}) + " missing");
    return missing;
}

// The scan line of the merged report: the scan's identity, as one whole shard.
std::string merged_scan_line(const Members& first_line) {
    std::string line = "{";
    for (const auto& key : {"type"}) line += "\"" + std::string(key) + "\":" + first_line.at(key);
    for (const auto& [key, value] : first_line) {
        if (key == "type") continue;
        line += ",\"" + key + "\":" + (key == "shard" ? "\"1/1\"" : key == "shard_from" ? "\"merge\"" : value);
    }
    return line + "}";
}

// A host's place in address order: an IPv4 address as its IPv4-mapped IPv6 address (RFC 4291
// 2.5.5.2), so that one key orders the hosts of an IPv4 scan and of an IPv6 scan (RFC 5952 text).
using AddressKey = Ipv6;

std::optional<AddressKey> address_key(const std::string& ip) {
    if (const auto v4 = Ipv4::parse(ip)) return Ipv6::mapped(*v4);
    return Ipv6::parse(ip);
}

// ---- JSON lines ----

struct JsonHost {
    std::string line;                               // its host object; "" : none yet
    Members host;
    std::map<std::pair<std::string, std::uint64_t>, std::pair<std::string, std::string>> ports;  // (proto, port) -> (state, line)
    std::map<std::string, std::uint64_t> counts;    // summed over shards
};

struct JsonFile {
    Members scan;
    Members summary;
};

// "counts":{"open":1,"closed":2} -> the map.
std::map<std::string, std::uint64_t> counts_of(const Members& host) {
    std::map<std::string, std::uint64_t> counts;
    const auto found = host.find("counts");
    if (found == host.end()) return counts;
    if (const auto inner = members_of(found->second))
        for (const auto& [state, value] : *inner) counts[state] = number_of(*inner, state);
    return counts;
}

// The states of a counts object in the order the line gives them (the writer's: open, closed, filtered, ...).
std::vector<std::string> count_order(std::string_view line) {
    std::vector<std::string> order;
    const auto at = line.find("\"counts\":{");
    const auto end = at == std::string_view::npos ? at : line.find('}', at);
    if (end == std::string_view::npos) return order;
    for (auto quote = line.find('"', at + 10); quote < end; quote = line.find('"', line.find('"', quote + 1) + 1)) {
        const auto close = line.find('"', quote + 1);
        if (close >= end) break;
        order.emplace_back(line.substr(quote + 1, close - quote - 1));
    }
    return order;
}

// One file's lines into `hosts`; its scan and summary lines returned.
// Every input read by READ into `files`, `hosts` and `identities`, each checked to be a shard of one scan;
// the lines naming the shards missing.
template <typename File, typename Host>
Result<std::vector<std::string>> read_shards(const std::vector<MergeInput>& inputs, std::map<AddressKey, Host>& hosts,
                                             std::vector<File>& files, std::vector<Identity>& identities,
                                             Result<File> (*read)(const MergeInput&, std::map<AddressKey, Host>&)) {
    if (inputs.empty()) return Error{"nothing to merge"};
    for (const auto& input : inputs) {
        auto file = read(input, hosts);
        if (!file) return Error{file.error()};
        auto identity = identity_of(file->scan, input.name);
        if (!identity) return Error{identity.error()};
        files.push_back(std::move(file).value());
        identities.push_back(std::move(identity).value());
    }
    return check_shards(identities, inputs);
}

Result<JsonFile> read_jsonl(const MergeInput& input, std::map<AddressKey, JsonHost>& hosts) {
    JsonFile file;
    std::istringstream lines(input.text);
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
        if (line.empty()) continue;
        const auto members = members_of(line);
        const std::string where = input.name + " line " + std::to_string(number);
        if (!members) return Error{where + ": not a JSON object (a cut or corrupt file?)"};
        const std::string type = text_of(*members, "type");
        if (number == 1 && type != "scan")
            return Error{input.name + ": no scan line first: not a flagscan -oJ output, or one written before shards (0.2)"};
        if (type == "scan" && number != 1) return Error{where + ": a second scan line (two outputs in one file?)"};
        if (type == "scan") file.scan = *members;
        if (type == "summary") file.summary = *members;
        if (!type.empty()) continue;
        if (!file.summary.empty()) return Error{where + ": a host after the summary line"};
        const auto key = address_key(text_of(*members, "ip"));
        if (!key) return Error{where + ": no valid \"ip\""};
        JsonHost& host = hosts[*key];
        if (members->contains("state")) {  // a port line
            host.ports[{text_of(*members, "proto"), number_of(*members, "port")}] = {text_of(*members, "state"), line};
        } else if (host.line.empty()) {
            host.line = line, host.host = *members, host.counts = counts_of(*members);
        } else {
            for (const auto& [state, count] : counts_of(*members)) host.counts[state] += count;
        }
    }
    if (file.scan.empty()) return Error{input.name + ": empty, not a flagscan -oJ output"};
    if (file.summary.empty()) return Error{input.name + ": no summary line (the scan did not finish, or the file is cut short)"};
    return file;
}

// nmap's fold (output/report.hpp host_listing): a state with more than 25 of a host's ports is
// not listed, never open; --all-ports lists every port.
bool folded(const std::string& state, std::uint64_t count, const std::string& listing) {
    if (listing == "all" || state == "open") return false;
    if (listing == "open" && state != "open|filtered" && state != "unfiltered") return true;
    return count > 25;
}

// A host's object with its counts replaced by the summed ones.
std::string host_line(const JsonHost& host) {
    if (host.counts.empty()) return host.line;
    const auto at = host.line.find(",\"counts\":{");
    if (at == std::string::npos) return host.line;
    const auto end = host.line.find('}', at);
    std::string counts = ",\"counts\":{";
    const char* separator = "";
    std::vector<std::string> order = count_order(host.line);
    for (const auto& [state, count] : host.counts)
        if (std::find(order.begin(), order.end(), state) == order.end()) order.push_back(state);
    for (const auto& state : order)
        counts += separator + ('"' + state + "\":" + std::to_string(host.counts.at(state))), separator = ",";
    return host.line.substr(0, at) + counts + host.line.substr(end);
}

}  // namespace

Result<Merged> merge_jsonl(const std::vector<MergeInput>& inputs) {
    std::map<AddressKey, JsonHost> hosts;
    std::vector<JsonFile> files;
    std::vector<Identity> identities;
    auto missing = read_shards(inputs, hosts, files, identities, read_jsonl);
    if (!missing) return Error{missing.error()};
    const std::string listing = text_of(files.front().scan, "listing");
    std::string text = merged_scan_line(files.front().scan) + "\n";
    std::uint64_t up = 0;
    for (const auto& [key, host] : hosts) {
        for (const auto& [port, entry] : host.ports) {
            const auto count = host.counts.find(entry.first);
            if (!folded(entry.first, count == host.counts.end() ? 0 : count->second, listing)) text += entry.second + "\n";
        }
        if (host.line.empty()) continue;
        text += host_line(host) + "\n";
        up += text_of(host.host, "status") == "up" ? 1 : 0;
    }
    std::uint64_t addresses = 0;
    double elapsed = 0;
    bool interrupted = false;
    for (const auto& file : files) {
        const std::uint64_t given = number_of(file.summary, "addresses");
        addresses = identities.front().by_hosts ? addresses + given : std::max(addresses, given);
        elapsed = std::max(elapsed, std::strtod(file.summary.at("elapsed").c_str(), nullptr));
        interrupted = interrupted || file.summary.at("interrupted") == "true";
    }
    std::ostringstream summary;
    ScanSummary totals;
    totals.elapsed_seconds = elapsed;
    totals.interrupted = interrupted || !missing->empty();
    write_jsonl_end(summary, addresses, up, totals);
    return Merged{text + summary.str(), std::move(missing).value()};
}

namespace {

// ---- nmap XML ----

// The value of attribute NAME in the start tag at the beginning of `element`, unescaped.
std::string attribute_of(std::string_view element, std::string_view name) {
    const auto tag_end = element.find('>');
    const std::string needle = " " + std::string(name) + "=\"";
    const auto at = element.substr(0, tag_end).find(needle);
    if (at == std::string_view::npos) return {};
    const auto start = at + needle.size();
    const auto end = element.find('"', start);
    if (end == std::string_view::npos) return {};
    std::string value{element.substr(start, end - start)};
    const std::pair<std::string_view, char> entities[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}, {"&amp;", '&'}};
    for (const auto& [entity, c] : entities)
        for (auto found = value.find(entity); found != std::string::npos; found = value.find(entity, found + 1))
            value.replace(found, entity.size(), 1, c);
    return value;
}

// Every element <NAME ...>...</NAME> (or <NAME .../>) in `text`, in order.
std::vector<std::string_view> elements(std::string_view text, std::string_view name) {
    std::vector<std::string_view> found;
    const std::string open = "<" + std::string(name), close = "</" + std::string(name) + ">";
    for (std::size_t at = text.find(open); at != std::string_view::npos; at = text.find(open, at + 1)) {
        const char next = at + open.size() < text.size() ? text[at + open.size()] : '\0';
        if (next != ' ' && next != '>' && next != '/') continue;
        const auto tag_end = text.find('>', at);
        if (tag_end == std::string_view::npos) break;
        std::size_t end = text[tag_end - 1] == '/' ? tag_end + 1 : text.find(close, tag_end);
        if (end == std::string_view::npos) break;
        if (text[tag_end - 1] != '/') end += close.size();
        found.push_back(text.substr(at, end - at));
        at = end - 1;
    }
    return found;
}

struct XmlReason {
    std::uint64_t count = 0;
    std::vector<std::uint16_t> ports;
};

struct XmlHost {
    std::string head;   // <host> up to <ports> (status, address, hostnames)
    std::string times;  // <times .../>, if any
    bool up = false;
    std::map<std::pair<std::string, std::uint64_t>, std::string> ports;   // (protocol, portid) -> <port>
    std::map<std::string, std::uint64_t> extra;                            // state -> count
    std::map<std::tuple<std::string, std::string, std::string>, XmlReason> reasons;  // (state, reason, proto)
};

std::vector<std::uint16_t> ports_in(const std::string& ranges) {
    std::vector<std::uint16_t> ports;
    std::istringstream items(ranges);
    std::string item;
    while (std::getline(items, item, ',')) {
        unsigned first = 0, last = 0;
        const auto dash = item.find('-');
        std::from_chars(item.data(), item.data() + (dash == std::string::npos ? item.size() : dash), first);
        last = first;
        if (dash != std::string::npos) std::from_chars(item.data() + dash + 1, item.data() + item.size(), last);
        for (unsigned p = first; p <= last && p <= 65535; ++p) ports.push_back(static_cast<std::uint16_t>(p));
    }
    return ports;
}

// A numeric attribute: absent reads as 0; anything but digits (or digits past the type) is
// corrupt, and the file is refused rather than merged with a made-up count.
template <typename T>
bool attribute_number(std::string_view element, std::string_view name, T& out) {
    const std::string value = attribute_of(element, name);
    out = 0;
    if (value.empty()) return true;
    const auto number = parse_whole<T>(value);
    out = number.value_or(0);
    return number.has_value();
}

bool add_host(std::string_view element, XmlHost& host) {
    const auto ports_at = element.find("<ports>");
    const auto times_at = element.find("<times");
    const auto head_end = std::min({ports_at, times_at, element.rfind("</host>")});
    if (host.head.empty()) {
        host.head = std::string(element.substr(0, head_end));
        host.up = attribute_of(element.substr(element.find("<status")), "state") == "up";
    }
    if (times_at != std::string_view::npos && host.times.empty())
        host.times = std::string(element.substr(times_at, element.find("/>", times_at) + 3 - times_at));
    std::uint64_t number = 0;
    for (const auto port : elements(element, "port")) {
        if (!attribute_number(port, "portid", number)) return false;
        host.ports[{attribute_of(port, "protocol"), number}] = std::string(port) + "\n";
    }
    for (const auto extra : elements(element, "extraports")) {
        const std::string state = attribute_of(extra, "state");
        if (!attribute_number(extra, "count", number)) return false;
        host.extra[state] += number;
        for (const auto reason : elements(extra, "extrareasons")) {
            XmlReason& merged = host.reasons[{state, attribute_of(reason, "reason"), attribute_of(reason, "proto")}];
            if (!attribute_number(reason, "count", number)) return false;
            merged.count += number;
            for (const auto port : ports_in(attribute_of(reason, "ports"))) merged.ports.push_back(port);
        }
    }
    return true;
}

std::string attr(std::string_view name, std::string_view value) { return " " + std::string(name) + "=\"" + xml_escape(value) + "\""; }

std::string host_text(const XmlHost& host) {
    std::string text = host.head;
    if (!host.ports.empty() || !host.extra.empty()) {
        text += "<ports>";
        for (const auto& [state, count] : host.extra) {
            text += "<extraports" + attr("state", state) + attr("count", std::to_string(count)) + ">\n";
            for (auto [key, reason] : host.reasons) {
                if (std::get<0>(key) != state) continue;
                std::sort(reason.ports.begin(), reason.ports.end());
                text += "<extrareasons" + attr("reason", std::get<1>(key)) + attr("count", std::to_string(reason.count)) +
                        attr("proto", std::get<2>(key)) + attr("ports", port_ranges(reason.ports)) + "/>\n";
            }
            text += "</extraports>\n";
        }
        for (const auto& [key, port] : host.ports) text += port;
        text += "</ports>\n";
    }
    return text + host.times + "</host>\n";
}

struct XmlFile {
    Members scan;
    std::string head;  // up to the first <host> (or <runstats>)
    std::uint64_t total = 0;
    double elapsed = 0;
    std::int64_t finished = 0;
    bool success = true;
};

Result<XmlFile> read_xml(const MergeInput& input, std::map<AddressKey, XmlHost>& hosts) {
    const std::string_view text = input.text;
    XmlFile file;
    const auto comment = text.find("<!-- flagscan-scan {");
    if (!text.starts_with("<?xml") || text.find("<nmaprun") == std::string_view::npos)
        return Error{input.name + ": not an nmap XML output (-oX)"};
    if (comment == std::string_view::npos) return Error{input.name + ": no flagscan-scan comment: not written by flagscan 0.2 or later"};
    const auto json_end = text.find("} -->", comment);
    const auto scan = json_end == std::string_view::npos ? std::nullopt : members_of(text.substr(comment + 19, json_end + 1 - comment - 19));
    if (!scan) return Error{input.name + ": its flagscan-scan comment is corrupt"};
    file.scan = *scan;
    const auto runstats = text.find("<runstats>");
    if (runstats == std::string_view::npos || text.find("</nmaprun>", runstats) == std::string_view::npos)
        return Error{input.name + ": no <runstats> (the scan did not finish, or the file is cut short)"};
    const auto first_host = text.find("<host>");
    file.head = std::string(text.substr(0, std::min(first_host, runstats)));
    for (const auto host : elements(text.substr(0, runstats), "host")) {
        const auto address = elements(host, "address");
        const auto key = address.empty() ? std::nullopt : address_key(attribute_of(address.front(), "addr"));
        if (!key) return Error{input.name + ": a <host> without a valid address"};
        if (!add_host(host, hosts[*key])) return Error{input.name + ": a <host> with a corrupt port number or count"};
    }
    const auto stats = text.substr(runstats);
    const auto finished = elements(stats, "finished");
    const auto counts = elements(stats, "hosts");
    if (finished.empty() || counts.empty()) return Error{input.name + ": its <runstats> is corrupt"};
    if (!attribute_number(counts.front(), "total", file.total) || !attribute_number(finished.front(), "time", file.finished))
        return Error{input.name + ": its <runstats> is corrupt"};
    file.elapsed = std::strtod(attribute_of(finished.front(), "elapsed").c_str(), nullptr);
    file.success = attribute_of(finished.front(), "exit") == "success";
    return file;
}

}  // namespace

Result<Merged> merge_xml(const std::vector<MergeInput>& inputs) {
    std::map<AddressKey, XmlHost> hosts;
    std::vector<XmlFile> files;
    std::vector<Identity> identities;
    auto missing = read_shards(inputs, hosts, files, identities, read_xml);
    if (!missing) return Error{missing.error()};
    std::string text = files.front().head;
    std::uint64_t up = 0, total = 0;
    double elapsed = 0;
    std::int64_t finished = 0;
    bool success = missing->empty();
    for (const auto& [key, host] : hosts) text += host_text(host), up += host.up ? 1 : 0;
    for (const auto& file : files) {
        total = identities.front().by_hosts ? total + file.total : std::max(total, file.total);
        elapsed = std::max(elapsed, file.elapsed);
        finished = std::max(finished, file.finished);
        success = success && file.success;
    }
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f", elapsed);
    const std::string when = ctime_text(finished);
    const std::string summary = "flagscan done at " + when + "; " + std::to_string(total) + " IP addresses (" +
                                std::to_string(up) + " hosts up) scanned in " + seconds + " seconds (" +
                                std::to_string(files.size()) + " shards merged)";
    text += "<runstats><finished" + attr("time", std::to_string(finished)) + attr("timestr", when) + attr("summary", summary) +
            attr("elapsed", seconds) + attr("exit", success ? "success" : "error");
    if (!success) text += attr("errormsg", missing->empty() ? "a shard was interrupted" : missing->front());
    text += "/><hosts" + attr("up", std::to_string(up)) + attr("down", std::to_string(total - std::min(total, up))) +
            attr("total", std::to_string(total)) + "/>\n</runstats>\n</nmaprun>\n";
    return Merged{std::move(text), std::move(missing).value()};
}

namespace {

Result<std::string> read_whole(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{path + ": cannot be read"};
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

int run_merge_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    std::vector<std::string> paths;
    std::string output;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if ((args[i] == "-o" || args[i] == "--output") && i + 1 < args.size()) output = args[++i];
        else if (args[i] == "-h" || args[i] == "--help") {
            out << "usage: flagscan merge OUT... -o FILE\n  combines the -oJ (JSON lines) or -oX (XML) outputs of the shards "
                   "of one scan (--shard) into one report, hosts in address order; -o - writes to stdout\n";
            return 0;
        } else if (args[i].starts_with("-") && args[i] != "-") return err << "flagscan merge: unknown option '" << args[i] << "'\n", 1;
        else paths.push_back(args[i]);
    }
    if (paths.empty() || output.empty()) return err << "flagscan merge: usage: flagscan merge OUT... -o FILE\n", 1;
    std::vector<MergeInput> inputs;
    for (const auto& path : paths) {
        auto text = read_whole(path);
        if (!text) return err << "flagscan merge: " << text.error() << '\n', 1;
        inputs.push_back(MergeInput{path, std::move(text).value()});
    }
    const bool xml = inputs.front().text.starts_with("<?xml");
    auto merged = xml ? merge_xml(inputs) : merge_jsonl(inputs);
    if (!merged) return err << "flagscan merge: " << merged.error() << '\n', 1;
    if (output == "-") {
        out << merged->text;
    } else {
        std::ofstream file(output, std::ios::binary | std::ios::trunc);
        file << merged->text;
        file.close();
        if (!file) return err << "flagscan merge: cannot write '" << output << "'\n", 2;
    }
    for (const auto& line : merged->missing) err << "flagscan merge: " << line << ": the merged report lacks its hosts\n";
    return merged->missing.empty() ? 0 : 1;
}

std::string scan_identity(const ScanConfig& config, const ScanPlan& plan, bool shard_by_hosts) {
    std::string targets;
    for (const auto& target : config.targets) targets += (targets.empty() ? "" : " ") + target.text;
    if (!config.excludes.empty()) targets += " exclude";
    for (const auto& exclude : config.excludes) targets += " " + exclude.text;
    std::string ports, kinds;
    for (std::size_t lane = 0; lane < plan.kinds.size(); ++lane) {
        std::vector<std::uint16_t> lane_ports;
        for (const Slot& slot : plan.slots)
            if (slot.lane == lane) lane_ports.push_back(slot.port.value());
        std::sort(lane_ports.begin(), lane_ports.end());
        const ProbeKind& kind = *plan.kinds[lane];
        const bool ping = kind.purpose == Purpose::host_discovery;
        kinds += (kinds.empty() ? "" : ",") + std::string(ping ? std::string_view(kind.name) : nmap_scan_type(kind));
        if (!ping) ports += (ports.empty() ? "" : ";") + std::string(protocol_name(kind)) + ":" + port_ranges(lane_ports);
    }
    if (config.ping_only) kinds = "ping";
    const std::string listing = config.report.all_ports ? "all" : config.report.open_only ? "open" : "default";
    return "\"version\":\"" + json_string(kVersion) + "\",\"seed\":" + std::to_string(config.seed) + ",\"targets\":\"" +
           json_string(targets) + "\",\"ports\":\"" + ports + "\",\"scan\":\"" + json_string(kinds) + "\",\"listing\":\"" +
           listing + "\",\"shard\":\"" + shard_text(config.shard.shard) + "\",\"shard_by\":\"" +
           (shard_by_hosts ? "hosts" : "probes") + "\",\"shard_from\":\"" + json_string(config.shard.source) + "\"";
}

}  // namespace flagscan

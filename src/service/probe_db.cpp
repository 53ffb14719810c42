// ServiceProbeDb: the nmap-service-probes parser (one line at a time, errors as FILE:LINE) and probe selection.
#include "flagscan/service/probe_db.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "flagscan/net/text.hpp"

namespace flagscan {

namespace {

// nmap (MAXFALLBACKS 20): at most 17 probes named by one probe's fallback lines.
constexpr std::size_t kMaxFallbackNames = 17;
constexpr int kMinWaitMs = 100;
constexpr int kMaxWaitMs = 300000;

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || (c >= '0' && c <= '9'); }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

// The first word of s, and s after it (leading blanks removed).
std::pair<std::string_view, std::string_view> split_word(std::string_view s) {
    s = trim(s);
    std::size_t end = 0;
    while (end < s.size() && !is_blank(s[end])) ++end;
    return {s.substr(0, end), trim(s.substr(end))};
}

std::optional<int> parse_int(std::string_view text) { return parse_whole<int>(text); }

// A delimited piece at text[pos] == delimiter's opening: returns the inside, `pos` ends after
// the closing delimiter. Perl's q|..| m|..| p/../: the delimiter is any character.
std::optional<std::string_view> delimited(std::string_view text, std::size_t& pos) {
    if (pos >= text.size() || is_blank(text[pos])) return std::nullopt;
    const char delimiter = text[pos];
    const std::size_t close = text.find(delimiter, pos + 1);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view inside = text.substr(pos + 1, close - pos - 1);
    pos = close + 1;
    return inside;
}

// Letters straight after a closing delimiter (m|..|si, cpe:/../a), which must end at a blank.
std::optional<std::string_view> flags_after(std::string_view text, std::size_t& pos) {
    const std::size_t start = pos;
    while (pos < text.size() && is_alpha(text[pos])) ++pos;
    if (pos < text.size() && !is_blank(text[pos])) return std::nullopt;
    return text.substr(start, pos - start);
}

// nmap's probe port lists: "21-25,53,80" (no protocol prefixes, no names).
Result<std::vector<Port>> probe_ports(std::string_view text) {
    std::string spec;
    for (char c : text)
        if (!is_blank(c)) spec += c;
    if (spec.empty() || !std::all_of(spec.begin(), spec.end(), [](char c) { return (c >= '0' && c <= '9') || c == ',' || c == '-'; }))
        return Error{"bad port list " + quote_for_error(text) + ": ports and ranges such as 21-25,53,80"};
    return parse_ports(spec);
}


// Fills one template field of a rule from a "p", "v", ..., "cpe" template.
Result<bool> set_template(MatchRule& rule, std::string_view mode, std::string_view text) {
    Result<VersionTemplate> tmpl = VersionTemplate::parse(text);
    if (!tmpl) return Error{tmpl.error()};
    std::optional<VersionTemplate>* field = nullptr;
    if (mode == "p") field = &rule.product;
    else if (mode == "v") field = &rule.version;
    else if (mode == "i") field = &rule.extrainfo;
    else if (mode == "h") field = &rule.hostname;
    else if (mode == "o") field = &rule.ostype;
    else if (mode == "d") field = &rule.devicetype;
    else if (mode == "cpe") rule.cpe.push_back(std::move(tmpl).value());
    else return Error{"unknown version field " + quote_for_error(mode) + ": fields are p/ v/ i/ h/ o/ d/ cpe:/"};
    if (field != nullptr) *field = std::move(tmpl).value();  // a field given twice: the last wins, as nmap
    return true;
}

// The version fields after the regex: `p/text/ v|text| cpe:/a:x:y/a ...`.
Result<bool> parse_templates(MatchRule& rule, std::string_view text) {
    std::size_t pos = 0;
    for (;;) {
        while (pos < text.size() && is_blank(text[pos])) ++pos;
        if (pos >= text.size()) return true;
        const std::size_t start = pos;
        while (pos < text.size() && is_alpha(text[pos]) && pos - start < 3) ++pos;
        const std::string_view mode = text.substr(start, pos - start);
        std::optional<std::string_view> inside;
        std::string cpe;
        if (mode == "cpe" && pos < text.size() && text[pos] == ':') {
            // Written cpe:/a:vendor:product/, once (nmap 7.93's file) with another delimiter:
            // kept as "cpe:/a:vendor:product" either way.
            ++pos;
            inside = delimited(text, pos);
            if (inside) inside = cpe = "cpe:/" + std::string(*inside);
        } else {
            if (mode.empty()) return Error{"expected a version field (p/ v/ i/ h/ o/ d/ cpe:/) at " + quote_for_error(text.substr(start))};
            inside = delimited(text, pos);
        }
        if (!inside) return Error{"version field " + quote_for_error(text.substr(start, 20)) + " has no closing delimiter"};
        if (!flags_after(text, pos)) return Error{"version field " + quote_for_error(text.substr(start, 20)) + " must be followed by a blank"};
        const Result<bool> set = set_template(rule, mode, *inside);
        if (!set) return set;
    }
}

// `match <service> m|regex|flags [fields]` or `softmatch ...` (the directive already read).
Result<MatchRule> parse_rule(bool soft, std::string_view rest, std::size_t line) {
    MatchRule rule;
    rule.soft = soft;
    rule.line = line;
    const auto [service, after] = split_word(rest);
    if (service.empty()) return Error{"no service name"};
    rule.service = std::string(service);
    if (after.empty() || after[0] != 'm') return Error{"the pattern is written m|regex| (after the service name)"};
    std::size_t pos = 1;
    const std::optional<std::string_view> pattern = delimited(after, pos);
    if (!pattern) return Error{"the pattern m" + std::string(after.substr(1, 1)) + "... has no closing delimiter"};
    const std::optional<std::string_view> flags = flags_after(after, pos);
    if (!flags) return Error{"regex flags must be followed by a blank"};
    RegexFlags regex_flags;
    for (char f : *flags) {
        if (f == 'i') regex_flags.caseless = true;
        else if (f == 's') regex_flags.dotall = true;
        else return Error{"unknown regex flag " + quote_for_error(std::string_view(&f, 1)) + ": flags are i and s"};
    }
    Result<Regex> regex = Regex::compile(*pattern, regex_flags);
    if (!regex) return Error{regex.error()};
    if (regex->matches_empty()) return Error{"the pattern matches an empty answer"};
    rule.regex = std::move(regex).value();
    const Result<bool> fields = parse_templates(rule, after.substr(pos));
    if (!fields) return Error{fields.error()};
    return rule;
}

// `Probe TCP|UDP <name> q|payload| [no-payload]` (the directive already read).
Result<ServiceProbe> parse_probe(std::string_view rest, std::size_t line) {
    ServiceProbe probe;
    probe.line = line;
    const auto [protocol, after_protocol] = split_word(rest);
    if (protocol == "TCP") probe.protocol = Protocol::tcp;
    else if (protocol == "UDP") probe.protocol = Protocol::udp;
    else return Error{"the protocol is TCP or UDP, not " + quote_for_error(protocol)};
    const auto [name, after_name] = split_word(after_protocol);
    if (name.empty() || !is_alnum(name[0])) return Error{"bad probe name " + quote_for_error(name)};
    probe.name = std::string(name);
    if (after_name.empty() || after_name[0] != 'q') return Error{"the probe string is written q|...|"};
    std::size_t pos = 1;
    const std::optional<std::string_view> raw = delimited(after_name, pos);
    if (!raw) return Error{"the probe string has no closing delimiter"};
    const Result<std::string> bytes = unescape_c_string(*raw);
    if (!bytes) return Error{"probe string: " + bytes.error()};
    probe.payload.assign(bytes->begin(), bytes->end());
    const std::string_view options = trim(after_name.substr(pos));
    if (options == "no-payload") probe.no_payload = true;
    else if (!options.empty()) return Error{"unexpected " + quote_for_error(options) + " after the probe string"};
    return probe;
}

Result<int> bounded_int(std::string_view what, std::string_view text, int low, int high) {
    const std::optional<int> value = parse_int(text);
    if (!value || *value < low || *value > high)
        return Error{"bad " + std::string(what) + " " + quote_for_error(text) + ": " + std::to_string(low) + "-" + std::to_string(high)};
    return *value;
}

// A `fallback` line waiting for every probe to be known.
struct PendingFallback {
    std::size_t probe;
    std::string names;
    std::size_t line;
};

// The parser's state between lines.
struct ParseState {
    std::vector<ServiceProbe> probes;
    std::vector<PendingFallback> fallbacks;
    PortSpec exclude;
    bool exclude_seen = false;
};

// A directive that belongs to the current probe (ports, rarity, match, ...).
Result<bool> probe_directive(ParseState& state, std::string_view directive, std::string_view rest, std::size_t line) {
    if (state.probes.empty()) return Error{quote_for_error(directive) + " before any Probe line"};
    ServiceProbe& probe = state.probes.back();
    if (directive == "match" || directive == "softmatch") {
        Result<MatchRule> rule = parse_rule(directive == "softmatch", rest, line);
        if (!rule) return Error{rule.error()};
        probe.rules.push_back(std::move(rule).value());
    } else if (directive == "ports" || directive == "sslports") {
        Result<std::vector<Port>> ports = probe_ports(rest);
        if (!ports) return Error{ports.error()};
        (directive == "ports" ? probe.ports : probe.sslports) = std::move(ports).value();
    } else if (directive == "rarity") {
        const Result<int> rarity = bounded_int("rarity", rest, 1, 9);
        if (!rarity) return Error{rarity.error()};
        probe.rarity = *rarity;
    } else if (directive == "totalwaitms" || directive == "tcpwrappedms") {
        const Result<int> ms = bounded_int(directive, rest, kMinWaitMs, kMaxWaitMs);
        if (!ms) return Error{ms.error()};
        (directive == "totalwaitms" ? probe.totalwaitms : probe.tcpwrappedms) = *ms;
    } else if (directive == "fallback") {
        if (rest.empty()) return Error{"fallback names no probe"};
        state.fallbacks.push_back(PendingFallback{state.probes.size() - 1, std::string(rest), line});
    } else {
        return Error{"unknown directive " + quote_for_error(directive)};
    }
    return true;
}

Result<bool> parse_line(ParseState& state, std::string_view text, std::size_t line) {
    const auto [directive, rest] = split_word(text);
    if (directive == "Exclude") {
        if (state.exclude_seen) return Error{"only one Exclude directive is allowed"};
        if (!state.probes.empty()) return Error{"the Exclude directive must come before every Probe"};
        Result<PortSpec> spec = parse_port_spec(rest);
        if (!spec) return Error{spec.error()};
        state.exclude = std::move(spec).value();
        state.exclude_seen = true;
        return true;
    }
    if (directive == "Probe") {
        Result<ServiceProbe> probe = parse_probe(rest, line);
        if (!probe) return Error{probe.error()};
        state.probes.push_back(std::move(probe).value());
        return true;
    }
    return probe_directive(state, directive, rest, line);
}

}  // namespace

bool ServiceProbe::port_is_probable(Port port, bool tunnel_ssl) const {
    const std::vector<Port>& list = tunnel_ssl ? sslports : ports;
    return std::binary_search(list.begin(), list.end(), port);
}

bool ServiceProbe::can_match(std::string_view service) const {
    return std::any_of(rules.begin(), rules.end(), [&](const MatchRule& r) { return r.service == service; });
}

Result<ServiceProbeDb> ServiceProbeDb::parse(std::string_view text, std::string_view file_name) {
    const auto at = [&](std::size_t line, const std::string& what) {
        return Error{std::string(file_name) + ":" + std::to_string(line) + ": " + what};
    };
    ParseState state;
    std::size_t line = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t end = std::min(text.find('\n', pos), text.size());
        const std::string_view content = trim(text.substr(pos, end - pos));
        pos = end + 1;
        ++line;
        if (content.empty() || content[0] == '#') continue;
        const Result<bool> ok = parse_line(state, content, line);
        if (!ok) return at(line, ok.error());
    }
    ServiceProbeDb db;
    db.probes_ = std::move(state.probes);
    db.exclude_ = std::move(state.exclude);
    db.null_probe_ = db.find("NULL", Protocol::tcp);
    for (std::size_t i = 0; i < db.probes_.size(); ++i) db.probes_[i].fallbacks.push_back(i);
    for (const PendingFallback& pending : state.fallbacks) {
        ServiceProbe& probe = db.probes_[pending.probe];
        std::string_view names = pending.names;
        while (!names.empty()) {
            const std::size_t cut = names.find_first_of(", \t");
            const std::string_view name = names.substr(0, cut);
            names = cut == std::string_view::npos ? std::string_view{} : names.substr(cut + 1);
            if (name.empty()) continue;
            // The probe of the same protocol, else of the other (nmap's TCP DNS probes fall
            // back on the UDP ones, whose answers have the same body).
            std::optional<std::size_t> target = db.find(name, probe.protocol);
            if (!target) target = db.find(name, probe.protocol == Protocol::tcp ? Protocol::udp : Protocol::tcp);
            if (!target) return at(pending.line, "unknown fallback probe " + quote_for_error(name) + " (no probe has that name)");
            if (probe.fallbacks.size() > kMaxFallbackNames) return at(pending.line, "too many fallback probes (nmap allows 17)");
            probe.fallbacks.push_back(*target);
        }
    }
    for (std::size_t i = 0; i < db.probes_.size(); ++i) {
        ServiceProbe& probe = db.probes_[i];
        if (probe.protocol == Protocol::tcp && db.null_probe_ && *db.null_probe_ != i) probe.fallbacks.push_back(*db.null_probe_);
    }
    return db;
}

std::size_t ServiceProbeDb::rule_count() const {
    std::size_t n = 0;
    for (const ServiceProbe& p : probes_) n += p.rules.size();
    return n;
}

std::optional<std::size_t> ServiceProbeDb::find(std::string_view name, Protocol protocol) const {
    for (std::size_t i = 0; i < probes_.size(); ++i)
        if (probes_[i].protocol == protocol && probes_[i].name == name) return i;
    return std::nullopt;
}

bool ServiceProbeDb::excluded(Port port, Protocol protocol) const {
    const std::vector<Port>& list = protocol == Protocol::tcp ? exclude_.tcp : exclude_.udp;
    return std::binary_search(list.begin(), list.end(), port);
}

std::vector<std::size_t> ServiceProbeDb::probes_for(Port port, Protocol protocol, int intensity, bool tunnel_ssl) const {
    ProbePlan plan(*this, port, protocol, intensity, tunnel_ssl);
    std::vector<std::size_t> order;
    while (const std::optional<std::size_t> next = plan.next()) order.push_back(*next);
    return order;
}

ProbePlan::ProbePlan(const ServiceProbeDb& db, Port port, Protocol protocol, int intensity, bool tunnel_ssl)
    : db_(&db), port_(port), protocol_(protocol), intensity_(intensity), tunnel_ssl_(tunnel_ssl) {}

// Why two passes over the file: the probes written for this port are the likeliest to get an
// answer that names the service, so they go first; the rest follow by rarity (nmap's order).
bool ProbePlan::wanted(const ServiceProbe& probe) const {
    if (probe.protocol != protocol_ || probe.is_null()) return false;
    const bool listed = probe.port_is_probable(port_, tunnel_ssl_);
    if ((stage_ == Stage::port_probes) != listed) return false;
    const bool service_ok = soft_service_ && (intensity_ >= version_intensity_all || probe.can_match(*soft_service_));
    if (stage_ == Stage::port_probes) return !soft_service_ || service_ok;
    return soft_service_ ? service_ok : probe.rarity <= intensity_;
}

std::optional<std::size_t> ProbePlan::next() {
    const std::span<const ServiceProbe> probes = db_->probes();
    if (stage_ == Stage::null_probe) {
        stage_ = Stage::port_probes;
        cursor_ = 0;
        if (protocol_ == Protocol::tcp && db_->null_probe()) return db_->null_probe();
    }
    while (stage_ != Stage::done) {
        while (cursor_ < probes.size()) {
            const std::size_t index = cursor_++;
            if (wanted(probes[index])) return index;
        }
        stage_ = stage_ == Stage::port_probes ? Stage::other_probes : Stage::done;
        cursor_ = 0;
    }
    return std::nullopt;
}

}  // namespace flagscan

// Resume files: writing, checking and reading back the state of an interrupted scan.
#include "flagscan/cli/resume_file.hpp"
#include "flagscan/version.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

#include "flagscan/wire/fd.hpp"

namespace flagscan {
namespace {

constexpr std::string_view kMagic = "flagscan-resume";
constexpr std::string_view kChecksumTag = "checksum ";
constexpr std::string_view kCorrupt = "resume file is corrupt (checksum)";
constexpr auto kLastReason = static_cast<std::uint8_t>(Reason::ftp_cant_connect);
constexpr auto kLastReplyKind = static_cast<std::uint8_t>(ReplyEvidence::Kind::arp_reply);
constexpr std::string_view kHex = "0123456789ABCDEF";

// FNV-1a 64 (Fowler, Noll, Vo): not a defence against a forger, a check that the file is the
// one flagscan wrote: a truncation, a lost line or an edit changes it.
std::uint64_t fnv1a(std::string_view bytes) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (const unsigned char c : bytes) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

bool plain(unsigned char c) { return c > 0x20 && c < 0x7f && c != '%'; }

// Arguments may hold spaces, newlines, any byte: each such byte is written %XX.
std::string escape(std::string_view text) {
    std::string out;
    for (const unsigned char c : text) {
        if (plain(c)) {
            out += static_cast<char>(c);
            continue;
        }
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

std::optional<unsigned> hex_value(char c) {
    const auto at = kHex.find(static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c));
    return at == std::string_view::npos ? std::nullopt : std::optional<unsigned>{static_cast<unsigned>(at)};
}

std::optional<std::string> unescape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            if (!plain(static_cast<unsigned char>(text[i]))) return std::nullopt;
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        const auto high = hex_value(text[i + 1]);
        const auto low = hex_value(text[i + 2]);
        if (!high || !low) return std::nullopt;
        out += static_cast<char>(*high << 4 | *low);
        i += 2;
    }
    return out;
}

// The whole of `text` as a number of type T (in range), else nothing.
template <class T>
std::optional<T> number(std::string_view text, int base = 10) {
    T value{};
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, value, base);
    if (text.empty() || error != std::errc{} || stop != end) return std::nullopt;
    return value;
}

std::optional<double> decimal(std::string_view text) {
    double value = 0;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc{} || stop != end || !std::isfinite(value)) return std::nullopt;
    return value;
}

std::string decimal_text(double value) {
    char buffer[64];
    const auto written = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, written.ptr);
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start <= line.size()) {
        const std::size_t space = std::min(line.find(' ', start), line.size());
        out.push_back(line.substr(start, space - start));
        start = space + 1;
    }
    return out;
}

std::string hex16(std::uint64_t value) {
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kHex[value & 15];
    return out;
}

void append_port(std::string& out, std::uint64_t index, const PortResult& p) {
    const std::uint64_t fields[] = {index, std::uint64_t{static_cast<std::uint8_t>(p.state)},
                                    std::uint64_t{static_cast<std::uint8_t>(p.reason)}, p.ttl, p.tries, p.answered_try,
                                    p.rule, std::uint64_t{static_cast<std::uint8_t>(p.reply_kind)}, p.reply_flags,
                                    p.icmp_code, p.reply_window, p.rtt_us};
    out += "port";
    for (const std::uint64_t field : fields) out += ' ' + std::to_string(field);
    out += '\n';
}

void append_phase(std::string& out, const ResumePhase& phase) {
    out += "phase " + escape(phase.name) + " planned " + std::to_string(phase.planned) + " position " +
           std::to_string(phase.point.position) + '\n';
    for (const std::uint64_t index : phase.point.pending) out += "pending " + std::to_string(index) + '\n';
    for (const auto& [index, port] : phase.ports) append_port(out, index, port);
    for (const auto& [index, host] : phase.hosts)
        out += "host " + std::to_string(index) + ' ' + std::to_string(host.replies) + ' ' + std::to_string(host.min_rtt) +
               ' ' + decimal_text(host.icmp_limit) + '\n';
    for (const auto& [host, g] : phase.groups)
        out += "group " + std::to_string(host) + ' ' + std::to_string(static_cast<int>(g.state)) + ' ' +
               std::to_string(g.lane) + ' ' + std::to_string(static_cast<int>(g.reason)) + ' ' +
               std::to_string(g.count) + ' ' + std::to_string(g.first) + '\n';
}

// "port INDEX STATE REASON TTL TRIES ANSWERED RULE KIND FLAGS CODE WINDOW RTT", fields in PortResult's order.
std::optional<std::pair<std::uint64_t, PortResult>> port_entry(const std::vector<std::string_view>& w) {
    if (w.size() != 13) return std::nullopt;
    const auto index = number<std::uint64_t>(w[1]);
    const auto state = number<std::uint8_t>(w[2]);
    const auto reason = number<std::uint8_t>(w[3]);
    const auto kind = number<std::uint8_t>(w[8]);
    if (!index || !state || *state == 0 || *state >= kPortStateCount || !reason || *reason > kLastReason || !kind ||
        *kind > kLastReplyKind)
        return std::nullopt;
    PortResult p;
    p.state = static_cast<PortState>(*state);
    p.reason = static_cast<Reason>(*reason);
    p.reply_kind = static_cast<ReplyEvidence::Kind>(*kind);
    const std::pair<std::uint8_t*, std::string_view> bytes[] = {{&p.ttl, w[4]},         {&p.tries, w[5]},
                                                                {&p.answered_try, w[6]}, {&p.rule, w[7]},
                                                                {&p.reply_flags, w[9]},  {&p.icmp_code, w[10]}};
    for (const auto& [field, text] : bytes) {
        const auto value = number<std::uint8_t>(text);
        if (!value) return std::nullopt;
        *field = *value;
    }
    const auto window = number<std::uint16_t>(w[11]);
    const auto rtt = number<std::uint32_t>(w[12]);
    if (!window || !rtt) return std::nullopt;
    p.reply_window = *window;
    p.rtt_us = *rtt;
    return std::pair{*index, p};
}

// "host INDEX REPLIES MIN_RTT ICMP_LIMIT"
std::optional<std::pair<std::uint32_t, HostResult>> host_entry(const std::vector<std::string_view>& w) {
    if (w.size() != 5) return std::nullopt;
    const auto index = number<std::uint32_t>(w[1]);
    const auto replies = number<std::uint32_t>(w[2]);
    const auto min_rtt = number<Micros>(w[3]);
    const auto limit = decimal(w[4]);
    if (!index || !replies || !min_rtt || *min_rtt < -1 || !limit || *limit < 0) return std::nullopt;
    HostResult host;
    host.replies = *replies;
    host.min_rtt = *min_rtt;
    host.icmp_limit = *limit;
    return std::pair{*index, host};
}

// "group HOST STATE LANE REASON COUNT FIRST": a folded group of a large scan's host.
std::optional<std::pair<std::uint32_t, PortGroup>> group_entry(const std::vector<std::string_view>& w) {
    if (w.size() != 7) return std::nullopt;
    const auto host = number<std::uint32_t>(w[1]);
    const auto state = number<std::uint8_t>(w[2]);
    const auto lane = number<std::uint8_t>(w[3]);
    const auto reason = number<std::uint8_t>(w[4]);
    const auto count = number<std::uint32_t>(w[5]);
    const auto first = number<std::uint32_t>(w[6]);
    if (!host || !state || !lane || !reason || !count || !first) return std::nullopt;
    if (*state == 0 || *state >= kPortStateCount || *reason > kLastReason || *lane >= TargetSet::kMaxLanes || *count == 0)
        return std::nullopt;
    return std::pair{*host, PortGroup{static_cast<PortState>(*state), *lane, static_cast<Reason>(*reason), *count, *first}};
}

// "phase NAME planned N position N"
std::optional<ResumePhase> phase_entry(const std::vector<std::string_view>& w) {
    if (w.size() != 6 || w[2] != "planned" || w[4] != "position") return std::nullopt;
    auto name = unescape(w[1]);
    const auto planned = number<std::uint64_t>(w[3]);
    const auto position = number<std::uint64_t>(w[5]);
    if (!name || name->empty() || !planned || !position || *position > *planned) return std::nullopt;
    ResumePhase phase;
    phase.name = std::move(*name);
    phase.planned = *planned;
    phase.point.position = *position;
    return phase;
}

// The lines after the version, before the checksum: arguments, then the seed, then the phases.
class BodyParser {
public:
    // An error message for the line, or nothing when it was taken in.
    std::optional<std::string> take(std::string_view line) {
        const auto w = words(line);
        if (w[0] == "arg" && w.size() == 2 && !seeded_) return argument(w[1]);
        if (w[0] == "seed" && w.size() == 2 && !seeded_) return seed(w[1]);
        if (w[0] == "shard" && w.size() == 3 && seeded_ && state_.phases.empty()) return shard(w[1], w[2]);
        if (w[0] == "phase" && seeded_) return phase(w);
        if (state_.phases.empty()) return "unexpected '" + std::string(w[0]) + "' line";
        ResumePhase& phase = state_.phases.back();
        if (w[0] == "pending" && w.size() == 2) {
            const auto index = number<std::uint64_t>(w[1]);
            if (!index || *index >= phase.planned) return "bad pending index";
            phase.point.pending.push_back(*index);
            return std::nullopt;
        }
        if (w[0] == "port") {
            auto port = port_entry(w);
            if (!port || port->first >= phase.planned) return "bad port entry";
            phase.ports.push_back(*port);
            return std::nullopt;
        }
        if (w[0] == "group") {
            auto group = group_entry(w);
            if (!group) return "bad group entry";
            phase.groups.push_back(*group);
            return std::nullopt;
        }
        if (w[0] == "host") {
            auto host = host_entry(w);
            if (!host) return "bad host entry";
            phase.hosts.push_back(*host);
            return std::nullopt;
        }
        return "unexpected '" + std::string(w[0]) + "' line";
    }
    bool seeded() const { return seeded_; }
    ResumeState state() && { return std::move(state_); }

private:
    std::optional<std::string> argument(std::string_view text) {
        auto arg = unescape(text);
        if (!arg) return "bad argument";
        state_.args.push_back(std::move(*arg));
        return std::nullopt;
    }
    std::optional<std::string> seed(std::string_view text) {
        const auto value = number<std::uint64_t>(text);
        if (!value) return "bad seed";
        state_.seed = *value;
        seeded_ = true;
        return std::nullopt;
    }
    std::optional<std::string> shard(std::string_view index, std::string_view count) {
        const auto i = number<std::uint64_t>(index);
        const auto n = number<std::uint64_t>(count);
        if (!i || !n || *n == 0 || *i >= *n) return "bad shard";
        state_.shard = Shard{*i, *n};
        return std::nullopt;
    }
    std::optional<std::string> phase(const std::vector<std::string_view>& w) {
        auto phase = phase_entry(w);
        if (!phase) return "bad phase line";
        if (state_.phase(phase->name) != nullptr) return "phase '" + phase->name + "' given twice";
        state_.phases.push_back(std::move(*phase));
        return std::nullopt;
    }

    ResumeState state_;
    bool seeded_ = false;
};

// The text before the final "checksum H" line, if that line is there and matches it.
std::optional<std::string_view> checked_body(std::string_view text) {
    if (text.empty() || text.back() != '\n') return std::nullopt;
    const std::string_view lines = text.substr(0, text.size() - 1);
    const std::size_t cut = lines.rfind('\n');
    if (cut == std::string_view::npos) return std::nullopt;
    const std::string_view last = lines.substr(cut + 1);
    if (last.substr(0, kChecksumTag.size()) != kChecksumTag || last.size() != kChecksumTag.size() + 16) return std::nullopt;
    const auto sum = number<std::uint64_t>(last.substr(kChecksumTag.size()), 16);
    const std::string_view body = text.substr(0, cut + 1);
    if (!sum || *sum != fnv1a(body)) return std::nullopt;
    return body;
}

// Cuts the first line off `text` (without its newline).
std::string_view next_line(std::string_view& text) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    return line;
}

std::string error_text(int error) { return std::strerror(error); }

Result<bool> write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error{error_text(errno)};
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd) != 0) return Error{error_text(errno)};
    return true;
}

}  // namespace

const ResumePhase* ResumeState::phase(std::string_view name) const {
    const auto it = std::find_if(phases.begin(), phases.end(), [&](const ResumePhase& p) { return p.name == name; });
    return it == phases.end() ? nullptr : &*it;
}

ResumePhase capture_phase(std::string name, const Results& results, const ResumePoint& point) {
    ResumePhase phase{std::move(name), results.targets().size(), point, {}, {}, {}};
    for (const std::uint32_t host : results.hosts_held()) {
        const HostResult shown = results.host(host);
        const auto dropped = [&](PortState state) { return (shown.dropped_states >> static_cast<int>(state) & 1) != 0; };
        for (const PlacedSlot placed : results.targets().slots_of(host)) {
            const PortResult port = results.port(placed.index);
            if (port.state != PortState::unscanned && !dropped(port.state)) phase.ports.emplace_back(placed.index, port);
        }
        for (const PortGroup& group : results.groups(host)) {
            if (dropped(group.state)) phase.groups.emplace_back(host, group);
        }
        if (shown.replies > 0) phase.hosts.emplace_back(host, shown);
    }
    return phase;
}

Result<bool> restore_phase(const ResumePhase& phase, Results& results) {
    const TargetSet& targets = results.targets();
    const std::string what = "resume file's " + phase.name + " phase ";
    if (phase.planned != targets.size())
        return Error{what + "had " + std::to_string(phase.planned) + " probes planned, its command line now plans " +
                     std::to_string(targets.size()) + " (have the targets changed?)"};
    std::vector<std::uint64_t> pending = phase.point.pending;
    std::sort(pending.begin(), pending.end());
    if (phase.point.position > targets.size() || (!pending.empty() && pending.back() >= targets.size()) ||
        std::adjacent_find(pending.begin(), pending.end()) != pending.end())
        return Error{what + "has a bad resume point"};
    for (const auto& [index, port] : phase.ports) {
        if (index >= targets.size() || port.state == PortState::unscanned ||
            port.rule >= results.kind(targets.lane_at(index)).rules.size())
            return Error{what + "has a verdict that does not fit its targets (index " + std::to_string(index) + ")"};
    }
    for (const auto& [index, host] : phase.hosts) {
        if (index >= targets.host_count()) return Error{what + "has a host out of range (" + std::to_string(index) + ")"};
    }
    for (const auto& [index, group] : phase.groups) {
        if (index >= targets.host_count() || group.count > targets.slot_count_of(index))
            return Error{what + "has a group that does not fit its targets (host " + std::to_string(index) + ")"};
    }
    for (const auto& [index, group] : phase.groups) results.restore_group(index, group);
    for (const auto& [index, port] : phase.ports) results.set(index, port);
    for (const auto& [index, host] : phase.hosts) results.restore_host(index, host);
    return true;
}

std::string serialize(const ResumeState& state) {
    std::string out = std::string(kMagic) + ' ' + std::to_string(kResumeFormat) + "\nversion " + escape(kVersion) + '\n';
    for (const auto& arg : state.args) out += "arg " + escape(arg) + '\n';
    out += "seed " + std::to_string(state.seed) + '\n';
    if (state.shard.count > 1) out += "shard " + std::to_string(state.shard.index) + ' ' + std::to_string(state.shard.count) + '\n';
    for (const auto& phase : state.phases) append_phase(out, phase);
    out += std::string(kChecksumTag) + hex16(fnv1a(out)) + '\n';
    return out;
}

Result<ResumeState> parse_resume(std::string_view text) {
    std::string_view rest = text;
    const auto head = words(next_line(rest));
    const auto format = head.size() == 2 && head[0] == kMagic ? number<int>(head[1]) : std::nullopt;
    if (!format) return Error{"not a flagscan resume file"};
    const auto version = words(next_line(rest));
    if (version.size() != 2 || version[0] != "version") return Error{std::string(kCorrupt)};
    if (*format != kResumeFormat || version[1] != escape(kVersion))
        return Error{"resume file from flagscan " + unescape(version[1]).value_or("?") + ", this is " + std::string(kVersion)};
    const auto body = checked_body(text);
    const std::size_t head_size = text.size() - rest.size();
    if (!body || body->size() < head_size) return Error{std::string(kCorrupt)};
    std::string_view lines = body->substr(head_size);
    BodyParser parser;
    for (int number = 3; !lines.empty(); ++number) {
        if (auto error = parser.take(next_line(lines))) return Error{"resume file line " + std::to_string(number) + ": " + *error};
    }
    if (!parser.seeded()) return Error{"resume file has no seed line"};
    return std::move(parser).state();
}

Result<bool> write_resume_file(const std::string& path, const ResumeState& state) {
    const std::string temporary = path + ".tmp";
    Fd fd{::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (!fd) return Error{"cannot write resume file '" + temporary + "': " + error_text(errno)};
    if (auto written = write_all(fd.get(), serialize(state)); !written) {
        ::unlink(temporary.c_str());
        return Error{"cannot write resume file '" + temporary + "': " + written.error()};
    }
    fd.reset();
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        return Error{"cannot write resume file '" + path + "': " + error_text(error)};
    }
    return true;
}

Result<ResumeState> read_resume_file(const std::string& path) {
    Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (!fd) return Error{"cannot read resume file '" + path + "': " + error_text(errno)};
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error{"cannot read resume file '" + path + "': " + error_text(errno)};
        if (n == 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return parse_resume(text);
}

Result<CommandLine> command_line_from_resume(const ResumeState& state) {
    std::vector<const char*> argv{"flagscan"};
    for (const auto& arg : state.args) argv.push_back(arg.c_str());
    auto line = parse_command_line(static_cast<int>(argv.size()), argv.data());
    if (!line) return Error{"resume file's command line no longer parses: " + line.error()};
    if (line->action != CommandLine::Action::scan || !line->config.resume_path.empty())
        return Error{"resume file's command line is not a scan"};
    line->config.seed = state.seed;
    line->config.seed_given = true;
    if (line->config.shard.shard != state.shard)  // --shard auto read another rank, or another engine's
        return Error{"resume file records shard " + shard_text(state.shard) + ", this process is " +
                     describe_shard(line->config.shard) + ": resume each shard with its own file, as the same rank"};
    return line;
}

}  // namespace flagscan

// AddressSet operations and nmap target syntax: addresses, CIDR, octet ranges, names, -iL files.
#include "flagscan/net/text.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/targets/reserved.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

namespace flagscan {

namespace {

// All the separate ranges one target list may expand into (32 MiB of them): octet lists such
// as "1-.-.-.1" are 2^24 ranges each, and a few of them in an -iL file would otherwise take
// gigabytes before any other check could refuse them (found by the fuzzer). A scan of that
// many separate addresses would not fit the result table anyway.
constexpr std::uint64_t max_ranges_in_all = 1u << 22;

std::uint64_t count_of(const Ipv4Range& r) { return std::uint64_t{r.last.value()} - r.first.value() + 1; }

Ipv4 ipv4_of(std::uint64_t value) { return Ipv4{static_cast<std::uint32_t>(value)}; }


bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// ---- octet-range syntax ("10.0.0-3.1,5,7-") ----

using OctetSet = std::bitset<256>;
using Octets = std::array<OctetSet, 4>;

Result<unsigned> parse_octet_value(std::string_view text) {
    unsigned value = 0;
    if (!all_digits(text) || text.size() > 3) return Error{quote_for_error(text) + " is not an octet value 0-255"};
    std::from_chars(text.data(), text.data() + text.size(), value);
    if (value > 255) return Error{quote_for_error(text) + " is not an octet value 0-255"};
    return value;
}

// One list item: "N", "N-M", "N-" (to 255), "-M" (from 0), "-" or "*" (0-255).
Result<bool> parse_octet_item(std::string_view item, OctetSet& set) {
    if (item.empty()) return Error{"empty octet"};
    if (item == "*" || item == "-") {
        set.set();
        return true;
    }
    const std::size_t dash = item.find('-');
    if (dash != std::string_view::npos && item.find('-', dash + 1) != std::string_view::npos)
        return Error{quote_for_error(item) + " is not an octet range"};
    const std::string_view lo_text = item.substr(0, dash);
    const std::string_view hi_text = dash == std::string_view::npos ? lo_text : item.substr(dash + 1);
    Result<unsigned> lo = lo_text.empty() ? Result<unsigned>{0u} : parse_octet_value(lo_text);
    if (!lo) return Error{lo.error()};
    Result<unsigned> hi = hi_text.empty() ? Result<unsigned>{255u} : parse_octet_value(hi_text);
    if (!hi) return Error{hi.error()};
    if (lo.value() > hi.value()) return Error{"range " + std::string(item) + " is reversed"};
    for (unsigned v = lo.value(); v <= hi.value(); ++v) set.set(v);
    return true;
}

Result<Octets> parse_octets(std::string_view text) {
    const std::vector<std::string_view> parts = split_on(text, '.');
    if (parts.size() != 4) return Error{"expected 4 octets separated by '.'"};
    Octets octets;
    for (std::size_t i = 0; i < 4; ++i) {
        if (parts[i].empty()) return Error{"empty octet"};
        for (std::string_view item : split_on(parts[i], ',')) {
            Result<bool> ok = parse_octet_item(item, octets[i]);
            if (!ok) return Error{ok.error()};
        }
    }
    return octets;
}

std::vector<std::pair<unsigned, unsigned>> runs_of(const OctetSet& set) {
    std::vector<std::pair<unsigned, unsigned>> runs;
    for (unsigned v = 0; v < 256; ++v) {
        if (!set.test(v)) continue;
        if (!runs.empty() && runs.back().second + 1 == v) runs.back().second = v;
        else runs.emplace_back(v, v);
    }
    return runs;
}

struct Expansion {
    const Octets& octets;
    std::size_t run_octet;  // octets after this one are all 0-255
    std::vector<std::pair<unsigned, unsigned>> runs;
};

void expand_from(const Expansion& e, std::size_t depth, std::uint32_t prefix, std::vector<Ipv4Range>& out) {
    if (depth == e.run_octet) {
        const unsigned shift = 8 * static_cast<unsigned>(3 - depth);
        const std::uint32_t low = static_cast<std::uint32_t>((std::uint64_t{1} << shift) - 1);
        for (const auto& [lo, hi] : e.runs)
            out.push_back({Ipv4{prefix | (lo << shift)}, Ipv4{prefix | (hi << shift) | low}});
        return;
    }
    for (unsigned v = 0; v < 256; ++v)
        if (e.octets[depth].test(v)) expand_from(e, depth + 1, prefix | (v << (24 - 8 * depth)), out);
}

// Why: a product of octet lists can be 2^32 addresses. Trailing octets that are all 0-255 fold
// into one range per run of the octet before them, so "10.-.-.-" is one range, not 2^24, and
// the output comes out ascending (cheap to add). The remaining count is checked before expanding.
Result<bool> expand_octets(const Octets& octets, std::vector<Ipv4Range>& out) {
    std::size_t run_octet = 3;
    while (run_octet > 0 && octets[run_octet].all()) --run_octet;
    Expansion e{octets, run_octet, runs_of(octets[run_octet])};
    std::uint64_t count = e.runs.size();
    for (std::size_t i = 0; i < run_octet; ++i) count *= octets[i].count();
    if (out.size() + count > max_ranges_in_all)
        return Error{"expands to too many separate ranges (more than " + std::to_string(max_ranges_in_all) + " in all)"};
    if (out.capacity() - out.size() < count)  // grow geometrically: parse_targets calls this per expression
        out.reserve(std::max<std::size_t>(out.size() + count, 2 * out.capacity()));
    expand_from(e, 0, 0, out);
    return true;
}

// ---- CIDR, names ----

Ipv4Range cidr(Ipv4 ip, unsigned prefix) {
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    const std::uint32_t first = ip.value() & mask;
    return {Ipv4{first}, Ipv4{first | ~mask}};
}

std::optional<unsigned> parse_prefix(std::string_view text) {
    unsigned value = 0;
    if (!all_digits(text) || text.size() > 2) return std::nullopt;
    std::from_chars(text.data(), text.data() + text.size(), value);
    if (value > 32) return std::nullopt;
    return value;
}

// A label inet_aton would read as a number (decimal, octal "017" or hex "0x1f").
bool is_numeric_label(std::string_view label) {
    if (label.size() >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X'))
        return std::all_of(label.begin() + 2, label.end(), is_hex);
    return all_digits(label);
}

Result<bool> expand_name(std::string_view expression, std::string_view name, unsigned prefix,
                         const Resolver& resolve, std::vector<Ipv4Range>& out) {
    if (std::optional<std::string> problem = host_name_problem(name)) return bad_target(expression, *problem);
    std::vector<Ipv4> addresses;
    if (resolve) addresses = resolve(name);
    if (addresses.empty()) return false;
    out.push_back(cidr(addresses.front(), prefix));  // the first address, as nmap does
    return true;
}

Result<bool> expand_address(std::string_view expression, std::string_view text, std::optional<unsigned> prefix,
                            std::vector<Ipv4Range>& out) {
    Result<Octets> octets = parse_octets(text);
    if (!octets) return bad_target(expression, octets.error());
    if (!prefix) {
        Result<bool> ok = expand_octets(octets.value(), out);
        if (!ok) return bad_target(expression, ok.error());
        return true;
    }
    std::uint32_t value = 0;
    for (const OctetSet& octet : octets.value()) {
        if (octet.count() != 1) return bad_target(expression, "a prefix cannot be combined with octet ranges");
        value = (value << 8) | runs_of(octet).front().first;
    }
    out.push_back(cidr(Ipv4{value}, *prefix));
    return true;
}

// masscan's and zmap's range "10.0.0.1-10.0.0.9" (two whole addresses): nullopt when `text` is
// not of that shape (then it is nmap's syntax, where '-' ranges one octet: "10.0.0.1-9").
std::optional<Result<Ipv4Range>> address_range(std::string_view text) {
    const std::size_t dash = text.find('-');
    if (dash == std::string_view::npos || std::count(text.begin(), text.end(), '.') != 6) return std::nullopt;
    const auto first = Ipv4::parse(trim(text.substr(0, dash)));
    const auto last = Ipv4::parse(trim(text.substr(dash + 1)));
    if (!first || !last) return std::nullopt;
    if (*last < *first) return Result<Ipv4Range>{Error{"range " + std::string(text) + " is reversed"}};
    return Result<Ipv4Range>{Ipv4Range{*first, *last}};
}

// One expression's ranges, appended to `out` in ascending order; false (and nothing appended)
// when it is a well-formed name that does not resolve.
Result<bool> expand_target(std::string_view expression, const Resolver& resolve, std::vector<Ipv4Range>& out) {
    const std::string_view text = trim(expression);
    if (text.empty()) return bad_target(expression, "empty expression");
    const std::size_t slash = text.find('/');
    const std::string_view host = text.substr(0, slash);
    std::optional<unsigned> prefix;
    if (slash != std::string_view::npos) {
        prefix = parse_prefix(text.substr(slash + 1));
        if (!prefix) return bad_target(text, "prefix must be 0-32");
        if (host.empty()) return bad_target(text, "missing address before '/'");
    }
    if (const auto range = address_range(text)) {
        if (!*range) return bad_target(text, range->error());
        out.push_back(range->value());
        return true;
    }
    if (is_ipv4_syntax(host)) return expand_address(text, host, prefix, out);
    return expand_name(text, host, prefix.value_or(32), resolve, out);
}

// Sorting first makes every add() an append or a merge with the last range: O(n log n) overall.
AddressSet build_set(std::vector<Ipv4Range>& ranges) {
    std::sort(ranges.begin(), ranges.end());
    AddressSet set;
    for (const Ipv4Range& r : ranges) set.add(r);
    return set;
}

// ---- files ----

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// The whole stream into `text`; the errno of a failed read, or 0.
int read_all(std::FILE* file, std::string& text) {
    std::array<char, 65536> buffer;
    while (true) {
        const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file);
        text.append(buffer.data(), n);
        if (n < buffer.size()) break;
    }
    return std::ferror(file) ? (errno != 0 ? errno : EIO) : 0;
}

struct Token {
    std::string text;
    std::size_t line;  // 1-based
};

// Tokens of a target file (`in_file`: separated by whitespace, '#' comments to the end of the
// line, as nmap's -iL reads them, so octet lists like 10.0.0,2.1 stay whole) or of a
// command-line list (separated by whitespace or commas, as nmap's --exclude).
std::vector<Token> tokenize(std::string_view text, bool in_file) {
    const bool comments = in_file;
    std::vector<Token> tokens;
    std::string current;
    std::size_t line = 1;
    bool in_comment = false;
    for (char c : text) {
        const std::size_t line_of_c = line;
        line += c == '\n' ? 1 : 0;
        if (in_comment) {
            in_comment = c != '\n';
            continue;
        }
        const bool ends = is_space(c) || (!in_file && c == ',') || (comments && c == '#');
        if (!ends) {
            current += c;
            continue;
        }
        if (!current.empty()) tokens.push_back(Token{std::move(current), line_of_c});
        current.clear();
        in_comment = comments && c == '#';
    }
    if (!current.empty()) tokens.push_back(Token{std::move(current), line});
    return tokens;
}

// A blocklist's "10.0.0.1 - 10.0.0.9" (masscan writes ranges so too) as one token, "10.0.0.1-10.0.0.9".
std::vector<Token> join_spaced_ranges(std::vector<Token> tokens) {
    std::vector<Token> joined;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const bool spaced = i + 2 < tokens.size() && tokens[i + 1].text == "-" && tokens[i].line == tokens[i + 2].line;
        if (!spaced) {
            joined.push_back(std::move(tokens[i]));
            continue;
        }
        joined.push_back(Token{tokens[i].text + "-" + tokens[i + 2].text, tokens[i].line});
        i += 2;
    }
    return joined;
}

struct AddrinfoFree {
    void operator()(addrinfo* list) const { freeaddrinfo(list); }
};

// A name's addresses of one family (AF_INET: Sockaddr sockaddr_in), each once, in the resolver's
// order; empty when it does not resolve.
template <class Address, class Sockaddr, class Read>
std::vector<Address> system_addresses(std::string_view name, int family, Read read) {
    if (name.empty() || name.find('\0') != std::string_view::npos) return {};
    const std::string host(name);
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
    addrinfo* raw = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &raw) != 0) return {};
    const std::unique_ptr<addrinfo, AddrinfoFree> list(raw);
    std::vector<Address> addresses;
    for (const addrinfo* p = list.get(); p != nullptr; p = p->ai_next) {
        if (p->ai_family != family || p->ai_addr == nullptr || p->ai_addrlen < sizeof(Sockaddr)) continue;
        Sockaddr address{};
        std::memcpy(&address, p->ai_addr, sizeof address);
        const Address ip = read(address);
        if (std::find(addresses.begin(), addresses.end(), ip) == addresses.end()) addresses.push_back(ip);
    }
    return addresses;
}

}  // namespace

// ---- shared with the IPv6 parser ----

Error bad_target(std::string_view expression, std::string_view why) {
    return Error{"bad target " + quote_for_error(expression) + ": " + std::string(why)};
}

std::string cannot_resolve(std::string_view expression) {
    const std::string_view text = trim(expression);
    const std::string_view name = text.substr(0, text.find('/'));
    if (name.size() == text.size()) return "cannot resolve " + quote_for_error(name);
    return "cannot resolve " + quote_for_error(name) + " in target " + quote_for_error(text);
}

std::string origin_of(const TargetExpression& expression) {
    return expression.origin.empty() ? std::string{} : expression.origin + ": ";
}

std::optional<std::string> host_name_problem(std::string_view name) {
    if (name.size() > 254 || (name.size() == 254 && name.back() != '.')) return "host name is too long";
    std::string_view body = name.back() == '.' ? name.substr(0, name.size() - 1) : name;
    bool all_numeric = true;
    for (std::string_view label : split_on(body, '.')) {
        if (label.empty() || label.size() > 63) return "not a valid host name";
        for (char c : label)
            if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_') return "not a valid host name";
        all_numeric = all_numeric && is_numeric_label(label);
    }
    // getaddrinfo would take "0x0a.1" as 10.0.0.1; nmap's syntax is the dotted quad only.
    if (all_numeric) return "not a dotted-quad address (hex, octal and short forms are not accepted)";
    return std::nullopt;
}

bool is_ipv4_syntax(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
        return is_digit(c) || c == '.' || c == ',' || c == '-' || c == '*';
    });
}

// ---- AddressSet ----

// Why: ranges that overlap or touch the new one form one contiguous block of ranges_ (it is
// sorted and disjoint), found by two binary searches and replaced by their union. Only the
// prefix sums from that block on change, so adding in ascending order costs O(log n).
void AddressSet::add(Ipv4Range range) {
    if (range.first > range.last) return;
    const std::uint64_t first = range.first.value();
    const std::uint64_t last = range.last.value();
    auto lo = std::partition_point(ranges_.begin(), ranges_.end(),
                                   [&](const Ipv4Range& r) { return r.last.value() + std::uint64_t{1} < first; });
    auto hi = std::partition_point(lo, ranges_.end(),
                                   [&](const Ipv4Range& r) { return r.first.value() <= last + 1; });
    const auto from = static_cast<std::size_t>(lo - ranges_.begin());
    if (lo == hi) {
        ranges_.insert(lo, range);
    } else {
        lo->first = std::min(lo->first, range.first);
        lo->last = std::max((hi - 1)->last, range.last);
        ranges_.erase(lo + 1, hi);
    }
    rebuild_prefix(from);
}

// A sweep over both sorted lists: each of our ranges keeps the gaps between the other's ranges.
void AddressSet::subtract(const AddressSet& other) {
    const std::vector<Ipv4Range>& cut = other.ranges_;
    std::vector<Ipv4Range> kept;
    std::size_t j = 0;
    for (const Ipv4Range& r : ranges_) {
        while (j < cut.size() && cut[j].last < r.first) ++j;
        std::uint64_t next = r.first.value();
        const std::uint64_t end = r.last.value();
        for (std::size_t k = j; k < cut.size() && next <= end && cut[k].first.value() <= end; ++k) {
            if (cut[k].first.value() > next) kept.push_back({ipv4_of(next), ipv4_of(cut[k].first.value() - 1)});
            next = std::max<std::uint64_t>(next, std::uint64_t{cut[k].last.value()} + 1);
        }
        if (next <= end) kept.push_back({ipv4_of(next), ipv4_of(end)});
    }
    ranges_ = std::move(kept);
    rebuild_prefix(0);
}

void AddressSet::rebuild_prefix(std::size_t from) {
    if (ranges_.empty()) {
        prefix_.clear();
        return;
    }
    prefix_.resize(ranges_.size() + 1);
    prefix_[0] = 0;
    for (std::size_t i = from; i < ranges_.size(); ++i) prefix_[i + 1] = prefix_[i] + count_of(ranges_[i]);
}

std::uint64_t AddressSet::size() const { return prefix_.empty() ? 0 : prefix_.back(); }

Ipv4 AddressSet::at(std::uint64_t index) const {
    if (index >= size()) return Ipv4{};
    const auto above = std::upper_bound(prefix_.begin(), prefix_.end(), index);
    const auto k = static_cast<std::size_t>(above - prefix_.begin()) - 1;
    return ipv4_of(ranges_[k].first.value() + (index - prefix_[k]));
}

bool AddressSet::contains(Ipv4 ip) const {
    const auto after = std::upper_bound(ranges_.begin(), ranges_.end(), ip,
                                        [](Ipv4 v, const Ipv4Range& r) { return v < r.first; });
    return after != ranges_.begin() && ip <= (after - 1)->last;
}

std::optional<std::uint64_t> AddressSet::index_of(Ipv4 ip) const {
    const auto after = std::upper_bound(ranges_.begin(), ranges_.end(), ip,
                                        [](Ipv4 v, const Ipv4Range& r) { return v < r.first; });
    if (after == ranges_.begin() || (after - 1)->last < ip) return std::nullopt;
    const auto k = static_cast<std::size_t>(after - ranges_.begin()) - 1;
    return prefix_[k] + (ip.value() - ranges_[k].first.value());
}

// ---- parsing ----

std::vector<Ipv4> resolve_with_system(std::string_view name) {
    return system_addresses<Ipv4, sockaddr_in>(name, AF_INET, [](const sockaddr_in& sin) { return Ipv4{ntohl(sin.sin_addr.s_addr)}; });
}

std::vector<Ipv6> resolve6_with_system(std::string_view name) {
    return system_addresses<Ipv6, sockaddr_in6>(name, AF_INET6, [](const sockaddr_in6& sin6) {
        return Ipv6::from_bytes(std::span<const std::uint8_t, 16>{sin6.sin6_addr.s6_addr, 16});
    });
}

Result<bool> add_target(AddressSet& out, std::string_view expression, const Resolver& resolve) {
    std::vector<Ipv4Range> ranges;
    Result<bool> ok = expand_target(expression, resolve, ranges);
    if (!ok) return ok;
    if (!ok.value()) return Error{cannot_resolve(expression)};
    if (ranges.size() <= 8) {  // a few inserts beat rebuilding a large set
        for (const Ipv4Range& r : ranges) out.add(r);
        return true;
    }
    ranges.insert(ranges.end(), out.ranges().begin(), out.ranges().end());
    out = build_set(ranges);
    return true;
}

Result<AddressSet> parse_targets(std::span<const std::string> expressions, const Resolver& resolve) {
    std::vector<Ipv4Range> ranges;
    for (const std::string& expression : expressions) {
        Result<bool> ok = expand_target(expression, resolve, ranges);
        if (!ok) return Error{ok.error()};
        if (!ok.value()) return Error{cannot_resolve(expression)};
    }
    return build_set(ranges);
}

namespace {

// One expression's ranges (ranges[from..]) less the reserved blocks it reaches beyond. They
// stay in `ranges` too, so that what the rule left out is the difference of the two sets.
void keep_unreserved(const std::vector<Ipv4Range>& ranges, std::size_t from, ReservedRule rule, std::vector<Ipv4Range>& kept) {
    const std::span<const Ipv4Range> mine{ranges.begin() + static_cast<std::ptrdiff_t>(from), ranges.end()};
    std::vector<Ipv4Range> reserved;
    reserved_to_leave_out(mine, rule, reserved);
    if (reserved.empty()) return kept.insert(kept.end(), mine.begin(), mine.end()), void();
    std::vector<Ipv4Range> copy(mine.begin(), mine.end());
    AddressSet left = build_set(copy);
    left.subtract(build_set(reserved));
    kept.insert(kept.end(), left.ranges().begin(), left.ranges().end());
}

}  // namespace

Result<ParsedTargets> parse_target_list(std::span<const TargetExpression> expressions, const Resolver& resolve,
                                        ReservedRule rule) {
    std::vector<Ipv4Range> ranges;
    std::vector<Ipv4Range> kept;  // rule != keep: ranges less the reserved blocks left out
    std::vector<std::string> unresolved;
    for (const TargetExpression& expression : expressions) {
        const std::size_t from = ranges.size();
        Result<bool> ok = expand_target(expression.text, resolve, ranges);
        if (!ok) return Error{origin_of(expression) + ok.error()};
        if (!ok.value()) unresolved.push_back(origin_of(expression) + cannot_resolve(expression.text));
        if (rule != ReservedRule::keep) keep_unreserved(ranges, from, rule, kept);
    }
    if (rule == ReservedRule::keep) return ParsedTargets{build_set(ranges), std::move(unresolved), {}};
    AddressSet addresses = build_set(kept);
    AddressSet left_out = build_set(ranges);
    left_out.subtract(addresses);
    return ParsedTargets{std::move(addresses), std::move(unresolved), std::move(left_out)};
}

Result<std::vector<TargetExpression>> read_target_file(const std::string& path) {
    std::string text;
    int error = 0;
    errno = 0;
    if (path == "-") {
        error = read_all(stdin, text);
    } else {
        const FilePtr file(std::fopen(path.c_str(), "rb"));
        if (!file) error = errno != 0 ? errno : ENOENT;
        else error = read_all(file.get(), text);
    }
    if (error != 0)
        return Error{"cannot read target file " + quote_for_error(path) + ": " + std::generic_category().message(error)};
    const std::string name = path == "-" ? std::string("stdin") : path;
    std::vector<TargetExpression> expressions;
    for (Token& token : join_spaced_ranges(tokenize(text, true)))
        expressions.push_back(TargetExpression{std::move(token.text), name + " line " + std::to_string(token.line)});
    return expressions;
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> items;
    for (Token& token : tokenize(text, false)) items.push_back(std::move(token.text));
    return items;
}

}  // namespace flagscan

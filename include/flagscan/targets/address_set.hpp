// AddressSet: the scan's IPv4 targets as sorted, disjoint ranges, with parsing of nmap target syntax.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/ipv6.hpp"
#include "flagscan/net/result.hpp"

namespace flagscan {

struct Ipv4Range {
    Ipv4 first;
    Ipv4 last;  // inclusive
    auto operator<=>(const Ipv4Range&) const = default;
};

// A set of IPv4 addresses kept as sorted, disjoint, non-adjacent inclusive ranges.
class AddressSet {
public:
    void add(Ipv4Range range);
    void add(Ipv4 ip) { add(Ipv4Range{ip, ip}); }
    void subtract(const AddressSet& other);

    std::uint64_t size() const;            // number of addresses
    bool empty() const { return ranges_.empty(); }
    Ipv4 at(std::uint64_t index) const;    // index < size(); O(log ranges)
    bool contains(Ipv4 ip) const;          // O(log ranges)
    std::optional<std::uint64_t> index_of(Ipv4 ip) const;  // inverse of at(); O(log ranges)
    const std::vector<Ipv4Range>& ranges() const { return ranges_; }

private:
    void rebuild_prefix(std::size_t from);  // recomputes prefix_ for ranges_[from..]
    std::vector<Ipv4Range> ranges_;
    std::vector<std::uint64_t> prefix_;  // prefix_[i] = addresses in ranges_[0..i)
};

// Turns a host name into its IPv4 addresses; empty result when it does not resolve.
using Resolver = std::function<std::vector<Ipv4>(std::string_view name)>;

// The system resolver (getaddrinfo, AF_INET only).
std::vector<Ipv4> resolve_with_system(std::string_view name);

// The same for an IPv6 scan (targets/ipv6_targets.hpp): a name's IPv6 addresses (AAAA).
using Resolver6 = std::function<std::vector<Ipv6>(std::string_view name)>;

// The system resolver (getaddrinfo, AF_INET6 only: no IPv4-mapped answers).
std::vector<Ipv6> resolve6_with_system(std::string_view name);

// One target expression and where it was read, so that a message about it can say where.
struct TargetExpression {
    std::string text;
    std::string origin;  // "" on the command line; "FILE line N" in an -iL or --excludefile file
    friend bool operator==(const TargetExpression&, const TargetExpression&) = default;
};

// One target expression in nmap syntax into `out`:
//   "10.0.0.1"        one address
//   "10.0.0.0/24"     CIDR (/0../32), the address need not be the network address
//   "10.0.0-3.1-254"  octet ranges and lists per octet: "10.0.0,2.1-5", "10.0.0.-" (0-255)
//   "10.0.0.1-10.0.1.9" a range of whole addresses (masscan's, zmap's blocklists)
//   "host.example"    a name, resolved once with `resolve`; the first address is used, as nmap does
//   "host.example/30" a name with a prefix
// Errors are one line naming the bad expression, e.g. "bad target '10.0.0.0/33': prefix must be 0-32".
Result<bool> add_target(AddressSet& out, std::string_view expression, const Resolver& resolve);

// All expressions; fails on the first bad one, or the first name that does not resolve.
Result<AddressSet> parse_targets(std::span<const std::string> expressions, const Resolver& resolve);

// What a list of targets gave: its addresses, and a line per name that did not resolve
// ("targets.txt line 3: cannot resolve 'gone.example'"), which nmap warns about and skips.
struct ParsedTargets {
    AddressSet addresses;
    std::vector<std::string> unresolved;
    AddressSet reserved_left_out;  // what the ReservedRule took out of the expressions' addresses
};

// Which reserved blocks (targets/reserved.hpp: RFC 6890) a target list leaves out.
enum class ReservedRule : std::uint8_t {
    keep,            // all of them: an --exclude list, a replay
    skip_implied,    // every block that an expression only reaches as part of a larger range
    skip_multicast,  // --include-reserved: only multicast and broadcast, on the same rule
};

// All expressions; a bad one fails the whole list with a line naming it and, when it came
// from a file, the file and line ("targets.txt line 3: bad target ..."); names that do not
// resolve are left out and listed. `rule` says which reserved blocks each expression leaves out
// (reserved.hpp: those it only reaches as part of a larger range); an address another
// expression names is kept.
Result<ParsedTargets> parse_target_list(std::span<const TargetExpression> expressions, const Resolver& resolve,
                                        ReservedRule rule = ReservedRule::keep);

// The expressions in a file for -iL / --excludefile: separated by whitespace (as nmap reads
// them), '#' starts a comment to end of line (a whole line or after an entry); "-" reads
// standard input. zmap's and masscan's blocklists read so too: CIDRs, addresses, and ranges
// "10.0.0.1-10.0.0.9" or "10.0.0.1 - 10.0.0.9" (one expression). Each one's origin is
// "PATH line N" ("stdin line N" for "-"). A missing or unreadable file is an error naming it.
Result<std::vector<TargetExpression>> read_target_file(const std::string& path);

// Splits "a,b,c" (the --exclude argument) into expressions.
std::vector<std::string> split_list(std::string_view text);

// What the IPv4 and the IPv6 parsers (ipv6_targets.hpp) say alike:
// "bad target 'EXPRESSION': WHY".
Error bad_target(std::string_view expression, std::string_view why);
// "cannot resolve 'name'", or "cannot resolve 'name' in target 'name/24'".
std::string cannot_resolve(std::string_view expression);
// "FILE line N: " before a message about an expression read from a file; "" on the command line.
std::string origin_of(const TargetExpression& expression);
// Why `name` is not a host name (letters, digits, '-', '_' and '.', labels of 1-63 characters,
// at most 253 in all, not all numeric labels as inet_aton reads them); nullopt when it is one.
std::optional<std::string> host_name_problem(std::string_view name);
// True when `text` (a target without its "/prefix") is written in nmap's IPv4 syntax: digits,
// '.', ',', '-' and '*' only ("10.0.0.1", "10.0.0-3.1,5").
bool is_ipv4_syntax(std::string_view text);

}  // namespace flagscan

// --explain and --explain-rules: the verdicts in plain English, for students of TCP.
#include "flagscan/output/explain.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "flagscan/net/address_text.hpp"
#include "flagscan/net/translate6.hpp"

namespace flagscan {
namespace {

constexpr std::size_t kWidth = 92;

// An IPv6 scan reads its replies by the IPv4 rule tables, as a stateless translator would pass
// them on (RFC 7915 5.2); the explanation says so once, before the rules that name ICMP codes.
constexpr std::string_view kIpv6Note =
    "the scan went over IPv6. Its ICMPv6 errors are read as the ICMP errors RFC 7915 5.2 turns them into, so "
    "the rules below name ICMP codes: destination unreachable 1/4 (port unreachable) as 3/3, 1/1 (administratively "
    "prohibited; and 1/5, 1/6, policy refusals) as 3/13 (nmap's admin-prohibited, where the RFC says 3/10), 1/0, 1/2 and 1/3 (no route, beyond scope, address unreachable) as 3/1; packet too big "
    "as 3/4; time exceeded 3/x as 11/x; parameter problem 4/0 as 12/0 and 4/1 as 3/2; echo reply 129 as 0. The "
    "reports' \"ttl\" is IPv6's hop limit.";

// Prints `text` wrapped at kWidth, the first line after `label`, the others indented to match.
void wrapped(std::ostream& out, std::string_view label, std::string_view text) {
    const std::string indent(label.size(), ' ');
    std::istringstream words{std::string(text)};
    std::string word, line{label};
    bool empty = true;
    while (words >> word) {
        if (!empty && line.size() + 1 + word.size() > kWidth) {
            out << line << '\n';
            line = indent;
            empty = true;
        }
        line += (empty ? "" : " ") + word;
        empty = false;
    }
    out << line << '\n';
}

// Microseconds in words: "0.10 ms", "250.00 ms", "3.20 s".
std::string duration(Micros us) {
    char text[32];
    if (us < kSecond) std::snprintf(text, sizeof text, "%.2f ms", static_cast<double>(us) / kMillisecond);
    else std::snprintf(text, sizeof text, "%.2f s", static_cast<double>(us) / kSecond);
    return text;
}

std::string probe_words(const ProbeKind& kind, bool ipv6 = false) {
    if (kind.protocol == ipproto::udp) return "a UDP datagram, carrying the port's protocol payload when one is known";
    if (kind.icmp_type == icmp_type::echo && ipv6) return "an ICMPv6 echo request (type 128, RFC 4443 4.1)";
    if (kind.icmp_type == icmp_type::echo) return "an ICMP echo request (type 8)";
    if (kind.icmp_type == icmp_type::timestamp) return "an ICMP timestamp request (type 13)";
    return kind.flags.bits() == 0 ? std::string("a TCP segment with no flags at all")
                                  : "a TCP segment with " + kind.flags.str() + " set";
}

std::string icmp_type_words(std::uint8_t type) {
    switch (type) {
        case icmp_type::unreachable: return "destination unreachable";
        case icmp_type::source_quench: return "source quench";
        case icmp_type::redirect: return "redirect";
        case icmp_type::time_exceeded: return "time exceeded";
        case icmp_type::parameter_problem: return "parameter problem";
        default: return "type " + std::to_string(type);
    }
}

// "a, b or c" (Oxford comma: "a, b, or c").
std::string joined(const std::vector<std::string>& items, bool oxford = false) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += i + 1 < items.size() ? ", " : (oxford && items.size() > 2 ? ", or " : " or ");
        out += items[i];
    }
    return out;
}

// An IPv6 scan's ICMP evidence is ICMPv6 that the scan read as ICMP TYPE/CODE: the ICMPv6
// message(s) translate6's table (icmp6_readings) reads so, in RFC 4443's words.
std::string icmp6_words(std::uint8_t type, std::uint8_t code) {
    std::vector<const Icmp6Reading*> rows;
    for (const Icmp6Reading& row : icmp6_readings())
        if (row.type4 == type && (row.code4 == Icmp6Reading::kept || row.code4 == code)) rows.push_back(&row);
    const std::string read_as = "; read as ICMP " + std::to_string(type) + "/" + std::to_string(code) + ", RFC 7915 5.2)";
    if (rows.empty()) return "ICMPv6 message (read as ICMP type " + std::to_string(type) + " code " + std::to_string(code) + ")";
    std::vector<std::string> codes, meanings;
    for (const auto* row : rows) {
        if (row->code6 != Icmp6Reading::any) codes.push_back(std::to_string(row->code6));
        else if (row->code4 == Icmp6Reading::kept) codes.push_back(std::to_string(code));
        if (!row->meaning.empty()) meanings.emplace_back(row->meaning);
    }
    const Icmp6Reading& first = *rows.front();
    const std::string what = meanings.empty() ? "type " + std::to_string(first.type6) : joined(meanings, true);
    return "ICMPv6 " + std::string(first.name) + (codes.empty() ? "" : ", code " + joined(codes)) + " (" + what + ", " +
           std::string(first.section) + read_as;
}

// "ttl 64", or over IPv6 "hop limit 64" (RFC 8200 3: the field that replaced it).
std::string ttl_words(const TargetSet& targets, std::uint8_t ttl) {
    return (targets.ipv6() ? "hop limit " : "ttl ") + std::to_string(ttl);
}

// Who sent an ICMP error: the target, or someone on the way (RFC 1812 4.3.2: a router may
// report about a datagram it forwards; only the target's own word is about its port).
std::string icmp_sender(const TargetSet& targets, Ipv4 from, Ipv4 target) {
    if (from.value() == 0) return "";
    const std::string text = targets.address_text(from);
    return from == target ? ", from " + text + " (the target itself)" : ", from " + text + ", a router, not the target";
}

std::string reply_words(const TargetSet& targets, const PortResult& port, const PortEvidence& seen, Ipv4 ip, Port number) {
    const std::string after = port.rtt_us ? ", after " + duration(port.rtt_us) : "";
    const std::string from = " from " + endpoint_text(targets.address_text(ip), number);
    if (port.reply_kind == ReplyEvidence::Kind::udp) return "a UDP datagram" + from + ", " + ttl_words(targets, port.ttl) + after + ".";
    if (port.reply_kind == ReplyEvidence::Kind::icmp_unreachable) {
        const std::string what = targets.ipv6() ? icmp6_words(icmp_type::unreachable, port.icmp_code) + " "
                                                : "ICMP destination unreachable, code " + std::to_string(port.icmp_code) + " ";
        return what + "(" + std::string(to_string(port.reason)) + ")" + icmp_sender(targets, seen.reply_from, ip) + ", " +
               ttl_words(targets, port.ttl) + after + ".";
    }
    return TcpFlags{port.reply_flags}.str() + from + ", " + ttl_words(targets, port.ttl) + ", window " +
           std::to_string(port.reply_window) + after + ".";
}

// A packet about the port that decided nothing: what it was.
std::string unused_packet(const TargetSet& targets, const PortEvidence& seen, Ipv4 ip, Port number) {
    const std::string from_port = " from " + endpoint_text(targets.address_text(ip), number);
    const std::string sender = icmp_sender(targets, seen.reply_from, ip);
    if (seen.unused_protocol == ipproto::icmp && targets.ipv6())
        return "an " + icmp6_words(seen.unused_detail, seen.unused_code) + sender + ", about a probe to this port";
    if (seen.unused_protocol == ipproto::icmp)
        return "an ICMP " + icmp_type_words(seen.unused_detail) + " (type " + std::to_string(seen.unused_detail) + " code " +
               std::to_string(seen.unused_code) + ")" + sender + ", about a probe to this port";
    if (seen.unused_protocol == ipproto::udp) return "a UDP datagram" + from_port;
    if (seen.unused == Unused::cut) return "a TCP segment" + from_port;
    return "a " + TcpFlags{seen.unused_detail}.str() + from_port;
}

// "Back:" when no reply decided: nothing, or what came and why it was not used.
std::string nothing_words(const TargetSet& targets, const PortEvidence& seen, const ProbeKind& kind, Ipv4 ip, Port number) {
    const std::string packet = unused_packet(targets, seen, ip, number);
    const bool icmp = seen.unused_protocol == ipproto::icmp;
    if (seen.unused != Unused::none && icmp && seen.unused_detail != icmp_type::unreachable)
        return "nothing that decides. The capture holds " + packet + ", but of the ICMP errors only destination " +
               "unreachable speaks of a port (RFC 1122 3.2.2.1" + (targets.ipv6() ? "; for ICMPv6, RFC 4443 3.1" : "") +
               "); this one says something about the path, not the port, so it decides nothing.";
    switch (seen.unused) {
        case Unused::none: return "nothing.";
        case Unused::stray:
            return "nothing that answers the probes. The capture holds " + packet +
                   ", but it carries none of their sequence numbers and source ports back, so it answers some other "
                   "packet (another connection, another scanner, or a try the scan did not record).";
        case Unused::unmatched:
            return "nothing that decides. The capture holds " + packet + ", an answer to one of the probes, but no row of the " +
                   std::string(kind.name) + " table reads that reply, so it says nothing about the port.";
        case Unused::cut:
            return "nothing that can be read. The capture holds " + packet +
                   ", cut short before the end of its header (the capture's snaplen, or a malformed packet): what it "
                   "says cannot be read, so it decides nothing.";
    }
    return "nothing.";
}

std::string tries_words(unsigned tries) { return std::to_string(tries) + (tries == 1 ? " try" : " tries"); }

// " from source port 53", " from source ports 45322 and 45324"; empty when not recorded.
std::string source_ports(const PortResult& port, const PortEvidence& seen) {
    if (!seen.tries_known || seen.sport == 0) return "";
    const std::string first = std::to_string(seen.first_sport), last = std::to_string(seen.sport);
    if (port.tries <= 1 || first == last) return " from source port " + last;
    if (port.tries == 2) return " from source ports " + first + " and " + last;
    return " from source ports " + first + " (the first) to " + last + " (the last)";
}

// The waits a port's silent tries show: between the tries, and after the last one. Without the
// tries' evidence (a port restored by --resume) the same words, without numbers.
std::string waits_words(const PortResult& port, const PortEvidence& seen, const ExplainContext& context) {
    if (!seen.tries_known)
        return context.replay ? "; the capture shows no answer that decides after the last one."
                              : "; after the last one flagscan waited out this host's retransmission timeout and gave up.";
    const std::string who = context.replay ? "the scanner" : "flagscan";
    std::string text;
    if (port.tries == 2) text = "; " + who + " waited " + duration(seen.tries_span_us) + " between them";
    if (port.tries > 2)
        text = "; " + who + " spread them over " + duration(seen.tries_span_us) + " (" +
               duration(seen.tries_span_us / (port.tries - 1u)) + " apart on average)";
    if (context.replay)
        return text + "; the capture shows no answer that decides in the " + duration(seen.waited_us) +
               " from the last one to its end.";
    return text + "; after the last one flagscan waited " + duration(seen.waited_us) +
           " (this host's retransmission timeout) and gave up.";
}

std::string sent_words(const PortResult& port, const PortEvidence& seen, const ProbeKind& kind, const ExplainContext& context) {
    const std::string flags = kind.protocol == ipproto::tcp ? kind.flags.str() : std::string(kind.name);
    const std::string what = std::string(kind.name) + " probe" + (flags == kind.name ? "" : " (" + flags + ")");
    if (port.reply_kind == ReplyEvidence::Kind::none)
        return what + ", " + tries_words(port.tries) + source_ports(port, seen) + waits_words(port, seen, context);
    const std::string from = seen.sport != 0 ? ", from source port " + std::to_string(seen.sport) : "";
    return what + ", try " + std::to_string(port.answered_try + 1) + " of " + std::to_string(port.tries) + from + ".";
}

void explain_port(std::ostream& out, const Results& results, std::uint64_t index, const ExplainContext& context,
                  std::string_view note) {
    const auto target = results.targets().at(index);
    const auto& port = results.port(index);
    const PortEvidence seen = results.evidence(index);
    const ProbeKind& kind = results.kind(target.lane);
    out << "  " << target.port.value() << '/' << protocol_name(kind) << " is " << to_string(port.state) << note << '\n';
    wrapped(out, "    Sent:   ", sent_words(port, seen, kind, context));
    const TargetSet& targets = results.targets();
    wrapped(out, "    Back:   ", port.reply_kind == ReplyEvidence::Kind::none
                                     ? nothing_words(targets, seen, kind, target.ip, target.port)
                                     : reply_words(targets, port, seen, target.ip, target.port));
    if (port.rule < kind.rules.size()) {
        const Rule& rule = kind.rules[port.rule];
        wrapped(out, "    Rule " + std::to_string(port.rule + 1) + ": ", describe_rule(rule, kind.purpose));
        wrapped(out, "    Why:    ", rule.basis);
    }
}

// Two verdicts rest on the same evidence when the same row matched the same kind of packet from
// the same kind of sender (the target or a router), or the same packet came and was not used.
bool same_evidence(const Results& results, std::uint64_t a, std::uint64_t b, Ipv4 host) {
    const auto signature = [&results, host](std::uint64_t index) {
        const PortResult& p = results.port(index);
        const PortEvidence e = results.evidence(index);
        return std::tuple{p.rule, p.reply_kind, p.reply_flags, p.icmp_code, e.reply_from.value() == 0 || e.reply_from == host,
                          e.unused, e.unused_protocol, e.unused_detail, e.unused_code};
    };
    return signature(a) == signature(b);
}

// A group the report folds into "Not shown", explained by one sample of each kind of evidence in
// it (the others of a kind were decided the same way; a group with several kinds says so).
void explain_sample(std::ostream& out, const Results& results, std::uint32_t host, const NotShown& group,
                    const ExplainContext& context) {
    const auto& targets = results.targets();
    const Ipv4 address = targets.hosts().at(host);
    std::vector<std::pair<std::uint64_t, std::uint32_t>> samples;  // (first port of a kind of evidence, ports with it)
    for (const PlacedSlot placed : targets.slots_of(host)) {
        const std::uint64_t index = placed.index;  // a variable, not a binding: the lambda below takes it
        const auto& port = results.port(index);
        if (placed.slot.lane != group.lane || port.state != group.state || port.reason != group.reason) continue;
        auto it = std::find_if(samples.begin(), samples.end(),
                               [&](const auto& s) { return same_evidence(results, s.first, index, address); });
        if (it == samples.end()) samples.emplace_back(index, 1);
        else ++it->second;
    }
    const std::string of = " (a sample of the " + std::to_string(group.count) + " " + std::string(to_string(group.state)) +
                           " ports not listed with reason " + std::string(to_string(group.reason)) + "; ";
    for (const auto& [index, alike] : samples) {
        const std::string others = alike == group.count ? "the others were decided the same way)"
                                   : alike == 1         ? "the only one decided on this evidence)"
                                                        : std::to_string(alike) + " of them, this one included, were decided on this evidence)";
        explain_port(out, results, index, context, of + others);
    }
}

// One lane of a host: its listed ports, one sample of each group it folds, its caveat.
void explain_lane(std::ostream& out, const Results& results, std::uint32_t host, std::uint8_t lane,
                  const ReportOptions& options, const ExplainContext& context) {
    const ProbeKind& kind = results.kind(lane);
    const auto& targets = results.targets();
    out << "Why each " << protocol_name(kind) << " port of " << targets.host_text(host) << " is in its state ("
        << kind.name << " scan: " << probe_words(kind, targets.ipv6()) << "):\n";
    const HostListing listing = host_listing(results, host, options);
    for_each_listed_port(results, host, listing, [&](std::uint64_t index) {
        if (targets.at(index).lane == lane) explain_port(out, results, index, context, "");
    });
    for (const NotShown& group : listing.not_shown) {
        if (group.lane == lane) explain_sample(out, results, host, group, context);
    }
    wrapped(out, "  Caveat: ", kind.caveat);
    out << '\n';
}

void explain_host(std::ostream& out, const Results& results, std::uint32_t host, const ReportOptions& options,
                  const ExplainContext& context) {
    for (std::uint8_t lane = 0; lane < results.targets().lane_count(); ++lane)
        explain_lane(out, results, host, lane, options, context);
}

}  // namespace

std::string describe_rule(const Rule& rule, Purpose purpose) {
    std::string reply{rule.reply_text};
    const std::string reason = rule.reason == Reason::none ? "reason from the ICMP code" : std::string(to_string(rule.reason));
    const std::string when = rule.kind == ReplyEvidence::Kind::none ? " back, after every try" : " back";
    const bool host = purpose == Purpose::host_discovery;  // its rows speak of the host (see Purpose)
    const std::string state = host ? (rule.state == PortState::open ? "host up" : "host not seen")
                                   : std::string(to_string(rule.state));
    return reply + when + " -> " + state + " (" + reason + ")";
}

void write_rule_table(std::ostream& out, const ProbeKind& kind) {
    const bool host = kind.purpose == Purpose::host_discovery;
    out << kind.name << (host ? " discovery (" : " scan (") << kind.nmap_flag << "): the probe is " << probe_words(kind)
        << ".\n";
    for (std::size_t i = 0; i < kind.rules.size(); ++i) {
        const Rule& rule = kind.rules[i];
        wrapped(out, "  " + std::to_string(i + 1) + ". ", describe_rule(rule, kind.purpose));
        wrapped(out, "     ", rule.basis);
    }
    out << "  Any other reply matches no row and says nothing about the " << (host ? "host" : "port") << ".\n";
    wrapped(out, "Caveat: ", kind.caveat);
}

void write_explanations(std::ostream& out, const Results& results, const ReportOptions& options,
                        const ExplainContext& context) {
    for (const auto& sentence : context.shaping) wrapped(out, "Probes: ", sentence);
    if (results.targets().ipv6()) wrapped(out, "IPv6:   ", kIpv6Note);
    const auto hosts = static_cast<std::uint32_t>(results.targets().host_count());
    for (std::uint32_t host = 0; host < hosts; ++host) {
        if (host_is_reported(results, host, options)) explain_host(out, results, host, options, context);
    }
}

}  // namespace flagscan

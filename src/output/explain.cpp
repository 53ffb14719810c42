// --explain and --explain-rules: the verdicts in plain English, for students of TCP.
#include "flagscan/output/explain.hpp"

#include <cstdio>
#include <sstream>
#include <string>

namespace flagscan {
namespace {

constexpr std::size_t kWidth = 92;

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

std::string milliseconds(Micros us) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f ms", static_cast<double>(us) / kMillisecond);
    return text;
}

std::string probe_words(const ProbeKind& kind) {
    if (kind.protocol == ipproto::udp) return "a UDP datagram, carrying the port's protocol payload when one is known";
    if (kind.icmp_type == icmp_type::echo) return "an ICMP echo request (type 8)";
    if (kind.icmp_type == icmp_type::timestamp) return "an ICMP timestamp request (type 13)";
    return kind.flags.bits() == 0 ? std::string("a TCP segment with no flags at all")
                                  : "a TCP segment with " + kind.flags.str() + " set";
}

std::string reply_words(const PortResult& port, Ipv4 ip, Port number) {
    if (port.reply_kind == ReplyEvidence::Kind::none) return "nothing.";
    if (port.reply_kind == ReplyEvidence::Kind::udp)
        return "a UDP datagram from " + ip.str() + ":" + std::to_string(number.value()) + ", ttl " + std::to_string(port.ttl) +
               (port.rtt_us ? ", after " + milliseconds(port.rtt_us) : "") + ".";
    if (port.reply_kind == ReplyEvidence::Kind::icmp_unreachable)
        return "ICMP destination unreachable, code " + std::to_string(port.icmp_code) + " (" + std::string(to_string(port.reason)) +
               "), ttl " + std::to_string(port.ttl) + (port.rtt_us ? ", after " + milliseconds(port.rtt_us) : "") + ".";
    return TcpFlags{port.reply_flags}.str() + " from " + ip.str() + ":" + std::to_string(number.value()) + ", ttl " +
           std::to_string(port.ttl) + ", window " + std::to_string(port.reply_window) +
           (port.rtt_us ? ", after " + milliseconds(port.rtt_us) : "") + ".";
}

std::string sent_words(const PortResult& port, const ProbeKind& kind, std::uint8_t lane, const ExplainContext& context) {
    const std::string flags = kind.protocol == ipproto::tcp ? kind.flags.str() : std::string(kind.name);
    const std::string what = std::string(kind.name) + " probe" + (flags == kind.name ? "" : " (" + flags + ")");
    const auto port_of_try = [&](unsigned try_no) {
        return std::to_string(context.me.sport_for(lane, static_cast<std::uint8_t>(try_no), kind.protocol).value());
    };
    const std::string first = port_of_try(0), last = port_of_try(port.tries - 1u);
    if (port.reply_kind == ReplyEvidence::Kind::none)
        return what + ", " + std::to_string(port.tries) + (port.tries == 1 ? " try" : " tries") + " from source port" +
               (first == last ? " " + first : "s " + first + "-" + last) + "; after the last one flagscan waited " +
               milliseconds(context.timeout) + " (the retransmission timeout) and gave up.";
    return what + ", try " + std::to_string(port.answered_try + 1) + " of " + std::to_string(port.tries) +
           ", from source port " + port_of_try(port.answered_try) + ".";
}

void explain_port(std::ostream& out, const Results& results, std::uint64_t index, const ExplainContext& context,
                  std::string_view note) {
    const auto target = results.targets().at(index);
    const auto& port = results.port(index);
    const ProbeKind& kind = results.kind(target.lane);
    out << "  " << target.port.value() << '/' << protocol_name(kind) << " is " << to_string(port.state) << note << '\n';
    wrapped(out, "    Sent:   ", sent_words(port, kind, target.lane, context));
    wrapped(out, "    Back:   ", reply_words(port, target.ip, target.port));
    if (port.rule < kind.rules.size()) {
        const Rule& rule = kind.rules[port.rule];
        wrapped(out, "    Rule " + std::to_string(port.rule + 1) + ": ", describe_rule(rule, kind.purpose));
        wrapped(out, "    Why:    ", rule.basis);
    }
}

// The first port of a group the report folds into "Not shown", explained for all of them.
void explain_sample(std::ostream& out, const Results& results, std::uint32_t host, const NotShown& group,
                    const ExplainContext& context) {
    const auto& targets = results.targets();
    const std::uint64_t slots = targets.slot_count();
    for (const std::uint32_t i : targets.report_order()) {
        const std::uint64_t index = host * slots + i;
        const auto& port = results.port(index);
        if (targets.slots()[i].lane != group.lane || port.state != group.state || port.reason != group.reason) continue;
        explain_port(out, results, index, context,
                     " (a sample of the " + std::to_string(group.count) + " " + std::string(to_string(group.state)) +
                         " ports not listed with reason " + std::string(to_string(group.reason)) +
                         "; the others were decided the same way)");
        return;
    }
}

// One lane of a host: its listed ports, one sample of each group it folds, its caveat.
void explain_lane(std::ostream& out, const Results& results, std::uint32_t host, std::uint8_t lane,
                  const ReportOptions& options, const ExplainContext& context) {
    const ProbeKind& kind = results.kind(lane);
    const auto& targets = results.targets();
    out << "Why each " << protocol_name(kind) << " port of " << targets.hosts().at(host).str() << " is in its state ("
        << kind.name << " scan: " << probe_words(kind) << "):\n";
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
    const auto hosts = static_cast<std::uint32_t>(results.targets().host_count());
    for (std::uint32_t host = 0; host < hosts; ++host) {
        if (host_is_reported(results, host, options)) explain_host(out, results, host, options, context);
    }
}

}  // namespace flagscan

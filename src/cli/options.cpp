// Command-line parsing with cxxopts, after translating nmap's spellings into long options.
#include "flagscan/cli/options.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <cxxopts.hpp>
#include <limits>

#include "flagscan/output/formats.hpp"
#include "flagscan/probe/spoof_mac.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/targets/ipv6_targets.hpp"
#include "flagscan/targets/port_list.hpp"
#include "flagscan/net/text.hpp"

namespace flagscan {
namespace {

struct NmapSpelling {
    std::string_view nmap;  // as typed
    std::string_view long_form;
};

// nmap flags of more than one letter; the value, when any, follows as the next argument.
constexpr std::array<NmapSpelling, 15> kSpellings{{
    {"-Pn", "--skip-discovery"},
    {"-PE", "--ping-echo"},
    {"-PP", "--ping-timestamp"},
    {"-PR", "--ping-arp"},
    {"-iL", "--input-file"},
    {"-oJ", "--output-json"},
    {"-oN", "--output-normal"},
    {"-oX", "--output-xml"},
    {"-oG", "--output-grepable"},
    {"-oA", "--output-all"},
    {"-sn", "--ping-scan"},
    {"-sL", "--list-scan"},
    {"-sT", "--connect"},
    {"-sU", "--udp"},
    {"-sV", "--service-version"},
}};

std::string translate_one(const std::string& arg) {
    for (const auto& [nmap, long_form] : kSpellings) {
        if (arg == nmap) return std::string(long_form);
    }
    if (arg.size() == 3 && arg[0] == '-' && arg[1] == 's') {  // -sS, -sF, ...: the TCP probe kinds
        if (const ProbeKind* kind = probe_kind_by_letter(arg[2])) return std::string(kind->long_flag);
        return "--scan-type=" + arg.substr(2);  // rejected later with a clear message
    }
    if (arg.size() > 2 && arg.rfind("-p", 0) == 0 && arg[2] != '-' ) return "--ports=" + arg.substr(2);
    // -PS, -PS22,443, -PA80, -PU53: ping methods with their ports glued on, as nmap writes them.
    for (const auto& [nmap, long_form] : std::array<NmapSpelling, 3>{{{"-PS", "--ping-syn"}, {"-PA", "--ping-ack"},
                                                                     {"-PU", "--ping-udp"}}}) {
        if (arg.rfind(nmap, 0) == 0) return std::string(long_form) + "=" + (arg.size() > 3 ? arg.substr(3) : "default");
    }
    if (arg == "-p-") return "--ports=-";
    return arg;
}

// --checks' optional value as a separate argument: a keyword, or names shaped like checks'
// (lower case, digits, '-' and ',', a '-' in each: "ftp-anon,ssh-v1"), never a target (a
// target shaped so goes before --checks, or --checks=safe is written).
bool is_checks_value(std::string_view arg) {
    if (arg == "list" || arg == "safe" || arg == "intrusive") return true;
    if (arg.empty() || arg.front() == '-' || arg.find('-') == std::string_view::npos) return false;
    return std::all_of(arg.begin(), arg.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == ','; });
}

cxxopts::Options make_options() {
    cxxopts::Options options("flagscan", "flagscan: a port scanner that crafts its own packets (libnet) and reads the "
                                         "replies (libpcap).\nnmap's spellings work: -sS -Pn -p- -T4 -oJ FILE.");
    options.custom_help("[options] TARGET...\n\n  TARGET: 10.0.0.1, 10.0.0.0/24, 10.0.0-3.1-254, 10.0.0.1,3, host.name;\n"
                        "  IPv6: fd00::1, fd00:1::/120, fd00::1-fd00::ff, -6 host.name");
    // clang-format off
    options.add_options("Targets")
        ("input-file", "read targets from FILE (- for stdin)  [nmap: -iL]", cxxopts::value<std::vector<std::string>>())
        ("exclude", "exclude these targets (comma-separated)", cxxopts::value<std::vector<std::string>>())
        ("excludefile", "exclude the targets listed in FILE: nmap's syntax, or a zmap/masscan blocklist "
                        "(CIDRs, addresses, ranges a.b.c.d-e.f.g.h, # comments)", cxxopts::value<std::vector<std::string>>())
        ("6,ipv6", "scan IPv6 targets (implied by an IPv6 address, prefix or range among the targets); names "
                   "resolve to their IPv6 addresses  [nmap: -6]")
        ("include-reserved", "scan the reserved blocks of RFC 6890 (10/8, 127/8, 240/4, ...) also where a target "
                             "only reaches them as part of a larger range (0.0.0.0/0); multicast and broadcast never")
        ("n,no-dns", "never do reverse DNS lookups")
        ("skip-discovery", "treat every host as up: no ping before the port scan  [nmap: -Pn]")
        ("ping-echo", "discover hosts with ICMP echo  [nmap: -PE]")
        ("ping-timestamp", "discover hosts with ICMP timestamp  [nmap: -PP]")
        ("ping-syn", "discover hosts with TCP SYN to PORTS (default 80)  [nmap: -PS[ports]]", cxxopts::value<std::string>())
        ("ping-ack", "discover hosts with TCP ACK to PORTS (default 80)  [nmap: -PA[ports]]", cxxopts::value<std::string>())
        ("ping-udp", "discover hosts with UDP to PORTS (default 40125)  [nmap: -PU[ports]]", cxxopts::value<std::string>())
        ("ping-arp", "discover hosts on the local network with ARP  [nmap: -PR]");
    options.add_options("Ports and scan type")
        ("p,ports", "ports: 22,80,1000-2000, service names (ssh,http*), T:/U: prefixes; - for all  "
                    "[nmap: -p, -p-]", cxxopts::value<std::string>())
        ("top-ports", "scan the N most common ports (default 1000); with -p, the N most common of "
                      "those", cxxopts::value<std::size_t>())
        ("F,fast", "scan the 100 most common ports")
        ("syn", "TCP SYN scan (default)  [nmap: -sS]")
        ("fin", "TCP FIN scan  [nmap: -sF]")
        ("null", "TCP NULL scan: no flags  [nmap: -sN]")
        ("xmas", "TCP XMAS scan: FIN+PSH+URG  [nmap: -sX]")
        ("ack", "TCP ACK scan: maps firewall rules  [nmap: -sA]")
        ("window", "TCP Window scan  [nmap: -sW]")
        ("maimon", "TCP Maimon scan: FIN+ACK  [nmap: -sM]")
        ("scanflags", "send these TCP flags (SYNFIN, URGPSHFIN, 0x29); replies are read like the -s kind "
                      "given with it, else like -sS", cxxopts::value<std::string>())
        ("connect", "TCP connect scan: the kernel's handshake, no root needed  [nmap: -sT]")
        ("b,ftp-bounce", "FTP bounce scan through [user:pass@]server[:port] (default anonymous, port 21): "
                         "the server's PORT and LIST try each port; no root needed  [nmap: -b]",
         cxxopts::value<std::string>())
        ("udp", "UDP scan, with protocol payloads from nmap-payloads or a built-in set; goes "
                "with one TCP scan (-sS -sU)  [nmap: -sU]")
        ("ping-scan", "host discovery only: list the hosts that are up, how each was found and its "
                      "latency  [nmap: -sn]")
        ("list-scan", "list the targets (with their reverse DNS names unless -n) and send nothing  "
                      "[nmap: -sL]")
        ("offline", "craft and pace every probe of the port scan (as with -Pn) but send none: count "
                    "them, or write them to -w FILE; no root needed  [masscan: --offline]")
        ("dryrun", "the same as --offline  [zmap: --dryrun]");
    options.add_options("Service detection")
        ("service-version", "probe open ports to name the service and its version, with nmap's "
                            "nmap-service-probes  [nmap: -sV]")
        ("version-intensity", "with -sV: send the probes of rarity up to N, 0-9 (default 7)",
         cxxopts::value<std::string>())
        ("version-light", "with -sV: the most likely probes only (intensity 2)")
        ("version-all", "with -sV: every probe (intensity 9)")
        ("versiondb", "with -sV: read the probes from FILE (nmap-service-probes format)",
         cxxopts::value<std::string>())
        ("datadir", "with -sV: look for nmap-service-probes in DIR before nmap's own directories",
         cxxopts::value<std::string>())
        ("banners", "after the port scan, connect to every open TCP port and keep the first bytes "
                    "it sends (up to 3 s), shown under the port  [masscan: --banners]")
        ("I,ident", "after the port scan, ask the target's identd (RFC 1413, port 113) who owns each "
                    "open TCP port, shown in an OWNER column  [old nmap: -I]")
        ("checks", "after -sV (implied), run weakness checks on the services it named: --checks (every safe "
                   "one), --checks intrusive (ftp-writable too), --checks ftp-anon,ssh-v1 (those), --checks list "
                   "(what each does)  [nmap: -sC, a small named set]", cxxopts::value<std::string>());
    options.add_options("OS detection")
        ("O,osscan", "after the port scan, nmap's OS detection: 16 probes to an open TCP port, a closed TCP "
                     "port and a closed UDP port, matched against nmap-os-db; needs root  [nmap: -O]")
        ("os-fingerprint", "with -O: print nmap's OS: fingerprint block even when a match was found")
        ("osscan-guess", "with -O: always print the closest guesses with their accuracy  [nmap: --osscan-guess]")
        ("fuzzy", "the same as --osscan-guess")
        ("osscan-limit", "with -O: only hosts with at least one open and one closed TCP port  [nmap: --osscan-limit]")
        ("max-os-tries", "with -O: at most N tries per host (default 5; 2 when the conditions are not "
                         "ideal, as nmap)", cxxopts::value<int>())
        ("os-db", "with -O: the OS database (default /usr/share/nmap/nmap-os-db)", cxxopts::value<std::string>());
    options.add_options("hidden")("scan-type", "an -s letter flagscan does not know", cxxopts::value<std::string>());
    options.add_options("Timing")
        ("T,timing", "timing template 0-5 (paranoid .. insane); default 3  [nmap: -T4]", cxxopts::value<int>())
        ("max-rate", "send at most N probes per second, in this process (each shard has its own: see "
                     "--max-rate-total)", cxxopts::value<double>())
        ("max-rate-total", "with shards: send at most N probes per second over all N shards together (each "
                           "process sends at most N divided by the shard count)", cxxopts::value<double>())
        ("min-rate", "send at least N probes per second, whatever the loss", cxxopts::value<double>())
        ("max-retries", "retransmit an unanswered probe at most N times", cxxopts::value<unsigned>())
        ("initial-rtt-timeout", "first retransmission timeout (e.g. 500ms)", cxxopts::value<std::string>())
        ("min-rtt-timeout", "lowest retransmission timeout", cxxopts::value<std::string>())
        ("max-rtt-timeout", "highest retransmission timeout", cxxopts::value<std::string>())
        ("seed", "seed of the random port order (same seed, same order)", cxxopts::value<std::uint64_t>());
    options.add_options("Shards")
        ("shard", "run shard I of N of the scan, counted from 1: 1/4 .. 4/4 (masscan's spelling); with "
                  "--shards N, zmap's index counted from 0; auto: the rank from MPI, Slurm or a Kubernetes "
                  "Indexed Job. Needs --seed, the same on every shard", cxxopts::value<std::string>())
        ("shards", "the number of shards, with --shard I counted from 0 (zmap's spelling)", cxxopts::value<std::string>())
        ("shard-count", "with --shard auto: the number of shards when the engine gives only the index "
                        "(JOB_COMPLETION_INDEX of a Kubernetes Indexed Job: its completions)",
         cxxopts::value<std::uint64_t>());
    options.add_options("Source")
        ("e,interface", "send and capture on this interface", cxxopts::value<std::string>())
        ("S,source-ip", "source address of the probes", cxxopts::value<std::string>())
        ("g,source-port", "send every TCP and UDP probe from this source port", cxxopts::value<unsigned>())
        ("ttl", "IP time-to-live of the probes (default 64)", cxxopts::value<unsigned>());
    options.add_options("Probe shaping")
        ("f,fragment", "send each raw probe as IP fragments of 8 data bytes (twice, -ff: 16); over IPv6 the "
                       "first fragment holds the whole TCP/UDP/ICMPv6 header (RFC 8200 4.5)  [nmap: -f]")
        ("mtu", "send each raw probe as IP fragments of N data bytes, a positive multiple of 8  [nmap: --mtu]",
         cxxopts::value<long long>())
        ("data-length", "append N random bytes (0-1400) to every TCP, UDP and ICMP probe; UDP then sends them "
                        "instead of its protocol payloads (0: none)  [nmap: --data-length]", cxxopts::value<long long>())
        ("badsum", "send TCP and UDP probes with a wrong checksum: a real stack drops them, so a reply comes "
                   "from something that did not check  [nmap: --badsum]")
        ("D,decoys", "send every raw probe also from each decoy address, in the order given: IPv4 addresses "
                     "(IPv6 with -6), ME (our own place; without it a random place), RND or RND:N (N random "
                     "unicast addresses from the seed; over IPv6 in our own /64), e.g. -D 10.0.0.5,ME,RND:2. "
                     "Not with -sT  [nmap: -D]",
         cxxopts::value<std::string>())
        ("spoof-mac", "send every raw probe as an Ethernet frame from this MAC: 0 (random), a vendor name "
                      "from nmap-mac-prefixes (Apple), a prefix (0020F2) or a whole MAC (02:01:02:03:04:05); the "
                      "rest of a prefix is drawn from the seed. Not with -sT or -b  [nmap: --spoof-mac]",
         cxxopts::value<std::string>())
        ("ip-options", "IPv4 options in every raw probe: R (record route), T (timestamps), U (timestamps and "
                       "addresses), L ADDR... / S ADDR... (loose / strict source route: sent to the first hop, "
                       "the target last), or bytes \\x01\\x07...; at most 40 bytes  [nmap: --ip-options]",
         cxxopts::value<std::string>());
    options.add_options("Output")
        ("output-json", "write JSON lines to FILE (- for stdout)  [-oJ]", cxxopts::value<std::string>())
        ("output-normal", "write the normal report to FILE too (- for stdout)  [nmap: -oN]", cxxopts::value<std::string>())
        ("output-xml", "write nmap's XML to FILE (- for stdout)  [nmap: -oX]", cxxopts::value<std::string>())
        ("output-grepable", "write nmap's grepable lines to FILE (- for stdout)  [nmap: -oG]", cxxopts::value<std::string>())
        ("output-all", "BASE.nmap, BASE.xml, BASE.gnmap and BASE.jsonl at once  [nmap: -oA]", cxxopts::value<std::string>())
        ("reason", "show why each port is in its state (syn-ack, reset, no-response, ...)")
        ("packet-trace", "print every packet sent and received, flags spelled out")
        ("stats-every", "print a status line every DURATION (10s, 500ms), also when stderr is no terminal",
         cxxopts::value<std::string>())
        ("explain", "after the scan, tell for each listed port what was sent, what came back, the "
                    "rule that decided, and what the scan cannot tell")
        ("explain-rules", "print the reply rules of the chosen scan type (-sF etc.) and exit")
        ("w,write", "write every probe sent and every reply captured to a pcap FILE", cxxopts::value<std::string>())
        ("resume-file", "where an interrupted scan (Ctrl-C) records itself for --resume (default "
                        "flagscan.resume)", cxxopts::value<std::string>())
        ("resume", "continue the interrupted scan FILE records; nothing else may be given  [nmap: "
                   "--resume]", cxxopts::value<std::string>());
    options.add_options("Replay")
        ("replay", "re-derive every verdict from a saved capture (pcap or pcapng; ours, nmap's "
                   "taken with tcpdump, ...): no root, no packet sent", cxxopts::value<std::string>())
        ("scanner", "with --replay: the address that scanned (default: the one that sent the most "
                    "probes)", cxxopts::value<std::string>());
    options.add_options("Listing")
        ("open", "list only open (or possibly open) ports, and only hosts with one")
        ("all-ports", "list every port; summarise none");
    options.add_options("General")
        ("v,verbose", "more detail on stderr (counters, drops, rates)")
        ("h,help", "this help")
        ("V,version", "print the version");
    // clang-format on
    return options;  // targets are the arguments left over: one each, commas and all ("10.0.0.1,3")
}

Result<ProbeKind> chosen_kind(const cxxopts::ParseResult& parsed) {
    if (parsed.count("scan-type") > 0) return Error{"unknown scan type '-s" + parsed["scan-type"].as<std::string>() + "'"};
    const ProbeKind* chosen = nullptr;
    for (const auto& kind : all_probe_kinds()) {
        if (parsed.count(std::string(kind.long_flag.substr(2))) == 0) continue;
        if (chosen != nullptr) return Error{"choose one TCP scan type (" + std::string(chosen->nmap_flag) + " and " +
                                            std::string(kind.nmap_flag) + " were both given)"};
        chosen = &kind;
    }
    if (parsed.count("ftp-bounce")) {
        if (chosen != nullptr || parsed.count("scanflags") || parsed.count("connect"))
            return Error{"-b (FTP bounce scan) goes with no other TCP scan type"};
        return ftp_bounce_kind();
    }
    if (parsed.count("connect")) {
        if (chosen != nullptr || parsed.count("scanflags"))
            return Error{"-sT (connect scan) goes with no other TCP scan type"};
        return connect_kind();
    }
    const ProbeKind& base = chosen != nullptr ? *chosen : syn_kind();
    if (!parsed.count("scanflags")) return base;
    const auto text = parsed["scanflags"].as<std::string>();
    const auto flags = TcpFlags::parse(text);
    if (!flags) return Error{"bad --scanflags '" + text + "': use names (SYNFIN, URGPSHFIN) or a number (0x29)"};
    return custom_flags_kind(*flags, base);
}

// -PS / -PA / -PU: "default" (the bare flag) means nmap's default port for the method.
Result<std::vector<Port>> ping_ports(const cxxopts::ParseResult& parsed, const char* option, std::uint16_t fallback) {
    if (!parsed.count(option)) return std::vector<Port>{};
    const auto text = parsed[option].as<std::string>();
    if (text == "default") return std::vector<Port>{Port{fallback}};
    auto ports = parse_port_spec(text);
    if (!ports) return Error{ports.error()};
    return std::move(ports->tcp.empty() ? ports->udp : ports->tcp);
}

Result<bool> fill_discovery(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    auto& ping = config.ping;
    ping.echo = parsed.count("ping-echo") > 0;
    ping.timestamp = parsed.count("ping-timestamp") > 0;
    ping.arp = parsed.count("ping-arp") > 0;
    const std::array<std::tuple<const char*, std::uint16_t, std::vector<Port>*>, 3> methods{
        {{"ping-syn", 80, &ping.syn}, {"ping-ack", 80, &ping.ack}, {"ping-udp", 40125, &ping.udp}}};
    for (const auto& [option, fallback, ports] : methods) {
        auto list = ping_ports(parsed, option, fallback);
        if (!list) return Error{list.error()};
        *ports = std::move(list).value();
    }
    config.ping_only = parsed.count("ping-scan") > 0;
    config.list_only = parsed.count("list-scan") > 0;
    const bool port_choice = parsed.count("ports") || parsed.count("fast") || parsed.count("top-ports");
    if (config.list_only && !config.replay_path.empty()) return Error{"-sL lists targets; --replay reads a capture: use one of them"};
    if (config.list_only && (config.kind_given || config.udp_scan || config.ping_only || port_choice))
        return Error{"-sL only lists the targets: it goes with no scan type, no -sn and no -p, -F or --top-ports"};
    if (config.list_only && (!config.xml_path.empty() || !config.grepable_path.empty() || !config.all_base.empty()))
        return Error{"-sL writes the normal report (-oN) and JSON lines (-oJ) only: -oX, -oG and -oA are not built for it"};
    if (config.ping_only && config.skip_discovery) return Error{"-sn (discovery only) and -Pn (no discovery) contradict each other"};
    if (config.ping_only && (config.kind_given || config.udp_scan || parsed.count("ports")))
        return Error{"-sn is host discovery only: it goes with no port scan type and no -p"};
    return true;
}

// -b [user:pass@]server[:port]: a TCP scan of its own, through the FTP server.
Result<bool> fill_bounce(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    if (!parsed.count("ftp-bounce")) return true;
    if (parsed.count("ftp-bounce") > 1) return Error{"-b was given twice: scan through one FTP server at a time"};
    auto server = parse_bounce_server(parsed["ftp-bounce"].as<std::string>());
    if (!server) return Error{server.error()};
    if (config.udp_scan) return Error{"-b (FTP bounce scan) is a TCP scan: it goes without -sU"};
    if (!config.replay_path.empty()) return Error{"-b scans through an FTP server; --replay reads a capture: use one of them"};
    config.ftp_bounce = std::move(server).value();
    return true;
}

struct GivenTimeouts {
    bool min = false;
    bool initial = false;
    bool max = false;
};

// nmap's rule (NmapOps::setMaxRttTimeout and its siblings): a timeout given on the command line
// pulls the others, the -T template's, into min <= initial <= max ("--max-rtt-timeout 50ms"
// lowers the minimum and the initial timeout to 50 ms, "-T5 --min-rtt-timeout 500ms" raises
// the maximum). Two given timeouts that disagree are an error instead of a silent choice.
Result<bool> fit_timeouts(Timing& t, const GivenTimeouts& given) {
    if (given.min && given.max && t.min_rto > t.max_rto) return Error{"--min-rtt-timeout is above --max-rtt-timeout"};
    if (given.initial && given.max && t.initial_rto > t.max_rto)
        return Error{"--initial-rtt-timeout is above --max-rtt-timeout"};
    if (given.initial && given.min && t.initial_rto < t.min_rto)
        return Error{"--initial-rtt-timeout is below --min-rtt-timeout"};
    if (!given.max) t.max_rto = std::max({t.max_rto, given.min ? t.min_rto : 0, given.initial ? t.initial_rto : 0});
    if (!given.min) t.min_rto = std::min({t.min_rto, t.max_rto, given.initial ? t.initial_rto : t.max_rto});
    if (!given.initial) t.initial_rto = std::clamp(t.initial_rto, t.min_rto, t.max_rto);
    t.near_min_rto = given.min ? t.min_rto : std::min(t.near_min_rto, t.min_rto);  // a floor given is kept
    return true;
}

Result<Timing> timing_from(const cxxopts::ParseResult& parsed) {
    const int level = parsed.count("timing") ? parsed["timing"].as<int>() : 3;
    auto timing = timing_template(level);
    if (!timing) return Error{"bad timing template -T" + std::to_string(level) + ": use 0-5"};
    if (parsed.count("max-retries")) timing->max_retries = std::min(parsed["max-retries"].as<unsigned>(), 50u);
    if (parsed.count("max-rate")) timing->max_rate = parsed["max-rate"].as<double>();
    if (parsed.count("min-rate")) timing->min_rate = parsed["min-rate"].as<double>();
    if (timing->max_rate < 0 || timing->min_rate < 0) return Error{"rates must be positive"};
    if (timing->max_rate > 0 && timing->min_rate > timing->max_rate) return Error{"--min-rate is above --max-rate"};
    const std::array<std::pair<const char*, Micros*>, 3> durations{{{"initial-rtt-timeout", &timing->initial_rto},
                                                                     {"min-rtt-timeout", &timing->min_rto},
                                                                     {"max-rtt-timeout", &timing->max_rto}}};
    for (const auto& [name, field] : durations) {
        if (!parsed.count(name)) continue;
        auto value = parse_duration(parsed[name].as<std::string>());
        if (!value || *value <= 0) return Error{std::string("bad --") + name + " '" + parsed[name].as<std::string>() + "'"};
        *field = *value;
    }
    const GivenTimeouts given{parsed.count("min-rtt-timeout") > 0, parsed.count("initial-rtt-timeout") > 0,
                              parsed.count("max-rtt-timeout") > 0};
    if (auto ok = fit_timeouts(*timing, given); !ok) return Error{ok.error()};
    return *timing;
}

Result<bool> read_lists(const cxxopts::ParseResult& parsed, const char* option, std::vector<TargetExpression>& out) {
    if (!parsed.count(option)) return true;
    for (const auto& path : parsed[option].as<std::vector<std::string>>()) {
        auto entries = read_target_file(path);
        if (!entries) return Error{entries.error()};
        out.insert(out.end(), entries->begin(), entries->end());
    }
    return true;
}

Result<bool> fill_replay(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    if (parsed.count("write")) config.write_path = parsed["write"].as<std::string>();
    if (parsed.count("scanner")) {
        const auto text = parsed["scanner"].as<std::string>();
        config.scanner = Ipv4::parse(text);
        if (!config.scanner) return Error{"bad --scanner address '" + text + "'"};
    }
    if (!parsed.count("replay")) {
        if (config.scanner) return Error{"--scanner goes with --replay"};
        return true;
    }
    config.replay_path = parsed["replay"].as<std::string>();
    if (!config.write_path.empty()) return Error{"-w writes a live scan; --replay reads one: use one of them"};
    if (!parsed.unmatched().empty() || parsed.count("ports"))
        return Error{"--replay takes its targets and ports from the capture: drop the targets and -p"};
    return true;
}

Result<bool> fill_targets(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    if (!config.replay_path.empty()) return true;
    for (const auto& target : parsed.unmatched()) config.targets.push_back(TargetExpression{target, {}});
    if (auto ok = read_lists(parsed, "input-file", config.targets); !ok) return ok;
    if (parsed.count("exclude")) {
        for (const auto& list : parsed["exclude"].as<std::vector<std::string>>()) {
            for (auto& item : split_list(list)) config.excludes.push_back(TargetExpression{std::move(item), {}});
        }
    }
    if (auto ok = read_lists(parsed, "excludefile", config.excludes); !ok) return ok;
    if (config.targets.empty()) return Error{"no targets given (try: flagscan -sS -p 22,80 10.0.0.1; --help lists options)"};
    return true;
}

Result<bool> fill_ports(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    if (parsed.count("ports") > 1) return Error{"-p was given twice: give one list, its items separated by commas"};
    if (parsed.count("ports") && parsed.count("fast"))
        return Error{"-F (the 100 most common ports) and -p contradict each other: use --top-ports N with -p"};
    if (parsed.count("ports")) {
        config.ports_spec = parsed["ports"].as<std::string>();
        const ServiceTable services = names_services(config.ports_spec) ? ServiceTable::load_system() : ServiceTable{};
        auto ports = parse_port_spec(config.ports_spec, services);
        if (!ports) return Error{ports.error()};
        if (config.tcp_scan && !config.udp_scan && ports->tcp.empty())
            return Error{"bad port spec '" + config.ports_spec + "': no TCP ports in it for a TCP scan"};
        if (config.udp_scan && !config.tcp_scan && ports->udp.empty())
            return Error{"bad port spec '" + config.ports_spec + "': no UDP ports in it for -sU"};
    }
    if (parsed.count("fast")) config.top_ports = 100;
    config.top_ports_given = parsed.count("top-ports") > 0;
    if (config.top_ports_given) config.top_ports = parsed["top-ports"].as<std::size_t>();
    if (config.top_ports == 0 || config.top_ports > 65536) return Error{"--top-ports takes 1-65536"};
    return true;
}

Result<bool> fill_source(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    if (parsed.count("interface")) config.interface = parsed["interface"].as<std::string>();
    if (parsed.count("source-ip")) {
        const auto text = parsed["source-ip"].as<std::string>();
        config.source = Ipv4::parse(text);
        if (!config.source && names_ipv6(text)) config.source6 = Ipv6::parse(text);
        if (!config.source && !config.source6) return Error{"bad source address " + quote_for_error(text)};
    }
    if (parsed.count("source-port")) {
        const unsigned port = parsed["source-port"].as<unsigned>();
        if (port == 0 || port > 65535) return Error{"bad source port " + std::to_string(port) + ": use 1-65535"};
        config.source_port = Port{static_cast<std::uint16_t>(port)};
    }
    if (parsed.count("ttl")) {
        const unsigned ttl = parsed["ttl"].as<unsigned>();
        if (ttl == 0 || ttl > 255) return Error{"bad --ttl " + std::to_string(ttl) + ": use 1-255"};
        config.ttl = static_cast<std::uint8_t>(ttl);
    }
    return true;
}

constexpr long long kMaxDataLength = 1400;  // nmap's limit: a probe still fits an Ethernet frame

// -D: the kernel builds a connect scan's packets (and the FTP server a bounce scan's), from our
// own address only, so they cannot be decoyed (nmap refuses the same).
Result<bool> fill_decoys(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    if (!parsed.count("decoys")) return true;
    auto decoys = parse_decoys(parsed["decoys"].as<std::string>());
    if (!decoys) return Error{decoys.error()};
    if (config.tcp_scan && (is_connect_scan(config.kind) || is_bounce_scan(config.kind)))
        return Error{"-D goes with raw scans only: a connect scan's (-sT) or FTP bounce scan's (-b) packets are built by "
                     "the kernel from our own address, so no probe could come from a decoy"};
    config.decoys = std::move(decoys).value();
    return true;
}

// --spoof-mac (probe/spoof_mac.hpp): checked now, drawn when the scan's seed is known. Like -D,
// it shapes raw frames only: a connect or bounce scan's packets are the kernel's or the server's.
Result<bool> fill_spoof_mac(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    if (!parsed.count("spoof-mac")) return true;
    const std::string arg = parsed["spoof-mac"].as<std::string>();
    if (auto mac = parse_spoof_mac(arg, load_mac_prefixes(), 0); !mac) return Error{mac.error()};
    if (config.tcp_scan && (is_connect_scan(config.kind) || is_bounce_scan(config.kind)))
        return Error{"--spoof-mac goes with raw scans only: a connect scan's (-sT) or FTP bounce scan's (-b) packets are "
                     "sent by the kernel from our own MAC"};
    if (config.offline)
        return Error{"--spoof-mac goes with live scans only: --offline writes IP packets, which have no Ethernet header"};
    config.spoof_mac = arg;
    return true;
}

// --ip-options (probe/ip_options.hpp: nmap's spellings).
Result<bool> fill_ip_options(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    if (!parsed.count("ip-options")) return true;
    auto options = parse_ip_options(parsed["ip-options"].as<std::string>());
    if (!options) return Error{options.error()};
    config.ip_options = std::move(options).value();
    return true;
}

// -f (8 data bytes per fragment), -ff (16), --mtu N (RFC 791 3.2: fragment offsets count 8-byte
// units, so every fragment but the last carries a multiple of 8); --data-length; --badsum.
Result<bool> fill_shaping(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    const auto fragments = parsed.count("fragment");
    if (fragments > 2) return Error{"-f is given once (8 bytes per fragment) or twice, -ff (16); use --mtu N for other sizes"};
    if (fragments > 0 && parsed.count("mtu")) return Error{"give -f or --mtu, not both"};
    config.fragment_data = 8 * fragments;
    if (parsed.count("mtu")) {
        const long long mtu = parsed["mtu"].as<long long>();
        if (mtu <= 0 || mtu % 8 != 0 || mtu > 65528)
            return Error{"bad --mtu " + std::to_string(mtu) + ": fragments carry a positive multiple of 8 data bytes (8, 16, 24, ...)"};
        config.fragment_data = static_cast<std::size_t>(mtu);
    }
    if (parsed.count("data-length")) {
        const long long length = parsed["data-length"].as<long long>();
        if (length < 0 || length > kMaxDataLength)
            return Error{"bad --data-length " + std::to_string(length) + ": use 0-" + std::to_string(kMaxDataLength)};
        config.data_length = static_cast<std::uint16_t>(length);
    }
    config.badsum = parsed.count("badsum") > 0;
    if (auto ip_options = fill_ip_options(parsed, config); !ip_options) return ip_options;
    if (auto spoofed = fill_spoof_mac(parsed, config); !spoofed) return spoofed;
    return fill_decoys(parsed, config);
}

// One output on stdout at most, and one output per file (-oA's files included).
Result<bool> check_output_paths(const ScanConfig& config) {
    const std::pair<std::string_view, std::string> outputs[] = {
        {"-oN", config.normal_path}, {"-oX", config.xml_path}, {"-oG", config.grepable_path}, {"-oJ", config.json_path},
        {"-oA", config.all_base.empty() ? "" : config.all_base + ".nmap"}, {"-oA", config.all_base.empty() ? "" : config.all_base + ".xml"},
        {"-oA", config.all_base.empty() ? "" : config.all_base + ".gnmap"}, {"-oA", config.all_base.empty() ? "" : config.all_base + ".jsonl"}};
    std::string on_stdout;
    for (std::size_t i = 0; i < std::size(outputs); ++i) {
        const auto& [option, path] = outputs[i];
        if (path == "-" && !on_stdout.empty())
            return Error{on_stdout + " - and " + std::string(option) + " - would both write to stdout: send one of them to a file"};
        if (path == "-") on_stdout = option;
        for (std::size_t j = 0; j < i && path != "-" && !path.empty(); ++j) {
            if (outputs[j].second == path)
                return Error{std::string(outputs[j].first) + " and " + std::string(option) + " would both write '" + path + "'"};
        }
    }
    return true;
}

Result<bool> fill_output(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    config.report.reason = parsed.count("reason") > 0;
    config.report.open_only = parsed.count("open") > 0;
    config.report.all_ports = parsed.count("all-ports") > 0;
    if (parsed.count("output-json")) config.json_path = parsed["output-json"].as<std::string>();
    if (parsed.count("output-normal")) config.normal_path = parsed["output-normal"].as<std::string>();
    if (parsed.count("output-xml")) config.xml_path = parsed["output-xml"].as<std::string>();
    if (parsed.count("output-grepable")) config.grepable_path = parsed["output-grepable"].as<std::string>();
    if (parsed.count("output-all")) config.all_base = parsed["output-all"].as<std::string>();
    if (config.all_base == "-") return Error{"-oA takes a base name for its files, not '-'"};
    config.verbosity = static_cast<int>(parsed.count("verbose"));
    config.explain = parsed.count("explain") > 0;
    config.banners = parsed.count("banners") > 0;
    config.packet_trace = parsed.count("packet-trace") > 0;
    if (parsed.count("stats-every")) {
        const auto text = parsed["stats-every"].as<std::string>();
        const auto every = parse_duration(text);
        if (!every || *every <= 0) return Error{"bad --stats-every '" + text + "': use a duration such as 10s or 500ms"};
        config.stats_every = *every;
    }
    config.no_dns = parsed.count("no-dns") > 0;
    config.skip_discovery = parsed.count("skip-discovery") > 0;
    if (parsed.count("resume-file")) config.resume_file = parsed["resume-file"].as<std::string>();
    if (config.resume_file.empty()) return Error{"--resume-file needs a file name"};
    if (auto ok = check_output_paths(config); !ok) return ok;
    if (config.normal_path == "-") config.normal_path.clear();  // nmap's "-oN -": on stdout, where it goes anyway
    return true;
}

// --version-intensity N, --version-light or --version-all: one of them, and only with -sV.
Result<int> version_intensity(const cxxopts::ParseResult& parsed) {
    const int given = static_cast<int>(parsed.count("version-intensity") + parsed.count("version-light") + parsed.count("version-all"));
    if (given > 1) return Error{"give one of --version-intensity, --version-light and --version-all"};
    if (parsed.count("version-light")) return version_intensity_light;
    if (parsed.count("version-all")) return version_intensity_all;
    if (!parsed.count("version-intensity")) return version_intensity_default;
    const auto text = parsed["version-intensity"].as<std::string>();
    const auto level = parse_whole<int>(text);
    if (!level || *level < 0 || *level > 9) return Error{"bad --version-intensity '" + text + "': use 0-9"};
    return *level;
}

// -sV and where its probes come from (service/load.hpp reads them when the scan starts).
Result<bool> fill_versions(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    config.version_detection = parsed.count("service-version") > 0 || parsed.count("checks") > 0;  // --checks implies -sV
    for (const char* option : {"version-intensity", "version-light", "version-all", "versiondb", "datadir"}) {
        if (parsed.count(option) > 1) return Error{std::string("--") + option + " was given twice"};
        if (parsed.count(option) && !config.version_detection) return Error{std::string("--") + option + " goes with -sV"};
    }
    auto intensity = version_intensity(parsed);
    if (!intensity) return Error{intensity.error()};
    config.version_intensity = *intensity;
    if (parsed.count("versiondb")) config.probe_files.versiondb = parsed["versiondb"].as<std::string>();
    if (parsed.count("datadir")) config.probe_files.datadir = parsed["datadir"].as<std::string>();
    if (config.probe_files.versiondb && config.probe_files.versiondb->empty()) return Error{"--versiondb needs a file name"};
    if (config.probe_files.datadir && !std::filesystem::is_directory(*config.probe_files.datadir))
        return Error{"--datadir '" + *config.probe_files.datadir + "' is not a directory"};
    if (config.version_detection && (config.ping_only || config.list_only))
        return Error{"-sV probes the open ports a port scan finds: it goes with no -sn and no -sL"};
    return true;
}

// --offline / --dryrun: the port scan's probes crafted, paced and counted (or written with -w),
// none sent. Only raw probes are crafted by flagscan; nothing answers, so nothing comes after them.
Result<bool> fill_offline(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    config.include_reserved = parsed.count("include-reserved") > 0;
    config.offline = parsed.count("offline") > 0 || parsed.count("dryrun") > 0;
    if (!config.offline) return true;
    if (!config.replay_path.empty() || config.list_only || config.ping_only)
        return Error{"--offline crafts a port scan's probes: it goes with no --replay, -sL or -sn"};
    if (config.tcp_scan && (is_connect_scan(config.kind) || is_bounce_scan(config.kind)))
        return Error{"--offline crafts raw probes; a connect scan's (-sT) or an FTP bounce scan's (-b) packets are "
                     "the kernel's: use -sS or another raw scan"};
    if (config.version_detection || config.banners || config.ident)
        return Error{"--offline sends nothing, so nothing answers: it goes with no -sV, --checks, --banners or -I"};
    return true;
}

// -I: identd is asked about the open TCP ports a port scan found, over new connections.
Result<bool> fill_ident(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    config.ident = parsed.count("ident") > 0;
    if (!config.ident) return true;
    if (config.ping_only || config.list_only)
        return Error{"-I asks identd about the open ports a port scan finds: it goes with no -sn and no -sL"};
    if (!config.replay_path.empty()) return Error{"-I asks the target's identd over new connections: it goes with no --replay"};
    if (!config.tcp_scan) return Error{"-I asks identd about open TCP ports: it needs a TCP scan (-sS, -sT, ...)"};
    return true;
}

// -O and its options; the database is read when the scan starts (before any packet).
Result<bool> fill_os(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    OsScanChoice& os = config.os;
    os.enabled = parsed.count("osscan") > 0;
    for (const char* option : {"os-fingerprint", "osscan-guess", "fuzzy", "osscan-limit", "max-os-tries", "os-db"})
        if (parsed.count(option) && !os.enabled) return Error{std::string("--") + option + " goes with -O"};
    if (!os.enabled) return true;
    os.print_fingerprint = parsed.count("os-fingerprint") > 0;
    os.guess = parsed.count("osscan-guess") > 0 || parsed.count("fuzzy") > 0;
    os.limit = parsed.count("osscan-limit") > 0;
    if (parsed.count("max-os-tries")) {
        os.max_tries = parsed["max-os-tries"].as<int>();
        if (os.max_tries < 1 || os.max_tries > 50) return Error{"bad --max-os-tries: use 1-50"};
    }
    if (parsed.count("os-db")) os.db_path = parsed["os-db"].as<std::string>();
    if (os.db_path.empty()) return Error{"--os-db needs a file name"};
    if (config.ping_only || config.list_only)
        return Error{"-O probes the open and closed ports a port scan finds: it goes with no -sn and no -sL"};
    if (config.offline) return Error{"--offline sends nothing, so nothing answers: it goes with no -O"};
    return true;
}

// --checks [safe|intrusive|NAME,...] (list is an action of its own, taken before).
Result<bool> fill_checks(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    if (!parsed.count("checks")) return true;
    if (parsed.count("checks") > 1) return Error{"--checks was given twice"};
    auto chosen = select_checks(parsed["checks"].as<std::string>());
    if (!chosen) return Error{chosen.error()};
    config.checks = std::move(chosen).value();
    return true;
}

// What IPv6 cannot do: one line each, before anything is resolved or sent.
std::optional<std::string> refused_over_ipv6(const ScanConfig& config) {
    if (config.ping.timestamp) return "-PP (ICMP timestamp) has no IPv6 counterpart, as in nmap: use -PE, -PS, -PA or -PU";
    // nmap's bounce_scan() writes the target's IPv4 address into PORT; bouncing an IPv6 target
    // would need EPRT (RFC 2428) through an IPv6 FTP server, which neither does.
    if (config.ftp_bounce)
        return "-b (FTP bounce scan) is IPv4 only, as in nmap: PORT names an IPv4 address (RFC 959); EPRT bouncing (RFC 2428) is not done";
    const std::pair<bool, const char*> not_yet[] = {
        {config.os.enabled, "-O"},
        {config.offline, "--offline"},
    };
    for (const auto& [given, option] : not_yet)
        if (given) return std::string(option) + " is not available over IPv6 yet";
    // RFC 8200 4: IPv6 has no options field; what IPv4 options did, extension headers do.
    if (!config.ip_options.empty())
        return "--ip-options sets the IPv4 header's options field (RFC 791 3.1), which an IPv6 header has not: "
               "there is no --ip-options over IPv6";
    return std::nullopt;
}

// -6, or an IPv6 target (nmap wants -6; the address says it as well): an IPv6 scan, whose -S must
// be IPv6 too. Whether every target is IPv6 is the target parser's to say (command_line_hosts6).
Result<bool> fill_ipv6(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    config.ipv6 = parsed.count("ipv6") > 0 ||
                  std::any_of(config.targets.begin(), config.targets.end(), [](const auto& t) { return names_ipv6(t.text); });
    if (auto mixed = decoys_refused(config.decoys, config.ipv6)) return Error{*mixed};
    if (!config.ipv6 && config.source6)
        return Error{"-S " + config.source6->str() + " is an IPv6 address: the targets are IPv4 (an IPv6 scan takes -6 or IPv6 targets)"};
    if (!config.ipv6) return true;
    if (config.source) return Error{"-S " + config.source->str() + " is an IPv4 address: an IPv6 scan needs an IPv6 source"};
    if (!config.replay_path.empty()) return true;  // the capture says what was scanned
    if (auto refused = refused_over_ipv6(config)) return Error{*refused};
    return true;
}

Result<ScanConfig> build_config(const cxxopts::ParseResult& parsed) {
    ScanConfig config;
    auto kind = chosen_kind(parsed);
    if (!kind) return Error{kind.error()};
    config.kind = *kind;
    auto timing = timing_from(parsed);
    if (!timing) return Error{timing.error()};
    config.timing = *timing;
    config.kind_given = parsed.count("scanflags") > 0 || parsed.count("connect") > 0 || parsed.count("ftp-bounce") > 0;
    for (const auto& kind : all_probe_kinds()) config.kind_given |= parsed.count(std::string(kind.long_flag.substr(2))) > 0;
    config.udp_scan = parsed.count("udp") > 0;
    config.tcp_scan = config.kind_given || !config.udp_scan;
    if (config.udp_scan && is_connect_scan(config.kind))
        return Error{"-sU sends raw packets and needs root; it goes with -sS or another raw TCP scan, not with -sT"};
    for (auto step : {fill_output, fill_replay, fill_targets, fill_ports, fill_source, fill_discovery, fill_versions,
                      fill_checks, fill_bounce, fill_ident, fill_offline, fill_os, fill_shaping, fill_ipv6}) {
        if (auto ok = step(parsed, config); !ok) return Error{ok.error()};
    }
    config.seed_given = parsed.count("seed") > 0;
    if (config.seed_given) config.seed = parsed["seed"].as<std::uint64_t>();
    return config;
}

// Every rank of one launch gets the same command line: "{shard}" in a file name becomes this
// shard's "2-of-4", so that each writes its own outputs; the resume file is the shard's own too.
void name_shard_files(const cxxopts::ParseResult& parsed, ScanConfig& config) {
    const std::string name = std::to_string(config.shard.shard.index + 1) + "-of-" + std::to_string(config.shard.shard.count);
    for (std::string* path : {&config.json_path, &config.normal_path, &config.xml_path, &config.grepable_path,
                              &config.all_base, &config.write_path, &config.resume_file}) {
        for (auto at = path->find("{shard}"); at != std::string::npos; at = path->find("{shard}", at + name.size()))
            path->replace(at, 7, name);
    }
    if (!parsed.count("resume-file")) config.resume_file = "flagscan." + name + ".resume";
}

// --shard I/N, --shards N --shard I, or --shard auto [--shard-count N]: which part of the scan this
// process runs. A shard without --seed is refused: each process would draw its own order, and
// their parts would overlap and leave gaps.
Result<ShardChoice> chosen_shard(const cxxopts::ParseResult& parsed, const EnvLookup& env) {
    for (const char* option : {"shard", "shards", "shard-count", "max-rate-total"})
        if (parsed.count(option) > 1) return Error{std::string("--") + option + " was given twice"};
    if (!parsed.count("shard")) {
        if (parsed.count("shards") || parsed.count("shard-count")) return Error{"--shards and --shard-count go with --shard"};
        return ShardChoice{};
    }
    const auto spec = parsed["shard"].as<std::string>();
    if (spec == "auto") {
        if (parsed.count("shards")) return Error{"--shard auto takes its count from the environment or --shard-count, not --shards"};
        std::optional<std::uint64_t> count;
        if (parsed.count("shard-count")) count = parsed["shard-count"].as<std::uint64_t>();
        return shard_from_environment(env, count);
    }
    if (parsed.count("shard-count")) return Error{"--shard-count goes with --shard auto"};
    auto shard = parsed.count("shards") ? parse_zmap_shard(spec, parsed["shards"].as<std::string>()) : parse_shard_spec(spec);
    if (!shard) return Error{shard.error()};
    return ShardChoice{*shard, ""};
}

Result<bool> fill_shard(const cxxopts::ParseResult& parsed, const EnvLookup& env, ScanConfig& config) {
    auto choice = chosen_shard(parsed, env);
    if (!choice) return Error{choice.error()};
    config.shard = std::move(choice).value();
    config.shard_given = parsed.count("shard") > 0;
    if (config.shard_given && !config.seed_given)
        return Error{"--shard needs --seed S, the same on every shard (a seed drawn by each process would make the shards overlap)"};
    if (config.shard_given && (!config.replay_path.empty() || config.list_only))
        return Error{"--shard splits a live scan: it goes with no --replay and no -sL"};
    if (config.shard_given) name_shard_files(parsed, config);
    if (!parsed.count("max-rate-total")) return true;
    if (parsed.count("max-rate")) return Error{"give --max-rate (per process) or --max-rate-total (over all shards), not both"};
    config.max_rate_total = parsed["max-rate-total"].as<double>();
    if (config.max_rate_total <= 0) return Error{"--max-rate-total must be positive"};
    config.timing.max_rate = config.max_rate_total / static_cast<double>(config.shard.shard.count);
    if (config.timing.min_rate > config.timing.max_rate) return Error{"--min-rate is above --max-rate-total's share of this shard"};
    return true;
}

// nmap's --resume FILE: the file holds the scan's whole command line, so nothing else is given.
std::optional<Result<CommandLine>> resume_request(const std::vector<std::string>& args) {
    const auto given = std::find_if(args.begin(), args.end(), [](const std::string& arg) {
        return arg == "--resume" || arg.rfind("--resume=", 0) == 0;
    });
    if (given == args.end()) return std::nullopt;
    const bool separate = *given == "--resume";
    const std::string path = separate ? (args.size() > 1 ? args[1] : std::string{}) : given->substr(9);
    if (given != args.begin() || args.size() != (separate ? 2u : 1u) || path.empty())
        return Result<CommandLine>{Error{"--resume takes the resume file and nothing else: the scan's options come from the file"}};
    CommandLine line;
    line.config.resume_path = path;
    return Result<CommandLine>{std::move(line)};
}

}  // namespace

std::vector<std::string> translate_nmap_flags(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    out.reserve(args.size());
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--checks") {  // its value is optional: taken when the next argument is one
            const bool valued = i + 1 < args.size() && is_checks_value(args[i + 1]);
            out.push_back("--checks=" + (valued ? args[++i] : std::string("safe")));
            continue;
        }
        out.push_back(translate_one(args[i]));
    }
    return out;
}

std::optional<Micros> parse_duration(std::string_view text) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || value < 0) return std::nullopt;
    const std::string_view unit{end, static_cast<std::size_t>(text.data() + text.size() - end)};
    double scale = 0;
    if (unit.empty() || unit == "s") scale = kSecond;
    else if (unit == "ms") scale = kMillisecond;
    else if (unit == "us") scale = 1;
    else if (unit == "m") scale = 60.0 * kSecond;
    else if (unit == "h") scale = 3600.0 * kSecond;
    else return std::nullopt;
    if (value * scale > double(std::numeric_limits<Micros>::max() / 2)) return std::nullopt;
    return static_cast<Micros>(value * scale);
}

Result<CommandLine> parse_command_line(int argc, const char* const* argv, const EnvLookup& env) {
    std::vector<std::string> args{argv + 1, argv + argc};
    if (auto resume = resume_request(args)) return std::move(*resume);
    args = translate_nmap_flags(args);
    std::vector<const char*> pointers{argv[0]};
    for (const auto& arg : args) pointers.push_back(arg.c_str());
    auto options = make_options();
    CommandLine line;
    try {
        auto parsed = options.parse(static_cast<int>(pointers.size()), pointers.data());
        if (parsed.count("help"))
            return CommandLine{CommandLine::Action::help, {},
                               options.help({"Targets", "Ports and scan type", "Service detection", "OS detection", "Timing", "Shards", "Source", "Probe shaping", "Output", "Listing", "Replay", "General"})};
        if (parsed.count("version")) return CommandLine{CommandLine::Action::version, {}, {}};
        if (parsed.count("checks") && parsed["checks"].as<std::string>() == "list")
            return CommandLine{CommandLine::Action::list_checks, {}, checks_listing()};
        if (parsed.count("explain-rules")) {
            auto kind = chosen_kind(parsed);
            if (!kind) return Error{kind.error()};
            CommandLine rules{CommandLine::Action::explain_rules, {}, {}};
            rules.config.kind = *kind;
            rules.config.udp_scan = parsed.count("udp") > 0;
            rules.config.ping_only = parsed.count("ping-scan") > 0;
            return rules;
        }
        auto config = build_config(parsed);
        if (!config) return Error{config.error()};
        line.config = std::move(config).value();
        if (auto ok = fill_shard(parsed, env, line.config); !ok) return Error{ok.error()};
        line.config.command_line = quoted_command_line(std::vector<std::string>{argv, argv + argc});
        line.config.args.assign(argv + 1, argv + argc);
    } catch (const cxxopts::exceptions::exception& e) {
        return Error{e.what()};
    }
    return line;
}

}  // namespace flagscan

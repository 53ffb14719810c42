// Shared by the live tests: the lab layout, a JSON-lines reader, a process runner and the lab fixture.
#pragma once

#include <sys/types.h>

#include <gtest/gtest.h>

#include "../support/json_line.hpp"
#include "../support/process.hpp"

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flagscan::live {

// ---- the lab's truth (test/lab/layout.conf) ----------------------------------------------

struct Layout {
    std::set<int> open_tcp;
    std::set<int> rejected_tcp;
    std::set<int> dropped_tcp;
    std::set<int> dropped_hosts;  // offsets inside the lab's /28
    std::set<int> open_udp;
    std::set<int> rejected_udp;
    std::set<int> dropped_udp;
    std::set<int> wide_dropped_mod4;  // last octets (mod 4) the wide range drops
    std::set<int> lan_hosts;          // offsets from 10.77.ID.32 with a real address
    std::set<int> lan_silent;         // the lan_hosts offsets the namespace hides
    std::map<int, int> slow_hosts;    // offset from 10.77.ID.64 -> reply delay in ms (slow_responder)

    // Reads key=value lines of space-separated integers; '#' starts a comment.
    static std::optional<Layout> load(const std::string& path, std::string& error);
};

// What one scanned port should come out as.
struct Verdict {
    std::string state;
    std::string reason;
    friend bool operator==(const Verdict&, const Verdict&) = default;
    friend auto operator<=>(const Verdict&, const Verdict&) = default;
};

// How the lab treats a port: a listener, an ICMP reject, a silent drop, or none of these (the
// kernel answers RST). Every port of a dropped host is dropped.
enum class PortRole { open, closed, rejected, dropped };

PortRole port_role(const Layout& layout, int port, bool host_dropped);

// One TCP scan kind and the state and reason a Linux target's ports give it, role by role.
struct ScanKind {
    struct Expect {
        std::string_view state;
        std::string_view reason;
    };
    std::string_view name;    // for test names: "Syn", "Fin", ...
    std::string_view option;  // the same for flagscan and nmap: "-sS", "-sF", ...
    Expect open, closed, rejected, dropped;

    Verdict verdict(PortRole role) const;
};

// gtest names a failing case by its kind instead of dumping the struct's bytes.
void PrintTo(const ScanKind& kind, std::ostream* os);

// The one table of what each kind should report against the lab (a Linux stack), checked
// against nmap 7.93 and tcpdump on the lab. RFC 793 p. 65-66: a port in LISTEN answers a
// segment with ACK set by RST and silently drops one with neither SYN, RST nor ACK (FIN, NULL,
// XMAS); a port with no socket (CLOSED) answers anything but a RST with a RST. Linux follows
// it to the letter, so FIN+ACK (Maimon) draws a RST from open ports too (BSD stacks drop it),
// and its RSTs carry window 0, so the Window scan never sees "open".
inline constexpr ScanKind::Expect kSynAck{"open", "syn-ack"};
inline constexpr ScanKind::Expect kClosedReset{"closed", "reset"};
inline constexpr ScanKind::Expect kUnfilteredReset{"unfiltered", "reset"};
inline constexpr ScanKind::Expect kAdminProhibited{"filtered", "admin-prohibited"};
inline constexpr ScanKind::Expect kFilteredSilent{"filtered", "no-response"};
inline constexpr ScanKind::Expect kOpenFilteredSilent{"open|filtered", "no-response"};

inline constexpr std::array<ScanKind, 7> kLinuxTcpScanKinds{{
    // name     option  open                  closed             rejected           dropped
    {"Syn",    "-sS",  kSynAck,              kClosedReset,      kAdminProhibited,  kFilteredSilent},
    {"Fin",    "-sF",  kOpenFilteredSilent,  kClosedReset,      kAdminProhibited,  kOpenFilteredSilent},
    {"Null",   "-sN",  kOpenFilteredSilent,  kClosedReset,      kAdminProhibited,  kOpenFilteredSilent},
    {"Xmas",   "-sX",  kOpenFilteredSilent,  kClosedReset,      kAdminProhibited,  kOpenFilteredSilent},
    {"Ack",    "-sA",  kUnfilteredReset,     kUnfilteredReset,  kAdminProhibited,  kFilteredSilent},
    {"Window", "-sW",  kClosedReset,         kClosedReset,      kAdminProhibited,  kFilteredSilent},
    {"Maimon", "-sM",  kClosedReset,         kClosedReset,      kAdminProhibited,  kOpenFilteredSilent},
}};

// The connect scan (-sT): the kernel's connect() says what came back. A RST is ECONNREFUSED;
// ICMP admin-prohibited (RFC 1812 5.2.7.1, code 13) is EHOSTUNREACH, a hard error in Linux.
inline constexpr ScanKind kConnectScan{"Connect", "-sT", kSynAck, {"closed", "conn-refused"},
                                       {"filtered", "host-unreach"}, kFilteredSilent};

// The flag scans only: every row of kLinuxTcpScanKinds but SYN.
std::vector<ScanKind> linux_flag_scan_kinds();

// The verdict the layout implies for PORT on a host under KIND (dropped hosts answer nothing).
Verdict expected_verdict(const ScanKind& kind, const Layout& layout, int port, bool host_dropped);

// The SYN-scan verdict the layout implies for PORT on a host (dropped hosts answer nothing).
Verdict expected_syn_verdict(const Layout& layout, int port, bool host_dropped);

// How the lab treats a UDP port: a listener echoing datagrams, an ICMP reject, a silent drop,
// or none of these (the kernel answers ICMP 3/3, port unreachable).
PortRole udp_port_role(const Layout& layout, int port, bool host_dropped);

// The UDP scan (DESIGN.md's table; RFC 1122 3.2.2.1: a host with no listener answers port
// unreachable): a reply datagram is open, port unreachable closed, any other ICMP unreachable
// filtered, silence open|filtered.
inline constexpr ScanKind kUdpScan{"Udp", "-sU", {"open", "udp-response"}, {"closed", "port-unreach"},
                                   kAdminProhibited, kOpenFilteredSilent};

// The UDP-scan verdict the layout implies for PORT on a host (dropped hosts answer nothing).
Verdict expected_udp_verdict(const Layout& layout, int port, bool host_dropped);

// ---- flagscan's JSON-lines output ----------------------------------------------------------

// One flat JSON object (test/support/json_line.hpp).
using testsupport::JsonObject;
using testsupport::parse_json_object;

struct PortLine {
    std::string ip;
    int port = 0;
    std::string proto;
    Verdict verdict;
};

struct HostLine {
    std::string ip;
    std::string status;
    std::map<std::string, long> counts;
    JsonObject json;  // the whole line: host discovery's reason, method, ttl, rtt_us, port
};

struct ScanOutput {
    std::vector<PortLine> ports;
    std::vector<HostLine> hosts;
    std::vector<std::string> errors;  // lines that were not a port or a host object
};

ScanOutput read_scan_output(const std::string& path);

// ---- comparing scan results ---------------------------------------------------------------

using PortKey = std::pair<std::string, int>;  // (ip, port)
using VerdictMap = std::map<PortKey, Verdict>;

// Port lines as a map; a port reported twice is listed in DUPLICATES.
VerdictMap verdicts_of(const ScanOutput& output, std::vector<PortKey>& duplicates);

// The same for the port lines whose "proto" is PROTO ("tcp", "udp") only.
VerdictMap verdicts_of(const ScanOutput& output, std::string_view proto, std::vector<PortKey>& duplicates);

// Empty when equal, else a readable summary grouped by (expected -> got) with port ranges.
std::string describe_differences(const VerdictMap& expected, const VerdictMap& actual);

// The same map with every reason emptied, for comparisons of states alone.
VerdictMap states_only(VerdictMap verdicts);

// ---- nmap's XML output (-oX) -----------------------------------------------------------------

// Every port of one protocol of every host (IPv4 or IPv6) in nmap's XML, each with nmap's state and
// reason. nmap lists only the ports outside its most common states and folds the rest into
// <extraports STATE COUNT>, whose <extrareasons ports="1-21,23-79,..."> (nmap 7.80 and later)
// name them. An older nmap's extraports without port lists are placed on the SCANNED ports
// the host's <port> elements do not name, which is only possible when a host has one such
// group. Any port given twice, a group whose count does not match, or XML that cannot be
// read: nullopt and ERROR.
// Only the ports of PROTOCOL ("tcp", "udp") are read.
std::optional<VerdictMap> read_nmap_xml(const std::string& path, const std::vector<int>& scanned,
                                        std::string& error, std::string_view protocol = "tcp");

// A port's <service> in -oX (nmap's and flagscan's): name, product, version, tunnel ("ssl").
struct XmlService {
    std::string name, product, version, tunnel;
    bool operator==(const XmlService&) const = default;
};

// Every TCP port's <service> of the -oX file PATH (one host), by port; a port without one has
// an empty XmlService. nullopt and ERROR when the file cannot be read.
std::optional<std::map<int, XmlService>> read_xml_services(const std::string& path, std::string& error);

// ---- processes (test/support/process.hpp) -------------------------------------------------

using testsupport::ProcessResult;
using testsupport::run_process;

// ---- environment -------------------------------------------------------------------------

std::string env_or(const char* name, const std::string& fallback);
int lab_id();  // FLAGSCAN_LAB_ID (else FLAGSCAN_LAB_ID_DEFAULT, 11) + GTEST_SHARD_INDEX; -1 if invalid
std::string lab_address(int last_octet);  // 10.77.<lab_id>.<last_octet>
// fd77:<lab_id>::<suffix> (suffix in hex: "2" the namespace, "100".."1ff" the /120, as lab.sh).
std::string lab_address6(const std::string& suffix);
std::string flagscan_bin();  // FLAGSCAN_BIN
std::string lab_script();    // FLAGSCAN_LAB (test/lab/lab.sh)

// True when COMMAND is an executable file in PATH.
bool in_path(const std::string& command);

// A directory removed with its contents on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// ---- files, port lists, captures -----------------------------------------------------------

std::string read_file(const std::string& path);  // the whole file; "" when unreadable

// "1-30,80,113": the port list as nmap and flagscan take it.
std::string port_argument(const std::vector<int>& ports);

// The host side of the lab's veth, from `lab.sh info ID` (host_if=fsh<ID>); empty if unknown.
std::string lab_host_interface(std::string& error);

// Empty when `ip -6 route get ADDRESS` sends it through the lab's veth (IFACE, from
// lab_host_interface), else why not: checked before any IPv6 packet leaves, so that nothing
// ever goes to the host's real network (which may have a default IPv6 route).
std::string lab_route6_error(const std::string& address, const std::string& iface);
// The same for every target (an address or a prefix, whose first address is checked) through
// the lab's veth: empty when all route into the lab, else why the first does not.
std::string lab_targets6_error(const std::vector<std::string>& targets);

// tcpdump writing every packet of the lab's /24 and IPv6 /64 seen on IFACE to FILE, for as long as it lives.
// Immediate mode, so that no packet waits in a kernel buffer when it is stopped; -Z root, so
// that it can write into the test's private temporary directory.
class Tcpdump {
public:
    Tcpdump(const std::string& iface, const std::string& file, const std::string& log);
    // The same inside network namespace NETNS (ip netns exec), with FILTER instead of the /24.
    Tcpdump(const std::string& iface, const std::string& file, const std::string& log, const std::string& netns,
            const std::string& filter);
    ~Tcpdump() { stop(); }
    Tcpdump(const Tcpdump&) = delete;
    Tcpdump& operator=(const Tcpdump&) = delete;

    const std::string& error() const { return error_; }

    // SIGINT, as a user would stop it (tcpdump then flushes the file and prints its counts);
    // SIGKILL if it has not exited 10 s later. Returns tcpdump's stderr.
    std::string stop();

private:
    [[noreturn]] static void exec_child(const std::vector<std::string>& argv, const std::string& log);
    void wait_until_listening();

    pid_t pid_ = -1;
    std::string log_;
    std::string error_;
};

// How many packets of the capture PCAP tcpdump's FILTER matches.
int pcap_matching(const std::string& pcap, const std::string& filter);

// tcpdump on the host side of the lab's veth into a fresh wire.pcap, for as long as it lives;
// `error` says why not.
struct VethCapture {
    TempDir dir;
    std::string pcap = dir.path() + "/wire.pcap";
    std::unique_ptr<Tcpdump> tcpdump;
    std::string error;
    VethCapture();
    void stop() {
        if (tcpdump) tcpdump->stop();
    }
};

// ---- the lab fixture ---------------------------------------------------------------------

// Brings lab <lab_id()> up once per test suite and down after it, even when tests fail.
// Tests are skipped when not root and fail with the reason when the lab cannot come up.
class LabTest : public ::testing::Test {
public:
    static void SetUpTestSuite();
    static void TearDownTestSuite();

protected:
    void SetUp() override;

    static const Layout& layout();

    // Runs `flagscan ARGS -oJ <tmp> TARGET`; the caller checks result.exit_code.
    struct Scan {
        ProcessResult process;
        ScanOutput output;
    };
    static Scan scan(const std::vector<std::string>& args, const std::string& target);
    // The same with several targets: `flagscan ARGS -oJ <tmp> TARGET...`.
    static Scan scan(const std::vector<std::string>& args, const std::vector<std::string>& targets);

    // Sets the lab's egress loss for the lifetime of the guard, then back to 0%.
    class LossGuard {
    public:
        explicit LossGuard(int percent);
        ~LossGuard();
        LossGuard(const LossGuard&) = delete;
        LossGuard& operator=(const LossGuard&) = delete;
        bool ok() const { return ok_; }
        const std::string& error() const { return error_; }

    private:
        bool ok_ = false;
        std::string error_;
    };

private:
    // Suite state: SetUpTestSuite is static, so this is where gtest lets it live.
    static inline std::optional<Layout> layout_;
    static inline std::string skip_reason_;
    static inline std::string setup_error_;
    static inline bool lab_started_ = false;
};

// Runs the lab script with ARGS for lab <lab_id()>; empty string on success, else why not.
std::string lab_command(const std::vector<std::string>& args);

// The same for lab ID instead of lab_id().
std::string lab_command_for(int id, const std::vector<std::string>& args);

// Skip message when not root, empty when root.
std::string root_skip_reason();

// An nftables table in lab `lab`'s namespace holding one rule (nft syntax, e.g. "tcp sport 22
// drop") in a filter chain on `hook` ("input" or "output"), for the guard's lifetime.
class NftRule {
public:
    NftRule(int lab, const std::string& hook, const std::string& rule);
    // The same in the namespace named NS (the services host's fssv<ID>).
    NftRule(const std::string& ns, const std::string& hook, const std::string& rule);
    ~NftRule();
    NftRule(const NftRule&) = delete;
    NftRule& operator=(const NftRule&) = delete;
    const std::string& error() const { return error_; }

private:
    std::string ns_;
    std::string table_;
    std::string error_;
};

// Lab `lab`'s namespace applying `verdict` ("drop", or "reject with icmp type admin-prohibited")
// to incoming TCP to a port range, for the guard's lifetime.
class PortRangeRule : public NftRule {
public:
    PortRangeRule(int lab, int first, int last, const std::string& verdict)
        : NftRule(lab, "input", "tcp dport " + std::to_string(first) + "-" + std::to_string(last) + " " + verdict) {}
};

// A second lab, ID, brought up with lab.sh's OPTIONS (e.g. --icmp-ratelimit default) for the
// lifetime of the object and down after it; one left behind by a crashed run is removed first.
class ExtraLab {
public:
    ExtraLab(int id, const std::vector<std::string>& options);
    ~ExtraLab();
    ExtraLab(const ExtraLab&) = delete;
    ExtraLab& operator=(const ExtraLab&) = delete;
    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    int id() const { return id_; }
    std::string address(int last_octet) const;  // 10.77.<id>.<last_octet>

private:
    int id_;
    std::string error_;
};

}  // namespace flagscan::live

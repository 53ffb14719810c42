// Live -g/--source-port: libpcap on the lab's veth sees every TCP and UDP probe (discovery's
// pings too) leave from the given port, the -w capture shows the same (and replays to the same
// verdicts), and verdicts stay exact; -sT says -g is not used, as nmap does.
#include <pcap/pcap.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <tuple>

#include "live_support.hpp"

namespace flagscan::live {
namespace {

constexpr int kNamespaceHost = 2;  // 10.77.ID.2, the namespace side of the veth
constexpr int kSubnetFirst = 16;   // 10.77.ID.16/28
constexpr int kSubnetSize = 16;
constexpr int kSourcePort = 53;
constexpr std::uint8_t kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

std::string scanner_address() { return lab_address(1); }  // the host side of the veth (lab.sh)
std::string host_interface() { return "fsh" + std::to_string(lab_id()); }  // lab.sh's name for it

// One IPv4 TCP or UDP packet as seen on the wire.
struct WirePacket {
    std::string src, dst;
    std::uint8_t protocol = 0;
    int sport = 0, dport = 0;
    std::uint8_t tcp_flags = 0;
};

std::string dotted(const std::uint8_t* p) {
    return std::to_string(p[0]) + "." + std::to_string(p[1]) + "." + std::to_string(p[2]) + "." + std::to_string(p[3]);
}

// An Ethernet frame's IPv4 TCP/UDP header fields, read independently of flagscan's decoder;
// nullopt for anything else or a frame too short to say.
std::optional<WirePacket> parse_frame(const std::uint8_t* frame, std::size_t length) {
    constexpr std::size_t kEthernet = 14;
    if (length < kEthernet + 20 || frame[12] != 0x08 || frame[13] != 0x00) return std::nullopt;
    const std::uint8_t* ip = frame + kEthernet;
    const std::size_t header = std::size_t{ip[0] & 0x0fu} * 4;
    if ((ip[0] >> 4) != 4 || header < 20) return std::nullopt;
    WirePacket packet{dotted(ip + 12), dotted(ip + 16), ip[9]};
    if (packet.protocol != 6 && packet.protocol != 17) return std::nullopt;
    const std::size_t needed = packet.protocol == 6 ? 14 : 8;  // up to TCP's flags; UDP's header
    if (length < kEthernet + header + needed) return std::nullopt;
    const std::uint8_t* l4 = ip + header;
    packet.sport = (l4[0] << 8) | l4[1];
    packet.dport = (l4[2] << 8) | l4[3];
    if (packet.protocol == 6) packet.tcp_flags = l4[13];
    return packet;
}

struct PcapCloser {
    void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

void collect(std::uint8_t* user, const pcap_pkthdr* header, const std::uint8_t* bytes) {
    auto* out = reinterpret_cast<std::vector<WirePacket>*>(user);
    if (auto packet = parse_frame(bytes, header->caplen)) out->push_back(*packet);
}

// Every TCP/UDP packet of a pcap file (flagscan's -w).
std::vector<WirePacket> read_pcap(const std::string& path, std::string& error) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    PcapHandle handle{pcap_open_offline(path.c_str(), errbuf)};
    std::vector<WirePacket> packets;
    if (!handle) error = errbuf;
    else if (pcap_datalink(handle.get()) != DLT_EN10MB) error = path + ": not an Ethernet capture";
    if (!error.empty()) return packets;
    pcap_loop(handle.get(), -1, collect, reinterpret_cast<std::uint8_t*>(&packets));
    return packets;
}

// libpcap on the lab's host veth, in its own thread, from construction to stop(): every TCP
// and UDP packet to or from the scanner's address. Immediate mode, so nothing waits in a
// kernel buffer when it is stopped.
class WireWatch {
public:
    WireWatch() {
        char errbuf[PCAP_ERRBUF_SIZE] = {};
        handle_.reset(pcap_create(host_interface().c_str(), errbuf));
        if (!handle_) {
            error_ = errbuf;
            return;
        }
        pcap_set_snaplen(handle_.get(), 256);
        pcap_set_immediate_mode(handle_.get(), 1);
        pcap_set_timeout(handle_.get(), 50);
        bpf_program program{};
        const std::string filter = "host " + scanner_address() + " and (tcp or udp)";
        if (pcap_activate(handle_.get()) < 0 ||
            pcap_compile(handle_.get(), &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 ||
            pcap_setfilter(handle_.get(), &program) != 0) {
            error_ = std::string("libpcap on ") + host_interface() + ": " + pcap_geterr(handle_.get());
            pcap_freecode(&program);
            handle_.reset();
            return;
        }
        pcap_freecode(&program);
        if (pcap_datalink(handle_.get()) != DLT_EN10MB) {
            error_ = host_interface() + " is not an Ethernet interface";
            handle_.reset();
            return;
        }
        thread_ = std::thread([this] {
            while (!stop_) pcap_dispatch(handle_.get(), -1, collect, reinterpret_cast<std::uint8_t*>(&packets_));
        });
    }
    ~WireWatch() { stop(); }
    WireWatch(const WireWatch&) = delete;
    WireWatch& operator=(const WireWatch&) = delete;

    const std::string& error() const { return error_; }

    // Waits for replies still on the way, stops the capture and returns what it saw.
    std::vector<WirePacket> stop() {
        if (thread_.joinable()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            stop_ = true;
            pcap_breakloop(handle_.get());
            thread_.join();
        }
        return packets_;
    }

private:
    PcapHandle handle_;
    std::vector<WirePacket> packets_;  // written by the thread only until it is joined
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::string error_;
};

// The scanner's TCP/UDP packets that did not leave from kSourcePort, as "proto dst:dport from
// sport" lines (at most ten), and how many probes each (target, protocol, port) received.
struct Outgoing {
    std::vector<std::string> elsewhere;
    std::size_t count = 0;
    std::map<std::tuple<std::string, int, int>, int> probes;  // (target, protocol, dport) -> probes
};

// Our probes: TCP without RST (the RSTs are the kernel's, answering a SYN,ACK; they leave from
// the same port, and are checked too) and UDP.
Outgoing outgoing(const std::vector<WirePacket>& packets) {
    Outgoing out;
    for (const auto& packet : packets) {
        if (packet.src != scanner_address()) continue;
        ++out.count;
        if (packet.sport != kSourcePort && out.elsewhere.size() < 10)
            out.elsewhere.push_back((packet.protocol == 6 ? "tcp " : "udp ") + packet.dst + ":" +
                                    std::to_string(packet.dport) + " from port " + std::to_string(packet.sport));
        if (packet.sport == kSourcePort && !(packet.tcp_flags & kTcpRst))
            ++out.probes[{packet.dst, packet.protocol, packet.dport}];
    }
    return out;
}

std::string lines(const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items) text += "  " + item + "\n";
    return text;
}

// Every packet the scanner sent left from kSourcePort, and each (target, protocol, port)
// listed got at least one probe from it.
void expect_all_from_source_port(const std::vector<WirePacket>& packets, const std::vector<std::string>& targets,
                                 int protocol, const std::vector<int>& ports, const std::string& where) {
    const Outgoing out = outgoing(packets);
    EXPECT_GT(out.count, 0u) << where << ": no packet from the scanner";
    EXPECT_TRUE(out.elsewhere.empty()) << where << ": packets not from port " << kSourcePort << ":\n"
                                       << lines(out.elsewhere);
    std::vector<std::string> missing;
    for (const auto& target : targets) {
        for (const int port : ports) {
            if (!out.probes.contains({target, protocol, port}) && missing.size() < 10)
                missing.push_back(target + ":" + std::to_string(port));
        }
    }
    EXPECT_TRUE(missing.empty()) << where << ": no " << (protocol == 6 ? "TCP" : "UDP") << " probe from port "
                                 << kSourcePort << " to:\n" << lines(missing);
}

std::vector<int> tcp_ports(const Layout& layout) {
    std::set<int> ports;
    for (int port = 1; port <= 30; ++port) ports.insert(port);
    for (const auto* some : {&layout.open_tcp, &layout.rejected_tcp, &layout.dropped_tcp}) ports.insert(some->begin(), some->end());
    return {ports.begin(), ports.end()};
}

std::vector<int> udp_ports(const Layout& layout) {
    std::set<int> ports{1000, 1001, 1002, 7};  // closed: port unreachable
    for (const auto* some : {&layout.open_udp, &layout.rejected_udp, &layout.dropped_udp}) ports.insert(some->begin(), some->end());
    return {ports.begin(), ports.end()};
}

std::string port_list(const std::vector<int>& ports) {
    std::string text;
    for (const int port : ports) text += (text.empty() ? "" : ",") + std::to_string(port);
    return text;
}

class SourcePort : public LabTest {
protected:
    // The scan succeeded and its port lines of PROTO are exactly EXPECTED.
    static void expect_verdicts(const Scan& scan, std::string_view proto, const VerdictMap& expected) {
        ASSERT_TRUE(scan.process.exited() && scan.process.exit_code == 0) << scan.process.describe();
        std::vector<PortKey> duplicates;
        const VerdictMap actual = verdicts_of(scan.output, proto, duplicates);
        EXPECT_TRUE(duplicates.empty()) << duplicates.size() << " ports reported twice";
        const std::string differences = describe_differences(expected, actual);
        EXPECT_TRUE(differences.empty()) << "scan differs from layout.conf:\n" << differences;
    }

    // `flagscan ARGS -g 53 -w FILE TARGET` with libpcap watching the wire; returns the scan,
    // the packets the watch saw and those of the -w file, and `flagscan --replay FILE`'s output.
    struct Watched {
        Scan scan;
        std::vector<WirePacket> wire;
        std::vector<WirePacket> file;
        ScanOutput replayed;
    };
    static Watched watched_scan(std::vector<std::string> args, const std::string& target) {
        const TempDir dir;
        const std::string capture = dir.path() + "/capture.pcap";
        args.insert(args.end(), {"-g", std::to_string(kSourcePort), "-w", capture});
        WireWatch watch;
        EXPECT_TRUE(watch.error().empty()) << watch.error();
        Watched out{scan(args, target), watch.stop(), {}, {}};
        std::string error;
        out.file = read_pcap(capture, error);
        EXPECT_TRUE(error.empty()) << error;
        const std::string json = dir.path() + "/replay.jsonl";
        const auto replay = run_process({flagscan_bin(), "--replay", capture, "-n", "--all-ports", "-oJ", json},
                                        std::chrono::seconds(60));
        EXPECT_TRUE(replay.exited() && replay.exit_code == 0) << replay.describe();
        out.replayed = read_scan_output(json);
        return out;
    }

    // `flagscan OPTION -p PORTS -Pn -n -g 53` of the namespace host, watched, whose port lines
    // must be exactly what the layout says (OPTION: -sS or -sU).
    static Watched scan_namespace_host(const std::string& option, const std::vector<int>& ports) {
        const std::string target = lab_address(kNamespaceHost);
        auto run = watched_scan({option, "-p", port_list(ports), "-Pn", "-n", "--all-ports"}, target);
        const bool udp = option == "-sU";
        VerdictMap expected;
        for (const int port : ports)
            expected[{target, port}] = udp ? expected_udp_verdict(layout(), port, false) : expected_syn_verdict(layout(), port, false);
        expect_verdicts(run.scan, udp ? "udp" : "tcp", expected);
        std::vector<PortKey> duplicates;  // the replay of the -w file reads every reply the same way
        const std::string differences = describe_differences(expected, verdicts_of(run.replayed, duplicates));
        EXPECT_TRUE(differences.empty()) << "the replay of the -w capture differs from layout.conf:\n" << differences;
        return run;
    }
};

// a. -sS -g 53: every SYN (and the kernel's RSTs) from port 53, in the wire and in the -w
//    file; every port's state and reason as the layout says.
TEST_F(SourcePort, SynScanLeavesFromTheGivenPort) {
    const std::vector<int> ports = tcp_ports(layout());
    const auto run = scan_namespace_host("-sS", ports);
    expect_all_from_source_port(run.wire, {lab_address(kNamespaceHost)}, 6, ports, "libpcap on the veth");
    expect_all_from_source_port(run.file, {lab_address(kNamespaceHost)}, 6, ports, "the -w capture");
}

// b. The same with 10% of the replies lost: retries leave from port 53 too (told apart by
//    their sequence numbers), and a late answer to an earlier try still counts.
TEST_F(SourcePort, SynScanWithLossRetriesFromTheGivenPort) {
    const LossGuard loss(10);
    ASSERT_TRUE(loss.ok()) << loss.error();
    std::vector<int> ports;
    for (int port = 1; port <= 1200; ++port) ports.push_back(port);
    const auto run = scan_namespace_host("-sS", ports);
    expect_all_from_source_port(run.wire, {lab_address(kNamespaceHost)}, 6, ports, "libpcap on the veth");
    std::size_t retried = 0;
    for (const auto& [key, count] : outgoing(run.wire).probes) retried += count > 1 ? 1 : 0;
    EXPECT_GT(retried, 0u) << "no port needed a retry: the loss did not happen";
}

// b2. Every try shares one connection 4-tuple: when an open port's SYN,ACK is lost, the target
//     keeps a half-open connection, and a retry whose SYN fell inside its window would draw a
//     RST that reads as "closed" (RFC 793 p.71). With every SYN,ACK of port 22 dropped, the
//     retries must find it filtered, never closed; port 23 (closed) stays closed.
TEST_F(SourcePort, LostSynAckThenRetryReadsFilteredNotClosed) {
    const NftRule lose_synacks{lab_id(), "output", "tcp sport 22 tcp flags & (syn|ack) == syn|ack drop"};
    ASSERT_TRUE(lose_synacks.error().empty()) << lose_synacks.error();
    const std::string target = lab_address(kNamespaceHost);
    const auto run = watched_scan({"-sS", "-p", "22,23", "-Pn", "-n", "--all-ports", "--max-retries", "3"}, target);
    expect_verdicts(run.scan, "tcp", {{{target, 22}, {"filtered", "no-response"}}, {{target, 23}, {"closed", "reset"}}});
    EXPECT_GE((outgoing(run.wire).probes[{target, 6, 22}]), 2u) << "port 22 was not retried";
}

// c. Discovery before the port scan: the SYN, ACK and UDP pings leave from port 53 too; the
//    hosts layout.conf has answering are found up and scanned exactly.
TEST_F(SourcePort, DiscoveryPingsLeaveFromTheGivenPort) {
    const std::vector<int> ports{22, 23, 113, 135};
    const auto run = watched_scan({"-sS", "-PS443", "-PA80", "-PU31337", "-p", port_list(ports), "-n", "--all-ports"},
                                  lab_address(kSubnetFirst) + "/28");
    std::vector<std::string> all, up;
    VerdictMap expected;
    for (int offset = 0; offset < kSubnetSize; ++offset) {
        const std::string host = lab_address(kSubnetFirst + offset);
        all.push_back(host);
        if (layout().dropped_hosts.contains(offset)) continue;
        up.push_back(host);
        for (const int port : ports) expected[{host, port}] = expected_syn_verdict(layout(), port, false);
    }
    expect_verdicts(run.scan, "tcp", expected);
    expect_all_from_source_port(run.wire, all, 6, {443, 80}, "discovery's TCP pings");
    expect_all_from_source_port(run.wire, all, 17, {31337}, "discovery's UDP ping");
    expect_all_from_source_port(run.wire, up, 6, ports, "the port scan");
}

// d. -sU -g 53: every datagram from port 53; ICMP errors (quoting the IP id that carries the
//    try) and replies to port 53 give every verdict as the layout says.
TEST_F(SourcePort, UdpScanLeavesFromTheGivenPort) {
    const std::vector<int> ports = udp_ports(layout());
    const auto run = scan_namespace_host("-sU", ports);
    expect_all_from_source_port(run.wire, {lab_address(kNamespaceHost)}, 17, ports, "libpcap on the veth");
    expect_all_from_source_port(run.file, {lab_address(kNamespaceHost)}, 17, ports, "the -w capture");
}

// e. A connect scan cannot choose its source port: flagscan says so, as nmap does, and scans.
TEST_F(SourcePort, ConnectScanSaysTheSourcePortIsNotUsed) {
    const std::string target = lab_address(kNamespaceHost);
    const auto result = scan({"-sT", "-g", std::to_string(kSourcePort), "-p", "22,23", "-Pn", "-n", "--all-ports"}, target);
    EXPECT_NE(result.process.err.find("-g/--source-port is not used by a connect scan (-sT)"), std::string::npos)
        << result.process.describe();
    expect_verdicts(result, "tcp", {{{target, 22}, {"open", "syn-ack"}}, {{target, 23}, {"closed", "conn-refused"}}});
    if (!in_path("nmap")) return;
    const auto nmap = run_process({"nmap", "-sT", "-g", std::to_string(kSourcePort), "-p", "22", "-Pn", "-n", target},
                                  std::chrono::seconds(60));
    EXPECT_NE(nmap.err.find("-g is incompatible"), std::string::npos) << "nmap no longer warns:\n" << nmap.describe();
}

// f. nmap beside flagscan: nmap -sS -g 53 sends every probe from port 53 too, and finds the
//    states flagscan finds.
TEST_F(SourcePort, NmapAlsoSendsEveryProbeFromTheGivenPort) {
    if (!in_path("nmap")) GTEST_SKIP() << "nmap is not installed";
    const std::vector<int> ports = tcp_ports(layout());
    const std::string target = lab_address(kNamespaceHost);
    const TempDir dir;
    const std::string xml = dir.path() + "/nmap.xml";
    WireWatch watch;
    ASSERT_TRUE(watch.error().empty()) << watch.error();
    const auto nmap = run_process({"nmap", "-sS", "-g", std::to_string(kSourcePort), "-p", port_list(ports), "-Pn", "-n",
                                   "-T4", "-oX", xml, target},
                                  std::chrono::seconds(120));
    const auto wire = watch.stop();
    ASSERT_TRUE(nmap.exited() && nmap.exit_code == 0) << nmap.describe();
    expect_all_from_source_port(wire, {target}, 6, ports, "nmap, libpcap on the veth");
    std::string error;
    const auto theirs = read_nmap_xml(xml, ports, error);
    ASSERT_TRUE(theirs) << error;
    const auto ours = scan_namespace_host("-sS", ports);
    std::vector<PortKey> duplicates;
    const std::string differences =
        describe_differences(states_only(*theirs), states_only(verdicts_of(ours.scan.output, "tcp", duplicates)));
    EXPECT_TRUE(differences.empty()) << "'expected' nmap -sS -g 53, 'got' flagscan:\n" << differences;
}

}  // namespace
}  // namespace flagscan::live

// Replay: re-derive every verdict of a captured scan with the same engine a live scan uses.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "flagscan/engine/engine.hpp"
#include "flagscan/engine/scan_loop.hpp"
#include "flagscan/net/bytes.hpp"
#include "flagscan/net/flow.hpp"
#include "flagscan/net/translate6.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

// What a packet of a capture is to the replay.
enum class Traffic : std::uint8_t {
    probe,       // may be a scan's probe: TCP that is no RST and no SYN,ACK, or UDP that answers nothing
    reply,       // anything else: RST, SYN,ACK, ICMP, a datagram answering an earlier one, ARP
    connection,  // a TCP conversation that carried data both ways (an SSH session, a web page)
    handshake,   // a segment after the peer's SYN,ACK on its flow (a connect scan's ACK, its data)
    os_probe,    // one of nmap's -O probes (os_probes' signatures): -O's, never a port scan's
};

// The capture's conversations, learnt in a first pass over it, so that each packet can be told
// apart from a scan's probes whatever its position: TCP flows that carried data (both ways: an
// established connection, RFC 793 3.4), flows a SYN,ACK answered, and the first datagram of
// each UDP flow (of two UDP flows between the same ports, the later one answers).
class Conversations {
public:
    // ORDINAL is the packet's place in the file; IP its whole bytes from the IP header on (for
    // the OS probes' signatures, U1's 300-byte payload included: without them, none is known).
    void add(const DecodedPacket& packet, std::uint64_t ordinal, ByteView ip = {});
    Traffic classify(const DecodedPacket& packet, std::uint64_t ordinal) const;

private:
    std::unordered_set<Flow, FlowHash> tcp_data_;    // flows whose segments carried data
    std::unordered_set<Flow, FlowHash> syn_acked_;   // flows (the SYN's direction) a SYN,ACK answered
    std::unordered_map<Flow, std::uint64_t, FlowHash> udp_first_;  // ordinal of each UDP flow's first datagram
    std::unordered_set<std::uint64_t> os_probes_;  // ordinals of nmap's -O probes
};

// A probe kind as a capture shows it: the protocol and, for TCP, the flags.
struct ProbeSignature {
    std::uint8_t protocol = 0;
    std::uint8_t flags = 0;  // 0 for UDP
    auto operator<=>(const ProbeSignature&) const = default;
    static ProbeSignature of(const DecodedPacket& packet);
    std::string str(std::uint64_t count = 2) const;  // "SYN probes", "FIN,ACK probe", "UDP datagrams"
};

// One scan found in a capture: its probe kinds (one lane each), and whom it probed where.
struct ScanRun {
    std::vector<ProbeKind> kinds;     // lane order
    std::vector<ProbeSignature> shapes;   // per lane: the probes that feed it
    std::vector<ProbedSlot> probed;       // whom it probed where: only what the capture shows
    bool kind_inferred = true;
    std::string name() const;  // "SYN", "SYN and UDP"
    // The packet (from the scanner) is one of this run's probes.
    bool takes(const DecodedPacket& packet) const;
    TargetSet targets() const { return TargetSet::sparse(probed); }
};

// What a capture shows about the scans in it, learnt from the packets Conversations calls probes.
class ScanSurvey {
public:
    void add(const DecodedPacket& packet, Traffic traffic, std::uint64_t ordinal);

    // What the user asked for: --scanner, a TCP scan type (-sS...), -sU. None: everything found.
    struct Choice {
        std::optional<Ipv4> scanner;
        const ProbeKind* tcp = nullptr;
        bool udp = false;
        const AddressBook* book = nullptr;  // a capture with IPv6: how the notes write its keys
    };
    struct Conclusion {
        Ipv4 scanner;
        std::string scanner_text;         // as the notes write it (an IPv6 scanner's own address)
        std::vector<ScanRun> runs;        // in capture order
        std::vector<std::string> notes;   // for stderr: what was left out and why, other scanners, contradictions
    };
    // The scanner is the address that sent the most probes of scans, unless given. Its probes
    // are grouped by shape; a group is a scan when it reached several ports or hosts (a lone
    // datagram to a DNS server is none, unless nothing else is). With no -s given, each scan is
    // a run, in capture order; with one given, the probes of that shape (ACK and Window probes
    // look alike: a capture says ACK, -sW says otherwise); -sS -sU make one run of two lanes.
    Result<Conclusion> conclude(const Choice& choice) const;

private:
    struct Group {
        std::uint64_t probes = 0;
        std::uint64_t first = 0;  // ordinal of its first probe
        std::unordered_set<std::uint32_t> hosts;
        std::vector<bool> ports = std::vector<bool>(65536);
        std::uint32_t port_count = 0;
        std::vector<std::uint64_t> probed;  // (host << 16) | port; made unique as it grows (retries repeat it)
        std::size_t unique_probed = 0;      // probed.size() when it was last made unique
        bool is_scan() const { return hosts.size() > 1 || port_count > 1; }
        void add(std::uint32_t host, std::uint16_t port);
        void make_unique();
    };
    struct Sender {
        std::map<ProbeSignature, Group> groups;
        std::uint64_t scan_probes() const;
        std::uint64_t probes() const;
    };
    using Ordered = std::vector<std::pair<ProbeSignature, const Group*>>;  // a sender's groups, in capture order
    static std::optional<std::size_t> busiest(const Ordered& order, std::uint8_t protocol, std::optional<std::uint8_t> flags);
    static void add_group(ScanRun& run, const Ordered& order, std::size_t i, const ProbeKind& kind, std::vector<bool>& used);
    static Result<ScanRun> given_run(const Choice& choice, const Ordered& order, std::vector<bool>& used, Conclusion& out);
    static std::vector<ScanRun> found_runs(const Ordered& order, std::vector<bool>& used);
    void left_out_notes(const Ordered& order, const std::vector<bool>& used, Conclusion& out) const;
    Ipv4 pick_scanner(const Choice& choice) const;
    std::vector<std::string> scanner_notes(Ipv4 scanner, const Choice& choice) const;
    std::map<Ipv4, Sender> senders_;
    std::uint64_t connection_packets_ = 0;
    std::uint64_t handshake_packets_ = 0;
};

struct ReplayCounts {
    std::uint64_t frames = 0;
    std::uint64_t undecodable = 0;  // malformed (short headers, lying lengths, bad checksums), not IP or ARP, or ICMPv6 RFC 7915 drops
    std::uint64_t probes = 0;
    Micros first = -1;  // the earliest timestamp of the run's probes and the packets that answered them
    Micros last = -1;   // the latest (records need not be in time order)
};

// Feeds every frame to the engine: the run's probes to replay_probe (the same record the live
// sender makes), replies to on_packet; connections and other scans' probes are left out. The
// capture's timestamps are the clock (hooks.tick gets each frame's before it is read). At the
// end, probes still unanswered get the verdict for silence. DECODER reads the frames as the
// passes before did (a capture with IPv6: FrameDecoder::adding over the replay's book).
ReplayCounts replay_capture(Engine& engine, LinkType link, const std::function<std::optional<Frame>()>& next,
                            const Conversations& conversations, const ScanRun& run, Ipv4 scanner,
                            const LoopHooks& hooks = {}, const FrameDecoder& decoder = FrameDecoder{});

}  // namespace flagscan

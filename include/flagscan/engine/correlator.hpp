// Correlator: ties each reply to the probe that caused it: cookie check, then the open-probe table.
#pragma once

#include <algorithm>
#include <array>
#include <functional>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/probe.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/probe/cookie.hpp"
#include "flagscan/probe/probe_kind.hpp"
#include "flagscan/targets/target_set.hpp"

namespace flagscan {

// Who we are on the wire: replies must come back to this address and these source ports.
// Every probe has a lane-and-try number, l * max_tries + k for try k of lane l, that a reply
// gives back, so the reply names both the probe kind it answers and the try without a lookup.
// By default the number rides on the source port: try k of lane l leaves from sport_base +
// l * max_tries + k (an ICMP query carries that port as its identifier). With a fixed source
// port (-g, for firewalls that trust replies from port 53 or 20) every TCP and UDP probe leaves
// from that one port, and the number rides on the cookie instead (TCP sequence number, UDP
// IP identification); ICMP queries keep the identifier scheme (-g is about ports, as in nmap).
// In the TCP sequence number the tries stand seq_stride() apart, never next to each other: all
// tries share one connection 4-tuple, and a retry whose SYN fell inside the window of the
// half-open connection an earlier try left (its SYN,ACK lost) would be answered with a RST
// (RFC 793 p.71, "If the SYN is in the window it is an error, send a reset"; Linux does), and
// that RST acknowledges the retry exactly as a closed port's does: an open port read closed.
struct ScannerIdentity {
    Ipv4 source;
    Port sport_base;
    std::uint8_t max_tries = 1;  // 1 + max retries
    std::uint8_t lanes = 1;      // probe kinds in the scan
    Port fixed_sport = Port{};    // -g: the one source port of every TCP and UDP probe; 0: none

    std::uint32_t number(std::uint8_t lane, std::uint8_t try_no) const { return std::uint32_t{lane} * max_tries + try_no; }
    Port port_for(std::uint8_t lane, std::uint8_t try_no) const {
        return Port{static_cast<std::uint16_t>(sport_base.value() + number(lane, try_no))};
    }
    std::uint32_t port_span() const { return std::uint32_t{lanes} * max_tries; }  // numbers in use
    // Distance between the sequence numbers of two consecutive lane-and-try numbers to a fixed
    // source port: the sequence space shared out evenly, so tries stand at least 2^16 apart (the
    // largest window a SYN without window scaling can open) for any port_span() <= 2^16.
    std::uint32_t seq_stride() const {
        return static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{1} << 31, (std::uint64_t{1} << 32) / std::max<std::uint32_t>(1, port_span())));
    }
    // Whether probes of this protocol leave from the fixed source port.
    bool fixed_for(std::uint8_t protocol) const {
        return fixed_sport.value() != 0 && (protocol == ipproto::tcp || protocol == ipproto::udp);
    }
    Port sport_for(std::uint8_t lane, std::uint8_t try_no, std::uint8_t protocol) const {
        return fixed_for(protocol) ? fixed_sport : port_for(lane, try_no);
    }
};

// A reply that passed the cookie check: which probe it answers and what it says.
struct Answer {
    Ipv4 target;
    Port port;                // 0 for ICMP queries
    std::uint8_t try_no = 0;  // which send it answers, from its lane-and-try number
    ReplyEvidence evidence;
    std::uint8_t lane = 0;
    // ARP, and a UDP datagram to a fixed source port: a reply names no try (taken as the latest)
    static constexpr std::uint8_t kUnknownTry = 255;
};

// How a reply's echo of the probe is checked. A live scan knows its cookie key and checks by
// recomputing the cookie (no lookup needed). A replay of a capture, ours or another tool's,
// does not: it checks against the sequence numbers the capture shows each try was sent with.
enum class EchoCheck : std::uint8_t { keyed, recorded };

class Correlator {
public:
    enum class Phase : std::uint8_t { in_flight, queued, exhausted };
    struct Entry {
        std::uint64_t index = 0;
        Micros sent = 0;          // time of the latest send
        Micros previous_sent = 0;  // time of the send before it (try_no - 1)
        Micros first_sent = 0;     // time of the first send (try 0)
        std::uint8_t try_no = 0;  // try number of the latest send
        Phase phase = Phase::in_flight;
        bool repeat_try = false;     // queued to resend the same try (its loss was our congestion)
        std::uint8_t repeats = 0;    // such free resends so far
        Port first_sport;            // our source port of the first try (for --explain)
        Port sport;                  // ... and of the latest
    };
    struct Expired {
        std::uint64_t key;
        Entry entry;
    };

    // kinds[lane]: the probe kind each lane sends.
    // tcp_data_length: the data bytes our TCP probes carry (--data-length), which a RST,ACK to
    // them acknowledges beside the SYN or FIN (RFC 793 3.3: SEG.LEN).
    Correlator(const ScannerIdentity& me, const CookieKey& key, std::vector<const ProbeKind*> kinds,
               EchoCheck check = EchoCheck::keyed, std::uint16_t tcp_data_length = 0);

    // The probe fields that carry the cookie (and, with a fixed source port, the source port),
    // for the sender.
    void stamp(Probe& probe) const;
    // Try `try_no` of the probe to `target` (scan index `index`): from our address and the
    // lane-and-try port, cookie stamped. What the engine sends, and what --offline crafts.
    Probe probe_for(const Target& target, std::uint64_t index, std::uint8_t try_no, std::uint16_t ip_id) const;
    // Cookie check, without a table lookup; nullopt for strays and for packets not about us.
    std::optional<Answer> identify(const DecodedPacket& packet) const;

    // A probe sent at `now`, whose timer runs out at `due` (now + its host's timeout).
    void record(const Probe& probe, Micros now, Micros due);
    // EchoCheck::recorded: whether `probe` is its port's latest recorded try seen again, the same
    // datagram (ports, seq, ack, IP id and data length) within kSameDatagram of it: a capture on
    // two interfaces of one path (tcpdump -i any over a bridge) holds every frame twice.
    bool repeats_latest(const Probe& probe, Micros now) const;
    static constexpr Micros kSameDatagram = 10 * kMillisecond;
    // EchoCheck::recorded: when try `try_no` of the probe `key` was sent, if it is among the
    // recent tries kept; nullopt otherwise (and always for a live scan).
    std::optional<Micros> recorded_send(std::uint64_t key, std::uint8_t try_no) const;
    Entry* find(std::uint64_t key);
    void erase(std::uint64_t key);
    void set_phase(std::uint64_t key, Phase phase);

    // An in-flight probe whose timer ran out by `now`, if any (the earliest first). The caller
    // may find that the probe's host now allows it longer and reschedule() it.
    std::optional<Expired> pop_expired(Micros now);
    void reschedule(std::uint64_t key, Micros due);
    // When the earliest in-flight probe's timer runs out; nullopt when none is in flight.
    std::optional<Micros> next_expiry();

    std::size_t open_count() const { return open_.size(); }
    void reserve(std::size_t probes);  // room for this many open probes (a replay knows how many)
    std::size_t in_flight() const { return in_flight_; }  // entries in Phase::in_flight
    std::uint32_t in_flight(Ipv4 target) const;            // ... to one target
    std::uint32_t open_count(Ipv4 target) const;           // open entries (any phase) of one target
    const std::unordered_map<std::uint64_t, Entry>& open_probes() const { return open_; }
    static Ipv4 target_of(std::uint64_t k) { return Ipv4{static_cast<std::uint32_t>(k >> 24)}; }
    static std::uint8_t lane_of(std::uint64_t k) { return static_cast<std::uint8_t>(k >> 16); }
    static Port port_of(std::uint64_t k) { return Port{static_cast<std::uint16_t>(k)}; }

    // An open probe's key: (target, lane, port).
    static std::uint64_t key(Ipv4 target, std::uint8_t lane, Port port) {
        return (std::uint64_t{target.value()} << 24) | (std::uint64_t{lane} << 16) | port.value();
    }
    static std::uint64_t key(const Answer& answer) { return key(answer.target, answer.lane, answer.port); }

private:
    // What the probe that a reply answers must have carried: its seq and ack, and its try.
    struct Sent {
        Port sport;
        std::uint32_t seq = 0;
        std::uint32_t ack = 0;
        std::uint8_t try_no = 0;
        std::uint16_t ip_id = 0;
        std::uint8_t lane = 0;
        std::uint16_t data_length = 0;  // TCP data bytes (RFC 793 SEG.LEN less SYN and FIN)
    };
    // What a reply gives back of the probe it answers, were that a probe of a given lane: one of
    // its fields (the value), nothing (a UDP datagram, a bare SYN: matched on ports alone), or
    // nothing it could (the reply cannot answer that lane's probe). `acked`: the seq plus the
    // probe's data length (what a RST,ACK acknowledges, its SYN and FIN already taken off).
    struct Echo {
        enum class Field : std::uint8_t { impossible, none, seq, acked, ack, ip_id, query_seq };
        Field field = Field::impossible;
        std::uint32_t value = 0;
    };
    Sent sent_by(std::uint8_t lane, std::uint8_t try_no, Port sport, std::uint32_t cookie, std::uint32_t number) const;
    static bool carried(const Sent& sent, const Echo& echo);
    template <class EchoOf>
    std::optional<Sent> sent_probe(Ipv4 target, std::uint8_t protocol, Port port, Port our_port, EchoOf echo_of) const;
    template <class EchoOf>
    std::optional<Sent> fixed_port_probe(Ipv4 target, std::uint8_t protocol, Port port, EchoOf echo_of) const;
    std::optional<std::uint32_t> number_echoed(const Echo& echo, std::uint32_t cookie) const;
    template <class EchoOf>
    std::optional<Sent> recorded_probe(Ipv4 target, std::uint8_t protocol, Port port, Port our_port, EchoOf echo_of) const;
    std::optional<Answer> identify_tcp(const DecodedPacket& packet) const;
    std::optional<Answer> identify_udp(const DecodedPacket& packet) const;
    std::optional<Answer> identify_query_reply(const DecodedPacket& packet) const;
    std::optional<Answer> identify_icmp_error(const DecodedPacket& packet) const;
    std::optional<Answer> identify_arp(const DecodedPacket& packet) const;
    // A probe's timer: a min-heap on `due`; a timer is stale once its probe was answered or
    // sent again (the entry's send time then differs).
    struct Timer {
        Micros due;
        std::uint64_t key;
        Micros sent;
        friend bool operator>(const Timer& a, const Timer& b) { return a.due > b.due; }
    };
    // Open probes per target, for the per-host window and for forgetting finished hosts.
    struct Load {
        std::uint32_t in_flight = 0;
        std::uint32_t open = 0;
    };
    bool is_stale(const Timer& timer) const;
    void count(std::uint64_t key, int in_flight, int open);
    void pop_timer();

    ScannerIdentity me_;
    CookieKey cookie_;
    std::vector<const ProbeKind*> kinds_;
    EchoCheck check_;
    std::uint16_t tcp_data_length_ = 0;
    // EchoCheck::recorded: the latest tries of each probe (older ones are unlikely to be
    // answered after four more were sent, and matching them would need a list per probe).
    struct RecentTries {
        std::array<Sent, 4> tries{};
        std::uint32_t count = 0;  // tries recorded so far; the latest is at (count - 1) % 4
        std::array<Micros, 4> sent_at{};  // when each was sent
        const Sent& latest() const { return tries[(count - 1) % tries.size()]; }
        Micros latest_at() const { return sent_at[(count - 1) % tries.size()]; }
    };
    std::unordered_map<std::uint64_t, RecentTries> recorded_;
    std::unordered_map<std::uint64_t, Entry> open_;
    std::vector<Timer> timers_;  // heap: std::greater, the earliest due on top
    std::unordered_map<std::uint32_t, Load> loads_;  // by target address
    std::size_t in_flight_ = 0;
};

}  // namespace flagscan

// IPv6 probes on the lab's wire (fd77:ID::/64): ProbeBuilder's packets through the raw IPv6 sink, NDP through LinkSink, -sT's driver; the lab's answers captured.
#include "live_support.hpp"

#include <cerrno>
#include <cstdio>
#include <fstream>

#include "flagscan/capture/live_capture.hpp"
#include "flagscan/engine/clock.hpp"
#include "flagscan/net/address_book.hpp"
#include "flagscan/net/decode6.hpp"
#include "flagscan/probe/probe_builder.hpp"
#include "flagscan/probe/udp_payloads.hpp"
#include "flagscan/wire/connect_driver.hpp"
#include "flagscan/wire/raw_socket_sink.hpp"

namespace flagscan::live {
namespace {

constexpr int kOpen = 22, kClosed = 23, kRejected = 113, kDropped = 135;  // layout.conf's TCP roles

class Send6Lab : public LabTest {
protected:
    void SetUp() override {
        LabTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        ASSERT_TRUE(layout().open_tcp.contains(kOpen) && layout().rejected_tcp.contains(kRejected) &&
                    layout().dropped_tcp.contains(kDropped) && layout().open_udp.contains(53));
        std::string error;
        iface_ = lab_host_interface(error);
        ASSERT_FALSE(iface_.empty()) << error;
        // Network safety: nothing is sent before every target is shown to route into the lab.
        for (const auto& target : {namespace_host(), subnet_host()}) {
            const std::string why = lab_route6_error(target.str(), iface_);
            ASSERT_TRUE(why.empty()) << why;
        }
        target_key_ = book_.add(Ipv6Range{namespace_host(), namespace_host()}).value();
        subnet_key_ = book_.add(Ipv6Range{subnet_host(), subnet_host()}).value();
        us_key_ = *book_.key_for(us());
    }

    static Ipv6 us() { return *Ipv6::parse(lab_address6("1")); }
    static Ipv6 namespace_host() { return *Ipv6::parse(lab_address6("2")); }
    static Ipv6 subnet_host() { return *Ipv6::parse(lab_address6("100")); }

    // A capture of every IPv6 frame coming in on the lab's veth, started.
    std::unique_ptr<LiveCapture> capture() const {
        CaptureOptions options;
        options.device = iface_;
        options.filter = "ip6";
        auto opened = LiveCapture::open(options);
        EXPECT_TRUE(opened) << opened.error();
        if (!opened) return nullptr;
        (*opened)->start();
        return std::move(opened).value();
    }

    // Every IPv6 frame the capture hands over in the next `how_long`, decoded.
    static std::vector<DecodedPacket6> replies(LiveCapture& capture, Micros how_long) {
        const SteadyClock clock;
        const Micros until = clock.now() + how_long;
        std::vector<DecodedPacket6> out;
        std::vector<Frame> frames;
        while (clock.now() < until) {
            frames.clear();
            capture.wait(until, frames);
            for (const auto& frame : frames) {
                if (auto packet = decode_frame6(frame.link.value_or(capture.link()), ByteView{frame.span()})) out.push_back(*packet);
            }
        }
        return out;
    }

    // The probes built for `probes` sent in one batch through a raw IPv6 socket bound to the veth.
    SinkStats send(const ProbeBuilder& builder, const std::vector<Probe>& probes) const {
        auto sink = RawSocketSink::open_ipv6(iface_);
        EXPECT_TRUE(sink) << sink.error();
        if (!sink) return {};
        std::vector<std::vector<std::uint8_t>> packets;
        std::vector<std::span<const std::uint8_t>> views;
        for (const auto& probe : probes) {
            packets.emplace_back(builder.size());
            packets.back().resize(builder.build(probe, packets.back()));
        }
        for (const auto& packet : packets) views.emplace_back(packet);
        EXPECT_EQ(sink->send(views), views.size());
        return sink->stats();
    }

    Probe probe(Ipv4 dst, int port, int i) const {
        return Probe{.src = us_key_, .dst = dst, .sport = Port{static_cast<std::uint16_t>(41000 + i)},
                     .dport = Port{static_cast<std::uint16_t>(port)}, .seq = 0x10000u * static_cast<std::uint32_t>(i + 1) + 7,
                     .ip_id = static_cast<std::uint16_t>(0xa000 + i)};
    }

    std::string iface_;
    AddressBook book_;
    Ipv4 target_key_, subnet_key_, us_key_;
};

// A SYN to an open, a closed, a rejected and a dropped port of fd77:ID::2 and fd77:ID::100:
// SYN+ACK and RST acknowledging our seq + 1 (RFC 793 3.4), ICMPv6 admin-prohibited (RFC 4443
// 3.1, nft's reject) quoting the probe with its flow label, and nothing.
TEST_F(Send6Lab, SynProbesThroughTheRawSink) {
    const ProbeKind* kinds[] = {&syn_kind()};
    auto six = ProbeBuilder::create(kinds, ProbeShape{}, nullptr, &book_);
    ASSERT_TRUE(six) << six.error();
    std::vector<Probe> probes;
    for (const Ipv4 target : {target_key_, subnet_key_}) {
        for (const int port : {kOpen, kClosed, kRejected, kDropped}) probes.push_back(probe(target, port, static_cast<int>(probes.size())));
    }
    auto cap = capture();
    ASSERT_TRUE(cap);
    const SinkStats stats = send(*six, probes);
    EXPECT_EQ(stats.sent, probes.size());
    EXPECT_EQ(stats.failed, 0u);
    std::map<std::pair<Ipv6, int>, std::string> seen;  // (target, port) -> what came back (a resent reply is the same)
    for (const auto& reply : replies(*cap, 1500 * kMillisecond)) {
        for (const auto& p : probes) {
            const Ipv6 target = *book_.address_of(p.dst);
            if (reply.ip.src != target || reply.ip.dst != us()) continue;
            if (reply.tcp && reply.tcp->dport == p.sport && reply.tcp->sport == p.dport && reply.tcp->ack == p.seq + 1)
                seen[{target, p.dport.value()}] = reply.tcp->flags.has(TcpFlags::syn) ? "syn-ack" : "rst";
            const auto& icmp = reply.icmp6;
            if (icmp && icmp->quoted && icmp->quoted->sport == p.sport && icmp->quoted->dport == p.dport &&
                icmp->quoted->ip.flow_label == p.ip_id && icmp->quoted->tcp_seq == p.seq)
                seen[{target, p.dport.value()}] = "icmp6 " + std::to_string(icmp->type) + "/" + std::to_string(icmp->code);
        }
    }
    for (const auto& target : {namespace_host(), subnet_host()}) {
        SCOPED_TRACE(target.str());
        const auto at = [&seen, &target](int port) { return seen[std::make_pair(target, port)]; };
        EXPECT_EQ(at(kOpen), "syn-ack");
        EXPECT_EQ(at(kClosed), "rst");
        EXPECT_EQ(at(kRejected), "icmp6 1/1");
        EXPECT_EQ(at(kDropped), "");
    }
}

// --badsum over IPv6: the lab's kernel checks the TCP checksum (RFC 8200 8.1 makes it
// mandatory) and drops our SYNs to an open and a closed port: nothing comes back.
TEST_F(Send6Lab, BadsumSynsDrawNoReply) {
    ProbeShape shape;
    shape.badsum = true;
    const ProbeKind* kinds[] = {&syn_kind()};
    auto six = ProbeBuilder::create(kinds, shape, nullptr, &book_);
    ASSERT_TRUE(six) << six.error();
    const std::vector<Probe> probes{probe(target_key_, kOpen, 0), probe(target_key_, kClosed, 1)};
    auto cap = capture();
    ASSERT_TRUE(cap);
    EXPECT_EQ(send(*six, probes).sent, probes.size());
    for (const auto& reply : replies(*cap, 1000 * kMillisecond)) {
        EXPECT_FALSE(reply.tcp && reply.ip.dst == us()) << "a reply from port " << reply.tcp->sport.value();
    }
}

// UDP to an open (the listener echoes) and a closed port, and an ICMPv6 echo request: the
// datagram comes back, the port unreachable (RFC 4443 3.1 code 4) quotes the flow label that
// carries the cookie's 16 bits, the echo reply (4.2) returns identifier and sequence.
TEST_F(Send6Lab, UdpAndEchoProbesThroughTheRawSink) {
    const ProbeKind* kinds[] = {&udp_kind(), &ping_echo_kind()};
    auto payloads = UdpPayloads::parse("udp 53 \"flagscan\"\n");
    ASSERT_TRUE(payloads);
    auto six = ProbeBuilder::create(kinds, ProbeShape{}, &*payloads, &book_);
    ASSERT_TRUE(six) << six.error();
    Probe open = probe(target_key_, 53, 0), closed = probe(target_key_, 54, 1), echo = probe(subnet_key_, 0, 2);
    echo.lane = 1;
    auto cap = capture();
    ASSERT_TRUE(cap);
    EXPECT_EQ(send(*six, {open, closed, echo}).sent, 3u);
    bool echoed = false, unreachable = false, replied = false;
    for (const auto& reply : replies(*cap, 1500 * kMillisecond)) {
        if (reply.ip.dst != us()) continue;
        echoed |= reply.udp && reply.udp->sport == open.dport && reply.udp->dport == open.sport;
        const auto& icmp = reply.icmp6;
        unreachable |= icmp && icmp->type == icmp6_type::unreachable && icmp->code == icmp6_unreachable::port &&
                       icmp->quoted && icmp->quoted->dport == closed.dport && icmp->quoted->ip.flow_label == closed.ip_id;
        replied |= icmp && icmp->type == icmp6_type::echo_reply && reply.ip.src == subnet_host() &&
                   icmp->id == echo.sport.value() && icmp->seq == static_cast<std::uint16_t>(echo.seq);
    }
    EXPECT_TRUE(echoed);
    EXPECT_TRUE(unreachable);
    EXPECT_TRUE(replied);
}

// -PR over IPv6: our Neighbor Solicitation for fd77:ID::2, sent as a frame through LinkSink, is
// answered by a solicited Neighbor Advertisement (RFC 4861 7.2.4) naming its MAC.
TEST_F(Send6Lab, NeighborSolicitationThroughTheLinkSink) {
    std::ifstream file("/sys/class/net/" + iface_ + "/address");
    std::string text;
    std::getline(file, text);
    MacAddress mac{};
    ASSERT_EQ(std::sscanf(text.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]), 6) << text;
    ProbeShape shape;
    shape.source_mac = mac;
    const ProbeKind* kinds[] = {&ping_arp_kind()};
    auto six = ProbeBuilder::create(kinds, shape, nullptr, &book_);
    ASSERT_TRUE(six) << six.error();
    std::vector<std::uint8_t> frame(six->size());
    frame.resize(six->build(probe(target_key_, 0, 0), frame));
    auto link = LinkSink::open(iface_);
    ASSERT_TRUE(link) << link.error();
    auto cap = capture();
    ASSERT_TRUE(cap);
    const std::span<const std::uint8_t> views[] = {frame};
    EXPECT_EQ(link->send(views), 1u);
    bool advertised = false;
    for (const auto& reply : replies(*cap, 1000 * kMillisecond)) {
        const auto& icmp = reply.icmp6;
        advertised |= icmp && icmp->type == icmp6_type::neighbor_advertisement && icmp->neighbor &&
                      icmp->neighbor->target == namespace_host() && icmp->neighbor->solicited && reply.ip.dst == us() &&
                      icmp->neighbor->link_address.has_value();
    }
    EXPECT_TRUE(advertised);
}

// -sT over IPv6: the driver connects to the keys' addresses; the kernel's outcomes are the
// layout's (EACCES is ICMPv6 admin-prohibited, filtered like ICMP 3/13).
TEST_F(Send6Lab, ConnectDriverOverIpv6) {
    auto driver = ConnectDriver::open(std::nullopt, iface_, 2 * kSecond, 16, &book_);
    ASSERT_TRUE(driver) << driver.error();
    std::vector<Probe> probes;
    for (const int port : {kOpen, kClosed, kRejected, kDropped}) probes.push_back(probe(target_key_, port, static_cast<int>(probes.size())));
    const SteadyClock clock;
    std::vector<TimedAnswer> out;
    for (const auto& p : probes) driver->start(p, clock.now(), out);
    const Micros until = clock.now() + 1500 * kMillisecond;
    while (clock.now() < until) driver->wait(until, clock, out);
    std::map<int, ReplyEvidence> answers;
    for (const auto& [answer, ts] : out) {
        EXPECT_EQ(answer.target, target_key_);
        answers[answer.port.value()] = answer.evidence;
    }
    EXPECT_FALSE(driver->failure());
    ASSERT_TRUE(answers.contains(kOpen) && answers.contains(kClosed) && answers.contains(kRejected));
    EXPECT_EQ(answers[kOpen].flags, evidence_for_connect_error(0)->flags);
    EXPECT_EQ(answers[kClosed].flags, evidence_for_connect_error(ECONNREFUSED)->flags);
    EXPECT_EQ(answers[kRejected].kind, ReplyEvidence::Kind::icmp_unreachable);
    EXPECT_EQ(answers[kRejected].icmp_code, 13);
    EXPECT_FALSE(answers.contains(kDropped));
}

}  // namespace
}  // namespace flagscan::live

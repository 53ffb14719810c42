// Every row of every probe kind's rule table, reached from real reply bytes through the
// correlator's cookie check; and each kind against Linux-like and Windows-like stacks.
#include <gtest/gtest.h>

#include "flagscan/engine/correlator.hpp"
#include "flagscan/wire/sim_network.hpp"
#include "sim_scan.hpp"

namespace flagscan {
namespace {

using testing::kScanner;
using testing::one_host;
using testing::SimScan;

const Ipv4 kTarget{10, 77, 0, 2};

struct RowCase {
    const ProbeKind* kind;
    std::size_t row;
};

std::string case_name(const ::testing::TestParamInfo<RowCase>& info) {
    return std::string(info.param.kind->name) + "_row" + std::to_string(info.param.row);
}

std::vector<RowCase> all_rows() {
    std::vector<RowCase> cases;
    for (const auto& kind : all_probe_kinds()) {
        for (std::size_t row = 0; row < kind.rules.size(); ++row) cases.push_back({&kind, row});
    }
    return cases;
}

// The reply a real stack would send that this row describes, as IPv4 bytes.
std::vector<std::uint8_t> reply_for(const ProbeKind& kind, const Rule& row, const Probe& probe,
                                    std::span<const std::uint8_t> probe_bytes) {
    if (row.kind == ReplyEvidence::Kind::icmp_unreachable) {
        std::uint8_t code = 0;
        while (!(row.icmp_codes & (1u << code))) ++code;
        return make_icmp_error(kTarget, 3, code, probe_bytes, 63);
    }
    const std::uint16_t window = row.window == Rule::Window::nonzero ? 512 : 0;
    if (kind.flags.any(TcpFlags::ack)) {  // RST <SEQ=SEG.ACK>, no ACK bit (RFC 793 p.36)
        return make_tcp_packet(kTarget, kScanner, probe.dport, probe.sport, probe.ack, 0, TcpFlags{row.flags_value}, window, 63);
    }
    if (row.flags_value == TcpFlags::syn) {  // simultaneous open: their own SYN, acknowledging nothing
        return make_tcp_packet(kTarget, kScanner, probe.dport, probe.sport, 99, 0, TcpFlags{TcpFlags::syn}, 512, 63);
    }
    const std::uint32_t used = (kind.flags.any(TcpFlags::syn) ? 1u : 0u) + (kind.flags.any(TcpFlags::fin) ? 1u : 0u);
    const auto flags = TcpFlags{static_cast<std::uint8_t>(row.flags_value | TcpFlags::ack)};
    return make_tcp_packet(kTarget, kScanner, probe.dport, probe.sport, 99, probe.seq + used, flags, window, 63);
}

class RuleRow : public ::testing::TestWithParam<RowCase> {};

TEST_P(RuleRow, RealBytesReachTheRow) {
    const auto& [kind, row_index] = GetParam();
    const Rule& row = kind->rules[row_index];
    const ScannerIdentity me{kScanner, Port{40000}, 3};
    Correlator correlator{me, CookieKey{5, 6}, {kind}};
    Probe probe;
    probe.src = kScanner;
    probe.dst = kTarget;
    probe.dport = Port{80};
    probe.sport = Port{40001};
    correlator.stamp(probe);
    auto builder = ProbeBuilder::create(*kind, ProbeShape{});
    std::vector<std::uint8_t> bytes(builder->size());
    builder->build(probe, bytes);

    ReplyEvidence evidence;  // silence
    if (row.kind != ReplyEvidence::Kind::none) {
        auto reply = reply_for(*kind, row, probe, bytes);
        auto answer = correlator.identify(*decode_ipv4(ByteView{reply}));
        ASSERT_TRUE(answer) << "the cookie check refused a genuine reply";
        EXPECT_EQ(answer->target, kTarget);
        EXPECT_EQ(answer->port, Port{80});
        EXPECT_EQ(answer->try_no, 1);
        evidence = answer->evidence;
    }
    EXPECT_EQ(match_rule(*kind, evidence), &row);
    EXPECT_FALSE(row.basis.empty());
    EXPECT_NE(rule_reason(row, evidence), Reason::none);
}

INSTANTIATE_TEST_SUITE_P(AllKinds, RuleRow, ::testing::ValuesIn(all_rows()), case_name);

PortState verdict(const ProbeKind& kind, bool windows_like, std::uint16_t port) {
    SimConfig net;
    SimHost host;
    host.open = {22};
    host.dropped = {135};
    host.windows_like = windows_like;
    net.hosts[kTarget] = host;
    SimScan scan{one_host(kTarget), {Port{22}, Port{23}, Port{135}}, net, kind};
    scan.run();
    return scan.at(kTarget, port).state;
}

struct StackCase {
    char letter;
    PortState linux_open, windows_open, closed, dropped;
};

TEST(Stacks, EachKindAgainstLinuxAndWindows) {
    using S = PortState;
    const StackCase cases[] = {
        {'S', S::open, S::open, S::closed, S::filtered},
        {'F', S::open_filtered, S::closed, S::closed, S::open_filtered},
        {'N', S::open_filtered, S::closed, S::closed, S::open_filtered},
        {'X', S::open_filtered, S::closed, S::closed, S::open_filtered},
        {'A', S::unfiltered, S::unfiltered, S::unfiltered, S::filtered},
        {'W', S::closed, S::closed, S::closed, S::filtered},
        {'M', S::closed, S::closed, S::closed, S::open_filtered},
    };
    for (const auto& c : cases) {
        const ProbeKind& kind = *probe_kind_by_letter(c.letter);
        EXPECT_EQ(verdict(kind, false, 22), c.linux_open) << kind.name << " open port, Linux";
        EXPECT_EQ(verdict(kind, true, 22), c.windows_open) << kind.name << " open port, Windows";
        EXPECT_EQ(verdict(kind, false, 23), c.closed) << kind.name << " closed port";
        EXPECT_EQ(verdict(kind, false, 135), c.dropped) << kind.name << " dropped port";
    }
}

TEST(Rules, StrayFlagCombinationMatchesNoRow) {
    ReplyEvidence evidence{ReplyEvidence::Kind::tcp, TcpFlags{TcpFlags::ack}, 0, 0, 64};
    EXPECT_EQ(match_rule(syn_kind(), evidence), nullptr);
    ReplyEvidence icmp{ReplyEvidence::Kind::icmp_unreachable, TcpFlags{}, 0, 4, 64};  // fragmentation needed
    EXPECT_EQ(match_rule(syn_kind(), icmp), nullptr);
}

TEST(Rules, IcmpCodesGiveNmapReasons) {
    EXPECT_EQ(to_string(reason_for_icmp_unreachable(13)), "admin-prohibited");
    EXPECT_EQ(to_string(reason_for_icmp_unreachable(1)), "host-unreach");
    EXPECT_EQ(to_string(reason_for_icmp_unreachable(3)), "port-unreach");
    EXPECT_EQ(to_string(reason_for_icmp_unreachable(10)), "host-prohibited");
}

}  // namespace
}  // namespace flagscan

#include <cerrno>

#include "flagscan/wire/connect_driver.hpp"

namespace flagscan {
namespace {

TEST(ConnectScan, SocketOutcomesReachTheirRows) {
    struct Case {
        int error;
        PortState state;
        Reason reason;
    };
    const Case cases[] = {{0, PortState::open, Reason::syn_ack},
                          {ECONNREFUSED, PortState::closed, Reason::conn_refused},
                          {EHOSTUNREACH, PortState::filtered, Reason::host_unreach},
                          {ENETUNREACH, PortState::filtered, Reason::net_unreach},
                          {EPERM, PortState::filtered, Reason::admin_prohibited}};
    for (const auto& c : cases) {
        const auto evidence = evidence_for_connect_error(c.error);
        ASSERT_TRUE(evidence) << c.error;
        const Rule* rule = match_rule(connect_kind(), *evidence);
        ASSERT_NE(rule, nullptr) << c.error;
        EXPECT_EQ(rule->state, c.state) << c.error;
        EXPECT_EQ(rule_reason(*rule, *evidence), c.reason) << c.error;
    }
    EXPECT_FALSE(evidence_for_connect_error(EADDRNOTAVAIL));  // no local port free: says nothing about the target
    EXPECT_EQ(match_rule(connect_kind(), ReplyEvidence{})->state, PortState::filtered);
    EXPECT_TRUE(is_connect_scan(connect_kind()));
    EXPECT_FALSE(is_connect_scan(syn_kind()));
}

}  // namespace
}  // namespace flagscan

// Conversations: the tcpwrapped rule, the endings' names, and a Dialog's view of an Exchange.
#include <gtest/gtest.h>

#include "flagscan/service/conversations.hpp"

namespace flagscan {
namespace {

Exchange closed_after(Ending ending, Micros connected_for, std::string_view received = {}) {
    Exchange exchange;
    exchange.ending = ending;
    exchange.wait_end = WaitEnd::closed;
    exchange.connected_for = connected_for;
    exchange.received = received;
    return exchange;
}

TEST(Tcpwrapped, AcceptedThenClosedWithNoDataSoonIsWrapped) {
    EXPECT_TRUE(is_tcpwrapped(closed_after(Ending::peer_closed, 3 * kMillisecond)));
    EXPECT_TRUE(is_tcpwrapped(closed_after(Ending::reset, 1999 * kMillisecond)));
}

TEST(Tcpwrapped, DataALateCloseOrNoConnectionIsNot) {
    EXPECT_FALSE(is_tcpwrapped(closed_after(Ending::peer_closed, 3 * kMillisecond, "220 ftp\r\n")));
    EXPECT_FALSE(is_tcpwrapped(closed_after(Ending::peer_closed, 2000 * kMillisecond)));  // nmap: strictly within
    EXPECT_FALSE(is_tcpwrapped(closed_after(Ending::refused, -1)));
    EXPECT_FALSE(is_tcpwrapped(closed_after(Ending::connect_timeout, -1)));
    EXPECT_FALSE(is_tcpwrapped(closed_after(Ending::tls_failed, 5 * kMillisecond)));
    Exchange silent;  // still open when the wait ran out: a silent service, not a wrapped one
    silent.connected_for = 5 * kSecond;
    EXPECT_FALSE(is_tcpwrapped(silent));
}

TEST(Tcpwrapped, ThePortsOwnWaitFromTheProbeFileApplies) {
    const Exchange exchange = closed_after(Ending::peer_closed, 2500 * kMillisecond);
    EXPECT_FALSE(is_tcpwrapped(exchange));
    EXPECT_TRUE(is_tcpwrapped(exchange, 3000 * kMillisecond));
}

TEST(Conversations, EndingsHaveStableNames) {
    EXPECT_EQ(to_string(Ending::open), "open");
    EXPECT_EQ(to_string(Ending::peer_closed), "peer-closed");
    EXPECT_EQ(to_string(Ending::reset), "reset");
    EXPECT_EQ(to_string(Ending::refused), "refused");
    EXPECT_EQ(to_string(Ending::unreachable), "unreachable");
    EXPECT_EQ(to_string(Ending::connect_timeout), "connect-timeout");
    EXPECT_EQ(to_string(Ending::tls_failed), "tls-failed");
    EXPECT_EQ(to_string(Ending::failed), "failed");
}

// nmap's order of probes as a Dialog: the NULL probe waits for a banner; with none, a new
// connection for the next probe; a match ends the conversation.
class NullThenGet final : public Dialog {
public:
    Step start() override { return Step::probe(Link::plain, {}, 5 * kSecond, 200 * kMillisecond); }
    bool enough(std::string_view received) override { return received.find('\n') != std::string_view::npos; }
    Step next(const Exchange& exchange) override {
        ++steps;
        if (!exchange.received.empty() || steps == 2) return Step::finish();
        return Step::probe(Link::plain, "GET / HTTP/1.0\r\n\r\n", 5 * kSecond);
    }
    int steps = 0;
};

TEST(Conversations, ADialogDecidesEachStepFromTheExchange) {
    NullThenGet dialog;
    const Step first = dialog.start();
    EXPECT_FALSE(first.done);
    EXPECT_TRUE(first.payload.empty());
    EXPECT_FALSE(dialog.enough("SSH-2.0-"));
    EXPECT_TRUE(dialog.enough("SSH-2.0-OpenSSH\r\n"));
    Exchange silent;
    silent.wait_end = WaitEnd::full;
    const Step second = dialog.next(silent);
    EXPECT_FALSE(second.done);
    EXPECT_EQ(second.link, Link::plain);  // a new connection, as nmap's second probe
    EXPECT_EQ(second.payload, "GET / HTTP/1.0\r\n\r\n");
    EXPECT_TRUE(dialog.next(silent).done);
}

TEST(Conversations, ABoundedReadSaysSo) {
    Exchange exchange;
    exchange.wait_end = WaitEnd::bound;
    EXPECT_TRUE(exchange.truncated());
    exchange.wait_end = WaitEnd::quiet;
    EXPECT_FALSE(exchange.truncated());
}

}  // namespace
}  // namespace flagscan

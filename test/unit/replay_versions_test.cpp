// CapturedPort: the live VersionDialog walked over captured connections (the built-in probes).
#include <gtest/gtest.h>

#include <string>

#include "flagscan/service/load.hpp"
#include "flagscan/service/replay_versions.hpp"

namespace flagscan {
namespace {

class CapturedWalk : public ::testing::Test {
protected:
    CapturedWalk() : db(builtin_service_probes().value()), matcher(db) {}

    std::string payload_of(std::string_view name) const {
        for (const ServiceProbe& probe : db.probes())
            if (probe.name == name) return std::string(probe.payload.begin(), probe.payload.end());
        ADD_FAILURE() << "no probe " << name;
        return {};
    }
    // A connection accepted at 1 ms whose client sent CLIENT and the server SERVER.
    TcpConnection& conn(std::string client, std::string server) {
        TcpConnection& c = held.emplace_back();
        c.syn = 0;
        c.established = 1000;
        c.client_went_on = true;
        c.from_client.bytes = std::move(client);
        c.from_server.bytes = std::move(server);
        if (!c.from_client.bytes.empty()) c.from_client.first_data = 2000;
        return c;
    }
    std::optional<ServiceFound> walk(std::uint16_t port, CapturedPort* out = nullptr) {
        std::vector<const TcpConnection*> list;
        for (const TcpConnection& c : held) list.push_back(&c);
        CapturedPort captured{list};
        VersionDialog dialog{db, matcher, Port{port}, 7};
        captured.play(dialog);
        if (out != nullptr) *out = captured;
        return dialog.found();
    }

    ServiceProbeDb db;
    ServiceMatcher matcher;
    std::deque<TcpConnection> held;
};

TEST_F(CapturedWalk, NullProbeBanner) {
    conn("", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n");
    const auto found = walk(22);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->name, "ssh");
    EXPECT_EQ(found->product, "OpenSSH");
    EXPECT_EQ(found->version, "9.2p1 Debian 2+deb12u10");
}

// A connect scan's probe comes first and is passed over; the NULL probe heard nothing and its
// connection carried the next probe: its answer is the rest of the server's bytes.
TEST_F(CapturedWalk, ReusedNullConnection) {
    TcpConnection& scan = conn("", "");
    scan.from_client.fin = 1500;
    conn(payload_of("GetRequest"), "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n\r\n").server_before_client = 0;
    const auto found = walk(80);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->name, "http");
    EXPECT_EQ(found->product, "nginx");
    EXPECT_EQ(found->version, "1.22.1");
}

// A probe on its own connection (the NULL probe heard a banner nothing matched), found among
// connections whose client sent something else.
TEST_F(CapturedWalk, ProbeOnItsOwnConnection) {
    conn("", "hello\r\n");
    conn("GARBAGE", "HTTP/1.0 200 OK\r\nServer: Apache\r\n\r\n");
    conn(payload_of("GetRequest"), "HTTP/1.0 200 OK\r\nServer: nginx\r\n\r\n");
    const auto found = walk(80);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->name, "http");
    EXPECT_EQ(found->product, "nginx");
}

TEST_F(CapturedWalk, ClosedAtOnceIsTcpwrapped) {
    TcpConnection& c = conn("", "");
    c.from_server.fin = 6000;  // 5 ms after the SYN,ACK
    const auto found = walk(2222);
    ASSERT_TRUE(found);
    EXPECT_TRUE(found->tcpwrapped);
}

// TLS: the plain-text answer says "ssl"; the session that follows cannot be read: "ssl" stands.
TEST_F(CapturedWalk, TlsIsNamedFromItsPlainTextSide) {
    conn("", "");  // the NULL probe heard nothing
    conn(payload_of("TLSClientHello"), std::string("\x15\x03\x03\x00\x02\x02\x28", 7));
    conn(std::string("\x16\x03\x01\x02\x00", 5), std::string("\x16\x03\x03\x00\x7a", 5));
    CapturedPort port{{}};
    const auto found = walk(443, &port);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->name, "ssl");
    EXPECT_EQ(found->tunnel, ServiceTunnel::none);
    EXPECT_EQ(port.tls_sessions(), 1u);
}

TEST_F(CapturedWalk, NothingCapturedNamesNothing) {
    EXPECT_FALSE(walk(21));
    conn("\x01\x02", "\xff\xfe");
    EXPECT_FALSE(walk(21));
}

}  // namespace
}  // namespace flagscan

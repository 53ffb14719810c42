// Live: the passive OS hint of the lab's Linux target, and how its namespace's sysctls and routes change it.
#include <regex>

#include "live_support.hpp"

namespace flagscan::live {
namespace {

constexpr int kNamespaceHost = 2;  // 10.77.ID.2, the namespace side of the veth
constexpr int kSlowFirst = 64;     // 10.77.ID.64, a slow host: slow-responder behind the namespace's forwarding

std::string lab_namespace() { return "fslab" + std::to_string(lab_id()); }

ProcessResult in_namespace(std::vector<std::string> command) {
    command.insert(command.begin(), {"ip", "netns", "exec", lab_namespace()});
    return run_process(command, std::chrono::seconds(10));
}

// A sysctl of the lab's namespace set for the guard's life, then put back as it was (the
// namespace's own copy: ip_default_ttl and the TCP settings are per network namespace).
class NamespaceSysctl {
public:
    NamespaceSysctl(const std::string& key, const std::string& value) : key_(key) {
        const auto before = in_namespace({"sysctl", "-n", key});
        if (before.exit_code != 0) {
            error_ = before.describe();
            return;
        }
        before_ = before.out.substr(0, before.out.find('\n'));
        if (const auto set = in_namespace({"sysctl", "-w", key + "=" + value}); set.exit_code != 0) error_ = set.describe();
    }
    ~NamespaceSysctl() {
        if (before_.empty()) return;
        if (const auto put = in_namespace({"sysctl", "-w", key_ + "=" + before_}); put.exit_code != 0) ADD_FAILURE() << put.describe();
    }
    NamespaceSysctl(const NamespaceSysctl&) = delete;
    NamespaceSysctl& operator=(const NamespaceSysctl&) = delete;
    const std::string& error() const { return error_; }

private:
    std::string key_, before_, error_;
};

// The namespace's route to the scanner's /30 with an advertised MSS (`ip route ... advmss`) for
// the guard's life, then as lab.sh made it.
class AdvertisedMss {
public:
    explicit AdvertisedMss(int mss) {
        auto route = base();
        route.insert(route.end(), {"advmss", std::to_string(mss)});
        if (const auto changed = in_namespace(route); changed.exit_code != 0) error_ = changed.describe();
    }
    ~AdvertisedMss() {
        if (!error_.empty()) return;
        if (const auto put = in_namespace(base()); put.exit_code != 0) ADD_FAILURE() << put.describe();
    }
    AdvertisedMss(const AdvertisedMss&) = delete;
    AdvertisedMss& operator=(const AdvertisedMss&) = delete;
    const std::string& error() const { return error_; }

private:
    static std::vector<std::string> base() {
        return {"ip", "route", "change", lab_address(0) + "/30", "dev", "fsn" + std::to_string(lab_id()), "proto", "kernel",
                "scope", "link", "src", lab_address(kNamespaceHost)};
    }
    std::string error_;
};

class OsHintLive : public LabTest {
protected:
    // The hint of TARGET after a SYN scan of two open ports: the normal report's "OS hint:" line
    // (--reason) and JSON's os_hint must say the same; "" when either is missing.
    static std::string hint_of(const std::string& target) {
        const Scan scan = LabTest::scan({"-sS", "-p", "22,80", "-n", "--reason"}, target);
        EXPECT_EQ(scan.process.exit_code, 0) << scan.process.describe();
        const std::regex line{"\nOS hint: ([^\n]*)\n"};
        std::smatch found;
        if (!std::regex_search(scan.process.out, found, line)) {
            ADD_FAILURE() << "no OS hint line:\n" << scan.process.out;
            return "";
        }
        EXPECT_EQ(scan.output.hosts.size(), 1u);
        for (const HostLine& host : scan.output.hosts) {
            const auto json = host.json.find("os_hint");
            EXPECT_TRUE(json != host.json.end() && json->second == found[1].str()) << "JSON's os_hint differs";
        }
        return found[1].str();
    }
    static bool matches(const std::string& hint, const std::string& pattern) {
        return std::regex_match(hint, std::regex{pattern});
    }
};

// Linux answers the scan's MSS-only SYN with MSS alone (RFC 7323 / RFC 2018: the other options
// only when the SYN offered them), TTL 64, DF: Linux, on the same link.
TEST_F(OsHintLive, DefaultTargetIsLinux) {
    const std::string hint = hint_of(lab_address(kNamespaceHost));
    EXPECT_TRUE(matches(hint, R"(Linux 2\.6\+ \(TTL 64, window \d+, MSS 1460, options M; distance 1\))")) << hint;
}

// ip_default_ttl=128: the TTL a Windows host would send, with Linux's window and options, which
// no row of the table pairs: the family is unknown, the facts say TTL 128.
TEST_F(OsHintLive, DefaultTtl128IsNotLinuxAnyMore) {
    const NamespaceSysctl ttl{"net.ipv4.ip_default_ttl", "128"};
    ASSERT_TRUE(ttl.error().empty()) << ttl.error();
    const std::string hint = hint_of(lab_address(kNamespaceHost));
    EXPECT_TRUE(matches(hint, R"(unknown \(TTL 128, window \d+, MSS 1460, options M; distance 1\))")) << hint;
}

// tcp_timestamps=0 (with TTL 128 too): the options do not change, since the scan's SYN offered
// no timestamps for Linux to answer; the TTL still does.
TEST_F(OsHintLive, TimestampsOffLeaveTheOptionsAsTheSynOfferedNone) {
    const std::string before = hint_of(lab_address(kNamespaceHost));
    const NamespaceSysctl timestamps{"net.ipv4.tcp_timestamps", "0"};
    ASSERT_TRUE(timestamps.error().empty()) << timestamps.error();
    EXPECT_EQ(hint_of(lab_address(kNamespaceHost)), before);
    const NamespaceSysctl ttl{"net.ipv4.ip_default_ttl", "128"};
    ASSERT_TRUE(ttl.error().empty()) << ttl.error();
    EXPECT_TRUE(matches(hint_of(lab_address(kNamespaceHost)), R"(unknown \(TTL 128, .*options M; distance 1\))"));
}

// A route's advertised MSS (1200) changes the MSS and, Linux's window being a multiple of it,
// the window: still Linux.
TEST_F(OsHintLive, AdvertisedMssChangesMssAndWindow) {
    const AdvertisedMss mss{1200};
    ASSERT_TRUE(mss.error().empty()) << mss.error();
    const std::string hint = hint_of(lab_address(kNamespaceHost));
    const std::regex linux_1200{R"(Linux 2\.6\+ \(TTL 64, window (\d+), MSS 1200, options M; distance 1\))"};
    std::smatch window;
    ASSERT_TRUE(std::regex_match(hint, window, linux_1200)) << hint;
    EXPECT_EQ(std::stoi(window[1].str()) % 1200, 0) << hint;
}

// A slow host answers through the namespace's forwarding: one router on the way.
TEST_F(OsHintLive, ForwardedHostIsOneHopAway) {
    if (layout().slow_hosts.empty()) GTEST_SKIP() << "layout.conf has no slow_hosts";
    const int offset = layout().slow_hosts.begin()->first;
    const std::string hint = hint_of(lab_address(kSlowFirst + offset));
    EXPECT_TRUE(matches(hint, R"(.* \(TTL 64, window \d+, MSS \d+, options M; distance 2\))")) << hint;
}

}  // namespace
}  // namespace flagscan::live

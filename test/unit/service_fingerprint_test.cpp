// ServiceFingerprint: nmap's SF-Port text, byte for byte as nmap 7.93 printed it for the lab's unknown UDP service.
#include "flagscan/service/service_fingerprint.hpp"

#include <gtest/gtest.h>

#include <string>

namespace flagscan {
namespace {

FingerprintStamp nmap_stamp() {
    FingerprintStamp stamp;
    stamp.version = "7.93";
    stamp.intensity = 7;
    stamp.month = 12;
    stamp.day = 2;
    stamp.time = 0x6B101DC4;
    stamp.platform = "x86_64-pc-linux-gnu";
    return stamp;
}

// What `nmap -n -Pn -sU -sV -p 7001 10.77.25.130` printed for the services lab's stub, which
// answers every probe "flagscan lab: hello\r\n" (nmap 7.93, Debian 12).
constexpr std::string_view kNmapPrinted =
    "SF-Port7001-UDP:V=7.93%I=7%D=12/2%Time=6B101DC4%P=x86_64-pc-linux-gnu%r(AF\n"
    "SF:SVersionRequest,15,\"flagscan\\x20lab:\\x20hello\\r\\n\")%r(RPCCheck,15,\"flag\n"
    "SF:scan\\x20lab:\\x20hello\\r\\n\")%r(DNSVersionBindReq,15,\"flagscan\\x20lab:\\x2\n"
    "SF:0hello\\r\\n\")%r(DNSStatusRequest,15,\"flagscan\\x20lab:\\x20hello\\r\\n\")%r(N\n"
    "SF:BTStat,15,\"flagscan\\x20lab:\\x20hello\\r\\n\")%r(Help,15,\"flagscan\\x20lab:\\\n"
    "SF:x20hello\\r\\n\")%r(SIPOptions,15,\"flagscan\\x20lab:\\x20hello\\r\\n\")%r(Sqlpi\n"
    "SF:ng,15,\"flagscan\\x20lab:\\x20hello\\r\\n\")%r(NTPRequest,15,\"flagscan\\x20lab\n"
    "SF::\\x20hello\\r\\n\")%r(SNMPv1public,15,\"flagscan\\x20lab:\\x20hello\\r\\n\")%r(S\n"
    "SF:NMPv3GetRequest,15,\"flagscan\\x20lab:\\x20hello\\r\\n\")%r(xdmcp,15,\"flagsca\n"
    "SF:n\\x20lab:\\x20hello\\r\\n\")%r(DNS-SD,15,\"flagscan\\x20lab:\\x20hello\\r\\n\")%r\n"
    "SF:(Citrix,15,\"flagscan\\x20lab:\\x20hello\\r\\n\")%r(Kerberos,15,\"flagscan\\x20\n"
    "SF:lab:\\x20hello\\r\\n\")%r(sybaseanywhere,15,\"flagscan\\x20lab:\\x20hello\\r\\n\"\n"
    "SF:)%r(NetMotionMobility,15,\"flagscan\\x20lab:\\x20hello\\r\\n\")%r(DTLSSession\n"
    "SF:Req,15,\"flagscan\\x20lab:\\x20hello\\r\\n\")%r(QUIC,15,\"flagscan\\x20lab:\\x20\n"
    "SF:hello\\r\\n\");";

TEST(ServiceFingerprint, AsNmapPrintedItForTheLabsUnknownUdpService) {
    ServiceFingerprint fp{Port{7001}, Protocol::udp};
    for (const char* probe : {"AFSVersionRequest", "RPCCheck", "DNSVersionBindReq", "DNSStatusRequest", "NBTStat", "Help",
                              "SIPOptions", "Sqlping", "NTPRequest", "SNMPv1public", "SNMPv3GetRequest", "xdmcp", "DNS-SD",
                              "Citrix", "Kerberos", "sybaseanywhere", "NetMotionMobility", "DTLSSessionReq", "QUIC"})
        fp.add(nmap_stamp(), probe, "flagscan lab: hello\r\n", false);
    EXPECT_EQ(fp.text(), kNmapPrinted);
}

TEST(ServiceFingerprint, EveryLineButTheLastIsSeventyFourCharacters) {
    ServiceFingerprint fp{Port{8}, Protocol::tcp};
    fp.add(nmap_stamp(), "NULL", std::string(300, 'a'), false);
    const std::string text = fp.text();
    std::size_t start = 0;
    for (std::size_t end = text.find('\n'); end != std::string::npos; start = end + 1, end = text.find('\n', start))
        EXPECT_EQ(end - start, 74u) << text;
    EXPECT_LE(text.size() - start, 74u);
    EXPECT_EQ(text.back(), ';') << "the semicolon is never wrapped";
}

TEST(ServiceFingerprint, EscapesAsNmapDoes) {
    using F = ServiceFingerprint;
    EXPECT_EQ(F::escape("Az09"), "Az09");
    EXPECT_EQ(F::escape(std::string("\0a", 2)), "\\0a");
    EXPECT_EQ(F::escape(std::string("\x00" "1", 2)), "\\x001") << "\\0 then a digit would read as octal";
    EXPECT_EQ(F::escape(std::string("\0", 1)), "\\0") << "last byte";
    EXPECT_EQ(F::escape("\\?\"[]().*+$^|"), "\\\\\\?\\\"\\[\\]\\(\\)\\.\\*\\+\\$\\^\\|");
    EXPECT_EQ(F::escape(":;<>=!#%&',-/@_`{}~"), ":;<>=!#%&',-/@_`{}~") << "other punctuation as it is";
    EXPECT_EQ(F::escape("\r\n\t"), "\\r\\n\\t");
    EXPECT_EQ(F::escape(" \x7f\x80\xff\x01"), "\\x20\\x7f\\x80\\xff\\x01");
}

TEST(ServiceFingerprint, TheHeadSaysTcpAndSslInsideATunnel) {
    ServiceFingerprint fp{Port{443}, Protocol::tcp};
    fp.add(nmap_stamp(), "GetRequest", "x", true);
    EXPECT_EQ(fp.text(), "SF-Port443-TCP:V=7.93%T=SSL%I=7%D=12/2%Time=6B101DC4%P=x86_64-pc-linux-gnu\nSF:%r(GetRequest,1,\"x\");");
}

TEST(ServiceFingerprint, NoAnswerNoFingerprint) {
    ServiceFingerprint fp{Port{1}, Protocol::udp};
    fp.add(nmap_stamp(), "Help", "", false);
    EXPECT_TRUE(fp.empty());
    EXPECT_EQ(fp.text(), "");
}

TEST(ServiceFingerprint, AnAnswerIsCutAt900BytesButItsWholeLengthIsGiven) {
    ServiceFingerprint fp{Port{1}, Protocol::tcp};
    fp.add(nmap_stamp(), "NULL", std::string(1000, 'b'), false);
    std::string joined = fp.text();
    for (std::size_t at = joined.find("\nSF:"); at != std::string::npos; at = joined.find("\nSF:")) joined.erase(at, 4);
    EXPECT_NE(joined.find("%r(NULL,3E8,\""), std::string::npos) << joined;
    std::size_t bs = 0;
    for (const char c : joined) bs += c == 'b' ? 1 : 0;
    EXPECT_EQ(bs, ServiceFingerprint::kAnswerBytes);
}

TEST(ServiceFingerprint, PastTwoThousandTwoHundredCharactersNoAnswerIsAdded) {
    ServiceFingerprint fp{Port{1}, Protocol::tcp};
    fp.add(nmap_stamp(), "NULL", std::string(900, '\x01'), false);  // 3600 characters escaped
    const std::string full = fp.text();
    ASSERT_GT(full.size(), ServiceFingerprint::kFullAt);
    fp.add(nmap_stamp(), "GetRequest", "more", false);
    EXPECT_EQ(fp.text(), full);
    fp.clear();
    EXPECT_TRUE(fp.empty());
}

TEST(ServiceFingerprint, TheStampOfARun) {
    const FingerprintStamp stamp = fingerprint_stamp("0.2.0", 9, 0x6B101DC4);
    EXPECT_EQ(stamp.version, "0.2.0");
    EXPECT_EQ(stamp.intensity, 9);
    EXPECT_EQ(stamp.time, 0x6B101DC4u);
    EXPECT_GE(stamp.month, 1);
    EXPECT_LE(stamp.month, 12);
    EXPECT_NE(stamp.platform.find("-linux-gnu"), std::string::npos) << stamp.platform;
}

}  // namespace
}  // namespace flagscan

// ServiceFingerprint: nmap's service fingerprint text, escaped and wrapped byte for byte as service_scan.cc writes it.
#include "flagscan/service/service_fingerprint.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace flagscan {
namespace {

constexpr std::size_t kWrapAt = 74;  // nmap's servicewrap: a break when the length is 74 modulo 75

// The C locale's classes, as nmap's isalnum/ispunct see a byte.
bool is_alnum(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_punct(unsigned char c) { return c > 0x20 && c < 0x7f && !is_alnum(c); }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

// One escaped byte; `next_is_digit`: the answer's next written byte is a digit (a PCRE reading
// "\0" then "1" would take "\01").
void escape_byte(std::string& out, unsigned char c, bool next_is_digit) {
    if (is_alnum(c)) {
        out += static_cast<char>(c);
    } else if (c == 0) {
        out += next_is_digit ? "\\x00" : "\\0";
    } else if (std::strchr("\\?\"[]().*+$^|", c) != nullptr) {
        out += '\\';
        out += static_cast<char>(c);
    } else if (is_punct(c)) {
        out += static_cast<char>(c);
    } else if (c == '\r') {
        out += "\\r";
    } else if (c == '\n') {
        out += "\\n";
    } else if (c == '\t') {
        out += "\\t";
    } else {
        char hex[5];
        std::snprintf(hex, sizeof hex, "\\x%02x", c);
        out += hex;
    }
}

// nmap's NMAP_PLATFORM is its configure host triplet; this machine's, from uname.
std::string platform() {
    utsname names{};
    if (::uname(&names) != 0) return "unknown-unknown-linux-gnu";
    const std::string machine = names.machine;
    const bool pc = machine == "x86_64" || (machine.size() == 4 && machine[0] == 'i' && machine.substr(2) == "86");
    return machine + (pc ? "-pc-linux-gnu" : "-unknown-linux-gnu");
}

}  // namespace

FingerprintStamp fingerprint_stamp(std::string_view version, int intensity, std::time_t now) {
    FingerprintStamp stamp;
    stamp.version = std::string(version);
    stamp.intensity = intensity;
    std::tm local{};
    if (::localtime_r(&now, &local) != nullptr) {
        stamp.month = local.tm_mon + 1;
        stamp.day = local.tm_mday;
    }
    stamp.time = static_cast<std::uint32_t>(now);
    stamp.platform = platform();
    return stamp;
}

std::string ServiceFingerprint::escape(std::string_view answer) {
    std::string out;
    for (std::size_t i = 0; i < answer.size(); ++i) {
        const bool next_is_digit = i + 1 < answer.size() && is_digit(static_cast<unsigned char>(answer[i + 1]));
        escape_byte(out, static_cast<unsigned char>(answer[i]), next_is_digit);
    }
    return out;
}

// nmap's addServiceChar: the break goes in when the text so far (breaks included) is 74 mod 75.
void ServiceFingerprint::put(char c) {
    if (text_.size() % (kWrapAt + 1) == kWrapAt) text_ += "\nSF:";
    text_ += c;
}

void ServiceFingerprint::put(std::string_view text) {
    for (const char c : text) put(c);
}

void ServiceFingerprint::add(const FingerprintStamp& stamp, std::string_view probe, std::string_view answer, bool ssl) {
    if (answer.empty() || text_.size() > kFullAt) return;
    char line[160];
    if (text_.empty()) {
        std::snprintf(line, sizeof line, "SF-Port%u-%s:V=%s%s%%I=%d%%D=%d/%d%%Time=%X%%P=%s", unsigned{port_.value()},
                      protocol_ == Protocol::udp ? "UDP" : "TCP", stamp.version.c_str(), ssl ? "%T=SSL" : "",
                      stamp.intensity, stamp.month, stamp.day, stamp.time, stamp.platform.c_str());
        put(line);
    }
    put("%r(");
    put(probe);
    std::snprintf(line, sizeof line, ",%zX,\"", answer.size());  // the whole length, though at most 900 bytes follow
    put(line);
    put(escape(answer.substr(0, std::min(answer.size(), kAnswerBytes))));
    put("\")");
}

}  // namespace flagscan

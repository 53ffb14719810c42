// ServiceFingerprint: nmap's "SF-Port..." record of what an unrecognised service answered, to print and submit.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "flagscan/net/ipv4.hpp"
#include "flagscan/targets/services.hpp"

namespace flagscan {

// What heads every fingerprint of one run: "V=<version>%I=<intensity>%D=<month>/<day>%Time=<hex
// epoch seconds>%P=<platform>" (nmap writes its own version and configure triplet).
struct FingerprintStamp {
    std::string version;
    int intensity = 7;
    int month = 0;  // 1..12 (0: the local time could not be had, as nmap writes it)
    int day = 0;
    std::uint32_t time = 0;
    std::string platform;  // "x86_64-pc-linux-gnu"
};

// The stamp of a run started at `now` (local date, this machine's triplet from uname).
FingerprintStamp fingerprint_stamp(std::string_view version, int intensity, std::time_t now);

// nmap's ServiceNFO::addToServiceFingerprint: "SF-Port<port>-<TCP|UDP>:V=...%P=..." then one
// "%r(<probe>,<answer length, hex>,"<answer escaped>")" per answer that named nothing; the text
// is wrapped by a "\nSF:" every 75 characters of it (counting the breaks), as nmap wraps it.
class ServiceFingerprint {
public:
    // nmap's bounds: at most 900 bytes of an answer are written (its length, the whole); once
    // the text passes 2200 characters no further answer is added.
    static constexpr std::size_t kAnswerBytes = 900;
    static constexpr std::size_t kFullAt = 2200;

    ServiceFingerprint(Port port, Protocol protocol) : port_(port), protocol_(protocol) {}

    // The answer to `probe`; the first one writes the head from `stamp` ("%T=SSL" after the
    // version inside a TLS tunnel). An empty answer adds nothing.
    void add(const FingerprintStamp& stamp, std::string_view probe, std::string_view answer, bool ssl);
    // Every answer forgotten (the walk starts again inside TLS, as nmap's resetProbes(true)).
    void clear() { text_.clear(); }
    bool empty() const { return text_.empty(); }
    // The fingerprint, ended with ';' (never wrapped), or "" when no answer was added.
    std::string text() const { return text_.empty() ? std::string{} : text_ + ';'; }

    // nmap's escaping of one answer's bytes (letters and digits as they are; \0 (\x00 before a
    // digit); \ ? " [ ] ( ) . * + $ ^ | behind a backslash; other punctuation as it is; \r \n \t;
    // any other byte \xHH), unwrapped.
    static std::string escape(std::string_view answer);

private:
    void put(char c);
    void put(std::string_view text);

    Port port_;
    Protocol protocol_;
    std::string text_;
};

}  // namespace flagscan

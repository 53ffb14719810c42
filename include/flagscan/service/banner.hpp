// --banners: the first bytes each open TCP port sends, grabbed by a NULL-probe conversation.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/results.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/service/conversations.hpp"

namespace flagscan {

inline constexpr std::size_t kBannerBytes = 256;  // of a banner kept (masscan keeps a few hundred)

// Bytes as printable text, as nmap prints a service fingerprint: printable ASCII as it is,
// \r \n \t \\ and any other byte as \xHH; at most `max_bytes` bytes of the input are read.
std::string escape_banner(std::string_view bytes, std::size_t max_bytes = kBannerBytes);

// nmap's NULL probe: connect, send nothing, listen up to `wait` for the service to speak;
// stop as soon as the banner has been quiet for `quiet`, or kBannerBytes have come.
class BannerDialog final : public Dialog {
public:
    BannerDialog(Micros wait, Micros quiet) : wait_(wait), quiet_(quiet) {}
    Step start() override { return Step::probe(Link::plain, {}, wait_, quiet_); }
    bool enough(std::string_view received) override { return received.size() >= kBannerBytes; }
    Step next(const Exchange& exchange) override;

    // What the service sent (at most kBannerBytes), and how the connection ended.
    const std::string& banner() const { return banner_; }
    std::optional<Ending> ending() const { return ending_; }
    bool tcpwrapped() const { return tcpwrapped_; }

private:
    Micros wait_;
    Micros quiet_;
    std::string banner_;
    std::optional<Ending> ending_;
    bool tcpwrapped_ = false;
};

struct BannerSettings {
    Micros wait = 3 * kSecond;         // for the first bytes
    Micros quiet = 300 * kMillisecond;  // after the last bytes: the banner is complete
    ConversationLimits limits;
};

struct BannerRun {
    std::size_t ports = 0;    // open TCP ports talked to
    std::size_t banners = 0;  // of those, the ones that sent something
    ConversationStats stats;
    Micros elapsed = 0;
    std::optional<std::string> failure;  // the driver could not open or go on
};

// After the port scan: a BannerDialog with every open TCP port of `results`, the banners
// stored in it (Results::set_banner). Stops early when `stop` is set.
BannerRun grab_banners(Results& results, const BannerSettings& settings, const Clock& clock,
                       const std::atomic<bool>& stop);

}  // namespace flagscan

// --banners: a NULL-probe conversation with every open TCP port, its first bytes kept escaped.
#include "flagscan/service/banner.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>

namespace flagscan {

std::string escape_banner(std::string_view bytes, std::size_t max_bytes) {
    std::string text;
    const std::size_t n = std::min(bytes.size(), max_bytes);
    text.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto byte = static_cast<unsigned char>(bytes[i]);
        switch (byte) {
            case '\r': text += "\\r"; break;
            case '\n': text += "\\n"; break;
            case '\t': text += "\\t"; break;
            case '\\': text += "\\\\"; break;
            default:
                if (byte >= 0x20 && byte < 0x7f) {
                    text += static_cast<char>(byte);
                } else {
                    char hex[5];
                    std::snprintf(hex, sizeof hex, "\\x%02x", byte);
                    text += hex;
                }
        }
    }
    return text;
}

Step BannerDialog::next(const Exchange& exchange) {
    banner_.assign(exchange.received.substr(0, kBannerBytes));
    ending_ = exchange.ending;
    tcpwrapped_ = is_tcpwrapped(exchange);
    return Step::finish();
}

BannerRun grab_banners(Results& results, const BannerSettings& settings, const Clock& clock,
                       const std::atomic<bool>& stop) {
    BannerRun run;
    const Micros started = clock.now();
    ConversationLimits limits = settings.limits;
    limits.max_received = std::min(limits.max_received, kBannerBytes);  // all a banner keeps: memory stays small
    auto driver = ConversationDriver::open(limits);
    if (!driver) {
        run.failure = driver.error();
        return run;
    }
    struct Talk {
        std::uint64_t index;
        BannerDialog dialog;
    };
    std::deque<Talk> talks;  // stable addresses: the driver holds the dialogs
    for (const OpenTcpPort& open : open_tcp_ports(results)) {
        Talk& talk = talks.emplace_back(Talk{open.index, BannerDialog{settings.wait, settings.quiet}});
        driver->add({open.address, open.port, Transport::tcp}, talk.dialog);
    }
    run.ports = talks.size();
    driver->run(clock, &stop);
    for (const Talk& talk : talks) {
        if (talk.dialog.banner().empty()) continue;
        results.set_banner(talk.index, escape_banner(talk.dialog.banner()));
        ++run.banners;
    }
    run.stats = driver->stats();
    run.failure = driver->failure();
    run.elapsed = clock.now() - started;
    return run;
}

}  // namespace flagscan

// The -T0..-T5 timing templates, and the send ceiling they and --max-rate set.
#include "flagscan/engine/timing.hpp"

#include <algorithm>

namespace flagscan {
namespace {

constexpr Micros kBurstWindow = 2 * kMillisecond;  // pacing tokens may pile up for this long

}  // namespace

double ceiling_rate(const Timing& t) {
    double rate = t.max_rate;
    if (t.scan_delay > 0) {
        const double delay_rate = double(kSecond) / double(t.scan_delay);
        rate = rate > 0 ? std::min(rate, delay_rate) : delay_rate;
    }
    return rate;
}

double burst_for(double rate, const Timing& t) { return t.scan_delay > 0 ? 1.0 : rate * kBurstWindow / kSecond; }

std::optional<Timing> timing_template(int level) {
    Timing t;
    switch (level) {
        case 0:  // paranoid: one probe every 5 minutes, serially
            t.scan_delay = 300 * kSecond;
            t.initial_rto = 5 * kSecond;
            t.initial_window = t.max_window = 1;
            break;
        case 1:  // sneaky: one probe every 15 seconds
            t.scan_delay = 15 * kSecond;
            t.initial_rto = 5 * kSecond;
            t.initial_window = t.max_window = 1;
            break;
        case 2:  // polite: 0.4 s between probes
            t.scan_delay = 400 * kMillisecond;
            t.initial_window = t.max_window = 1;
            break;
        case 3:  // normal
            break;
        case 4:  // aggressive: nmap's -T4 timeouts and retries, a fast start
            t.max_retries = 6;
            t.initial_rto = 500 * kMillisecond;
            t.min_rto = 30 * kMillisecond;
            t.max_rto = 1250 * kMillisecond;
            t.initial_window = 1000;
            break;
        case 5:  // insane: short timeouts, 2 retries
            t.max_retries = 2;
            t.initial_rto = 250 * kMillisecond;
            t.min_rto = 20 * kMillisecond;
            t.max_rto = 300 * kMillisecond;
            t.initial_window = 4000;
            break;
        default:
            return std::nullopt;
    }
    return t;
}

}  // namespace flagscan

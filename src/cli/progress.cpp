// The status line's edge: when to show it, where, Enter on stdin, and -v's discovered ports.
#include "flagscan/cli/progress.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <ctime>

#include "flagscan/cli/reporting.hpp"
#include "flagscan/output/status_line.hpp"

namespace flagscan {
namespace {

constexpr Micros kRefresh = kSecond;                // a terminal's line, unless --stats-every says
constexpr Micros kLookEvery = 100 * kMillisecond;  // counters and stdin, at most this often

// in_place: one line rewritten with '\r' (stderr is a terminal); lines: one plain line per
// --stats-every; quiet: none, unless Enter asks.
enum class StatusMode { quiet, in_place, lines };

// Other output on stderr every round (-vv's timeline, --packet-trace) would write into a line
// kept in place, so with them the status comes as plain lines.
StatusMode status_mode(const ScanConfig& config) {
    const bool busy = config.verbosity >= 2 || config.packet_trace;
    if (::isatty(STDERR_FILENO) == 1 && !busy) return StatusMode::in_place;
    return config.stats_every > 0 ? StatusMode::lines : StatusMode::quiet;
}

// Local time since midnight: the ETC's clock time.
Micros time_of_day() {
    const std::time_t t = std::time(nullptr);
    std::tm local{};
    localtime_r(&t, &local);
    return Micros{local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec} * kSecond;
}

// A line longer than the terminal would wrap, and '\r' would then rewrite only its last row.
std::string fit_terminal(std::string text) {
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 1 && text.size() >= size.ws_col)
        text.resize(size.ws_col - 1u);
    return text;
}

// nmap prints a status line when a key is pressed: stdin, when it is a terminal, is looked at
// without waiting, and what was typed is consumed. Only while we are the terminal's foreground
// process: a read from the background would stop the scan (SIGTTIN).
class KeyPress {
public:
    KeyPress() : watching_(::isatty(STDIN_FILENO) == 1) {}

    bool watching() const { return watching_; }

    bool pressed() {
        if (!watching_ || ::tcgetpgrp(STDIN_FILENO) != ::getpgrp()) return false;
        bool typed = false;
        pollfd input{STDIN_FILENO, POLLIN, 0};
        while (::poll(&input, 1, 0) == 1 && (input.revents & (POLLIN | POLLHUP)) != 0) {
            char buffer[256];
            if (::read(STDIN_FILENO, buffer, sizeof buffer) <= 0) {
                watching_ = false;  // end of input
                break;
            }
            typed = true;
        }
        return typed;
    }

private:
    bool watching_;
};

class Watcher {
public:
    Watcher(const PhaseWatch& watch, Micros started)
        : watch_(watch),
          mode_(status_mode(watch.config)),
          every_(watch.config.stats_every > 0 ? watch.config.stats_every : kRefresh),
          line_(watch.title, started),
          next_line_(started + every_) {}

    bool active() { return mode_ != StatusMode::quiet || keys_.watching() || watch_.config.verbosity > 0; }

    void tick(Micros now) {
        if (now < next_look_ && !redraw_) return;
        next_look_ = now + kLookEvery;
        line_.observe(snapshot(now));
        const bool asked = keys_.pressed();
        const bool due = mode_ != StatusMode::quiet && now >= next_line_;
        if (due) next_line_ = now + every_;
        if (asked || due || redraw_) show();
        redraw_ = false;
    }

    // -v: an open port of the port scan, as nmap says it.
    void answered(const PacketOutcome& outcome) {
        if (!outcome.index || watch_.results.port(*outcome.index).state != PortState::open) return;
        const TargetSet& targets = watch_.results.targets();
        const ProbeKind& kind = watch_.results.kind(targets.lane_at(*outcome.index));
        if (kind.purpose != Purpose::port_scan) return;
        const Target target = targets.at(*outcome.index);
        redraw_ = drawn_;
        erase();
        side_stream(watch_.config, watch_.out, watch_.err) << "Discovered open port " << target.port.value() << '/'
                                                           << protocol_name(kind) << " on " << targets.address_text(target.ip) << '\n'
                                                           << std::flush;
    }

    void erase() {
        if (drawn_) watch_.err << "\r\033[K" << std::flush;
        drawn_ = false;
    }

private:
    ProgressSnapshot snapshot(Micros now) const {
        const EngineStats& stats = watch_.engine.stats();
        return ProgressSnapshot{now,           watch_.engine.planned(), watch_.engine.decided(),
                                stats.sent,    stats.replies,           watch_.results.state_total(PortState::open),
                                stats.retransmitted};
    }

    void show() {
        const std::string text = line_.text(time_of_day());
        if (mode_ != StatusMode::in_place) {
            watch_.err << text << '\n' << std::flush;
            return;
        }
        watch_.err << '\r' << fit_terminal(text) << "\033[K" << std::flush;
        drawn_ = true;
    }

    const PhaseWatch& watch_;
    StatusMode mode_;
    Micros every_;
    StatusLine line_;
    KeyPress keys_;
    Micros next_line_;
    Micros next_look_ = 0;
    bool drawn_ = false;   // a line is on the terminal, the cursor at its end
    bool redraw_ = false;  // it was erased for other output: draw it again at once
};

}  // namespace

ScanEnd run_watched(const PhaseWatch& watch, const Clock& clock, LoopHooks hooks,
                    const std::function<ScanEnd(const LoopHooks&)>& run) {
    Watcher watcher{watch, clock.now()};
    if (watcher.active()) {
        LoopHooks mine;
        mine.tick = [&watcher](Micros now) { watcher.tick(now); };
        if (watch.config.verbosity > 0) mine.answered = [&watcher](const PacketOutcome& outcome) { watcher.answered(outcome); };
        add_hooks(hooks, std::move(mine));
    }
    const ScanEnd end = run(hooks);
    watcher.erase();
    return end;
}

}  // namespace flagscan

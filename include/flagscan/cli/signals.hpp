// InterruptWatcher: turns Ctrl-C (SIGINT) and SIGTERM into a flag the scan loop reads; no globals.
#pragma once

#include <atomic>
#include <thread>

namespace flagscan {

// Blocks SIGINT and SIGTERM in the calling thread (construct it before any other thread, so
// they all inherit the mask) and waits for them on a thread of its own with sigtimedwait.
class InterruptWatcher {
public:
    InterruptWatcher();
    ~InterruptWatcher();
    InterruptWatcher(const InterruptWatcher&) = delete;
    InterruptWatcher& operator=(const InterruptWatcher&) = delete;

    const std::atomic<bool>& flag() const { return interrupted_; }
    bool interrupted() const { return interrupted_.load(); }

private:
    std::atomic<bool> interrupted_{false};
    std::atomic<bool> done_{false};
    std::thread thread_;
};

}  // namespace flagscan

// Signal handling on a thread of its own.
#include "flagscan/cli/signals.hpp"

#include <csignal>
#include <ctime>

namespace flagscan {
namespace {

sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

}  // namespace

InterruptWatcher::InterruptWatcher() {
    const sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    thread_ = std::thread([this, set] {
        const timespec tick{0, 100'000'000};
        while (!done_.load()) {
            if (sigtimedwait(&set, nullptr, &tick) > 0) interrupted_.store(true);
        }
    });
}

InterruptWatcher::~InterruptWatcher() {
    done_.store(true);
    thread_.join();
}

}  // namespace flagscan

// The test suites' process runner: fork, exec, drain both pipes, kill the group on timeout.
#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace flagscan::testsupport {

namespace {

// Owns a pipe's two ends.
struct Pipe {
    int fds[2] = {-1, -1};
    Pipe() {
        if (pipe2(fds, O_CLOEXEC) != 0) fds[0] = fds[1] = -1;
    }
    ~Pipe() { close_all(); }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    bool ok() const { return fds[0] >= 0; }
    void close_end(int i) {
        if (fds[i] >= 0) close(fds[i]);
        fds[i] = -1;
    }
    void close_all() {
        close_end(0);
        close_end(1);
    }
};

[[noreturn]] void exec_child(const std::vector<std::string>& argv, int out_fd, int err_fd) {
    setpgid(0, 0);  // its own group, so a timeout kills it and its children only
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    const std::string message = "exec " + argv[0] + ": " + std::strerror(errno) + "\n";
    (void)!write(STDERR_FILENO, message.data(), message.size());
    _exit(127);
}

// Reads both pipes until they close or the deadline passes; false on timeout.
bool drain(int out_fd, int err_fd, std::chrono::steady_clock::time_point deadline,
           ProcessResult& result) {
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_count = 2;
    while (open_count > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        if (poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buffer[4096];
            const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                fds[i].fd = -1;
                --open_count;
            }
        }
    }
    return true;
}

}  // namespace

std::string ProcessResult::describe() const {
    std::string status = timed_out     ? "timed out"
                         : exited()    ? "exit code " + std::to_string(exit_code)
                                       : "killed by signal " + std::to_string(term_signal);
    return status + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
}

ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
    ProcessResult result;
    Pipe out;
    Pipe err;
    if (argv.empty() || !out.ok() || !err.ok()) {
        result.err = "run_process: bad argv or pipe failure";
        return result;
    }
    const pid_t pid = fork();
    if (pid < 0) {
        result.err = std::string("fork: ") + std::strerror(errno);
        return result;
    }
    if (pid == 0) exec_child(argv, out.fds[1], err.fds[1]);
    setpgid(pid, pid);  // also from the parent, so kill(-pid) cannot race the child's own call
    out.close_end(1);
    err.close_end(1);
    result.timed_out = !drain(out.fds[0], err.fds[0], std::chrono::steady_clock::now() + timeout, result);
    if (result.timed_out) kill(-pid, SIGKILL);
    int status = 0;
    rusage usage{};
    while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    result.peak_rss_kib = usage.ru_maxrss;
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
    return result;
}

}  // namespace flagscan::testsupport

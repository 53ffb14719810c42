// -sV's walk of one port with its probes run ahead on parallel connections, decided in nmap's order.
#pragma once

#include <compare>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flagscan/service/conversations.hpp"
#include "flagscan/service/version_detection.hpp"

namespace flagscan {

// A probe of a walk: the tunnel it runs in (the walk starts over inside TLS) and the probe.
struct ProbeKey {
    ServiceTunnel tunnel = ServiceTunnel::none;
    std::size_t probe = 0;
    auto operator<=>(const ProbeKey&) const = default;
};

// One probe's answer, kept until the walk reaches it, with its match (computed once).
struct ProbeAnswer {
    std::string received;
    Ending ending = Ending::open;
    WaitEnd wait_end = WaitEnd::full;
    int error = 0;
    Micros elapsed = 0;
    Micros connected_for = -1;
    Micros first_byte_after = -1;
    std::optional<TlsInfo> tls;
    std::optional<ServiceMatch> match;

    static ProbeAnswer of(const Exchange& exchange);
    Exchange exchange() const;  // views into this answer
};

// What a probe under way has shown so far: its first bytes (the NULL probe's, at the end of
// its grace) and their match; empty when nothing came yet.
struct ProbeSoFar {
    std::string received;
    std::optional<ServiceMatch> match;
};

// Which probes to start ahead, and which of those under way are still wanted.
struct Ahead {
    std::vector<ProbeKey> start;   // neither answered nor under way, in walk order
    std::vector<ProbeKey> wanted;  // under way and on the guessed walk
};

// Why the walk can be run ahead without changing its verdict: the walk itself only ever takes
// answers in nmap's order (VersionWalk::next on the probe it waits for), so a probe started
// early changes when its answer is known, not what is done with it, and one cancelled is
// started again if the walk comes to it. Which probes to start is a guess: a copy of WALK taken
// over the answers known (ANSWERS) and, for the probes under way (UNDER_WAY) or not started,
// over what they showed so far (usually nothing: no match, the next probe). A softmatch seen so
// far narrows the guess as it will narrow the walk, an "ssl" match takes it into TLS, a hard
// match ends it. Gives at most BUDGET probes to start, never the probe a silent NULL probe
// under way will carry on its own connection (nmap's reuse), and the probes under way the
// guessed walk still comes to (the others, past a known hard match, can be cancelled).
Ahead probes_ahead(const VersionWalk& walk, const std::map<ProbeKey, ProbeAnswer>& answers,
                   const std::map<ProbeKey, ProbeSoFar>& under_way, std::size_t budget);

// One open port's walk over the driver: the walk's next probe first in its host's queue, up
// to settings.ahead - 1 probes_ahead() beside it, each on its own connection (but the probe a
// silent NULL probe lends its connection to). Ends when the walk does, and cancels what it
// started ahead and no longer needs. Must outlive the driver's run; not movable (the driver
// holds its dialogs).
class ParallelWalk {
public:
    ParallelWalk(ConversationDriver& driver, const ConversationDriver::Endpoint& endpoint, const VersionWalk& walk,
                 const AheadSettings& settings);
    ~ParallelWalk();
    ParallelWalk(const ParallelWalk&) = delete;
    ParallelWalk& operator=(const ParallelWalk&) = delete;

    void start();
    bool done() const { return done_; }
    std::optional<ServiceFound> found() const { return walk_.found(); }
    const VersionWalk& walk() const { return walk_; }
    std::size_t probes_started() const { return runs_.size(); }

private:
    class Run;
    void launch(const ProbeKey& key, Link link, bool first);
    std::optional<Step> take_answer(Run& run, const Exchange& exchange);
    void after_checkpoint();
    void look_ahead();
    void cancel_all(const Run* keep);
    ProbeKey current() const { return ProbeKey{walk_.tunnel(), walk_.current()}; }

    ConversationDriver* driver_;
    ConversationDriver::Endpoint endpoint_;
    VersionWalk walk_;
    AheadSettings settings_;
    std::vector<std::unique_ptr<Run>> runs_;
    std::map<ProbeKey, ProbeAnswer> answers_;  // answered, not yet taken by the walk
    std::map<ProbeKey, Run*> under_way_;
    bool ahead_ = false;  // the NULL probe's grace is over: probes may run ahead
    bool done_ = false;
};

}  // namespace flagscan

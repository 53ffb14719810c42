// -sV's walk of one port with its probes run ahead on parallel connections, decided in nmap's order.
#include "flagscan/service/parallel_walk.hpp"

#include <algorithm>

namespace flagscan {
namespace {

Link fresh_link(ServiceTunnel tunnel) { return tunnel == ServiceTunnel::ssl ? Link::tls : Link::plain; }

}  // namespace

ProbeAnswer ProbeAnswer::of(const Exchange& exchange) {
    ProbeAnswer answer;
    answer.received.assign(exchange.received);
    answer.ending = exchange.ending;
    answer.wait_end = exchange.wait_end;
    answer.error = exchange.error;
    answer.elapsed = exchange.elapsed;
    answer.connected_for = exchange.connected_for;
    answer.first_byte_after = exchange.first_byte_after;
    if (exchange.tls != nullptr) answer.tls = *exchange.tls;
    return answer;
}

Exchange ProbeAnswer::exchange() const {
    Exchange exchange;
    exchange.received = received;
    exchange.ending = ending;
    exchange.wait_end = wait_end;
    exchange.error = error;
    exchange.elapsed = elapsed;
    exchange.connected_for = connected_for;
    exchange.first_byte_after = first_byte_after;
    exchange.tls = tls ? &*tls : nullptr;
    return exchange;
}

Ahead probes_ahead(const VersionWalk& walk, const std::map<ProbeKey, ProbeAnswer>& answers,
                   const std::map<ProbeKey, ProbeSoFar>& under_way, std::size_t budget) {
    Ahead ahead;
    VersionWalk guess = walk;
    bool lent = false;  // the probe at hand will go over a silent NULL probe's connection
    const ProbeSoFar nothing;
    for (;;) {  // to the guessed walk's end: each step takes a probe of the plan, which is finite
        const ProbeKey key{guess.tunnel(), guess.current()};
        std::optional<ProbeAsk> ask;
        if (const auto answer = answers.find(key); answer != answers.end()) {
            ask = guess.next(answer->second.exchange(), answer->second.match);
            lent = false;
        } else {
            const auto going = under_way.find(key);
            if (going != under_way.end()) ahead.wanted.push_back(key);
            else if (!lent && ahead.start.size() < budget) ahead.start.push_back(key);
            const ProbeSoFar& so_far = going == under_way.end() ? nothing : going->second;
            Exchange guessed;  // what it showed so far, the connection still open
            guessed.received = so_far.received;
            ask = guess.next(guessed, so_far.match);
            lent = going != under_way.end() && ask && ask->link == Link::reuse;
        }
        if (!ask) break;
    }
    return ahead;
}

// One probe on one connection. The NULL probe, when probes may run ahead, listens in two steps
// on the same connection: its grace, then the rest of its wait; the bytes of both are its answer.
class ParallelWalk::Run final : public Dialog {
public:
    Run(ParallelWalk& owner, const ProbeKey& key, Link link) : owner_(&owner), key(key), link_(link) {}

    Step start() override {
        const ServiceProbe& probe = owner_->walk_.db().probe(key.probe);
        const Micros wait = probe.totalwaitms * kMillisecond;
        if (probe.is_null() && owner_->settings_.ahead > 1 && owner_->settings_.grace < wait) {
            in_grace_ = true;
            return Step::probe(link_, {}, owner_->settings_.grace);
        }
        return probe_step(owner_->walk_.db(), ProbeAsk{key.probe, link_});
    }

    bool enough(std::string_view received) override {
        if (head.empty()) return owner_->walk_.hard_match(key.probe, received);
        return owner_->walk_.hard_match(key.probe, head + std::string(received));
    }

    Step next(const Exchange& exchange) override {
        if (in_grace_) {
            in_grace_ = false;
            if (exchange.ending == Ending::open && exchange.wait_end == WaitEnd::full) {
                head.assign(exchange.received);
                head_elapsed_ = exchange.elapsed;
                head_first_byte_ = exchange.first_byte_after;
                head_match = owner_->walk_.match(key.probe, head);
                owner_->after_checkpoint();
                const Micros wait = owner_->walk_.db().probe(key.probe).totalwaitms * kMillisecond;
                return Step::probe(Link::reuse, {}, wait - exchange.elapsed);
            }
        }
        std::string whole;
        Exchange answer = exchange;
        if (head_elapsed_ > 0) {  // the two steps of a NULL probe as one
            whole = head + std::string(exchange.received);
            answer.received = whole;
            answer.elapsed += head_elapsed_;
            answer.first_byte_after = head_first_byte_ >= 0          ? head_first_byte_
                                      : exchange.first_byte_after >= 0 ? exchange.first_byte_after + head_elapsed_
                                                                       : -1;
        }
        const std::optional<Step> more = owner_->take_answer(*this, answer);
        return more ? *more : Step::finish();
    }

    // The probe it carries next, on the same connection (a silent NULL probe's lending).
    void carry(const ProbeKey& next) {
        key = next;
        head.clear();
        head_match.reset();
        head_elapsed_ = 0;
        head_first_byte_ = -1;
    }

    ParallelWalk* owner_;
    ProbeKey key;
    ConversationDriver::Id id = 0;
    std::string head;  // the NULL probe's bytes during its grace
    std::optional<ServiceMatch> head_match;

private:
    Link link_;
    bool in_grace_ = false;
    Micros head_elapsed_ = 0;
    Micros head_first_byte_ = -1;
};

ParallelWalk::ParallelWalk(ConversationDriver& driver, const ConversationDriver::Endpoint& endpoint,
                           const VersionWalk& walk, const AheadSettings& settings)
    : driver_(&driver), endpoint_(endpoint), walk_(walk), settings_(settings) {}

ParallelWalk::~ParallelWalk() = default;

void ParallelWalk::start() {
    const auto first = walk_.start();
    if (!first) {
        done_ = true;
        return;
    }
    launch(current(), first->link, false);
}

void ParallelWalk::launch(const ProbeKey& key, Link link, bool first) {
    Run& run = *runs_.emplace_back(std::make_unique<Run>(*this, key, link));
    under_way_[key] = &run;
    run.id = driver_->add(endpoint_, run, first);
}

// RUN's probe answered: the walk takes every answer it waits for, in its order; then the probe
// it waits for next is started (first in line) unless under way, or carried on RUN's connection
// when the walk reuses it; then more probes run ahead. The step RUN goes on with, if any.
std::optional<Step> ParallelWalk::take_answer(Run& run, const Exchange& exchange) {
    if (const auto going = under_way_.find(run.key); going != under_way_.end() && going->second == &run)
        under_way_.erase(going);
    ProbeAnswer& kept = answers_[run.key] = ProbeAnswer::of(exchange);
    kept.match = walk_.match(run.key.probe, kept.received);
    ahead_ = true;
    std::optional<Step> carried;
    while (!done_ && !carried) {
        const auto answer = answers_.find(current());
        if (answer == answers_.end()) break;
        const bool from_run = answer->first == run.key;
        const auto ask = walk_.next(answer->second.exchange(), answer->second.match);
        answers_.erase(answer);
        if (!ask) {
            done_ = true;
            break;
        }
        const bool idle = !answers_.contains(current()) && !under_way_.contains(current());
        if (ask->link == Link::reuse && from_run && exchange.ending == Ending::open && idle) {
            run.carry(current());
            under_way_[run.key] = &run;
            carried = probe_step(walk_.db(), *ask);
        }
    }
    if (done_) {
        cancel_all(&run);
        return std::nullopt;
    }
    if (!carried && !under_way_.contains(current())) launch(current(), fresh_link(walk_.tunnel()), true);
    look_ahead();
    return carried;
}

void ParallelWalk::after_checkpoint() {
    ahead_ = true;
    look_ahead();
}

// Cancels what the guessed walk no longer comes to (its connection is better used elsewhere),
// then starts what it comes to next, up to settings.ahead under way.
void ParallelWalk::look_ahead() {
    if (done_ || !ahead_ || settings_.ahead <= 1) return;
    std::map<ProbeKey, ProbeSoFar> so_far;
    for (const auto& [key, run] : under_way_) so_far[key] = ProbeSoFar{run->head, run->head_match};
    const std::size_t room = settings_.ahead - std::min(settings_.ahead, under_way_.size());
    const Ahead ahead = probes_ahead(walk_, answers_, so_far, room);
    for (auto going = under_way_.begin(); going != under_way_.end();) {
        const bool wanted = std::find(ahead.wanted.begin(), ahead.wanted.end(), going->first) != ahead.wanted.end();
        if (wanted || going->first == current()) {
            ++going;
            continue;
        }
        driver_->cancel(going->second->id);
        going = under_way_.erase(going);
    }
    for (const ProbeKey& key : ahead.start) launch(key, fresh_link(key.tunnel), false);
}

void ParallelWalk::cancel_all(const Run* keep) {
    for (const auto& [key, run] : under_way_)
        if (run != keep) driver_->cancel(run->id);
    under_way_.clear();
    answers_.clear();
}

}  // namespace flagscan

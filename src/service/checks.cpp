// Weakness checks (--checks): the table of checks, the choice of them, their evidence, and the phase that runs them.
#include "flagscan/service/checks.hpp"

#include <algorithm>
#include <random>

#include "flagscan/net/address_text.hpp"
#include "flagscan/net/decode.hpp"
#include "flagscan/service/banner.hpp"
#include "flagscan/service/check_dialogs.hpp"

namespace flagscan {
namespace {

constexpr std::string_view kFtp[] = {"ftp"};
constexpr std::string_view kTelnet[] = {"telnet"};
constexpr std::string_view kSsh[] = {"ssh"};
constexpr std::string_view kHttp[] = {"http", "https", "http-proxy", "http-alt"};

template <typename T, typename... Args>
std::unique_ptr<CheckDialog> make(Args&&... args) {
    return std::make_unique<T>(std::forward<Args>(args)...);
}

// The checks, in the order of their findings in every output. Adding one is adding a row.
constexpr Check kChecks[] = {
    {"ftp-anon", "anonymous FTP login accepted (and the top of the root's listing, by STAT: no data connection)",
     CheckCategory::safe, kFtp, [](const CheckPort&) { return make<FtpAnonDialog>(); }, nullptr},
    {"ftp-writable", "anonymous users can create a directory (a random name, in the root or a directory it lists; "
                     "removed at once)",
     CheckCategory::intrusive, kFtp, [](const CheckPort& p) { return make<FtpWritableDialog>(p.nonce); }, nullptr},
    {"ftp-bounce", "the server accepts PORT to an address other than ours (its own loopback: no third host is "
                   "contacted)",
     CheckCategory::safe, kFtp, [](const CheckPort& p) { return make<FtpBounceDialog>(p.address, p.ipv6); }, nullptr},
    {"telnet-cleartext", "a telnet login prompt is offered (every option refused, nothing typed)", CheckCategory::safe,
     kTelnet, [](const CheckPort&) { return make<TelnetLoginDialog>(); }, nullptr},
    {"ssh-v1", "the server still speaks SSH protocol 1 (identification SSH-1.x; nothing sent)", CheckCategory::safe, kSsh,
     [](const CheckPort&) { return make<SshV1Dialog>(); }, nullptr},
    {"http-server-header", "the Server header names a version or more (HEAD /; a bare product name is no finding)",
     CheckCategory::safe, kHttp, [](const CheckPort& p) { return make<HttpServerDialog>(p.address, p.tunnel); }, nullptr},
    {"http-root-owner", "the web server runs as root, as identd says (needs -I/--ident; no connection of its own)",
     CheckCategory::safe, kHttp, nullptr, judge_root_owner},
};

std::string all_names() {
    std::string names;
    for (const Check& check : kChecks) names += (names.empty() ? "" : ", ") + std::string(check.id);
    return names;
}

std::string pad(std::string_view text, std::size_t width) {
    std::string padded(text);
    if (padded.size() < width) padded.append(width - padded.size(), ' ');
    return padded;
}

}  // namespace

std::string_view to_string(CheckCategory category) { return category == CheckCategory::safe ? "safe" : "intrusive"; }

void Transcript::add(std::string line) {
    if (lines_.size() + 1 < kEvidenceLines) return lines_.push_back(std::move(line));
    if (dropped_++ == 0) lines_.push_back("... (more lines left out)");
}

void Transcript::sent(std::string_view line) { add("> " + escape_banner(line, kEvidenceWidth)); }

void Transcript::received(std::string_view bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
        auto end = bytes.find('\n', at);
        if (end == std::string_view::npos) end = bytes.size();
        std::string_view line = bytes.substr(at, end - at);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        add("< " + escape_banner(line, kEvidenceWidth));
        at = end + 1;
    }
}

void Transcript::note(std::string line) { add(std::move(line)); }

CheckFinding CheckDialog::found(std::string_view id, std::string output) const {
    return CheckFinding{std::string(id), std::move(output), transcript_.lines()};
}

bool Check::applies_to(std::string_view service) const {
    return std::find(services.begin(), services.end(), service) != services.end();
}

std::span<const Check> all_checks() { return kChecks; }

const Check* find_check(std::string_view id) {
    const auto found = std::find_if(std::begin(kChecks), std::end(kChecks), [&](const Check& c) { return c.id == id; });
    return found == std::end(kChecks) ? nullptr : found;
}

Result<std::vector<const Check*>> select_checks(std::string_view spec) {
    std::vector<const Check*> chosen;
    if (spec.empty() || spec == "safe" || spec == "intrusive") {
        for (const Check& check : kChecks)
            if (check.category == CheckCategory::safe || spec == "intrusive") chosen.push_back(&check);
        return chosen;
    }
    std::vector<bool> named(std::size(kChecks), false);
    for (std::size_t at = 0; at <= spec.size();) {
        const auto comma = std::min(spec.find(',', at), spec.size());
        const std::string_view name = spec.substr(at, comma - at);
        const Check* check = find_check(name);
        if (check == nullptr)
            return Error{"unknown check '" + std::string(name) + "' in --checks: the checks are " + all_names() +
                         " (or safe, intrusive, list)"};
        named[static_cast<std::size_t>(check - kChecks)] = true;
        at = comma + 1;
    }
    for (std::size_t i = 0; i < named.size(); ++i)
        if (named[i]) chosen.push_back(&kChecks[i]);
    return chosen;
}

// A line each: id, category, the services it applies to, what it does; columns aligned.
std::string checks_listing() {
    std::vector<std::string> services;
    std::size_t width = 0;
    for (const Check& check : kChecks) {
        std::string names;
        for (const auto service : check.services) names += (names.empty() ? "" : ",") + std::string(service);
        width = std::max(width, names.size());
        services.push_back(std::move(names));
    }
    std::string text;
    for (std::size_t i = 0; i < std::size(kChecks); ++i)
        text += pad(kChecks[i].id, 19) + ' ' + pad(to_string(kChecks[i].category), 10) + ' ' + pad(services[i], width) + ' ' +
                std::string(kChecks[i].summary) + '\n';
    return text;
}

namespace {

// One check of one port: its conversation, or (judged) its finding at once.
struct Talk {
    std::uint64_t index;
    const Check* check;
    std::string where;  // "10.0.0.1:21"
    std::unique_ptr<CheckDialog> dialog;
    std::optional<CheckFinding> judged;
};

// The checks that apply to one open TCP port, added to `talks` (and the driver).
bool plan_port(const Results& results, std::uint64_t index, const ChecksSettings& settings, std::mt19937_64& random,
               ConversationDriver& driver, std::vector<Talk>& talks, std::size_t& without_owner) {
    const Target target = results.targets().at(index);
    const ServiceFound* service = results.services().find(index);
    const std::string name = service != nullptr ? service->name : std::string{};
    bool any = false;
    for (const Check* check : settings.checks) {
        if (!check->applies_to(name)) continue;
        any = true;
        const CheckPort port{target.ip, target.port, name, service->tunnel, results.services().owner(index), random(),
                             results.targets().ipv6()};
        Talk talk{index, check, endpoint_text(results.targets().address_text(target.ip), target.port), nullptr, std::nullopt};
        if (check->judge != nullptr) {
            if (port.owner == nullptr) ++without_owner;
            else talk.judged = check->judge(port);
            talks.push_back(std::move(talk));
            continue;
        }
        talk.dialog = check->dialog(port);
        driver.add({target.ip, target.port, Transport::tcp}, *talk.dialog);
        talks.push_back(std::move(talk));
    }
    return any;
}

void collect(Results& results, std::vector<Talk>& talks, ChecksRun& run) {
    // Each port's findings in the table's order, whatever order the conversations ended in.
    std::stable_sort(talks.begin(), talks.end(), [](const Talk& a, const Talk& b) {
        return a.index != b.index ? a.index < b.index : a.check < b.check;
    });
    for (Talk& talk : talks) {
        std::optional<CheckFinding> finding = talk.dialog ? talk.dialog->finding() : std::move(talk.judged);
        if (talk.dialog) run.said.push_back(talk.where + " " + std::string(talk.check->id) + ": " + talk.dialog->said());
        if (!finding) continue;
        if (!talk.dialog) run.said.push_back(talk.where + " " + std::string(talk.check->id) + ": " + finding->output);
        results.checks().add(talk.index, std::move(*finding));
        ++run.findings;
    }
}

}  // namespace

ChecksRun run_checks(Results& results, const ChecksSettings& settings, const Clock& clock, const std::atomic<bool>& stop) {
    ChecksRun run;
    const Micros started = clock.now();
    results.checks().mark_performed();
    auto driver = ConversationDriver::open(settings.limits);
    if (!driver) return run.failure = driver.error(), run;
    std::mt19937_64 random{settings.seed};
    std::vector<Talk> talks;  // each dialog on the heap: the driver holds it while the vector grows
    std::size_t without_owner = 0;
    const auto& targets = results.targets();
    for (const std::uint32_t host : results.hosts_held()) {
        if (results.host(host).counts[static_cast<int>(PortState::open)] == 0) continue;
        for (const PlacedSlot placed : targets.slots_of(host)) {
            const bool tcp = results.kind(placed.slot.lane).protocol == ipproto::tcp;
            if (!tcp || results.port(placed.index).state != PortState::open) continue;
            if (plan_port(results, placed.index, settings, random, *driver, talks, without_owner)) ++run.ports;
        }
    }
    run.conversations = static_cast<std::size_t>(std::count_if(talks.begin(), talks.end(), [](const Talk& t) { return t.dialog != nullptr; }));
    driver->run(clock, &stop);
    collect(results, talks, run);
    if (without_owner > 0)
        run.notes.push_back("--checks: http-root-owner needs to know who runs the web server (-I/--ident, identd on port "
                            "113): not checked on " + std::to_string(without_owner) + " port" + (without_owner == 1 ? "" : "s"));
    run.stats = driver->stats();
    run.failure = driver->failure();
    run.elapsed = clock.now() - started;
    return run;
}

}  // namespace flagscan

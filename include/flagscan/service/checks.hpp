// Weakness checks (--checks): a small named set, each a table row and a conversation over the driver.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/engine/checks_found.hpp"
#include "flagscan/engine/clock.hpp"
#include "flagscan/engine/results.hpp"
#include "flagscan/net/ipv4.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/service/conversations.hpp"

namespace flagscan {

// safe: reads what the service offers anyone (a banner, a login prompt, an anonymous login);
// intrusive: changes something on it, even if it undoes it (ftp-writable's directory).
enum class CheckCategory : std::uint8_t { safe, intrusive };
std::string_view to_string(CheckCategory category);

// What a check is told of its port: where, what -sV named there, and who runs it (-I).
struct CheckPort {
    Ipv4 address;                        // an IPv6 scan's key (net/address_book.hpp) when `ipv6`
    Port port;
    std::string service;                 // -sV's name ("ftp", "http"), without "ssl/"
    ServiceTunnel tunnel = ServiceTunnel::none;
    const std::string* owner = nullptr;  // identd's answer for the port (-I), or null
    std::uint64_t nonce = 0;             // random, for names a check makes (ftp-writable's directory)
    bool ipv6 = false;                   // the connection is IPv6 (-6)
};

// A check's lines exchanged, as its evidence: "> " what was sent, "< " what came back, each
// line escaped printable and cut, at most kEvidenceLines of them.
inline constexpr std::size_t kEvidenceLines = 24;
inline constexpr std::size_t kEvidenceWidth = 160;
class Transcript {
public:
    void sent(std::string_view line);
    void received(std::string_view bytes);  // split into lines (CRLF or LF)
    void note(std::string line);            // a line of what the check did, no direction
    const std::vector<std::string>& lines() const { return lines_; }

private:
    void add(std::string line);
    std::vector<std::string> lines_;
    std::size_t dropped_ = 0;
};

// A check's conversation with one port: a Dialog, plus what it concluded. `said()` is one line
// of what it did and saw, finding or not (-v prints it: a check says what it did).
class CheckDialog : public Dialog {
public:
    virtual std::optional<CheckFinding> finding() const = 0;
    const std::string& said() const { return said_; }
    const Transcript& transcript() const { return transcript_; }

protected:
    // A finding of this check with the transcript as its evidence.
    CheckFinding found(std::string_view id, std::string output) const;
    Transcript transcript_;
    std::string said_;
};

struct Check {
    std::string_view id;
    std::string_view summary;                  // one line, what --checks list prints
    CheckCategory category;
    std::span<const std::string_view> services;  // the -sV names it applies to
    // Its conversation with one port; null for a check that opens no connection (judge).
    std::unique_ptr<CheckDialog> (*dialog)(const CheckPort& port) = nullptr;
    // A check that reads what other phases found instead; null for one that talks (dialog).
    std::optional<CheckFinding> (*judge)(const CheckPort& port) = nullptr;
    bool applies_to(std::string_view service) const;
};

// Every check, in the order the outputs list their findings.
std::span<const Check> all_checks();
const Check* find_check(std::string_view id);

// --checks' argument: "safe" (or nothing) every safe check; "intrusive" every check;
// "ftp-anon,ssh-v1" those named. An unknown name is a one-line error that names them all.
Result<std::vector<const Check*>> select_checks(std::string_view spec);

// --checks list: a line per check, "ftp-anon  safe  ftp  anonymous login accepted ...".
std::string checks_listing();

struct ChecksSettings {
    std::vector<const Check*> checks;
    ConversationLimits limits;
    std::uint64_t seed = 0;  // for the names checks make
};

struct ChecksRun {
    std::size_t ports = 0;          // open TCP ports some check applied to
    std::size_t conversations = 0;  // checks run over a connection
    std::size_t findings = 0;
    std::vector<std::string> said;   // "10.0.0.1:21 ftp-anon: ...", one per check run (-v)
    std::vector<std::string> notes;  // said once on stderr (a check skipped, and why)
    ConversationStats stats;
    Micros elapsed = 0;
    std::optional<std::string> failure;  // the driver could not open or go on
};

// After -sV: every selected check with every open TCP port whose service it applies to, all at
// once through one driver; the findings go to results.checks(), marked performed. Stops early
// when `stop` is set.
ChecksRun run_checks(Results& results, const ChecksSettings& settings, const Clock& clock, const std::atomic<bool>& stop);

}  // namespace flagscan

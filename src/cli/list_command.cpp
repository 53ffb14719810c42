// -sL, the list scan: every target (IPv4, or IPv6 in RFC 5952 form), with its reverse DNS name unless -n; no packet is sent.
#include <algorithm>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flagscan/cli/hosts.hpp"
#include "flagscan/cli/reporting.hpp"
#include "flagscan/cli/reverse_dns.hpp"
#include "flagscan/cli/runner.hpp"
#include "flagscan/cli/text_outputs.hpp"
#include "flagscan/targets/ipv6_targets.hpp"

namespace flagscan {
namespace {

// Addresses named and written at a time: a /8 lists in flat memory, and one slow name server
// costs each block its budget at most.
constexpr std::uint64_t kBlock = 1024;
constexpr Micros kNamesBudget = 2 * kSecond;

// One host: "flagscan scan report for name (10.0.0.1)" as nmap's list scan prints it, and a
// JSON line {"ip":"10.0.0.1","hostname":"name","status":"listed"} ("fd00::1" for an IPv6 one).
void write_listed(const TextOutputs& outputs, const std::string& address, const std::string& name) {
    for (std::ostream* normal : outputs.normal)
        *normal << "flagscan scan report for " << (name.empty() ? address : name + " (" + address + ")") << '\n';
    if (outputs.json == nullptr) return;
    *outputs.json << R"({"ip":")" << address << '"';
    if (!name.empty()) *outputs.json << R"(,"hostname":")" << json_string(name) << '"';
    *outputs.json << R"(,"status":"listed"})" << '\n';
}

// The hosts to list: IPv4 addresses, or an IPv6 scan's keys with the book that holds their addresses.
struct Listed {
    AddressSet hosts;
    std::shared_ptr<const AddressBook> book;
};

Result<Listed> listed_hosts(const ScanConfig& config, std::ostream& err) {
    if (!config.ipv6) {
        auto hosts = command_line_hosts(config, resolve_with_system, err);
        if (!hosts) return Error{hosts.error()};
        return Listed{std::move(hosts).value(), nullptr};
    }
    auto addresses = command_line_hosts6(config, resolve6_with_system, err);
    if (!addresses) return Error{addresses.error()};
    auto booked = book_targets(*addresses);
    if (!booked) return Error{booked.error()};
    return Listed{std::move(booked->keys), std::move(booked->book)};
}

}  // namespace

int run_list_command(const ScanConfig& config, std::ostream& out, std::ostream& err) {
    auto listed = listed_hosts(config, err);
    if (!listed) return err << "flagscan: " << listed.error() << '\n', 1;
    const AddressSet* hosts = &listed->hosts;
    const AddressBook* book = listed->book.get();
    const SteadyClock clock;
    const Micros started = clock.now();
    ScanSummary summary{"list scan", now_text(), 0, false, {}, hosts->size()};
    TextOutputs outputs = TextOutputs::open(config, out);
    if (const auto bad = outputs.failed()) return err << "flagscan: cannot write '" << *bad << "'\n", 1;
    for (std::ostream* normal : outputs.normal) write_normal_header(*normal, summary);
    for (std::uint64_t first = 0; first < hosts->size(); first += kBlock) {
        std::vector<Ipv4> block;
        for (std::uint64_t i = first; i < std::min(hosts->size(), first + kBlock); ++i) block.push_back(hosts->at(i));
        const auto names = config.no_dns ? std::vector<std::string>(block.size()) : reverse_names(block, kNamesBudget, book);
        for (std::size_t i = 0; i < block.size(); ++i)
            write_listed(outputs, book != nullptr ? book->text(block[i]) : block[i].str(), names[i]);
    }
    summary.elapsed_seconds = double(clock.now() - started) / kSecond;
    for (std::ostream* normal : outputs.normal) write_normal_footer(*normal, hosts->size(), 0, summary);
    if (const auto bad = outputs.failed()) return err << "flagscan: cannot write '" << *bad << "'\n", 1;
    return 0;
}

}  // namespace flagscan

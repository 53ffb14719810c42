// Resume files: every field round trip, the one-line errors, and a simulated scan stopped, written, read back and finished.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "flagscan/cli/resume_file.hpp"
#include "sim_scan.hpp"

namespace flagscan {
namespace {

using testing::SimScan;
using testing::port_range;

void expect_same(const PortResult& a, const PortResult& b) {
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.reason, b.reason);
    EXPECT_EQ(a.ttl, b.ttl);
    EXPECT_EQ(a.tries, b.tries);
    EXPECT_EQ(a.answered_try, b.answered_try);
    EXPECT_EQ(a.rule, b.rule);
    EXPECT_EQ(a.reply_kind, b.reply_kind);
    EXPECT_EQ(a.reply_flags, b.reply_flags);
    EXPECT_EQ(a.icmp_code, b.icmp_code);
    EXPECT_EQ(a.reply_window, b.reply_window);
    EXPECT_EQ(a.rtt_us, b.rtt_us);
}

PortResult full_port(std::uint8_t n) {
    PortResult p;
    p.state = PortState::closed_filtered;
    p.reason = Reason::localhost_response;
    p.ttl = 255;
    p.tries = static_cast<std::uint8_t>(n + 1);
    p.answered_try = n;
    p.rule = 3;
    p.reply_kind = ReplyEvidence::Kind::arp_reply;
    p.reply_flags = 0xff;
    p.icmp_code = 13;
    p.reply_window = 65535;
    p.rtt_us = std::numeric_limits<std::uint32_t>::max();
    return p;
}

ResumeState sample_state() {
    ResumeState state;
    state.args = {"-sS", "-p", "1-1000", "", "a b\tc\nd%e", "caf\xc3\xa9", "10.77.22.2"};
    state.seed = std::numeric_limits<std::uint64_t>::max();
    ResumePhase discovery{"discovery", 4, {4, {}}, {}, {}, {}};
    PortResult up;
    up.state = PortState::open;
    up.reason = Reason::echo_reply;
    discovery.ports = {{0, up}, {3, up}};
    discovery.hosts = {{0, HostResult{2, 150, 0, {}}}};
    ResumePhase ports{"ports", 1u << 20, {5000, {17, 4, 4999}}, {}, {}, {}};
    ports.ports = {{0, full_port(0)}, {(1u << 20) - 1, full_port(7)}};
    ports.hosts = {{0, HostResult{1, -1, 0.5, {}}}, {9, HostResult{4'000'000'000u, 123456789, 1.0 / 3, {}}}};
    state.phases = {discovery, ports};
    return state;
}

TEST(ResumeFile, EveryFieldSurvivesTheRoundTrip) {
    const ResumeState state = sample_state();
    const std::string text = serialize(state);
    auto back = parse_resume(text);
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->args, state.args);
    EXPECT_EQ(back->seed, state.seed);
    ASSERT_EQ(back->phases.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        const ResumePhase& want = state.phases[i];
        const ResumePhase& got = back->phases[i];
        EXPECT_EQ(got.name, want.name);
        EXPECT_EQ(got.planned, want.planned);
        EXPECT_EQ(got.point.position, want.point.position);
        EXPECT_EQ(got.point.pending, want.point.pending);
        ASSERT_EQ(got.ports.size(), want.ports.size());
        for (std::size_t p = 0; p < want.ports.size(); ++p) {
            EXPECT_EQ(got.ports[p].first, want.ports[p].first);
            expect_same(got.ports[p].second, want.ports[p].second);
        }
        ASSERT_EQ(got.hosts.size(), want.hosts.size());
        for (std::size_t h = 0; h < want.hosts.size(); ++h) {
            EXPECT_EQ(got.hosts[h].first, want.hosts[h].first);
            EXPECT_EQ(got.hosts[h].second.replies, want.hosts[h].second.replies);
            EXPECT_EQ(got.hosts[h].second.min_rtt, want.hosts[h].second.min_rtt);
            EXPECT_EQ(got.hosts[h].second.icmp_limit, want.hosts[h].second.icmp_limit);  // exact: shortest round-trip form
        }
    }
    EXPECT_NE(back->phase("ports"), nullptr);
    EXPECT_EQ(back->phase("os"), nullptr);
    EXPECT_EQ(serialize(*back), text);
    EXPECT_EQ(text.rfind("flagscan-resume 1\nversion " FLAGSCAN_VERSION "\n", 0), 0u);
    EXPECT_EQ(text.find("a b"), std::string::npos);  // escaped: one argument, one line
}

std::string error_of(std::string_view text) {
    auto parsed = parse_resume(text);
    return parsed ? "parsed" : parsed.error();
}

TEST(ResumeFile, GarbageIsNotAResumeFile) {
    EXPECT_EQ(error_of(""), "not a flagscan resume file");
    EXPECT_EQ(error_of("hello\nworld\n"), "not a flagscan resume file");
    EXPECT_EQ(error_of(std::string("\0\x01\xff\n", 4)), "not a flagscan resume file");
    EXPECT_EQ(error_of("flagscan-resume one\n"), "not a flagscan resume file");
}

TEST(ResumeFile, AnotherVersionIsNamed) {
    std::string text = serialize(sample_state());
    const std::string mine = "version " FLAGSCAN_VERSION "\n";
    text.replace(text.find(mine), mine.size(), "version 0.0.9\n");
    EXPECT_EQ(error_of(text), "resume file from flagscan 0.0.9, this is " FLAGSCAN_VERSION);
    std::string format = serialize(sample_state());
    format.replace(0, 17, "flagscan-resume 2");
    EXPECT_EQ(error_of(format), "resume file from flagscan " FLAGSCAN_VERSION ", this is " FLAGSCAN_VERSION);
}

TEST(ResumeFile, EditedOrTruncatedFilesFailTheChecksum) {
    const std::string text = serialize(sample_state());
    const std::string corrupt = "resume file is corrupt (checksum)";
    std::string edited = text;
    edited[edited.find("port 0 6") + 5] = '1';  // port 0 moved to port 1
    EXPECT_EQ(error_of(edited), corrupt);
    std::string sum = text;
    sum[sum.size() - 2] = sum[sum.size() - 2] == '0' ? '1' : '0';
    EXPECT_EQ(error_of(sum), corrupt);
    for (const std::size_t keep : {text.size() / 2, text.size() - 1, text.rfind("checksum"), std::size_t{20}})
        EXPECT_EQ(error_of(text.substr(0, keep)), corrupt) << keep;
    EXPECT_EQ(error_of(text + "port 1 2 3 4 5 6 7 8 9 10 11 12\n"), corrupt);  // a line after the checksum
}

// Lines the checksum vouches for but the parser refuses (what a bug in the writer would make).
TEST(ResumeFile, BadLinesAreNamedByNumber) {
    ResumeState state;
    state.args = {"-p", "22"};
    state.phases = {ResumePhase{"ports", 10, {10, {}}, {{3, PortResult{}}}, {}, {}}};  // an unscanned verdict
    EXPECT_EQ(error_of(serialize(state)), "resume file line 7: bad port entry");
    state.phases = {ResumePhase{"ports", 10, {10, {12}}, {}, {}, {}}};  // pending past the target set
    EXPECT_EQ(error_of(serialize(state)), "resume file line 7: bad pending index");
    state.phases = {ResumePhase{"ports", 10, {11, {}}, {}, {}, {}}};  // position past the end
    EXPECT_EQ(error_of(serialize(state)), "resume file line 6: bad phase line");
    state.phases = {ResumePhase{"ports", 10, {0, {}}, {}, {}, {}}, ResumePhase{"ports", 10, {0, {}}, {}, {}, {}}};
    EXPECT_EQ(error_of(serialize(state)), "resume file line 7: phase 'ports' given twice");
}

TargetSet two_hosts_100_ports() {
    AddressSet hosts;
    hosts.add(Ipv4{10, 77, 22, 2});
    hosts.add(Ipv4{10, 77, 22, 3});
    return TargetSet{hosts, SimScan::lane_zero(port_range(1, 100))};
}

TEST(ResumeFile, RestoreChecksThePhaseFitsItsTargets) {
    const TargetSet targets = two_hosts_100_ports();
    Results results{targets, {&syn_kind()}};
    PortResult closed;
    closed.state = PortState::closed;
    closed.reason = Reason::reset;
    closed.rule = 1;
    ResumePhase phase{"ports", 200, {50, {7, 9}}, {{4, closed}, {150, closed}}, {{1, HostResult{3, 420, 1.5, {}, 0}}}, {}};

    ResumePhase bigger = phase;
    bigger.planned = 300;
    EXPECT_EQ(restore_phase(bigger, results).error(),
              "resume file's ports phase had 300 probes planned, its command line now plans 200 (have the targets changed?)");
    ResumePhase twice = phase;
    twice.point.pending = {7, 7};
    EXPECT_FALSE(restore_phase(twice, results));
    ResumePhase bad_rule = phase;
    bad_rule.ports[0].second.rule = 200;
    EXPECT_FALSE(restore_phase(bad_rule, results));
    ResumePhase bad_host = phase;
    bad_host.hosts[0].first = 2;
    EXPECT_FALSE(restore_phase(bad_host, results));
    EXPECT_EQ(results.decided(), 0u);  // refused phases change nothing

    ASSERT_TRUE(restore_phase(phase, results));
    EXPECT_EQ(results.decided(), 2u);
    expect_same(results.port(150), closed);
    EXPECT_EQ(results.host(1).replies, 3u);
    EXPECT_EQ(results.host(1).min_rtt, 420);
    EXPECT_EQ(results.host(1).icmp_limit, 1.5);
    EXPECT_EQ(results.host(1).counts[static_cast<int>(PortState::closed)], 1u);
    EXPECT_EQ(results.host(1).counts[static_cast<int>(PortState::unscanned)], 99u);

    const ResumePhase captured = capture_phase("ports", results, phase.point);
    EXPECT_EQ(captured.planned, 200u);
    EXPECT_EQ(captured.point.pending, phase.point.pending);
    ASSERT_EQ(captured.ports.size(), 2u);
    EXPECT_EQ(captured.ports[1].first, 150u);
    ASSERT_EQ(captured.hosts.size(), 1u);  // host 0 had no reply
    EXPECT_EQ(captured.hosts[0].first, 1u);
}

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "flagscan-resume-XXXXXX").string();
        if (::mkdtemp(pattern.data()) != nullptr) path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};

TEST(ResumeFile, WrittenWholeAndReadBack) {
    TempDir dir;
    ASSERT_FALSE(dir.path.empty());
    const std::string path = (dir.path / "scan.resume").string();
    {
        std::ofstream old{path};
        old << "an older file, replaced whole\n";
    }
    ASSERT_TRUE(write_resume_file(path, sample_state()));
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    auto back = read_resume_file(path);
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(serialize(*back), serialize(sample_state()));

    const auto missing = read_resume_file((dir.path / "none").string());
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().rfind("cannot read resume file '", 0), 0u) << missing.error();
    const auto unwritable = write_resume_file("/proc/nope/scan.resume", sample_state());
    ASSERT_FALSE(unwritable);
    EXPECT_EQ(unwritable.error().rfind("cannot write resume file '", 0), 0u) << unwritable.error();
    const auto directory = read_resume_file(dir.path.string());
    EXPECT_FALSE(directory);
}

CommandLine parse(std::vector<const char*> args) {
    args.insert(args.begin(), "flagscan");
    auto line = parse_command_line(static_cast<int>(args.size()), args.data());
    EXPECT_TRUE(line) << line.error();
    return line ? *line : CommandLine{};
}

std::string parse_error(std::vector<const char*> args) {
    args.insert(args.begin(), "flagscan");
    auto line = parse_command_line(static_cast<int>(args.size()), args.data());
    return line ? "parsed" : line.error();
}

TEST(ResumeOptions, ResumeTakesTheFileAlone) {
    EXPECT_EQ(parse({"--resume", "scan.resume"}).config.resume_path, "scan.resume");
    EXPECT_EQ(parse({"--resume=x.resume"}).config.resume_path, "x.resume");
    const std::string alone = "--resume takes the resume file and nothing else: the scan's options come from the file";
    EXPECT_EQ(parse_error({"--resume", "scan.resume", "-p", "22"}), alone);
    EXPECT_EQ(parse_error({"-n", "--resume", "scan.resume"}), alone);
    EXPECT_EQ(parse_error({"--resume"}), alone);
    EXPECT_EQ(parse({"-p", "22", "10.77.22.2"}).config.resume_file, "flagscan.resume");
    EXPECT_EQ(parse({"-p", "22", "--resume-file", "here.resume", "10.77.22.2"}).config.resume_file, "here.resume");
    EXPECT_EQ(parse({"-p", "22", "10.77.22.2"}).config.resume_path, "");
    EXPECT_EQ(parse_error({"-p", "22", "--resume-file", "", "10.77.22.2"}), "--resume-file needs a file name");
}

TEST(ResumeOptions, TheFilesCommandLineWithItsSeed) {
    ResumeState state;
    state.args = {"-sS", "-p", "1-1000", "-n", "-Pn", "--resume-file", "my scan.resume", "10.77.22.2"};
    state.seed = 987654321;
    auto line = command_line_from_resume(state);
    ASSERT_TRUE(line) << line.error();
    EXPECT_EQ(line->config.ports_spec, "1-1000");
    EXPECT_EQ(line->config.resume_file, "my scan.resume");
    EXPECT_TRUE(line->config.seed_given);
    EXPECT_EQ(line->config.seed, 987654321u);
    state.args = {"-p", "70000", "10.77.22.2"};
    auto bad = command_line_from_resume(state);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().rfind("resume file's command line no longer parses: bad port spec", 0), 0u) << bad.error();
    state.args = {"--resume", "other.resume"};
    EXPECT_FALSE(command_line_from_resume(state));
}

// ---- A simulated scan interrupted, written to a resume file, read back and finished ----

const Ipv4 kHostA{10, 77, 22, 2};
const Ipv4 kHostB{10, 77, 22, 3};

struct Layout {
    SimConfig net;
    AddressSet hosts;
    std::vector<Port> ports = port_range(1, 3000);
    double max_rate = 0;  // paced: the walk goes no further than the sends (else it parks ahead for full host windows)
    Layout(double loss, double rate = 0) : max_rate(rate) {
        SimHost a;
        a.open = {22, 80, 443, 2222};
        a.rejected = {113, 1003};
        a.dropped = {135, 445, 1007, 2500};
        SimHost b = a;
        b.open = {25, 2080, 2999};
        b.latency = 5 * kMillisecond;
        net.hosts[kHostA] = a;
        net.hosts[kHostB] = b;
        net.loss = loss;
        net.seed = 3;
        hosts.add(kHostA);
        hosts.add(kHostB);
    }
};

struct Leg {
    ScanEnd end = ScanEnd::finished;
    std::optional<ResumeState> next;   // what the interrupt wrote, read back
    std::vector<PortResult> ports;     // every verdict at the end of the leg
    std::uint64_t resent_decided = 0;  // probes to ports the restored file had decided
    std::uint64_t sent = 0;
};

// One run of the scan: resumed from `from` when given, stopped after `stop_after` sends (0: never).
Leg run_leg(const Layout& layout, const ResumeState* from, std::uint64_t stop_after) {
    SimScan scan{layout.hosts, layout.ports, layout.net};
    scan.config.seed = from != nullptr ? from->seed : 424242;
    scan.config.timing.max_rate = layout.max_rate;
    std::vector<bool> restored(scan.targets.size());
    if (from != nullptr) {
        const ResumePhase* phase = from->phase("ports");
        if (phase == nullptr) {
            ADD_FAILURE() << "no ports phase";
            return {};
        }
        scan.config.resume = phase->point;
        scan.restore = [&restored, phase](Results& results) {
            const auto ok = restore_phase(*phase, results);
            EXPECT_TRUE(ok) << ok.error();
            for (std::uint64_t i = 0; i < restored.size(); ++i) restored[i] = results.port(i).state != PortState::unscanned;
        };
    }
    Leg leg;
    std::atomic<bool> stop{false};
    LoopHooks hooks;
    hooks.sent = [&](const Probe& probe, std::span<const std::uint8_t>, Micros) {
        leg.resent_decided += restored[probe.index] ? 1 : 0;
        if (++leg.sent == stop_after) stop = true;
    };
    scan.run(hooks, stop);
    leg.end = scan.end;
    for (std::uint64_t i = 0; i < scan.targets.size(); ++i) leg.ports.push_back(scan.results->port(i));
    if (leg.end != ScanEnd::interrupted) return leg;
    ResumeState state;
    state.args = {"-sS", "-p", "1-3000", "-n", "-Pn", "10.77.22.2-3"};
    state.seed = scan.config.seed;
    state.phases.push_back(capture_phase("ports", *scan.results, scan.engine->resume_point()));
    auto back = parse_resume(serialize(state));
    EXPECT_TRUE(back) << back.error();
    if (back) leg.next = std::move(*back);
    return leg;
}

void expect_same_verdicts(const Leg& resumed, const Leg& whole) {
    ASSERT_EQ(resumed.ports.size(), whole.ports.size());
    int differ = 0;
    for (std::size_t i = 0; i < whole.ports.size(); ++i) {
        if (resumed.ports[i].state == whole.ports[i].state && resumed.ports[i].reason == whole.ports[i].reason) continue;
        if (++differ <= 5)
            ADD_FAILURE() << "index " << i << ": " << to_string(resumed.ports[i].state) << " resumed, "
                          << to_string(whole.ports[i].state) << " whole";
    }
    EXPECT_EQ(differ, 0);
}

void interrupt_and_resume(const Layout& layout, std::vector<std::uint64_t> stops) {
    const Leg whole = run_leg(layout, nullptr, 0);
    ASSERT_EQ(whole.end, ScanEnd::finished);
    for (const auto& port : whole.ports) ASSERT_NE(port.state, PortState::unscanned);
    std::optional<ResumeState> state;
    for (const std::uint64_t stop : stops) {
        const Leg part = run_leg(layout, state ? &*state : nullptr, stop);
        ASSERT_EQ(part.end, ScanEnd::interrupted);
        ASSERT_TRUE(part.next);
        EXPECT_EQ(part.resent_decided, 0u);
        const ResumePhase& phase = *part.next->phase("ports");
        EXPECT_LT(phase.ports.size(), whole.ports.size());  // stopped halfway: some left to do
        EXPECT_GT(phase.ports.size(), 0u);
        if (layout.max_rate > 0) {
            EXPECT_LT(phase.point.position, phase.planned);  // the walk's position matters
        }
        state = part.next;
    }
    const Leg last = run_leg(layout, &*state, 0);
    EXPECT_EQ(last.end, ScanEnd::finished);
    EXPECT_EQ(last.resent_decided, 0u);  // a port the file had decided is never probed again
    expect_same_verdicts(last, whole);
}

TEST(ResumeScan, InterruptedOnceEndsLikeTheWholeScan) { interrupt_and_resume(Layout{0.0}, {2500}); }

TEST(ResumeScan, InterruptedTwiceEndsLikeTheWholeScan) { interrupt_and_resume(Layout{0.0}, {1500, 2000}); }

TEST(ResumeScan, InterruptedTwiceWithLossEndsLikeTheWholeScan) { interrupt_and_resume(Layout{0.03}, {2000, 2000}); }

// At 20,000 probes/s the walk is where the sends are: the resumed scans must walk on from the
// file's position in the file's order (its seed), not only send its pending list.
TEST(ResumeScan, InterruptedAtAPacedRateEndsLikeTheWholeScan) {
    interrupt_and_resume(Layout{0.03, 20000}, {2500});
    interrupt_and_resume(Layout{0.03, 20000}, {1500, 2000});
}

}  // namespace
}  // namespace flagscan

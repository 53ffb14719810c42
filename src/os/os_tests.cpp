// OsTests: nmap's second-generation test values computed from OS probes and replies (osscan2.cc's rules).
#include "flagscan/os/os_tests.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "flagscan/net/checksum.hpp"

namespace flagscan {
namespace {


// ---- attribute order: nmap-os-db's MatchPoints, which is the order nmap prints ----

struct TestShape {
    std::string_view name;
    std::array<std::string_view, 11> attributes;
};
constexpr std::array<TestShape, 13> kShapes{{
    {"SEQ", {"SP", "GCD", "ISR", "TI", "CI", "II", "SS", "TS"}},
    {"OPS", {"O1", "O2", "O3", "O4", "O5", "O6"}},
    {"WIN", {"W1", "W2", "W3", "W4", "W5", "W6"}},
    {"ECN", {"R", "DF", "T", "TG", "W", "O", "CC", "Q"}},
    {"T1", {"R", "DF", "T", "TG", "W", "S", "A", "F", "O", "RD", "Q"}},
    {"T2", {"R", "DF", "T", "TG", "W", "S", "A", "F", "O", "RD", "Q"}},
    {"T3", {"R", "DF", "T", "TG", "W", "S", "A", "F", "O", "RD", "Q"}},
    {"T4", {"R", "DF", "T", "TG", "W", "S", "A", "F", "O", "RD", "Q"}},
    {"T5", {"R", "DF", "T", "TG", "W", "S", "A", "F", "O", "RD", "Q"}},
    {"T6", {"R", "DF", "T", "TG", "W", "S", "A", "F", "O", "RD", "Q"}},
    {"T7", {"R", "DF", "T", "TG", "W", "S", "A", "F", "O", "RD", "Q"}},
    {"U1", {"R", "DF", "T", "TG", "IPL", "UN", "RIPL", "RID", "RIPCK", "RUCK", "RUD"}},
    {"IE", {"R", "DFI", "T", "TG", "CD"}},
}};

std::size_t shape_index(std::string_view name) {
    auto it = std::find_if(kShapes.begin(), kShapes.end(), [&](const TestShape& s) { return s.name == name; });
    return static_cast<std::size_t>(it - kShapes.begin());
}

// ---- reply access ----

std::optional<ByteView> segment_of(const OsReply& reply) { return ipv4_payload(ByteView{reply.packet}); }

const OsReply* reply_of(const OsRound& round, OsProbeId id) {
    const auto& e = round[id];
    return e.reply ? &*e.reply : nullptr;
}

// The TCP reply's header and segment, or nullopt when the reply is not a whole TCP header.
struct TcpReply {
    const TcpHeader* tcp;
    ByteView segment;
};
std::optional<TcpReply> tcp_reply(const OsReply* reply) {
    if (!reply || !reply->decoded.tcp) return std::nullopt;
    auto segment = segment_of(*reply);
    if (!segment) return std::nullopt;
    return TcpReply{&*reply->decoded.tcp, *segment};
}

// Calls visit(kind, option bytes) for each option, as nmap's TCPOptions::foreachOpt: EOL and NOP
// are one byte (EOL does not stop the walk), others are kind-length-value. false when malformed.
template <typename Visit>
bool walk_options(ByteView options, Visit visit) {
    std::size_t at = 0;
    while (at < options.size()) {
        const std::uint8_t kind = *options.u8(at);
        std::size_t length = 1;
        if (kind > 1) {
            auto declared = options.u8(at + 1);
            if (!declared || *declared < 2 || *declared > options.size() - at) return false;
            length = *declared;
        }
        if (!visit(kind, options.first(at + length).from(at).value())) return false;
        at += length;
    }
    return true;
}

std::optional<std::uint32_t> timestamp_value(ByteView segment) {
    auto options = tcp_options(segment);
    std::optional<std::uint32_t> value;
    if (!options) return value;
    walk_options(*options, [&](std::uint8_t kind, ByteView o) {
        if (kind == 8 && o.size() == 10 && !value) value = o.be32(2);
        return true;
    });
    return value;
}

std::string options_of(ByteView segment) {
    auto options = tcp_options(segment);
    return options ? tcp_option_string(*options) : std::string{};
}

std::string yes_no(bool b) { return b ? "Y" : "N"; }

// ---- SEQ ----

std::uint32_t mod_diff(std::uint32_t a, std::uint32_t b) { return std::min(a - b, b - a); }

// A SEQ reply as nmap's processTSeqResp takes it: the slot's first SYN-ACK, unless its IP id
// repeats the previous SEQ reply's nonzero one (nmap drops those as duplicates).
struct SeqSample {
    std::size_t slot;
    const OsReply* reply;
};
std::vector<SeqSample> seq_samples(const OsRound& round) {
    std::vector<SeqSample> arrived;
    for (std::size_t i = 0; i < kOsSeqProbes; ++i) {
        if (const auto* r = reply_of(round, static_cast<OsProbeId>(i)); r && r->decoded.tcp) arrived.push_back({i, r});
    }
    std::stable_sort(arrived.begin(), arrived.end(), [](auto& a, auto& b) { return a.reply->at < b.reply->at; });
    std::vector<SeqSample> useful;
    std::uint16_t last_id = 0;
    for (const auto& s : arrived) {
        const std::uint16_t id = s.reply->decoded.ip.id;
        const bool duplicate = last_id != 0 && id == last_id;
        last_id = id;
        const auto flags = s.reply->decoded.tcp->flags;
        if (!duplicate && !flags.any(TcpFlags::rst) && flags.has(TcpFlags::syn | TcpFlags::ack)) useful.push_back(s);
    }
    return useful;
}

// Timestamp class as nmap tracks it reply by reply: no option -> unsupported, TSval 0 -> zero.
enum class TsClass { unknown, zero, unsupported };

struct SeqSeries {
    std::vector<std::uint32_t> isns, timestamps;
    std::vector<Micros> sent;
    TsClass ts_class = TsClass::unknown;
};

SeqSeries seq_series(const OsRound& round, const std::vector<SeqSample>& samples) {
    SeqSeries s;
    std::vector<SeqSample> by_slot = samples;
    for (const auto& sample : samples) {
        auto segment = segment_of(*sample.reply);
        auto ts = segment ? timestamp_value(*segment) : std::nullopt;
        if (!ts) s.ts_class = TsClass::unsupported;
        else if (*ts == 0) s.ts_class = TsClass::zero;
    }
    std::sort(by_slot.begin(), by_slot.end(), [](auto& a, auto& b) { return a.slot < b.slot; });
    for (const auto& sample : by_slot) {
        const std::uint32_t isn = sample.reply->decoded.tcp->seq;
        if (isn == 0) continue;  // nmap's "no reply in this slot"
        auto segment = segment_of(*sample.reply);
        s.isns.push_back(isn);
        s.timestamps.push_back(segment ? timestamp_value(*segment).value_or(0) : 0);
        const auto& sent = round[static_cast<OsProbeId>(sample.slot)].sent;
        s.sent.push_back(sent ? sent->at : sample.reply->at);
    }
    return s;
}

std::vector<std::uint16_t> reply_ids(const OsRound& round, std::initializer_list<OsProbeId> ids, bool skip_resent) {
    std::vector<std::uint16_t> out;
    for (auto id : ids) {
        const auto& e = round[id];
        if (e.reply && !(skip_resent && e.sent && e.sent->retransmitted)) out.push_back(e.reply->decoded.ip.id);
    }
    return out;
}

// Closed-port replies (T5-T7) as nmap takes them for CI: any TCP reply.
std::vector<std::uint16_t> closed_ids(const OsRound& round) {
    std::vector<std::uint16_t> out;
    for (auto id : {OsProbeId::t5, OsProbeId::t6, OsProbeId::t7}) {
        if (const auto* r = reply_of(round, id); r && r->decoded.tcp) out.push_back(r->decoded.ip.id);
    }
    return out;
}

// ISN rate (ISR), its deviation (SP) and GCD, from four replies or more (nmap's makeTSeqFP).
void isn_tests(const SeqSeries& s, SeqAnalysis& a) {
    const std::size_t n = s.isns.size();
    if (n < 4) return;
    std::vector<std::uint32_t> diffs;
    std::vector<float> rates;  // nmap keeps the per-interval rates as float
    double average = 0;
    for (std::size_t i = 1; i < n; ++i) {
        diffs.push_back(mod_diff(s.isns[i], s.isns[i - 1]));
        const Micros usec = std::max<Micros>(1, s.sent[i] - s.sent[i - 1]);
        rates.push_back(static_cast<float>(diffs.back() * 1000000.0 / static_cast<double>(usec)));
        average += rates.back();
    }
    average /= static_cast<double>(n - 1);
    std::uint32_t gcd = 0;
    for (auto d : diffs) gcd = std::gcd(gcd, d);
    a.gcd = gcd;
    if (gcd == 0) {  // constant ISN
        a.isr = 0;
        a.index = 0;
        return;
    }
    a.isr = static_cast<unsigned>(std::log2(average) * 8 + 0.5);
    // Divided by the GCD only when it is at least 10 (nmap: not to lower the deviation of
    // systems whose increments happen to be even, yet remove a large inherent GCD).
    const double div = gcd > 9 ? gcd : 1;
    double variance = 0;
    for (float r : rates) variance += (r / div - average / div) * (r / div - average / div);
    const double deviation = std::sqrt(variance / static_cast<double>(n - 2));
    a.index = deviation <= 1 ? 0u : static_cast<unsigned>(std::log2(deviation) * 8 + 0.5);
}

// TS: the timestamp rate from two replies or more, and the uptime it implies.
void timestamp_tests(const SeqSeries& s, SeqAnalysis& a) {
    if (s.ts_class == TsClass::zero) a.ts = "0";
    if (s.ts_class == TsClass::unsupported) a.ts = "U";
    const std::size_t n = s.isns.size();
    if (s.ts_class != TsClass::unknown || n < 2) return;
    double hz = 0;
    for (std::size_t i = 1; i < n; ++i) {
        const double seconds = static_cast<double>(std::max<Micros>(1, s.sent[i] - s.sent[i - 1])) / 1e6;
        hz += mod_diff(s.timestamps[i], s.timestamps[i - 1]) / seconds / static_cast<double>(n - 1);
    }
    a.timestamp_hz = hz;
    a.timestamps = s.timestamps;
    std::int64_t uptime = 0;
    if (hz <= 0) {  // no rate: no TS, yet nmap still dates the boot at the first probe
        a.uptime = 0;
        return;
    }
    if (hz < 5.66) uptime = s.timestamps[0] / 2;
    else if (hz > 70 && hz < 150) uptime = s.timestamps[0] / 100;
    else if (hz > 724 && hz < 1448) uptime = s.timestamps[0] / 1000;
    else uptime = s.timestamps[0] / static_cast<unsigned>(0.5 + hz);
    a.uptime = uptime > 63072000 ? 0 : uptime;  // "up 2 years? probably lying"
    // Classes widened to meet common rates: 2 Hz, 100 Hz, 200 Hz.
    unsigned value = 0;
    if (hz <= 5.66) value = 1;
    else if (hz > 70 && hz <= 150) value = 7;
    else if (hz > 150 && hz <= 350) value = 8;
    else value = static_cast<unsigned>(0.5 + std::log2(hz));
    a.ts = hex(value);
}

bool shares_sequence(IpIdClass c) {
    return c == IpIdClass::incremental || c == IpIdClass::broken_incremental || c == IpIdClass::random_positive;
}

// ---- T/TG and assembly ----

void set_received_ttl(FingerprintTest& t, const OsReply& reply) { t.set("T", hex(reply.decoded.ip.ttl)); }

FingerprintTest no_reply(std::string_view name) { return FingerprintTest{std::string(name), {{"R", "N"}}}; }

// Quirks (Q): R when the reserved bits are set, U when the urgent pointer is set without URG.
std::string quirks(const TcpHeader& tcp) {
    std::string q;
    if (tcp.reserved) q += 'R';
    if (!tcp.flags.any(TcpFlags::urg) && tcp.urgent) q += 'U';
    return q;
}

std::string flags_string(TcpFlags f) {
    std::string s;
    constexpr std::pair<std::uint8_t, char> order[] = {{TcpFlags::ece, 'E'}, {TcpFlags::urg, 'U'}, {TcpFlags::ack, 'A'},
                                                       {TcpFlags::psh, 'P'}, {TcpFlags::rst, 'R'}, {TcpFlags::syn, 'S'},
                                                       {TcpFlags::fin, 'F'}};
    for (auto [bit, c] : order)
        if (f.any(bit)) s += c;
    return s;
}

std::string seq_value(std::uint32_t seq, std::uint32_t our_ack) {
    if (seq == 0) return "Z";
    if (seq == our_ack) return "A";
    if (seq == our_ack + 1) return "A+";
    return "O";
}

std::string ack_value(std::uint32_t ack, std::uint32_t our_seq) {
    if (ack == 0) return "Z";
    if (ack == our_seq) return "S";
    if (ack == our_seq + 1) return "S+";
    return "O";
}

// Replaces the received TTL: T = ttl + distance - 1 when known, else TG = the guess (and no T).
void resolve_ttl(FingerprintTest& t, std::optional<int> distance) {
    for (auto& [name, value] : t.attributes) {
        if (name != "T") continue;
        const auto ttl = static_cast<int>(std::strtol(value.c_str(), nullptr, 16));
        if (distance) {
            value = hex(static_cast<std::uint64_t>(ttl + *distance - 1));
        } else {
            name = "TG";  // TG follows T in every test's order: its place is T's
            value = hex(initial_ttl_guess(static_cast<std::uint8_t>(ttl)));
        }
        return;
    }
}

std::uint16_t checksum_of_quoted_header(ByteView quoted) {
    std::array<std::uint8_t, 20> header{};
    std::copy_n(quoted.span().begin(), 20, header.begin());
    header[10] = header[11] = 0;
    return ipv4_header_checksum(header);
}

// Compares two tests as nmap's FingerTestCmp: by attribute in the test's order, absent first.
bool test_less(const FingerprintTest& a, const FingerprintTest& b) {
    const auto& shape = kShapes[std::min(shape_index(a.name), kShapes.size() - 1)];
    for (auto attribute : shape.attributes) {
        if (attribute.empty()) break;
        const auto* va = a.find(attribute);
        const auto* vb = b.find(attribute);
        if (!va && !vb) continue;
        if (!va || !vb) return !va;
        if (*va != *vb) return *va < *vb;
    }
    return false;
}

}  // namespace

std::string hex(std::uint64_t value) {
    char text[20];
    std::snprintf(text, sizeof text, "%llX", static_cast<unsigned long long>(value));
    return text;
}

std::string tcp_option_string(ByteView options) {
    std::string out;
    const bool valid = walk_options(options, [&](std::uint8_t kind, ByteView o) {
        switch (kind) {
            case 0: out += 'L'; return true;
            case 1: out += 'N'; return true;
            case 2: if (o.size() < 4) return false; out += 'M' + hex(*o.be16(2)); return true;
            case 3: if (o.size() < 3) return false; out += 'W' + hex(*o.u8(2)); return true;
            case 4: out += 'S'; return true;
            case 8:
                if (o.size() < 10) return false;
                out += 'T';
                out += *o.be32(2) ? '1' : '0';
                out += *o.be32(6) ? '1' : '0';
                return true;
            default: return true;  // other kinds: not in nmap's string
        }
    });
    return valid ? out : std::string{};
}

IpIdClass classify_ip_ids(std::span<const std::uint16_t> ids) {
    if (ids.size() < 2) return IpIdClass::unknown;
    std::vector<std::uint32_t> diffs;
    bool all_zero = true;
    for (std::size_t i = 1; i < ids.size(); ++i) {
        if (ids[i - 1] != 0 || ids[i] != 0) all_zero = false;
        const std::uint32_t diff = std::uint32_t{ids[i]} - std::uint32_t{ids[i - 1]};  // 32 bits, as nmap
        if (ids.size() > 2 && diff > 20000) return IpIdClass::random;
        diffs.push_back(diff & 0xffff);
    }
    if (all_zero) return IpIdClass::zero;
    auto all = [&](auto rule) { return std::all_of(diffs.begin(), diffs.end(), rule); };
    if (all([](std::uint32_t d) { return d == 0; })) return IpIdClass::constant;
    if (std::any_of(diffs.begin(), diffs.end(), [](std::uint32_t d) { return d > 1000 && (d % 256 != 0 || d >= 25600); }))
        return IpIdClass::random_positive;
    if (all([](std::uint32_t d) { return d <= 5120 && d % 256 == 0; })) return IpIdClass::broken_incremental;
    if (all([](std::uint32_t d) { return d % 2 == 0; })) return IpIdClass::incremental_by_2;
    if (all([](std::uint32_t d) { return d <= 9; })) return IpIdClass::incremental;
    return IpIdClass::unknown;
}

std::optional<std::string> ip_id_value(IpIdClass c, std::uint16_t first) {
    switch (c) {
        case IpIdClass::zero: return "Z";
        case IpIdClass::constant: return hex(first);
        case IpIdClass::incremental:
        case IpIdClass::incremental_by_2: return "I";
        case IpIdClass::broken_incremental: return "BI";
        case IpIdClass::random_positive: return "RI";
        case IpIdClass::random: return "RD";
        case IpIdClass::unknown: break;
    }
    return std::nullopt;
}

const char* ip_id_text(IpIdClass c) {
    switch (c) {
        case IpIdClass::constant: return "Duplicated ipid (!)";
        case IpIdClass::incremental: return "Incremental";
        case IpIdClass::incremental_by_2: return "Incrementing by 2";
        case IpIdClass::broken_incremental: return "Broken little-endian incremental";
        case IpIdClass::random: return "Randomized";
        case IpIdClass::random_positive: return "Random positive increments";
        case IpIdClass::zero: return "All zeros";
        case IpIdClass::unknown: break;
    }
    return "Busy server or unknown class";
}

std::uint8_t initial_ttl_guess(std::uint8_t ttl) {
    if (ttl <= 32) return 32;
    if (ttl <= 64) return 64;
    if (ttl <= 128) return 128;
    return 255;
}

const char* sequence_difficulty_text(unsigned index) {
    if (index < 3) return "Trivial joke";
    if (index < 6) return "Easy";
    if (index < 11) return "Medium";
    if (index < 12) return "Formidable";
    if (index < 16) return "Worthy challenge";
    return "Good luck!";
}

std::uint32_t crc32(std::span<const std::uint8_t> bytes) {
    std::uint32_t c = 0xffffffffu;
    for (auto b : bytes) {
        c ^= b;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

SeqAnalysis analyse_seq(const OsRound& round) {
    SeqAnalysis a;
    const auto samples = seq_samples(round);
    const auto series = seq_series(round, samples);
    a.responses = static_cast<int>(series.isns.size());
    a.isns = series.isns;
    isn_tests(series, a);
    timestamp_tests(series, a);
    auto by_slot = samples;
    std::sort(by_slot.begin(), by_slot.end(), [](auto& x, auto& y) { return x.slot < y.slot; });
    for (const auto& s : by_slot) a.tcp_ids.push_back(s.reply->decoded.ip.id);
    a.closed_ids = closed_ids(round);
    a.icmp_ids = reply_ids(round, {OsProbeId::ie1, OsProbeId::ie2}, true);
    a.tcp_ip_ids = a.tcp_ids.size() >= 3 ? classify_ip_ids(a.tcp_ids) : IpIdClass::unknown;
    a.closed_ip_ids = classify_ip_ids(a.closed_ids);
    a.icmp_ip_ids = classify_ip_ids(a.icmp_ids);
    return a;
}

std::optional<std::string> sequence_prediction_text(const SeqAnalysis& seq) {
    if (seq.responses < 4 || !seq.index) return std::nullopt;
    return "Difficulty=" + std::to_string(*seq.index) + " (" + sequence_difficulty_text(*seq.index) + ")";
}

FingerprintTest seq_test(const OsRound& round) {
    const SeqAnalysis a = analyse_seq(round);
    FingerprintTest t{"SEQ", {}};
    if (a.index) {
        t.set("SP", hex(*a.index));
        t.set("GCD", hex(*a.gcd));
        t.set("ISR", hex(*a.isr));
    }
    auto first = [](const std::vector<std::uint16_t>& v) { return v.empty() ? std::uint16_t{0} : v.front(); };
    if (auto v = ip_id_value(a.tcp_ip_ids, first(a.tcp_ids))) t.set("TI", *v);
    if (auto v = ip_id_value(a.closed_ip_ids, first(a.closed_ids))) t.set("CI", *v);
    if (auto v = ip_id_value(a.icmp_ip_ids, first(a.icmp_ids))) t.set("II", *v);
    if (shares_sequence(a.tcp_ip_ids) && shares_sequence(a.icmp_ip_ids)) {
        // Same counter when the first ICMP id comes within 3 average steps of the last TCP one.
        const std::uint32_t last = a.tcp_ids.back();
        const std::uint32_t step = (last - a.tcp_ids.front()) / static_cast<std::uint32_t>(a.tcp_ids.size() - 1);
        t.set("SS", a.icmp_ids.front() < last + 3 * step ? "S" : "O");
    }
    if (a.ts) t.set("TS", *a.ts);
    return t;
}

namespace {

// O1-O6 or W1-W6: from each SEQ reply (any TCP reply counts, RST too) or its OPS resend's.
std::optional<FingerprintTest> six_test(const OsRound& round, std::string_view name, char prefix,
                                        std::string (*value)(const TcpReply&)) {
    FingerprintTest t{std::string(name), {}};
    for (std::size_t i = 0; i < kOsSeqProbes; ++i) {
        auto r = tcp_reply(reply_of(round, static_cast<OsProbeId>(i)));
        if (!r && round.ops_resend_replies[i]) r = tcp_reply(&*round.ops_resend_replies[i]);
        if (!r) return std::nullopt;
        t.set(std::string(1, prefix) + std::to_string(i + 1), value(*r));
    }
    return t;
}

}  // namespace

std::optional<FingerprintTest> ops_test(const OsRound& round) {
    return six_test(round, "OPS", 'O', [](const TcpReply& r) { return options_of(r.segment); });
}

std::optional<FingerprintTest> win_test(const OsRound& round) {
    return six_test(round, "WIN", 'W', [](const TcpReply& r) { return hex(r.tcp->window); });
}

std::optional<FingerprintTest> ecn_test(const OsRound& round) {
    const auto* reply = reply_of(round, OsProbeId::ecn);
    auto r = tcp_reply(reply);
    if (!r) return std::nullopt;
    FingerprintTest t{"ECN", {{"R", "Y"}, {"DF", yes_no(reply->decoded.ip.dont_fragment)}}};
    set_received_ttl(t, *reply);
    t.set("W", hex(r->tcp->window));
    t.set("O", options_of(r->segment));
    // CC: ECE and CWR echoed (S), ECE alone: ECN supported (Y), neither (N), CWR alone (O).
    const auto f = r->tcp->flags;
    t.set("CC", f.has(TcpFlags::ece | TcpFlags::cwr) ? "S" : f.any(TcpFlags::ece) ? "Y" : !f.any(TcpFlags::cwr) ? "N" : "O");
    t.set("Q", quirks(*r->tcp));
    return t;
}

std::optional<FingerprintTest> t_test(const OsRound& round, int n) {
    if (n < 1 || n > 7) return std::nullopt;
    const OsProbeId id = n == 1 ? OsProbeId::seq1 : static_cast<OsProbeId>(static_cast<int>(OsProbeId::t2) + n - 2);
    const auto* reply = reply_of(round, id);
    if (reply == nullptr && n == 1 && round.t1_resend_reply) reply = &*round.t1_resend_reply;  // same seq and ack as SEQ1
    auto r = tcp_reply(reply);
    if (!r) return std::nullopt;
    const OsSent sent = round[id].sent.value_or(OsSent{});
    FingerprintTest t{"T" + std::to_string(n), {{"R", "Y"}, {"DF", yes_no(reply->decoded.ip.dont_fragment)}}};
    set_received_ttl(t, *reply);
    if (n != 1) t.set("W", hex(r->tcp->window));  // T1's window and options are WIN's W1 and OPS's O1
    t.set("S", seq_value(r->tcp->seq, sent.ack));
    t.set("A", ack_value(r->tcp->ack, sent.seq));
    t.set("F", flags_string(r->tcp->flags));
    if (n != 1) t.set("O", options_of(r->segment));
    // RD: CRC-32 of the data a RST carries (RFC 1122 4.2.2.12 lets a RST carry its reason).
    auto data = r->segment.from(r->tcp->header_length);
    const bool has_data = r->tcp->flags.any(TcpFlags::rst) && data && data->size() > 0;
    t.set("RD", has_data ? hex(crc32(data->span())) : "0");
    t.set("Q", quirks(*r->tcp));
    return t;
}

std::optional<int> u1_distance(const OsRound& round) {
    const auto& e = round[OsProbeId::u1];
    if (!e.sent || !e.reply || !e.reply->decoded.icmp || !e.reply->decoded.icmp->quoted) return std::nullopt;
    const auto& icmp = *e.reply->decoded.icmp;
    if (icmp.type != icmp_type::unreachable || icmp.code != 3) return std::nullopt;
    return int{e.sent->ttl} - int{icmp.quoted->ip.ttl} + 1;
}

std::optional<FingerprintTest> u1_test(const OsRound& round) {
    const auto& e = round[OsProbeId::u1];
    if (!e.reply || !e.reply->decoded.icmp) return std::nullopt;
    const auto& reply = *e.reply;
    const auto& icmp = *reply.decoded.icmp;
    auto segment = segment_of(reply);
    // Port unreachable quoting at least a 20-byte IP header and the UDP header (nmap's minimum).
    if (icmp.type != icmp_type::unreachable || icmp.code != 3 || !segment) return std::nullopt;
    auto quoted = segment->from(8);
    const std::size_t quoted_ip = quoted && quoted->u8(0) ? std::size_t{*quoted->u8(0) & 0x0fu} * 4 : 0;
    if (!quoted || quoted_ip < 20 || !quoted->fits(0, quoted_ip + 8)) return std::nullopt;
    const OsSent sent = e.sent.value_or(OsSent{});
    FingerprintTest t{"U1", {{"R", "Y"}, {"DF", yes_no(reply.decoded.ip.dont_fragment)}}};
    set_received_ttl(t, reply);
    t.set("IPL", hex(reply.decoded.ip.total_length));
    t.set("UN", hex(*segment->be32(4)));  // the "unused" word of the unreachable message (RFC 792)
    const std::uint16_t quoted_length = *quoted->be16(2);
    t.set("RIPL", quoted_length == 328 ? "G" : hex(quoted_length));
    const std::uint16_t quoted_id = *quoted->be16(4);
    t.set("RID", quoted_id == sent.ip_id ? "G" : hex(quoted_id));
    const std::uint16_t quoted_sum = *quoted->be16(10);
    t.set("RIPCK", quoted_sum == 0 ? "Z" : checksum_of_quoted_header(*quoted) == quoted_sum ? "G" : "I");
    const std::uint16_t udp_sum = *quoted->be16(quoted_ip + 6);
    t.set("RUCK", udp_sum == sent.udp_checksum ? "G" : hex(udp_sum));
    auto data = quoted->from(quoted_ip + 8);
    const bool intact = std::all_of(data->span().begin(), data->span().end(), [](std::uint8_t b) { return b == 'C'; });
    t.set("RUD", intact ? "G" : "I");
    return t;
}

std::optional<FingerprintTest> ie_test(const OsRound& round) {
    const auto* r1 = reply_of(round, OsProbeId::ie1);
    const auto* r2 = reply_of(round, OsProbeId::ie2);
    if (!r1 || !r2 || !r1->decoded.icmp || !r2->decoded.icmp) return std::nullopt;
    // DFI: both set DF (Y), each as its probe had it (S: IE1 had DF, IE2 not), neither (N), other (O).
    const bool df1 = r1->decoded.ip.dont_fragment, df2 = r2->decoded.ip.dont_fragment;
    FingerprintTest t{"IE", {{"R", "Y"}, {"DFI", df1 && df2 ? "Y" : df1 ? "S" : !df2 ? "N" : "O"}}};
    set_received_ttl(t, r2->at >= r1->at ? *r2 : *r1);  // nmap reads the TTL of the later reply
    // CD: both the same code (Z for 0, else the code), each its probe's (S: 9 then 0), other (O).
    const std::uint8_t c1 = r1->decoded.icmp->code, c2 = r2->decoded.icmp->code;
    t.set("CD", c1 == c2 ? (c1 == 0 ? "Z" : hex(c1)) : (c1 == 9 && c2 == 0) ? "S" : "O");
    return t;
}

Fingerprint round_fingerprint(const OsRound& round) {
    Fingerprint fp;
    fp.tests.push_back(seq_test(round));
    if (auto t = ops_test(round)) fp.tests.push_back(*t);
    if (auto t = win_test(round)) fp.tests.push_back(*t);
    const auto distance = u1_distance(round);
    auto add = [&](std::optional<FingerprintTest> t, std::string_view name, bool expected) {
        if (!t && !expected) return;
        if (!t) t = no_reply(name);
        resolve_ttl(*t, distance);
        fp.tests.push_back(*t);
    };
    add(ecn_test(round), "ECN", round.open_tcp_known);
    for (int n = 1; n <= 7; ++n) {
        add(t_test(round, n), "T" + std::to_string(n), n <= 4 ? round.open_tcp_known : round.closed_tcp_known);
    }
    add(u1_test(round), "U1", true);
    add(ie_test(round), "IE", true);
    return fp;
}

FingerprintTest scan_test(const OsScanFacts& f) {
    auto port = [](const std::optional<std::uint16_t>& p) { return p ? std::to_string(*p) : std::string{}; };
    FingerprintTest t{"SCAN", {}};
    t.set("V", f.version);
    t.set("E", "4");
    t.set("D", std::to_string(f.month) + "/" + std::to_string(f.day));
    t.set("OT", port(f.open_tcp));
    t.set("CT", port(f.closed_tcp));
    t.set("CU", port(f.closed_udp));
    t.set("PV", f.private_address ? "Y" : "N");
    if (f.distance) t.set("DS", std::to_string(*f.distance));
    if (f.distance_method) t.set("DC", std::string(1, f.distance_method));
    t.set("G", f.good ? "Y" : "N");
    if (f.mac_prefix) {
        char m[8];
        std::snprintf(m, sizeof m, "%02X%02X%02X", (*f.mac_prefix)[0], (*f.mac_prefix)[1], (*f.mac_prefix)[2]);
        t.set("M", m);
    }
    t.set("TM", hex(static_cast<std::uint64_t>(f.time)));
    t.set("P", f.platform);
    return t;
}

Fingerprint merge_fingerprints(const FingerprintTest& scan, std::span<const Fingerprint> tries) {
    Fingerprint merged;
    merged.tests.push_back(scan);
    for (const auto& shape : kShapes) {
        std::vector<FingerprintTest> distinct;
        for (const auto& fp : tries) {
            const auto* t = fp.find(shape.name);
            if (!t) continue;
            auto same = [&](const FingerprintTest& d) { return d.attributes == t->attributes; };
            if (std::none_of(distinct.begin(), distinct.end(), same)) distinct.push_back(*t);
        }
        std::sort(distinct.begin(), distinct.end(), test_less);
        merged.tests.insert(merged.tests.end(), distinct.begin(), distinct.end());
    }
    return merged;
}

double seq_timing_ratio(const OsRound& round) {
    const auto& first = round[OsProbeId::seq1].sent;
    const auto& last = round[OsProbeId::seq6].sent;
    if (!first || !last) return 0;
    return static_cast<double>((last->at - first->at) / 1000) / 500.0;
}

}  // namespace flagscan

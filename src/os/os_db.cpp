// OsDb: nmap-os-db read line by line through views, expressions stored once each in one pool.
#include "flagscan/os/os_db.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>
#include <unordered_map>

#include "flagscan/net/text.hpp"

namespace flagscan {

// The reader's state between lines. The file's layout (nmap-os-db's header, and osscan.cc
// parse_fingerprint_file): comment lines start with '#'; a MatchPoints block and Fingerprint
// entries, each a run of lines ended by a blank line; an entry holds Class lines (each followed
// by its CPE lines) and one line per test, TEST(ATTR=expression%...).
class OsDbParser {
public:
    OsDbParser(OsDb& db, std::string_view file_name) : db_(db), file_name_(file_name) {}

    std::optional<std::string> line(std::string_view text, std::uint32_t number);
    std::optional<std::string> finish();

private:
    enum class Block : std::uint8_t { none, match_points, entry };

    std::string error(std::string_view message, std::string_view text) const {
        return std::string(file_name_) + ":" + std::to_string(number_) + ": " + std::string(message) + ": " +
               quote_for_error(text);
    }
    std::optional<std::string> fingerprint_line(std::string_view text);
    std::optional<std::string> points_line(std::string_view text);
    std::optional<std::string> class_line(std::string_view text);
    std::optional<std::string> cpe_line(std::string_view text);
    std::optional<std::string> test_line(std::string_view text);
    std::optional<std::size_t> test_index(std::string_view name) const;
    std::uint32_t intern(std::string_view expression);

    OsDb& db_;
    std::string_view file_name_;
    std::uint32_t number_ = 0;
    Block block_ = Block::none;
    bool have_points_ = false;
    std::vector<bool> entry_tests_;  // the tests the current entry gave, by index in tests_
    std::unordered_map<std::string_view, std::uint32_t> interned_;  // views into the file's text
};

std::optional<std::string> OsDbParser::line(std::string_view text, std::uint32_t number) {
    number_ = number;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (trim_space(text).empty()) {
        block_ = Block::none;
        return std::nullopt;
    }
    if (text.front() == '#') return std::nullopt;
    if (text.starts_with("Fingerprint ")) return fingerprint_line(text);
    if (text.starts_with("This nmap-os-db")) return std::nullopt;  // nmap's version warning only
    if (text.starts_with("MatchPoints")) {
        if (have_points_) return error("a second MatchPoints block", text);
        if (!trim_space(text.substr(11)).empty()) return error("text after MatchPoints", text);
        have_points_ = true;
        block_ = Block::match_points;
        return std::nullopt;
    }
    switch (block_) {
        case Block::none: return error("expected Fingerprint or MatchPoints", text);
        case Block::match_points: return points_line(text);
        case Block::entry: break;
    }
    if (text.starts_with("Class ")) return class_line(text);
    if (text.starts_with("CPE ")) return cpe_line(text);
    return test_line(text);
}

std::optional<std::string> OsDbParser::finish() {
    if (!have_points_) return std::string(file_name_) + ": no MatchPoints block";
    if (db_.entries_.empty()) return std::string(file_name_) + ": no Fingerprint entries";
    return std::nullopt;
}

std::optional<std::string> OsDbParser::fingerprint_line(std::string_view text) {
    if (!have_points_) return error("Fingerprint before MatchPoints", text);
    // The name ends at a '#' comment, as nmap reads it.
    std::string_view name = text.substr(12);
    name = trim_space(name.substr(0, name.find('#')));
    if (name.empty()) return error("Fingerprint without a name", text);
    OsEntry& entry = db_.entries_.emplace_back();
    entry.name = std::string(name);
    entry.line = number_;
    db_.slots_.resize(db_.slots_.size() + db_.slot_count(), 0);
    entry_tests_.assign(db_.tests_.size(), false);
    block_ = Block::entry;
    return std::nullopt;
}

std::optional<std::string> OsDbParser::points_line(std::string_view text) {
    auto view = split_fingerprint_test(trim_space(text));
    if (!view) return error(view.error(), text);
    if (test_index(view->name)) return error("test given twice in MatchPoints", text);
    OsTestPoints test{std::string(view->name), {}, db_.slot_count(), false};
    for (const auto& attribute : view->attributes) {
        const auto name = attribute.first;  // not a structured binding: lambdas cannot capture those (clang 14)
        const auto points = parse_whole<std::uint32_t>(attribute.second);
        if (!points) return error("points must be a whole number", text);
        if (std::any_of(test.attributes.begin(), test.attributes.end(), [&](const auto& a) { return a.first == name; }))
            return error("attribute given twice", text);
        test.attributes.emplace_back(std::string(name), *points);
        db_.slot_test_.push_back(static_cast<std::uint16_t>(db_.tests_.size()));
    }
    test.has_r = std::any_of(test.attributes.begin(), test.attributes.end(), [](const auto& a) { return a.first == "R"; });
    db_.tests_.push_back(std::move(test));
    return std::nullopt;
}

// `Class vendor | family | generation | device type`: the device type is the rest of the line;
// a line of only '|' and blanks is skipped (osscan.cc parse_classline).
std::optional<std::string> OsDbParser::class_line(std::string_view text) {
    const std::string_view body = text.substr(6);
    if (body.find_first_not_of("| \t") == std::string_view::npos) return std::nullopt;
    std::string_view fields[3];
    std::string_view rest = body;
    for (auto& field : fields) {
        const std::size_t bar = rest.find('|');
        if (bar == std::string_view::npos) return error("Class needs vendor | family | generation | device type", text);
        field = trim_space(rest.substr(0, bar));
        rest = rest.substr(bar + 1);
    }
    db_.entries_.back().classes.push_back(
        OsClass{std::string(fields[0]), std::string(fields[1]), std::string(fields[2]), std::string(trim_space(rest)), {}});
    return std::nullopt;
}

// `CPE cpe:/o:vendor:product[:version] [auto]`: the name, then flags nmap ignores but "auto".
std::optional<std::string> OsDbParser::cpe_line(std::string_view text) {
    auto& classes = db_.entries_.back().classes;
    if (classes.empty()) return error("CPE before any Class", text);
    const std::string_view rest = trim_space(text.substr(4));
    const std::size_t blank = std::min(rest.find_first_of(" \t"), rest.size());
    OsCpe cpe{std::string(rest.substr(0, blank)), false};
    if (cpe.name.empty()) return error("CPE without a name", text);
    for (std::string_view flags = trim_space(rest.substr(blank)); !flags.empty();) {
        const std::size_t end = std::min(flags.find_first_of(" \t"), flags.size());
        cpe.automatic = cpe.automatic || flags.substr(0, end) == "auto";
        flags = trim_space(flags.substr(end));
    }
    classes.back().cpe.push_back(std::move(cpe));
    return std::nullopt;
}

std::optional<std::string> OsDbParser::test_line(std::string_view text) {
    auto view = split_fingerprint_test(trim_space(text));
    if (!view) return error(view.error(), text);
    const auto index = test_index(view->name);
    if (!index) return error("test not in MatchPoints", text);
    if (entry_tests_[*index]) return error("test given twice in one Fingerprint", text);
    entry_tests_[*index] = true;
    const OsTestPoints& test = db_.tests_[*index];
    auto& attributes = view->attributes;
    // SEQ/OPS/WIN(R=N) is a test without results (nmap's FingerTest::str2AVal). A test that gives
    // attributes but no R is kept without R, as nmap 7.93 (the nmap-common this file comes with)
    // scores it: nmap 7.94 and later read it as R=Y, which moves guesses by a point or two.
    if (!test.has_r && attributes.size() == 1 && attributes[0].first == "R" && attributes[0].second == "N") return std::nullopt;
    OsEntry& entry = db_.entries_.back();
    std::uint32_t* slots = db_.slots_.data() + (db_.entries_.size() - 1) * db_.slot_count();
    for (const auto& [name, value] : attributes) {
        const auto slot = db_.slot(test.name, name);
        if (!slot) return error("attribute not in MatchPoints for " + test.name, text);
        if (slots[*slot] != 0) return error("attribute given twice", text);
        slots[*slot] = intern(value);
        entry.max_points += db_.slot_points(*slot);
    }
    return std::nullopt;
}

std::optional<std::size_t> OsDbParser::test_index(std::string_view name) const {
    for (std::size_t i = 0; i < db_.tests_.size(); ++i)
        if (db_.tests_[i].name == name) return i;
    return std::nullopt;
}

std::uint32_t OsDbParser::intern(std::string_view expression) {
    const auto [it, added] = interned_.try_emplace(expression, static_cast<std::uint32_t>(db_.spans_.size()));
    if (added) {
        db_.spans_.emplace_back(static_cast<std::uint32_t>(db_.pool_.size()), static_cast<std::uint32_t>(expression.size()));
        db_.pool_ += expression;
    }
    return it->second;
}

Result<OsDb> OsDb::parse(std::string_view text, std::string_view file_name) {
    OsDb db;
    // Room for every entry at once: the slots are most of the memory, and growing them by
    // doubling would copy megabytes several times.
    std::size_t expected = 1;
    for (std::size_t at = text.find("\nFingerprint "); at != std::string_view::npos; at = text.find("\nFingerprint ", at + 1)) ++expected;
    db.entries_.reserve(expected);
    db.slots_.reserve(expected * 128);
    OsDbParser parser(db, file_name);
    std::uint32_t number = 0;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        if (auto failure = parser.line(text.substr(at, end - at), ++number)) return Error{std::move(*failure)};
        at = end + 1;
    }
    if (auto failure = parser.finish()) return Error{std::move(*failure)};
    db.entries_.shrink_to_fit();
    db.slots_.shrink_to_fit();
    db.pool_.shrink_to_fit();
    db.spans_.shrink_to_fit();
    return db;
}

Result<OsDb> OsDb::load(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        return Error{"nmap-os-db not found at " + path +
                     ": install nmap-common (apt-get install nmap-common) or pass --os-db FILE"};
    const std::optional<std::string> text = read_text_file(path);
    if (!text) return Error{"cannot read nmap-os-db at " + path};
    return parse(*text, path);
}

std::optional<std::size_t> OsDb::slot(std::string_view test, std::string_view attribute) const {
    for (const auto& t : tests_) {
        if (t.name != test) continue;
        for (std::size_t i = 0; i < t.attributes.size(); ++i)
            if (t.attributes[i].first == attribute) return t.first_slot + i;
        return std::nullopt;
    }
    return std::nullopt;
}

std::string_view OsDb::slot_attribute(std::size_t slot) const {
    const OsTestPoints& test = slot_test(slot);
    return test.attributes[slot - test.first_slot].first;
}

std::uint32_t OsDb::slot_points(std::size_t slot) const {
    const OsTestPoints& test = slot_test(slot);
    return test.attributes[slot - test.first_slot].second;
}

std::optional<std::string_view> OsDb::expression(std::size_t entry, std::size_t slot) const {
    const std::uint32_t id = slots_[entry * slot_count() + slot];
    if (id == 0) return std::nullopt;
    return std::string_view(pool_).substr(spans_[id].first, spans_[id].second);
}

Fingerprint OsDb::fingerprint(std::size_t entry) const {
    Fingerprint fingerprint;
    for (const auto& test : tests_) {
        FingerprintTest out{test.name, {}};
        for (std::size_t i = 0; i < test.attributes.size(); ++i)
            if (auto value = expression(entry, test.first_slot + i))
                out.attributes.emplace_back(test.attributes[i].first, std::string(*value));
        if (!out.attributes.empty()) fingerprint.tests.push_back(std::move(out));
    }
    return fingerprint;
}

std::size_t OsDb::slot_bytes() const {
    return slots_.capacity() * sizeof(std::uint32_t) + pool_.capacity() + spans_.capacity() * sizeof(spans_[0]);
}

}  // namespace flagscan

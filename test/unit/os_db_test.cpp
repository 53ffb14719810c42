// Unit tests for OsDb and the OS matcher: the whole installed nmap-os-db, expressions, real nmap -O prints, the report.
#include "flagscan/os/os_db.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>

#include "flagscan/net/text.hpp"
#include "flagscan/os/os_match.hpp"

namespace flagscan {
namespace {

const std::string installed_path(default_os_db_path);

// Printed by nmap 7.94SVN -O against Metasploitable 2 (Linux 2.6.24), as published in a
// write-up; nmap reported "OS details: Linux 2.6.9 - 2.6.33", "Running: Linux 2.6.X",
// "OS CPE: cpe:/o:linux:linux_kernel:2.6", "Device type: general purpose".
constexpr std::string_view kLinux26 =
    "OS:SCAN(V=7.94SVN%E=4%D=2/8%OT=21%CT=1%CU=41723%PV=Y%DS=1%DC=D%G=Y%M=000C29\n"
    "OS:%TM=67A7050A%P=x86_64-pc-linux-gnu)SEQ(SP=CB%GCD=1%ISR=CF%TI=Z%CI=Z%II=I\n"
    "OS:%TS=7)OPS(O1=M5B4ST11NW5%O2=M5B4ST11NW5%O3=M5B4NNT11NW5%O4=M5B4ST11NW5%O\n"
    "OS:5=M5B4ST11NW5%O6=M5B4ST11)WIN(W1=16A0%W2=16A0%W3=16A0%W4=16A0%W5=16A0%W6\n"
    "OS:=16A0)ECN(R=Y%DF=Y%T=40%W=16D0%O=M5B4NNSNW5%CC=N%Q=)T1(R=Y%DF=Y%T=40%S=O\n"
    "OS:%A=S+%F=AS%RD=0%Q=)T2(R=N)T3(R=Y%DF=Y%T=40%W=16A0%S=O%A=S+%F=AS%O=M5B4ST\n"
    "OS:11NW5%RD=0%Q=)T4(R=Y%DF=Y%T=40%W=0%S=A%A=Z%F=R%O=%RD=0%Q=)T5(R=Y%DF=Y%T=\n"
    "OS:40%W=0%S=Z%A=S+%F=AR%O=%RD=0%Q=)T6(R=Y%DF=Y%T=40%W=0%S=A%A=Z%F=R%O=%RD=0\n"
    "OS:%Q=)T7(R=Y%DF=Y%T=40%W=0%S=Z%A=S+%F=AR%O=%RD=0%Q=)U1(R=Y%DF=N%T=40%IPL=1\n"
    "OS:64%UN=0%RIPL=G%RID=G%RIPCK=G%RUCK=G%RUD=G)IE(R=Y%DFI=N%T=40%CD=S)\n";

// nmap 7.91 -O against an Ubuntu host two hops away; no exact match, guesses led by Linux 3.x.
constexpr std::string_view kLinuxGuess =
    "OS:SCAN(V=7.91%E=4%D=2/19%OT=22%CT=1%CU=34367%PV=Y%DS=2%DC=T%G=Y%TM=6030631\n"
    "OS:D%P=x86_64-pc-linux-gnu)SEQ(SP=FF%GCD=1%ISR=109%TI=Z%CI=Z%TS=A)OPS(O1=M5\n"
    "OS:06ST11NW7%O2=M506ST11NW7%O3=M506NNT11NW7%O4=M506ST11NW7%O5=M506ST11NW7%O\n"
    "OS:6=M506ST11)WIN(W1=F4B3%W2=F4B3%W3=F4B3%W4=F4B3%W5=F4B3%W6=F4B3)ECN(R=Y%D\n"
    "OS:F=Y%T=40%W=F507%O=M506NNSNW7%CC=Y%Q=)T1(R=Y%DF=Y%T=40%S=O%A=S+%F=AS%RD=0\n"
    "OS:%Q=)T2(R=N)T3(R=N)T4(R=Y%DF=Y%T=40%W=0%S=A%A=Z%F=R%O=%RD=0%Q=)T5(R=Y%DF=\n"
    "OS:Y%T=40%W=0%S=Z%A=S+%F=AR%O=%RD=0%Q=)T6(R=Y%DF=Y%T=40%W=0%S=A%A=Z%F=R%O=%\n"
    "OS:RD=0%Q=)T7(R=Y%DF=Y%T=40%W=0%S=Z%A=S+%F=AR%O=%RD=0%Q=)U1(R=Y%DF=N%T=40%I\n"
    "OS:PL=164%UN=0%RIPL=G%RID=G%RIPCK=G%RUCK=G%RUD=G)IE(R=Y%DFI=N%T=40%CD=S)\n";

// nmap 7.92 -O against Windows Server 2016 (published in a write-up, with nmap's guesses).
constexpr std::string_view kWindows =
    "OS:SCAN(V=7.92%E=4%D=5/21%OT=22%CT=1%CU=35671%PV=Y%DS=2%DC=T%G=Y%TM=6289231\n"
    "OS:0%P=x86_64-pc-linux-gnu)SEQ(SP=108%GCD=1%ISR=10C%CI=I%II=I%TS=A)SEQ(SP=1\n"
    "OS:08%GCD=1%ISR=10C%CI=I%TS=A)OPS(O1=M505NW8ST11%O2=M505NW8ST11%O3=M505NW8N\n"
    "OS:NT11%O4=M505NW8ST11%O5=M505NW8ST11%O6=M505ST11)WIN(W1=2000%W2=2000%W3=20\n"
    "OS:00%W4=2000%W5=2000%W6=2000)ECN(R=Y%DF=Y%T=80%W=2000%O=M505NW8NNS%CC=Y%Q=\n"
    "OS:)T1(R=Y%DF=Y%T=80%S=O%A=S+%F=AS%RD=0%Q=)T2(R=Y%DF=Y%T=80%W=0%S=Z%A=S%F=A\n"
    "OS:R%O=%RD=0%Q=)T3(R=Y%DF=Y%T=80%W=0%S=Z%A=O%F=AR%O=%RD=0%Q=)T4(R=Y%DF=Y%T=\n"
    "OS:80%W=0%S=A%A=O%F=R%O=%RD=0%Q=)T5(R=Y%DF=Y%T=80%W=0%S=Z%A=S+%F=AR%O=%RD=0\n"
    "OS:%Q=)T6(R=Y%DF=Y%T=80%W=0%S=A%A=O%F=R%O=%RD=0%Q=)T7(R=Y%DF=Y%T=80%W=0%S=Z\n"
    "OS:%A=S+%F=AR%O=%RD=0%Q=)U1(R=Y%DF=N%T=80%IPL=164%UN=0%RIPL=G%RID=G%RIPCK=G\n"
    "OS:%RUCK=G%RUD=G)IE(R=Y%DFI=N%T=80%CD=Z)\n";

std::optional<OsDb> installed_db() {
    Result<OsDb> db = OsDb::load(installed_path);
    if (!db) return std::nullopt;
    return std::move(db).value();
}

Fingerprint must_parse(std::string_view text) {
    Result<Fingerprint> fp = parse_fingerprint(text);
    EXPECT_TRUE(fp.ok()) << fp.error();
    return fp ? *fp : Fingerprint{};
}

std::string db_error(const std::string& text) {
    const Result<OsDb> db = OsDb::parse(text, "db.txt");
    return db ? "(parsed)" : db.error();
}

constexpr std::string_view kSmallPoints =
    "MatchPoints\n"
    "SEQ(SP=25%GCD=75%TI=100)\n"
    "OPS(O1=20)\n"
    "T1(R=100%DF=20%W=25)\n"
    "U1(R=50%IPL=100)\n"
    "\n";

TEST(OsDbParse, WholeInstalledFile) {
    const std::optional<std::string> text = read_text_file(installed_path);
    if (!text) GTEST_SKIP() << installed_path << " is not installed (nmap-common)";
    const auto started = std::chrono::steady_clock::now();
    const Result<OsDb> db = OsDb::parse(*text, installed_path);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    ASSERT_TRUE(db.ok()) << db.error();
    std::size_t fingerprint_lines = 0;  // grep -c '^Fingerprint '
    for (std::string_view line : split_on(*text, '\n')) fingerprint_lines += line.starts_with("Fingerprint ");
    EXPECT_EQ(db->entries().size(), fingerprint_lines);
    EXPECT_GT(db->entries().size(), 5000u);
    for (const OsEntry& entry : db->entries()) {
        EXPECT_FALSE(entry.classes.empty()) << entry.name << " at line " << entry.line;
        EXPECT_GT(entry.max_points, 0u) << entry.name;
    }
    std::vector<std::string> names;
    for (const OsTestPoints& test : db->match_points()) names.push_back(test.name);
    EXPECT_EQ(names, (std::vector<std::string>{"SEQ", "OPS", "WIN", "ECN", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "U1", "IE"}));
    EXPECT_EQ(db->slot_points(*db->slot("SEQ", "TI")), 100u);
    EXPECT_EQ(db->slot_points(*db->slot("T2", "R")), 80u);
    EXPECT_EQ(db->slot_points(*db->slot("IE", "CD")), 100u);
    std::printf("[ load ] %zu entries, %zu distinct expressions, %zu KiB of slots and expressions, parsed in %.1f ms\n",
                db->entries().size(), db->expression_count(), db->slot_bytes() / 1024, ms);
}

TEST(OsDbParse, InstalledEntryAsWritten) {
    const auto db = installed_db();
    if (!db) GTEST_SKIP() << installed_path << " is not installed";
    // The file's first entry (nmap-os-db 7.93): 2N Helios IP VoIP doorbell.
    const OsEntry& first = db->entry(0);
    EXPECT_EQ(first.name, "2N Helios IP VoIP doorbell");
    ASSERT_EQ(first.classes.size(), 1u);
    EXPECT_EQ(first.classes[0].vendor, "2N");
    EXPECT_EQ(first.classes[0].family, "embedded");
    EXPECT_EQ(first.classes[0].generation, "");
    EXPECT_EQ(first.classes[0].device_type, "specialized");
    ASSERT_EQ(first.classes[0].cpe.size(), 1u);
    EXPECT_EQ(first.classes[0].cpe[0].name, "cpe:/h:2n:helios");
    EXPECT_EQ(db->expression(0, *db->slot("SEQ", "GCD")), "51E80C|A3D018|F5B824|147A030|199883C");
    EXPECT_EQ(db->expression(0, *db->slot("ECN", "Q")), "");
    EXPECT_EQ(db->expression(0, *db->slot("T2", "R")), "N");
    EXPECT_FALSE(db->expression(0, *db->slot("T2", "DF")));
    // "auto" CPEs exist and are flagged.
    bool saw_auto = false;
    for (const OsEntry& e : db->entries())
        for (const OsClass& c : e.classes)
            for (const OsCpe& cpe : c.cpe) saw_auto = saw_auto || (cpe.automatic && cpe.name.starts_with("cpe:/"));
    EXPECT_TRUE(saw_auto);
}

TEST(OsDbParse, ClassesCpesCommentsAndImpliedR) {
    const std::string text = std::string(kSmallPoints) +
                             "# a comment\n"
                             "Fingerprint Alpha 1.0 # a note\n"
                             "Class Acme | AlphaOS | 1.X | general purpose\n"
                             "CPE cpe:/o:acme:alphaos:1 auto\n"
                             "Class Acme | AlphaOS || router\n"
                             "CPE cpe:/h:acme:box\n"
                             "SEQ(SP=0-10%GCD=1|2%TI=Z)\n"
                             "OPS(R=N)\n"
                             "T1(DF=Y%W=FAF0)\n"
                             "U1(R=N)\r\n";
    const Result<OsDb> db = OsDb::parse(text, "db.txt");
    ASSERT_TRUE(db.ok()) << db.error();
    ASSERT_EQ(db->entries().size(), 1u);
    const OsEntry& e = db->entry(0);
    EXPECT_EQ(e.name, "Alpha 1.0");
    EXPECT_EQ(e.line, 8u);
    ASSERT_EQ(e.classes.size(), 2u);
    EXPECT_EQ(e.classes[0].generation, "1.X");
    EXPECT_TRUE(e.classes[0].cpe.at(0).automatic);
    EXPECT_EQ(e.classes[1].generation, "");
    EXPECT_EQ(e.classes[1].device_type, "router");
    EXPECT_FALSE(e.classes[1].cpe.at(0).automatic);
    EXPECT_FALSE(db->expression(0, *db->slot("T1", "R")));  // not implied, as nmap 7.93 reads it
    EXPECT_EQ(db->expression(0, *db->slot("U1", "R")), "N");
    EXPECT_FALSE(db->expression(0, *db->slot("OPS", "O1")));  // OPS(R=N): no results
    EXPECT_EQ(e.max_points, 25u + 75u + 100u + 20u + 25u + 50u);
    EXPECT_EQ(db->fingerprint(0).str(), "SEQ(SP=0-10%GCD=1|2%TI=Z)\nT1(DF=Y%W=FAF0)\nU1(R=N)\n");
}

TEST(OsDbParse, RefusesAMalformedLineNamingFileAndLine) {
    const std::string head = std::string(kSmallPoints) + "Fingerprint X\nClass a | b | c | d\n";  // lines 1-8
    EXPECT_EQ(db_error(head + "T1(R=Y%DF\n"), "db.txt:9: missing ')' at the end: 'T1(R=Y%DF'");
    EXPECT_EQ(db_error(head + "T1(R=Y%XX=1)\n"), "db.txt:9: attribute not in MatchPoints for T1: 'T1(R=Y%XX=1)'");
    EXPECT_EQ(db_error(head + "T9(R=Y)\n"), "db.txt:9: test not in MatchPoints: 'T9(R=Y)'");
    EXPECT_EQ(db_error(head + "T1(R=Y)\nT1(R=N)\n"), "db.txt:10: test given twice in one Fingerprint: 'T1(R=N)'");
    EXPECT_EQ(db_error(head + "Class a | b\n"), "db.txt:9: Class needs vendor | family | generation | device type: 'Class a | b'");
    EXPECT_EQ(db_error(std::string(kSmallPoints) + "Fingerprint X\nCPE cpe:/o:x\n"), "db.txt:8: CPE before any Class: 'CPE cpe:/o:x'");
    EXPECT_EQ(db_error(head + "\nSEQ(SP=1)\n"), "db.txt:10: expected Fingerprint or MatchPoints: 'SEQ(SP=1)'");
    EXPECT_EQ(db_error("MatchPoints\nSEQ(SP=x)\n"), "db.txt:2: points must be a whole number: 'SEQ(SP=x)'");
    EXPECT_EQ(db_error("Fingerprint X\n"), "db.txt:1: Fingerprint before MatchPoints: 'Fingerprint X'");
    EXPECT_EQ(db_error(std::string(kSmallPoints)), "db.txt: no Fingerprint entries");
    EXPECT_EQ(db_error(head + "T1(R=Y)\n"), "(parsed)");
    // Every cut of a valid file is read without reading past its end: parsed or refused.
    const std::string whole = head + "CPE cpe:/o:a:b auto\nSEQ(SP=0-5%GCD=1|2%TI=Z)\nOPS(O1=M[>500]ST11)\nT1(R=Y%DF=N)\n";
    std::size_t refused = 0;
    for (std::size_t cut = 0; cut <= whole.size(); ++cut) refused += !OsDb::parse(whole.substr(0, cut), "db.txt").ok();
    EXPECT_GT(refused, 0u);
    EXPECT_LT(refused, whole.size());
    EXPECT_EQ(split_fingerprint_test("").error(), "empty test");
}

TEST(OsDbParse, RefusesACorruptLineInTheInstalledFile) {
    const std::optional<std::string> text = read_text_file(installed_path);
    if (!text) GTEST_SKIP() << installed_path << " is not installed";
    // Cut the ')' off the 20000th line's test (a test line well inside the file).
    std::string corrupt = *text;
    std::size_t at = 0, line = 1;
    for (; line < 20000 || !(std::string_view(corrupt).substr(at).starts_with("T")); ++line) at = corrupt.find('\n', at) + 1;
    const std::size_t end = corrupt.find('\n', at);
    ASSERT_EQ(corrupt[end - 1], ')');
    corrupt.erase(end - 1, 1);
    const Result<OsDb> db = OsDb::parse(corrupt, "nmap-os-db");
    ASSERT_FALSE(db.ok());
    EXPECT_TRUE(db.error().starts_with("nmap-os-db:" + std::to_string(line) + ": missing ')'")) << db.error();
}

TEST(OsDbParse, MissingFileSaysWhatToDo) {
    const Result<OsDb> db = OsDb::load("/nonexistent/nmap-os-db");
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.error(),
              "nmap-os-db not found at /nonexistent/nmap-os-db: install nmap-common (apt-get install nmap-common) or pass "
              "--os-db FILE");
}

struct ExprCase {
    const char* expression;
    const char* value;
    bool matches;
};

TEST(OsMatchExpr, NmapRules) {
    const ExprCase cases[] = {
        // literal strings: whole, never a prefix
        {"M5B4ST11NW7", "M5B4ST11NW7", true}, {"M5B4ST11NW7", "M5B4ST11NW", false}, {"M5B4ST11|M5B4", "M5B4ST", false},
        {"S+|S", "S+", true}, {"A|AS", "ASX", false}, {"Z|RD|RI", "RD", true}, {"I", "BI", false},
        // hex numbers: equality by value, ranges inclusive, > and <
        {"FAF0", "FAF0", true}, {"0A", "A", true}, {"A", "00A", true}, {"FAF0", "FAF1", false},
        {"F8-10C", "F8", true}, {"F8-10C", "10C", true}, {"F8-10C", "105", true}, {"F8-10C", "F7", false},
        {"F8-10C", "10D", false}, {"5-B", "51", false}, {"0-5", "0", true},
        {">8000", "8001", true}, {">8000", "8000", false}, {">8000", "10000", true}, {">B0", "100", true},
        {"<10", "F", true}, {"<10", "10", false}, {"<B0", "100", false}, {"<A", "9", true},
        {"1|2|5-8|>A0", "7", true}, {"1|2|5-8|>A0", "9", false}, {"1|2|5-8|>A0", "B0", true},
        // hex digits either case
        {"FAF0", "faf0", true}, {"fa-ff", "FB", true}, {">fa", "FB", true}, {"<FA", "f9", true},
        // a value that is not hex never satisfies a number, a range or a bound
        {"G", "0", false}, {">0", "G", false}, {"0-FFFF", "G", false}, {"RIPL=G", "G", false}, {"G", "G", true},
        // empty values and alternatives
        {"", "", true}, {"", "0", false}, {"|5", "5", true}, {"5|", "5", true}, {"|5", "", true}, {"5|", "", true},
        {"|M", "M5", false}, {"5|", "M5", false}, {"A|B", "", false}, {"<A", "", false}, {"1-9", "", false},
        {"Y|N", "N", true}, {"Y|N", "", false},
    };
    for (const auto& c : cases)
        EXPECT_EQ(os_expr_match(c.value, c.expression), c.matches) << "'" << c.value << "' against '" << c.expression << "'";
}

TEST(OsMatchExpr, BracketsInTcpOptions) {
    const ExprCase cases[] = {
        {"M[>500]ST11NW[1-5]", "M5B4ST11NW4", true}, {"M[>500]ST11NW[1-5]", "M4FFST11NW4", false},
        {"M[>500]ST11NW[1-5]", "M5B4ST11NW6", false}, {"M[>500]ST11NW[1-5]", "M5B4ST11NW", false},
        {"M[500|5B4]S", "M5B4S", true}, {"M[500|5B4]S", "M501S", false}, {"M[1-9]", "M2A", false},
        {"M[1|A]S", "M1AS", false}, {"[<5]S", "2S", true}, {"M[1-9]|MFF", "MFF", true}, {"M[1-9]", "", false},
    };
    for (const auto& c : cases)
        EXPECT_EQ(os_expr_match(c.value, c.expression, true), c.matches) << "'" << c.value << "' against '" << c.expression << "'";
    // Without `nested` a bracket is literal text.
    EXPECT_FALSE(os_expr_match("M5B4", "M[>500]"));
    EXPECT_TRUE(os_expr_match("M[>500]", "M[>500]"));
}

// A value satisfying the expression: its first alternative, with a bound stepped over and a
// bracket filled.
std::string hex_step(std::string_view hex, int step) {
    std::uint64_t n = 0;
    std::from_chars(hex.data(), hex.data() + hex.size(), n, 16);
    char out[20];
    const auto end = std::to_chars(out, out + sizeof out, n + static_cast<std::uint64_t>(step), 16).ptr;
    std::string s(out, end);
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string satisfying(std::string_view alternative) {
    if (alternative.empty()) return "";
    if (alternative.front() == '>') return hex_step(alternative.substr(1), 1);
    if (alternative.front() == '<') return hex_step(alternative.substr(1), -1);
    const std::size_t open = alternative.find('[');
    if (open != std::string_view::npos) {
        const std::size_t close = alternative.find(']', open);
        const std::string_view inner = alternative.substr(open + 1, close - open - 1);
        return std::string(alternative.substr(0, open)) + satisfying(inner.substr(0, inner.find('|'))) +
               satisfying(alternative.substr(close + 1));
    }
    const std::size_t dash = alternative.find('-');
    if (dash != std::string_view::npos) return std::string(alternative.substr(0, dash));
    return std::string(alternative);
}

std::string first_alternative(std::string_view expression) {
    int depth = 0;
    for (std::size_t i = 0; i < expression.size(); ++i) {
        depth += expression[i] == '[' ? 1 : expression[i] == ']' ? -1 : 0;
        if (expression[i] == '|' && depth == 0) return std::string(expression.substr(0, i));
    }
    return std::string(expression);
}

Fingerprint subject_from_entry(const OsDb& db, std::size_t entry) {
    Fingerprint fp = db.fingerprint(entry);
    for (auto& test : fp.tests)
        for (auto& [name, value] : test.attributes) value = satisfying(first_alternative(value));
    return fp;
}

TEST(OsMatchScore, EverySubjectBuiltFromAnEntryMatchesItAtOneHundred) {
    const auto db = installed_db();
    if (!db) GTEST_SKIP() << installed_path << " is not installed";
    for (std::size_t entry = 0; entry < db->entries().size(); ++entry) {
        const Fingerprint subject = subject_from_entry(*db, entry);
        const OsSubject laid_out(*db, subject);
        ASSERT_EQ(os_accuracy(*db, entry, laid_out), 1.0) << db->entry(entry).name << " line " << db->entry(entry).line
                                                            << "\n" << subject.str();
    }
}

TEST(OsMatchScore, SubjectFromALinuxEntryIsAPerfectMatch) {
    const auto db = installed_db();
    if (!db) GTEST_SKIP() << installed_path << " is not installed";
    std::size_t linux_entry = 0;
    while (db->entry(linux_entry).name != "Linux 2.6.32") ++linux_entry;
    const OsMatches m = match_fingerprint(*db, subject_from_entry(*db, linux_entry));
    ASSERT_EQ(m.result, OsMatchResult::success);
    ASSERT_GE(m.perfect, 1u);
    bool listed = false;
    for (std::size_t i = 0; i < m.perfect; ++i) listed = listed || m.matches[i].entry == linux_entry;
    EXPECT_TRUE(listed);
    // Change one attribute (the entry's first): the entry drops below 100% by exactly its points.
    Fingerprint changed = subject_from_entry(*db, linux_entry);
    FingerprintTest& test = changed.tests.at(0);
    const std::string attribute = test.attributes.at(0).first;
    test.set(attribute, "NOPE");
    const double accuracy = os_accuracy(*db, linux_entry, OsSubject(*db, changed));
    const double total = db->entry(linux_entry).max_points;
    EXPECT_DOUBLE_EQ(accuracy, (total - db->slot_points(*db->slot(test.name, attribute))) / total);
    const auto misses = os_misses(*db, linux_entry, OsSubject(*db, changed));
    ASSERT_EQ(misses.size(), 1u);
    EXPECT_EQ(misses[0].test + "." + misses[0].attribute, test.name + "." + attribute);
    EXPECT_EQ(misses[0].value, "NOPE");
}

TEST(OsMatchScore, MissingTestsCountForNothing) {
    const Result<OsDb> db = OsDb::parse(std::string(kSmallPoints) +
                                            "Fingerprint A\nClass a | A | 1 | general purpose\n"
                                            "SEQ(SP=0-10%GCD=1%TI=Z)\nT1(R=Y%DF=Y%W=FAF0)\nU1(IPL=164)\n",
                                        "db.txt");
    ASSERT_TRUE(db.ok()) << db.error();
    // No U1 in the subject: SEQ and T1 alone decide.
    EXPECT_EQ(os_accuracy(*db, 0, OsSubject(*db, must_parse("SEQ(SP=5%GCD=1%TI=Z)\nT1(R=Y%DF=Y%W=FAF0)"))), 1.0);
    // T1 did not answer: R=N against R=Y loses T1.R's 100 points; T1's other attributes are absent.
    const double accuracy = os_accuracy(*db, 0, OsSubject(*db, must_parse("SEQ(SP=5%GCD=1%TI=Z)\nT1(R=N)")));
    EXPECT_DOUBLE_EQ(accuracy, 200.0 / 300.0);
    // Attributes the subject gives that the entry does not are not counted either: the entry's
    // U1 gives no R, so a silent U1 costs it nothing (nmap 7.93).
    EXPECT_EQ(os_accuracy(*db, 0, OsSubject(*db, must_parse("SEQ(SP=5%GCD=1%TI=Z%XX=9)\nT1(R=Y%DF=Y%W=FAF0)\nU1(R=N)"))), 1.0);
    EXPECT_DOUBLE_EQ(os_accuracy(*db, 0, OsSubject(*db, must_parse("SEQ(SP=5%GCD=1%TI=Z)\nU1(R=Y%IPL=1)"))), 200.0 / 300.0);
    // Nothing in common: 0.
    EXPECT_EQ(os_accuracy(*db, 0, OsSubject(*db, must_parse("IE(R=Y)"))), 0.0);
}

TEST(OsMatchFingerprint, WrappedFormEqualsPlainForm) {
    const Fingerprint wrapped = must_parse(kLinux26);
    ASSERT_EQ(wrapped.tests.size(), 14u);
    EXPECT_EQ(wrapped.tests[0].name, "SCAN");
    EXPECT_EQ(*wrapped.find("SCAN")->find("TM"), "67A7050A");  // cut across lines
    EXPECT_EQ(*wrapped.find("OPS")->find("O5"), "M5B4ST11NW5");
    EXPECT_EQ(*wrapped.find("ECN")->find("Q"), "");
    EXPECT_EQ(wrapped.find("T2")->str(), "T2(R=N)");
    const Fingerprint plain = must_parse(wrapped.str());
    EXPECT_EQ(plain.str(), wrapped.str());
    // And back to nmap's own text, byte for byte.
    EXPECT_EQ(wrap_fingerprint(wrapped), kLinux26);
    EXPECT_EQ(wrap_fingerprint(must_parse(kLinuxGuess)), kLinuxGuess);
    // The XML attribute's form (lines and blanks around them) reads the same.
    EXPECT_EQ(must_parse("  OS:SEQ(SP=CB%GCD=1\r\n  OS:%TI=Z)\n\n").str(), "SEQ(SP=CB%GCD=1%TI=Z)\n");
    // nmap prints each distinct SEQ of its tries: the first is kept.
    EXPECT_EQ(*must_parse(kWindows).find("SEQ")->find("II"), "I");
}

TEST(OsMatchFingerprint, RefusesBrokenText) {
    EXPECT_EQ(parse_fingerprint("OS:SEQ(SP=CB").error(), "fingerprint: missing ')' in 'SEQ(SP=CB'");
    EXPECT_EQ(parse_fingerprint("SEQ(SP)").error(), "fingerprint: attribute without a name or '=' in 'SEQ(SP)'");
    EXPECT_EQ(parse_fingerprint("TCP/IP fingerprint:\nSEQ(SP=1)").error(), "fingerprint: bad test name in 'TCP/IP fingerprint:SEQ(SP=1)'");
    EXPECT_EQ(parse_fingerprint("\n \n").error(), "fingerprint: no tests");
}

TEST(OsMatchReport, RealLinux26PrintIsAPerfectMatchAsNmapSaid) {
    const auto db = installed_db();
    if (!db) GTEST_SKIP() << installed_path << " is not installed";
    const auto started = std::chrono::steady_clock::now();
    const OsMatches m = match_fingerprint(*db, must_parse(kLinux26));
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    std::printf("[ match ] one subject against %zu entries in %.2f ms\n", db->entries().size(), ms);
    ASSERT_EQ(m.result, OsMatchResult::success);
    const OsReport report = os_report(*db, m, {});
    for (const auto& line : report.lines()) std::printf("  %s\n", line.c_str());
    EXPECT_EQ(report.lines(), (std::vector<std::string>{"Device type: general purpose", "Running: Linux 2.6.X",
                                                        "OS CPE: cpe:/o:linux:linux_kernel:2.6",
                                                        "OS details: Linux 2.6.9 - 2.6.33"}));
    EXPECT_EQ(report.listed.size(), 1u);
    EXPECT_FALSE(report.print_fingerprint);
}

TEST(OsMatchReport, RealLinuxPrintWithoutExactMatchGuessesLinux) {
    const auto db = installed_db();
    if (!db) GTEST_SKIP() << installed_path << " is not installed";
    const OsMatches m = match_fingerprint(*db, must_parse(kLinuxGuess));
    ASSERT_EQ(m.result, OsMatchResult::success);
    ASSERT_FALSE(m.matches.empty());
    EXPECT_EQ(m.perfect, 0u);
    EXPECT_TRUE(db->entry(m.matches[0].entry).name.starts_with("Linux")) << db->entry(m.matches[0].entry).name;
    EXPECT_EQ(db->entry(m.matches[0].entry).classes[0].family, "Linux");
    // nmap's own run had no UDP scan, so the print was "not ideal" and the guesses printed.
    const auto reason = os_not_ideal_reason({22, 1, -1, false, 2});
    ASSERT_EQ(reason, "Didn't receive UDP response. Please try again with -sSU");
    const OsReport report = os_report(*db, m, {false, reason, false, 0});
    for (const auto& line : report.lines()) std::printf("  %s\n", line.c_str());
    // nmap 7.91's own run printed exactly this (output.cc's rules and scores are 7.93's too), and
    // no Device type / Running lines: the guesses' CPEs are more than 8.
    EXPECT_EQ(report.lines().at(0),
              "Aggressive OS guesses: Linux 3.1 (94%), Linux 3.2 (94%), AXIS 210A or 211 Network Camera (Linux 2.6.17) "
              "(94%), ASUS RT-N56U WAP (Linux 3.4) (93%), Linux 3.16 (93%), Adtran 424RG FTTH gateway (92%), Linux 2.6.32 "
              "(92%), Linux 3.1 - 3.2 (92%), Linux 3.11 (92%), Linux 3.2 - 4.9 (92%)");
    EXPECT_TRUE(report.running.empty());
    EXPECT_EQ(report.lines().size(), 2u);
    EXPECT_EQ(report.lines().back(), "No exact OS matches for host (test conditions non-ideal).");
    // Without the reason and without --osscan-guess nmap lists no guesses and asks for the print.
    const OsReport strict = os_report(*db, m, {});
    EXPECT_TRUE(strict.guesses.empty());
    EXPECT_TRUE(strict.running.empty());
    EXPECT_EQ(strict.lines(),
              (std::vector<std::string>{"No exact OS matches for host (If you know what OS is running on it, see https://nmap.org/submit/ )."}));
    EXPECT_TRUE(strict.print_fingerprint);
    EXPECT_EQ(strict.listed.size(), report.guesses.size());
}

TEST(OsMatchReport, RealWindowsPrintGuessesWindows) {
    const auto db = installed_db();
    if (!db) GTEST_SKIP() << installed_path << " is not installed";
    const OsMatches m = match_fingerprint(*db, must_parse(kWindows));
    ASSERT_FALSE(m.matches.empty());
    const OsReport report = os_report(*db, m, {true, std::nullopt, false, 0});
    for (const auto& line : report.lines()) std::printf("  %s\n", line.c_str());
    // As nmap 7.92 printed it for this print.
    EXPECT_EQ(report.lines().at(0),
              "Aggressive OS guesses: Microsoft Windows Server 2016 build 10586 - 14393 (96%), Microsoft Windows Server 2016 "
              "(94%), Microsoft Windows 10 1507 (93%), Microsoft Windows 10 1507 - 1607 (93%), Microsoft Windows 10 1511 (93%), "
              "Microsoft Windows Server 2012 (93%), Microsoft Windows Server 2012 R2 (93%), Microsoft Windows Server 2012 R2 "
              "Update 1 (93%), Microsoft Windows 7, Windows Server 2012, or Windows 8.1 Update 1 (93%), Microsoft Windows Vista "
              "SP1 - SP2, Windows Server 2008 SP2, or Windows 7 (93%)");
    EXPECT_EQ(db->entry(m.matches[0].entry).classes[0].vendor, "Microsoft");
}

// A small database to drive the report's branches: entry N matches a subject "SEQ(SP=N)" fully
// and the others on TI only.
std::string ladder_db(int entries, const std::string& same_class = "") {
    std::string text = "MatchPoints\nSEQ(SP=10%TI=90)\n\n";
    for (int i = 1; i <= entries; ++i) {
        const std::string n = std::to_string(i);
        text += "Fingerprint OS " + n + "\n";
        text += same_class.empty() ? "Class Vendor" + n + " | Fam" + n + " | " + n + ".X | general purpose\n" : same_class;
        text += "CPE cpe:/o:v" + n + ":fam\nSEQ(SP=" + n + "%TI=Z)\n\n";
    }
    return text;
}

TEST(OsMatchReport, PerfectGuessesTooManyAndNames) {
    const Result<OsDb> db = OsDb::parse(ladder_db(12), "db.txt");
    ASSERT_TRUE(db.ok()) << db.error();
    // SP=3: "OS 3" perfect; the rest score 90% and are left out once a perfect match exists.
    OsMatches m = match_fingerprint(*db, must_parse("SEQ(SP=3%TI=Z)"));
    ASSERT_EQ(m.perfect, 1u);
    EXPECT_EQ(m.matches.size(), 12u);
    EXPECT_EQ(m.matches[1].percent(), 90);
    EXPECT_EQ(m.matches[1].entry, 0u);  // ties keep the file's order
    OsReport r = os_report(*db, m, {true, std::nullopt, false, 0});
    EXPECT_EQ(r.lines(), (std::vector<std::string>{"Device type: general purpose", "Running: Vendor3 Fam3 3.X",
                                                   "OS CPE: cpe:/o:v3:fam", "OS details: OS 3"}));
    // SP=99: no perfect match, twelve at 90%: --osscan-guess lists ten; "Running" stops at 8 families.
    m = match_fingerprint(*db, must_parse("SEQ(SP=99%TI=Z)"));
    ASSERT_EQ(m.perfect, 0u);
    r = os_report(*db, m, {true, std::nullopt, false, 0});
    EXPECT_EQ(r.guesses.size(), 10u);
    EXPECT_EQ(r.guesses[0], (std::pair<std::string, int>{"OS 1", 90}));
    EXPECT_TRUE(r.running.empty());  // more than 8 families: nmap prints no summary
    EXPECT_EQ(r.lines().at(0), "Aggressive OS guesses: OS 1 (90%), OS 2 (90%), OS 3 (90%), OS 4 (90%), OS 5 (90%), "
                               "OS 6 (90%), OS 7 (90%), OS 8 (90%), OS 9 (90%), OS 10 (90%)");
    // Nine entries with the same class all perfect: "Too many fingerprints".
    const Result<OsDb> same = OsDb::parse(ladder_db(9, "Class V | F | 1 | router\n"), "db.txt");
    ASSERT_TRUE(same.ok()) << same.error();
    const OsReport many = os_report(*same, match_fingerprint(*same, must_parse("TI(X=1)\nSEQ(TI=Z)")), {});
    EXPECT_EQ(many.lines(), (std::vector<std::string>{"Device type: router", "Running: V F 1", "OS CPE: cpe:/o:v1:fam",
                                                      "Too many fingerprints match this host to give specific OS details"}));
}

TEST(OsMatchReport, GuessSummaryJoinsGenerationsAndNamesKeepTheirBest) {
    // 16 points: 15 matched is 93%, 14 is 87% (exact in binary, as nmap's floor needs).
    const std::string text =
        "MatchPoints\nSEQ(SP=1%TI=14%CI=1)\n\n"
        "Fingerprint Linux 3.X\nClass Linux | Linux | 3.X | general purpose\nCPE cpe:/o:linux:linux_kernel:3\nSEQ(SP=1%TI=Z%CI=I)\n\n"
        "Fingerprint Linux 4.X\nClass Linux | Linux | 4.X | general purpose\nSEQ(SP=2%TI=Z%CI=Z)\n\n"
        "Fingerprint Linux 4.X\nClass Linux | Linux | 4.X | general purpose\nCPE cpe:/o:linux:linux_kernel:4\nSEQ(SP=9%TI=Z%CI=Z)\n\n"
        "Fingerprint Box\nClass Acme | embedded || WAP\nSEQ(SP=3%TI=Z%CI=I)\n\n"
        "Fingerprint Far\nClass Far | Far | 1 | router\nSEQ(SP=9%TI=RD%CI=I)\n";
    const Result<OsDb> db = OsDb::parse(text, "db.txt");
    ASSERT_TRUE(db.ok()) << db.error();
    const OsMatches m = match_fingerprint(*db, must_parse("SEQ(SP=9%TI=Z%CI=I)"));
    // "Linux 4.X" is listed once, at its better score (93% from its second entry, not 87%);
    // "Far" scores 12%, under the 85% threshold.
    ASSERT_EQ(m.matches.size(), 3u);
    EXPECT_EQ(m.matches[1].entry, 2u);
    EXPECT_EQ(m.matches[1].percent(), 93);
    const OsReport r = os_report(*db, m, {true, std::nullopt, true, 0});
    EXPECT_EQ(r.lines(), (std::vector<std::string>{
                             "Warning: OSScan results may be unreliable because we could not find at least 1 open and 1 closed port",
                             "Device type: general purpose|WAP", "Running (JUST GUESSING): Linux 3.X|4.X (93%), Acme embedded (93%)",
                             "OS CPE: cpe:/o:linux:linux_kernel:3 cpe:/o:linux:linux_kernel:4",
                             "Aggressive OS guesses: Linux 3.X (93%), Linux 4.X (93%), Box (93%)",
                             "No exact OS matches for host (If you know what OS is running on it, see https://nmap.org/submit/ )."}));
    // Nothing at or above 85%: no matches.
    const OsMatches none = match_fingerprint(*db, must_parse("SEQ(SP=9%TI=BI)"));
    EXPECT_EQ(none.result, OsMatchResult::no_matches);
    EXPECT_EQ(os_report(*db, none, {false, "Missing a closed TCP port so results incomplete", false, 0}).lines(),
              (std::vector<std::string>{"OS fingerprint not ideal because: Missing a closed TCP port so results incomplete",
                                        "No OS matches for host"}));
}

TEST(OsMatchReport, NotIdealReasonsInNmapsOrder) {
    EXPECT_EQ(os_not_ideal_reason({22, 1, 40000, false, 1}), std::nullopt);
    EXPECT_EQ(os_not_ideal_reason({-1, 1, 40000, false, 1}), "Missing an open TCP port so results incomplete");
    EXPECT_EQ(os_not_ideal_reason({22, -1, 40000, false, 1}), "Missing a closed TCP port so results incomplete");
    EXPECT_EQ(os_not_ideal_reason({22, 1, -1, true, 1}), std::nullopt);  // -sU ran: U1 may just be silent
    EXPECT_EQ(os_not_ideal_reason({22, 1, 40000, false, 6}), "Host distance (6 network hops) is greater than five");
    OsScanConditions c{22, 1, 40000, false, 1};
    c.timing_level = 5;
    EXPECT_EQ(os_not_ideal_reason(c), "Timing level 5 (Insane) used");
}

}  // namespace
}  // namespace flagscan

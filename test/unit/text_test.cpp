// The shared text helpers: splitting on a separator, quoting input for errors, C-style unescapes.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "flagscan/net/text.hpp"

namespace flagscan {
namespace {

using Parts = std::vector<std::string_view>;

TEST(SplitOn, KeepsEmptyPartsForTheCallerToReport) {
    EXPECT_EQ(split_on("a,b,c", ','), (Parts{"a", "b", "c"}));
    EXPECT_EQ(split_on("a,,b", ','), (Parts{"a", "", "b"}));
    EXPECT_EQ(split_on(",a,", ','), (Parts{"", "a", ""}));
    EXPECT_EQ(split_on("", ','), (Parts{""}));
    EXPECT_EQ(split_on("10.0.0.1", '-'), (Parts{"10.0.0.1"}));
}

TEST(TrimSpace, DropsBlanksAtBothEndsOnly) {
    EXPECT_EQ(trim_space(" \t a b \r\n"), "a b");
    EXPECT_EQ(trim_space(" \t\r\n"), "");
    EXPECT_EQ(trim_space(""), "");
    EXPECT_EQ(trim_space("x"), "x");
}

TEST(QuoteForError, CutsLongInputAndHidesControlBytes) {
    EXPECT_EQ(quote_for_error("eth9"), "'eth9'");
    EXPECT_EQ(quote_for_error(std::string_view("a\nb", 3)), "'a?b'");
    EXPECT_LE(quote_for_error(std::string(500, 'x')).size(), 90u);
}

TEST(UnescapeCString, ReadsNmapEscapes) {
    const auto bytes = unescape_c_string(R"(GET / HTTP/1.0\r\n\r\n\x00\|)");
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(bytes.value(), std::string("GET / HTTP/1.0\r\n\r\n\0|", 20));
    EXPECT_FALSE(unescape_c_string(R"(\x4)").ok());
    EXPECT_FALSE(unescape_c_string(R"(\q)").ok());
}

TEST(ParseWhole, ReadsTheWholeTextOrNothing) {
    EXPECT_EQ(parse_whole<unsigned>("65535"), 65535u);
    EXPECT_EQ(parse_whole<int>("-3"), -3);
    EXPECT_EQ(parse_whole<double>("2.5"), 2.5);
    EXPECT_FALSE(parse_whole<unsigned>(""));
    EXPECT_FALSE(parse_whole<unsigned>("-1"));    // no sign for unsigned types
    EXPECT_FALSE(parse_whole<unsigned>("12a"));   // trailing junk
    EXPECT_FALSE(parse_whole<unsigned>(" 12"));   // no spaces
    EXPECT_FALSE(parse_whole<std::uint8_t>("256"));  // does not fit
    EXPECT_FALSE(parse_whole<std::uint64_t>("18446744073709551616"));
    EXPECT_EQ(parse_whole<std::uint64_t>("18446744073709551615"), 18446744073709551615ull);
}

}  // namespace
}  // namespace flagscan

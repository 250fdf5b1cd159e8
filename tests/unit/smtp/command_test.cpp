// Command line parsing: verb/argument split, LineReader framing and bounds,
// decimal parsing without overflow.
#include <gtest/gtest.h>

#include <limits>

#include "smtp/command.hpp"
#include "smtp/line_reader.hpp"

namespace cartero::smtp {
namespace {

TEST(ParseCommand, Table) {
    struct Case {
        std::string line;
        std::string verb;
        std::string argument;
    };
    const std::vector<Case> cases{
        {"EHLO host", "EHLO", "host"},
        {"ehlo host", "EHLO", "host"},
        {"MAIL FROM:<a@b> SIZE=1", "MAIL", "FROM:<a@b> SIZE=1"},
        {"QUIT", "QUIT", ""},
        {"QUIT   ", "QUIT", ""},
        {"NOOP  spaced  \t", "NOOP", "spaced"},
        {"", "", ""},
        {"rSeT", "RSET", ""},
    };
    for (const auto& c : cases) {
        const Command got = parse_command(c.line);
        EXPECT_EQ(got.verb, c.verb) << c.line;
        EXPECT_EQ(got.argument, c.argument) << c.line;
    }
}

TEST(AfterPrefix, MatchesCaseInsensitively) {
    EXPECT_EQ(after_prefix("FROM:<a>", "FROM:"), "<a>");
    EXPECT_EQ(after_prefix("from:  <a>", "FROM:"), "<a>");
    EXPECT_EQ(after_prefix("TO:<a>", "FROM:"), std::nullopt);
    EXPECT_EQ(after_prefix("FROM", "FROM:"), std::nullopt);
}

TEST(ParseDecimal, Table) {
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    const std::vector<std::pair<std::string, std::optional<std::uint64_t>>> cases{
        {"0", 0},         {"42", 42},        {"007", 7},          {"18446744073709551615", max},
        {"18446744073709551616", max},       {"99999999999999999999999999999", max},
        {"", std::nullopt}, {"-1", std::nullopt}, {"+1", std::nullopt}, {"1k", std::nullopt}, {" 1", std::nullopt},
    };
    for (const auto& [text, want] : cases) EXPECT_EQ(parse_decimal(text), want) << text;
}

TEST(LineReader, CompleteLinesWithCrlfOrLf) {
    LineReader reader;
    const std::string input = "NOOP\r\nQUIT\nRSET";
    LineResult r = reader.next(input, 100);
    EXPECT_EQ(r.status, LineStatus::complete);
    EXPECT_EQ(r.line, "NOOP");
    EXPECT_EQ(r.consumed, 6u);
    r = reader.next(std::string_view(input).substr(6), 100);
    EXPECT_EQ(r.line, "QUIT");
    EXPECT_EQ(r.consumed, 5u);
    r = reader.next(std::string_view(input).substr(11), 100);
    EXPECT_EQ(r.status, LineStatus::need_more);
    EXPECT_EQ(r.consumed, 0u);
}

TEST(LineReader, KeepsABareCrInsideTheLine) {
    LineReader reader;
    EXPECT_EQ(reader.next("NO\rOP\r\n", 100).line, "NO\rOP");
}

TEST(LineReader, LimitCountsTheLineEnding) {
    LineReader reader;
    EXPECT_EQ(reader.next("12345678\r\n", 10).status, LineStatus::complete);
    EXPECT_EQ(reader.next("123456789\r\n", 10).status, LineStatus::too_long);
}

TEST(LineReader, TooLongLineIsSkippedUpToItsLf) {
    LineReader reader;
    LineResult r = reader.next("xxxxxxxxxxxx", 10);
    EXPECT_EQ(r.status, LineStatus::too_long);
    EXPECT_EQ(r.consumed, 10u);
    r = reader.next("xx", 10);  // the rest of the long line: dropped, not kept
    EXPECT_EQ(r.status, LineStatus::need_more);
    EXPECT_EQ(r.consumed, 2u);
    r = reader.next("xx\r\nNOOP\r\n", 10);
    EXPECT_EQ(r.status, LineStatus::complete);
    EXPECT_EQ(r.line, "NOOP");
    EXPECT_EQ(r.consumed, 10u);
}

TEST(LineReader, PartialLineShorterThanLimitWaits) {
    LineReader reader;
    const LineResult r = reader.next("123456789", 10);
    EXPECT_EQ(r.status, LineStatus::need_more);
    EXPECT_EQ(r.consumed, 0u);
    EXPECT_EQ(reader.next("1234567890", 10).status, LineStatus::too_long);
}

}  // namespace
}  // namespace cartero::smtp

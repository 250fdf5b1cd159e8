#include "dkim/canonicalization.hpp"

#include <gtest/gtest.h>

#include "dkim/message.hpp"

namespace cartero::dkim {
namespace {

struct HeaderCase {
    std::string_view name;
    std::string_view value;
    std::string_view want;
};

TEST(RelaxedHeader, Table) {
    const HeaderCase cases[] = {
        {"A", " X ", "a:X\r\n"},                         // RFC 6376 3.4.5
        {"B ", " Y\t\r\n\tZ  ", "b:Y Z\r\n"},            // RFC 6376 3.4.5: WSP before the colon, folding
        {"Subject", "", "subject:\r\n"},                 // empty value
        {"Subject", " \t ", "subject:\r\n"},             // only WSP
        {"SUBJECT", "a  \t b", "subject:a b\r\n"},       // runs of WSP inside
        {"To", " a@x,\r\n   b@y", "to:a@x, b@y\r\n"},    // a fold with several WSP
        {"Subject", " caf\xc3\xa9", "subject:caf\xc3\xa9\r\n"},  // 8-bit octets unchanged
        {"X-Tab", "\tv", "x-tab:v\r\n"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(relaxed_header(c.name, c.value), c.want) << "name \"" << c.name << "\" value \"" << c.value << "\"";
    }
}

struct BodyCase {
    std::string_view body;
    std::string_view want;
};

TEST(RelaxedBody, Table) {
    const BodyCase cases[] = {
        {" C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n"},  // RFC 6376 3.4.5
        {"", ""},                                         // empty body stays empty (3.4.4)
        {"\r\n", ""},                                     // only empty lines: empty
        {"\r\n\r\n\r\n", ""},
        {" \t \r\n\t\r\n", ""},                           // lines of WSP are empty lines at the end
        {"abc", "abc\r\n"},                               // CRLF added to a last line without one
        {"a  \r\n\r\nb\r\n\r\n", "a\r\n\r\nb\r\n"},       // inner empty lines kept, trailing removed
        {"\r\n\r\nx\r\n", "\r\n\r\nx\r\n"},               // leading empty lines kept
        {"x \t\r\n", "x\r\n"},
        {"\tindented\r\n", " indented\r\n"},               // leading WSP kept as one SP
        {"8-bit \xe2\x82\xac  ok\r\n", "8-bit \xe2\x82\xac ok\r\n"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(relaxed_body(c.body), c.want) << "body \"" << c.body << "\"";
    }
}

// The streaming form hands over pieces; together they must equal the whole,
// also past the internal batch size and with empty lines across batches.
TEST(RelaxedBody, PiecesOfALargeBodyAddUp) {
    std::string body;
    std::string want;
    for (int i = 0; i < 20000; ++i) {
        body += "line  " + std::to_string(i) + " \t\r\n\r\n";
        want += "line " + std::to_string(i) + "\r\n\r\n";
    }
    body += "\r\n\r\n";
    want.resize(want.size() - 2);  // the last empty line is at the end of the body
    std::string joined;
    std::size_t pieces = 0;
    relaxed_body(body, [&](std::string_view piece) {
        joined += piece;
        ++pieces;
    });
    EXPECT_EQ(joined, want);
    EXPECT_GT(pieces, 1u);
}

// RFC 6376 3.4.5, end to end through the message parser.
TEST(Relaxed, Rfc6376Example) {
    const std::string message = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";
    const auto parsed = parse_message(message);
    ASSERT_TRUE(std::holds_alternative<ParsedMessage>(parsed));
    const auto& parts = std::get<ParsedMessage>(parsed);
    ASSERT_EQ(parts.fields.size(), 2u);
    std::string headers;
    for (const auto& field : parts.fields) headers += relaxed_header(field.name, field.value);
    EXPECT_EQ(headers, "a:X\r\nb:Y Z\r\n");
    EXPECT_EQ(relaxed_body(parts.body), " C\r\nD E\r\n");
}

}  // namespace
}  // namespace cartero::dkim

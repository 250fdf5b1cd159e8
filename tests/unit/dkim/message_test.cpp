#include "dkim/message.hpp"

#include <gtest/gtest.h>

namespace cartero::dkim {
namespace {

// A copy: the fields point into the message, which the tests keep alive, not into the result.
ParsedMessage parsed_ok(const ParseResult& result) {
    if (const auto* bad = std::get_if<MalformedMessage>(&result)) ADD_FAILURE() << "got malformed: " << bad->reason;
    const auto* parts = std::get_if<ParsedMessage>(&result);
    return parts != nullptr ? *parts : ParsedMessage{};
}

std::string malformed_reason(const ParseResult& result) {
    const auto* bad = std::get_if<MalformedMessage>(&result);
    return bad != nullptr ? bad->reason : "(parsed)";
}

TEST(ParseMessage, FieldsAndBody) {
    const auto result = parse_message("Received: from x\r\n\tby y; date\r\nFrom: a@b\r\nSubject:hi\r\n\r\nbody\r\n");
    const auto parts = parsed_ok(result);
    ASSERT_EQ(parts.fields.size(), 3u);
    EXPECT_EQ(parts.fields[0].name, "Received");
    EXPECT_EQ(parts.fields[0].value, " from x\r\n\tby y; date");
    EXPECT_EQ(parts.fields[1].name, "From");
    EXPECT_EQ(parts.fields[1].value, " a@b");
    EXPECT_EQ(parts.fields[2].value, "hi");
    EXPECT_EQ(parts.body, "body\r\n");
}

TEST(ParseMessage, HeaderOnlyMessageHasAnEmptyBody) {
    const auto with_crlf = parsed_ok(parse_message("From: a@b\r\n"));
    EXPECT_EQ(with_crlf.fields.size(), 1u);
    EXPECT_EQ(with_crlf.body, "");
    const auto without = parsed_ok(parse_message("From: a@b"));
    ASSERT_EQ(without.fields.size(), 1u);
    EXPECT_EQ(without.fields[0].value, " a@b");
    EXPECT_EQ(parsed_ok(parse_message("From: a@b\r\n\r\n")).body, "");
}

TEST(ParseMessage, ObsoleteWhitespaceBeforeColon) {
    const auto parts = parsed_ok(parse_message("Subject  : x\r\n\r\n"));
    ASSERT_EQ(parts.fields.size(), 1u);
    EXPECT_EQ(parts.fields[0].name, "Subject");
    EXPECT_EQ(parts.fields[0].value, " x");
}

TEST(ParseMessage, EmptyMessageHasNoFields) {
    EXPECT_TRUE(parsed_ok(parse_message("")).fields.empty());
    const auto blank_first = parsed_ok(parse_message("\r\nFrom: a@b\r\n"));
    EXPECT_TRUE(blank_first.fields.empty());
    EXPECT_EQ(blank_first.body, "From: a@b\r\n");
}

TEST(ParseMessage, VeryLongHeaderLineIsParsed) {
    const std::string value(200000, 'x');
    const std::string message = "From: a@b\r\nX-Long: " + value + "\r\n\r\nb\r\n";
    const auto parts = parsed_ok(parse_message(message));
    ASSERT_EQ(parts.fields.size(), 2u);
    EXPECT_EQ(parts.fields[1].value.size(), value.size() + 1);
}

struct MalformedCase {
    std::string_view message;
    std::string_view reason_contains;
};

TEST(ParseMessage, MalformedTable) {
    const MalformedCase cases[] = {
        {"From: a@b\nSubject: x\r\n\r\n", "bare CR or LF on line 1"},
        {"From: a@b\r\n\r\nbody\nmore\r\n", "bare CR or LF on line 3"},
        {"From: a@b\r\nSubject: x\r\r\n\r\n", "bare CR or LF on line 2"},
        {"From: a@b\r\n\r\nends with CR\r", "bare CR or LF on line 3"},
        {"From: a@b\r\nnot a field\r\n\r\n", "line 2 is neither a header field"},
        {"From: a@b\r\n: no name\r\n\r\n", "line 2 is neither"},
        {"\tcontinued\r\nFrom: a@b\r\n\r\n", "line 1 continues a header field but none precedes it"},
        {"From a@b Mon Jan 1\r\nFrom: a@b\r\n\r\n", "line 1 is neither"},  // mbox separator
        {"Subj\xc3\xa9: x\r\n\r\n", "line 1 is neither"},                 // 8-bit field name
        {"Sub ject: x\r\n\r\n", "line 1 is neither"},
    };
    for (const auto c : cases) {
        const std::string reason = malformed_reason(parse_message(c.message));
        EXPECT_NE(reason.find(c.reason_contains), std::string::npos)
            << "message \"" << c.message << "\": got \"" << reason << "\", want it to contain \"" << c.reason_contains
            << "\"";
    }
}

TEST(SameFieldName, IgnoresAsciiCase) {
    EXPECT_TRUE(same_field_name("From", "from"));
    EXPECT_TRUE(same_field_name("MESSAGE-ID", "message-id"));
    EXPECT_FALSE(same_field_name("From", "fro"));
    EXPECT_FALSE(same_field_name("From", "frog"));
}

}  // namespace
}  // namespace cartero::dkim

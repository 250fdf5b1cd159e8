// The client's parts: reply parsing (RFC 5321 4.2, RFC 3463 codes), EHLO
// extensions, xtext (RFC 3461 4) and base64 for SASL (RFC 4648).
#include <gtest/gtest.h>

#include "smtp/client_envelope.hpp"
#include "smtp/dsn_params.hpp"
#include "smtp/extensions.hpp"
#include "smtp/reply_parser.hpp"
#include "smtp/sasl_client.hpp"

namespace cartero::smtp {
namespace {

TEST(ReplyParser, ParsesRepliesAndEnhancedCodes) {
    struct Case {
        std::string input;
        int code;
        std::string enhanced;
        std::string text;
    };
    const std::vector<Case> cases{
        {"250 ok\r\n", 250, "", "ok"},
        {"250\r\n", 250, "", ""},
        {"250 2.1.0 Sender ok\r\n", 250, "2.1.0", "Sender ok"},
        {"550 5.1.1\r\n", 550, "5.1.1", ""},
        {"550 5.1.10 text\r\n", 550, "5.1.10", "text"},
        {"550 4.1.1 class differs\r\n", 550, "", "4.1.1 class differs"},
        {"550 5.1234.1 too long\r\n", 550, "", "5.1234.1 too long"},
        {"550 5.1.1x no space\r\n", 550, "", "5.1.1x no space"},
        {"250-mx\r\n250-PIPELINING\r\n250 SIZE 10\r\n", 250, "", "mx\nPIPELINING\nSIZE 10"},
        {"535-5.7.8 Username and\r\n535 5.7.8 https://x\r\n", 535, "5.7.8", "Username and\nhttps://x"},
        {"250 ok\n", 250, "", "ok"},  // bare LF tolerated as a reply line end
        {"250 a\x01" "b\x1b\r\n", 250, "", "a?b?"},  // control characters never reach logs
    };
    for (const auto& c : cases) {
        ReplyParser parser(2048, 100);
        const ReplyResult r = parser.next(c.input);
        ASSERT_EQ(r.status, ReplyStatus::complete) << ::testing::PrintToString(c.input) << ": " << r.error;
        EXPECT_EQ(r.reply.code, c.code) << c.input;
        EXPECT_EQ(r.reply.enhanced, c.enhanced) << ::testing::PrintToString(c.input) << " got " << r.reply.enhanced;
        EXPECT_EQ(r.reply.text, c.text) << ::testing::PrintToString(c.input) << " got "
                                        << ::testing::PrintToString(r.reply.text);
        EXPECT_EQ(r.consumed, c.input.size()) << c.input;
    }
}

TEST(ReplyParser, LeavesAnUnfinishedLineAndTheNextReply) {
    ReplyParser parser(2048, 100);
    const std::string input = "250-a\r\n250 b\r\n354 go\r\n25";
    ReplyResult r = parser.next(input);
    ASSERT_EQ(r.status, ReplyStatus::complete);
    EXPECT_EQ(r.consumed, 14u);
    r = parser.next(std::string_view(input).substr(14));
    ASSERT_EQ(r.status, ReplyStatus::complete);
    EXPECT_EQ(r.reply.code, 354);
    r = parser.next("25");
    EXPECT_EQ(r.status, ReplyStatus::need_more);
    EXPECT_EQ(r.consumed, 0u);
}

TEST(ReplyParser, BoundsLinesAndLineCount) {
    ReplyParser short_lines(16, 100);
    EXPECT_EQ(short_lines.next("250 " + std::string(12, 'x') + "\r\n").status, ReplyStatus::malformed);
    ReplyParser exact(16, 100);
    EXPECT_EQ(exact.next("250 " + std::string(10, 'x') + "\r\n").status, ReplyStatus::complete);
    ReplyParser few_lines(16, 2);
    EXPECT_EQ(few_lines.next("250-a\r\n250-b\r\n250 c\r\n").status, ReplyStatus::malformed);
}

TEST(Extensions, ParsesRealEhloReplies) {
    // Gmail's reply (reference/client-config.md) and an old server's AUTH= form.
    const Reply gmail{250, "", "smtp.gmail.com at your service, [192.0.2.1]\nSIZE 35882577\n8BITMIME\nSTARTTLS\n"
                               "ENHANCEDSTATUSCODES\nPIPELINING\nCHUNKING\nSMTPUTF8"};
    Extensions e = parse_extensions(gmail);
    EXPECT_TRUE(e.pipelining && e.eight_bit_mime && e.starttls && e.enhanced_status_codes && e.chunking && e.smtputf8);
    EXPECT_FALSE(e.dsn);
    EXPECT_EQ(e.size_limit, 35882577u);
    const Reply after_tls{250, "", "smtp.gmail.com\nAUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\nDSN"};
    e = parse_extensions(after_tls);
    EXPECT_EQ(e.auth, (std::vector<std::string>{"LOGIN", "PLAIN", "XOAUTH2", "PLAIN-CLIENTTOKEN", "OAUTHBEARER", "XOAUTH"}));
    EXPECT_TRUE(e.dsn && e.offers_auth("PLAIN"));
    e = parse_extensions(Reply{250, "", "old\nAUTH=login plain\nsize\nsize abc"});
    EXPECT_EQ(e.auth, (std::vector<std::string>{"LOGIN", "PLAIN"}));
    EXPECT_TRUE(e.size_advertised);
    EXPECT_EQ(e.size_limit, 0u);
    e = parse_extensions(Reply{250, "", "one line only, STARTTLS"});
    EXPECT_FALSE(e.starttls);
}

TEST(ClientEnvelope, XtextAndBase64) {
    const std::vector<std::pair<std::string, std::string>> xtext_cases{
        {"plain", "plain"}, {"a+b=c", "a+2Bb+3Dc"}, {"sp ace", "sp+20ace"}, {"\xc3\xa9", "+C3+A9"}, {"", ""}};
    for (const auto& [in, want] : xtext_cases) EXPECT_EQ(xtext_encode(in), want) << in;
    const std::vector<std::pair<std::string, std::string>> base64_cases{
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"\xff\xfe", "//4="}};
    for (const auto& [in, want] : base64_cases) EXPECT_EQ(encode_base64(in), want) << in;
    EXPECT_EQ(plain_response("u", "p"), "AHUAcA==");
}

}  // namespace
}  // namespace cartero::smtp

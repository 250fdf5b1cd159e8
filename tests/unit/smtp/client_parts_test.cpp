// The client's parts: reply parsing (RFC 5321 4.2, RFC 3463 codes), EHLO
// extensions, xtext (RFC 3461 4) and base64 for SASL (RFC 4648).
#include <gtest/gtest.h>

#include "smtp/base64.hpp"
#include "smtp/client_envelope.hpp"
#include "smtp/dsn_params.hpp"
#include "smtp/extensions.hpp"
#include "smtp/replies.hpp"
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
    for (const auto& [in, want] : base64_cases) EXPECT_EQ(decode_base64(want), in) << want;
    EXPECT_EQ(decode_base64("Zm9v!"), std::nullopt);
    EXPECT_EQ(decode_base64("Zg="), std::nullopt);
}

TEST(Replies, QueueIdOfTheFinalReply) {
    struct Case {
        Reply reply;
        std::string want;
    };
    const std::vector<Case> cases{
        {replies::queued("4Z8kQm2x"), "4Z8kQm2x"},
        {{250, "2.0.0", "Ok: queued as 4Y3Gr25YQzz9rwN"}, "4Y3Gr25YQzz9rwN"},                    // Postfix
        {{250, "", "OK id=1tJ5xY-0004Qm-2b"}, "1tJ5xY-0004Qm-2b"},                                // Exim
        {{250, "2.0.0", "OK  1733390000 a640c23a62f3a-aa5f3c1fb4esi1234.123 - gsmtp"},
         "a640c23a62f3a-aa5f3c1fb4esi1234.123"},                                                   // Gmail
        {{250, "2.0.0", "Ok: queued as ABC.\nsecond line"}, "ABC"},
        {{250, "2.0.0", "OK"}, ""},
        {{550, "5.7.1", "rejected, not queued as anything"}, ""},
    };
    for (const auto& c : cases) EXPECT_EQ(replies::queue_id_in(c.reply), c.want) << "got for " << c.reply.text;
}

// The exact octets of the OAuth2 initial responses (reference/client-config.md
// 6.1, RFC 7628 3.1), decoded so a failure shows the ^A separators.
TEST(SaslClient, OAuth2WireFormats) {
    struct Case {
        std::string name, got, want;
    };
    const std::vector<Case> cases{
        {"XOAUTH2", xoauth2_response("alice@example.org", "ya29.token"),
         "user=alice@example.org\x01" "auth=Bearer ya29.token\x01\x01"},
        {"OAUTHBEARER with host and port", oauthbearer_response("alice@example.org", "smtp.example.net", 587, "ya29.token"),
         "n,a=alice@example.org,\x01host=smtp.example.net\x01port=587\x01" "auth=Bearer ya29.token\x01\x01"},
        {"OAUTHBEARER saslname escapes", oauthbearer_response("a=b,c", "", 0, "t"),
         "n,a=a=3Db=2Cc,\x01" "auth=Bearer t\x01\x01"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(decode_base64(c.got), c.want) << c.name << ": got " << ::testing::PrintToString(decode_base64(c.got));
    }
    EXPECT_EQ(xoauth2_response("alice@example.org", "ya29.token"),
              "dXNlcj1hbGljZUBleGFtcGxlLm9yZwFhdXRoPUJlYXJlciB5YTI5LnRva2VuAQE=");
    EXPECT_EQ(oauthbearer_error_ack, "AQ==");
    EXPECT_EQ(decode_base64(oauthbearer_error_ack), "\x01");
}

}  // namespace
}  // namespace cartero::smtp

// DSN parameters (RFC 3461 4): xtext, RET, NOTIFY, ENVID, ORCPT grammars, and a session
// carrying them into the Envelope handed to the spool (and forgetting them on RSET).
#include <gtest/gtest.h>

#include "dialogue.hpp"
#include "smtp/dsn_params.hpp"

namespace cartero::smtp {
namespace {

using testing::Dialogue;
using testing::test_settings;

TEST(Xtext, DecodeTable) {
    struct Case {
        std::string in;
        std::optional<std::string> want;
    };
    const std::vector<Case> cases{
        {"", std::string()},
        {"abc", std::string("abc")},
        {"a+2Bb", std::string("a+b")},
        {"a+3Db", std::string("a=b")},
        {"+20", std::string(" ")},
        {"+0d+0A", std::string("\r\n")},  // decodes; the callers refuse what is not printable
        {"a+2bc", std::string("a+c")},    // lower-case hex accepted
        {"a+", std::nullopt},
        {"a+2", std::nullopt},
        {"a+GG", std::nullopt},
        {"a=b", std::nullopt},
        {"a b", std::nullopt},
        {"\xc3\xa9", std::nullopt},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(xtext_decode(c.in), c.want) << "input " << ::testing::PrintToString(c.in);
    }
}

TEST(Xtext, EncodeRoundTrips) {
    const std::vector<std::string> inputs{"", "user@example.org", "a+b=c", "with space", std::string("\0\x7f\xff", 3)};
    for (const auto& in : inputs) {
        const std::string encoded = xtext_encode(in);
        EXPECT_EQ(encoded.find_first_of(" =\x7f"), std::string::npos) << encoded;
        EXPECT_EQ(xtext_decode(encoded), in) << "encoded as " << encoded;
    }
    EXPECT_EQ(xtext_encode("a+b=c d"), "a+2Bb+3Dc+20d");
}

TEST(DsnParams, RetTable) {
    EXPECT_EQ(parse_ret("FULL"), DsnReturn::full);
    EXPECT_EQ(parse_ret("hdrs"), DsnReturn::headers);
    EXPECT_EQ(parse_ret("HEADERS"), std::nullopt);
    EXPECT_EQ(parse_ret(""), std::nullopt);
}

TEST(DsnParams, NotifyTable) {
    struct Case {
        std::string in;
        std::optional<std::uint8_t> want;
    };
    const std::vector<Case> cases{
        {"NEVER", notify_never},
        {"never", notify_never},
        {"SUCCESS", notify_success},
        {"FAILURE", notify_failure},
        {"DELAY", notify_delay},
        {"SUCCESS,FAILURE,DELAY", notify_success | notify_failure | notify_delay},
        {"delay,Failure", notify_failure | notify_delay},
        {"FAILURE,FAILURE", notify_failure},
        {"", std::nullopt},
        {"NEVER,FAILURE", std::nullopt},
        {"FAILURE,NEVER", std::nullopt},
        {"FAILURE,", std::nullopt},
        {",FAILURE", std::nullopt},
        {"FAILURE;DELAY", std::nullopt},
        {"ALWAYS", std::nullopt},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(parse_notify(c.in), c.want) << "NOTIFY=" << c.in;
    }
}

TEST(DsnParams, EnvidTable) {
    EXPECT_EQ(parse_envid("QQ314159"), std::optional<std::string>("QQ314159"));
    EXPECT_EQ(parse_envid("id+2B1+20x"), std::optional<std::string>("id+1 x"));
    EXPECT_EQ(parse_envid(std::string(100, 'x')), std::optional<std::string>(std::string(100, 'x')));
    EXPECT_EQ(parse_envid(std::string(101, 'x')), std::nullopt);  // RFC 3461 4.4: 100 characters
    EXPECT_EQ(parse_envid("a+0Ab"), std::nullopt);                // LF: would break a DSN header
    EXPECT_EQ(parse_envid("a+09b"), std::nullopt);                // HT
    EXPECT_EQ(parse_envid("a+C3+A9"), std::nullopt);              // not US-ASCII
    EXPECT_EQ(parse_envid("a+"), std::nullopt);
    EXPECT_EQ(parse_envid(""), std::nullopt);
}

TEST(DsnParams, OrcptTable) {
    struct Case {
        std::string in;
        bool ok;
        std::string type;
        std::string address;
    };
    const std::vector<Case> cases{
        {"rfc822;alice@example.org", true, "rfc822", "alice@example.org"},
        {"RFC822;alice+40example.org", true, "RFC822", "alice@example.org"},
        {"rfc822;\"a+20b\"@example.org", true, "rfc822", "\"a b\"@example.org"},
        {"x-local;a;b", true, "x-local", "a;b"},
        {"rfc822;" + std::string(493, 'a'), true, "rfc822", std::string(493, 'a')},  // 500 in all
        {"rfc822;" + std::string(494, 'a'), false, "", ""},
        {"alice@example.org", false, "", ""},
        {";alice@example.org", false, "", ""},
        {"rfc822;", false, "", ""},
        {"rfc(822);a@b", false, "", ""},
        {"rfc822;a+0D+0Ab@example.org", false, "", ""},
        {"rfc822;a+", false, "", ""},
    };
    for (const auto& c : cases) {
        const auto got = parse_orcpt(c.in);
        ASSERT_EQ(got.has_value(), c.ok) << "ORCPT=" << c.in;
        if (!got) continue;
        EXPECT_EQ(got->type, c.type) << c.in;
        EXPECT_EQ(got->address, c.address) << c.in;
    }
}

TEST(DsnParams, EhloAdvertisesDsn) {
    Dialogue d(test_settings(Role::mx, false));
    EXPECT_NE(d.send("EHLO c\r\n").find("\r\n250 DSN\r\n"), std::string::npos);
}

TEST(DsnParams, SessionKeepsThemInTheEnvelope) {
    Dialogue d(test_settings());
    d.send("EHLO c\r\n");
    EXPECT_EQ(d.send("MAIL FROM:<x@remote.example> RET=HDRS ENVID=QQ+2B7\r\n"
                     "RCPT TO:<alice@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Alice+40example.org\r\n"
                     "RCPT TO:<bob@example.org>\r\n"
                     "RCPT TO:<nobody@example.org> NOTIFY=NEVER\r\n"  // refused: leaves no DSN entry behind
                     "RCPT TO:<postmaster> NOTIFY=NEVER\r\n"
                     "DATA\r\nhi\r\n.\r\n"),
              testing::crlf_lines({"250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
                                   "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in "
                                   "local recipient table",
                                   "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
                                   "250 2.0.0 Ok: queued as QID1"}));
    ASSERT_EQ(d.envelopes.size(), 1u);
    const Envelope& e = d.envelopes[0];
    EXPECT_EQ(e.ret, DsnReturn::headers);
    EXPECT_EQ(e.envid, "QQ+7");
    ASSERT_EQ(e.recipients.size(), 3u);
    ASSERT_EQ(e.recipient_dsn.size(), 3u);
    EXPECT_EQ(e.recipient_dsn[0], (RecipientDsn{notify_success | notify_failure, "rfc822", "Alice@example.org"}));
    EXPECT_EQ(e.recipient_dsn[1], RecipientDsn{});
    EXPECT_EQ(e.recipient_dsn[2], (RecipientDsn{notify_never, "", ""}));

    // The next transaction starts clean.
    d.send("MAIL FROM:<y@remote.example>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nhi\r\n.\r\n");
    ASSERT_EQ(d.envelopes.size(), 2u);
    EXPECT_EQ(d.envelopes[1].ret, DsnReturn::unset);
    EXPECT_EQ(d.envelopes[1].envid, "");
    EXPECT_EQ(d.envelopes[1].recipient_dsn, std::vector<RecipientDsn>{RecipientDsn{}});
}

TEST(DsnParams, RefusedMailKeepsNoDsnState) {
    Dialogue d(test_settings());
    d.send("EHLO c\r\n");
    EXPECT_EQ(d.send("MAIL FROM:<x@remote.example> RET=FULL ENVID=a+0Ab\r\n"),
              "501 5.5.4 Bad ENVID parameter: xtext of printable ASCII, at most 100 characters\r\n");
    d.send("MAIL FROM:<x@remote.example>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nhi\r\n.\r\n");
    ASSERT_EQ(d.envelopes.size(), 1u);
    EXPECT_EQ(d.envelopes[0].ret, DsnReturn::unset);
}

}  // namespace
}  // namespace cartero::smtp

namespace cartero::smtp {
namespace {

// What parse_notify reads, format_notify writes back (in RFC order).
TEST(DsnParams, FormatNotifyRoundTrips) {
    for (const char* value : {"NEVER", "SUCCESS", "FAILURE", "DELAY", "SUCCESS,FAILURE", "FAILURE,DELAY",
                              "SUCCESS,FAILURE,DELAY"}) {
        const auto bits = parse_notify(value);
        ASSERT_TRUE(bits) << value;
        EXPECT_EQ(format_notify(*bits), value) << value;
    }
    EXPECT_EQ(format_notify(0), "") << "no NOTIFY given: none passed on";
}

}  // namespace
}  // namespace cartero::smtp

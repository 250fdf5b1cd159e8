// ServerSession STARTTLS and AUTH dialogues: the TLS switch (CVE-2011-0411 injection),
// the reset after it, and every SASL path and AUTH result.
#include <gtest/gtest.h>

#include "dialogue.hpp"

namespace cartero::smtp {
namespace {

using testing::Dialogue;
using testing::ehlo_reply;
using testing::test_settings;
using testing::test_tls;

// CVE-2011-0411: commands pipelined after STARTTLS arrive in plaintext; they must
// never be executed after the switch to TLS.
TEST(StartTls, PipelinedPlaintextAfterStartTlsIsDropped) {
    Dialogue d(test_settings());
    d.send("EHLO c\r\n");
    EXPECT_EQ(d.send("STARTTLS\r\nRSET\r\nMAIL FROM:<evil@x.example>\r\n"), "220 2.0.0 Ready to start TLS\r\n");
    EXPECT_EQ(d.events, (std::vector<std::string>{"starttls"}));
    EXPECT_TRUE(d.session().tls_active());
    EXPECT_EQ(d.session().state(), State::initial);
    // Nothing was answered for RSET/MAIL; the session starts over and needs EHLO again.
    EXPECT_EQ(d.send("MAIL FROM:<a@x.example>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
    EXPECT_EQ(d.send("EHLO c\r\n"), ehlo_reply());  // STARTTLS no longer offered
}

TEST(StartTls, Refusals) {
    struct Case {
        const char* name;
        Role role;
        bool tls_available;
        bool already_tls;
        std::string commands;
        std::string want;
    };
    const std::vector<Case> cases{
        {"argument", Role::mx, true, false, "STARTTLS now\r\n", "501 5.5.4 Syntax: STARTTLS\r\n"},
        {"no certificate", Role::mx, false, false, "STARTTLS\r\n", "454 4.7.0 TLS not available\r\n"},
        {"submissions", Role::submissions, true, true, "STARTTLS\r\n", "503 5.5.1 Error: TLS already active\r\n"},
        {"in a transaction", Role::mx, true, false, "MAIL FROM:<a@x.example>\r\nSTARTTLS\r\n",
         "250 2.1.0 Ok\r\n503 5.5.1 Error: MAIL transaction in progress\r\n"},
    };
    for (const auto& c : cases) {
        Dialogue d(test_settings(c.role, c.tls_available), c.already_tls ? std::optional<TlsInfo>(test_tls()) : std::nullopt);
        d.send("EHLO c\r\n");
        EXPECT_EQ(d.send(c.commands), c.want) << c.name;
    }
}

TEST(StartTls, TwiceIsRefused) {
    Dialogue d(test_settings());
    d.send("EHLO c\r\nSTARTTLS\r\n");
    EXPECT_EQ(d.send("EHLO c\r\nSTARTTLS\r\n"), ehlo_reply() + "503 5.5.1 Error: TLS already active\r\n");
}

TEST(StartTls, FailedHandshakeCloses) {
    Dialogue d(test_settings());
    d.tls_handshake_succeeds = false;
    d.send("EHLO c\r\n");
    EXPECT_EQ(d.send("STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
    EXPECT_EQ(d.events, (std::vector<std::string>{"starttls", "close"}));
    EXPECT_TRUE(d.closed);
}

TEST(StartTls, ForgetsAuthentication) {
    // The reset after TLS (RFC 3207 4.2) also applies on submission: AUTH happens inside TLS.
    Dialogue d(test_settings(Role::submission));
    d.send("EHLO c\r\nSTARTTLS\r\n");
    EXPECT_EQ(d.send("EHLO c\r\n"), ehlo_reply({"AUTH PLAIN LOGIN"}));
}

Dialogue submissions() { return Dialogue(test_settings(Role::submissions), test_tls()); }

TEST(Auth, Flows) {
    struct Case {
        const char* name;
        std::vector<std::string> client;  // sent one at a time
        std::string want_server;          // everything written
        std::string want_event;
    };
    const std::vector<Case> cases{
        {"PLAIN with initial response", {"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"},
         "235 2.7.0 Authentication successful\r\n", "auth PLAIN [AGFsaWNlAHNlY3JldA==]"},
        {"PLAIN, mechanism in lower case", {"auth plain AGFsaWNlAHNlY3JldA==\r\n"},
         "235 2.7.0 Authentication successful\r\n", "auth PLAIN [AGFsaWNlAHNlY3JldA==]"},
        {"PLAIN without initial response", {"AUTH PLAIN\r\n", "AGFsaWNlAHNlY3JldA==\r\n"},
         "334 \r\n235 2.7.0 Authentication successful\r\n", "auth PLAIN [AGFsaWNlAHNlY3JldA==]"},
        {"PLAIN with an empty initial response", {"AUTH PLAIN =\r\n"}, "235 2.7.0 Authentication successful\r\n",
         "auth PLAIN []"},
        {"LOGIN", {"AUTH LOGIN\r\n", "YWxpY2U=\r\n", "c2VjcmV0\r\n"},
         "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 Authentication successful\r\n",
         "auth LOGIN [YWxpY2U=] [c2VjcmV0]"},
        {"LOGIN with the user name as initial response", {"AUTH LOGIN YWxpY2U=\r\n", "c2VjcmV0\r\n"},
         "334 UGFzc3dvcmQ6\r\n235 2.7.0 Authentication successful\r\n", "auth LOGIN [YWxpY2U=] [c2VjcmV0]"},
        {"LOGIN pipelined in one packet", {"AUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n"},
         "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 Authentication successful\r\n",
         "auth LOGIN [YWxpY2U=] [c2VjcmV0]"},
    };
    for (const auto& c : cases) {
        Dialogue d = submissions();
        d.send("EHLO c\r\n");
        std::string got;
        for (const auto& line : c.client) got += d.send(line);
        EXPECT_EQ(got, c.want_server) << c.name;
        EXPECT_EQ(d.events, (std::vector<std::string>{c.want_event})) << c.name;
        EXPECT_EQ(d.session().auth_user(), "alice@example.org") << c.name;
    }
}

TEST(Auth, CancelWithStar) {
    Dialogue d = submissions();
    d.send("EHLO c\r\n");
    EXPECT_EQ(d.send("AUTH LOGIN\r\n*\r\nNOOP\r\n"),
              "334 VXNlcm5hbWU6\r\n501 5.7.0 Authentication aborted\r\n250 2.0.0 Ok\r\n");
    EXPECT_TRUE(d.events.empty());
    EXPECT_EQ(d.session().auth_user(), "");
}

TEST(Auth, ResultsMapToReplies) {
    struct Case {
        AuthStatus status;
        std::string want;
        bool closes;
    };
    const std::vector<Case> cases{
        {AuthStatus::bad_credentials, "535 5.7.8 Error: authentication failed\r\n", false},
        {AuthStatus::app_password_required, "534 5.7.9 Application-specific password required\r\n", false},
        {AuthStatus::malformed, "501 5.5.2 Error: invalid authentication data\r\n", false},
        {AuthStatus::temporary, "454 4.7.0 Temporary authentication failure\r\n", false},
        {AuthStatus::throttled, "421 4.7.0 mx.example.org Error: too many authentication failures\r\n", true},
    };
    for (const auto& c : cases) {
        Dialogue d = submissions();
        d.send("EHLO c\r\n");
        d.auth_results.push_back(AuthResult{c.status, ""});
        EXPECT_EQ(d.send("AUTH PLAIN AGJhZAB4\r\n"), c.want) << c.want;
        EXPECT_EQ(d.closed, c.closes) << c.want;
        EXPECT_EQ(d.session().auth_user(), "") << c.want;
    }
}

// RFC 4954 4: a response that is not base64 ends the exchange at once with 501 5.5.2;
// it still goes to the driver (auth/ counts it as a failed attempt). Before, LOGIN
// went on to ask for the password after a user name that was not base64.
TEST(Auth, ResponseThatIsNotBase64EndsTheExchange) {
    struct Case {
        const char* name;
        std::vector<std::string> client;  // sent one at a time
        std::string want_server;
        std::string want_event;
    };
    const std::string malformed = "501 5.5.2 Error: invalid authentication data\r\n";
    const std::vector<Case> cases{
        {"LOGIN user name", {"AUTH LOGIN\r\n", "%%%%\r\n"}, "334 VXNlcm5hbWU6\r\n" + malformed, "auth LOGIN [%%%%]"},
        {"LOGIN user name as initial response", {"AUTH LOGIN YWxpY2U\r\n"}, malformed, "auth LOGIN [YWxpY2U]"},
        {"LOGIN password", {"AUTH LOGIN\r\n", "YWxpY2U=\r\n", "c2VjcmV0=\r\n"},
         "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n" + malformed, "auth LOGIN [YWxpY2U=] [c2VjcmV0=]"},
        {"LOGIN pipelined password after a bad user name", {"AUTH LOGIN\r\nYW=x\r\nc2VjcmV0\r\n"},
         "334 VXNlcm5hbWU6\r\n" + malformed + "502 5.5.2 Error: command not recognized\r\n", "auth LOGIN [YW=x]"},
        {"PLAIN", {"AUTH PLAIN\r\n", "AGFsaWNl AHNlY3JldA==\r\n"}, "334 \r\n" + malformed,
         "auth PLAIN [AGFsaWNl AHNlY3JldA==]"},
    };
    for (const auto& c : cases) {
        Dialogue d = submissions();
        d.send("EHLO c\r\n");
        d.auth_results.push_back(AuthResult{AuthStatus::malformed, ""});
        std::string got;
        for (const auto& line : c.client) got += d.send(line);
        EXPECT_EQ(got, c.want_server) << c.name;
        EXPECT_EQ(d.events, (std::vector<std::string>{c.want_event})) << c.name;
        EXPECT_EQ(d.session().state(), State::ready) << c.name;
    }
}

TEST(Auth, Refusals) {
    struct Case {
        const char* name;
        Role role;
        bool already_tls;
        std::string commands;
        std::string want;
    };
    const std::vector<Case> cases{
        {"mx", Role::mx, false, "AUTH PLAIN\r\n", "503 5.5.1 Error: authentication not enabled\r\n"},
        {"before TLS", Role::submission, false, "AUTH PLAIN\r\n",
         "538 5.7.11 Encryption required for requested authentication mechanism\r\n"},
        {"no mechanism", Role::submissions, true, "AUTH\r\n", "501 5.5.4 Syntax: AUTH mechanism\r\n"},
        {"unknown mechanism", Role::submissions, true, "AUTH CRAM-MD5\r\n", "504 5.5.4 Unrecognized authentication type\r\n"},
        {"twice", Role::submissions, true, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nAUTH PLAIN x\r\n",
         "235 2.7.0 Authentication successful\r\n503 5.5.1 Error: already authenticated\r\n"},
    };
    for (const auto& c : cases) {
        Dialogue d(test_settings(c.role), c.already_tls ? std::optional<TlsInfo>(test_tls()) : std::nullopt);
        d.send("EHLO c\r\n");
        EXPECT_EQ(d.send(c.commands), c.want) << c.name;
    }
}

// RFC 4954 4: response lines of 12288 octets must be accepted, even with a shorter
// command line limit; longer ones end the exchange.
TEST(Auth, ResponseLineLimit) {
    auto settings = test_settings(Role::submissions);
    settings.command_line_length = 512;
    Dialogue d(settings, test_tls());
    d.send("EHLO c\r\n");
    const std::string fits(12288 - 2, 'A');
    EXPECT_EQ(d.send("AUTH PLAIN\r\n" + fits + "\r\n"), "334 \r\n235 2.7.0 Authentication successful\r\n");

    Dialogue over(settings, test_tls());
    over.send("EHLO c\r\n");
    EXPECT_EQ(over.send("AUTH PLAIN\r\n" + fits + "AA\r\nNOOP\r\n"),
              "334 \r\n500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n");
    EXPECT_TRUE(over.events.empty());
}

}  // namespace
}  // namespace cartero::smtp

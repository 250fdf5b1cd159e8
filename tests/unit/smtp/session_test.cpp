// ServerSession: greeting, EHLO/HELO, the command table, limits, MAIL/RCPT, roles,
// pipelining, timeouts, shutdown and the observer. AUTH/STARTTLS and DATA/BDAT
// dialogues are in session_auth_test.cpp and session_message_test.cpp.
#include <gtest/gtest.h>

#include "dialogue.hpp"

namespace cartero::smtp {
namespace {

using testing::crlf_lines;
using testing::Dialogue;
using testing::ehlo_reply;
using testing::test_settings;

struct Exchange {
    std::string client;
    std::string server;
};

// Runs a table of exchanges through one session, failing as "got X, want Y".
void expect_dialogue(Dialogue& dialogue, const std::vector<Exchange>& script) {
    for (const auto& step : script) {
        const std::string got = dialogue.send(step.client);
        EXPECT_EQ(got, step.server) << "after sending " << ::testing::PrintToString(step.client) << "\n got "
                                    << ::testing::PrintToString(got) << "\nwant "
                                    << ::testing::PrintToString(step.server);
    }
}

TEST(Session, GreetsAndAnswersEhloAndHelo) {
    Dialogue d(test_settings(Role::mx, false));
    EXPECT_EQ(d.greeting(), "220 mx.example.org ESMTP cartero\r\n");
    expect_dialogue(d, {
                           {"EHLO client.example\r\n", ehlo_reply()},
                           {"HELO client.example\r\n", "250 mx.example.org\r\n"},
                           {"ehlo client.example\r\n", ehlo_reply()},  // verbs are case-insensitive
                       });
}

TEST(Session, EhloAdvertisesPerRoleAndTls) {
    struct Case {
        const char* name;
        Role role;
        bool tls_available;
        bool already_tls;
        std::string want;
    };
    const std::vector<Case> cases{
        {"mx without cert", Role::mx, false, false, ehlo_reply()},
        {"mx with cert", Role::mx, true, false, ehlo_reply({"STARTTLS"})},
        {"submission before TLS", Role::submission, true, false, ehlo_reply({"STARTTLS"})},
        {"submissions", Role::submissions, true, true, ehlo_reply({"AUTH PLAIN LOGIN"})},
    };
    for (const auto& c : cases) {
        Dialogue d(test_settings(c.role, c.tls_available),
                   c.already_tls ? std::optional<TlsInfo>(testing::test_tls()) : std::nullopt);
        const std::string got = d.send("EHLO c\r\n");
        EXPECT_EQ(got, c.want) << c.name;
    }
}

TEST(Session, RefusesBadHelloArguments) {
    Dialogue d(test_settings());
    expect_dialogue(d, {
                           {"EHLO\r\n", "501 5.5.4 Syntax: EHLO hostname\r\n"},
                           {"HELO\r\n", "501 5.5.4 Syntax: HELO hostname\r\n"},
                           {"EHLO two words\r\n", "501 5.5.4 Syntax: EHLO hostname\r\n"},
                           {"EHLO a\x01z\r\n", "501 5.5.4 Syntax: EHLO hostname\r\n"},
                       });
}

TEST(Session, CommandsBeforeEhloNeedIt) {
    for (const char* command : {"MAIL FROM:<a@b.c>", "RCPT TO:<a@b.c>", "DATA", "AUTH PLAIN", "BDAT 0 LAST"}) {
        Dialogue d(test_settings());
        const std::string got = d.send(std::string(command) + "\r\n");
        EXPECT_EQ(got, "503 5.5.1 Error: send HELO/EHLO first\r\n") << command;
    }
}

TEST(Session, SimpleCommands) {
    Dialogue d(test_settings());
    expect_dialogue(d, {
                           {"NOOP\r\n", "250 2.0.0 Ok\r\n"},
                           {"NOOP anything\r\n", "250 2.0.0 Ok\r\n"},
                           {"RSET\r\n", "250 2.0.0 Ok\r\n"},
                           {"RSET x\r\n", "501 5.5.4 Syntax: RSET\r\n"},
                           {"VRFY alice\r\n", "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"},
                           {"VRFY\r\n", "501 5.5.4 Syntax: VRFY address\r\n"},
                           {"EXPN list\r\n", "502 5.5.1 Error: EXPN not supported\r\n"},
                           {"HELP\r\n", "214 2.0.0 See RFC 5321 and https://cartero/docs\r\n"},
                           {"FROB\r\n", "502 5.5.2 Error: command not recognized\r\n"},
                           {"\r\n", "502 5.5.2 Error: command not recognized\r\n"},
                           {"QUIT\r\n", "221 2.0.0 Bye\r\n"},
                       });
    EXPECT_TRUE(d.closed);
    EXPECT_TRUE(d.close_after_write);
    EXPECT_EQ(d.session().state(), State::quit);
}

// Commands may end with a bare LF (see line_reader.hpp for why that is safe).
TEST(Session, AcceptsBareLfAfterACommand) {
    Dialogue d(test_settings());
    expect_dialogue(d, {{"EHLO c\nNOOP\n", ehlo_reply({"STARTTLS"}) + "250 2.0.0 Ok\r\n"}});
}

TEST(Session, LineTooLongIsRefusedAndSkipped) {
    auto settings = test_settings();
    settings.command_line_length = 64;
    Dialogue d(settings);
    const std::string long_line = "NOOP " + std::string(100, 'x') + "\r\n";
    expect_dialogue(d, {
                           {long_line + "NOOP\r\n", "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n"},
                           // 62 octets + CRLF = 64: exactly at the limit is fine
                           {"NOOP " + std::string(57, 'x') + "\r\n", "250 2.0.0 Ok\r\n"},
                           {"NOOP " + std::string(58, 'x') + "\r\n", "500 5.5.2 Error: line too long\r\n"},
                       });
    // Sent in small pieces without LF, a long line is refused once and never buffered.
    std::string got;
    for (int i = 0; i < 100; ++i) got += d.send(std::string(50, 'y'));
    got += d.send("\r\nNOOP\r\n");
    EXPECT_EQ(got, "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n");
}

TEST(Session, NulInCommandIsRefused) {
    Dialogue d(test_settings());
    expect_dialogue(d, {{std::string("NOOP a\0b\r\n", 10), "500 5.5.2 Error: NUL character in command\r\n"}});
}

TEST(Session, TooManyBadCommandsCloses) {
    auto settings = test_settings();
    settings.bad_commands = 3;
    Dialogue d(settings);
    expect_dialogue(d, {
                           {"FROB\r\nNOOP\r\nFROB\r\n", crlf_lines({"502 5.5.2 Error: command not recognized",
                                                                      "250 2.0.0 Ok",
                                                                      "502 5.5.2 Error: command not recognized"})},
                           {"FROB\r\nNOOP\r\n", crlf_lines({"502 5.5.2 Error: command not recognized",
                                                              "421 4.7.0 mx.example.org Error: too many errors"})},
                       });
    EXPECT_TRUE(d.closed);
    EXPECT_TRUE(d.close_after_write);
}

// RFC 2920: all pipelined commands are answered, in order, in one write.
TEST(Session, PipelinedRepliesComeInOrderInOneWrite) {
    Dialogue d(test_settings());
    d.send("EHLO c\r\n");
    const std::string got = d.send(
        "MAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\n"
        "RCPT TO:<bob@example.org>\r\nNOOP\r\n");
    EXPECT_EQ(got, crlf_lines({"250 2.1.0 Ok", "250 2.1.5 Ok",
                               "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local "
                               "recipient table",
                               "250 2.1.5 Ok", "250 2.0.0 Ok"}));
}

TEST(Session, MailCommandTable) {
    struct Case {
        std::string command;
        std::string want;
    };
    const std::vector<Case> cases{
        {"MAIL FROM:<x@remote.example>", "250 2.1.0 Ok"},
        {"mail from:<x@remote.example>", "250 2.1.0 Ok"},
        {"MAIL FROM: <x@remote.example>", "250 2.1.0 Ok"},
        {"MAIL FROM:<>", "250 2.1.0 Ok"},
        {"MAIL FROM:<x@remote.example> SIZE=1000 BODY=8BITMIME", "250 2.1.0 Ok"},
        {"MAIL FROM:<x@remote.example> BODY=7bit", "250 2.1.0 Ok"},
        {"MAIL FROM:<x@remote.example> AUTH=<>", "250 2.1.0 Ok"},
        {"MAIL FROM:<x@remote.example> SIZE=10485760", "250 2.1.0 Ok"},
        {"MAIL FROM:<x@remote.example> SIZE=10485761", "552 5.3.4 Message size exceeds fixed limit"},
        {"MAIL FROM:<x@remote.example> SIZE=99999999999999999999999999", "552 5.3.4 Message size exceeds fixed limit"},
        {"MAIL FROM:<x@remote.example> SIZE=12k", "555 5.5.4 Unsupported parameter: SIZE"},
        {"MAIL FROM:<x@remote.example> BODY=BINARYMIME", "555 5.5.4 Unsupported parameter: BODY"},
        {"MAIL FROM:<x@remote.example> SMTPUTF8=yes", "555 5.5.4 Unsupported parameter: SMTPUTF8"},
        {"MAIL FROM:<x@remote.example> RET=FULL", "250 2.1.0 Ok"},
        {"MAIL FROM:<x@remote.example> ret=hdrs ENVID=QQ+2B1", "250 2.1.0 Ok"},
        {"MAIL FROM:<x@remote.example> RET=BODY", "501 5.5.4 Bad RET parameter: use RET=FULL or RET=HDRS"},
        {"MAIL FROM:<x@remote.example> RET=FULL RET=HDRS", "501 5.5.4 Duplicate parameter: RET"},
        {"MAIL FROM:<x@remote.example> SIZE=1 size=2", "501 5.5.4 Duplicate parameter: SIZE"},
        {"MAIL FROM:<x@remote.example> ENVID=a+0Db",
         "501 5.5.4 Bad ENVID parameter: xtext of printable ASCII, at most 100 characters"},
        {"MAIL FROM:<x@remote.example> ENVID=" + std::string(101, 'e'),
         "501 5.5.4 Bad ENVID parameter: xtext of printable ASCII, at most 100 characters"},
        {"MAIL FROM:<x@remote.example> ENVID=" + std::string(100, 'e'), "250 2.1.0 Ok"},
        {"MAIL FROM:<x@remote.example> ENVID=1 ENVID=2", "501 5.5.4 Duplicate parameter: ENVID"},
        {"MAIL FROM:<x@remote.example> SIZE=", "501 5.5.4 Syntax: MAIL FROM:<address>"},
        {"MAIL FROM:<x@remote.example> =x", "501 5.5.4 Syntax: MAIL FROM:<address>"},
        {"MAIL FROM:<x@remote.example>SIZE=1", "501 5.1.7 Bad sender address syntax"},
        {"MAIL FROM:<j\xc3\xb6rg@remote.example>", "553 5.6.7 SMTPUTF8 is required for a non-ASCII address"},
        {"MAIL FROM:<j\xc3\xb6rg@remote.example> SMTPUTF8", "250 2.1.0 Ok"},
        {"MAIL TO:<x@remote.example>", "501 5.5.4 Syntax: MAIL FROM:<address>"},
        {"MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>"},
        {"MAIL FROM:x@remote.example", "501 5.1.7 Bad sender address syntax"},
        {"MAIL FROM:<x@remote.example;rm -rf>", "501 5.1.7 Bad sender address syntax"},
        {"MAIL FROM:<`id`@remote.example>", "250 2.1.0 Ok"},  // atext: legal, and never reaches a shell
    };
    for (const auto& c : cases) {
        Dialogue d(test_settings());
        d.send("EHLO c\r\n");
        const std::string got = d.send(c.command + "\r\n");
        EXPECT_EQ(got, c.want + "\r\n") << c.command;
    }
}

TEST(Session, MailSequenceAndLimits) {
    auto settings = test_settings();
    settings.messages_per_session = 1;
    Dialogue d(settings);
    expect_dialogue(d, {
                           {"EHLO c\r\n", ehlo_reply({"STARTTLS"})},
                           {"MAIL FROM:<x@remote.example>\r\n", "250 2.1.0 Ok\r\n"},
                           {"MAIL FROM:<x@remote.example>\r\n", "503 5.5.1 Error: nested MAIL command\r\n"},
                           {"RCPT TO:<alice@example.org>\r\nDATA\r\n",
                            "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"},
                           {"hi\r\n.\r\n", "250 2.0.0 Ok: queued as QID1\r\n"},
                           {"MAIL FROM:<x@remote.example>\r\n", "452 4.5.3 Error: too many messages in this session\r\n"},
                       });
}

TEST(Session, RcptCommandTable) {
    struct Case {
        std::string command;
        std::string want;
    };
    const std::vector<Case> cases{
        {"RCPT TO:<alice@example.org>", "250 2.1.5 Ok"},
        {"RCPT TO:<ALICE@EXAMPLE.ORG>", "550 5.1.1 <ALICE@example.org>: Recipient address rejected: User unknown in "
                                        "local recipient table"},  // the domain is lower-cased, the local part kept
        {"RCPT TO:<Postmaster>", "250 2.1.5 Ok"},
        {"RCPT TO:<someone@elsewhere.example>", "554 5.7.1 <someone@elsewhere.example>: Relay access denied"},
        {"RCPT TO:<@example.org:someone@elsewhere.example>",
         "554 5.7.1 <someone@elsewhere.example>: Relay access denied"},
        {"RCPT TO:<someone%elsewhere.example@example.org>",
         "550 5.1.1 <someone%elsewhere.example@example.org>: Recipient address rejected: User unknown in local "
         "recipient table"},
        {"RCPT TO:<alice@example.org> NOTIFY=NEVER", "250 2.1.5 Ok"},
        {"RCPT TO:<alice@example.org> NOTIFY=success,DELAY ORCPT=rfc822;alice+40example.org", "250 2.1.5 Ok"},
        {"RCPT TO:<alice@example.org> NOTIFY=NEVER,DELAY",
         "501 5.5.4 Bad NOTIFY parameter: use NEVER or a list of SUCCESS, FAILURE, DELAY"},
        {"RCPT TO:<alice@example.org> NOTIFY=SUCCESS,,DELAY",
         "501 5.5.4 Bad NOTIFY parameter: use NEVER or a list of SUCCESS, FAILURE, DELAY"},
        {"RCPT TO:<alice@example.org> NOTIFY=FAILURE NOTIFY=DELAY", "501 5.5.4 Duplicate parameter: NOTIFY"},
        {"RCPT TO:<alice@example.org> ORCPT=alice@example.org",
         "501 5.5.4 Bad ORCPT parameter: use ORCPT=rfc822;address in xtext, at most 500 characters"},
        {"RCPT TO:<alice@example.org> ORCPT=rfc822;a+0D+0Ab@example.org",
         "501 5.5.4 Bad ORCPT parameter: use ORCPT=rfc822;address in xtext, at most 500 characters"},
        {"RCPT TO:<alice@example.org> ORCPT=rfc822;a@b ORCPT=rfc822;c@d", "501 5.5.4 Duplicate parameter: ORCPT"},
        {"RCPT TO:<alice@example.org> RET=FULL", "555 5.5.4 Unsupported parameter: RET"},
        {"RCPT TO:<alice@example.org> FOO=bar", "555 5.5.4 Unsupported parameter: FOO"},
        {"RCPT TO:<>", "501 5.1.3 Bad recipient address syntax"},
        {"RCPT TO:alice@example.org", "501 5.1.3 Bad recipient address syntax"},
        {"RCPT FROM:<alice@example.org>", "501 5.5.4 Syntax: RCPT TO:<address>"},
        {"RCPT TO:<j\xc3\xb6rg@example.org>", "553 5.6.7 SMTPUTF8 is required for a non-ASCII address"},
    };
    for (const auto& c : cases) {
        Dialogue d(test_settings());
        d.send("EHLO c\r\nMAIL FROM:<x@remote.example>\r\n");
        const std::string got = d.send(c.command + "\r\n");
        EXPECT_EQ(got, c.want + "\r\n") << c.command;
    }
}

TEST(Session, RcptSequenceAndRecipientLimit) {
    auto settings = test_settings();
    settings.recipients_per_message = 2;
    Dialogue d(settings);
    expect_dialogue(d, {
                           {"EHLO c\r\nRCPT TO:<alice@example.org>\r\n", ehlo_reply({"STARTTLS"}) + "503 5.5.1 Error: need MAIL command\r\n"},
                           {"MAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n"
                            "RCPT TO:<alice@example.org>\r\n",
                            crlf_lines({"250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok", "452 4.5.3 Error: too many recipients"})},
                       });
}

TEST(Session, TrustedPeerMayRelay) {
    Dialogue d(test_settings(), std::nullopt, PeerInfo{"10.0.0.1", 1234, true});
    expect_dialogue(d, {{"EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<someone@elsewhere.example>\r\n",
                         ehlo_reply({"STARTTLS"}) + "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"}});
}

TEST(Session, SubmissionRequiresTlsThenAuth) {
    Dialogue d(test_settings(Role::submission));
    expect_dialogue(d, {
                           {"EHLO c\r\n", ehlo_reply({"STARTTLS"})},
                           {"MAIL FROM:<alice@example.org>\r\n", "530 5.7.0 Must issue a STARTTLS command first\r\n"},
                           {"VRFY alice\r\n", "530 5.7.0 Must issue a STARTTLS command first\r\n"},
                           {"STARTTLS\r\n", "220 2.0.0 Ready to start TLS\r\n"},
                           {"EHLO c\r\n", ehlo_reply({"AUTH PLAIN LOGIN"})},
                           {"MAIL FROM:<alice@example.org>\r\n", "530 5.7.0 Authentication required\r\n"},
                       });
}

TEST(Session, SubmissionsChecksSenderAfterAuth) {
    Dialogue d(test_settings(Role::submissions), testing::test_tls());
    expect_dialogue(d, {
                           {"EHLO c\r\nMAIL FROM:<alice@example.org>\r\n",
                            ehlo_reply({"AUTH PLAIN LOGIN"}) + "530 5.7.0 Authentication required\r\n"},
                           {"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", "235 2.7.0 Authentication successful\r\n"},
                           {"MAIL FROM:<>\r\n",
                            "553 5.7.1 <>: Sender address rejected: null sender not allowed for submission\r\n"},
                           {"MAIL FROM:<bob@example.org>\r\n",
                            "553 5.7.1 <bob@example.org>: Sender address rejected: not owned by user alice@example.org\r\n"},
                           {"MAIL FROM:<alice@example.org>\r\nRCPT TO:<x@elsewhere.example>\r\n",
                            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"},
                       });
}

TEST(Session, TimeoutSends421AndCloses) {
    Dialogue d(test_settings());
    d.send("EHLO c\r\n");
    EXPECT_EQ(d.run_after(&ServerSession::timed_out), "421 4.4.2 mx.example.org Error: timeout exceeded\r\n");
    EXPECT_TRUE(d.closed);
    EXPECT_TRUE(d.close_after_write);
}

TEST(Session, ShutdownAnswersAtTheNextCommandBoundary) {
    Dialogue d(test_settings());
    d.send("EHLO c\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nhalf a message");
    d.session().shutting_down();
    // The message in progress is finished first; the command after it gets the 421.
    EXPECT_EQ(d.send("\r\n.\r\nNOOP\r\n"),
              "250 2.0.0 Ok: queued as QID1\r\n421 4.3.2 mx.example.org Service shutting down\r\n");
    EXPECT_TRUE(d.closed);

    Dialogue idle(test_settings());
    EXPECT_EQ(idle.run_after(&ServerSession::shutting_down), "421 4.3.2 mx.example.org Service shutting down\r\n");
    EXPECT_TRUE(idle.closed);
}

TEST(Session, PeerClosingMidMessageAbortsIt) {
    Dialogue d(test_settings());
    d.send("EHLO c\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\npart");
    EXPECT_EQ(d.run_after(&ServerSession::peer_closed), "");
    EXPECT_EQ(d.events, (std::vector<std::string>{"begin", "abort", "close"}));
}

TEST(Session, ObserverSeesEveryStateChangeAndReply) {
    Dialogue d(test_settings());
    d.send("EHLO c\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n.\r\nFROB\r\nQUIT\r\n");
    EXPECT_EQ(d.observer().transitions,
              (std::vector<std::string>{"connect->initial", "initial->ready", "ready->mail", "mail->rcpt", "rcpt->data",
                                        "data->ready", "ready->quit"}));
    EXPECT_EQ(d.observer().replies, (std::vector<std::string>{"CONNECT 220", "EHLO 250", "MAIL 250", "RCPT 250",
                                                              "DATA 354", "DATA 250", "UNKNOWN 502", "QUIT 221"}));
}

TEST(Session, NextWhileWaitingForTheDriverIsABug) {
    testing::TestPolicy policy;
    ServerSession session(test_settings(), PeerInfo{}, policy);
    session.next();  // greeting
    session.feed("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n.\r\n");
    for (;;) {
        if (std::holds_alternative<MessageEnd>(session.next())) break;
    }
    EXPECT_THROW(session.next(), std::logic_error);
    EXPECT_THROW(session.auth_finished(AuthResult{}), std::logic_error);
}

}  // namespace
}  // namespace cartero::smtp

// ServerSession DATA and BDAT dialogues: the message actions, durable-before-250,
// smuggling attempts inside a real session, size limits and the BDAT sequence rules
// (CVE-2017-16943 class: BDAT with DATA, RSET, LAST twice).
#include <gtest/gtest.h>

#include "dialogue.hpp"

namespace cartero::smtp {
namespace {

using testing::crlf_lines;
using testing::Dialogue;
using testing::test_settings;

constexpr std::string_view envelope_commands =
    "EHLO c\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@example.org>\r\n";


TEST(Data, MessageIsUnstuffedAndQueued) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    EXPECT_EQ(d.send("DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");
    EXPECT_EQ(d.send("Subject: hi\r\n\r\n..leading dot\r\n.\r\n"), "250 2.0.0 Ok: queued as QID1\r\n");
    EXPECT_EQ(d.events, (std::vector<std::string>{"begin", "end"}));
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], "Subject: hi\r\n\r\n.leading dot\r\n");
    EXPECT_EQ(d.envelopes[0].sender.str(), "x@remote.example");
    ASSERT_EQ(d.envelopes[0].recipients.size(), 1u);
    EXPECT_EQ(d.envelopes[0].recipients[0].str(), "alice@example.org");
    EXPECT_EQ(d.traces[0].helo, "c");
    EXPECT_EQ(d.session().state(), State::ready);
}

TEST(Data, EmptyMessageAndPipelinedEverything) {
    Dialogue d(test_settings());
    const std::string got = d.send(std::string(envelope_commands) + "DATA\r\n.\r\nQUIT\r\n");
    EXPECT_EQ(got, testing::ehlo_reply({"STARTTLS"}) +
                       crlf_lines({"250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
                                   "250 2.0.0 Ok: queued as QID1", "221 2.0.0 Bye"}));
    EXPECT_EQ(d.messages, (std::vector<std::string>{""}));
}

TEST(Data, SpoolFailureIsReported) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    d.commits.push_back(make_reply(451, "4.3.0", "Error: queue file write error"));
    EXPECT_EQ(d.send("DATA\r\nx\r\n.\r\n"),
              "354 End data with <CR><LF>.<CR><LF>\r\n451 4.3.0 Error: queue file write error\r\n");
    EXPECT_EQ(d.send("RCPT TO:<alice@example.org>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
}

TEST(Data, SequenceErrors) {
    Dialogue d(test_settings());
    EXPECT_EQ(d.send("EHLO c\r\nDATA\r\n"), testing::ehlo_reply({"STARTTLS"}) + "503 5.5.1 Error: need MAIL command\r\n");
    EXPECT_EQ(d.send("MAIL FROM:<x@remote.example>\r\nDATA\r\n"), "250 2.1.0 Ok\r\n503 5.5.1 Error: need RCPT command\r\n");
    EXPECT_EQ(d.send("RCPT TO:<alice@example.org>\r\nDATA x\r\n"), "250 2.1.5 Ok\r\n501 5.5.4 Syntax: DATA\r\n");
}

// SMTP smuggling (CVE-2023-51764/51765/51766): a fake end with bare LF or CR must not
// end the message; the smuggled "MAIL FROM" is data, the message is refused at the
// real end, and the command after the real end is answered normally.
TEST(Data, SmugglingAttemptsAreRefusedAtTheRealEnd) {
    const std::vector<std::string> fake_ends{"\n.\n", "\n.\r\n", "\r.\r", "\r\n.\n", "\r\n.\r", "\r.\r\n"};
    for (const auto& fake_end : fake_ends) {
        Dialogue d(test_settings());
        d.send(envelope_commands);
        const std::string got = d.send("DATA\r\nbody" + fake_end +
                                       "MAIL FROM:<smuggled@evil.example>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n"
                                       "smuggled\r\n.\r\nNOOP\r\n");
        const std::string want = crlf_lines(
            {"354 End data with <CR><LF>.<CR><LF>",
             "550 5.6.0 Message contains a bare CR or LF: lines must end with CRLF (RFC 5321 2.3.8)",
             "250 2.0.0 Ok"});
        EXPECT_EQ(got, want) << ::testing::PrintToString(fake_end);
        EXPECT_EQ(d.events, (std::vector<std::string>{"begin", "abort"})) << ::testing::PrintToString(fake_end);
    }
}

TEST(Data, NulAndSizeLimit) {
    Dialogue nul(test_settings());
    nul.send(envelope_commands);
    EXPECT_EQ(nul.send(std::string("DATA\r\na\0b\r\n.\r\n", 14)),
              "354 End data with <CR><LF>.<CR><LF>\r\n550 5.6.0 Message contains NUL characters\r\n");

    auto settings = test_settings();
    settings.message_size = 10;
    Dialogue big(settings);
    big.send(envelope_commands);
    EXPECT_EQ(big.send("DATA\r\n0123456789\r\nmore\r\n.\r\n"),
              "354 End data with <CR><LF>.<CR><LF>\r\n552 5.3.4 Message size exceeds fixed maximum message size\r\n");
    EXPECT_EQ(big.events, (std::vector<std::string>{"begin", "abort"}));
    EXPECT_EQ(big.body, "");  // the over-size slice was never handed out

    Dialogue fits(settings);
    fits.send(envelope_commands);
    EXPECT_EQ(fits.send("DATA\r\n01234567\r\n.\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as QID1\r\n");
}

TEST(Bdat, ChunksPipelinedWithTheirCommands) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    EXPECT_EQ(d.send("BDAT 5\r\nHello"), "250 2.0.0 5 octets received\r\n");
    EXPECT_EQ(d.send("BDAT 9 LAST\r\n, world\r\nNOOP\r\n"),
              "250 2.0.0 Ok: queued as QID1\r\n250 2.0.0 Ok\r\n");
    EXPECT_EQ(d.messages, (std::vector<std::string>{"Hello, world\r\n"}));
    EXPECT_EQ(d.events, (std::vector<std::string>{"begin", "end"}));
}

TEST(Bdat, ChunkOctetsMayArriveInPieces) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    std::string got = d.send("BDAT 6 LAST\r\nab\r");
    got += d.send("\ncd");  // the CR ending one piece and the LF starting the next are one CRLF
    EXPECT_EQ(got, "250 2.0.0 Ok: queued as QID1\r\n");
    EXPECT_EQ(d.messages, (std::vector<std::string>{"ab\r\ncd"}));
}

TEST(Bdat, CrlfSplitAcrossChunksIsFine) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    EXPECT_EQ(d.send("BDAT 3\r\nab\rBDAT 1 LAST\r\n\n"), "250 2.0.0 3 octets received\r\n250 2.0.0 Ok: queued as QID1\r\n");
    EXPECT_EQ(d.messages, (std::vector<std::string>{"ab\r\n"}));
}

TEST(Bdat, ZeroLastEndsTheMessage) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    EXPECT_EQ(d.send("BDAT 4\r\nab\r\nBDAT 0 LAST\r\n"), "250 2.0.0 4 octets received\r\n250 2.0.0 Ok: queued as QID1\r\n");
    EXPECT_EQ(d.messages, (std::vector<std::string>{"ab\r\n"}));
}

TEST(Bdat, BadOctetsAreRefusedAtTheEndOfTheirChunk) {
    struct Case {
        std::string chunks;
        std::string want_last_reply;
    };
    const std::vector<Case> cases{
        {"BDAT 3 LAST\r\na\nb", "550 5.6.0 Message contains a bare CR or LF: lines must end with CRLF (RFC 5321 2.3.8)"},
        {"BDAT 2 LAST\r\na\r", "550 5.6.0 Message contains a bare CR or LF: lines must end with CRLF (RFC 5321 2.3.8)"},
        {"BDAT 3 LAST\r\na\rb", "550 5.6.0 Message contains a bare CR or LF: lines must end with CRLF (RFC 5321 2.3.8)"},
        {std::string("BDAT 3 LAST\r\na\0b", 16), "550 5.6.0 Message contains NUL characters"},
    };
    for (const auto& c : cases) {
        Dialogue d(test_settings());
        d.send(envelope_commands);
        EXPECT_EQ(d.send(c.chunks + "NOOP\r\n"), c.want_last_reply + "\r\n250 2.0.0 Ok\r\n")
            << ::testing::PrintToString(c.chunks);
        EXPECT_EQ(d.events, (std::vector<std::string>{"begin", "abort"})) << ::testing::PrintToString(c.chunks);
    }
}

// RFC 5321 6.3 (issue 8.3): more Received fields than limits.received_headers is a
// loop: the data stops flowing at once, the rest is read, and the end of data (DATA
// or the BDAT chunk) gets 554 5.4.6; the session goes on.
TEST(Message, TooManyHopsIsRefusedAtTheEndOfData) {
    auto settings = test_settings();
    settings.received_headers = 1;
    const std::string hops = "Received: a\r\nreceived: b\r\n\r\nbody\r\n";
    Dialogue data(settings);
    data.send(envelope_commands);
    EXPECT_EQ(data.send("DATA\r\n" + hops + ".\r\nNOOP\r\n"),
              crlf_lines({"354 End data with <CR><LF>.<CR><LF>", "554 5.4.6 Error: too many hops", "250 2.0.0 Ok"}));
    EXPECT_EQ(data.events, (std::vector<std::string>{"begin", "abort"}));

    Dialogue bdat(settings);
    bdat.send(envelope_commands);
    EXPECT_EQ(bdat.send("BDAT " + std::to_string(hops.size()) + " LAST\r\n" + hops + "NOOP\r\n"),
              crlf_lines({"554 5.4.6 Error: too many hops", "250 2.0.0 Ok"}));
    EXPECT_EQ(bdat.events, (std::vector<std::string>{"begin", "abort"}));

    Dialogue at_limit(settings);
    at_limit.send(envelope_commands);
    EXPECT_EQ(at_limit.send("DATA\r\nReceived: a\r\n\r\nReceived: body\r\n.\r\n"),
              "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as QID1\r\n");
}

// RFC 3030 2: an error on any chunk ends the transaction; the octets of later BDATs
// are still consumed, never read as commands.
TEST(Bdat, OversizeEndsTheTransaction) {
    auto settings = test_settings();
    settings.message_size = 4;
    Dialogue d(settings);
    d.send(envelope_commands);
    EXPECT_EQ(d.send("BDAT 3\r\nabcBDAT 3\r\ndefBDAT 4 LAST\r\nNOOPNOOP\r\n"),
              crlf_lines({"250 2.0.0 3 octets received",
                          "552 5.3.4 Message size exceeds fixed maximum message size",
                          "503 5.5.1 Error: need MAIL command", "250 2.0.0 Ok"}));
    EXPECT_EQ(d.events, (std::vector<std::string>{"begin", "abort"}));
}

TEST(Bdat, RefusedCommandsStillConsumeTheirOctets) {
    struct Case {
        const char* name;
        std::string setup;
        std::string bdat;
        std::string want;
    };
    const std::vector<Case> cases{
        {"no MAIL", "EHLO c\r\n", "BDAT 6\r\nNOOP\r\n", "503 5.5.1 Error: need MAIL command"},
        {"no RCPT", "EHLO c\r\nMAIL FROM:<x@remote.example>\r\n", "BDAT 6 LAST\r\nNOOP\r\n",
         "503 5.5.1 Error: need RCPT command"},
        {"no EHLO", "", "BDAT 6\r\nNOOP\r\n", "503 5.5.1 Error: send HELO/EHLO first"},
        {"bad keyword", std::string(envelope_commands), "BDAT 6 FIRST\r\nNOOP\r\n", "501 5.5.4 Syntax: BDAT size [LAST]"},
    };
    for (const auto& c : cases) {
        Dialogue d(test_settings());
        d.send(c.setup);
        EXPECT_EQ(d.send(c.bdat + "RSET\r\n"), c.want + "\r\n250 2.0.0 Ok\r\n") << c.name;
        EXPECT_TRUE(d.events.empty()) << c.name;
    }
}

TEST(Bdat, UnparsableSizeConsumesNothing) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    EXPECT_EQ(d.send("BDAT x\r\nBDAT -1\r\nBDAT\r\nNOOP\r\n"),
              crlf_lines({"501 5.5.4 Syntax: BDAT size [LAST]", "501 5.5.4 Syntax: BDAT size [LAST]",
                          "501 5.5.4 Syntax: BDAT size [LAST]", "250 2.0.0 Ok"}));
}

TEST(Bdat, HugeSizeDoesNotOverflow) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    EXPECT_EQ(d.send("BDAT 99999999999999999999999999 LAST\r\nabc"), "");
    EXPECT_EQ(d.events, (std::vector<std::string>{"begin", "abort"}));  // over the limit at once
    EXPECT_EQ(d.session().state(), State::bdat);
    EXPECT_EQ(d.run_after(&ServerSession::timed_out), "421 4.4.2 mx.example.org Error: timeout exceeded\r\n");
}

TEST(Bdat, DoesNotMixWithDataOrMail) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    EXPECT_EQ(d.send("BDAT 2\r\nabDATA\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<bob@example.org>\r\n"),
              crlf_lines({"250 2.0.0 2 octets received", "503 5.5.1 Error: BDAT transaction in progress, send RSET",
                          "503 5.5.1 Error: nested MAIL command",
                          "503 5.5.1 Error: BDAT transaction in progress, send RSET"}));
    EXPECT_EQ(d.send("BDAT 1 LAST\r\nc"), "250 2.0.0 Ok: queued as QID1\r\n");
    EXPECT_EQ(d.messages, (std::vector<std::string>{"abc"}));
}

TEST(Bdat, RsetMidMessageAbortsIt) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    EXPECT_EQ(d.send("BDAT 2\r\nabRSET\r\nBDAT 1 LAST\r\nc"),
              crlf_lines({"250 2.0.0 2 octets received", "250 2.0.0 Ok", "503 5.5.1 Error: need MAIL command"}));
    EXPECT_EQ(d.events, (std::vector<std::string>{"begin", "abort"}));
}

TEST(Bdat, LastTwice) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    EXPECT_EQ(d.send("BDAT 1 LAST\r\naBDAT 1 LAST\r\nb"),
              crlf_lines({"250 2.0.0 Ok: queued as QID1", "503 5.5.1 Error: need MAIL command"}));
    EXPECT_EQ(d.messages, (std::vector<std::string>{"a"}));
}

TEST(Bdat, QuitMidMessageAbortsIt) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    EXPECT_EQ(d.send("BDAT 1\r\naQUIT\r\n"), crlf_lines({"250 2.0.0 1 octets received", "221 2.0.0 Bye"}));
    EXPECT_EQ(d.events, (std::vector<std::string>{"begin", "abort", "close"}));
}

// RFC 5321 4.1.4: EHLO in a transaction resets it like RSET.
TEST(Bdat, EhloMidMessageAbortsIt) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    EXPECT_EQ(d.send("BDAT 1\r\naEHLO c\r\n"), "250 2.0.0 1 octets received\r\n" + testing::ehlo_reply({"STARTTLS"}));
    EXPECT_EQ(d.events, (std::vector<std::string>{"begin", "abort"}));
    EXPECT_EQ(d.session().state(), State::ready);
}

TEST(Message, TraceCarriesTheSessionFacts) {
    Dialogue d(test_settings(Role::submissions), testing::test_tls());
    d.send("EHLO laptop\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<alice@example.org> SMTPUTF8\r\n"
           "RCPT TO:<bob@example.org>\r\nBDAT 0 LAST\r\n");
    ASSERT_EQ(d.traces.size(), 1u);
    const Trace& t = d.traces[0];
    EXPECT_EQ(t.helo, "laptop");
    EXPECT_EQ(t.auth_user, "alice@example.org");
    EXPECT_TRUE(t.tls.has_value());
    EXPECT_TRUE(t.esmtp);
    EXPECT_TRUE(t.smtputf8);
    EXPECT_EQ(t.peer.ip, "192.0.2.1");
    EXPECT_TRUE(d.envelopes.at(0).smtputf8);
}

// The origin (smtp/origin.hpp) comes from what the session knows, never from the client's words.
TEST(Message, OriginIsDecidedWhenTheMessageIsAccepted) {
    const std::string submit = "EHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<alice@example.org>\r\n"
                               "RCPT TO:<bob@example.org>\r\nDATA\r\nx\r\n.\r\n";
    const std::string relay = "EHLO c\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nx\r\n.\r\n";
    PeerInfo local_peer{"", 0, false};
    local_peer.local_uid = 1000;
    local_peer.local_user = "alice@example.org";
    struct Case { const char* name; Role role; bool tls; PeerInfo peer; std::string commands; Origin want; };
    for (const auto& c : std::vector<Case>{
             {"mx, stranger", Role::mx, false, PeerInfo{"192.0.2.1", 1, false}, relay, Origin::internet},
             {"mx, trusted network", Role::mx, false, PeerInfo{"192.0.2.1", 1, true}, relay, Origin::trusted_network},
             {"submissions, AUTH", Role::submissions, true, PeerInfo{"192.0.2.1", 1, false}, submit, Origin::authenticated},
             {"submissions, AUTH, trusted", Role::submissions, true, PeerInfo{"192.0.2.1", 1, true}, submit,
              Origin::authenticated},
             {"local socket", Role::local, false, local_peer, relay, Origin::local_submission}}) {
        Dialogue d(test_settings(c.role), c.tls ? std::optional<TlsInfo>(testing::test_tls()) : std::nullopt, c.peer);
        d.send(c.commands);
        ASSERT_EQ(d.envelopes.size(), 1u) << c.name;
        EXPECT_EQ(d.envelopes[0].origin, c.want) << c.name;
    }
}

// The end-of-message policy gets the header block only (not the body, not
// past the first empty line), from DATA and from BDAT chunks alike.
TEST(Message, EndOfMessagePolicySeesTheHeaderBlock) {
    Dialogue d(test_settings());
    d.send(std::string(envelope_commands) + "DATA\r\nSubject: a\r\nFrom: x@example.org\r\n\r\nFrom: mallory\r\n.\r\n");
    d.send(std::string(envelope_commands) + "BDAT 12\r\nSubject: b\r\nBDAT 29 LAST\r\nFrom: y@example.org\r\n\r\nbody\r\n");
    EXPECT_EQ(d.policy().header_blocks, (std::vector<std::string>{"Subject: a\r\nFrom: x@example.org\r\n",
                                                                   "Subject: b\r\nFrom: y@example.org\r\n"}));
    EXPECT_EQ(d.messages.size(), 2u);
}

TEST(Message, EndOfMessageRefusalDropsTheMessage) {
    Dialogue d(test_settings());
    d.send(envelope_commands);
    EXPECT_EQ(d.send("DATA\r\nFrom: mallory@example.org\r\n\r\nhi\r\n.\r\n"),
              "354 End data with <CR><LF>.<CR><LF>\r\n"
              "553 5.7.1 <mallory@example.org>: From: header address not owned by user x\r\n");
    EXPECT_EQ(d.events, (std::vector<std::string>{"begin", "abort"}));
    EXPECT_TRUE(d.messages.empty());
    EXPECT_EQ(d.session().state(), State::ready);
    EXPECT_EQ(d.send("RCPT TO:<alice@example.org>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
    d.send(std::string(envelope_commands) + "BDAT 29 LAST\r\nFrom: mallory@example.org\r\n\r\n");
    EXPECT_EQ(d.events, (std::vector<std::string>{"begin", "abort", "begin", "abort"}));
}

}  // namespace
}  // namespace cartero::smtp

// ClientSession: every path of the client dialogue against scripted servers —
// EHLO/HELO/LHLO, STARTTLS policies, AUTH, one or several transactions with and
// without PIPELINING, LMTP per-recipient replies, checks before sending, DSN
// parameters, dot-stuffing, connection loss, timeouts and malformed replies —
// and each dialogue again with the server's replies split at every byte.
#include <gtest/gtest.h>

#include "client_peer.hpp"

namespace cartero::smtp {
namespace {

using testing::message;
using testing::PeerRun;
using testing::PeerScript;
using testing::run_peer;
using testing::settings;

const std::string greeting = "220 mx.example.net ESMTP\r\n";
const std::string ehlo_plain = "250 mx.example.net\r\n";
const std::string ehlo_pipelining =
    "250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
    "250 SMTPUTF8\r\n";
const std::string ehlo_starttls = "250-mx.example.net\r\n250-STARTTLS\r\n250 8BITMIME\r\n";
const std::string ehlo_auth = "250-mx.example.net\r\n250-AUTH LOGIN PLAIN\r\n250 8BITMIME\r\n";
const std::string ehlo_login_only = "250-mx.example.net\r\n250 AUTH=LOGIN\r\n";
const std::string ehlo_dsn = "250-mx.example.net\r\n250 DSN\r\n";
const std::string body = "Subject: t\r\n\r\nhello\r\n";
const std::string body_wire = "Subject: t\r\n\r\nhello\r\n.\r\n";

struct Case {
    std::string name;
    ClientSettings settings;
    PeerScript script;
    std::string want_sent;
    std::vector<std::vector<std::string>> want_results;
    std::string want_failure;  // prefix of "kind: reason"; empty for none
};

std::string show(const std::vector<std::vector<std::string>>& results) {
    std::string out;
    for (const auto& t : results) {
        out += "[";
        for (const auto& r : t) out += r + "; ";
        out += "]";
    }
    return out;
}

void expect_case(const Case& c, const PeerRun& got, const std::string& how) {
    EXPECT_EQ(got.sent, c.want_sent) << c.name << how << "\n got " << ::testing::PrintToString(got.sent)
                                     << "\nwant " << ::testing::PrintToString(c.want_sent);
    EXPECT_EQ(show(got.results), show(c.want_results))
        << c.name << how << ": got " << show(got.results) << ", want " << show(c.want_results);
    EXPECT_EQ(got.failure.substr(0, c.want_failure.size()), c.want_failure)
        << c.name << how << ": got failure \"" << got.failure << "\", want \"" << c.want_failure << "\"";
    EXPECT_EQ(got.failure.empty(), c.want_failure.empty()) << c.name << how << ": got failure \"" << got.failure << "\"";
    EXPECT_TRUE(got.closed) << c.name << how;
}

// Every case runs whole, byte by byte, and split in two at every position of every turn.
void run_cases(const std::vector<Case>& cases) {
    for (const auto& c : cases) {
        {
            ClientSession session(c.settings);
            expect_case(c, run_peer(session, c.script), "");
        }
        {
            PeerScript s = c.script;
            s.split = testing::bytewise;
            ClientSession session(c.settings);
            expect_case(c, run_peer(session, s), " (byte by byte)");
        }
        std::size_t longest = 0;
        for (const auto& t : c.script.turns) longest = std::max(longest, t.size());
        for (std::size_t at = 1; at < longest; ++at) {
            PeerScript s = c.script;
            s.split = testing::split_at(at);
            ClientSession session(c.settings);
            expect_case(c, run_peer(session, s), " (split at " + std::to_string(at) + ")");
        }
    }
}

TEST(ClientSession, PlainTransactions) {
    run_cases({
        {"one recipient, no extensions", settings(),
         {{greeting, ehlo_plain, "250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n", "354 go\r\n", "250 2.0.0 queued\r\n",
           "221 bye\r\n"},
          {message(body, {"bob@example.net"})}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n" +
             body_wire + "QUIT\r\n",
         {{"250 2.0.0 (end of DATA)"}},
         ""},
        {"one of two recipients refused", settings(),
         {{greeting, ehlo_plain, "250 ok\r\n", "550 5.1.1 no such user\r\n", "250 ok\r\n", "354 go\r\n",
           "250 2.0.0 queued\r\n", "221 bye\r\n"},
          {message(body, {"nobody@example.net", "bob@example.net"})}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<nobody@example.net>\r\n"
         "RCPT TO:<bob@example.net>\r\nDATA\r\n" + body_wire + "QUIT\r\n",
         {{"550 5.1.1 (RCPT TO)", "250 2.0.0 (end of DATA)"}},
         ""},
        {"EHLO refused: HELO fallback", settings(),
         {{greeting, "502 5.5.2 what\r\n", "250 mx\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n",
           "451 4.3.0 try later\r\n", "221 bye\r\n"},
          {message(body, {"bob@example.net"})}},
         "EHLO client.example.org\r\nHELO client.example.org\r\nMAIL FROM:<alice@example.org>\r\n"
         "RCPT TO:<bob@example.net>\r\nDATA\r\n" + body_wire + "QUIT\r\n",
         {{"451 4.3.0 (end of DATA)"}},
         ""},
        {"EHLO and HELO refused", settings(),
         {{greeting, "500 no\r\n", "554 5.7.1 go away\r\n", "221 bye\r\n"}, {message(body, {"b@example.net"})}},
         "EHLO client.example.org\r\nHELO client.example.org\r\nQUIT\r\n",
         {},
         "hello_refused: the server refused EHLO and HELO: 554 5.7.1 go away"},
        {"EHLO 4xx: no HELO", settings(),
         {{greeting, "451 4.3.0 busy\r\n", "221 bye\r\n"}, {message(body, {"b@example.net"})}},
         "EHLO client.example.org\r\nQUIT\r\n",
         {},
         "hello_refused: the server refused EHLO: 451 4.3.0 busy"},
        {"EHLO 421: just close", settings(),
         {{greeting, "421 4.3.2 busy\r\n"}, {message(body, {"b@example.net"})}},
         "EHLO client.example.org\r\n",
         {},
         "service_closing: the server closed the session: 421 4.3.2 busy"},
        {"MAIL refused: all recipients, no RCPT", settings(),
         {{greeting, ehlo_plain, "553 5.7.1 sender refused\r\n", "221 bye\r\n"},
          {message(body, {"a@example.net", "b@example.net"})}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nQUIT\r\n",
         {{"553 5.7.1 (MAIL FROM)", "553 5.7.1 (MAIL FROM)"}},
         ""},
        {"no recipient accepted: no DATA, RSET before the next message", settings(),
         {{greeting, ehlo_plain, "250 ok\r\n", "450 4.2.0 greylisted\r\n", "250 ok\r\n", "250 ok\r\n",
           "250 ok\r\n", "354 go\r\n", "250 queued\r\n", "221 bye\r\n"},
          {message(body, {"a@example.net"}), message(body, {"b@example.net"})}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<a@example.net>\r\nRSET\r\n"
         "MAIL FROM:<alice@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n" + body_wire + "QUIT\r\n",
         {{"450 4.2.0 (RCPT TO)"}, {"250  (end of DATA)"}},
         ""},
        {"DATA refused: accepted recipients get its reply", settings(),
         {{greeting, ehlo_plain, "250 ok\r\n", "250 ok\r\n", "550 5.1.1 no\r\n", "554 5.5.0 no data\r\n",
           "221 bye\r\n"},
          {message(body, {"a@example.net", "b@example.net"})}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<a@example.net>\r\n"
         "RCPT TO:<b@example.net>\r\nDATA\r\nQUIT\r\n",
         {{"554 5.5.0 (DATA)", "550 5.1.1 (RCPT TO)"}},
         ""},
        {"250 to DATA is a protocol error, never a delivery", settings(),
         {{greeting, ehlo_plain, "250 ok\r\n", "250 ok\r\n", "250 2.0.0 queued\r\n", "221 bye\r\n"},
          {message(body, {"b@example.net"})}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nQUIT\r\n",
         {{"451 4.5.0 (local)"}},
         "protocol: the server answered DATA with 250 instead of 354"},
        {"two messages on one connection", settings(),
         {{greeting, ehlo_plain, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 one\r\n", "250 ok\r\n",
           "250 ok\r\n", "354 go\r\n", "250 two\r\n", "221 bye\r\n"},
          {message("one\r\n", {"a@example.net"}), message("two\r\n", {"b@example.net"})}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<a@example.net>\r\nDATA\r\n"
         "one\r\n.\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\ntwo\r\n.\r\nQUIT\r\n",
         {{"250  (end of DATA)"}, {"250  (end of DATA)"}},
         ""},
        {"null sender", settings(),
         {{greeting, ehlo_plain, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n", "221 bye\r\n"},
          {message(body, {"a@example.net"}, "")}},
         "EHLO client.example.org\r\nMAIL FROM:<>\r\nRCPT TO:<a@example.net>\r\nDATA\r\n" + body_wire + "QUIT\r\n",
         {{"250  (end of DATA)"}},
         ""},
    });
}

TEST(ClientSession, Pipelining) {
    const std::string group = "MAIL FROM:<alice@example.org> SIZE=21\r\nRCPT TO:<a@example.net>\r\n"
                              "RCPT TO:<b@example.net>\r\nDATA\r\n";
    run_cases({
        {"MAIL, RCPTs and DATA in one write", settings(),
         {{greeting, ehlo_pipelining, "250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no\r\n354 go\r\n",
           "250 2.0.0 queued\r\n", "221 2.0.0 bye\r\n"},
          {message(body, {"a@example.net", "b@example.net"})}},
         "EHLO client.example.org\r\n" + group + body_wire + "QUIT\r\n",
         {{"250 2.0.0 (end of DATA)", "550 5.1.1 (RCPT TO)"}},
         ""},
        {"MAIL refused: the 503s that follow are read past", settings(),
         {{greeting, ehlo_pipelining, "550 5.7.1 no\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n"
                                      "503 5.5.1 need RCPT\r\n", "221 bye\r\n"},
          {message(body, {"a@example.net", "b@example.net"})}},
         "EHLO client.example.org\r\n" + group + "QUIT\r\n",
         {{"550 5.7.1 (MAIL FROM)", "550 5.7.1 (MAIL FROM)"}},
         ""},
        {"no recipient accepted but DATA 354: an empty end", settings(),
         {{greeting, ehlo_pipelining, "250 ok\r\n550 5.1.1 no\r\n550 5.1.1 no\r\n354 go\r\n",
           "554 5.5.1 no valid recipients\r\n", "221 bye\r\n"},
          {message(body, {"a@example.net", "b@example.net"})}},
         "EHLO client.example.org\r\n" + group + ".\r\nQUIT\r\n",
         {{"550 5.1.1 (RCPT TO)", "550 5.1.1 (RCPT TO)"}},
         ""},
        {"RSET then a pipelined group", settings(),
         {{greeting, ehlo_pipelining, "250 ok\r\n450 4.2.0 no\r\n554 5.5.1 no recipients\r\n", "250 ok\r\n",
           "250 ok\r\n250 ok\r\n354 go\r\n", "250 ok\r\n", "221 bye\r\n"},
          {message(body, {"a@example.net"}), message(body, {"b@example.net"})}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org> SIZE=21\r\nRCPT TO:<a@example.net>\r\nDATA\r\n"
         "RSET\r\nMAIL FROM:<alice@example.org> SIZE=21\r\nRCPT TO:<b@example.net>\r\nDATA\r\n" + body_wire +
             "QUIT\r\n",
         {{"450 4.2.0 (RCPT TO)"}, {"250  (end of DATA)"}},
         ""},
    });
}

TEST(ClientSession, Lmtp) {
    run_cases({
        {"one reply per accepted recipient after the dot", settings(ClientTls::none, true),
         {{"220 dovecot ready\r\n", "250-dovecot\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n",
           "250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 unknown\r\n250 2.1.5 ok\r\n354 go\r\n",
           "250 2.0.0 saved\r\n452 4.2.2 over quota\r\n", "221 bye\r\n"},
          {message(body, {"a@example.org", "x@example.org", "c@example.org"})}},
         "LHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<a@example.org>\r\n"
         "RCPT TO:<x@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n" + body_wire + "QUIT\r\n",
         {{"250 2.0.0 (end of DATA)", "550 5.1.1 (RCPT TO)", "452 4.2.2 (end of DATA)"}},
         ""},
        {"LHLO refused: no HELO in LMTP", settings(ClientTls::none, true),
         {{"220 lmtp\r\n", "500 5.5.1 unknown command\r\n", "221 bye\r\n"}, {message(body, {"a@example.org"})}},
         "LHLO client.example.org\r\nQUIT\r\n",
         {},
         "hello_refused: the server refused LHLO: 500 5.5.1 unknown command"},
        {"connection lost between the per-recipient replies", settings(ClientTls::none, true),
         {{"220 lmtp\r\n", "250-lmtp\r\n250 PIPELINING\r\n", "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n",
           "250 2.0.0 saved\r\n"},
          {message(body, {"a@example.org", "b@example.org"})}},
         "LHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<a@example.org>\r\n"
         "RCPT TO:<b@example.org>\r\nDATA\r\n" + body_wire,
         {{"250 2.0.0 (end of DATA)", "451 4.4.2 (local)"}},
         "connection_lost: the connection was lost (waiting for the reply to end of DATA)"},
    });
}

TEST(ClientSession, StartTls) {
    const std::string after_tls = "EHLO client.example.org\r\nMAIL FROM:<alice@example.org> BODY=8BITMIME\r\n"
                                  "RCPT TO:<b@example.net>\r\nDATA\r\n" + body_wire + "QUIT\r\n";
    const std::string ehlo_after_tls = "250-mx.example.net\r\n250 8BITMIME\r\n";
    auto eight_bit = message(body, {"b@example.net"});
    eight_bit.eight_bit = true;
    run_cases({
        {"opportunistic, offered: EHLO again inside TLS", settings(ClientTls::opportunistic),
         {{greeting, ehlo_starttls, "220 2.0.0 go ahead\r\n", ehlo_after_tls, "250 ok\r\n", "250 ok\r\n",
           "354 go\r\n", "250 ok\r\n", "221 bye\r\n"},
          {eight_bit}},
         "EHLO client.example.org\r\nSTARTTLS\r\n[TLS]" + after_tls,
         {{"250  (end of DATA)"}},
         ""},
        {"opportunistic, not offered: plaintext", settings(ClientTls::opportunistic),
         {{greeting, ehlo_after_tls, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n", "221 bye\r\n"},
          {eight_bit}},
         after_tls,
         {{"250  (end of DATA)"}},
         ""},
        {"opportunistic, refused: plaintext", settings(ClientTls::opportunistic),
         {{greeting, ehlo_starttls, "454 4.7.0 TLS not available\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n",
           "250 ok\r\n", "221 bye\r\n"},
          {eight_bit}},
         "EHLO client.example.org\r\nSTARTTLS\r\nMAIL FROM:<alice@example.org> BODY=8BITMIME\r\n"
         "RCPT TO:<b@example.net>\r\nDATA\r\n" + body_wire + "QUIT\r\n",
         {{"250  (end of DATA)"}},
         ""},
        {"required, not offered", settings(ClientTls::required),
         {{greeting, ehlo_plain, "221 bye\r\n"}, {eight_bit}},
         "EHLO client.example.org\r\nQUIT\r\n",
         {},
         "tls_not_offered: the server does not offer STARTTLS"},
        {"required, refused", settings(ClientTls::required),
         {{greeting, ehlo_starttls, "454 4.7.0 no\r\n", "221 bye\r\n"}, {eight_bit}},
         "EHLO client.example.org\r\nSTARTTLS\r\nQUIT\r\n",
         {},
         "tls_refused: the server refused STARTTLS: 454 4.7.0 no"},
        {"required, handshake fails: no QUIT", settings(ClientTls::required),
         {{greeting, ehlo_starttls, "220 go\r\n"}, {eight_bit}, false},
         "EHLO client.example.org\r\nSTARTTLS\r\n[TLS]",
         {},
         "tls_failed: TLS handshake failed: certificate verify failed"},
        {"none: STARTTLS offered but not used", settings(ClientTls::none),
         {{greeting, ehlo_starttls, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n", "221 bye\r\n"},
          {eight_bit}},
         after_tls,
         {{"250  (end of DATA)"}},
         ""},
    });
}

// CVE-2011-0411, client side: a reply injected after the 220 to STARTTLS, in
// plaintext, must not be taken as the first reply inside TLS.
TEST(ClientSession, StartTlsInjectionIsRefused) {
    for (const auto& split : {testing::Splitter(testing::whole)}) {
        ClientSession session(settings(ClientTls::opportunistic));
        PeerScript script{{greeting, ehlo_starttls, "220 go\r\n250-fake\r\n250 AUTH PLAIN\r\n"}, {}, true, split};
        const PeerRun run = run_peer(session, script);
        EXPECT_EQ(run.sent, "EHLO client.example.org\r\nSTARTTLS\r\n") << "got " << run.sent;
        EXPECT_EQ(run.failure,
                  "protocol: the server sent data after its reply to STARTTLS (possible injection)")
            << "got " << run.failure;
    }
}

TEST(ClientSession, Auth) {
    ClientSettings tls_auth = settings(ClientTls::none);
    tls_auth.implicit_tls = true;
    tls_auth.credentials = ClientCredentials{"alice@example.org", "s3cret"};
    ClientSettings plain_auth = tls_auth;
    plain_auth.implicit_tls = false;
    ClientSettings starttls_auth = tls_auth;
    starttls_auth.implicit_tls = false;
    starttls_auth.tls = ClientTls::required;
    // base64("\0alice@example.org\0s3cret"), base64("alice@example.org"), base64("s3cret")
    const std::string plain = "AGFsaWNlQGV4YW1wbGUub3JnAHMzY3JldA==";
    const std::string user = "YWxpY2VAZXhhbXBsZS5vcmc=";
    const std::string pass = "czNjcmV0";
    const std::string mail = "MAIL FROM:<alice@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n" + body_wire;
    const std::string ok_tail = "250 ok\r\n";
    run_cases({
        {"PLAIN inside implicit TLS", tls_auth,
         {{greeting, ehlo_auth, "235 2.7.0 ok\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", ok_tail,
           "221 bye\r\n"},
          {message(body, {"b@example.net"})}},
         "EHLO client.example.org\r\nAUTH PLAIN " + plain + "\r\n" + mail + "QUIT\r\n",
         {{"250  (end of DATA)"}},
         ""},
        {"LOGIN after STARTTLS", starttls_auth,
         {{greeting, ehlo_starttls, "220 go\r\n", ehlo_login_only, "334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n",
           "235 2.7.0 ok\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", ok_tail, "221 bye\r\n"},
          {message(body, {"b@example.net"})}},
         "EHLO client.example.org\r\nSTARTTLS\r\n[TLS]EHLO client.example.org\r\nAUTH LOGIN\r\n" + user + "\r\n" +
             pass + "\r\n" + mail + "QUIT\r\n",
         {{"250  (end of DATA)"}},
         ""},
        {"credentials but no TLS: never sent", plain_auth,
         {{greeting, ehlo_auth, "221 bye\r\n"}, {message(body, {"b@example.net"})}},
         "EHLO client.example.org\r\nQUIT\r\n",
         {},
         "auth_needs_tls: refusing to send the password over a connection without TLS"},
        {"535: wrong password", tls_auth,
         {{greeting, ehlo_auth,
           "535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
           "535 5.7.8 https://support.google.com/mail/?p=BadCredentials x - gsmtp\r\n",
           "221 bye\r\n"},
          {message(body, {"b@example.net"})}},
         "EHLO client.example.org\r\nAUTH PLAIN " + plain + "\r\nQUIT\r\n",
         {},
         "auth_refused: the server refused the username or password: 535 5.7.8 Username and Password not accepted"},
        {"534: application-specific password", tls_auth,
         {{greeting, ehlo_auth, "534 5.7.9 Application-specific password required\r\n", "221 bye\r\n"}, {}},
         "EHLO client.example.org\r\nAUTH PLAIN " + plain + "\r\nQUIT\r\n",
         {},
         "auth_refused: the server requires a stronger mechanism or an application-specific password"},
        {"no AUTH offered", tls_auth,
         {{greeting, ehlo_plain, "221 bye\r\n"}, {}},
         "EHLO client.example.org\r\nQUIT\r\n",
         {},
         "auth_unsupported: the server does not offer AUTH"},
        {"only other mechanisms", tls_auth,
         {{greeting, "250-mx\r\n250 AUTH XOAUTH2 CRAM-MD5\r\n", "221 bye\r\n"}, {}},
         "EHLO client.example.org\r\nQUIT\r\n",
         {},
         "auth_unsupported: the server offers neither AUTH PLAIN nor LOGIN"},
        {"unexpected challenge to PLAIN: cancelled", tls_auth,
         {{greeting, ehlo_auth, "334 eyJzdGF0dXMiOiI0MDEifQ==\r\n", "501 5.7.0 cancelled\r\n", "221 bye\r\n"}, {}},
         "EHLO client.example.org\r\nAUTH PLAIN " + plain + "\r\n*\r\nQUIT\r\n",
         {},
         "auth_refused: authentication failed: 501 5.7.0 cancelled"},
    });
}

TEST(ClientSession, ChecksBeforeSending) {
    auto big = message(std::string(1001, 'x'), {"a@example.net", "b@example.net"});
    auto utf8 = message(body, {"b@example.net"});
    utf8.smtputf8 = true;
    auto utf8_address = message(body, {"j\xc3\xb6rg@example.net"});
    auto eight_bit = message(body, {"b@example.net"});
    eight_bit.eight_bit = true;
    auto bad_rcpt = message(body, {"a@example.net>\r\nRCPT TO:<evil@example.net", "b@example.net"});
    auto bad_sender = message(body, {"b@example.net"}, "a@x\r\nRSET");
    const std::string ehlo_size = "250-mx\r\n250 SIZE 1000\r\n";
    run_cases({
        {"larger than SIZE: nothing sent", settings(),
         {{greeting, ehlo_size, "221 bye\r\n"}, {big}},
         "EHLO client.example.org\r\nQUIT\r\n",
         {{"552 5.3.4 (local)", "552 5.3.4 (local)"}},
         ""},
        {"SMTPUTF8 needed, not offered", settings(),
         {{greeting, ehlo_size, "221 bye\r\n"}, {utf8, utf8_address}},
         "EHLO client.example.org\r\nQUIT\r\n",
         {{"553 5.6.7 (local)"}, {"553 5.6.7 (local)"}},
         ""},
        {"SMTPUTF8 offered: the parameter is sent", settings(),
         {{greeting, ehlo_pipelining, "250 ok\r\n250 ok\r\n354 go\r\n", "250 ok\r\n", "221 bye\r\n"}, {utf8_address}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org> SIZE=21 SMTPUTF8\r\nRCPT TO:<j\xc3\xb6rg@example.net>\r\n"
         "DATA\r\n" + body_wire + "QUIT\r\n",
         {{"250  (end of DATA)"}},
         ""},
        {"8-bit without 8BITMIME", settings(),
         {{greeting, ehlo_size, "221 bye\r\n"}, {eight_bit}},
         "EHLO client.example.org\r\nQUIT\r\n",
         {{"554 5.6.3 (local)"}},
         ""},
        {"8-bit after HELO", settings(),
         {{greeting, "502 no\r\n", "250 mx\r\n", "221 bye\r\n"}, {eight_bit}},
         "EHLO client.example.org\r\nHELO client.example.org\r\nQUIT\r\n",
         {{"554 5.6.3 (local)"}},
         ""},
        {"a recipient with a line break is not sent", settings(),
         {{greeting, ehlo_plain, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n", "221 bye\r\n"}, {bad_rcpt}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n" + body_wire +
             "QUIT\r\n",
         {{"553 5.1.3 (local)", "250  (end of DATA)"}},
         ""},
        {"a sender with a line break is not sent", settings(),
         {{greeting, ehlo_plain, "221 bye\r\n"}, {bad_sender}},
         "EHLO client.example.org\r\nQUIT\r\n",
         {{"501 5.1.7 (local)"}},
         ""},
    });
}

TEST(ClientSession, DsnParameters) {
    auto m = message(body, {"a@example.net", "b@example.net"});
    m.ret = "hdrs";
    m.envid = "Q1+x=y z";
    m.recipients[0].notify = "SUCCESS,FAILURE";
    m.recipients[0].orcpt = "rfc822;A+b@example.net";
    m.recipients[1].notify = "NEVER\r\nRSET";  // not a keyword list: dropped
    m.recipients[1].orcpt = "b@example.net";   // no type: rfc822
    run_cases({
        {"offered: RET, ENVID, NOTIFY, ORCPT (xtext)", settings(),
         {{greeting, ehlo_dsn, "250 ok\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n", "221 bye\r\n"},
          {m}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org> RET=HDRS ENVID=Q1+2Bx+3Dy+20z\r\n"
         "RCPT TO:<a@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;A+2Bb@example.net\r\n"
         "RCPT TO:<b@example.net> ORCPT=rfc822;b@example.net\r\nDATA\r\n" + body_wire + "QUIT\r\n",
         {{"250  (end of DATA)", "250  (end of DATA)"}},
         ""},
        {"not offered: none sent", settings(),
         {{greeting, ehlo_plain, "250 ok\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n", "221 bye\r\n"},
          {m}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<a@example.net>\r\n"
         "RCPT TO:<b@example.net>\r\nDATA\r\n" + body_wire + "QUIT\r\n",
         {{"250  (end of DATA)", "250  (end of DATA)"}},
         ""},
    });
}

TEST(ClientSession, DataIsDotStuffedWithCrlfOnly) {
    struct DataCase {
        std::string data;
        std::string wire;
    };
    const std::vector<DataCase> cases{
        {"", ".\r\n"},
        {"a\r\n", "a\r\n.\r\n"},
        {"no final line end", "no final line end\r\n.\r\n"},
        {".leading\r\n..two\r\n.\r\n", "..leading\r\n...two\r\n..\r\n.\r\n"},
        {"a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"},          // an early end of data is stuffed
        {"a\n.\nb\n", "a\r\n..\r\nb\r\n.\r\n"},                // bare LF: smuggling attempt made harmless
        {"a\r.\rb", "a\r\n..\r\nb\r\n.\r\n"},                  // bare CR
        {"x.\r\n", "x.\r\n.\r\n"},                              // a dot not at a line start stays
        {"a\r\n\r\n", "a\r\n\r\n.\r\n"},
    };
    for (const auto& c : cases) {
        for (const std::size_t block : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{64 * 1024}}) {
            ClientSettings s = settings();
            s.data_block_size = block;
            ClientSession session(s);
            const PeerRun run = run_peer(
                session, {{greeting, ehlo_plain, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n", "221 bye\r\n"},
                          {message(c.data, {"b@example.net"})}});
            const std::string head = "EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\n"
                                     "RCPT TO:<b@example.net>\r\nDATA\r\n";
            const std::string want = head + c.wire + "QUIT\r\n";
            EXPECT_EQ(run.sent, want) << "block " << block << "\n got " << ::testing::PrintToString(run.sent)
                                      << "\nwant " << ::testing::PrintToString(want);
        }
    }
}

TEST(ClientSession, GreetingAndConnectionFailures) {
    run_cases({
        {"554 greeting: QUIT", settings(),
         {{"554 5.7.1 no mail from you\r\n", "221 bye\r\n"}, {message(body, {"b@example.net"})}},
         "QUIT\r\n",
         {},
         "greeting_refused: the server refused the connection: 554 5.7.1 no mail from you"},
        {"421 greeting: just close", settings(),
         {{"421 4.3.2 busy\r\n"}, {message(body, {"b@example.net"})}},
         "",
         {},
         "greeting_refused: the server refused the connection: 421 4.3.2 busy"},
        {"closed before the greeting", settings(),
         {{}, {}},
         "",
         {},
         "connection_lost: the connection was lost (waiting for the greeting)"},
        {"lost after DATA: temporary for all", settings(),
         {{greeting, ehlo_plain, "250 ok\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n"},
          {message(body, {"a@example.net", "b@example.net"})}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<a@example.net>\r\n"
         "RCPT TO:<b@example.net>\r\nDATA\r\n" + body_wire,
         {{"451 4.4.2 (local)", "451 4.4.2 (local)"}},
         "connection_lost: the connection was lost (waiting for the reply to end of DATA)"},
        {"421 to RCPT: the rest gets it too", settings(),
         {{greeting, ehlo_plain, "250 ok\r\n", "250 ok\r\n", "421 4.4.2 shutting down\r\n"},
          {message(body, {"a@example.net", "b@example.net", "c@example.net"})}},
         "EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<a@example.net>\r\n"
         "RCPT TO:<b@example.net>\r\n",
         {{"421 4.4.2 (RCPT TO)", "421 4.4.2 (RCPT TO)", "421 4.4.2 (RCPT TO)"}},
         "service_closing: the server closed the session: 421 4.4.2 shutting down"},
        {"the server closes after QUIT without 221", settings(),
         {{greeting, ehlo_plain}, {}},
         "EHLO client.example.org\r\nQUIT\r\n",
         {},
         ""},
    });
}

TEST(ClientSession, MalformedRepliesAreProtocolErrors) {
    struct Bad {
        std::string name;
        std::string reply;  // the reply to EHLO
        std::string want;
        bool together_only = false;
    };
    const std::vector<Bad> cases{
        {"no code", "hello\r\n", "protocol: malformed reply: reply line without a valid code"},
        {"garbage", "\x01\x02\xff\r\n", "protocol: malformed reply: reply line without a valid code"},
        {"short", "25\r\n", "protocol: malformed reply: reply line without a valid code"},
        {"bad first digit", "650 ok\r\n", "protocol: malformed reply: reply line without a valid code"},
        {"bad second digit", "260 ok\r\n", "protocol: malformed reply: reply line without a valid code"},
        {"no separator", "250x\r\n", "protocol: malformed reply: reply code not followed by space or hyphen"},
        {"codes differ", "250-mx\r\n251 ok\r\n", "protocol: malformed reply: reply lines with different codes"},
        {"overlong line", "250 " + std::string(3000, 'x') + "\r\n",
         "protocol: malformed reply: reply line longer than 2048 octets"},
        {"endless line", "250-" + std::string(100000, 'x'), "protocol: malformed reply: reply line longer than 2048"},
        {"too many lines", [] {
             std::string r;
             for (int i = 0; i < 200; ++i) r += "250-X" + std::to_string(i) + "\r\n";
             return r + "250 end\r\n";
         }(),
         "protocol: malformed reply: reply longer than 100 lines"},
        {"250- without a last line", "250-mx\r\n250-PIPELINING\r\n",
         "connection_lost: the connection was lost (waiting for the reply to EHLO)"},
        // Only when both arrive together: one byte at a time, the second reply comes
        // after MAIL was sent and is indistinguishable from its answer.
        {"two replies to one command", "250 mx\r\n250 again\r\n",
         "protocol: the server sent more than one reply to EHLO", true},
    };
    for (const auto& c : cases) {
        for (const auto& split : {testing::Splitter(testing::whole), testing::Splitter(testing::bytewise)}) {
            if (c.together_only && split.target<std::vector<std::string> (*)(const std::string&)>() != nullptr &&
                *split.target<std::vector<std::string> (*)(const std::string&)>() == &testing::bytewise) {
                continue;
            }
            ClientSession session(settings());
            const PeerRun run = run_peer(session, {{greeting, c.reply}, {message(body, {"b@example.net"})}, true, split});
            EXPECT_EQ(run.failure.substr(0, c.want.size()), c.want) << c.name << ": got " << run.failure;
            EXPECT_EQ(run.sent, "EHLO client.example.org\r\n") << c.name << ": got " << run.sent;
            EXPECT_EQ(session.state(), ClientState::closed) << c.name;
        }
    }
}

TEST(ClientSession, PhasesForTimeouts) {
    ClientSession session(settings());
    const PeerRun run = run_peer(
        session, {{greeting, ehlo_plain, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n", "221 bye\r\n"},
                  {message(body, {"b@example.net"})}});
    const std::vector<std::string> want{
        "waiting for the greeting",          "waiting for the reply to EHLO",   "waiting for the reply to MAIL FROM",
        "waiting for the reply to RCPT TO",  "waiting for the reply to DATA",   "waiting for the reply to end of DATA",
        "waiting for the reply to QUIT"};
    EXPECT_EQ(run.phases, want) << "got " << ::testing::PrintToString(run.phases);
}

TEST(ClientSession, TimeoutFailsThePendingStep) {
    ClientSession session(settings());
    session.next();  // ClientReceive for the greeting
    session.feed(greeting);
    const auto send = session.next();
    ASSERT_TRUE(std::holds_alternative<ClientSend>(send));
    ASSERT_TRUE(std::holds_alternative<ClientReceive>(session.next()));
    EXPECT_EQ(session.phase(), ClientPhase::hello);
    session.timed_out();
    EXPECT_TRUE(std::holds_alternative<ClientClose>(session.next()));
    ASSERT_TRUE(session.failure().has_value());
    EXPECT_EQ(session.failure()->reason, "timed out (waiting for the reply to EHLO)");
    EXPECT_EQ(session.failure()->phase, ClientPhase::hello);
    EXPECT_FALSE(session.reusable());
}

TEST(ClientSession, DriverMisuseIsALogicError) {
    ClientSession session(settings());
    EXPECT_THROW(session.begin(message(body, {"b@example.net"})), std::logic_error);
    EXPECT_THROW(session.quit(), std::logic_error);
    EXPECT_THROW(session.tls_started(), std::logic_error);
}

TEST(ClientSession, ObserverSeesStatesAndReplies) {
    struct Recorder : ClientObserver {
        std::vector<std::string> events;
        void state_changed(ClientState from, ClientState to) override {
            events.push_back(std::string(to_string(from)) + "->" + std::string(to_string(to)));
        }
        void replied(std::string_view command, const Reply& r) override {
            events.push_back(std::string(command) + " " + std::to_string(r.code));
        }
    } recorder;
    ClientSession session(settings(), &recorder);
    run_peer(session, {{greeting, ehlo_plain, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n", "221 bye\r\n"},
                       {message(body, {"b@example.net"})}});
    const std::vector<std::string> want{
        "greeting 220", "connect->hello", "EHLO 250",  "hello->ready",    "ready->mail",
        "MAIL FROM 250", "mail->rcpt",    "RCPT TO 250", "DATA 354",      "rcpt->data",
        "end of DATA 250", "data->ready", "ready->quit", "QUIT 221",      "quit->closed"};
    EXPECT_EQ(recorder.events, want) << "got " << ::testing::PrintToString(recorder.events);
}

}  // namespace
}  // namespace cartero::smtp

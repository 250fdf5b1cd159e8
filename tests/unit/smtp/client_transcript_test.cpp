// ClientSession's additions for `cartero check`: the transcript (credentials
// never in it, the message text as a note of its size) and the envelope-only
// transaction (MAIL and RCPT, no DATA, RSET before the next), each with and
// without PIPELINING and with the server's replies split at every byte.
#include <gtest/gtest.h>

#include "client_peer.hpp"

namespace cartero::smtp {
namespace {

using testing::message;
using testing::run_peer;
using testing::settings;

const std::string greeting = "220 mx.example.net ESMTP\r\n";
const std::string body = "Subject: t\r\n\r\nhello\r\n";

std::string show(const std::vector<TranscriptLine>& lines) {
    std::string out;
    for (const auto& l : lines) {
        out += l.source == TranscriptSource::client ? "C: " : l.source == TranscriptSource::server ? "S: " : "-- ";
        out += l.text + "\n";
    }
    return out;
}

struct TranscriptCase {
    std::string name;
    std::string ehlo;  // after TLS
    std::string auth_turns;
    std::string want;
};

TEST(ClientTranscript, CredentialsAreRedactedAndTheMessageIsANote) {
    const std::vector<TranscriptCase> cases = {
        {"AUTH PLAIN", "250-mx\r\n250 AUTH PLAIN\r\n", "235 2.7.0 ok\r\n",
         "S: 220 mx.example.net ESMTP\nC: EHLO client.example.org\nS: 250-mx\nS: 250 STARTTLS\nC: STARTTLS\n"
         "S: 220 2.0.0 go\n-- (TLS started)\nC: EHLO client.example.org\nS: 250-mx\nS: 250 AUTH PLAIN\n"
         "C: AUTH PLAIN ****\nS: 235 2.7.0 ok\nC: MAIL FROM:<alice@example.org>\nS: 250 2.1.0 ok\n"
         "C: RCPT TO:<bob@example.net>\nS: 250 2.1.5 ok\nC: DATA\nS: 354 go\n-- (21 octets of message text)\n"
         "C: .\nS: 250 2.0.0 queued as ABC\nC: QUIT\nS: 221 2.0.0 bye\n"},
        {"AUTH LOGIN", "250-mx\r\n250 AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n",
         "S: 220 mx.example.net ESMTP\nC: EHLO client.example.org\nS: 250-mx\nS: 250 STARTTLS\nC: STARTTLS\n"
         "S: 220 2.0.0 go\n-- (TLS started)\nC: EHLO client.example.org\nS: 250-mx\nS: 250 AUTH LOGIN\n"
         "C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: ****\nS: 334 UGFzc3dvcmQ6\nC: ****\nS: 235 2.7.0 ok\n"
         "C: MAIL FROM:<alice@example.org>\nS: 250 2.1.0 ok\n"
         "C: RCPT TO:<bob@example.net>\nS: 250 2.1.5 ok\nC: DATA\nS: 354 go\n-- (21 octets of message text)\n"
         "C: .\nS: 250 2.0.0 queued as ABC\nC: QUIT\nS: 221 2.0.0 bye\n"},
    };
    for (const auto& c : cases) {
        for (std::size_t split = 0; split < 40; ++split) {
            auto s = settings(ClientTls::required);
            s.keep_transcript = true;
            s.credentials = ClientCredentials{"alice@example.org", "s3cret-Pa55"};
            ClientSession session(s);
            std::vector<std::string> turns{greeting, "250-mx\r\n250 STARTTLS\r\n", "220 2.0.0 go\r\n", c.ehlo,
                                           c.auth_turns};
            if (c.name == "AUTH LOGIN") {
                turns.push_back("334 UGFzc3dvcmQ6\r\n");
                turns.push_back("235 2.7.0 ok\r\n");
            }
            for (const char* t : {"250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n", "354 go\r\n", "250 2.0.0 queued as ABC\r\n",
                                  "221 2.0.0 bye\r\n"})
                turns.emplace_back(t);
            const auto run = run_peer(session, {turns, {message(body, {"bob@example.net"})}, true,
                                                testing::split_at(split)});
            const std::string got = show(session.transcript());
            EXPECT_EQ(got, c.want) << c.name << " split at " << split;
            EXPECT_EQ(got.find("s3cret"), std::string::npos) << c.name;
            // The base64 of the password (LOGIN) and of the PLAIN response never appear either.
            EXPECT_EQ(got.find("czNjcmV0"), std::string::npos) << c.name;
            EXPECT_EQ(got.find("AGFsaWNl"), std::string::npos) << c.name;
            EXPECT_TRUE(run.failure.empty()) << c.name << ": " << run.failure;
        }
    }
}

TEST(ClientTranscript, OffByDefault) {
    ClientSession session(settings());
    run_peer(session, {{greeting, "250 mx\r\n", "221 bye\r\n"}, {}});
    EXPECT_TRUE(session.transcript().empty());
}

struct EnvelopeCase {
    std::string name;
    std::string ehlo;
    std::vector<std::string> turns;  // after the EHLO reply
    std::vector<std::string> recipients;
    int transactions;
    std::string want_sent;  // after "EHLO client.example.org\r\n"
    std::string want_results;
};

std::string results_of(const testing::PeerRun& run) {
    std::string out;
    for (const auto& t : run.results)
        for (const auto& r : t) out += r + "; ";
    return out;
}

TEST(ClientEnvelopeOnly, StopsBeforeDataAndResetsBeforeTheNext) {
    const std::vector<EnvelopeCase> cases = {
        {"one recipient accepted", "250 mx\r\n", {"250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n", "221 bye\r\n"},
         {"bob@example.net"}, 1,
         "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nQUIT\r\n", "250 2.1.5 (RCPT TO); "},
        {"relay denied", "250 mx\r\n",
         {"250 2.1.0 ok\r\n", "554 5.7.1 <bob@example.net>: Relay access denied\r\n", "221 bye\r\n"},
         {"bob@example.net"}, 1,
         "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nQUIT\r\n", "554 5.7.1 (RCPT TO); "},
        {"sender refused", "250 mx\r\n", {"553 5.7.1 not owned by user\r\n", "221 bye\r\n"}, {"bob@example.net"}, 1,
         "MAIL FROM:<alice@example.org>\r\nQUIT\r\n", "553 5.7.1 (MAIL FROM); "},
        {"pipelined, no DATA in the group", "250-mx\r\n250 PIPELINING\r\n",
         {"250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no\r\n", "221 bye\r\n"}, {"bob@example.net", "carol@example.net"},
         1, "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\nQUIT\r\n",
         "250 2.1.5 (RCPT TO); 550 5.1.1 (RCPT TO); "},
        {"pipelined, sender refused", "250-mx\r\n250 PIPELINING\r\n",
         {"553 5.7.1 no\r\n503 5.5.1 need MAIL\r\n", "221 bye\r\n"}, {"bob@example.net"}, 1,
         "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nQUIT\r\n", "553 5.7.1 (MAIL FROM); "},
        {"two transactions: RSET between", "250 mx\r\n",
         {"250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n", "250 2.0.0 reset\r\n", "250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n",
          "221 bye\r\n"},
         {"bob@example.net"}, 2,
         "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nRSET\r\nMAIL FROM:<alice@example.org>\r\n"
         "RCPT TO:<bob@example.net>\r\nQUIT\r\n",
         "250 2.1.5 (RCPT TO); 250 2.1.5 (RCPT TO); "},
    };
    for (const auto& c : cases) {
        for (std::size_t split = 0; split < 30; ++split) {
            ClientSession session(settings());
            std::vector<std::string> turns{greeting, c.ehlo};
            turns.insert(turns.end(), c.turns.begin(), c.turns.end());
            auto m = message(body, c.recipients);
            m.envelope_only = true;
            std::vector<ClientMessage> messages(static_cast<std::size_t>(c.transactions), m);
            const auto run = run_peer(session, {turns, messages, true, testing::split_at(split)});
            EXPECT_EQ(run.sent, "EHLO client.example.org\r\n" + c.want_sent) << c.name << " split at " << split;
            EXPECT_EQ(results_of(run), c.want_results) << c.name << " split at " << split;
            EXPECT_TRUE(run.failure.empty()) << c.name << ": " << run.failure;
        }
    }
}

}  // namespace
}  // namespace cartero::smtp

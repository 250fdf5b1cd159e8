// compose(): the DSN's headers, human-readable text, delivery-status fields and
// returned content, table-driven; plus the hostile-input cases (a remote reply with
// CR/LF, an original that contains the boundary) and explain()/format_date().
#include <gtest/gtest.h>

#include "dsn_fixture.hpp"

namespace cartero::bounce {
namespace {

using testing::bob_unknown;
using testing::carol_delayed;
using testing::envelope;
using testing::input;
using testing::original_message;

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::string compose_or_fail(const ReportInput& in, const spool::Envelope& e, const std::vector<RecipientStatus>& r,
                            std::string_view original = original_message) {
    const auto composed = compose(in, e, r, original);
    if (!composed) {
        ADD_FAILURE() << "compose gave nothing";
        return {};
    }
    return composed->bytes;
}

TEST(Compose, FailureReportHasEveryPart) {
    auto e = envelope();
    e.envid = "QQ314159";
    e.recipient_dsn = {{0, "rfc822", "Bob@example.net"}};
    const std::string got = compose_or_fail(input(ReportKind::failure), e, {bob_unknown()});
    const std::vector<std::string> want{
        "From: \"Mail Delivery System\" <MAILER-DAEMON@mx.example.org>\r\n",
        "To: <s@example.org>\r\n",
        "Subject: Undelivered Mail Returned to Sender\r\n",
        "Date: Tue, 14 Nov 2023 23:13:20 +0000\r\n",
        "Message-ID: <dsn-1@mx.example.org>\r\n",
        "Auto-Submitted: auto-replied\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: multipart/report; report-type=delivery-status;",
        "Content-Type: text/plain; charset=us-ascii\r\n",
        "Your message to <bob@example.net> could not be delivered.\r\n",
        "  The server mx1.example.net answered:\r\n"
        "    550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown\r\n",
        "What this means: The address does not exist at the receiving side. (5.1.1)",
        "What you can do: Check the address for typing mistakes",
        "The original message is attached.\r\n",
        "Content-Type: message/delivery-status\r\n",
        "Reporting-MTA: dns; mx.example.org\r\n",
        "Original-Envelope-Id: QQ314159\r\n",
        "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n",
        "\r\nOriginal-Recipient: rfc822;Bob@example.net\r\n"
        "Final-Recipient: rfc822; bob@example.net\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "Remote-MTA: dns; mx1.example.net\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: Recipient address\r\n"
        " rejected: User unknown\r\n"
        "Last-Attempt-Date: Tue, 14 Nov 2023 22:15:00 +0000\r\n",
        "Content-Type: message/rfc822\r\n",
        "Content-Transfer-Encoding: 7bit\r\n\r\n" + original_message,
    };
    for (const auto& piece : want) EXPECT_TRUE(contains(got, piece)) << "missing:\n" << piece << "\nin:\n" << got;
    EXPECT_FALSE(contains(got, "Will-Retry-Until")) << "only delay reports say when retries end";
    EXPECT_EQ(got.find("\n"), got.find("\r\n") + 1) << "CRLF line ends";
    for (std::size_t at = got.find('\n'); at != std::string::npos; at = got.find('\n', at + 1))
        ASSERT_EQ(got[at - 1], '\r') << "bare LF at " << at;
}

TEST(Compose, SubjectAndActionPerKind) {
    struct Case {
        ReportKind kind;
        Outcome outcome;
        std::string subject;
        std::string action;
        std::string returned_type;
    };
    const std::vector<Case> cases{
        {ReportKind::failure, Outcome::failed, "Undelivered Mail Returned to Sender", "failed", "message/rfc822"},
        {ReportKind::delay, Outcome::delayed, "Delayed Mail (still being retried)", "delayed", "text/rfc822-headers"},
        {ReportKind::success, Outcome::delivered, "Successful Mail Delivery Report", "delivered",
         "text/rfc822-headers"},
        {ReportKind::success, Outcome::relayed, "Successful Mail Delivery Report", "relayed", "text/rfc822-headers"},
    };
    for (const auto& c : cases) {
        RecipientStatus r;
        r.index = 2;
        r.outcome = c.outcome;
        const std::string got = compose_or_fail(input(c.kind), envelope(), {r});
        EXPECT_TRUE(contains(got, "Subject: " + c.subject + "\r\n")) << c.subject;
        EXPECT_TRUE(contains(got, "Final-Recipient: rfc822; dave@example.com\r\nAction: " + c.action + "\r\n"))
            << c.action;
        EXPECT_TRUE(contains(got, "Content-Type: " + c.returned_type + "\r\n")) << c.action;
    }
}

TEST(Compose, DelayReportSaysUntilWhenAndThatNothingIsNeeded) {
    const std::string got = compose_or_fail(input(ReportKind::delay), envelope(), {carol_delayed()});
    for (const std::string piece : {
             "Subject: Delayed Mail (still being retried)\r\n",
             "there is nothing you need to do now.",
             "Your message to <carol@example.net> is delayed.\r\n",
             "    452 4.2.2 Mailbox full\r\n    please try later\r\n",
             "What this means: The recipient's mailbox is full. (4.2.2)",
             "Action: delayed\r\nStatus: 4.2.2\r\n",
             "Diagnostic-Code: smtp; 452 4.2.2 Mailbox full please try later\r\n",
             "Will-Retry-Until: Sun, 19 Nov 2023 22:13:20 +0000\r\n",
             "The headers of the original message are attached.",
         }) {
        EXPECT_TRUE(contains(got, piece)) << "missing:\n" << piece << "\nin:\n" << got;
    }
    EXPECT_TRUE(contains(got, "delivery is retried until Sun, 19 Nov 2023 22:13:20 +0000."));
    EXPECT_FALSE(contains(got, "Hello Bob")) << "a delay report returns headers only";
    EXPECT_TRUE(contains(got, "Subject: quarterly figures\r\n"));
}

TEST(Compose, WhatIsReturned) {
    struct Case {
        const char* name;
        spool::DsnReturn ret;
        std::size_t limit;
        bool body;
        std::string note;
    };
    const std::vector<Case> cases{
        {"RET unset, small", spool::DsnReturn::unset, 50000, true, "The original message is attached."},
        {"RET=FULL, small", spool::DsnReturn::full, 50000, true, "The original message is attached."},
        {"RET=HDRS", spool::DsnReturn::headers, 50000, false, "as the sender asked (RET=HDRS)"},
        {"RET=FULL over the limit", spool::DsnReturn::full, 100, false, "it is larger than 100 octets"},
        {"exactly at the limit", spool::DsnReturn::unset, original_message.size(), true,
         "The original message is attached."},
    };
    for (const auto& c : cases) {
        auto e = envelope();
        e.ret = c.ret;
        auto in = input(ReportKind::failure);
        in.size_limit = c.limit;
        const std::string got = compose_or_fail(in, e, {bob_unknown()});
        EXPECT_EQ(contains(got, "the figures are attached."), c.body) << c.name;
        EXPECT_EQ(contains(got, "Content-Type: message/rfc822"), c.body) << c.name;
        EXPECT_EQ(contains(got, "Content-Type: text/rfc822-headers"), !c.body) << c.name;
        EXPECT_TRUE(contains(got, "Message-ID: <orig-1@example.org>\r\n")) << c.name;
        EXPECT_TRUE(contains(got, c.note)) << c.name;
    }
}

TEST(Compose, NothingForTheNullSenderOrNoRecipients) {
    auto e = envelope();
    EXPECT_FALSE(compose(input(ReportKind::failure), e, {}, original_message));
    RecipientStatus out_of_range;
    out_of_range.index = 7;
    EXPECT_FALSE(compose(input(ReportKind::failure), e, {out_of_range}, original_message));
    e.sender = "";
    EXPECT_FALSE(compose(input(ReportKind::failure), e, {bob_unknown()}, original_message));
}

TEST(Compose, HostileRemoteReplyCannotAddHeadersOrParts) {
    auto r = bob_unknown();
    r.diagnostic = "550 no\r\nX-Injected: yes\r\n\r\n--=_QID999/mx.example.org--\r\nMore";
    r.remote_mta = "evil\r\nX-Host: injected";
    const std::string got = compose_or_fail(input(ReportKind::failure), envelope(), {r});
    EXPECT_FALSE(contains(got, "\r\nX-Injected")) << got;
    EXPECT_FALSE(contains(got, "\r\nX-Host")) << got;
    EXPECT_TRUE(contains(got, "Remote-MTA: dns; evil  X-Host: injected\r\n")) << got;
    // The reply's fake boundary is not the real one.
    const std::size_t at = got.find("boundary=\"");
    ASSERT_NE(at, std::string::npos);
    const std::string boundary = got.substr(at + 10, got.find('"', at + 10) - at - 10);
    EXPECT_NE(boundary, "=_QID999/mx.example.org");
}

TEST(Compose, BoundaryNeverOccursInTheOriginal) {
    const std::string trap = "Subject: x\r\n\r\n--=_QID999/mx.example.org\r\n--=_QID999/mx.example.org.1--\r\n";
    const std::string got = compose_or_fail(input(ReportKind::failure), envelope(), {bob_unknown()}, trap);
    const std::size_t at = got.find("boundary=\"");
    const std::string boundary = got.substr(at + 10, got.find('"', at + 10) - at - 10);
    EXPECT_EQ(trap.find(boundary), std::string::npos) << boundary;
    EXPECT_LE(boundary.size(), 70u);
    EXPECT_TRUE(contains(got, "\r\n--" + boundary + "--\r\n"));
}

TEST(Compose, EightBitOriginalIsSentAs8bit) {
    const std::string latin = "Subject: caf\xc3\xa9\r\n\r\nna\xc3\xafve body\r\n";
    const auto composed = compose(input(ReportKind::failure), envelope(), {bob_unknown()}, latin);
    ASSERT_TRUE(composed);
    EXPECT_TRUE(composed->eight_bit);
    EXPECT_FALSE(composed->smtputf8);
    EXPECT_TRUE(contains(composed->bytes, "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
                                              latin));
    const auto ascii = compose(input(ReportKind::failure), envelope(), {bob_unknown()}, original_message);
    ASSERT_TRUE(ascii);
    EXPECT_FALSE(ascii->eight_bit);
}

TEST(Compose, Utf8AddressesUseTheGlobalTypes) {
    auto e = envelope();
    e.smtputf8 = true;
    e.recipients[0] = "j\xc3\xb6rg@example.net";
    const auto composed = compose(input(ReportKind::failure), e, {bob_unknown()}, original_message);
    ASSERT_TRUE(composed);
    EXPECT_TRUE(composed->smtputf8);
    EXPECT_TRUE(contains(composed->bytes, "Content-Type: message/global-delivery-status\r\n"));
    EXPECT_TRUE(contains(composed->bytes, "Final-Recipient: utf-8; j\xc3\xb6rg@example.net\r\n"));
    EXPECT_TRUE(contains(composed->bytes, "Content-Type: message/global\r\n"));
}

TEST(Compose, ReasonWithoutAReply) {
    RecipientStatus r;
    r.index = 2;
    r.outcome = Outcome::failed;
    r.status = "5.1.10";
    r.reason = "Domain example.com accepts no mail (null MX)";
    const std::string got = compose_or_fail(input(ReportKind::failure), envelope(), {r});
    EXPECT_TRUE(contains(got, "  Reason: Domain example.com accepts no mail (null MX)\r\n"));
    EXPECT_TRUE(contains(got, "Diagnostic-Code: X-Cartero; Domain example.com accepts no mail (null MX)\r\n"));
    EXPECT_TRUE(contains(got, "(null MX, RFC 7505)"));
    EXPECT_FALSE(contains(got, "Remote-MTA"));
}

// Issue 8: an expired recipient's report says that we gave up and after how long,
// quotes the last error, and has Status 4.4.7 (RFC 3463 3.1 class 4 "caused
// abandonment", X.4.7 "delivery time expired") whatever that error's own code was.
TEST(Compose, ExpiredRecipientSaysWeGaveUpAfterTheQueueLifetime) {
    RecipientStatus carol = carol_delayed();
    carol.outcome = Outcome::failed;
    carol.retry_until = 0;
    carol.expired = true;
    ReportInput in = input(ReportKind::failure);
    in.queue_lifetime = 5 * 86400;
    const std::string got = compose_or_fail(in, envelope(), {carol});
    const std::vector<std::string> want{
        "Your message to <carol@example.net> could not be delivered: the mail system gave up.\r\n",
        "  Delivery was abandoned after 5 days of failed attempts, the longest a\r\n"
        "  message may wait in the queue. It will not be tried again.\r\n",
        "  The server mx1.example.net answered:\r\n    452 4.2.2 Mailbox full\r\n",
        "What this means: Delivery time expired: the mail system stopped trying",
        "(4.4.7)",
        "Action: failed\r\nStatus: 4.4.7\r\n",
        "Diagnostic-Code: smtp; 452 4.2.2 Mailbox full",
    };
    for (const auto& w : want) EXPECT_TRUE(contains(got, w)) << "missing \"" << w << "\" in:\n" << got;
    EXPECT_FALSE(contains(got, "Status: 4.2.2")) << got;
    EXPECT_FALSE(contains(got, "mailbox is full")) << "the text explains the expiry, not the last error's code:\n" << got;

    in.queue_lifetime = 3;
    EXPECT_TRUE(contains(compose_or_fail(in, envelope(), {carol}), "abandoned after 3 seconds of failed")) << got;
}

TEST(Compose, InvalidStatusFallsBackToTheOutcomeClass) {
    auto r = bob_unknown();
    r.status = "5.1.1\r\nX: y";
    EXPECT_TRUE(contains(compose_or_fail(input(ReportKind::failure), envelope(), {r}), "Status: 5.0.0\r\n"));
}

TEST(Explain, ExactThenSubjectThenClass) {
    struct Case {
        std::string status;
        std::string meaning_starts;
    };
    const std::vector<Case> cases{
        {"5.1.1", "The address does not exist"},
        {"5.2.2", "The recipient's mailbox is full"},
        {"4.2.2", "The recipient's mailbox is full"},
        {"5.1.10", "The recipient's domain says it accepts no mail"},
        {"5.1.99", "There is a problem with the recipient's address"},
        {"5.7.26", "The message failed the recipient domain's sender authentication"},
        {"5.7.99", "The receiving server refused the message for security"},
        {"5.9.9", "The message could not be delivered"},
        {"4.9.9", "There was a temporary problem"},
        {"2.0.0", "The message was delivered"},
        {"garbage", "The message could not be delivered"},
    };
    for (const auto& c : cases) {
        const std::string got(explain(c.status).meaning);
        EXPECT_EQ(got.substr(0, c.meaning_starts.size()), c.meaning_starts) << c.status << ": got " << got;
    }
}

TEST(FormatDate, Rfc5322) {
    EXPECT_EQ(format_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
    EXPECT_EQ(format_date(1700000000), "Tue, 14 Nov 2023 22:13:20 +0000");
    EXPECT_EQ(format_date(951782400), "Tue, 29 Feb 2000 00:00:00 +0000");
}

}  // namespace
}  // namespace cartero::bounce

// Which recipients get which report (RFC 3461 4.1, 5.2): table-driven over NOTIFY x
// outcome, the null sender, and a mixed message.
#include <gtest/gtest.h>

#include "bounce/dsn.hpp"

namespace cartero::bounce {
namespace {

using smtp::notify_delay;
using smtp::notify_failure;
using smtp::notify_never;
using smtp::notify_success;

std::string name(std::optional<ReportKind> kind) {
    if (!kind) return "none";
    switch (*kind) {
        case ReportKind::failure: return "failure";
        case ReportKind::delay: return "delay";
        case ReportKind::success: return "success";
    }
    return "?";
}

TEST(ReportFor, NotifyTimesOutcome) {
    struct Case {
        std::uint8_t notify;
        Outcome outcome;
        std::string want;
    };
    const std::uint8_t all = notify_success | notify_failure | notify_delay;
    const std::vector<Case> cases{
        // NOTIFY absent: FAILURE,DELAY (RFC 3461 4.1)
        {0, Outcome::failed, "failure"},
        {0, Outcome::delayed, "delay"},
        {0, Outcome::delivered, "none"},
        {0, Outcome::relayed, "none"},
        {0, Outcome::forwarded, "none"},
        {notify_never, Outcome::failed, "none"},
        {notify_never, Outcome::delayed, "none"},
        {notify_never, Outcome::delivered, "none"},
        {notify_success, Outcome::failed, "none"},
        {notify_success, Outcome::delayed, "none"},
        {notify_success, Outcome::delivered, "success"},
        {notify_success, Outcome::relayed, "success"},   // RFC 3461 5.2.2 "relayed"
        {notify_success, Outcome::forwarded, "none"},    // the DSN-capable peer reports
        {notify_failure, Outcome::failed, "failure"},
        {notify_failure, Outcome::delayed, "none"},
        {notify_failure, Outcome::delivered, "none"},
        {notify_delay, Outcome::failed, "none"},
        {notify_delay, Outcome::delayed, "delay"},
        {all, Outcome::failed, "failure"},
        {all, Outcome::delayed, "delay"},
        {all, Outcome::delivered, "success"},
        {all, Outcome::forwarded, "none"},
    };
    for (const auto& c : cases) {
        const auto got = name(report_for("s@example.org", spool::RecipientDsn{c.notify, "", ""}, c.outcome));
        EXPECT_EQ(got, c.want) << "notify " << int(c.notify) << " outcome " << int(c.outcome);
    }
}

TEST(ReportFor, NeverForTheNullSender) {
    const std::uint8_t all = notify_success | notify_failure | notify_delay;
    for (const auto outcome :
         {Outcome::failed, Outcome::delayed, Outcome::delivered, Outcome::relayed, Outcome::forwarded}) {
        for (const std::uint8_t notify : {std::uint8_t{0}, all}) {
            EXPECT_EQ(report_for("", spool::RecipientDsn{notify, "", ""}, outcome), std::nullopt)
                << "outcome " << int(outcome);
        }
    }
}

TEST(PlanReports, MixedMessage) {
    spool::Envelope envelope;
    envelope.sender = "s@example.org";
    envelope.recipients = {"a@x", "b@x", "c@x", "d@x", "e@x", "f@x"};
    envelope.recipient_dsn = {{}, {notify_never, "", ""}, {notify_success | notify_failure, "", ""}, {}, {}};
    // f@x has no DSN entry (shorter list): defaults apply.
    const std::vector<std::optional<Outcome>> outcomes{Outcome::failed, Outcome::failed,     Outcome::delivered,
                                                       std::nullopt,    Outcome::delayed,    Outcome::failed};
    const ReportPlan plan = plan_reports(envelope, outcomes);
    EXPECT_EQ(plan.failure, (std::vector<std::size_t>{0, 5}));
    EXPECT_EQ(plan.delay, (std::vector<std::size_t>{4}));
    EXPECT_EQ(plan.success, (std::vector<std::size_t>{2}));
    EXPECT_FALSE(plan.empty());

    envelope.sender = "";
    EXPECT_TRUE(plan_reports(envelope, outcomes).empty()) << "no DSN for the null sender";
}

}  // namespace
}  // namespace cartero::bounce

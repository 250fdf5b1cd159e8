// JournalLedger: sliding windows, the reservation protocol, the time of the next
// acceptance, the precedence of limits, and the journal across a reopen (a restart).
#include "accounts/sending_ledger.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <variant>

namespace cartero::accounts {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const LedgerTime t0 = LedgerTime{} + std::chrono::hours(24 * 20000);

ReservationId reserve(SendingLedger& ledger, const std::string& account, const EffectiveLimits& limits, LedgerTime at) {
    auto result = ledger.reserve_message(account, limits, at);
    EXPECT_TRUE(std::holds_alternative<ReservationId>(result)) << account << " refused at +" << (at - t0).count();
    return std::holds_alternative<ReservationId>(result) ? std::get<ReservationId>(result) : 0;
}

void send(SendingLedger& ledger, const std::string& account, const EffectiveLimits& limits, LedgerTime at,
          std::size_t recipients = 1) {
    const ReservationId id = reserve(ledger, account, limits, at);
    for (std::size_t i = 0; i < recipients; ++i) EXPECT_FALSE(ledger.reserve_recipient(id, limits, at));
    ledger.commit(id, at);
}

QuotaRefusal refusal(SendingLedger& ledger, const std::string& account, const EffectiveLimits& limits, LedgerTime at) {
    auto result = ledger.reserve_message(account, limits, at);
    EXPECT_TRUE(std::holds_alternative<QuotaRefusal>(result)) << "accepted, want refused";
    return std::holds_alternative<QuotaRefusal>(result) ? std::get<QuotaRefusal>(result) : QuotaRefusal{};
}

TEST(JournalLedger, HourWindowSlidesFromEachMessage) {
    JournalLedger ledger;
    const EffectiveLimits limits{3, 100, 1000};
    send(ledger, "a@x", limits, t0);
    send(ledger, "a@x", limits, t0 + 10min);
    send(ledger, "a@x", limits, t0 + 20min);
    const QuotaRefusal over = refusal(ledger, "a@x", limits, t0 + 30min);
    EXPECT_EQ(over.quota, Quota::messages_per_hour);
    EXPECT_EQ(over.limit, 3u);
    EXPECT_EQ(over.next_accepted, t0 + 1h) << "the oldest message leaves the window then";
    refusal(ledger, "a@x", limits, t0 + 1h - 1ms);
    send(ledger, "a@x", limits, t0 + 1h);  // not a calendar bucket: exactly one hour later
    EXPECT_EQ(refusal(ledger, "a@x", limits, t0 + 1h).next_accepted, t0 + 10min + 1h);
    send(ledger, "b@x", limits, t0 + 30min);  // accounts are apart
}

TEST(JournalLedger, DayAndRecipientWindows) {
    JournalLedger ledger;
    const EffectiveLimits limits{10, 2, 5};
    send(ledger, "a@x", limits, t0, 2);
    send(ledger, "a@x", limits, t0 + 2h, 2);
    const QuotaRefusal day = refusal(ledger, "a@x", limits, t0 + 3h);
    EXPECT_EQ(day.quota, Quota::messages_per_day);
    EXPECT_EQ(day.next_accepted, t0 + 24h);

    JournalLedger recipients;
    send(recipients, "a@x", {10, 10, 5}, t0, 3);
    const ReservationId id = reserve(recipients, "a@x", {10, 10, 5}, t0 + 1h);
    EXPECT_FALSE(recipients.reserve_recipient(id, {10, 10, 5}, t0 + 1h));
    EXPECT_FALSE(recipients.reserve_recipient(id, {10, 10, 5}, t0 + 1h));
    const auto crossing = recipients.reserve_recipient(id, {10, 10, 5}, t0 + 1h);
    ASSERT_TRUE(crossing);
    EXPECT_EQ(crossing->quota, Quota::recipients_per_day);
    EXPECT_EQ(crossing->next_accepted, t0 + 24h);
    recipients.commit(id, t0 + 1h);
    EXPECT_EQ(refusal(recipients, "a@x", {10, 10, 5}, t0 + 2h).quota, Quota::recipients_per_day)
        << "no recipient left: MAIL is refused";
}

TEST(JournalLedger, ReservationsCountUntilReleasedOrCommitted) {
    JournalLedger ledger;
    const EffectiveLimits limits{2, 100, 1000};
    const ReservationId first = reserve(ledger, "a@x", limits, t0);
    const ReservationId second = reserve(ledger, "a@x", limits, t0);
    refusal(ledger, "a@x", limits, t0);  // two open reservations hold the two slots
    ledger.release(first);
    const ReservationId third = reserve(ledger, "a@x", limits, t0 + 1s);
    ledger.commit(second, t0 + 5min);  // counted from the 250, not from MAIL
    ledger.commit(third, t0 + 6min);
    EXPECT_EQ(refusal(ledger, "a@x", limits, t0 + 7min).next_accepted, t0 + 5min + 1h);
    ledger.release(third);  // after commit: nothing to release
    EXPECT_EQ(ledger.usage("a@x", t0 + 7min).last_hour, 2u);
}

TEST(JournalLedger, UsageAndReopenKeepTheCount) {
    std::string pattern = (fs::temp_directory_path() / "cartero-ledger-XXXXXX").string();
    const fs::path dir = ::mkdtemp(pattern.data());
    const fs::path journal = dir / "sending-counters";
    const auto now = std::chrono::system_clock::now();
    const EffectiveLimits limits{3, 100, 1000};
    {
        JournalLedger ledger(journal, 10ms);
        send(ledger, "a@x", limits, now - 2h, 4);  // outside the hour, inside the day
        send(ledger, "a@x", limits, now - 30min, 2);
        send(ledger, "a@x", limits, now - 25h);    // older than a day: dropped at the next open
    }
    {
        std::ofstream torn(journal, std::ios::app);
        torn << "12345 7";  // a write cut by a crash: skipped
    }
    JournalLedger reopened(journal, 10ms);
    const QuotaUsage usage = reopened.usage("a@x", now);
    EXPECT_EQ(usage.last_hour, 1u);
    EXPECT_EQ(usage.last_day, 2u);
    EXPECT_EQ(usage.recipients_last_day, 6u);
    ASSERT_TRUE(usage.hour_frees_at);
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(*usage.hour_frees_at - (now + 30min)).count(), 0);
    JournalLedger reader(journal, {}, true);
    EXPECT_EQ(reader.usage("a@x", now).last_day, 2u);
    fs::remove_all(dir);
}

TEST(EffectiveLimits, AccountThenDomainThenDefault) {
    config::Config config;
    config.limits.messages_per_hour = 100;
    config.limits.messages_per_day = 500;
    config.limits.recipients_per_day = 1000;
    config.domain_limits.push_back({"big.example", 1000, std::nullopt, 9000});
    struct Case {
        std::string account;
        SendingLimits own;
        std::size_t hour, day, recipients;
    };
    const Case cases[] = {
        {"a@small.example", {}, 100, 500, 1000},
        {"a@big.example", {}, 1000, 500, 9000},
        {"a@big.example", {5, std::nullopt, std::nullopt}, 5, 500, 9000},
        {"uid:1000", {}, 100, 500, 1000},
        {"[192.0.2.7]", {std::nullopt, 7, 8}, 100, 7, 8},
    };
    for (const auto& c : cases) {
        const EffectiveLimits got = effective_limits(config, c.own, c.account);
        EXPECT_EQ(got.per_hour, c.hour) << c.account;
        EXPECT_EQ(got.per_day, c.day) << c.account;
        EXPECT_EQ(got.recipients_per_day, c.recipients) << c.account;
    }
}

}  // namespace
}  // namespace cartero::accounts

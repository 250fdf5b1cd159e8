#include "scheduler/delivery_queue.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "delivery/discard.hpp"
#include "delivery/local/maildir.hpp"

namespace cartero::scheduler {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A courier that fails temporarily a set number of times, then hands over to
// the real Maildir courier.
class FlakyCourier final : public delivery::Courier {
public:
    FlakyCourier(delivery::Courier& real, int failures) : real_(real), failures_left_(failures) {}
    delivery::DeliveryOutcome deliver(const spool::QueuedMessage& message, std::string_view recipient) override {
        if (failures_left_-- > 0) return {delivery::DeliveryStatus::temporary, {}, "disk full (simulated)"};
        return real_.deliver(message, recipient);
    }

private:
    delivery::Courier& real_;
    std::atomic<int> failures_left_;
};

// Passes every copy to the real courier and remembers whom it was for.
class RecordingCourier final : public delivery::Courier {
public:
    explicit RecordingCourier(delivery::Courier& real) : real_(real) {}
    delivery::DeliveryOutcome deliver(const spool::QueuedMessage& message, std::string_view recipient) override {
        std::lock_guard lock(mutex_);
        recipients_.emplace_back(recipient);
        return real_.deliver(message, recipient);
    }
    std::vector<std::string> recipients() const {
        std::lock_guard lock(mutex_);
        return recipients_;
    }

private:
    delivery::Courier& real_;
    mutable std::mutex mutex_;
    std::vector<std::string> recipients_;
};

// A remote courier that answers by the local part: "ok…" delivered, "bad…"
// permanent 550, "temp…" temporary 451 (the first `temporary_rounds` calls
// that include it, or forever when negative). It records every call and the
// largest number of calls in progress at once.
class ScriptedRemote final : public delivery::RemoteCourier {
public:
    int temporary_rounds = -1;
    std::chrono::milliseconds hold{0};  // how long each call takes
    std::string relay;                  // non-empty: every domain goes through this one destination

    std::string destination_of(std::string_view domain) override {
        return relay.empty() ? std::string(domain) : relay;
    }

    std::vector<delivery::DeliveryOutcome> deliver(const spool::QueuedMessage& message, std::string_view domain,
                                                   const std::vector<delivery::RemoteRecipient>& recipients) override {
        for (const auto& r : recipients)
            if (r.address.starts_with("throw")) throw std::runtime_error("remote courier bug (simulated)");
        {
            std::lock_guard lock(mutex_);
            senders_.push_back(message.envelope.sender);
            std::vector<std::string> addresses;
            for (const auto& r : recipients) addresses.push_back(r.address);
            calls_.emplace_back(std::string(domain), addresses);
            for (const auto& r : recipients) forwarded_for_.emplace_back(r.address, r.delivered_to);
            max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
        }
        std::this_thread::sleep_for(hold);
        std::vector<delivery::DeliveryOutcome> outcomes;
        for (const auto& r : recipients) outcomes.push_back(outcome_for(r.address));
        std::lock_guard lock(mutex_);
        --in_flight_;
        for (const auto& r : recipients)
            if (r.address.starts_with("temp")) ++temp_calls_;
        return outcomes;
    }
    std::vector<std::pair<std::string, std::vector<std::string>>> calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }
    // (address, delivered_to) of every recipient passed, in call order.
    std::vector<std::pair<std::string, std::string>> forwarded_for() const {
        std::lock_guard lock(mutex_);
        return forwarded_for_;
    }
    int max_in_flight() const {
        std::lock_guard lock(mutex_);
        return max_in_flight_;
    }
    std::vector<std::string> senders() const {  // MAIL FROM of each call
        std::lock_guard lock(mutex_);
        return senders_;
    }

private:
    delivery::DeliveryOutcome outcome_for(const std::string& address) {
        using delivery::DeliveryStatus;
        const std::string host = "mx." + std::string(accounts::domain_of(address)) + "[127.0.0.1]:25";
        if (address.starts_with("bad"))
            return {DeliveryStatus::permanent, {550, "5.1.1", "no such user"}, "said: 550 5.1.1 no such user", host};
        std::lock_guard lock(mutex_);
        if (address.starts_with("temp") && (temporary_rounds < 0 || temp_calls_ < temporary_rounds))
            return {DeliveryStatus::temporary, {451, "4.3.0", "try later"}, "said: 451 4.3.0 try later", host};
        return {DeliveryStatus::delivered, {250, "2.0.0", "ok"}, "said: 250 2.0.0 ok", host};
    }

    mutable std::mutex mutex_;
    std::vector<std::pair<std::string, std::vector<std::string>>> calls_;
    std::vector<std::pair<std::string, std::string>> forwarded_for_;
    std::vector<std::string> senders_;
    int in_flight_ = 0;
    int max_in_flight_ = 0;
    int temp_calls_ = 0;
};

// Keeps every notice the queue passes on.
struct NoticeLog {
    mutable std::mutex mutex;
    std::vector<std::pair<std::string, RecipientNotice>> notices;  // recipient address, notice

    Notifier notifier() {
        return [this](const spool::QueuedMessage& message, const std::vector<RecipientNotice>& batch) {
            std::lock_guard lock(mutex);
            for (const auto& notice : batch) notices.emplace_back(message.envelope.recipients[notice.index], notice);
            return true;
        };
    }
    std::vector<std::pair<std::string, Action>> actions() const {
        std::lock_guard lock(mutex);
        std::vector<std::pair<std::string, Action>> out;
        for (const auto& [address, notice] : notices) out.emplace_back(address, notice.action);
        std::sort(out.begin(), out.end());
        return out;
    }
};

struct QueueFixture : ::testing::Test {
    fs::path root = fs::temp_directory_path() / ("cartero-queue-" + std::to_string(::getpid()));
    delivery::MaildirCourier maildir{root, [this](std::string_view local, std::string_view domain) {
                                         return root / domain / local;
                                     }, "mx.example.org"};
    delivery::DiscardCourier discard_courier;
    RecordingCourier discard{discard_courier};
    std::unique_ptr<spool::Spool> spool = spool::make_memory_spool();
    std::shared_ptr<const accounts::Directory> directory = std::make_shared<const accounts::Directory>(
        std::vector<std::string>{"example.org"}, std::vector<std::string>{"alice@example.org", "bob@example.org"},
        std::vector<std::pair<std::string, std::string>>{{"team@example.org", "alice@example.org"},
                                                         {"team@example.org", "bob@example.org"},
                                                         {"sink@example.org", "load@bench.test"}},
        std::vector<config::Route>{{"bench.test", config::Transport::discard}});
    ScriptedRemote remote;
    DeliveryQueueOptions options{RetryPolicy{1ms, 4ms, 1h}, 2, 4, 2, 0ms};

    void SetUp() override {
        fs::remove_all(root);
        fs::create_directories(root);
    }
    void TearDown() override { fs::remove_all(root); }

    Router router() {
        return directory_router([this] { return directory; });
    }
    Couriers couriers(delivery::Courier& local) { return {local, discard, remote}; }
    spool::QueuedMessage committed(std::vector<std::string> recipients, std::string data = "Subject: x\r\n\r\nhi\r\n",
                                   std::chrono::seconds age = 0s) {
        const auto id = spool->new_id();
        spool::Envelope envelope{"s@example.net", recipients, "", false, false,
                                 std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch() - age)
                                     .count()};
        auto shared = std::make_shared<const std::string>(std::move(data));
        spool->commit(id, envelope, shared, [](std::error_code) {});
        return spool::QueuedMessage{id, envelope, std::vector<bool>(recipients.size()), shared};
    }
    std::vector<std::string> mailbox(const std::string& user) {
        std::vector<std::string> copies;
        const auto directory_new = root / "example.org" / user / "new";
        if (!fs::exists(directory_new)) return copies;
        for (const auto& entry : fs::directory_iterator(directory_new)) {
            std::ifstream in(entry.path(), std::ios::binary);
            copies.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
        return copies;
    }
    static bool eventually(const std::function<bool()>& condition) {
        for (auto deadline = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < deadline;
             std::this_thread::sleep_for(2ms))
            if (condition()) return true;
        return condition();
    }
};

TEST_F(QueueFixture, DeliversLocallyByteExactAndMarksDone) {
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    const std::string data = "Subject: exact\r\n\r\nline one\r\n..dot\r\n";
    queue.enqueue(committed({"alice@example.org"}, data));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    const auto copies = mailbox("alice");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0], "Return-Path: <s@example.net>\r\nDelivered-To: alice@example.org\r\n" + data);
    EXPECT_TRUE(spool->recover().empty()) << "the spool still holds the message";
}

TEST_F(QueueFixture, OneCopyPerMailboxWhenRecipientsAliasToIt) {
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    queue.enqueue(committed({"team@example.org", "alice@example.org", "ALICE@example.org"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    EXPECT_EQ(mailbox("alice").size(), 1u);
    EXPECT_EQ(mailbox("bob").size(), 1u);
}

TEST_F(QueueFixture, TemporaryFailureIsRetriedUntilDelivered) {
    FlakyCourier flaky(maildir, 3);
    DeliveryQueue queue(*spool, router(), couriers(flaky), options);
    queue.enqueue(committed({"alice@example.org"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    EXPECT_EQ(mailbox("alice").size(), 1u);
    EXPECT_EQ(queue.counts().deferred, 0u);
}

TEST_F(QueueFixture, UnknownUserIsBouncedAndDeferredRemoteStaysQueued) {
    NoticeLog log;
    DeliveryQueue queue(*spool, router(), couriers(maildir), options, log.notifier());
    queue.enqueue(committed({"nobody@example.org", "temp@remote.example"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().deferred == 1; }));
    std::this_thread::sleep_for(30ms);  // several retries at 1-4 ms
    EXPECT_EQ(queue.counts().queued, 1u);
    const auto queued = spool->recover();
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_EQ(queued[0].done, (std::vector<bool>{true, false})) << "bounced done, remote kept";
    EXPECT_EQ(log.actions(), (std::vector<std::pair<std::string, Action>>{{"nobody@example.org", Action::failed}}));
    EXPECT_EQ(log.notices.at(0).second.outcome.reply.enhanced, "5.1.1");
}

// One transaction per domain; per-recipient results: two delivered, one bounced.
TEST_F(QueueFixture, RemoteRecipientsGoOneCallPerDomainWithPerRecipientResults) {
    NoticeLog log;
    DeliveryQueue queue(*spool, router(), couriers(maildir), options, log.notifier());
    queue.enqueue(committed({"ok1@a.example", "bad@a.example", "ok2@b.example"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    auto calls = remote.calls();
    std::sort(calls.begin(), calls.end());
    using Call = std::pair<std::string, std::vector<std::string>>;
    EXPECT_EQ(calls, (std::vector<Call>{{"a.example", {"ok1@a.example", "bad@a.example"}}, {"b.example", {"ok2@b.example"}}}));
    EXPECT_EQ(log.actions(), (std::vector<std::pair<std::string, Action>>{{"bad@a.example", Action::failed},
                                                                          {"ok1@a.example", Action::delivered},
                                                                          {"ok2@b.example", Action::delivered}}));
    EXPECT_TRUE(spool->recover().empty());
}

// An alias in a local domain that points outside is delivered remotely, with
// the alias's target as the address and the envelope recipient as the index.
TEST_F(QueueFixture, AliasTargetsOutsideGoToTheRemoteCourier) {
    directory = std::make_shared<const accounts::Directory>(
        std::vector<std::string>{"example.org"}, std::vector<std::string>{"alice@example.org"},
        std::vector<std::pair<std::string, std::string>>{{"fwd@example.org", "ok@friend.example"}},
        std::vector<config::Route>{});
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    queue.enqueue(committed({"fwd@example.org"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    using Call = std::pair<std::string, std::vector<std::string>>;
    EXPECT_EQ(remote.calls(), (std::vector<Call>{{"friend.example", {"ok@friend.example"}}}));
}

// A copy forwarded by alias leaves with the forwarding sender (SRS), in its own
// transaction; a recipient of the same domain addressed directly keeps the
// message's sender.
TEST_F(QueueFixture, ForwardedCopiesGoWithTheForwardingSender) {
    directory = std::make_shared<const accounts::Directory>(
        std::vector<std::string>{"example.org"}, std::vector<std::string>{"alice@example.org"},
        std::vector<std::pair<std::string, std::string>>{{"fwd@example.org", "ok@friend.example"}},
        std::vector<config::Route>{});
    options.forward_sender = [](const spool::Envelope& envelope) { return "SRS0=" + envelope.sender; };
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    queue.enqueue(committed({"fwd@example.org", "ok2@friend.example"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    using Call = std::pair<std::string, std::vector<std::string>>;
    EXPECT_EQ(remote.calls(), (std::vector<Call>{{"friend.example", {"ok@friend.example"}},
                                                 {"friend.example", {"ok2@friend.example"}}}));
    EXPECT_EQ(remote.senders(), (std::vector<std::string>{"SRS0=s@example.net", "s@example.net"}));
}

TEST_F(QueueFixture, OneRcptWhenTwoRecipientsReachTheSameRemoteAddress) {
    directory = std::make_shared<const accounts::Directory>(
        std::vector<std::string>{"example.org"}, std::vector<std::string>{"alice@example.org"},
        std::vector<std::pair<std::string, std::string>>{{"fwd@example.org", "ok@friend.example"}},
        std::vector<config::Route>{});
    NoticeLog log;
    DeliveryQueue queue(*spool, router(), couriers(maildir), options, log.notifier());
    queue.enqueue(committed({"fwd@example.org", "ok@friend.example"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    using Call = std::pair<std::string, std::vector<std::string>>;
    EXPECT_EQ(remote.calls(), (std::vector<Call>{{"friend.example", {"ok@friend.example"}}}));
    EXPECT_EQ(log.actions().size(), 2u) << "both envelope recipients are done";
}

// Issue 8.3: a copy forwarded by alias names the alias in its Delivered-To line, so
// copies for different aliases go in different calls (transactions); a recipient
// that is remote itself gets none.
TEST_F(QueueFixture, ForwardedCopiesGoOneCallPerAliasNamingIt) {
    directory = std::make_shared<const accounts::Directory>(
        std::vector<std::string>{"example.org"}, std::vector<std::string>{"alice@example.org"},
        std::vector<std::pair<std::string, std::string>>{{"fwd1@example.org", "ok1@friend.example"},
                                                         {"fwd2@example.org", "ok2@friend.example"}},
        std::vector<config::Route>{});
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    queue.enqueue(committed({"FWD1@example.org", "fwd2@example.org", "ok3@friend.example"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    using Call = std::pair<std::string, std::vector<std::string>>;
    EXPECT_EQ(remote.calls(), (std::vector<Call>{{"friend.example", {"ok3@friend.example"}},
                                                 {"friend.example", {"ok1@friend.example"}},
                                                 {"friend.example", {"ok2@friend.example"}}}));
    using Forwarded = std::pair<std::string, std::string>;
    EXPECT_EQ(remote.forwarded_for(), (std::vector<Forwarded>{{"ok3@friend.example", ""},
                                                              {"ok1@friend.example", "fwd1@example.org"},
                                                              {"ok2@friend.example", "fwd2@example.org"}}));
}

// Issue 8.3: a message that comes back carrying our Delivered-To line for the
// recipient is a forwarding loop: bounced 5.4.6 at once, not forwarded again.
TEST_F(QueueFixture, MessageNamingTheAliasInDeliveredToIsBouncedAsALoop) {
    directory = std::make_shared<const accounts::Directory>(
        std::vector<std::string>{"example.org"}, std::vector<std::string>{"alice@example.org"},
        std::vector<std::pair<std::string, std::string>>{{"fwd@example.org", "ok@friend.example"}},
        std::vector<config::Route>{});
    NoticeLog log;
    DeliveryQueue queue(*spool, router(), couriers(maildir), options, log.notifier());
    queue.enqueue(committed({"fwd@example.org"}, "Received: x\r\nDelivered-To: FWD@example.org\r\nSubject: x\r\n\r\nhi\r\n"));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    EXPECT_TRUE(remote.calls().empty()) << "not forwarded again";
    ASSERT_EQ(log.actions(), (std::vector<std::pair<std::string, Action>>{{"fwd@example.org", Action::failed}}));
    const auto& outcome = log.notices.at(0).second.outcome;
    EXPECT_EQ(outcome.reply.enhanced, "5.4.6");
    EXPECT_EQ(outcome.detail, "mail forwarding loop for fwd@example.org");
}

// The local-mailbox case: a copy we delivered to alice came back to an alias
// that includes her; she gets no second copy, bob does; Delivered-To lines in
// the body (a quoted or returned message) are not looked at.
TEST_F(QueueFixture, MailboxAlreadyNamedInDeliveredToGetsNoCopy) {
    NoticeLog log;
    DeliveryQueue queue(*spool, router(), couriers(maildir), options, log.notifier());
    queue.enqueue(committed({"team@example.org"}, "Delivered-To: <alice@example.org>\r\nSubject: x\r\n\r\nhi\r\n"));
    queue.enqueue(committed({"alice@example.org"}, "Subject: x\r\n\r\nDelivered-To: alice@example.org\r\n"));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    EXPECT_EQ(mailbox("alice").size(), 1u) << "only the message whose body names her";
    EXPECT_EQ(mailbox("bob").size(), 1u);
    EXPECT_EQ(log.actions(), (std::vector<std::pair<std::string, Action>>{{"alice@example.org", Action::delivered},
                                                                          {"team@example.org", Action::failed}}));
}

// All domains through one relay: destination_concurrency bounds the relay.
TEST_F(QueueFixture, DestinationConcurrencyCountsARelayOnce) {
    options.per_destination = 1;
    remote.hold = 20ms;
    remote.relay = "relay:smarthost";
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    for (const char* rcpt : {"ok@a.example", "ok@b.example", "ok@c.example"}) queue.enqueue(committed({rcpt}));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    EXPECT_EQ(remote.max_in_flight(), 1);
}

// A retry sends only what was not delivered the first time.
TEST_F(QueueFixture, RemoteRetrySendsOnlyTheDeferredRecipients) {
    remote.temporary_rounds = 2;
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    queue.enqueue(committed({"ok@a.example", "temp@a.example"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    using Call = std::pair<std::string, std::vector<std::string>>;
    EXPECT_EQ(remote.calls(), (std::vector<Call>{{"a.example", {"ok@a.example", "temp@a.example"}},
                                                 {"a.example", {"temp@a.example"}},
                                                 {"a.example", {"temp@a.example"}}}));
}

TEST_F(QueueFixture, ExpiredRemoteRecipientIsBouncedWithTheLastError) {
    NoticeLog log;
    options.retry.lifetime = 1s;
    DeliveryQueue queue(*spool, router(), couriers(maildir), options, log.notifier());
    queue.enqueue(committed({"temp@a.example"}, "Subject: x\r\n\r\nhi\r\n", 5s));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    std::lock_guard lock(log.mutex);
    ASSERT_EQ(log.notices.size(), 1u);
    EXPECT_EQ(log.notices[0].second.action, Action::failed);
    EXPECT_EQ(log.notices[0].second.outcome.reply.code, 451) << "the DSN quotes the last reply";
    EXPECT_NE(log.notices[0].second.outcome.detail.find("queue lifetime expired"), std::string::npos);
}

// SIGHUP (DeliveryQueue::update): the new queue lifetime decides the next attempt.
TEST_F(QueueFixture, UpdateAppliesTheNewRetryPolicyFromTheNextAttempt) {
    NoticeLog log;
    DeliveryQueue queue(*spool, router(), couriers(maildir), options, log.notifier());  // lifetime 1h
    queue.enqueue(committed({"temp@a.example"}, "Subject: x\r\n\r\nhi\r\n", 5s));
    ASSERT_TRUE(eventually([&] { return remote.calls().size() >= 3; }));
    EXPECT_EQ(queue.counts().queued, 1u) << "retried, not given up, under a lifetime of 1h";
    config::Config config;
    config.delivery.queue_lifetime = 1s;
    queue.update(config);
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; })) << "the new lifetime was not applied";
    std::lock_guard lock(log.mutex);
    ASSERT_EQ(log.notices.size(), 1u);
    EXPECT_EQ(log.notices[0].second.action, Action::failed);
    EXPECT_NE(log.notices[0].second.outcome.detail.find("queue lifetime expired"), std::string::npos);
}

TEST_F(QueueFixture, DelayWarningIsGivenOnceForDeferredRecipients) {
    NoticeLog log;
    options.delay_warning = 1ms;
    DeliveryQueue queue(*spool, router(), couriers(maildir), options, log.notifier());
    queue.enqueue(committed({"temp@a.example", "ok@a.example"}, "Subject: x\r\n\r\nhi\r\n", 2s));
    ASSERT_TRUE(eventually([&] { return remote.calls().size() >= 4; }));
    EXPECT_EQ(log.actions(), (std::vector<std::pair<std::string, Action>>{{"ok@a.example", Action::delivered},
                                                                          {"temp@a.example", Action::delayed}}));
}

TEST_F(QueueFixture, DestinationConcurrencyIsBounded) {
    options.per_destination = 1;
    remote.hold = 20ms;
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    for (int i = 0; i < 4; ++i) queue.enqueue(committed({"ok@a.example"}));
    queue.enqueue(committed({"ok@b.example"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    EXPECT_EQ(remote.calls().size(), 5u);
    EXPECT_LE(remote.max_in_flight(), 2) << "one per domain, two domains";
    EXPECT_EQ(queue.counts().deferred, 0u) << "waiting for a slot is not a failed attempt";
}

TEST_F(QueueFixture, RecoveryRedeliversOnlyUndoneRecipients) {
    auto message = committed({"alice@example.org", "bob@example.org"});
    spool->mark_done(message.id, 0);
    {
        DeliveryQueue queue(*spool, router(), couriers(maildir), options);
        queue.recover(spool->recover());
        ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    }
    EXPECT_TRUE(mailbox("alice").empty());
    EXPECT_EQ(mailbox("bob").size(), 1u);
    EXPECT_TRUE(spool->recover().empty());
}

// A discard route: the copy goes to the discard courier (once per address, also
// through an alias), nothing is written, and the spool lets the message go.
TEST_F(QueueFixture, RoutedRecipientsGoToTheDiscardCourier) {
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    queue.enqueue(committed({"Load@Bench.Test", "sink@example.org", "other@bench.test", "alice@example.org"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    auto discarded = discard.recipients();
    std::sort(discarded.begin(), discarded.end());
    EXPECT_EQ(discarded, (std::vector<std::string>{"load@bench.test", "other@bench.test"}));
    EXPECT_EQ(mailbox("alice").size(), 1u) << "local recipients of the same message are delivered as before";
    EXPECT_FALSE(fs::exists(root / "bench.test")) << "a discarded copy must not reach a Maildir";
    EXPECT_TRUE(spool->recover().empty()) << "the spool still holds the message";
}

TEST_F(QueueFixture, StopLeavesUndeliveredMailInTheSpool) {
    FlakyCourier never(maildir, 1'000'000);
    DeliveryQueue queue(*spool, router(), couriers(never), options);
    queue.enqueue(committed({"alice@example.org"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().deferred == 1; }));
    queue.stop();
    EXPECT_EQ(spool->recover().size(), 1u);
}

std::optional<MessageView> settled_view(const DeliveryQueue& queue, const std::string& id) {
    auto view = queue.show(id);
    if (view && view->delivering) return std::nullopt;
    return view;
}

// ---- issue 8 section 1: no exception leaves a courier or a worker

// Throws what a courier may throw: std::runtime_error for "boom…" recipients,
// anything else goes to the real courier behind it.
class ThrowingCourier final : public delivery::Courier {
public:
    explicit ThrowingCourier(delivery::Courier& real) : real_(real) {}
    delivery::DeliveryOutcome deliver(const spool::QueuedMessage& message, std::string_view recipient) override {
        if (recipient.starts_with("boom")) throw std::runtime_error("courier bug (simulated)");
        return real_.deliver(message, recipient);
    }

private:
    delivery::Courier& real_;
};

// The crash of issue 8: an account "sales/eu" (made bypassing `cartero user
// add`) reaches the real Maildir courier with the real delivery.maildir
// expansion, which throws config::InvalidMailbox. The queue bounces that
// recipient (permanent, 5.1.3), defers one whose courier threw something
// unknown, delivers the rest of the message and the next message, and keeps
// running (before the fix: std::terminate).
TEST_F(QueueFixture, LocalCourierExceptionsBecomePerRecipientResults) {
    config::Config config;
    config.data_dir = root;
    config.delivery.maildir = "{data_dir}/{domain}/{localpart}";
    delivery::MaildirCourier real(root, [&config](std::string_view local, std::string_view domain) {
        return config::maildir_for(config, local, domain);
    }, "mx.example.org");
    ThrowingCourier courier(real);
    directory = std::make_shared<const accounts::Directory>(
        std::vector<std::string>{"example.org"},
        std::vector<std::string>{"alice@example.org", "sales/eu@example.org", "boom@example.org"},
        std::vector<std::pair<std::string, std::string>>{}, std::vector<config::Route>{});
    NoticeLog log;
    options.retry = RetryPolicy{1h, 2h, 24h};
    DeliveryQueue queue(*spool, router(), couriers(courier), options, log.notifier());
    const auto message = committed({"sales/eu@example.org", "boom@example.org", "alice@example.org"});
    queue.enqueue(message);
    ASSERT_TRUE(eventually([&] { return settled_view(queue, message.id) && queue.counts().deferred == 1; }));
    EXPECT_EQ(mailbox("alice").size(), 1u);
    EXPECT_EQ(log.actions(), (std::vector<std::pair<std::string, Action>>{{"alice@example.org", Action::delivered},
                                                                          {"sales/eu@example.org", Action::failed}}));
    {
        std::lock_guard lock(log.mutex);
        const auto& failed = std::find_if(log.notices.begin(), log.notices.end(),
                                          [](const auto& n) { return n.second.action == Action::failed; })->second;
        EXPECT_EQ(failed.outcome.status, delivery::DeliveryStatus::permanent);
        EXPECT_EQ(failed.outcome.reply.enhanced, "5.1.3");
        EXPECT_NE(failed.outcome.detail.find("contains '/'"), std::string::npos) << failed.outcome.detail;
    }
    const auto view = queue.show(message.id);
    ASSERT_TRUE(view);
    ASSERT_EQ(view->recipients.size(), 3u);
    EXPECT_EQ(view->recipients[1].status, RecipientStatus::pending) << "an unknown exception is temporary";
    EXPECT_NE(view->recipients[1].last_error.find("courier bug (simulated)"), std::string::npos)
        << view->recipients[1].last_error;
    queue.enqueue(committed({"alice@example.org"}));
    EXPECT_TRUE(eventually([&] { return mailbox("alice").size() == 2; })) << "the queue stopped delivering";
}

// The same for the remote courier: every recipient of the throwing call is
// deferred (temporary 4.3.0), the other domain's call is delivered.
TEST_F(QueueFixture, RemoteCourierExceptionDefersItsRecipients) {
    options.retry = RetryPolicy{1h, 2h, 24h};
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    const auto message = committed({"throw@a.example", "ok@a.example", "ok@b.example"});
    queue.enqueue(message);
    ASSERT_TRUE(eventually([&] { return settled_view(queue, message.id) && queue.counts().deferred == 1; }));
    const auto view = queue.show(message.id);
    ASSERT_TRUE(view);
    ASSERT_EQ(view->recipients.size(), 3u);
    EXPECT_EQ(view->recipients[0].status, RecipientStatus::pending);
    EXPECT_EQ(view->recipients[1].status, RecipientStatus::pending) << "same call as the throwing recipient";
    EXPECT_EQ(view->recipients[2].status, RecipientStatus::delivered);
    EXPECT_NE(view->recipients[0].last_error.find("remote courier bug (simulated)"), std::string::npos)
        << view->recipients[0].last_error;
    queue.enqueue(committed({"ok@c.example"}));
    EXPECT_TRUE(eventually([&] { return queue.counts().queued == 1; })) << "the queue stopped delivering";
}

// A bounced recipient is marked done in the spool only once the notice to its
// sender is queued; until then a crash or a failed commit cannot lose it.
TEST_F(QueueFixture, BouncedRecipientIsDoneOnlyOnceItsNoticeIsQueued) {
    std::atomic<int> refused{0};
    std::atomic<bool> spool_ready{false};
    const Notifier notifier = [&](const spool::QueuedMessage&, const std::vector<RecipientNotice>& batch) {
        if (spool_ready) return true;
        refused += static_cast<int>(batch.size());
        return false;
    };
    DeliveryQueue queue(*spool, router(), couriers(maildir), options, notifier);  // retries after 1-4 ms
    const auto message = committed({"nobody@example.org", "alice@example.org"});
    queue.enqueue(message);
    ASSERT_TRUE(eventually([&] { return refused >= 3; })) << "the bounce was not tried again";
    auto queued = spool->recover();
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_EQ(queued[0].done, (std::vector<bool>{false, true})) << "bounced recipient marked done without its notice";
    EXPECT_EQ(mailbox("alice").size(), 1u) << "the deliverable recipient waited for the bounce";
    spool_ready = true;
    ASSERT_TRUE(eventually([&] { return queue.counts().queued == 0; }));
    EXPECT_TRUE(spool->recover().empty());
    EXPECT_EQ(mailbox("alice").size(), 1u) << "delivered twice";
}

// The router and the notifier run on the workers too.
TEST_F(QueueFixture, RouterAndNotifierExceptionsAreContained) {
    const Router base = router();
    const Router throwing = [base](std::string_view recipient) {
        if (recipient.starts_with("crash")) throw std::runtime_error("router bug (simulated)");
        return base(recipient);
    };
    std::atomic<int> notified{0};
    const Notifier notifier = [&](const spool::QueuedMessage&, const std::vector<RecipientNotice>&) -> bool {
        ++notified;
        throw std::runtime_error("notifier bug (simulated)");
    };
    options.retry = RetryPolicy{1h, 2h, 24h};
    DeliveryQueue queue(*spool, throwing, couriers(maildir), options, notifier);
    const auto message = committed({"crash@example.org", "nobody@example.org"});
    queue.enqueue(message);
    ASSERT_TRUE(eventually([&] { return settled_view(queue, message.id) && queue.counts().deferred == 1; }));
    const auto view = queue.show(message.id);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->recipients[0].status, RecipientStatus::pending);
    EXPECT_NE(view->recipients[0].last_error.find("router bug (simulated)"), std::string::npos);
    // Its bounce notice was never queued, so the bounced recipient is not done:
    // it stays queued and is tried again (issue 12: a lost notice is lost mail).
    EXPECT_EQ(view->recipients[1].status, RecipientStatus::pending);
    EXPECT_NE(view->recipients[1].last_error.find("notice to the sender could not be queued"), std::string::npos);
    EXPECT_GE(notified.load(), 1);
    queue.enqueue(committed({"alice@example.org"}));
    EXPECT_TRUE(eventually([&] { return mailbox("alice").size() == 1; })) << "the queue stopped delivering";
}

// ---- operator requests (cartero queue) and retry state across restarts

TEST_F(QueueFixture, ListShowsPerRecipientStatusAttemptsAndLastError) {
    options.retry = RetryPolicy{1h, 2h, 24h};
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    const auto message = committed({"ok@a.example", "temp@a.example"}, "Subject: x\r\n\r\n12345\r\n");
    queue.enqueue(message);
    ASSERT_TRUE(eventually([&] { return settled_view(queue, message.id) && queue.show(message.id)->attempts == 1; }));
    const auto listed = queue.list();
    ASSERT_EQ(listed.size(), 1u);
    const MessageView& view = listed[0];
    EXPECT_EQ(view.id, message.id);
    EXPECT_EQ(view.sender, "s@example.net");
    EXPECT_EQ(view.size, message.data->size());
    EXPECT_FALSE(view.held);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_GE(view.next_attempt, now + 3500) << "got " << view.next_attempt << ", want about now + 1h";
    ASSERT_EQ(view.recipients.size(), 2u);
    EXPECT_EQ(view.recipients[0].status, RecipientStatus::delivered);
    EXPECT_EQ(view.recipients[1].status, RecipientStatus::pending);
    EXPECT_EQ(view.recipients[1].last_error, "said: 451 4.3.0 try later");
    EXPECT_FALSE(queue.show("0000000000000000"));
}

TEST_F(QueueFixture, HeldMessageIsNotTriedUntilReleased) {
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    const auto message = committed({"temp@a.example"});
    queue.enqueue(message);
    ASSERT_TRUE(eventually([&] { return remote.calls().size() >= 2; }));
    EXPECT_NE(queue.hold(message.id, "test"), OperationResult::not_found);
    ASSERT_TRUE(eventually([&] {
        const auto view = settled_view(queue, message.id);
        return view && view->held;
    }));
    const auto calls = remote.calls().size();
    std::this_thread::sleep_for(50ms);  // retries are 1-4 ms apart
    EXPECT_EQ(remote.calls().size(), calls) << "a held message was tried";
    EXPECT_EQ(queue.flush(message.id), OperationResult::held);
    EXPECT_EQ(queue.flush(), 0u);
    EXPECT_EQ(queue.show(message.id)->next_attempt, 0);
    EXPECT_EQ(queue.release(message.id, "test"), OperationResult::done);
    EXPECT_TRUE(eventually([&] { return remote.calls().size() > calls; }));
}

TEST_F(QueueFixture, FlushMakesADeferredMessageDueNow) {
    options.retry = RetryPolicy{1h, 2h, 24h};
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    const auto first = committed({"temp@a.example"});
    const auto second = committed({"temp@b.example"});
    queue.enqueue(first);
    queue.enqueue(second);
    ASSERT_TRUE(eventually([&] { return queue.counts().deferred == 2 && settled_view(queue, first.id) &&
                                        settled_view(queue, second.id); }));
    EXPECT_EQ(remote.calls().size(), 2u);
    EXPECT_EQ(queue.flush(first.id), OperationResult::done);
    ASSERT_TRUE(eventually([&] { return remote.calls().size() == 3 && settled_view(queue, first.id); }));
    EXPECT_EQ(queue.show(first.id)->attempts, 2u);
    EXPECT_EQ(queue.flush(), 2u);
    EXPECT_TRUE(eventually([&] { return remote.calls().size() == 5; }));
    EXPECT_EQ(queue.flush("0000000000000000"), OperationResult::not_found);
}

TEST_F(QueueFixture, RemoveMarksEveryRecipientDoneWithoutANotice) {
    NoticeLog log;
    options.retry = RetryPolicy{1h, 2h, 24h};
    DeliveryQueue queue(*spool, router(), couriers(maildir), options, log.notifier());
    const auto message = committed({"temp@a.example", "temp2@a.example"});
    queue.enqueue(message);
    ASSERT_TRUE(eventually([&] { return settled_view(queue, message.id) && queue.counts().deferred == 1; }));
    EXPECT_EQ(queue.remove(message.id, "uid 0 (root)"), OperationResult::done);
    EXPECT_FALSE(queue.show(message.id));
    EXPECT_EQ(queue.counts().queued, 0u);
    EXPECT_EQ(queue.counts().deferred, 0u);
    EXPECT_TRUE(spool->recover().empty()) << "the spool still holds the deleted message";
    EXPECT_TRUE(log.actions().empty()) << "delete must not tell the sender";
    EXPECT_EQ(queue.remove(message.id, "uid 0 (root)"), OperationResult::not_found);
}

TEST_F(QueueFixture, BounceFailsTheRecipientsNotDoneWithTheLastError) {
    NoticeLog log;
    options.retry = RetryPolicy{1h, 2h, 24h};
    DeliveryQueue queue(*spool, router(), couriers(maildir), options, log.notifier());
    const auto message = committed({"ok@a.example", "temp@a.example"});
    queue.enqueue(message);
    ASSERT_TRUE(eventually([&] { return settled_view(queue, message.id) && queue.counts().deferred == 1; }));
    EXPECT_EQ(queue.bounce(message.id, "uid 1000 (ana)"), OperationResult::done);
    EXPECT_FALSE(queue.show(message.id));
    EXPECT_TRUE(spool->recover().empty());
    EXPECT_EQ(log.actions(), (std::vector<std::pair<std::string, Action>>{{"ok@a.example", Action::delivered},
                                                                          {"temp@a.example", Action::failed}}));
    std::lock_guard lock(log.mutex);
    const auto& outcome = log.notices.back().second.outcome;
    EXPECT_EQ(outcome.status, delivery::DeliveryStatus::permanent);
    EXPECT_EQ(outcome.reply.enhanced, "5.0.0");
    EXPECT_EQ(outcome.detail,
              "delivery cancelled by the mail system administrator (uid 1000 (ana)); last error: said: 451 4.3.0 try later");
}

// A request for a message a worker is delivering waits for that attempt to end.
TEST_F(QueueFixture, RequestForAMessageBeingDeliveredAppliesWhenTheAttemptEnds) {
    NoticeLog log;
    remote.hold = 200ms;
    DeliveryQueue queue(*spool, router(), couriers(maildir), options, log.notifier());
    const auto message = committed({"temp@a.example"});
    queue.enqueue(message);
    ASSERT_TRUE(eventually([&] { return queue.show(message.id) && queue.show(message.id)->delivering; }));
    EXPECT_EQ(queue.list().size(), 1u) << "a message being delivered is still listed";
    EXPECT_EQ(queue.hold(message.id, "test"), OperationResult::after_delivery);
    EXPECT_EQ(queue.bounce(message.id, "test"), OperationResult::after_delivery);
    ASSERT_TRUE(eventually([&] { return !queue.show(message.id); }));
    EXPECT_EQ(remote.calls().size(), 1u);
    EXPECT_EQ(log.actions(), (std::vector<std::pair<std::string, Action>>{{"temp@a.example", Action::failed}}));
}

// The attempt count, next attempt, hold and last errors come back after a
// restart (a new queue over the same spool), so nothing is retried at once.
TEST_F(QueueFixture, RetryStateSurvivesARestart) {
    options.retry = RetryPolicy{1h, 2h, 24h};
    const auto message = committed({"ok@a.example", "temp@a.example", "temp2@b.example"});
    std::int64_t next_attempt = 0;
    {
        DeliveryQueue queue(*spool, router(), couriers(maildir), options);
        queue.enqueue(message);
        ASSERT_TRUE(eventually([&] { return settled_view(queue, message.id) && queue.counts().deferred == 1; }));
        ASSERT_EQ(queue.hold(message.id, "test"), OperationResult::done);
        next_attempt = queue.show(message.id)->next_attempt;  // 0 while held
        EXPECT_EQ(next_attempt, 0);
        ASSERT_EQ(queue.release(message.id, "test"), OperationResult::done);
        next_attempt = queue.show(message.id)->next_attempt;
        ASSERT_EQ(queue.hold(message.id, "test"), OperationResult::done);
    }
    const auto calls = remote.calls().size();
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    queue.recover(spool->recover());
    const auto view = queue.show(message.id);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->attempts, 1u);
    EXPECT_TRUE(view->held);
    EXPECT_EQ(queue.counts().deferred, 1u);
    ASSERT_EQ(view->recipients.size(), 3u);
    EXPECT_EQ(view->recipients[0].status, RecipientStatus::delivered);
    EXPECT_EQ(view->recipients[1].last_error, "said: 451 4.3.0 try later");
    EXPECT_EQ(view->recipients[2].status, RecipientStatus::pending);
    ASSERT_EQ(queue.release(message.id, "test"), OperationResult::done);
    EXPECT_LE(std::abs(queue.show(message.id)->next_attempt - next_attempt), 1);
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(remote.calls().size(), calls) << "a restart made the message due at once";
}

// A remote server that never answers: deliver() returns only when abandoned.
class StalledRemote final : public delivery::RemoteCourier {
public:
    std::vector<delivery::DeliveryOutcome> deliver(const spool::QueuedMessage&, std::string_view,
                                                   const std::vector<delivery::RemoteRecipient>& recipients) override {
        std::unique_lock lock(mutex_);
        ++calls_;
        changed_.notify_all();
        changed_.wait(lock, [this] { return abandoned_; });
        return std::vector<delivery::DeliveryOutcome>(
            recipients.size(), {delivery::DeliveryStatus::temporary, {}, "delivery abandoned (test)"});
    }
    void abandon() override {
        std::lock_guard lock(mutex_);
        abandoned_ = true;
        changed_.notify_all();
    }
    bool wait_for_call() {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, 5s, [this] { return calls_ > 0; });
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int calls_ = 0;
    bool abandoned_ = false;
};

// Issue 8: stop() waits delivery.shutdown_grace for deliveries in progress, then
// abandons them; the message stays queued, is not marked done, and its abandoned
// attempt is not recorded, so the restart tries it at once.
TEST_F(QueueFixture, StopAbandonsAStalledDeliveryAfterTheGrace) {
    StalledRemote stalled;
    options.retry = RetryPolicy{1h, 2h, 24h};
    options.shutdown_grace = 300ms;
    const auto message = committed({"bob@stalled.example"});
    std::chrono::steady_clock::duration took{};
    {
        DeliveryQueue queue(*spool, router(), {maildir, discard, stalled}, options);
        queue.enqueue(message);
        ASSERT_TRUE(stalled.wait_for_call());
        const auto start = std::chrono::steady_clock::now();
        queue.stop();
        took = std::chrono::steady_clock::now() - start;
    }
    EXPECT_GE(took, 250ms) << "abandoned before the grace";
    EXPECT_LT(took, 3s) << "stop() waited for the stalled delivery";
    const auto recovered = spool->recover();
    ASSERT_EQ(recovered.size(), 1u) << "the message must stay queued";
    EXPECT_FALSE(recovered[0].done[0]);
    EXPECT_EQ(recovered[0].state.attempts, 0u) << "an abandoned attempt is not an attempt";
    EXPECT_EQ(recovered[0].state.next_attempt, 0) << "the restart must try it at once";
}

}  // namespace
}  // namespace cartero::scheduler

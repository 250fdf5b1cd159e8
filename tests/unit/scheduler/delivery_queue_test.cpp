#include "scheduler/delivery_queue.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <fstream>
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
    DeliveryQueueOptions options{RetryPolicy{1ms, 4ms, 1h}, 2};

    void SetUp() override {
        fs::remove_all(root);
        fs::create_directories(root);
    }
    void TearDown() override { fs::remove_all(root); }

    Router router() {
        return directory_router([this] { return directory; });
    }
    Couriers couriers(delivery::Courier& local) { return {local, discard}; }
    spool::QueuedMessage committed(std::vector<std::string> recipients, std::string data = "Subject: x\r\n\r\nhi\r\n") {
        const auto id = spool->new_id();
        spool::Envelope envelope{"s@example.net", recipients, "", false, false,
                                 std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
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

TEST_F(QueueFixture, UnknownUserIsBouncedAndRemoteStaysQueued) {
    DeliveryQueue queue(*spool, router(), couriers(maildir), options);
    queue.enqueue(committed({"nobody@example.org", "friend@remote.example"}));
    ASSERT_TRUE(eventually([&] { return queue.counts().deferred == 1; }));
    std::this_thread::sleep_for(30ms);  // several retries at 1-4 ms
    EXPECT_EQ(queue.counts().queued, 1u);
    const auto queued = spool->recover();
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_EQ(queued[0].done, (std::vector<bool>{true, false})) << "bounced done, remote kept";
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

}  // namespace
}  // namespace cartero::scheduler

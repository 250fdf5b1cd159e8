// DeliveryQueue: runs delivery for queued messages with retries.
//
// Messages enter right after their commit (enqueue, with the data already in
// memory: nothing is read back from the spool) or at start (recover). Worker
// threads (delivery.local_concurrency) take messages when due and, for each
// recipient not yet done:
//   - route it through the current Directory (route.hpp: the [[route]] table,
//     then the local domains, then remote);
//   - deliver ONE copy per local mailbox, even when several recipients of the
//     message alias to the same mailbox, and one per routed address, through
//     the courier of its transport (discard: DiscardCourier);
//   - delivered: spool.mark_done; permanent failure or unknown user: logged as
//     bounced and marked done (DSN generation is a later issue: the log says
//     so); temporary failure: retried with backoff (retry.hpp);
//   - recipients outside the local domains (accepted from authenticated users)
//     stay queued with backoff, logged as deferred until remote delivery exists;
//   - past delivery.queue_lifetime, what remains is bounced.
// One message is handled by one worker at a time. A crash between a delivery
// and its (lazily durable) mark_done delivers that copy again after restart:
// at-least-once, never lost.
//
// Log lines, one per recipient and attempt, Postfix style:
//   QUEUEID: to=<rcpt>, relay=local, delay=0.12, status=sent (delivered to maildir)
//   QUEUEID: to=<rcpt>, relay=discard, delay=0.01, status=sent (discarded by route for bench.test)
//
// Trust: message data is untrusted and passed through; recipients were
// validated at RCPT time. Privileges: those of the courier (write below the
// mailbox root). Uses threads but no clock in its decisions other than the
// retry timing, which lives in retry.hpp.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "delivery/courier.hpp"
#include "scheduler/retry.hpp"
#include "scheduler/route.hpp"
#include "spool/spool.hpp"

namespace cartero::scheduler {

// The couriers the queue hands copies to, one per kind of destination.
// Issue 4 adds lmtp, relay and remote (MX) here.
struct Couriers {
    delivery::Courier& local;    // local mailboxes (Maildir)
    delivery::Courier& discard;  // [[route]] transport = "discard"
};

struct DeliveryQueueOptions {
    RetryPolicy retry;
    std::size_t workers = 4;  // delivery.local_concurrency

    static DeliveryQueueOptions from(const config::Config& config);
};

class DeliveryQueue {
public:
    DeliveryQueue(spool::Spool& spool, Router router, Couriers couriers, DeliveryQueueOptions options);
    DeliveryQueue(spool::Spool& spool, std::function<std::shared_ptr<const accounts::Directory>()> directory,
                  Couriers couriers, const config::Config& config);
    ~DeliveryQueue();
    DeliveryQueue(const DeliveryQueue&) = delete;
    DeliveryQueue& operator=(const DeliveryQueue&) = delete;

    // A message just committed: delivered from the in-memory data.
    void enqueue(spool::QueuedMessage message);
    // Messages found by Spool::recover() at start.
    void recover(std::vector<spool::QueuedMessage> messages);

    // Finishes the deliveries in progress (each bounded by its courier) and
    // stops the workers; what is still queued stays in the spool.
    void stop();

    struct Counts {
        std::size_t queued = 0;    // messages with recipients not done
        std::size_t deferred = 0;  // of those, messages that already failed an attempt
    };
    Counts counts() const;

private:
    using Clock = std::chrono::steady_clock;
    // One copy to make: the relay name in the log ("local", "discard") and the
    // address the courier delivers to (a mailbox, or a routed address).
    using CopyKey = std::pair<std::string, std::string>;
    struct Copy {
        delivery::Courier* courier = nullptr;
        std::vector<std::size_t> recipients;  // indexes of the recipients this copy serves
    };
    struct Entry {
        spool::QueuedMessage message;
        unsigned attempts = 0;
        std::set<CopyKey> delivered_copies;  // copies made, so a retry does not repeat them
    };
    // In order of severity: a recipient's result is the worst of its copies'.
    enum class Verdict { sent, deferred, bounced };
    struct RecipientResult {
        Verdict verdict = Verdict::sent;
        std::string relay = "local";
        std::string detail = "delivered to maildir";
    };

    static std::string_view status_word(Verdict verdict);
    static void keep_worst(RecipientResult& kept, RecipientResult result);
    void work();
    bool attempt(Entry& entry);  // true when no recipient is left
    std::map<std::size_t, RecipientResult> deliver_pending(Entry& entry);
    static RecipientResult result_of(const delivery::DeliveryOutcome& outcome, const std::string& relay);
    void add_copies(const Route& route, std::size_t recipient, std::map<CopyKey, Copy>& copies);
    delivery::Courier& courier_for(config::Transport transport);
    void finish_recipient(Entry& entry, std::size_t index, const RecipientResult& result);
    void settle(Entry entry, bool finished);

    spool::Spool& spool_;
    Router router_;
    Couriers couriers_;
    DeliveryQueueOptions options_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::map<std::string, Entry> waiting_;
    std::multimap<Clock::time_point, std::string> due_;
    Counts counts_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace cartero::scheduler

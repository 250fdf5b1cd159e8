// DeliveryQueue: runs delivery for queued messages with retries.
//
// Messages enter right after their commit (enqueue, with the data already in
// memory: nothing is read back from the spool) or at start (recover). Worker
// threads take messages when due and, for each recipient not yet done:
//   - route it through the current Directory (route.hpp: the [[route]] table,
//     then the local domains, then remote);
//   - deliver ONE copy per local mailbox, even when several recipients of the
//     message alias to the same mailbox, and one per routed address, through
//     the courier of its transport (discard: DiscardCourier);
//   - hand remote addresses to the RemoteCourier, one call per domain (and per
//     alias they are forwarded for, whose Delivered-To line the copy carries),
//     so one SMTP transaction carries all of a message's recipients in that domain;
//   - bounce (5.4.6) a local recipient, or skip one of its mailboxes, that the
//     message's Delivered-To lines already name: a mail forwarding loop
//     (delivery/delivered_to.hpp);
//   - delivered: spool.mark_done; permanent failure or unknown user: bounced
//     and marked done; temporary failure: retried with backoff (retry.hpp);
//   - past delivery.queue_lifetime, what remains is bounced.
// Whatever the sender may need to hear of (failures, delays past
// delivery.delay_warning, deliveries) is passed to the Notifier, which decides
// by the DSN rules (bounce/) whether to write a report.
//
// Concurrency: delivery.local_concurrency + delivery.remote_concurrency
// workers. At most local_concurrency are inside the local couriers; at most
// remote_concurrency inside the remote courier, and at most
// delivery.destination_concurrency for one domain. A message whose domain
// has no free slot waits a moment without that counting as an attempt, so
// slow remote servers never hold up local mail.
//
// One message is handled by one worker at a time. A crash between a delivery
// and its (lazily durable) mark_done tries that copy again after restart:
// never lost. The Maildir courier names each copy after the queue ID and the
// mailbox and finds a copy it made before the crash, so a Maildir gets it
// exactly once; LMTP and SMTP cannot (the reply to the final dot may be lost)
// and are at-least-once (docs/queue.md).
//
// No exception leaves a worker: whatever a courier, the router or the
// notifier throws becomes a per-recipient outcome (delivery::classify:
// temporary unless known permanent), logged with the queue ID, in one guard
// (`contained`, delivery_queue.cpp).
//
// Log lines, one per recipient and attempt, Postfix style:
//   QUEUEID: to=<rcpt>, relay=local, delay=0.12, status=sent (delivered to maildir)
//   QUEUEID: to=<rcpt>, relay=mx.example.com[192.0.2.1]:25, delay=1.2, status=sent (250 2.0.0 Ok: queued as X)
//
// Trust: message data is untrusted and passed through; recipients were
// validated at RCPT time. Privileges: those of the couriers. Uses threads but
// no clock in its decisions other than the retry timing (retry.hpp).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <functional>
#include <mutex>
#include <optional>
#include <semaphore>
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
struct Couriers {
    delivery::Courier& local;          // local mailboxes (Maildir)
    delivery::Courier& discard;        // [[route]] transport = "discard"
    delivery::RemoteCourier& remote;   // other servers: MX hosts, relays
};

// What the sender may need a report about, for one recipient (RFC 3464 Action).
enum class Action { failed, delayed, delivered, relayed };

struct RecipientNotice {
    std::size_t index = 0;  // envelope recipient
    Action action = Action::failed;
    delivery::DeliveryOutcome outcome;  // for an expired recipient: its last error
    bool expired = false;               // failed because delivery.queue_lifetime ran out
};

// What `cartero queue` shows of one recipient.
enum class RecipientStatus { pending, delivered, bounced, done };  // done: finished before a restart, outcome unknown

struct RecipientView {
    std::string address;
    RecipientStatus status = RecipientStatus::pending;
    std::string last_error;  // the last temporary failure, "" if none
};

// A queued message as the operator sees it (a copy: the queue keeps working).
struct MessageView {
    std::string id;
    std::string sender;
    std::int64_t received_at = 0;  // unix seconds
    std::size_t size = 0;          // octets of message data
    unsigned attempts = 0;         // failed attempts so far
    std::int64_t next_attempt = 0; // unix seconds; 0 when held or being delivered
    bool held = false;
    bool delivering = false;       // a worker has it right now
    std::vector<RecipientView> recipients;
};

// What an operator's request did.
enum class OperationResult {
    done,            // applied now
    after_delivery,  // the message is being delivered: applied as soon as that attempt ends
    not_found,       // no queued message with that ID
    held,            // flush of a held message: release it first
};

std::string_view to_string(RecipientStatus status);
std::string_view to_string(OperationResult result);

// Called once per attempt that produced notices (never concurrently for one
// message); decides by the DSN rules whether and what to send. Returns true
// when every failure notice due is in the spool (or none was due): only then
// are the bounced recipients marked done, so a notice that could not be
// queued is never lost — those recipients stay queued and are tried again.
// Delay and success notices are best effort.
using Notifier = std::function<bool(const spool::QueuedMessage&, const std::vector<RecipientNotice>&)>;

// The envelope sender of copies forwarded to another domain (Route::forwarded):
// SRS (docs/delivery.md). Empty function: the message's own sender.
using ForwardSender = std::function<std::string(const spool::Envelope&)>;

struct DeliveryQueueOptions {
    RetryPolicy retry;
    std::size_t local_workers = 4;            // delivery.local_concurrency
    std::size_t remote_workers = 20;          // delivery.remote_concurrency
    std::size_t per_destination = 5;          // delivery.destination_concurrency
    std::chrono::milliseconds delay_warning{0};  // delivery.delay_warning; 0 = never
    std::chrono::milliseconds shutdown_grace{std::chrono::seconds(10)};  // delivery.shutdown_grace
    ForwardSender forward_sender = {};

    static DeliveryQueueOptions from(const config::Config& config);
};

class DeliveryQueue {
public:
    DeliveryQueue(spool::Spool& spool, Router router, Couriers couriers, DeliveryQueueOptions options,
                  Notifier notifier = {});
    DeliveryQueue(spool::Spool& spool, std::function<std::shared_ptr<const accounts::Directory>()> directory,
                  Couriers couriers, const config::Config& config, Notifier notifier = {});
    ~DeliveryQueue();
    DeliveryQueue(const DeliveryQueue&) = delete;
    DeliveryQueue& operator=(const DeliveryQueue&) = delete;

    // A message just committed: delivered from the in-memory data.
    void enqueue(spool::QueuedMessage message);
    // Messages found by Spool::recover() at start.
    void recover(std::vector<spool::QueuedMessage> messages);

    // SIGHUP: the retry policy, delivery.destination_concurrency,
    // delivery.delay_warning and delivery.shutdown_grace of `config`, for the decisions taken from now on
    // (a message keeps the due time it has). The worker counts
    // (delivery.local_concurrency, delivery.remote_concurrency) stay until restart.
    void update(const config::Config& config);

    // Stops the workers; what is still queued stays in the spool. Deliveries in
    // progress get delivery.shutdown_grace to finish; then the couriers abandon
    // them (Courier::abandon), so they end soon as temporary failures. An
    // abandoned attempt is not recorded as one: the restart retries the message
    // at once, and nothing not delivered is marked done.
    void stop();

    // Operator requests (`cartero queue`, through the control socket). Each
    // names the message by queue ID; `who` says who asked, for the log.
    std::vector<MessageView> list() const;                        // in queue-ID (arrival) order
    std::optional<MessageView> show(const std::string& id) const;
    std::size_t flush();                                          // every message not held: due now; returns how many
    OperationResult flush(const std::string& id);                 // one message, due now (a held one stays held)
    OperationResult hold(const std::string& id, const std::string& who);     // no delivery until released
    OperationResult release(const std::string& id, const std::string& who);  // due now
    OperationResult remove(const std::string& id, const std::string& who);   // every recipient done, no DSN
    OperationResult bounce(const std::string& id, const std::string& who);   // recipients not done fail now: DSN

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
        bool delay_warned = false;
        bool waited_for_slot = false;        // this round, a domain had no free connection slot
        // For the operator and for restarts (persisted with the spool's delivery state).
        bool held = false;
        Clock::time_point due{};                  // when it is next tried; due_ entries at other times are stale
        std::vector<RecipientStatus> status = {};    // per recipient
        std::vector<std::string> last_error = {};    // per recipient
    };
    // Operator requests that reach a message while a worker owns it wait here
    // and are applied, in order, when that worker hands it back (settle()).
    enum class Operation { hold, release, remove, bounce };
    struct PendingOperation {
        Operation operation;
        std::string who;
    };
    // In order of severity: a recipient's result is the worst of its copies'.
    // `waiting` (no slot free, nothing attempted) is neither logged nor counted.
    enum class Verdict { sent, waiting, deferred, bounced };
    struct RecipientResult {
        Verdict verdict = Verdict::sent;
        std::string relay = "local";
        delivery::DeliveryOutcome outcome{delivery::DeliveryStatus::delivered, {}, "delivered to maildir"};
    };
    using Results = std::map<std::size_t, RecipientResult>;

    static std::string_view status_word(Verdict verdict);
    static void keep_worst(RecipientResult& kept, RecipientResult result);
    void work();
    bool attempt(Entry& entry);  // true when no recipient is left
    Results deliver_pending(Entry& entry);
    void deliver_local(Entry& entry, const std::map<CopyKey, Copy>& copies, Results& results);
    // Remote copies of one message go out per (domain, envelope sender): a
    // forwarded copy needs its own MAIL FROM (SRS), so it is its own transaction.
    using RemoteKey = std::pair<std::string, std::string>;
    std::string sender_for(const spool::Envelope& envelope, const Route& route) const;
    void deliver_remote(Entry& entry, const std::map<RemoteKey, std::vector<delivery::RemoteRecipient>>& domains,
                        Results& results);
    void send_remote(Entry& entry, const std::string& domain, const std::string& sender,
                     const std::vector<delivery::RemoteRecipient>& recipients, Results& results);
    static RecipientResult result_of(delivery::DeliveryOutcome outcome, const std::string& relay);
    void add_copies(const Route& route, std::size_t recipient, std::map<CopyKey, Copy>& copies);
    delivery::Courier& courier_for(config::Transport transport);
    void finish_recipient(Entry& entry, std::size_t index, const RecipientResult& result,
                          std::vector<RecipientNotice>& notices, std::vector<std::size_t>& bounced);
    void settle_bounced(Entry& entry, const std::vector<std::size_t>& bounced, bool notices_queued);
    void warn_of_delay(Entry& entry, const Results& results, std::vector<RecipientNotice>& notices);
    bool take_remote_slot(const std::string& destination);
    void release_remote_slot(const std::string& destination);
    void settle(Entry entry, bool finished);
    DeliveryQueueOptions current_options() const;  // takes mutex_: for the unlocked paths
    // Operator side (delivery_queue_operations.cpp).
    Entry make_entry(spool::QueuedMessage message) const;
    static MessageView view_of(const Entry& entry, Clock::time_point steady_now,
                               std::chrono::system_clock::time_point system_now);
    OperationResult operate(const std::string& id, Operation operation, const std::string& who);
    bool apply(Entry& entry, const PendingOperation& request);  // true when no recipient is left
    void apply_pending(std::unique_lock<std::mutex>& lock, Entry& entry, bool& finished);
    bool finish_by_operator(Entry& entry, const PendingOperation& request);
    void schedule(Entry& entry, Clock::time_point when);  // under mutex_
    void persist(const Entry& entry, Clock::time_point steady_now) const;

    spool::Spool& spool_;
    Router router_;
    Couriers couriers_;
    DeliveryQueueOptions options_;  // guarded by mutex_ (update)
    Notifier notifier_;
    std::counting_semaphore<> local_slots_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable settled_;  // a worker handed a message back (stop() waits for it)
    std::map<std::string, Entry> waiting_;
    std::multimap<Clock::time_point, std::string> due_;
    Counts counts_;
    bool stopping_ = false;
    bool abandoned_ = false;  // stop() abandoned the deliveries in progress
    std::size_t remote_in_flight_ = 0;               // guarded by mutex_
    std::map<std::string, std::size_t> per_domain_;  // remote deliveries in flight per destination, guarded by mutex_
    std::vector<std::thread> workers_;
    // Messages a worker (or an operator's remove/bounce) owns right now, as
    // last seen, so a listing still shows them; guarded by mutex_.
    std::map<std::string, MessageView> in_flight_;
    std::map<std::string, std::vector<PendingOperation>> pending_;  // guarded by mutex_
};

}  // namespace cartero::scheduler

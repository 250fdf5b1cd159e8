// DeliveryQueue, the operator's side: listing, flush, hold, release, remove,
// bounce (`cartero queue`, through the control socket), and the retry state
// that survives a restart. See delivery_queue.hpp and docs/queue.md.
//
// Ownership: a message a worker is delivering has left waiting_ and belongs
// to that worker until settle(). An operator's request for such a message is
// not applied behind the worker's back, nor does the request wait for it: a
// remote attempt may take minutes (RFC 5321 4.5.3.2 timeouts), and the control
// socket must answer at once. The request is queued in pending_ and applied,
// in order, by the worker as it hands the message back; the answer says so
// ("after_delivery"). remove and bounce take a waiting message out of
// waiting_ the same way a worker does (they mark done and call the Notifier,
// which must not run under mutex_); hold, release and flush only change
// scheduling and run under mutex_.
//
// Trust: IDs and `who` come from the control socket (owner only); an unknown
// ID is an answer, not an error. Pure apart from the spool and the Notifier.
#include <algorithm>
#include <spdlog/spdlog.h>

#include "scheduler/delivery_queue.hpp"

namespace cartero::scheduler {
namespace {

using SystemClock = std::chrono::system_clock;

std::int64_t unix_seconds(SystemClock::time_point when) {
    return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

// The wall-clock time of a steady-clock instant, in whole seconds rounded up
// (a restart then never retries earlier than planned).
std::int64_t wall_time(std::chrono::steady_clock::time_point when, std::chrono::steady_clock::time_point steady_now,
                       SystemClock::time_point system_now) {
    const auto ahead = std::max<std::chrono::steady_clock::duration>(when - steady_now, {});
    return unix_seconds(system_now + std::chrono::ceil<std::chrono::seconds>(ahead));
}

spool::RecipientOutcome spool_outcome(RecipientStatus status) {
    switch (status) {
        case RecipientStatus::delivered: return spool::RecipientOutcome::delivered;
        case RecipientStatus::bounced: return spool::RecipientOutcome::bounced;
        case RecipientStatus::pending:
        case RecipientStatus::done: break;
    }
    return spool::RecipientOutcome::unknown;
}

RecipientStatus status_of(bool done, spool::RecipientOutcome outcome) {
    if (!done) return RecipientStatus::pending;
    switch (outcome) {
        case spool::RecipientOutcome::delivered: return RecipientStatus::delivered;
        case spool::RecipientOutcome::bounced: return RecipientStatus::bounced;
        case spool::RecipientOutcome::unknown: break;
    }
    return RecipientStatus::done;
}

// RFC 3463 X.0.0: no code says "cancelled by the postmaster"; the text does.
delivery::DeliveryOutcome cancelled_outcome(const std::string& who, const std::string& last_error) {
    std::string detail = "delivery cancelled by the mail system administrator (" + who + ")";
    if (!last_error.empty()) detail += "; last error: " + last_error;
    return {delivery::DeliveryStatus::permanent, smtp::Reply{550, "5.0.0", detail}, detail};
}

}  // namespace

std::string_view to_string(RecipientStatus status) {
    switch (status) {
        case RecipientStatus::pending: return "pending";
        case RecipientStatus::delivered: return "delivered";
        case RecipientStatus::bounced: return "bounced";
        case RecipientStatus::done: return "done";
    }
    return "pending";
}

std::string_view to_string(OperationResult result) {
    switch (result) {
        case OperationResult::done: return "done";
        case OperationResult::after_delivery: return "after_delivery";
        case OperationResult::not_found: return "not_found";
        case OperationResult::held: return "held";
    }
    return "not_found";
}

// A new message, or one recovered with the state its last attempt saved.
DeliveryQueue::Entry DeliveryQueue::make_entry(spool::QueuedMessage message) const {
    Entry entry{std::move(message), 0, {}, false, false};
    const spool::DeliveryState& state = entry.message.state;
    const std::size_t count = entry.message.done.size();
    entry.attempts = state.attempts;
    entry.delay_warned = state.delay_warned;
    entry.held = state.held;
    entry.status.resize(count);
    entry.last_error.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        const auto outcome = i < state.recipients.size() ? state.recipients[i].outcome : spool::RecipientOutcome::unknown;
        entry.status[i] = status_of(entry.message.done[i], outcome);
        if (i < state.recipients.size()) entry.last_error[i] = state.recipients[i].last_error;
    }
    const auto now = Clock::now();
    const auto wait = std::chrono::seconds(state.next_attempt - unix_seconds(SystemClock::now()));
    entry.due = wait.count() > 0 ? now + wait : now;
    return entry;
}

MessageView DeliveryQueue::view_of(const Entry& entry, Clock::time_point steady_now, SystemClock::time_point system_now) {
    const auto& message = entry.message;
    MessageView view{message.id, message.envelope.sender, message.envelope.received_at,
                     message.data ? message.data->size() : 0, entry.attempts, 0, entry.held, false, {}};
    if (!entry.held) view.next_attempt = wall_time(entry.due, steady_now, system_now);
    for (std::size_t i = 0; i < message.envelope.recipients.size(); ++i)
        view.recipients.push_back({message.envelope.recipients[i],
                                   i < entry.status.size() ? entry.status[i] : RecipientStatus::pending,
                                   i < entry.last_error.size() ? entry.last_error[i] : std::string()});
    return view;
}

void DeliveryQueue::schedule(Entry& entry, Clock::time_point when) {
    entry.due = when;
    if (!entry.held) due_.emplace(when, entry.message.id);
}

// Lazily durable, like DONE marks: a state lost in a crash only means the
// retry count and time of the attempt before it.
void DeliveryQueue::persist(const Entry& entry, Clock::time_point steady_now) const {
    spool::DeliveryState state;
    state.attempts = entry.attempts;
    state.next_attempt = wall_time(entry.due, steady_now, SystemClock::now());
    state.held = entry.held;
    state.delay_warned = entry.delay_warned;
    for (std::size_t i = 0; i < entry.status.size(); ++i)
        state.recipients.push_back({spool_outcome(entry.status[i]), entry.last_error[i]});
    spool_.save_state(entry.message.id, state);
}

std::vector<MessageView> DeliveryQueue::list() const {
    std::lock_guard lock(mutex_);
    const auto steady_now = Clock::now();
    const auto system_now = SystemClock::now();
    std::vector<MessageView> views;
    views.reserve(waiting_.size() + in_flight_.size());
    for (const auto& [id, entry] : waiting_) views.push_back(view_of(entry, steady_now, system_now));
    for (const auto& [id, view] : in_flight_) {
        views.push_back(view);
        views.back().delivering = true;
        views.back().next_attempt = 0;
    }
    std::sort(views.begin(), views.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return views;
}

std::optional<MessageView> DeliveryQueue::show(const std::string& id) const {
    std::lock_guard lock(mutex_);
    if (const auto found = waiting_.find(id); found != waiting_.end())
        return view_of(found->second, Clock::now(), SystemClock::now());
    if (const auto found = in_flight_.find(id); found != in_flight_.end()) {
        MessageView view = found->second;
        view.delivering = true;
        view.next_attempt = 0;
        return view;
    }
    return std::nullopt;
}

std::size_t DeliveryQueue::flush() {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    std::size_t flushed = 0;
    for (auto& [id, entry] : waiting_) {
        if (entry.held) continue;
        schedule(entry, now);
        ++flushed;
    }
    wake_.notify_all();
    return flushed;
}

OperationResult DeliveryQueue::flush(const std::string& id) {
    std::lock_guard lock(mutex_);
    const auto found = waiting_.find(id);
    if (found == waiting_.end()) return in_flight_.contains(id) ? OperationResult::done : OperationResult::not_found;
    if (found->second.held) return OperationResult::held;
    schedule(found->second, Clock::now());
    wake_.notify_all();
    return OperationResult::done;
}

OperationResult DeliveryQueue::hold(const std::string& id, const std::string& who) {
    return operate(id, Operation::hold, who);
}
OperationResult DeliveryQueue::release(const std::string& id, const std::string& who) {
    return operate(id, Operation::release, who);
}
OperationResult DeliveryQueue::remove(const std::string& id, const std::string& who) {
    return operate(id, Operation::remove, who);
}
OperationResult DeliveryQueue::bounce(const std::string& id, const std::string& who) {
    return operate(id, Operation::bounce, who);
}

OperationResult DeliveryQueue::operate(const std::string& id, Operation operation, const std::string& who) {
    std::unique_lock lock(mutex_);
    if (in_flight_.contains(id)) {
        pending_[id].push_back({operation, who});
        return OperationResult::after_delivery;
    }
    const auto found = waiting_.find(id);
    if (found == waiting_.end()) return OperationResult::not_found;
    if (operation == Operation::hold || operation == Operation::release) {
        apply(found->second, {operation, who});  // only flags, and the spool only enqueues: fine under mutex_
        if (operation == Operation::release) schedule(found->second, found->second.due);
        wake_.notify_all();
        return OperationResult::done;
    }
    // remove / bounce: taken out like a worker takes a message (see the top of this file).
    auto node = waiting_.extract(found);
    in_flight_[id] = view_of(node.mapped(), Clock::now(), SystemClock::now());
    lock.unlock();
    Entry entry = std::move(node.mapped());
    bool finished = apply(entry, {operation, who});
    lock.lock();
    apply_pending(lock, entry, finished);
    in_flight_.erase(id);
    settled_.notify_all();
    if (finished) {
        --counts_.queued;
        if (entry.attempts > 0) --counts_.deferred;
    } else {
        schedule(entry, entry.due);  // not reached: remove and bounce finish every recipient
        waiting_.emplace(id, std::move(entry));
    }
    wake_.notify_all();
    return OperationResult::done;
}

// Runs the requests that arrived while `entry` was owned; called with `lock`
// held, releases it around the work.
void DeliveryQueue::apply_pending(std::unique_lock<std::mutex>& lock, Entry& entry, bool& finished) {
    for (auto found = pending_.find(entry.message.id); found != pending_.end();
         found = pending_.find(entry.message.id)) {
        std::vector<PendingOperation> requests = std::move(found->second);
        pending_.erase(found);
        lock.unlock();
        for (const auto& request : requests)
            if (!finished) finished = apply(entry, request);
        lock.lock();
    }
}

bool DeliveryQueue::apply(Entry& entry, const PendingOperation& request) {
    const auto& id = entry.message.id;
    switch (request.operation) {
        case Operation::hold:
        case Operation::release:
            entry.held = request.operation == Operation::hold;
            spdlog::info("{}: {} by {}", id, entry.held ? "held" : "released", request.who);
            persist(entry, Clock::now());
            return false;
        case Operation::remove:
        case Operation::bounce: return finish_by_operator(entry, request);
    }
    return false;
}

// remove: every recipient not done is marked done, no DSN (Postfix's
// `postsuper -d`). bounce: they fail now with the last error quoted, and the
// Notifier sends the sender a DSN as for any failure; as in attempt(), they
// are marked done only once that DSN is queued. True when the message is gone.
bool DeliveryQueue::finish_by_operator(Entry& entry, const PendingOperation& request) {
    auto& message = entry.message;
    const bool bounce = request.operation == Operation::bounce;
    spdlog::info("{}: {} by {}", message.id, bounce ? "bounced" : "deleted", request.who);
    std::vector<RecipientNotice> notices;
    std::vector<std::size_t> bounced;
    for (std::size_t i = 0; i < message.done.size(); ++i) {
        if (message.done[i]) continue;
        if (bounce) {
            const std::string& last = i < entry.last_error.size() ? entry.last_error[i] : std::string();
            finish_recipient(entry, i, {Verdict::bounced, "none", cancelled_outcome(request.who, last)}, notices,
                             bounced);
            continue;
        }
        message.done[i] = true;
        spool_.mark_done(message.id, i);
    }
    const bool notices_queued = notices.empty() || !notifier_ || notifier_(message, notices);
    settle_bounced(entry, bounced, notices_queued);
    const bool finished = std::all_of(message.done.begin(), message.done.end(), [](bool d) { return d; });
    if (finished) spdlog::info("{}: removed", message.id);
    return finished;
}

}  // namespace cartero::scheduler

// DeliveryQueue; see delivery_queue.hpp.
#include "scheduler/delivery_queue.hpp"

#include "spool/queue_id.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace cartero::scheduler {
namespace {

using delivery::DeliveryStatus;

constexpr std::string_view no_dsn = "; no DSN sent: bounce messages are not implemented yet";

// Postfix's delay=: from arrival to now. The queue ID's stamp (microseconds,
// taken when the message began) is exact; received_at is only whole seconds.
double delay_seconds(const spool::QueuedMessage& message) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto stamp = spool::queue_id_stamp(message.id);
    const double arrival = stamp ? static_cast<double>(*stamp) / 1e6 : static_cast<double>(message.envelope.received_at);
    return std::max(std::chrono::duration<double>(now).count() - arrival, 0.0);
}

}  // namespace

std::string_view DeliveryQueue::status_word(Verdict verdict) {
    switch (verdict) {
        case Verdict::sent: return "sent";
        case Verdict::deferred: return "deferred";
        case Verdict::bounced: return "bounced";
    }
    return "deferred";
}

DeliveryQueueOptions DeliveryQueueOptions::from(const config::Config& config) {
    return DeliveryQueueOptions{RetryPolicy::from(config.delivery), std::max<std::size_t>(1, config.delivery.local_concurrency)};
}

DeliveryQueue::DeliveryQueue(spool::Spool& spool, Router router, Couriers couriers, DeliveryQueueOptions options)
    : spool_(spool), router_(std::move(router)), couriers_(couriers), options_(options) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.workers); ++i)
        workers_.emplace_back([this] { work(); });
}

DeliveryQueue::DeliveryQueue(spool::Spool& spool, std::function<std::shared_ptr<const accounts::Directory>()> directory,
                             Couriers couriers, const config::Config& config)
    : DeliveryQueue(spool, directory_router(std::move(directory)), couriers, DeliveryQueueOptions::from(config)) {}

DeliveryQueue::~DeliveryQueue() { stop(); }

void DeliveryQueue::enqueue(spool::QueuedMessage message) {
    std::lock_guard lock(mutex_);
    const std::string id = message.id;
    if (!waiting_.try_emplace(id, Entry{std::move(message), 0, {}}).second) return;
    ++counts_.queued;
    due_.emplace(Clock::now(), id);
    wake_.notify_one();
}

void DeliveryQueue::recover(std::vector<spool::QueuedMessage> messages) {
    for (auto& message : messages) enqueue(std::move(message));
}

void DeliveryQueue::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_)
        if (worker.joinable()) worker.join();
}

DeliveryQueue::Counts DeliveryQueue::counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

void DeliveryQueue::work() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (due_.empty()) {
            wake_.wait(lock);
            continue;
        }
        const auto next = due_.begin();
        if (const Clock::time_point when = next->first; when > Clock::now()) {
            // A copy: another worker may take (erase) that entry while this one sleeps.
            wake_.wait_until(lock, when);
            continue;
        }
        // The entry leaves the map while a worker owns it: no other thread can see it half-updated.
        auto node = waiting_.extract(next->second);
        due_.erase(next);
        if (node.empty()) continue;
        lock.unlock();
        Entry entry = std::move(node.mapped());
        const bool finished = attempt(entry);
        lock.lock();
        settle(std::move(entry), finished);
    }
}

void DeliveryQueue::settle(Entry entry, bool finished) {
    if (finished) {
        --counts_.queued;
        if (entry.attempts > 0) --counts_.deferred;
        return;
    }
    if (entry.attempts++ == 0) ++counts_.deferred;
    const std::string id = entry.message.id;
    due_.emplace(Clock::now() + backoff(options_.retry, entry.attempts), id);
    waiting_.emplace(id, std::move(entry));
    wake_.notify_all();  // the new due time may be earlier than what sleeping workers wait for
}

bool DeliveryQueue::attempt(Entry& entry) {
    for (const auto& [index, result] : deliver_pending(entry)) finish_recipient(entry, index, result);
    auto& done = entry.message.done;
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) return true;
    const auto received = std::chrono::system_clock::time_point(std::chrono::seconds(entry.message.envelope.received_at));
    if (!expired(options_.retry, received, std::chrono::system_clock::now())) return false;
    for (std::size_t i = 0; i < done.size(); ++i)
        if (!done[i]) finish_recipient(entry, i, {Verdict::bounced, "none", "queue lifetime expired" + std::string(no_dsn)});
    return true;
}

// Routes every pending recipient, delivers one copy per local mailbox or routed
// address, and returns the result for each recipient: the worst of its copies'
// outcomes.
std::map<std::size_t, DeliveryQueue::RecipientResult> DeliveryQueue::deliver_pending(Entry& entry) {
    const auto& message = entry.message;
    std::map<std::size_t, RecipientResult> results;
    std::map<CopyKey, Copy> copies;
    for (std::size_t i = 0; i < message.done.size(); ++i) {
        if (message.done[i]) continue;
        const Route route = router_(message.envelope.recipients[i]);
        auto& result = results[i];
        if (route.unknown) result = {Verdict::bounced, "local", "unknown user" + std::string(no_dsn)};
        else if (!route.remote.empty()) result = {Verdict::deferred, "none", "remote delivery not yet available"};
        add_copies(route, i, copies);
    }
    for (const auto& [key, copy] : copies) {
        if (entry.delivered_copies.contains(key)) continue;
        const auto& [relay, address] = key;
        const delivery::DeliveryOutcome outcome = copy.courier->deliver(message, address);
        if (outcome.status == DeliveryStatus::delivered) entry.delivered_copies.insert(key);
        const RecipientResult result = result_of(outcome, relay);
        for (auto i : copy.recipients) keep_worst(results[i], result);
    }
    return results;
}

void DeliveryQueue::add_copies(const Route& route, std::size_t recipient, std::map<CopyKey, Copy>& copies) {
    const auto add = [&](std::string relay, const std::string& address, delivery::Courier& courier) {
        Copy& copy = copies[{std::move(relay), address}];
        copy.courier = &courier;
        copy.recipients.push_back(recipient);
    };
    for (const auto& mailbox : route.mailboxes) add("local", mailbox, couriers_.local);
    for (const auto& routed : route.routed)
        add(std::string(config::to_string(routed.transport)), routed.address, courier_for(routed.transport));
}

delivery::Courier& DeliveryQueue::courier_for(config::Transport transport) {
    switch (transport) {
        case config::Transport::discard: return couriers_.discard;
    }
    return couriers_.discard;  // unreachable: the switch covers every transport
}

DeliveryQueue::RecipientResult DeliveryQueue::result_of(const delivery::DeliveryOutcome& outcome,
                                                        const std::string& relay) {
    switch (outcome.status) {
        case DeliveryStatus::delivered: return {Verdict::sent, relay, outcome.detail};
        case DeliveryStatus::permanent: return {Verdict::bounced, relay, outcome.detail + std::string(no_dsn)};
        case DeliveryStatus::temporary: break;
    }
    return {Verdict::deferred, relay, outcome.detail};
}

// A sent copy replaces a sent result too, so the log names the courier that made it.
void DeliveryQueue::keep_worst(RecipientResult& kept, RecipientResult result) {
    if (result.verdict >= kept.verdict) kept = std::move(result);
}

void DeliveryQueue::finish_recipient(Entry& entry, std::size_t index, const RecipientResult& result) {
    const auto& message = entry.message;
    spdlog::info("{}: to=<{}>, relay={}, delay={:.2f}, status={} ({})", message.id, message.envelope.recipients[index],
                 result.relay, delay_seconds(message), status_word(result.verdict), result.detail);
    if (result.verdict == Verdict::deferred) return;
    entry.message.done[index] = true;
    spool_.mark_done(message.id, index);
    if (std::all_of(message.done.begin(), message.done.end(), [](bool d) { return d; }))
        spdlog::info("{}: removed", message.id);
}

}  // namespace cartero::scheduler

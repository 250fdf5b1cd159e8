// DeliveryQueue; see delivery_queue.hpp.
#include "scheduler/delivery_queue.hpp"

#include "delivery/delivered_to.hpp"
#include "spool/queue_id.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace cartero::scheduler {
namespace {

using delivery::DeliveryStatus;

// How long a message waits when its domain has no free connection slot: long
// enough not to spin, short enough that a freed slot is soon used.
constexpr auto slot_wait = std::chrono::milliseconds(200);

// Postfix's delay=: from arrival to now. The queue ID's stamp (microseconds,
// taken when the message began) is exact; received_at is only whole seconds.
double delay_seconds(const spool::QueuedMessage& message) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto stamp = spool::queue_id_stamp(message.id);
    const double arrival = stamp ? static_cast<double>(*stamp) / 1e6 : static_cast<double>(message.envelope.received_at);
    return std::max(std::chrono::duration<double>(now).count() - arrival, 0.0);
}

std::chrono::system_clock::time_point received_at(const spool::QueuedMessage& message) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(message.envelope.received_at));
}

delivery::DeliveryOutcome bounce_outcome(std::string detail, std::string enhanced_code) {
    return {DeliveryStatus::permanent, smtp::Reply{550, std::move(enhanced_code), detail}, detail};
}

// The forwarding-loop check of Postfix local(8) (delivery/delivered_to.hpp): a
// message whose header block already names the recipient in a Delivered-To line
// was delivered or forwarded for it before and has come back. The recipient
// itself: nothing of it is delivered or forwarded again. One of its mailboxes:
// that copy is not made (the others are). Returns the looping address, if any.
std::optional<std::string> cut_loops(Route& route, const delivery::DeliveredTo& delivered) {
    if (!route.local_recipient.empty() && delivered.names(route.local_recipient)) {
        std::string looped = std::move(route.local_recipient);
        route = Route{};
        return looped;
    }
    std::optional<std::string> looped;
    std::erase_if(route.mailboxes, [&](const std::string& mailbox) {
        if (!delivered.names(mailbox)) return false;
        looped = mailbox;
        return true;
    });
    return looped;
}

// One remote call per Delivered-To line: copies forwarded for different aliases
// carry different headers (Postfix, too, forwards one copy per alias); the
// recipients that are remote themselves ("" first) go together as before.
std::vector<std::vector<delivery::RemoteRecipient>> by_delivered_to(
    const std::vector<delivery::RemoteRecipient>& recipients) {
    std::map<std::string, std::vector<delivery::RemoteRecipient>> groups;
    for (const auto& recipient : recipients) groups[recipient.delivered_to].push_back(recipient);
    std::vector<std::vector<delivery::RemoteRecipient>> out;
    for (auto& [delivered_to, group] : groups) out.push_back(std::move(group));
    return out;
}

// The one place where an exception from code the queue calls (a courier, the
// router, the notifier, and the attempt around them) is stopped. It must not
// reach a worker thread: std::terminate would end the server, and as the
// message is spooled, end it again after every restart (issue 8). It becomes
// an outcome (delivery::classify: permanent only when known to be, e.g. an
// address that cannot name a mailbox), logged here with the queue ID and what
// was being done; `on_failure` turns that outcome into what `call` would have
// returned (per-recipient results, so nothing else of the message is lost).
template <typename Call, typename OnFailure>
auto contained(const std::string& id, const std::string& what, Call&& call, OnFailure&& on_failure) {
    try {
        return call();
    } catch (...) {
        const delivery::DeliveryOutcome outcome = delivery::classify(std::current_exception(), what);
        spdlog::error("{}: {} ({} failure, contained)", id, outcome.detail, delivery::to_string(outcome.status));
        return on_failure(outcome);
    }
}

}  // namespace

std::string_view DeliveryQueue::status_word(Verdict verdict) {
    switch (verdict) {
        case Verdict::sent: return "sent";
        case Verdict::waiting: return "waiting";
        case Verdict::deferred: return "deferred";
        case Verdict::bounced: return "bounced";
    }
    return "deferred";
}

DeliveryQueueOptions DeliveryQueueOptions::from(const config::Config& config) {
    const auto& delivery = config.delivery;
    return DeliveryQueueOptions{RetryPolicy::from(delivery), std::max<std::size_t>(1, delivery.local_concurrency),
                                std::max<std::size_t>(1, delivery.remote_concurrency),
                                std::max<std::size_t>(1, delivery.destination_concurrency),
                                std::chrono::duration_cast<std::chrono::milliseconds>(delivery.delay_warning),
                                std::chrono::duration_cast<std::chrono::milliseconds>(delivery.shutdown_grace)};
}

DeliveryQueue::DeliveryQueue(spool::Spool& spool, Router router, Couriers couriers, DeliveryQueueOptions options,
                             Notifier notifier)
    : spool_(spool), router_(std::move(router)), couriers_(couriers), options_(options),
      notifier_(std::move(notifier)), local_slots_(static_cast<std::ptrdiff_t>(std::max<std::size_t>(1, options.local_workers))) {
    const std::size_t workers = std::max<std::size_t>(1, options_.local_workers) + std::max<std::size_t>(1, options_.remote_workers);
    for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
}

DeliveryQueue::DeliveryQueue(spool::Spool& spool, std::function<std::shared_ptr<const accounts::Directory>()> directory,
                             Couriers couriers, const config::Config& config, Notifier notifier)
    : DeliveryQueue(spool, directory_router(std::move(directory)), couriers, DeliveryQueueOptions::from(config),
                    std::move(notifier)) {}

DeliveryQueue::~DeliveryQueue() { stop(); }

void DeliveryQueue::enqueue(spool::QueuedMessage message) {
    Entry entry = make_entry(std::move(message));  // resumes a recovered message's retry state
    std::lock_guard lock(mutex_);
    const std::string id = entry.message.id;
    const auto [it, inserted] = waiting_.try_emplace(id, std::move(entry));
    if (!inserted) return;
    ++counts_.queued;
    if (it->second.attempts > 0) ++counts_.deferred;
    schedule(it->second, it->second.due);
    wake_.notify_one();
}

void DeliveryQueue::recover(std::vector<spool::QueuedMessage> messages) {
    for (auto& message : messages) {
        message.recovered = true;  // an earlier run may have made some copies: couriers look for them
        enqueue(std::move(message));
    }
}

void DeliveryQueue::update(const config::Config& config) {
    const DeliveryQueueOptions fresh = DeliveryQueueOptions::from(config);
    std::lock_guard lock(mutex_);
    options_.retry = fresh.retry;
    options_.per_destination = fresh.per_destination;
    options_.delay_warning = fresh.delay_warning;
    options_.shutdown_grace = fresh.shutdown_grace;
}

DeliveryQueueOptions DeliveryQueue::current_options() const {
    std::lock_guard lock(mutex_);
    return options_;
}

void DeliveryQueue::stop() {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
    const bool settled = settled_.wait_for(lock, options_.shutdown_grace, [this] { return in_flight_.empty(); });
    if (!settled && !abandoned_) {
        // A peer that trickles or stalls could hold a worker for its whole
        // timeout; the message stays queued and goes out after the restart.
        abandoned_ = true;
        spdlog::warn("stopping: abandoning {} deliveries still in progress after delivery.shutdown_grace ({:.1f}s); "
                     "they stay queued and are retried after the restart",
                     in_flight_.size(), std::chrono::duration<double>(options_.shutdown_grace).count());
        lock.unlock();
        couriers_.local.abandon();
        couriers_.discard.abandon();
        couriers_.remote.abandon();
    } else {
        lock.unlock();
    }
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
        // A due time the entry no longer has (flushed, released, held, or
        // taken by an operator) is stale: dropped here rather than searched for.
        const auto found = waiting_.find(next->second);
        const bool current = found != waiting_.end() && !found->second.held && found->second.due == next->first;
        due_.erase(next);
        if (!current) continue;
        // The entry leaves the map while a worker owns it: no other thread can see it half-updated.
        auto node = waiting_.extract(found);
        in_flight_[node.key()] = view_of(node.mapped(), Clock::now(), std::chrono::system_clock::now());
        lock.unlock();
        Entry entry = std::move(node.mapped());
        // Not finished: retried with backoff like any failed attempt.
        bool finished = contained(entry.message.id, "delivery attempt", [&] { return attempt(entry); },
                                  [](const delivery::DeliveryOutcome&) { return false; });
        lock.lock();
        apply_pending(lock, entry, finished);
        in_flight_.erase(entry.message.id);
        settle(std::move(entry), finished);
        settled_.notify_all();
    }
}

void DeliveryQueue::settle(Entry entry, bool finished) {
    if (finished) {
        --counts_.queued;
        if (entry.attempts > 0) --counts_.deferred;
        return;
    }
    const std::string id = entry.message.id;
    const auto now = Clock::now();
    if (std::exchange(entry.waited_for_slot, false)) {
        // Only waiting for a slot, nothing failed: not an attempt.
        schedule(entry, now + slot_wait);
    } else {
        if (entry.attempts++ == 0) ++counts_.deferred;
        schedule(entry, now + backoff(options_.retry, entry.attempts));
        // A restart resumes with this attempt count and next attempt; an attempt
        // cut short by stop() is none, so the restart tries the message at once.
        if (!abandoned_) persist(entry, now);
    }
    waiting_.emplace(id, std::move(entry));
    wake_.notify_all();  // the new due time may be earlier than what sleeping workers wait for
}

bool DeliveryQueue::attempt(Entry& entry) {
    std::vector<RecipientNotice> notices;
    std::vector<std::size_t> bounced;  // marked done once their notice is queued
    const Results results = deliver_pending(entry);
    bool failed = false;
    for (const auto& [index, result] : results) {
        if (result.verdict == Verdict::waiting) continue;
        failed = failed || result.verdict == Verdict::deferred;
        finish_recipient(entry, index, result, notices, bounced);
    }
    // Waiting for a slot counts as an attempt only when something else failed.
    if (failed) entry.waited_for_slot = false;
    auto& done = entry.message.done;
    const bool all_done = std::all_of(done.begin(), done.end(), [](bool d) { return d; });
    if (!all_done && expired(current_options().retry, received_at(entry.message), std::chrono::system_clock::now())) {
        entry.waited_for_slot = false;
        for (std::size_t i = 0; i < done.size(); ++i) {
            if (done[i]) continue;
            auto last = results.contains(i) ? results.at(i).outcome : delivery::DeliveryOutcome{};
            last.status = DeliveryStatus::permanent;
            last.detail = "queue lifetime expired; last error: " + (last.detail.empty() ? "none" : last.detail);
            // RFC 3463 X.4.7 "delivery time expired" when no server gave a code of its own.
            if (last.reply.enhanced.empty()) last.reply = smtp::Reply{451, "4.4.7", last.detail};
            finish_recipient(entry, i, {Verdict::bounced, "none", last}, notices, bounced);
            // finish_recipient added the bounced recipient's notice last.
            if (!notices.empty() && notices.back().index == i) notices.back().expired = true;
        }
    } else if (!all_done) {
        warn_of_delay(entry, results, notices);
    }
    bool notices_queued = true;
    if (!notices.empty() && notifier_)
        notices_queued = contained(entry.message.id, "sender notification",
                                   [&] { return notifier_(entry.message, notices); },
                                   [](const delivery::DeliveryOutcome&) { return false; });
    settle_bounced(entry, bounced, notices_queued);
    const bool finished = std::all_of(done.begin(), done.end(), [](bool d) { return d; });
    if (finished) spdlog::info("{}: removed", entry.message.id);
    return finished;
}

// A bounced recipient is marked done in the spool only once the notice to its
// sender is in the spool too: in the other order a crash, or a commit that
// failed, between the two would lose the notice for good. When it could not
// be queued, the recipient goes back to the queue and its delivery is tried
// again later (which bounces again, with a fresh notice, or now succeeds).
void DeliveryQueue::settle_bounced(Entry& entry, const std::vector<std::size_t>& bounced, bool notices_queued) {
    auto& message = entry.message;
    for (const std::size_t index : bounced) {
        if (notices_queued) {
            spool_.mark_done(message.id, index);
            continue;
        }
        message.done[index] = false;
        if (index < entry.status.size()) entry.status[index] = RecipientStatus::pending;
        if (index < entry.last_error.size())
            entry.last_error[index] = "bounced, but the notice to the sender could not be queued; tried again later";
        spdlog::warn("{}: to=<{}>: bounced, but the notice to the sender could not be queued; the recipient stays "
                     "queued and is tried again", message.id, message.envelope.recipients[index]);
    }
}

// RFC 3461 4.1 NOTIFY=DELAY: once per message, when it has waited past
// delivery.delay_warning, for the recipients still deferred.
void DeliveryQueue::warn_of_delay(Entry& entry, const Results& results, std::vector<RecipientNotice>& notices) {
    const std::chrono::milliseconds delay_warning = current_options().delay_warning;
    if (entry.delay_warned || delay_warning.count() == 0) return;
    const auto waited = std::chrono::system_clock::now() - received_at(entry.message);
    if (waited < delay_warning) return;
    const std::size_t before = notices.size();
    for (const auto& [index, result] : results)
        if (result.verdict == Verdict::deferred) notices.push_back({index, Action::delayed, result.outcome});
    // A round where everything only waited for a slot has nothing to report yet.
    entry.delay_warned = notices.size() > before;
}

// Routes every pending recipient, delivers one copy per local mailbox or routed
// address and one remote transaction per domain, and returns the result for
// each recipient: the worst of its copies' outcomes.
DeliveryQueue::Results DeliveryQueue::deliver_pending(Entry& entry) {
    const auto& message = entry.message;
    Results results;
    std::map<CopyKey, Copy> copies;
    std::map<RemoteKey, std::vector<delivery::RemoteRecipient>> domains;
    std::map<std::string, std::size_t> first_for;                // remote address -> the recipient it is sent for
    std::vector<std::pair<std::size_t, std::string>> also_for;  // other recipients served by that copy
    // Read once per attempt, and only the header block.
    const auto delivered = message.data ? delivery::DeliveredTo::of(*message.data) : delivery::DeliveredTo{};
    for (std::size_t i = 0; i < message.done.size(); ++i) {
        if (message.done[i]) continue;
        auto& result = results[i];
        const auto& recipient = message.envelope.recipients[i];
        std::optional<Route> found = contained(
            message.id, "routing <" + recipient + ">", [&] { return std::optional<Route>(router_(recipient)); },
            [&](const delivery::DeliveryOutcome& failure) {
                result = result_of(failure, "none");
                return std::optional<Route>();
            });
        if (!found) continue;
        Route route = std::move(*found);
        if (route.unknown) result = {Verdict::bounced, "local", bounce_outcome("unknown user", "5.1.1")};
        // RFC 3463 X.4.6 "routing loop detected"; the words are Postfix's.
        if (const auto looped = cut_loops(route, delivered))
            result = {Verdict::bounced, "local", bounce_outcome("mail forwarding loop for " + *looped, "5.4.6")};
        add_copies(route, i, copies);
        for (const auto& address : route.remote) {
            if (entry.delivered_copies.contains({"remote", address})) continue;
            // Two recipients aliasing to one remote address: one RCPT, as for local mailboxes.
            if (const auto [it, first] = first_for.try_emplace(address, i); !first) {
                also_for.emplace_back(i, address);
                continue;
            }
            domains[{std::string(accounts::domain_of(address)), sender_for(message.envelope, route)}].push_back(
                {i, address, route.local_recipient});
        }
    }
    deliver_local(entry, copies, results);
    deliver_remote(entry, domains, results);
    for (const auto& [index, address] : also_for) keep_worst(results[index], results[first_for.at(address)]);
    return results;
}

void DeliveryQueue::deliver_local(Entry& entry, const std::map<CopyKey, Copy>& copies, Results& results) {
    for (const auto& [key, copy] : copies) {
        if (entry.delivered_copies.contains(key)) continue;
        const auto& [relay, address] = key;
        local_slots_.acquire();
        const delivery::DeliveryOutcome outcome = contained(
            entry.message.id, relay + " delivery to <" + address + ">",
            [&] { return copy.courier->deliver(entry.message, address); },
            [](const delivery::DeliveryOutcome& failure) { return failure; });
        local_slots_.release();
        if (outcome.status == DeliveryStatus::delivered) entry.delivered_copies.insert(key);
        const RecipientResult result = result_of(outcome, relay);
        for (auto i : copy.recipients) keep_worst(results[i], result);
    }
}

std::string DeliveryQueue::sender_for(const spool::Envelope& envelope, const Route& route) const {
    return route.forwarded && options_.forward_sender ? options_.forward_sender(envelope) : envelope.sender;
}

void DeliveryQueue::deliver_remote(Entry& entry, const std::map<RemoteKey, std::vector<delivery::RemoteRecipient>>& domains,
                                   Results& results) {
    for (const auto& [key, recipients] : domains) {
        const auto& [domain, sender] = key;
        for (const auto& copy : by_delivered_to(recipients)) send_remote(entry, domain, sender, copy, results);
    }
}

// One call to the remote courier: one transaction to `domain`'s next hop, from `sender`.
void DeliveryQueue::send_remote(Entry& entry, const std::string& domain, const std::string& sender,
                                const std::vector<delivery::RemoteRecipient>& recipients, Results& results) {
    // Slots count per destination: the domain's MX hosts, or the relay it goes through.
    const std::string destination = couriers_.remote.destination_of(domain);
    if (!take_remote_slot(destination)) {
        entry.waited_for_slot = true;
        for (const auto& recipient : recipients) keep_worst(results[recipient.index], {Verdict::waiting, "none", {}});
        return;
    }
    // The courier sends the envelope's sender: a forwarded copy gets a copy of
    // the message (the data is shared) with the forwarding sender.
    spool::QueuedMessage forwarded;
    if (sender != entry.message.envelope.sender) {
        forwarded = entry.message;
        forwarded.envelope.sender = sender;
    }
    const auto& as_sent = sender == entry.message.envelope.sender ? entry.message : forwarded;
    auto outcomes = contained(
        entry.message.id, "remote delivery to " + domain,
        [&] { return couriers_.remote.deliver(as_sent, domain, recipients); },
        [&](const delivery::DeliveryOutcome& failure) {
            return std::vector<delivery::DeliveryOutcome>(recipients.size(), failure);
        });
    release_remote_slot(destination);
    // A recipient without an outcome is not delivered: keep it queued.
    outcomes.resize(recipients.size(), {DeliveryStatus::temporary, {}, "no result from the remote courier"});
    for (std::size_t k = 0; k < recipients.size(); ++k) {
        const auto& outcome = outcomes[k];
        if (outcome.status == DeliveryStatus::delivered) entry.delivered_copies.insert({"remote", recipients[k].address});
        keep_worst(results[recipients[k].index], result_of(outcome, outcome.remote_host.empty() ? "none" : outcome.remote_host));
    }
}

bool DeliveryQueue::take_remote_slot(const std::string& destination) {
    std::lock_guard lock(mutex_);
    const auto found = per_domain_.find(destination);
    const std::size_t in_destination = found == per_domain_.end() ? 0 : found->second;
    if (remote_in_flight_ >= options_.remote_workers || in_destination >= options_.per_destination) return false;
    ++remote_in_flight_;
    ++per_domain_[destination];
    return true;
}

void DeliveryQueue::release_remote_slot(const std::string& destination) {
    std::lock_guard lock(mutex_);
    --remote_in_flight_;
    if (--per_domain_[destination] == 0) per_domain_.erase(destination);
    wake_.notify_all();
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

DeliveryQueue::RecipientResult DeliveryQueue::result_of(delivery::DeliveryOutcome outcome, const std::string& relay) {
    switch (outcome.status) {
        case DeliveryStatus::delivered: return {Verdict::sent, relay, std::move(outcome)};
        case DeliveryStatus::permanent: return {Verdict::bounced, relay, std::move(outcome)};
        case DeliveryStatus::temporary: break;
    }
    return {Verdict::deferred, relay, std::move(outcome)};
}

// A sent copy replaces a sent result too, so the log names the courier that made it.
void DeliveryQueue::keep_worst(RecipientResult& kept, RecipientResult result) {
    if (result.verdict >= kept.verdict) kept = std::move(result);
}

void DeliveryQueue::finish_recipient(Entry& entry, std::size_t index, const RecipientResult& result,
                                     std::vector<RecipientNotice>& notices, std::vector<std::size_t>& bounced) {
    const auto& message = entry.message;
    spdlog::info("{}: to=<{}>, relay={}, delay={:.2f}, status={} ({})", message.id, message.envelope.recipients[index],
                 result.relay, delay_seconds(message), status_word(result.verdict), result.outcome.detail);
    if (result.verdict != Verdict::sent && index < entry.last_error.size())
        entry.last_error[index] = result.outcome.detail;
    if (result.verdict == Verdict::deferred) return;
    if (index < entry.status.size())
        entry.status[index] = result.verdict == Verdict::sent ? RecipientStatus::delivered : RecipientStatus::bounced;
    if (result.verdict == Verdict::bounced) notices.push_back({index, Action::failed, result.outcome});
    if (result.verdict == Verdict::sent)
        notices.push_back({index, result.outcome.relayed_without_dsn ? Action::relayed : Action::delivered, result.outcome});
    entry.message.done[index] = true;
    if (result.verdict == Verdict::bounced) {
        bounced.push_back(index);  // marked done in the spool by settle_bounced
        return;
    }
    spool_.mark_done(message.id, index);
}

}  // namespace cartero::scheduler

// Bouncer: turns what the delivery queue reports (scheduler::RecipientNotice)
// into RFC 3464 delivery status notifications, by the rules of bounce/
// (NOTIFY, never for the null sender), and queues each one like any other
// message: committed to the spool first, then delivered to the original
// sender — locally or to its MX — from the null sender, so a DSN that cannot
// be delivered is dropped rather than bounced again (RFC 5321 6.1).
//
// Trust: the notices carry remote servers' replies (untrusted); bounce/
// reduces them to printable text. Privileges: the spool's.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "bounce/dsn.hpp"
#include "config/config.hpp"
#include "scheduler/delivery_queue.hpp"
#include "spool/spool.hpp"

namespace cartero::cli {

class Bouncer {
public:
    Bouncer(const config::Config& config, spool::Spool& spool);

    // The queue that delivers the DSNs; set once, before the first notice.
    void attach(scheduler::DeliveryQueue& queue) { queue_ = &queue; }
    scheduler::Notifier notifier();
    // SIGHUP: hostname, delivery.bounce_size_limit and delivery.queue_lifetime
    // of the notifications composed from now on.
    void update(const config::Config& config);

private:
    bool notify(const spool::QueuedMessage& message, const std::vector<scheduler::RecipientNotice>& notices);
    // `queued` (if set) hears whether the report is durable in the spool.
    void send(const spool::QueuedMessage& message, const std::vector<scheduler::RecipientNotice>& notices,
              const std::vector<std::size_t>& indexes, bounce::ReportKind kind, std::function<void(bool)> queued);

    struct Settings {
        std::string hostname;
        std::size_t size_limit;
        std::chrono::seconds lifetime;
    };
    static Settings settings_of(const config::Config& config);
    Settings settings() const;

    mutable std::mutex mutex_;  // the queue's workers notify while SIGHUP updates
    Settings settings_;         // guarded by mutex_
    spool::Spool& spool_;
    scheduler::DeliveryQueue* queue_ = nullptr;
};

}  // namespace cartero::cli

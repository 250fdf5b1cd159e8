// Courier: one way of handing a queued message to its destination (a local
// Maildir, a discard route) and RemoteCourier, for other servers (MX, relays). The queue runner (scheduler/) only
// sees this interface, so local delivery can later run in a helper process
// with the recipient's identity (STYLE rule 13).
//
// Outcomes are values (STYLE rule 7): delivered, temporary (keep queued, retry
// with backoff) or permanent (bounce). Anything not known to be permanent is
// temporary: retrying a message that cannot succeed costs a little time until
// the queue lifetime runs out; bouncing one that could have succeeded loses it.
//
// Trust: the message data is untrusted and passed through verbatim.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "smtp/reply.hpp"
#include "spool/spool.hpp"

namespace cartero::delivery {

enum class DeliveryStatus { delivered, temporary, permanent };

struct DeliveryOutcome {
    DeliveryOutcome() = default;
    DeliveryOutcome(DeliveryStatus status_, smtp::Reply reply_, std::string detail_, std::string remote_host_ = {},
                    bool relayed_without_dsn_ = false)
        : status(status_), reply(std::move(reply_)), detail(std::move(detail_)), remote_host(std::move(remote_host_)),
          relayed_without_dsn(relayed_without_dsn_) {}

    DeliveryStatus status = DeliveryStatus::temporary;
    smtp::Reply reply;   // the remote server's reply; code 0 for local delivery
    std::string detail;  // for the log line: "delivered to maildir", "mkdir .../new: Permission denied"
    // Remote deliveries: the server that answered, "mx.example.com[192.0.2.1]:25"
    // (the log's relay= and a DSN's Remote-MTA); empty for local couriers.
    std::string remote_host;
    // Delivered to a server that does not offer DSN (RFC 3461 5.2.2): the
    // sender's NOTIFY=SUCCESS is then answered here with a "relayed" report.
    bool relayed_without_dsn = false;
};

// Maps a system error to an outcome; unknown errors are temporary.
DeliveryOutcome classify(std::error_code error, std::string_view context);

// Maps an exception that left a courier (or the router or notifier the queue
// runs around them) to an outcome, by the same rule: config::InvalidMailbox
// (an address that cannot name a mailbox directory; no retry changes that) is
// permanent, 550 5.1.3 (RFC 3463: bad destination mailbox address syntax);
// anything else is temporary, 451 4.3.0, and the message stays queued for the
// operator to look at. `context` says what was being done, for the log.
DeliveryOutcome classify(const std::exception_ptr& error, std::string_view context);

std::string_view to_string(DeliveryStatus);

class Courier {
public:
    virtual ~Courier() = default;

    // Delivers one copy of `message` to `recipient` (for local couriers, the
    // mailbox address after alias expansion).
    virtual DeliveryOutcome deliver(const spool::QueuedMessage& message, std::string_view recipient) = 0;
    // Shutdown (DeliveryQueue::stop, after delivery.shutdown_grace): deliveries
    // in progress end within a fraction of a second as temporary failures, and
    // later ones fail at once; the queue retries them after the restart.
    // Thread-safe. Default: nothing here waits on a peer, nothing to abandon.
    virtual void abandon() {}
};

// A recipient of a remote delivery: the envelope recipient it serves (for its
// DSN parameters and done bit) and the address to send to, which differs from
// the envelope's when a local alias points outside.
struct RemoteRecipient {
    std::size_t index = 0;
    std::string address;
    // The local address (the alias) this copy is forwarded for, "" when the
    // recipient itself is remote: the copy then starts with a Delivered-To line
    // naming it (delivered_to.hpp), the loop check of the next pass.
    std::string delivered_to = {};
};

// Delivery to another server: every recipient of one message in one domain
// with the same delivered_to goes in one call, so the courier can send them in
// one transaction (whose data starts with that Delivered-To line).
class RemoteCourier {
public:
    virtual ~RemoteCourier() = default;

    // One outcome per recipient, in the order given.
    virtual std::vector<DeliveryOutcome> deliver(const spool::QueuedMessage& message, std::string_view domain,
                                                 const std::vector<RemoteRecipient>& recipients) = 0;

    // What delivery.destination_concurrency counts for `domain`: the domain
    // itself (its MX hosts), or the relay it goes through.
    virtual std::string destination_of(std::string_view domain) { return std::string(domain); }
    // Shutdown (DeliveryQueue::stop, after delivery.shutdown_grace): deliveries
    // in progress end within a fraction of a second as temporary failures, and
    // later ones fail at once; the queue retries them after the restart.
    // Thread-safe. Default: nothing here waits on a peer, nothing to abandon.
    virtual void abandon() {}
};

}  // namespace cartero::delivery

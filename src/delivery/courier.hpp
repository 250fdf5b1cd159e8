// Courier: one way of handing a queued message to its destination (a local
// Maildir now; LMTP and remote SMTP later). The queue runner (scheduler/) only
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

#include <string>
#include <string_view>
#include <system_error>

#include "smtp/reply.hpp"
#include "spool/spool.hpp"

namespace cartero::delivery {

enum class DeliveryStatus { delivered, temporary, permanent };

struct DeliveryOutcome {
    DeliveryStatus status = DeliveryStatus::temporary;
    smtp::Reply reply;   // the remote server's reply; code 0 for local delivery
    std::string detail;  // for the log line: "delivered to maildir", "mkdir .../new: Permission denied"
};

// Maps a system error to an outcome; unknown errors are temporary.
DeliveryOutcome classify(std::error_code error, std::string_view context);

std::string_view to_string(DeliveryStatus);

class Courier {
public:
    virtual ~Courier() = default;

    // Delivers one copy of `message` to `recipient` (for local couriers, the
    // mailbox address after alias expansion).
    virtual DeliveryOutcome deliver(const spool::QueuedMessage& message, std::string_view recipient) = 0;
};

}  // namespace cartero::delivery

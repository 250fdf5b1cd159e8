// DiscardCourier: the `discard` transport of a [[route]] (docs/configuration.md).
// Every copy is reported delivered and written nowhere, as Postfix's discard(8)
// does. The message was already durable in the spool before its 250, so this
// courier only ends its life: the queue marks the recipient done and the spool
// drops the message as after any delivery.
//
// What it is for: accept-only benchmarks (the side-by-side with Postfix's
// `discard:` transport, issue 3) and sink domains. It throws mail away after
// accepting it, so it must never be routed to a domain whose mail matters.
//
// Trust: the message data is untrusted and never read. Privileges: none.
#pragma once

#include "delivery/courier.hpp"

namespace cartero::delivery {

class DiscardCourier final : public Courier {
public:
    // Always delivered; the detail names the route: "discarded by route for bench.test".
    DeliveryOutcome deliver(const spool::QueuedMessage& message, std::string_view recipient) override;
};

}  // namespace cartero::delivery

// DiscardCourier; see discard.hpp.
#include "delivery/discard.hpp"

#include "accounts/address.hpp"

namespace cartero::delivery {

DeliveryOutcome DiscardCourier::deliver(const spool::QueuedMessage& /*message*/, std::string_view recipient) {
    return {DeliveryStatus::delivered, {}, "discarded by route for " + std::string(accounts::domain_of(recipient))};
}

}  // namespace cartero::delivery

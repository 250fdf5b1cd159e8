// Courier outcomes; see courier.hpp.
#include "delivery/courier.hpp"

#include <algorithm>
#include <array>
#include <cerrno>

namespace cartero::delivery {
namespace {

// System errors that no retry can cure. Kept short on purpose: disk full,
// quota, permissions and symlink refusals are all fixable by the operator
// while the message waits in the queue.
constexpr std::array permanent_errors = {
    ENAMETOOLONG,  // the mailbox path itself is too long for the file system
};

}  // namespace

DeliveryOutcome classify(std::error_code error, std::string_view context) {
    const bool permanent = error.category() == std::generic_category() &&
                           std::find(permanent_errors.begin(), permanent_errors.end(), error.value()) !=
                               permanent_errors.end();
    return DeliveryOutcome{permanent ? DeliveryStatus::permanent : DeliveryStatus::temporary, {},
                           std::string(context) + ": " + error.message()};
}

std::string_view to_string(DeliveryStatus status) {
    switch (status) {
        case DeliveryStatus::delivered: return "delivered";
        case DeliveryStatus::temporary: return "temporary";
        case DeliveryStatus::permanent: return "permanent";
    }
    return "temporary";
}

}  // namespace cartero::delivery

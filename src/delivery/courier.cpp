// Courier outcomes; see courier.hpp.
#include "delivery/courier.hpp"

#include <algorithm>
#include <array>
#include <cerrno>

#include "config/config.hpp"

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

DeliveryOutcome classify(const std::exception_ptr& error, std::string_view context) {
    const std::string prefix = std::string(context) + ": ";
    try {
        std::rethrow_exception(error);
    } catch (const config::InvalidMailbox& e) {
        const std::string detail = prefix + e.what();
        return {DeliveryStatus::permanent, smtp::Reply{550, "5.1.3", detail}, detail};
    } catch (const std::exception& e) {
        const std::string detail = prefix + "internal error: " + e.what();
        return {DeliveryStatus::temporary, smtp::Reply{451, "4.3.0", detail}, detail};
    } catch (...) {
        const std::string detail = prefix + "internal error: an exception of unknown type";
        return {DeliveryStatus::temporary, smtp::Reply{451, "4.3.0", detail}, detail};
    }
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

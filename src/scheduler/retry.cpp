// Retry schedule; see retry.hpp.
#include "scheduler/retry.hpp"

#include <algorithm>

namespace cartero::scheduler {

RetryPolicy RetryPolicy::from(const config::Delivery& delivery) {
    return RetryPolicy{delivery.retry_initial, delivery.retry_max, delivery.queue_lifetime};
}

std::chrono::milliseconds backoff(const RetryPolicy& policy, unsigned attempts) {
    std::chrono::milliseconds wait = policy.initial;
    // Doubling stops at the cap, so this neither overflows nor loops more than ~40 times.
    for (unsigned n = 1; n < attempts && wait < policy.max; ++n) wait *= 2;
    return std::min(wait, policy.max);
}

bool expired(const RetryPolicy& policy, std::chrono::system_clock::time_point received,
             std::chrono::system_clock::time_point now) {
    return now - received > policy.lifetime;
}

}  // namespace cartero::scheduler

// Retry schedule: pure functions of the attempt count and times passed in
// (STYLE rule 2: no clock read here).
//
//   wait after attempt n (n >= 1) = delivery.retry_initial * 2^(n-1), capped at delivery.retry_max
//   a message older than delivery.queue_lifetime is given up (bounced)
//
// Trust: pure. Privileges: none.
#pragma once

#include <chrono>

#include "config/config.hpp"

namespace cartero::scheduler {

struct RetryPolicy {
    std::chrono::milliseconds initial{60'000};
    std::chrono::milliseconds max{3'600'000};
    std::chrono::milliseconds lifetime{5 * 24 * 3'600'000LL};

    static RetryPolicy from(const config::Delivery& delivery);
};

// How long to wait after the `attempts`-th failed attempt (attempts >= 1).
std::chrono::milliseconds backoff(const RetryPolicy& policy, unsigned attempts);

// True once a message received at `received` has been queued longer than the lifetime.
bool expired(const RetryPolicy& policy, std::chrono::system_clock::time_point received,
             std::chrono::system_clock::time_point now);

}  // namespace cartero::scheduler

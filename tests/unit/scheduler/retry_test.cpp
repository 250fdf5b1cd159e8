#include "scheduler/retry.hpp"

#include <gtest/gtest.h>

namespace cartero::scheduler {
namespace {

using namespace std::chrono_literals;

TEST(Retry, BackoffDoublesUpToTheCap) {
    const RetryPolicy policy{60s, 3600s, 5 * 24h};
    struct Case {
        unsigned attempts;
        std::chrono::milliseconds want;
    };
    const Case cases[] = {{1, 60s}, {2, 120s}, {3, 240s}, {6, 1920s}, {7, 3600s}, {100, 3600s}, {4'000'000'000u, 3600s}};
    for (const auto& c : cases) {
        const auto got = backoff(policy, c.attempts);
        EXPECT_EQ(got, c.want) << "attempt " << c.attempts << ": got " << got.count() << " ms, want " << c.want.count();
    }
}

TEST(Retry, ExpiresAfterTheLifetime) {
    const RetryPolicy policy{60s, 3600s, 24h};
    const std::chrono::system_clock::time_point received{1000h};
    EXPECT_FALSE(expired(policy, received, received + 24h));
    EXPECT_TRUE(expired(policy, received, received + 24h + 1s));
    EXPECT_FALSE(expired(policy, received, received - 1h)) << "a clock step back is not expiry";
}

TEST(Retry, FromConfig) {
    config::Delivery delivery;
    delivery.retry_initial = 5s;
    delivery.retry_max = 50s;
    delivery.queue_lifetime = 2h;
    const auto policy = RetryPolicy::from(delivery);
    EXPECT_EQ(policy.initial, 5s);
    EXPECT_EQ(policy.max, 50s);
    EXPECT_EQ(policy.lifetime, 2h);
}

}  // namespace
}  // namespace cartero::scheduler

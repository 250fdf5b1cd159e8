// Throttle: delays, disconnect, expiry, success reset, bounded memory.
#include "auth/throttle.hpp"

#include <gtest/gtest.h>

namespace cartero::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Time = Throttle::Clock::time_point;

ThrottleSettings settings() {
    ThrottleSettings s;
    s.failures_before_delay = 2;
    s.failure_delay = milliseconds{1000};
    s.max_failure_delay = milliseconds{5000};
    s.failures_before_disconnect = 6;
    s.window = seconds{60};
    s.max_tracked_keys = 100;
    return s;
}

std::string show(const ThrottleVerdict& v) {
    return std::string(v.refused ? "refused" : "allowed") + "+" + std::to_string(v.delay.count()) + "ms";
}

TEST(Throttle, DelayGrowsThenDisconnects) {
    Throttle throttle(settings());
    const Time t{};
    // Failures so far -> verdict for the next attempt.
    const ThrottleVerdict want[] = {
        {false, milliseconds{0}},    // 0
        {false, milliseconds{0}},    // 1
        {false, milliseconds{1000}}, // 2: failures_before_delay reached
        {false, milliseconds{2000}}, // 3
        {false, milliseconds{4000}}, // 4
        {false, milliseconds{5000}}, // 5: capped
        {true, milliseconds{5000}},  // 6: failures_before_disconnect
    };
    for (std::size_t failures = 0; failures < std::size(want); ++failures) {
        const auto got = throttle.check("192.0.2.1", "alice@example.com", t);
        EXPECT_EQ(got, want[failures]) << "after " << failures << " failures: got " << show(got) << ", want "
                                       << show(want[failures]);
        const bool limit = throttle.record_failure("192.0.2.1", "alice@example.com", t);
        EXPECT_EQ(limit, failures + 1 >= 6) << "record_failure #" << failures + 1;
    }
}

TEST(Throttle, CountsPerIpAndPerAccount) {
    Throttle throttle(settings());
    const Time t{};
    for (int i = 0; i < 6; ++i) throttle.record_failure("192.0.2.1", "user" + std::to_string(i) + "@example.com", t);
    EXPECT_TRUE(throttle.check("192.0.2.1", "fresh@example.com", t).refused) << "one IP spraying many accounts";
    EXPECT_FALSE(throttle.check("192.0.2.2", "fresh@example.com", t).refused);

    for (int i = 0; i < 6; ++i) throttle.record_failure("198.51.100." + std::to_string(i), "bob@example.com", t);
    EXPECT_TRUE(throttle.check("203.0.113.9", "bob@example.com", t).refused) << "many IPs against one account";
}

TEST(Throttle, SuccessResetsTheAccountNotTheIp) {
    Throttle throttle(settings());
    const Time t{};
    for (int i = 0; i < 3; ++i) throttle.record_failure("192.0.2.1", "alice@example.com", t);
    throttle.record_success("alice@example.com");
    EXPECT_EQ(throttle.check("192.0.2.9", "alice@example.com", t), (ThrottleVerdict{false, milliseconds{0}}));
    EXPECT_EQ(throttle.check("192.0.2.1", "other@example.com", t), (ThrottleVerdict{false, milliseconds{2000}}));
}

TEST(Throttle, ForgetsAfterAQuietWindow) {
    Throttle throttle(settings());
    const Time t{};
    for (int i = 0; i < 6; ++i) throttle.record_failure("192.0.2.1", "alice@example.com", t);
    EXPECT_TRUE(throttle.check("192.0.2.1", "alice@example.com", t + seconds{59}).refused);
    EXPECT_EQ(throttle.check("192.0.2.1", "alice@example.com", t + seconds{60}),
              (ThrottleVerdict{false, milliseconds{0}}));
    EXPECT_EQ(throttle.tracked_keys(), 0u) << "expired keys must be dropped";
}

TEST(Throttle, MemoryIsBounded) {
    auto s = settings();
    s.max_tracked_keys = 10;
    Throttle throttle(s);
    const Time t{};
    for (int i = 0; i < 1000; ++i)
        throttle.record_failure("10.0.0." + std::to_string(i), "u" + std::to_string(i), t + seconds{0});
    EXPECT_LE(throttle.tracked_keys(), 10u);
    // The most recent attacker is still remembered.
    for (int i = 0; i < 6; ++i) throttle.record_failure("10.9.9.9", "victim", t);
    EXPECT_TRUE(throttle.check("10.9.9.9", "x", t).refused);
}

TEST(ThrottleSettings, FromConfigLimits) {
    config::Limits limits;
    limits.auth_failures_before_delay = 4;
    limits.auth_failure_delay = milliseconds{250};
    limits.auth_failures_before_disconnect = 7;
    limits.auth_failure_window = seconds{30};
    const auto s = ThrottleSettings::from(limits);
    EXPECT_EQ(s.failures_before_delay, 4u);
    EXPECT_EQ(s.failure_delay, milliseconds{250});
    EXPECT_EQ(s.failures_before_disconnect, 7u);
    EXPECT_EQ(s.window, seconds{30});
}

}  // namespace
}  // namespace cartero::auth

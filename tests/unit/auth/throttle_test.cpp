// Throttle: per-network cut-off, per-account protection that spares known
// networks, reservations for checks in flight, /64 grouping, delays, expiry,
// bounded memory. The clock is an argument: every step says when it happens.
#include "auth/throttle.hpp"

#include <gtest/gtest.h>

#include <vector>

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
    s.known_network_lifetime = seconds{3600};
    s.ipv4_prefix = 32;
    s.ipv6_prefix = 64;
    s.max_tracked_keys = 100;
    return s;
}

std::string show(const Admission& a) {
    return a.refused ? "refused" : "allowed+" + std::to_string(a.delay.count()) + "ms";
}

// One attempt: admitted or not, then (when admitted) settled with the outcome.
enum class Outcome { wrong, right, none };

std::string attempt(Throttle& throttle, const std::string& ip, const std::string& account, Time at,
                    Outcome outcome) {
    const Admission admission = throttle.admit(ip, account, at);
    if (!admission.refused) {
        if (outcome == Outcome::wrong) throttle.failed(admission.reservation, at);
        if (outcome == Outcome::right) throttle.succeeded(admission.reservation, at);
        if (outcome == Outcome::none) throttle.abandoned(admission.reservation);
    }
    return show(admission);
}

struct Step {
    const char* what;
    std::string ip;
    std::string account;
    int at_seconds;
    Outcome outcome;
    int times;         // the attempt is repeated this often
    std::string want;  // admission of the last repetition
};

void run(const char* scenario, const std::vector<Step>& steps, ThrottleSettings s = settings()) {
    Throttle throttle(s);
    for (const auto& step : steps) {
        std::string got;
        for (int i = 0; i < step.times; ++i)
            got = attempt(throttle, step.ip, step.account, Time{} + seconds{step.at_seconds}, step.outcome);
        EXPECT_EQ(got, step.want) << scenario << ": " << step.what << ": got " << got << ", want " << step.want;
    }
}

const std::string alice = "alice@example.com";
const std::string bob = "bob@example.com";

TEST(Throttle, DelayGrowsThenTheNetworkIsCutOff) {
    Throttle throttle(settings());
    const Time t{};
    // Failures so far -> admission of the next attempt.
    const std::string want[] = {
        "allowed+0ms",     // 0
        "allowed+0ms",     // 1
        "allowed+1000ms",  // 2: failures_before_delay reached
        "allowed+2000ms",  // 3
        "allowed+4000ms",  // 4
        "allowed+5000ms",  // 5: capped at max_failure_delay
        "refused",         // 6: failures_before_disconnect
    };
    for (std::size_t failures = 0; failures < std::size(want); ++failures) {
        const auto admission = throttle.admit("192.0.2.1", alice, t);
        EXPECT_EQ(show(admission), want[failures]) << "after " << failures << " failures";
        if (admission.refused) break;
        const bool limit = throttle.failed(admission.reservation, t);
        EXPECT_EQ(limit, failures + 1 >= 6) << "failed() #" << failures + 1;
    }
}

TEST(Throttle, Scenarios) {
    // An attacker at one address guesses alice's password.
    run("one attacker", {
        {"alice logs in at home", "192.0.2.1", alice, 0, Outcome::right, 1, "allowed+0ms"},
        {"the attacker fails 6 times", "198.51.100.7", alice, 10, Outcome::wrong, 6, "allowed+5000ms"},
        {"the attacker is cut off", "198.51.100.7", alice, 11, Outcome::wrong, 1, "refused"},
        {"... for any account", "198.51.100.7", bob, 11, Outcome::wrong, 1, "refused"},
        {"alice at home: no refusal, no delay", "192.0.2.1", alice, 12, Outcome::right, 1, "allowed+0ms"},
        {"alice at home, again", "192.0.2.1", alice, 13, Outcome::right, 1, "allowed+0ms"},
        {"alice from a new network, while attacked", "203.0.113.5", alice, 14, Outcome::right, 1, "refused"},
        {"bob elsewhere is not concerned", "203.0.113.5", bob, 14, Outcome::right, 1, "allowed+0ms"},
        {"after the window, the attacker may try again", "198.51.100.7", alice, 71, Outcome::wrong, 1,
         "allowed+0ms"},
        {"... and alice from a new network too", "203.0.113.6", alice, 140, Outcome::right, 1, "allowed+0ms"},
    });
    // Many addresses, one guess each (a botnet): the account count refuses unknown
    // networks; alice's known network still passes.
    run("distributed attack", {
        {"alice logs in at home", "192.0.2.1", alice, 0, Outcome::right, 1, "allowed+0ms"},
        {"bot 1", "198.51.100.1", alice, 1, Outcome::wrong, 1, "allowed+0ms"},
        {"bot 2", "198.51.100.2", alice, 1, Outcome::wrong, 1, "allowed+0ms"},
        {"bot 3: the account's count delays unknown networks", "198.51.100.3", alice, 1, Outcome::wrong, 1,
         "allowed+1000ms"},
        {"bot 4", "198.51.100.4", alice, 1, Outcome::wrong, 1, "allowed+2000ms"},
        {"bot 5", "198.51.100.5", alice, 1, Outcome::wrong, 1, "allowed+4000ms"},
        {"bot 6", "198.51.100.6", alice, 1, Outcome::wrong, 1, "allowed+5000ms"},
        {"bot 7 is refused", "198.51.100.7", alice, 1, Outcome::wrong, 1, "refused"},
        {"alice at home is neither refused nor delayed", "192.0.2.1", alice, 2, Outcome::right, 1, "allowed+0ms"},
        {"her success does not reopen the account to bots", "198.51.100.8", alice, 3, Outcome::wrong, 1,
         "refused"},
    });
    // IPv6: a client that moves inside its /64 keeps its count; the next /64 is another client.
    run("IPv6 /64", {
        {"fails from 6 addresses of one /64", "2001:db8:0:1::1", bob, 0, Outcome::wrong, 1, "allowed+0ms"},
        {"", "2001:db8:0:1::2", bob, 0, Outcome::wrong, 1, "allowed+0ms"},
        {"", "2001:db8:0:1:aaaa::3", bob, 0, Outcome::wrong, 1, "allowed+1000ms"},
        {"", "2001:db8:0:1:bbbb::4", bob, 0, Outcome::wrong, 1, "allowed+2000ms"},
        {"", "2001:db8:0:1:cccc::5", bob, 0, Outcome::wrong, 1, "allowed+4000ms"},
        {"", "2001:db8:0:1:dddd::6", bob, 0, Outcome::wrong, 1, "allowed+5000ms"},
        {"a seventh address of the /64 is refused", "2001:db8:0:1:ffff:ffff:ffff:ffff", alice, 0, Outcome::wrong,
         1, "refused"},
        {"the next /64 is another network", "2001:db8:0:2::1", alice, 0, Outcome::wrong, 1, "allowed+0ms"},
    });
    // IPv4-mapped addresses (a dual-stack listener) are the same client as the IPv4 form.
    run("IPv4-mapped", {
        {"fails 6 times as ::ffff:192.0.2.9", "::ffff:192.0.2.9", bob, 0, Outcome::wrong, 6, "allowed+5000ms"},
        {"refused as 192.0.2.9", "192.0.2.9", alice, 0, Outcome::wrong, 1, "refused"},
        {"192.0.2.10 is another client", "::ffff:192.0.2.10", alice, 0, Outcome::wrong, 1, "allowed+0ms"},
    });
    // A success never washes away failures.
    run("success keeps the counts", {
        {"a network fails 5 times", "192.0.2.1", bob, 0, Outcome::wrong, 5, "allowed+4000ms"},
        {"alice logs in from it (delayed like any attempt)", "192.0.2.1", alice, 1, Outcome::right, 1,
         "allowed+5000ms"},
        {"one more failure cuts it off", "192.0.2.1", bob, 2, Outcome::wrong, 1, "allowed+5000ms"},
        {"refused now, even for alice who logged in there", "192.0.2.1", alice, 3, Outcome::right, 1, "refused"},
    });
    // Failures are forgotten a window after the latest one; known networks after their lifetime.
    run("expiry", {
        {"alice logs in at home", "192.0.2.1", alice, 0, Outcome::right, 1, "allowed+0ms"},
        {"bots fail 6 times", "198.51.100.1", alice, 100, Outcome::wrong, 6, "allowed+5000ms"},
        {"59 s later: still refused", "198.51.100.1", alice, 159, Outcome::none, 1, "refused"},
        {"60 s later: forgotten", "198.51.100.1", alice, 160, Outcome::none, 1, "allowed+0ms"},
        {"bots fail 6 times again, an hour later", "198.51.100.2", alice, 3700, Outcome::wrong, 6,
         "allowed+5000ms"},
        {"home is no longer known after an hour without login", "192.0.2.1", alice, 3701, Outcome::right, 1,
         "refused"},
    });
    // Abandoned checks (store down, pool full) are not failures.
    run("abandoned", {
        {"10 checks without an answer", "192.0.2.1", alice, 0, Outcome::none, 10, "allowed+0ms"},
        {"count nothing", "192.0.2.1", alice, 0, Outcome::wrong, 1, "allowed+0ms"},
    });
    // A malformed exchange has no account: only the network counts.
    run("no account", {
        {"6 malformed exchanges", "192.0.2.1", "", 0, Outcome::wrong, 6, "allowed+5000ms"},
        {"the network is cut off", "192.0.2.1", alice, 0, Outcome::right, 1, "refused"},
        {"no account was charged", "192.0.2.2", "", 0, Outcome::right, 1, "allowed+0ms"},
    });
}

// 50 checks in flight at once from one network: only failures_before_disconnect of
// them are admitted, before any of them has been answered.
TEST(Throttle, ChecksInFlightCountAgainstTheLimit) {
    auto s = settings();
    s.failures_before_delay = 6;  // delays are not the point here
    Throttle throttle(s);
    const Time t{};
    std::vector<Reservation> in_flight;
    int refused = 0;
    for (int i = 0; i < 50; ++i) {
        const auto admission = throttle.admit("192.0.2.1", alice, t);
        if (admission.refused) ++refused;
        else in_flight.push_back(admission.reservation);
    }
    EXPECT_EQ(in_flight.size(), 6u) << "checks admitted in parallel past a limit of 6";
    EXPECT_EQ(refused, 44);
    // All wrong: the first five are ordinary failures, the sixth reaches the limit.
    for (std::size_t i = 0; i < in_flight.size(); ++i)
        EXPECT_EQ(throttle.failed(in_flight[i], t), i + 1 == in_flight.size()) << "failed() #" << i + 1;
    EXPECT_TRUE(throttle.admit("192.0.2.1", bob, t).refused);
    EXPECT_EQ(throttle.pending_attempts(), 0u) << "every reservation was settled";
}

TEST(Throttle, ARightPasswordInFlightReleasesItsSlot) {
    Throttle throttle(settings());
    const Time t{};
    std::vector<Reservation> in_flight;
    for (int i = 0; i < 6; ++i) in_flight.push_back(throttle.admit("192.0.2.1", alice, t).reservation);
    EXPECT_TRUE(throttle.admit("192.0.2.1", alice, t).refused) << "6 checks in flight fill the limit";
    throttle.succeeded(in_flight.back(), t);
    in_flight.pop_back();
    EXPECT_FALSE(throttle.admit("192.0.2.1", alice, t).refused) << "a success gives its slot back";
}

TEST(Throttle, ReconfigureKeepsCountsAndSettlesOldReservations) {
    Throttle throttle(settings());
    const Time t{};
    const auto early = throttle.admit("2001:db8::1", alice, t);  // reserved under /64
    auto wider = settings();
    wider.ipv6_prefix = 48;
    wider.failures_before_disconnect = 3;
    throttle.reconfigure(wider);
    EXPECT_EQ(throttle.network_of("2001:db8:0:5::1"), "2001:db8::/48");
    for (int i = 0; i < 3; ++i) throttle.failed(throttle.admit("2001:db8:0:5::1", bob, t).reservation, t);
    EXPECT_TRUE(throttle.admit("2001:db8:0:6::1", bob, t).refused) << "the new prefix and limit apply";
    throttle.abandoned(early.reservation);
    EXPECT_EQ(throttle.pending_attempts(), 0u) << "a reservation made before the reload is released";
}

TEST(Throttle, MemoryIsBounded) {
    auto s = settings();
    s.max_tracked_keys = 10;
    Throttle throttle(s);
    const Time t{};
    for (int i = 0; i < 1000; ++i) {
        const auto ip = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
        attempt(throttle, ip, "u" + std::to_string(i), t, Outcome::wrong);
        attempt(throttle, ip, "u" + std::to_string(i), t, Outcome::right);
    }
    EXPECT_LE(throttle.tracked_keys(), 20u) << "two tables of at most 10";
    // The most recent attacker is still remembered.
    for (int i = 0; i < 6; ++i) attempt(throttle, "10.9.9.9", "victim", t, Outcome::wrong);
    EXPECT_TRUE(throttle.admit("10.9.9.9", "x", t).refused);
}

TEST(ThrottleSettings, FromConfigLimits) {
    config::Limits limits;
    limits.auth_failures_before_delay = 4;
    limits.auth_failure_delay = milliseconds{250};
    limits.auth_max_failure_delay = milliseconds{9000};
    limits.auth_failures_before_disconnect = 7;
    limits.auth_failure_window = seconds{30};
    limits.auth_known_network_lifetime = seconds{7200};
    limits.auth_ipv4_prefix = 24;
    limits.auth_ipv6_prefix = 56;
    limits.auth_tracked_keys = 500;
    const auto s = ThrottleSettings::from(limits);
    EXPECT_EQ(s.failures_before_delay, 4u);
    EXPECT_EQ(s.failure_delay, milliseconds{250});
    EXPECT_EQ(s.max_failure_delay, milliseconds{9000});
    EXPECT_EQ(s.failures_before_disconnect, 7u);
    EXPECT_EQ(s.window, seconds{30});
    EXPECT_EQ(s.known_network_lifetime, seconds{7200});
    EXPECT_EQ(s.ipv4_prefix, 24u);
    EXPECT_EQ(s.ipv6_prefix, 56u);
    EXPECT_EQ(s.max_tracked_keys, 500u);
}

}  // namespace
}  // namespace cartero::auth

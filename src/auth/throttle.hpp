// Throttle: brute-force slow-down for SMTP AUTH. Pure: the clock is an argument.
//
// Failures are counted per peer IP and per account (the SASL username,
// normalised). A count is forgotten after `window` without a new failure for
// that key. With n = max(IP count, account count) failures so far:
//   n <  failures_before_delay        no delay
//   n >= failures_before_delay        delay = failure_delay * 2^(n - failures_before_delay),
//                                     capped at max_failure_delay
//   n >= failures_before_disconnect   refused: 421 and disconnect, no verification
// The delay applies to the reply of every attempt past the threshold, success or
// not, so a fast reply does not tell an attacker the guess was right.
// A success clears the account's count (the user got in) but not the IP's (one
// right password must not wash away a hundred wrong guesses from that address).
//
// Trade-off, documented in docs/accounts.md: an attacker can make an account
// refuse logins for `window` by failing against it from many addresses; we
// accept this temporary lockout over unlimited distributed guessing.
//
// Memory is bounded: at most max_tracked_keys keys; the least recently failed
// key is forgotten first.
//
// Trust: IPs and usernames are untrusted strings used only as map keys.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/config.hpp"

namespace cartero::auth {

struct ThrottleSettings {
    std::size_t failures_before_delay = 3;
    std::chrono::milliseconds failure_delay{1000};
    // Cap of the growing delay. Kept well under the RFC 5321 4.5.3.2.7 five-minute
    // client timeout so a patient legitimate client still gets its answer.
    // Not yet a config key (config/ is not ours to change): see docs/accounts.md.
    std::chrono::milliseconds max_failure_delay{30'000};
    std::size_t failures_before_disconnect = 10;
    std::chrono::seconds window{900};
    // Bound on the memory spent on attackers: ~100 bytes a key.
    std::size_t max_tracked_keys = 100'000;

    static ThrottleSettings from(const config::Limits& limits);
};

struct ThrottleVerdict {
    bool refused = false;                 // too many failures: 421 and disconnect
    std::chrono::milliseconds delay{0};   // wait this long before replying
    friend bool operator==(const ThrottleVerdict&, const ThrottleVerdict&) = default;
};

class Throttle {
public:
    using Clock = std::chrono::steady_clock;

    explicit Throttle(ThrottleSettings settings) : settings_(settings) {}

    // SIGHUP: new limits for the next checks; the failures counted so far stay,
    // so a reload never gives a guesser a fresh start.
    void update(ThrottleSettings settings) { settings_ = settings; }

    // Before verifying: may this attempt go ahead, and how long to delay its reply.
    ThrottleVerdict check(std::string_view ip, std::string_view account, Clock::time_point now);
    // After a failed attempt. True when this failure reached the disconnect limit.
    bool record_failure(std::string_view ip, std::string_view account, Clock::time_point now);
    void record_success(std::string_view account);

    std::size_t tracked_keys() const { return entries_.size(); }

private:
    struct Entry {
        std::size_t failures = 0;
        Clock::time_point last_failure;
        std::list<std::string>::iterator age;  // position in oldest_first_
    };

    std::size_t failures(const std::string& key, Clock::time_point now);
    std::size_t add_failure(const std::string& key, Clock::time_point now);
    void forget(const std::string& key);
    std::chrono::milliseconds delay_after(std::size_t failures) const;

    ThrottleSettings settings_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> oldest_first_;  // keys by last failure, oldest at the front
};

}  // namespace cartero::auth

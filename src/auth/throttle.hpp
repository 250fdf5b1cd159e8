// Throttle: brute-force defence for SMTP AUTH that stops the guesser, not the
// account's owner. Pure: the clock is an argument; the caller serialises calls.
//
// Two counts of failures, each forgotten `window` after its latest failure:
//   per client network  the peer's address masked to ipv4_prefix / ipv6_prefix
//                       (config::client_network), so an IPv6 client moving inside
//                       its /64 does not start afresh;
//   per account         the SASL user name, normalised.
// and one memory of known networks: (account, network) pairs where a login
// succeeded within known_network_lifetime.
//
// With N = the network's count and A = the account's count, both including the
// attempts in progress (see "reservations" below), an attempt is:
//   refused (421, no check)   N >= failures_before_disconnect: the guesser is cut off;
//                             or A >= failures_before_disconnect and the network is
//                             not known for the account: an account under attack
//                             (e.g. from many addresses) takes logins only from
//                             networks it logged in from before;
//   delayed                   by failure_delay * 2^(n - failures_before_delay), at
//                             most max_failure_delay, for n = N from a known network,
//                             n = max(N, A) otherwise; no delay below the threshold.
// So a stranger failing against alice's account never delays nor refuses alice at
// a network where she logged in before (the account-lockout denial of service of
// the OWASP Authentication Cheat Sheet), and is himself cut off after
// failures_before_disconnect guesses per network, and after that many against the
// account from all unknown networks together. The price, in docs/security.md:
// while an account is under attack, its owner cannot log in from a new network.
//
// Reservations: admit() counts the attempt as a failure *before* the password is
// checked (a pending failure), and the caller settles it afterwards: failed()
// makes it a failure, succeeded() and abandoned() release it. So N and A include
// every check in flight, and 50 parallel connections cannot get more than
// failures_before_disconnect guesses checked: the rest are refused at once.
//
// A success never clears a count: a right password must not wash away wrong
// guesses (an attacker could otherwise interleave his guesses with the owner's
// logins). Refusals are not counted: they cost no check.
//
// Memory is bounded: each table (failures, known networks) holds at most
// tracked_keys entries and forgets the least recently used first. Pending
// attempts are bounded by the checks in flight (the hashing pool's size).
// Known networks live in memory only: a restart forgets them (the safe side).
//
// Trust: IPs and user names are untrusted strings used only as map keys.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/config.hpp"

namespace cartero::auth {

// Everything the throttle is tuned by, from config::Limits (the limits.auth_*
// keys). One value, so a reload can build a new one and hand it to reconfigure().
struct ThrottleSettings {
    std::size_t failures_before_delay = 3;
    std::chrono::milliseconds failure_delay{1000};
    // Cap of the growing delay. Kept well under the RFC 5321 4.5.3.2.7 five-minute
    // client timeout so a patient legitimate client still gets its answer.
    std::chrono::milliseconds max_failure_delay{30'000};
    std::size_t failures_before_disconnect = 10;
    std::chrono::seconds window{900};
    std::chrono::seconds known_network_lifetime{30 * 24 * 3600};
    unsigned ipv4_prefix = 32;
    unsigned ipv6_prefix = 64;
    // Bound on the memory spent on attackers: ~150 bytes an entry, per table.
    std::size_t max_tracked_keys = 100'000;

    static ThrottleSettings from(const config::Limits& limits);
};

// The failure slot admit() reserved for one attempt. Settle it exactly once.
// It names its keys itself, so settling after a reload that changed the prefix
// lengths releases what was reserved.
struct Reservation {
    std::string network;
    std::string account;  // empty: no account (a malformed exchange)
};

struct Admission {
    bool refused = false;                 // too many failures: 421 and disconnect, no check
    std::chrono::milliseconds delay{0};   // wait this long before replying
    Reservation reservation;              // to settle when not refused
};

class Throttle {
public:
    using Clock = std::chrono::steady_clock;

    explicit Throttle(ThrottleSettings settings) : settings_(settings) {}

    // New settings (reload). Counts and known networks are kept.
    void reconfigure(ThrottleSettings settings) { settings_ = settings; }

    // Before checking: refuse, or reserve a failure slot and say how long to delay
    // the reply. `account` may be empty (nothing to count it against).
    Admission admit(std::string_view ip, std::string_view account, Clock::time_point now);
    // The check failed. True when this failure reached the limit (for this network,
    // or for the account from this unknown network): the caller answers 421 and
    // closes rather than let the client try again.
    bool failed(const Reservation& reservation, Clock::time_point now);
    // The check succeeded: the network becomes known for the account.
    void succeeded(const Reservation& reservation, Clock::time_point now);
    // No answer was reached (store down, pool full, shutdown): not a failure.
    void abandoned(const Reservation& reservation);

    std::string network_of(std::string_view ip) const;
    std::size_t tracked_keys() const { return failures_.size() + known_.size(); }
    std::size_t pending_attempts() const { return pending_.size(); }

private:
    // Keys with a count and the time of their latest event; a key quiet for
    // `lifetime` is forgotten, and at most `capacity` keys are kept (the least
    // recently touched is forgotten first).
    class RecentTable {
    public:
        std::size_t count(const std::string& key, Clock::time_point now, Clock::duration lifetime);
        std::size_t add(const std::string& key, Clock::time_point now, Clock::duration lifetime,
                        std::size_t capacity);
        std::size_t size() const { return entries_.size(); }

    private:
        struct Entry {
            std::size_t count = 0;
            Clock::time_point last;
            std::list<std::string>::iterator age;  // position in oldest_first_
        };
        void forget(const std::string& key);

        std::unordered_map<std::string, Entry> entries_;
        std::list<std::string> oldest_first_;  // keys by latest event, oldest at the front
    };

    enum class Counting { settled, with_pending };  // failures only, or also the checks in flight
    std::size_t count(const std::string& key, Clock::time_point now, Counting counting);
    bool known(const Reservation& keys, Clock::time_point now);
    bool refused(const Reservation& keys, Clock::time_point now, Counting counting);
    std::chrono::milliseconds delay_after(std::size_t failures) const;
    void release(const std::string& key);

    ThrottleSettings settings_;
    RecentTable failures_;
    RecentTable known_;
    std::unordered_map<std::string, std::size_t> pending_;  // reserved, not yet settled
};

}  // namespace cartero::auth

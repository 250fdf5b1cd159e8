// Throttle: failure counts per client network and per account, reservations for
// checks in flight, known networks; see throttle.hpp for the rules and why.
#include "auth/throttle.hpp"

#include <algorithm>

#include "config/network.hpp"

namespace cartero::auth {
namespace {

// Separate namespaces for the two kinds of failure key: a network never equals an account.
std::string network_key(std::string_view network) { return "net " + std::string(network); }
std::string account_key(std::string_view account) { return "account " + std::string(account); }
// A user name cannot contain a line break (it is an address), so the pair is unambiguous.
std::string known_key(const Reservation& keys) { return keys.account + "\n" + keys.network; }

}  // namespace

ThrottleSettings ThrottleSettings::from(const config::Limits& limits) {
    ThrottleSettings settings;
    settings.failures_before_delay = limits.auth_failures_before_delay;
    settings.failure_delay = limits.auth_failure_delay;
    settings.max_failure_delay = limits.auth_max_failure_delay;
    settings.failures_before_disconnect = limits.auth_failures_before_disconnect;
    settings.window = limits.auth_failure_window;
    settings.known_network_lifetime = limits.auth_known_network_lifetime;
    settings.ipv4_prefix = static_cast<unsigned>(limits.auth_ipv4_prefix);
    settings.ipv6_prefix = static_cast<unsigned>(limits.auth_ipv6_prefix);
    settings.max_tracked_keys = limits.auth_tracked_keys;
    return settings;
}

// --- RecentTable --------------------------------------------------------------------

std::size_t Throttle::RecentTable::count(const std::string& key, Clock::time_point now, Clock::duration lifetime) {
    const auto found = entries_.find(key);
    if (found == entries_.end()) return 0;
    if (now - found->second.last >= lifetime) {
        forget(key);
        return 0;
    }
    return found->second.count;
}

std::size_t Throttle::RecentTable::add(const std::string& key, Clock::time_point now, Clock::duration lifetime,
                                       std::size_t capacity) {
    const auto total = count(key, now, lifetime) + 1;
    auto found = entries_.find(key);
    if (found == entries_.end()) {
        if (entries_.size() >= capacity && !oldest_first_.empty()) forget(oldest_first_.front());
        found = entries_.emplace(key, Entry{0, now, oldest_first_.insert(oldest_first_.end(), key)}).first;
    } else {
        oldest_first_.splice(oldest_first_.end(), oldest_first_, found->second.age);
    }
    found->second.count = total;
    found->second.last = now;
    return total;
}

void Throttle::RecentTable::forget(const std::string& key) {
    const auto found = entries_.find(key);
    if (found == entries_.end()) return;
    oldest_first_.erase(found->second.age);
    entries_.erase(found);
}

// --- Throttle -----------------------------------------------------------------------

std::string Throttle::network_of(std::string_view ip) const {
    return config::client_network(ip, settings_.ipv4_prefix, settings_.ipv6_prefix);
}

std::size_t Throttle::count(const std::string& key, Clock::time_point now, Counting counting) {
    const auto settled = failures_.count(key, now, settings_.window);
    if (counting == Counting::settled) return settled;
    const auto in_flight = pending_.find(key);
    return settled + (in_flight == pending_.end() ? 0 : in_flight->second);
}

bool Throttle::known(const Reservation& keys, Clock::time_point now) {
    return !keys.account.empty() && known_.count(known_key(keys), now, settings_.known_network_lifetime) > 0;
}

// The one rule of refusal, for admit() (counting the checks in flight) and
// failed() (the failures so far: a check in flight may still succeed).
bool Throttle::refused(const Reservation& keys, Clock::time_point now, Counting counting) {
    const auto limit = settings_.failures_before_disconnect;
    if (count(network_key(keys.network), now, counting) >= limit) return true;  // the guesser's network
    if (keys.account.empty()) return false;
    return count(account_key(keys.account), now, counting) >= limit && !known(keys, now);  // account under attack
}

std::chrono::milliseconds Throttle::delay_after(std::size_t failure_count) const {
    if (failure_count < settings_.failures_before_delay) return std::chrono::milliseconds{0};
    auto delay = settings_.failure_delay;
    for (auto doublings = failure_count - settings_.failures_before_delay;
         doublings > 0 && delay < settings_.max_failure_delay; --doublings)
        delay *= 2;
    return std::min(delay, settings_.max_failure_delay);
}

Admission Throttle::admit(std::string_view ip, std::string_view account, Clock::time_point now) {
    Admission admission;
    admission.reservation = Reservation{network_of(ip), std::string(account)};
    const Reservation& keys = admission.reservation;
    if (refused(keys, now, Counting::with_pending)) {
        admission.refused = true;
        return admission;
    }
    // Checks in flight count: parallel guesses are delayed like successive ones.
    auto failures = count(network_key(keys.network), now, Counting::with_pending);
    if (!keys.account.empty() && !known(keys, now))
        failures = std::max(failures, count(account_key(keys.account), now, Counting::with_pending));
    admission.delay = delay_after(failures);
    ++pending_[network_key(keys.network)];
    if (!keys.account.empty()) ++pending_[account_key(keys.account)];
    return admission;
}

void Throttle::release(const std::string& key) {
    const auto found = pending_.find(key);
    if (found == pending_.end()) return;
    if (--found->second == 0) pending_.erase(found);
}

void Throttle::abandoned(const Reservation& reservation) {
    release(network_key(reservation.network));
    if (!reservation.account.empty()) release(account_key(reservation.account));
}

bool Throttle::failed(const Reservation& reservation, Clock::time_point now) {
    abandoned(reservation);
    failures_.add(network_key(reservation.network), now, settings_.window, settings_.max_tracked_keys);
    if (!reservation.account.empty())
        failures_.add(account_key(reservation.account), now, settings_.window, settings_.max_tracked_keys);
    return refused(reservation, now, Counting::settled);
}

void Throttle::succeeded(const Reservation& reservation, Clock::time_point now) {
    abandoned(reservation);
    if (reservation.account.empty()) return;
    known_.add(known_key(reservation), now, settings_.known_network_lifetime, settings_.max_tracked_keys);
}

}  // namespace cartero::auth

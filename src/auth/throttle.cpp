// Throttle: failure counters with expiry and a bounded LRU; see throttle.hpp.
#include "auth/throttle.hpp"

#include <algorithm>

namespace cartero::auth {
namespace {

// Separate namespaces for the two kinds of key: an IP never equals an account.
std::string ip_key(std::string_view ip) { return "ip " + std::string(ip); }
std::string account_key(std::string_view account) { return "account " + std::string(account); }

}  // namespace

ThrottleSettings ThrottleSettings::from(const config::Limits& limits) {
    ThrottleSettings settings;
    settings.failures_before_delay = limits.auth_failures_before_delay;
    settings.failure_delay = limits.auth_failure_delay;
    settings.failures_before_disconnect = limits.auth_failures_before_disconnect;
    settings.window = limits.auth_failure_window;
    return settings;
}

std::size_t Throttle::failures(const std::string& key, Clock::time_point now) {
    const auto found = entries_.find(key);
    if (found == entries_.end()) return 0;
    if (now - found->second.last_failure >= settings_.window) {
        forget(key);
        return 0;
    }
    return found->second.failures;
}

std::size_t Throttle::add_failure(const std::string& key, Clock::time_point now) {
    const auto count = failures(key, now) + 1;
    auto found = entries_.find(key);
    if (found == entries_.end()) {
        if (entries_.size() >= settings_.max_tracked_keys && !oldest_first_.empty()) forget(oldest_first_.front());
        found = entries_.emplace(key, Entry{0, now, oldest_first_.insert(oldest_first_.end(), key)}).first;
    } else {
        oldest_first_.splice(oldest_first_.end(), oldest_first_, found->second.age);
    }
    found->second.failures = count;
    found->second.last_failure = now;
    return count;
}

void Throttle::forget(const std::string& key) {
    const auto found = entries_.find(key);
    if (found == entries_.end()) return;
    oldest_first_.erase(found->second.age);
    entries_.erase(found);
}

std::chrono::milliseconds Throttle::delay_after(std::size_t failure_count) const {
    if (failure_count < settings_.failures_before_delay) return std::chrono::milliseconds{0};
    auto delay = settings_.failure_delay;
    for (auto doublings = failure_count - settings_.failures_before_delay;
         doublings > 0 && delay < settings_.max_failure_delay; --doublings)
        delay *= 2;
    return std::min(delay, settings_.max_failure_delay);
}

ThrottleVerdict Throttle::check(std::string_view ip, std::string_view account, Clock::time_point now) {
    const auto count = std::max(failures(ip_key(ip), now), failures(account_key(account), now));
    return ThrottleVerdict{count >= settings_.failures_before_disconnect, delay_after(count)};
}

bool Throttle::record_failure(std::string_view ip, std::string_view account, Clock::time_point now) {
    const auto count = std::max(add_failure(ip_key(ip), now), add_failure(account_key(account), now));
    return count >= settings_.failures_before_disconnect;
}

void Throttle::record_success(std::string_view account) { forget(account_key(account)); }

}  // namespace cartero::auth

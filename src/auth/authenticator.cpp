// Authenticator: see authenticator.hpp for the decision table.
#include "auth/authenticator.hpp"

#include <algorithm>

#include "accounts/address.hpp"

namespace cartero::auth {
namespace {

using smtp::AuthStatus;
using std::chrono::milliseconds;

// Failures that count toward the throttle: a wrong password, and a right main
// password on an app-passwords-only account (it is not a login either).
bool counts_as_failure(AuthStatus status) {
    return status == AuthStatus::bad_credentials || status == AuthStatus::app_password_required;
}

}  // namespace

Authenticator::Authenticator(accounts::AccountStore& store, AppPasswordKey key, const config::Limits& limits)
    : store_(store),
      key_(key),
      throttle_(ThrottleSettings::from(limits)),
      // A pool without threads would never answer: at least one.
      pool_(std::max<std::size_t>(limits.auth_concurrency, 1), limits.auth_queue) {}

void Authenticator::update(const config::Limits& limits) {
    std::scoped_lock lock(throttle_mutex_);
    throttle_.update(ThrottleSettings::from(limits));
}

// Hashed once, on first need, with the same cost as real account hashes.
const std::string& Authenticator::dummy_hash() {
    std::call_once(dummy_once_, [this] { dummy_hash_ = hash_password("cartero timing-equaliser password"); });
    return dummy_hash_;
}

void Authenticator::authenticate(std::string mechanism, std::vector<std::string> responses, std::string peer_ip,
                                 Done done) {
    const auto credentials = decode_sasl(mechanism, responses);
    if (!credentials) return done({AuthStatus::malformed, {}}, milliseconds{0});
    auto user = accounts::normalize_address(credentials->username);

    ThrottleVerdict verdict;
    {
        std::scoped_lock lock(throttle_mutex_);
        verdict = throttle_.check(peer_ip, user, Throttle::Clock::now());
    }
    if (verdict.refused) return done({AuthStatus::throttled, {}}, milliseconds{0});

    auto job = [this, user, password = credentials->password, peer_ip, done, delay = verdict.delay](bool cancelled) {
        const auto status = cancelled ? AuthStatus::temporary : record(peer_ip, user, verify(user, password));
        done({status, status == AuthStatus::ok ? user : std::string{}}, delay);
    };
    if (!pool_.try_submit(std::move(job))) done({AuthStatus::temporary, {}}, milliseconds{0});
}

smtp::AuthStatus Authenticator::verify(const std::string& user, const std::string& password) {
    try {
        const auto account = store_.find_user(user);
        if (!account) {
            verify_password(password, dummy_hash());
            return AuthStatus::bad_credentials;
        }
        const auto digest = key_.digest(password);
        for (const auto& app_password : store_.list_app_passwords(user)) {
            if (!same_digest(app_password.digest, digest)) continue;
            store_.touch_app_password(app_password.id, std::chrono::system_clock::now());
            return AuthStatus::ok;
        }
        if (!verify_password(password, account->password_hash)) return AuthStatus::bad_credentials;
        return account->app_passwords_only ? AuthStatus::app_password_required : AuthStatus::ok;
    } catch (const std::exception&) {
        // Store unreachable, disk error, or hashing out of memory: the client may retry.
        return AuthStatus::temporary;
    }
}

// Feeds the outcome to the throttle; a failure that reaches the disconnect
// limit is answered 421 at once rather than 535.
smtp::AuthStatus Authenticator::record(const std::string& peer_ip, const std::string& user, AuthStatus status) {
    std::scoped_lock lock(throttle_mutex_);
    if (status == AuthStatus::ok) throttle_.record_success(user);
    if (counts_as_failure(status) && throttle_.record_failure(peer_ip, user, Throttle::Clock::now()))
        return AuthStatus::throttled;
    return status;
}

}  // namespace cartero::auth

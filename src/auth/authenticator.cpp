// Authenticator: see authenticator.hpp for the decision table.
#include "auth/authenticator.hpp"

#include <algorithm>

#include "accounts/address.hpp"

namespace cartero::auth {
namespace {

using smtp::AuthStatus;
using std::chrono::milliseconds;

// Failures that count toward the throttle: a wrong password, a right main
// password on an app-passwords-only account (it is not a login either), and a
// malformed exchange (a guesser's tool must not get free tries by sending junk).
bool counts_as_failure(AuthStatus status) {
    return status == AuthStatus::bad_credentials || status == AuthStatus::app_password_required ||
           status == AuthStatus::malformed;
}

}  // namespace

Authenticator::Authenticator(accounts::AccountStore& store, AppPasswordKey key, const config::Limits& limits)
    : store_(store),
      key_(key),
      throttle_(ThrottleSettings::from(limits)),
      // A pool without threads would never answer: at least one.
      pool_(std::max<std::size_t>(limits.auth_concurrency, 1), limits.auth_queue) {}

// Hashed once, on first need, with the same cost as real account hashes.
const std::string& Authenticator::dummy_hash() {
    std::call_once(dummy_once_, [this] { dummy_hash_ = hash_password("cartero timing-equaliser password"); });
    return dummy_hash_;
}

void Authenticator::reconfigure(const config::Limits& limits) {
    std::scoped_lock lock(throttle_mutex_);
    throttle_.reconfigure(ThrottleSettings::from(limits));
}

Admission Authenticator::admit(const std::string& peer_ip, const std::string& user) {
    std::scoped_lock lock(throttle_mutex_);
    return throttle_.admit(peer_ip, user, Throttle::Clock::now());
}

void Authenticator::authenticate(std::string mechanism, std::vector<std::string> responses, std::string peer_ip,
                                 Done done) {
    const auto credentials = decode_sasl(mechanism, responses);
    if (!credentials) return reject_malformed(peer_ip, done);
    auto user = accounts::normalize_address(credentials->username);

    // The failure slot is reserved before the check, so checks in flight count
    // (auth/throttle.hpp); it is settled exactly once, in record() or below.
    auto admission = admit(peer_ip, user);
    if (admission.refused) return done({AuthStatus::throttled, {}}, milliseconds{0});

    auto job = [this, user, password = credentials->password, reservation = admission.reservation, done,
                delay = admission.delay](bool cancelled) {
        const auto status = record(reservation, cancelled ? AuthStatus::temporary : verify(user, password));
        done({status, status == AuthStatus::ok ? user : std::string{}}, delay);
    };
    if (pool_.try_submit(std::move(job))) return;
    record(admission.reservation, AuthStatus::temporary);
    done({AuthStatus::temporary, {}}, milliseconds{0});
}

// A malformed exchange is a failed attempt of the network (there is no account
// to charge): refused when the network is, delayed like a wrong password.
void Authenticator::reject_malformed(const std::string& peer_ip, const Done& done) {
    const auto admission = admit(peer_ip, {});
    if (admission.refused) return done({AuthStatus::throttled, {}}, milliseconds{0});
    done({record(admission.reservation, AuthStatus::malformed), {}}, admission.delay);
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

// Settles the reservation with the outcome; a failure that reaches the limit
// is answered 421 at once rather than 535.
smtp::AuthStatus Authenticator::record(const Reservation& reservation, AuthStatus status) {
    std::scoped_lock lock(throttle_mutex_);
    const auto now = Throttle::Clock::now();
    if (status == AuthStatus::ok) {
        throttle_.succeeded(reservation, now);
    } else if (!counts_as_failure(status)) {
        throttle_.abandoned(reservation);
    } else if (throttle_.failed(reservation, now)) {
        return AuthStatus::throttled;
    }
    return status;
}

}  // namespace cartero::auth

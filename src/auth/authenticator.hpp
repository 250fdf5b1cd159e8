// Authenticator: what the network driver calls for smtp::Authenticate. It
// decodes the SASL exchange, applies the brute-force throttle, and verifies the
// credentials against the AccountStore on a bounded HashingPool.
//
//   too many recent failures   -> throttled, at once (421 4.7.0 + close): from the
//                                 client network, or against the account from a
//                                 network it never logged in from (auth/throttle.hpp)
//   malformed SASL             -> malformed, at once (501 5.5.2), counted as a failure
//                                 of the client network
//   pool queue full            -> temporary, at once (454 4.7.0)
//   store failure              -> temporary
//   unknown user               -> bad_credentials, after a dummy argon2id check so the
//                                 reply takes as long as for a real user (no user probing)
//   an app password matches    -> ok (its last_used is updated)
//   the main password matches  -> ok, or app_password_required (534 5.7.9) when the
//                                 account is app-passwords-only (the guide's 2FA case)
//   otherwise                  -> bad_credentials (535 5.7.8)
//
// `done` runs on a pool thread (or inline for the immediate answers); the
// driver must post back to its own executor. `delay` is how long the driver
// waits before sending the reply (auth/throttle.hpp).
//
// Trust: mechanism, responses and usernames are untrusted network input.
// Privileges: reads the account store and the app-password key; writes
// last_used. Destroy it only after the listeners stopped: queued checks are
// answered `temporary` on destruction.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "accounts/store.hpp"
#include "auth/hashing_pool.hpp"
#include "auth/password.hpp"
#include "auth/sasl.hpp"
#include "auth/throttle.hpp"
#include "config/config.hpp"
#include "smtp/session.hpp"

namespace cartero::auth {

class Authenticator {
public:
    using Done = std::function<void(smtp::AuthResult, std::chrono::milliseconds delay)>;

    Authenticator(accounts::AccountStore& store, AppPasswordKey key, const config::Limits& limits);

    void authenticate(std::string mechanism, std::vector<std::string> responses, std::string peer_ip, Done done);

    // Applies new limits.auth_* throttle settings (SIGHUP); failure counts and
    // known networks are kept. limits.auth_concurrency and limits.auth_queue size
    // the hashing pool and take effect only at a restart.
    void reconfigure(const config::Limits& limits);

private:
    Admission admit(const std::string& peer_ip, const std::string& user);
    void reject_malformed(const std::string& peer_ip, const Done& done);
    smtp::AuthStatus verify(const std::string& user, const std::string& password);
    smtp::AuthStatus record(const Reservation& reservation, smtp::AuthStatus status);
    const std::string& dummy_hash();

    accounts::AccountStore& store_;
    const AppPasswordKey key_;
    std::mutex throttle_mutex_;
    Throttle throttle_;
    std::once_flag dummy_once_;
    std::string dummy_hash_;
    HashingPool pool_;  // last: destroyed first, so no job outlives the members above
};

}  // namespace cartero::auth

// AccountStore: users, password hashes, app passwords and aliases, persisted.
// Two implementations (STYLE rule 11): SqliteAccountStore (accounts.db, shared
// by the server and the `cartero user`/`alias` commands) and MemoryAccountStore
// (tests, and a server run without persistence).
//
// Trust: addresses and labels are operator input (CLI) or come from a SASL
// username (network, untrusted); implementations use them only as bound
// parameters or map keys, never inside SQL text (CVE-2025-26794 class).
// Callers normalise addresses (accounts/address.hpp); the store also does, so
// a key is lower-case however it arrives.
//
// Thread safety: every method may be called from any thread (the server calls
// find_user from its hashing pool while the reload loop calls version()).
// Storage failures throw StoreError; expected outcomes are return values.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/directory.hpp"

namespace cartero::accounts {

using WallTime = std::chrono::system_clock::time_point;

struct User {
    std::string address;          // normalised
    std::string password_hash;    // argon2id ("$argon2id$...") or an imported crypt(3) hash
    bool app_passwords_only = false;  // main password refused for SMTP AUTH (the guide's 2FA case)
    SendingLimits limits = {};        // `cartero user limits`; unset = domain or [limits] default
};

struct AppPassword {
    std::int64_t id = 0;
    std::string user;
    std::string label;            // unique per user: "phone", "laptop thunderbird"
    std::string digest;           // keyed BLAKE2b of the password (auth/password.hpp), raw bytes
    WallTime created;
    std::optional<WallTime> last_used;
};

struct Alias {
    std::string source;                // a local address
    std::vector<std::string> targets;  // local users, other aliases, or remote addresses
};

// Result of a change. `not_found`: the user/alias/label named does not exist;
// `exists`: the user or label is taken.
enum class Change { done, not_found, exists };

// The store could not be read or written (disk, permissions, locked too long,
// a schema newer than this binary). The message is fit for an operator.
class StoreError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

class AccountStore {
public:
    virtual ~AccountStore() = default;

    virtual Change add_user(const User& user) = 0;
    virtual Change delete_user(std::string_view address) = 0;  // its app passwords go with it
    virtual std::vector<User> list_users() const = 0;
    virtual std::optional<User> find_user(std::string_view address) const = 0;
    virtual Change set_password_hash(std::string_view address, std::string_view hash) = 0;
    virtual Change set_app_passwords_only(std::string_view address, bool on) = 0;
    // Replaces the account's own sending limits (all unset = `--clear`).
    virtual Change set_sending_limits(std::string_view address, const SendingLimits& limits) = 0;

    // not_found: no such user; exists: the label is taken for that user.
    virtual Change add_app_password(std::string_view address, std::string_view label, std::string_view digest,
                                    WallTime created) = 0;
    virtual std::vector<AppPassword> list_app_passwords(std::string_view address) const = 0;
    virtual Change revoke_app_password(std::string_view address, std::string_view label) = 0;
    virtual void touch_app_password(std::int64_t id, WallTime used) = 0;

    // Adds targets to `source` (creating the alias); targets already there are kept once.
    virtual Change add_alias(std::string_view source, const std::vector<std::string>& targets) = 0;
    virtual Change delete_alias(std::string_view source) = 0;
    virtual std::vector<Alias> list_aliases() const = 0;

    // Changes whenever users or aliases changed, by this process or another one
    // (the CLI writes while the server reads). Compare with the value seen at the
    // last load_directory to decide whether to reload.
    virtual std::uint64_t version() const = 0;
};

// Builds the immutable snapshot the session path uses.
std::shared_ptr<const Directory> load_directory(const AccountStore& store,
                                                const std::vector<std::string>& local_domains,
                                                const std::vector<config::Route>& routes = {},
                                                const config::Accounts& rules = {});

}  // namespace cartero::accounts

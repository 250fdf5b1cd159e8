// MemoryAccountStore: the AccountStore kept in process memory. Used by tests in
// place of SQLite (STYLE rule 11) and by anything that wants accounts without a
// file. Same semantics as SqliteAccountStore, checked by the same test table.
//
// Trust: as AccountStore. Privileges: none.
#pragma once

#include <map>
#include <mutex>

#include "accounts/store.hpp"

namespace cartero::accounts {

class MemoryAccountStore : public AccountStore {
public:
    Change add_user(const User& user) override;
    Change delete_user(std::string_view address) override;
    std::vector<User> list_users() const override;
    std::optional<User> find_user(std::string_view address) const override;
    Change set_password_hash(std::string_view address, std::string_view hash) override;
    Change set_app_passwords_only(std::string_view address, bool on) override;
    Change set_sending_limits(std::string_view address, const SendingLimits& limits) override;

    Change add_app_password(std::string_view address, std::string_view label, std::string_view digest,
                            WallTime created) override;
    std::vector<AppPassword> list_app_passwords(std::string_view address) const override;
    Change revoke_app_password(std::string_view address, std::string_view label) override;
    void touch_app_password(std::int64_t id, WallTime used) override;

    Change add_alias(std::string_view source, const std::vector<std::string>& targets) override;
    Change delete_alias(std::string_view source) override;
    std::vector<Alias> list_aliases() const override;

    std::uint64_t version() const override;

private:
    Change changed();  // bumps the version; returns Change::done

    mutable std::mutex mutex_;
    std::map<std::string, User> users_;                // ordered: list_users() is sorted like SQLite's ORDER BY
    std::vector<AppPassword> app_passwords_;
    std::map<std::string, std::vector<std::string>> aliases_;
    std::int64_t next_app_password_id_ = 1;
    std::uint64_t version_ = 0;
};

}  // namespace cartero::accounts

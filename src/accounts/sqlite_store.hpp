// SqliteAccountStore: the AccountStore in `<data_dir>/accounts.db`.
//
// The server reads the file while `cartero user`/`alias` write it from another
// process, so the database runs in WAL mode (readers never block the writer)
// with a busy timeout, and version() combines SQLite's `PRAGMA data_version`
// (bumped by other connections' commits) with a count of this connection's own
// writes. The schema is created on first open and numbered with
// `PRAGMA user_version`; a file from a newer cartero is refused, not guessed at.
//
// Trust: every statement is a constant string with bound parameters
// (CVE-2025-26794 class: no value is ever spliced into SQL text).
// Privileges: read/write access to data_dir. The file holds password hashes, so
// it is created mode 0600 (SQLite gives the -wal and -shm files the same mode).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "accounts/store.hpp"

struct sqlite3;

namespace cartero::accounts {

class SqliteAccountStore final : public AccountStore {
public:
    static constexpr int schema_version = 2;
    // How long a statement waits for another process's write lock before failing.
    static constexpr int busy_timeout_ms = 5000;

    // Opens (creating if needed) the database at `path`. Throws StoreError.
    explicit SqliteAccountStore(const std::filesystem::path& path);
    ~SqliteAccountStore() override;
    SqliteAccountStore(const SqliteAccountStore&) = delete;
    SqliteAccountStore& operator=(const SqliteAccountStore&) = delete;

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
    void create_or_check_schema();
    Change wrote();                         // counts a write of ours for version()
    Change wrote_if_any(int rows_changed);  // wrote() if rows changed, else not_found
    bool user_exists(const std::string& key) const;

    mutable std::mutex mutex_;  // one connection, used by one thread at a time
    sqlite3* db_ = nullptr;
    std::uint64_t own_writes_ = 0;
};

// `<data_dir>/accounts.db`, creating data_dir (mode 0700) if it is missing.
std::unique_ptr<AccountStore> open_account_store(const std::filesystem::path& data_dir);

}  // namespace cartero::accounts

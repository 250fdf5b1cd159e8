// SqliteAccountStore: see sqlite_store.hpp for the concurrency and trust model.
#include "accounts/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cartero::accounts {
namespace {

// Version 1. Addresses are stored normalised; app passwords die with their user
// (foreign key, ON DELETE CASCADE). Times are Unix seconds (UTC).
constexpr const char* schema_v1 = R"sql(
CREATE TABLE users (
    address            TEXT PRIMARY KEY NOT NULL,
    password_hash      TEXT NOT NULL,
    app_passwords_only INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE app_passwords (
    id        INTEGER PRIMARY KEY,
    user      TEXT NOT NULL REFERENCES users(address) ON DELETE CASCADE,
    label     TEXT NOT NULL,
    digest    BLOB NOT NULL,
    created   INTEGER NOT NULL,
    last_used INTEGER,
    UNIQUE (user, label)
);
CREATE TABLE alias_targets (
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (source, target)
);
PRAGMA user_version = 1;
)sql";

// Version 2 (issue 11): each account's own sending limits; NULL = the domain's
// or [limits] default (docs/limits.md, "Sending quotas").
constexpr const char* schema_v2 = R"sql(
ALTER TABLE users ADD COLUMN limit_per_hour INTEGER;
ALTER TABLE users ADD COLUMN limit_per_day INTEGER;
ALTER TABLE users ADD COLUMN limit_recipients_per_day INTEGER;
PRAGMA user_version = 2;
)sql";

constexpr const char* user_columns =
    "address, password_hash, app_passwords_only, limit_per_hour, limit_per_day, limit_recipients_per_day";

std::int64_t to_unix(WallTime t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
WallTime from_unix(std::int64_t seconds) { return WallTime{std::chrono::seconds{seconds}}; }

[[noreturn]] void fail(sqlite3* db, std::string_view what) {
    throw StoreError("accounts database: " + std::string(what) + ": " + sqlite3_errmsg(db));
}

void exec(sqlite3* db, const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db, "statement failed");
}

// One prepared statement with positional parameters bound in order.
class Statement {
public:
    struct Blob { std::string_view bytes; };  // bound as BLOB rather than TEXT

    template <typename... Args>
    Statement(sqlite3* db, const char* sql, const Args&... args) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail(db, "prepare");
        (bind(args), ...);
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // True while a row is available; false when done.
    bool step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        fail(db_, "step");
    }
    // Runs a statement that returns no rows; the number of rows it changed.
    int run() {
        step();
        return sqlite3_changes(db_);
    }

    std::string text(int column) const {
        const auto* data = sqlite3_column_blob(stmt_, column);
        const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
        return data ? std::string(static_cast<const char*>(data), size) : std::string{};
    }
    std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
    bool null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

private:
    void bind(std::string_view value) {
        check(sqlite3_bind_text(stmt_, ++index_, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
    }
    void bind(const std::string& value) { bind(std::string_view(value)); }
    void bind(const Blob& value) {
        check(sqlite3_bind_blob(stmt_, ++index_, value.bytes.data(), static_cast<int>(value.bytes.size()),
                                SQLITE_TRANSIENT));
    }
    void bind(std::int64_t value) { check(sqlite3_bind_int64(stmt_, ++index_, value)); }
    void bind(const std::optional<std::size_t>& value) {
        check(value ? sqlite3_bind_int64(stmt_, ++index_, static_cast<std::int64_t>(*value))
                    : sqlite3_bind_null(stmt_, ++index_));
    }
    void check(int rc) {
        if (rc != SQLITE_OK) fail(db_, "bind");
    }

    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    int index_ = 0;
};

// BEGIN IMMEDIATE takes the write lock up front, so a read-then-write sequence
// cannot be overtaken by the other process between its read and its write.
class Transaction {
public:
    explicit Transaction(sqlite3* db) : db_(db) { exec(db_, "BEGIN IMMEDIATE"); }
    ~Transaction() {
        if (!committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        exec(db_, "COMMIT");
        committed_ = true;
    }

private:
    sqlite3* db_;
    bool committed_ = false;
};

// SQLite creates the file with the process umask; create it 0600 first so the
// password hashes are never readable by others, even for a moment.
void create_private_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) throw StoreError("cannot create " + path.string() + ": " + std::strerror(errno));
    ::close(fd);
}

std::optional<std::size_t> optional_count(const Statement& row, int column) {
    if (row.null(column)) return std::nullopt;
    return static_cast<std::size_t>(row.integer(column));
}

User user_from_row(const Statement& row) {
    return User{row.text(0), row.text(1), row.integer(2) != 0,
                SendingLimits{optional_count(row, 3), optional_count(row, 4), optional_count(row, 5)}};
}

}  // namespace

SqliteAccountStore::SqliteAccountStore(const std::filesystem::path& path) {
    create_private_file(path);
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        const std::string reason = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw StoreError("cannot open " + path.string() + ": " + reason);
    }
    try {
        sqlite3_busy_timeout(db_, busy_timeout_ms);
        exec(db_, "PRAGMA journal_mode = WAL");
        exec(db_, "PRAGMA foreign_keys = ON");
        create_or_check_schema();
    } catch (...) {
        sqlite3_close(db_);
        throw;
    }
}

SqliteAccountStore::~SqliteAccountStore() { sqlite3_close(db_); }

void SqliteAccountStore::create_or_check_schema() {
    Transaction transaction(db_);
    Statement query(db_, "PRAGMA user_version");
    query.step();
    const auto found = query.integer(0);
    if (found > schema_version)
        throw StoreError("accounts database has schema version " + std::to_string(found) +
                         ", newer than this cartero understands (" + std::to_string(schema_version) +
                         "); upgrade cartero");
    if (found == 0) exec(db_, schema_v1);
    if (found < 2) exec(db_, schema_v2);
    transaction.commit();
}

Change SqliteAccountStore::wrote() {
    ++own_writes_;
    return Change::done;
}

Change SqliteAccountStore::wrote_if_any(int rows_changed) {
    return rows_changed > 0 ? wrote() : Change::not_found;
}

bool SqliteAccountStore::user_exists(const std::string& key) const {
    return Statement(db_, "SELECT 1 FROM users WHERE address = ?", key).step();
}

Change SqliteAccountStore::add_user(const User& user) {
    std::scoped_lock lock(mutex_);
    Statement insert(db_,
                     "INSERT INTO users (address, password_hash, app_passwords_only) VALUES (?, ?, ?) "
                     "ON CONFLICT (address) DO NOTHING",
                     normalize_address(user.address), user.password_hash,
                     std::int64_t{user.app_passwords_only ? 1 : 0});
    if (insert.run() == 0) return Change::exists;
    return wrote();
}

Change SqliteAccountStore::delete_user(std::string_view address) {
    std::scoped_lock lock(mutex_);
    return wrote_if_any(Statement(db_, "DELETE FROM users WHERE address = ?", normalize_address(address)).run());
}

std::vector<User> SqliteAccountStore::list_users() const {
    std::scoped_lock lock(mutex_);
    Statement query(db_, (std::string("SELECT ") + user_columns + " FROM users ORDER BY address").c_str());
    std::vector<User> out;
    while (query.step()) out.push_back(user_from_row(query));
    return out;
}

std::optional<User> SqliteAccountStore::find_user(std::string_view address) const {
    std::scoped_lock lock(mutex_);
    Statement query(db_, (std::string("SELECT ") + user_columns + " FROM users WHERE address = ?").c_str(),
                    normalize_address(address));
    if (!query.step()) return std::nullopt;
    return user_from_row(query);
}

Change SqliteAccountStore::set_password_hash(std::string_view address, std::string_view hash) {
    std::scoped_lock lock(mutex_);
    Statement update(db_, "UPDATE users SET password_hash = ? WHERE address = ?", hash, normalize_address(address));
    return wrote_if_any(update.run());
}

Change SqliteAccountStore::set_app_passwords_only(std::string_view address, bool on) {
    std::scoped_lock lock(mutex_);
    Statement update(db_, "UPDATE users SET app_passwords_only = ? WHERE address = ?", std::int64_t{on ? 1 : 0},
                     normalize_address(address));
    return wrote_if_any(update.run());
}

Change SqliteAccountStore::set_sending_limits(std::string_view address, const SendingLimits& limits) {
    std::scoped_lock lock(mutex_);
    Statement update(db_,
                     "UPDATE users SET limit_per_hour = ?, limit_per_day = ?, limit_recipients_per_day = ? "
                     "WHERE address = ?",
                     limits.per_hour, limits.per_day, limits.recipients_per_day, normalize_address(address));
    return wrote_if_any(update.run());
}

Change SqliteAccountStore::add_app_password(std::string_view address, std::string_view label,
                                            std::string_view digest, WallTime created) {
    std::scoped_lock lock(mutex_);
    const auto key = normalize_address(address);
    Transaction transaction(db_);
    if (!user_exists(key)) return Change::not_found;
    Statement insert(db_,
                     "INSERT INTO app_passwords (user, label, digest, created) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (user, label) DO NOTHING",
                     key, label, Statement::Blob{digest}, to_unix(created));
    if (insert.run() == 0) return Change::exists;
    transaction.commit();
    return wrote();
}

std::vector<AppPassword> SqliteAccountStore::list_app_passwords(std::string_view address) const {
    std::scoped_lock lock(mutex_);
    Statement query(db_,
                    "SELECT id, user, label, digest, created, last_used FROM app_passwords "
                    "WHERE user = ? ORDER BY label",
                    normalize_address(address));
    std::vector<AppPassword> out;
    while (query.step()) {
        std::optional<WallTime> last_used;
        if (!query.null(5)) last_used = from_unix(query.integer(5));
        out.push_back(AppPassword{query.integer(0), query.text(1), query.text(2), query.text(3),
                                  from_unix(query.integer(4)), last_used});
    }
    return out;
}

Change SqliteAccountStore::revoke_app_password(std::string_view address, std::string_view label) {
    std::scoped_lock lock(mutex_);
    Statement remove(db_, "DELETE FROM app_passwords WHERE user = ? AND label = ?", normalize_address(address), label);
    return wrote_if_any(remove.run());
}

// Not counted in own_writes_: last_used does not affect the Directory snapshot.
void SqliteAccountStore::touch_app_password(std::int64_t id, WallTime used) {
    std::scoped_lock lock(mutex_);
    Statement(db_, "UPDATE app_passwords SET last_used = ? WHERE id = ?", to_unix(used), id).run();
}

Change SqliteAccountStore::add_alias(std::string_view source, const std::vector<std::string>& targets) {
    std::scoped_lock lock(mutex_);
    const auto key = normalize_address(source);
    Transaction transaction(db_);
    for (const auto& target : targets)
        Statement(db_, "INSERT INTO alias_targets (source, target) VALUES (?, ?) ON CONFLICT DO NOTHING", key,
                  normalize_address(target))
            .run();
    transaction.commit();
    return wrote();
}

Change SqliteAccountStore::delete_alias(std::string_view source) {
    std::scoped_lock lock(mutex_);
    return wrote_if_any(
        Statement(db_, "DELETE FROM alias_targets WHERE source = ?", normalize_address(source)).run());
}

std::vector<Alias> SqliteAccountStore::list_aliases() const {
    std::scoped_lock lock(mutex_);
    Statement query(db_, "SELECT source, target FROM alias_targets ORDER BY source, target");
    std::vector<Alias> out;
    while (query.step()) {
        auto source = query.text(0);
        if (out.empty() || out.back().source != source) out.push_back(Alias{std::move(source), {}});
        out.back().targets.push_back(query.text(1));
    }
    return out;
}

// data_version changes when ANOTHER connection commits; own_writes_ covers ours.
std::uint64_t SqliteAccountStore::version() const {
    std::scoped_lock lock(mutex_);
    Statement query(db_, "PRAGMA data_version");
    query.step();
    return (static_cast<std::uint64_t>(query.integer(0)) << 32) + own_writes_;
}

std::unique_ptr<AccountStore> open_account_store(const std::filesystem::path& data_dir) {
    std::error_code error;
    if (std::filesystem::create_directories(data_dir, error))
        std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all, error);
    if (error) throw StoreError("cannot create data_dir " + data_dir.string() + ": " + error.message());
    return std::make_unique<SqliteAccountStore>(data_dir / "accounts.db");
}

}  // namespace cartero::accounts

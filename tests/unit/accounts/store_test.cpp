// AccountStore: the same behaviour table runs against both implementations
// (STYLE rule 11), plus SQLite-only checks: persistence across opens, version()
// seeing another connection's writes, file mode, hostile keys.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "accounts/memory_store.hpp"
#include "accounts/sqlite_store.hpp"

#include <sqlite3.h>

namespace cartero::accounts {
namespace {

namespace fs = std::filesystem;

std::string_view name(Change change) {
    switch (change) {
        case Change::done: return "done";
        case Change::not_found: return "not_found";
        case Change::exists: return "exists";
    }
    return "?";
}

// A fresh data directory per test, removed afterwards.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "cartero-accounts-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
    }
    ~TempDir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

struct Backend {
    std::string name;
    std::function<std::unique_ptr<AccountStore>(const fs::path& dir)> open;
};

class StoreTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override { store = GetParam().open(dir.path()); }
    TempDir dir;
    std::unique_ptr<AccountStore> store;
};

const WallTime t0{std::chrono::seconds{1'700'000'000}};

// Evaluates `expr` once and reports "got X, want Y" with the call that failed.
#define EXPECT_CHANGE(expr, want)                                                            \
    do {                                                                                      \
        const Change got_ = (expr);                                                           \
        EXPECT_EQ(got_, want) << #expr << ": got " << name(got_) << ", want " << name(want); \
    } while (0)

TEST_P(StoreTest, Users) {
    EXPECT_CHANGE(store->add_user({"Alice@Example.com", "$argon2id$x", false}), Change::done);
    EXPECT_CHANGE(store->add_user({"alice@example.com", "$argon2id$y", false}), Change::exists);
    EXPECT_CHANGE(store->add_user({"bob@example.com", "$6$z", true}), Change::done);

    const auto alice = store->find_user("ALICE@example.COM");
    ASSERT_TRUE(alice);
    EXPECT_EQ(alice->address, "alice@example.com");
    EXPECT_EQ(alice->password_hash, "$argon2id$x");
    EXPECT_FALSE(alice->app_passwords_only);

    const auto users = store->list_users();
    ASSERT_EQ(users.size(), 2u);
    EXPECT_EQ(users[0].address, "alice@example.com");
    EXPECT_EQ(users[1].address, "bob@example.com");
    EXPECT_TRUE(users[1].app_passwords_only);

    EXPECT_CHANGE(store->set_password_hash("alice@example.com", "$argon2id$new"), Change::done);
    EXPECT_EQ(store->find_user("alice@example.com")->password_hash, "$argon2id$new");
    EXPECT_CHANGE(store->set_app_passwords_only("alice@example.com", true), Change::done);
    EXPECT_TRUE(store->find_user("alice@example.com")->app_passwords_only);
    EXPECT_CHANGE(store->set_password_hash("nobody@example.com", "h"), Change::not_found);
    EXPECT_CHANGE(store->set_app_passwords_only("nobody@example.com", true), Change::not_found);

    EXPECT_CHANGE(store->delete_user("bob@example.com"), Change::done);
    EXPECT_CHANGE(store->delete_user("bob@example.com"), Change::not_found);
    EXPECT_FALSE(store->find_user("bob@example.com"));
}

TEST_P(StoreTest, AppPasswords) {
    EXPECT_CHANGE(store->add_user({"alice@example.com", "h", false}), Change::done);
    EXPECT_CHANGE(store->add_app_password("alice@example.com", "phone", std::string("d1\0x", 4), t0), Change::done);
    EXPECT_CHANGE(store->add_app_password("ALICE@example.com", "phone", "d2", t0), Change::exists);
    EXPECT_CHANGE(store->add_app_password("alice@example.com", "laptop", "d3", t0), Change::done);
    EXPECT_CHANGE(store->add_app_password("nobody@example.com", "phone", "d4", t0), Change::not_found);

    auto list = store->list_app_passwords("alice@example.com");
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].label, "laptop");
    EXPECT_EQ(list[1].label, "phone");
    EXPECT_EQ(list[1].digest, std::string("d1\0x", 4)) << "digest must round-trip as raw bytes";
    EXPECT_EQ(list[1].created, t0);
    EXPECT_FALSE(list[1].last_used);

    store->touch_app_password(list[1].id, t0 + std::chrono::hours{1});
    list = store->list_app_passwords("alice@example.com");
    ASSERT_TRUE(list[1].last_used);
    EXPECT_EQ(*list[1].last_used, t0 + std::chrono::hours{1});

    EXPECT_CHANGE(store->revoke_app_password("alice@example.com", "phone"), Change::done);
    EXPECT_CHANGE(store->revoke_app_password("alice@example.com", "phone"), Change::not_found);
    EXPECT_EQ(store->list_app_passwords("alice@example.com").size(), 1u);

    // Deleting the user takes its app passwords along; a new user of the same
    // name does not inherit them.
    EXPECT_CHANGE(store->delete_user("alice@example.com"), Change::done);
    EXPECT_CHANGE(store->add_user({"alice@example.com", "h", false}), Change::done);
    EXPECT_TRUE(store->list_app_passwords("alice@example.com").empty());
}

TEST_P(StoreTest, Aliases) {
    EXPECT_CHANGE(store->add_alias("Team@example.com", {"alice@example.com", "BOB@example.com"}), Change::done);
    EXPECT_CHANGE(store->add_alias("team@example.com", {"bob@example.com", "carol@example.org"}), Change::done);
    EXPECT_CHANGE(store->add_alias("postmaster@example.com", {"alice@example.com"}), Change::done);
    const auto aliases = store->list_aliases();
    ASSERT_EQ(aliases.size(), 2u);
    EXPECT_EQ(aliases[0].source, "postmaster@example.com");
    EXPECT_EQ(aliases[1].source, "team@example.com");
    EXPECT_EQ(aliases[1].targets,
              (std::vector<std::string>{"alice@example.com", "bob@example.com", "carol@example.org"}));
    EXPECT_CHANGE(store->delete_alias("TEAM@example.com"), Change::done);
    EXPECT_CHANGE(store->delete_alias("team@example.com"), Change::not_found);
    EXPECT_EQ(store->list_aliases().size(), 1u);
}

TEST_P(StoreTest, VersionChangesOnEveryDirectoryChange) {
    auto last = store->version();
    auto expect_changed = [&](const char* what) {
        const auto now = store->version();
        EXPECT_NE(now, last) << what << ": version did not change";
        last = now;
    };
    store->add_user({"alice@example.com", "h", false});
    expect_changed("add_user");
    store->add_alias("team@example.com", {"alice@example.com"});
    expect_changed("add_alias");
    store->delete_alias("team@example.com");
    expect_changed("delete_alias");
    store->delete_user("alice@example.com");
    expect_changed("delete_user");
}

// Keys that would break string-built SQL are ordinary keys here (CVE-2025-26794 class).
TEST_P(StoreTest, HostileKeysAreJustKeys) {
    const std::string hostile = "x'); DROP TABLE users; --@example.com";
    EXPECT_CHANGE(store->add_user({hostile, "h", false}), Change::done);
    EXPECT_CHANGE(store->add_user({"alice@example.com", "h", false}), Change::done);
    EXPECT_CHANGE(store->add_app_password("alice@example.com", "a' OR '1'='1", "d", t0), Change::done);
    EXPECT_TRUE(store->find_user(hostile));
    EXPECT_EQ(store->list_users().size(), 2u);
    EXPECT_CHANGE(store->revoke_app_password("alice@example.com", "' OR 1=1 --"), Change::not_found);
    EXPECT_EQ(store->list_app_passwords("alice@example.com").size(), 1u);
    EXPECT_FALSE(store->find_user("%"));
}

TEST_P(StoreTest, LoadDirectory) {
    store->add_user({"alice@example.com", "h", false});
    store->add_alias("team@example.com", {"alice@example.com", "carol@example.org"});
    const auto directory = load_directory(*store, {"example.com"});
    EXPECT_TRUE(directory->resolve("team@example.com"));
    EXPECT_EQ(directory->remote_targets("team@example.com"), std::vector<std::string>{"carol@example.org"});
    EXPECT_TRUE(directory->may_send_as("alice@example.com", "team@example.com"));
    EXPECT_FALSE(directory->resolve("bob@example.com"));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreTest,
    ::testing::Values(Backend{"memory", [](const fs::path&) { return std::make_unique<MemoryAccountStore>(); }},
                      Backend{"sqlite", [](const fs::path& dir) { return open_account_store(dir / "data"); }}),
    [](const auto& test) { return test.param.name; });

TEST(SqliteAccountStore, PersistsAndSeesOtherConnections) {
    TempDir dir;
    const auto path = dir.path() / "accounts.db";
    SqliteAccountStore server(path);
    const auto before = server.version();
    {
        SqliteAccountStore cli(path);  // the `cartero user` process
        EXPECT_EQ(name(cli.add_user({"alice@example.com", "h", false})), "done");
    }
    EXPECT_NE(server.version(), before) << "the server must notice the CLI's write";
    EXPECT_TRUE(server.find_user("alice@example.com"));
}

TEST(SqliteAccountStore, FileIsPrivateAndWal) {
    TempDir dir;
    const auto store = open_account_store(dir.path() / "data");
    struct stat info {};
    ASSERT_EQ(::stat((dir.path() / "data" / "accounts.db").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u) << "got mode " << std::oct << (info.st_mode & 0777) << ", want 600";
    EXPECT_TRUE(fs::exists(dir.path() / "data" / "accounts.db-wal")) << "want WAL mode";
}

TEST(SqliteAccountStore, RefusesNewerSchema) {
    TempDir dir;
    const auto path = dir.path() / "accounts.db";
    { SqliteAccountStore store(path); }
    {
        // Simulate a database written by a future cartero.
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
        sqlite3_close(db);
    }
    EXPECT_THROW(SqliteAccountStore{path}, StoreError);
}

}  // namespace
}  // namespace cartero::accounts

// Saved accounts: the TOML round trip, the checks on a hand-edited file, the
// XDG path, and the file written with mode 0600 and no password in it.
#include "cli/saved_accounts.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cartero::cli {
namespace {

SavedAccounts two() {
    SavedAccounts accounts;
    accounts["work"] = {"ana@example.com", "smtp.example.com", 587, "starttls", "ana@example.com",
                        "pass show mail/work", "", ""};
    accounts["gmail"] = {"ana@gmail.com", "smtp.gmail.com", 465, "ssl", "ana@gmail.com", "", "", "oauth2-helper"};
    return accounts;
}

TEST(SavedAccounts, RoundTrip) {
    const SavedAccounts accounts = two();
    const std::string text = format_accounts(accounts);
    EXPECT_EQ(parse_accounts(text, "accounts.toml"), accounts) << text;
    EXPECT_NE(text.find("[accounts.work]"), std::string::npos) << text;
    EXPECT_EQ(parse_accounts("", "x").size(), 0u);
}

TEST(SavedAccounts, BadFilesNameTheKey) {
    struct Case {
        std::string text, want;
    };
    const std::vector<Case> cases{
        {"[accounts.a]\naddress='a@b'\nserver='s'\npassword='secret'\n", "accounts.a: unknown key password"},
        {"[accounts.a]\naddress='a@b'\nserver='s'\nport=70000\n", "accounts.a: port must be a number"},
        {"[accounts.a]\naddress='a@b'\nserver='s'\ntls='yes'\n", "accounts.a: tls must be ssl, starttls or none"},
        {"[accounts.a]\naddress='a@b'\n", "accounts.a: address and server are required"},
        {"[accounts.a]\naddress=1\nserver='s'\n", "accounts.a: address must be a string"},
        {"accounts = 3\n", "accounts must be a table"},
        {"[accounts.a\n", "f.toml"},
    };
    for (const auto& c : cases) {
        try {
            parse_accounts(c.text, "f.toml");
            ADD_FAILURE() << "no error for " << c.text;
        } catch (const AccountsFileError& e) {
            EXPECT_NE(std::string(e.what()).find(c.want), std::string::npos) << "got " << e.what() << ", want " << c.want;
        }
    }
}

TEST(SavedAccounts, NamesAreBareKeys) {
    for (const char* good : {"work", "gmail-2", "a.b_c"}) EXPECT_TRUE(valid_account_name(good)) << good;
    for (const char* bad : {"", "a b", "ñ", "a\"b", "x]"}) EXPECT_FALSE(valid_account_name(bad)) << bad;
}

TEST(SavedAccounts, PathHonoursXdgConfigHome) {
    const char* old_xdg = std::getenv("XDG_CONFIG_HOME");
    const std::string saved = old_xdg ? old_xdg : "";
    ::setenv("XDG_CONFIG_HOME", "/tmp/xdg", 1);
    EXPECT_EQ(accounts_file_path(), "/tmp/xdg/cartero/accounts.toml");
    ::setenv("XDG_CONFIG_HOME", "relative", 1);  // invalid per the spec: ignored
    ::setenv("HOME", "/home/ana", 1);
    EXPECT_EQ(accounts_file_path(), "/home/ana/.config/cartero/accounts.toml");
    if (old_xdg) ::setenv("XDG_CONFIG_HOME", saved.c_str(), 1);
    else ::unsetenv("XDG_CONFIG_HOME");
}

TEST(SavedAccounts, SavedWithMode0600AndReadBack) {
    char pattern[] = "/tmp/cartero-accounts-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    const std::filesystem::path file = std::filesystem::path(pattern) / "cartero" / "accounts.toml";
    EXPECT_TRUE(load_accounts(file).empty());
    ::umask(0);  // the mode must not depend on the umask
    save_accounts(file, two());
    save_accounts(file, two());  // replacing works too
    struct stat st{};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(file.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_EQ(load_accounts(file), two());
    ::umask(022);
    std::filesystem::remove_all(pattern);
}

}  // namespace
}  // namespace cartero::cli

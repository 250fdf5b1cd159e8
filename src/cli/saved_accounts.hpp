// Saved accounts of the client tools (`cartero account add/list/remove`, used
// by `cartero send --account` and `cartero check --account`): the outgoing
// server settings of a person's own mailboxes, kept in
// $XDG_CONFIG_HOME/cartero/accounts.toml (~/.config/cartero/accounts.toml).
// Not to be confused with the server's mailboxes (`cartero user`,
// cli/account_commands.hpp), which live in the server's database.
//
// The file, one table per account:
//
//   [accounts.work]
//   address = "ana@example.com"
//   server = "smtp.example.com"
//   port = 587
//   tls = "starttls"                  # ssl | starttls | none (--tls of check)
//   user = "ana@example.com"
//   password_command = "pass show mail/work"   # or password_file = "/path"
//   # oauth_token_command = "oauth2-helper"     # OAuth2 instead of a password
//
// Secrets never go into it: a password is named only by the command that
// prints it (msmtp's passwordeval) or the file that holds it. The file is
// still written with mode 0600 (it says which servers and logins one has) and
// replaced atomically (base::replace_durably), so a crash leaves the old file or
// the new one. Trust: the file is the invoking user's own; it is parsed with
// toml++ and every value checked for type; a bad file is an error naming the
// key, never a guess.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace cartero::cli {

struct SavedAccount {
    std::string address;   // the sender address: From and MAIL FROM
    std::string server;
    std::uint16_t port = 587;
    std::string tls = "starttls";  // "ssl", "starttls" or "none", as --tls
    std::string user;              // empty: no AUTH
    std::string password_command;  // at most one of these three
    std::string password_file;
    std::string oauth_token_command;

    friend bool operator==(const SavedAccount&, const SavedAccount&) = default;
};

using SavedAccounts = std::map<std::string, SavedAccount>;  // by name, sorted

// A file that cannot be read or holds something wrong; what() names file and key.
class AccountsFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// $XDG_CONFIG_HOME/cartero/accounts.toml when XDG_CONFIG_HOME is set and
// absolute (XDG Base Directory spec), else $HOME/.config/cartero/accounts.toml.
std::filesystem::path accounts_file_path();

// Parsing and writing the TOML text (pure; the tests round-trip them).
SavedAccounts parse_accounts(const std::string& text, const std::string& source_name);
std::string format_accounts(const SavedAccounts& accounts);

// The file: a missing one holds no accounts. save creates the directory (0700)
// and replaces the file atomically with mode 0600.
SavedAccounts load_accounts(const std::filesystem::path& file);
void save_accounts(const std::filesystem::path& file, const SavedAccounts& accounts);

// Account names: letters, digits, '-', '_', '.', 1-64 of them (a TOML bare key).
bool valid_account_name(const std::string& name);

}  // namespace cartero::cli

// Saved accounts of the client tools; see saved_accounts.hpp.
#include "cli/saved_accounts.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "base/file_io.hpp"
#include "base/translation.hpp"

namespace cartero::cli {
namespace {

const std::string* string_key(const toml::table& table, const char* key, const std::string& where) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return nullptr;
    const auto* value = node->as_string();
    if (value == nullptr)
        throw AccountsFileError(
            fmt::format(fmt::runtime(base::tr("{}: {} must be a string")), where, key));
    return &value->get();
}

SavedAccount parse_account(const toml::table& table, const std::string& where) {
    static const char* const known[] = {"address", "server", "port", "tls", "user", "password_command",
                                        "password_file", "oauth_token_command"};
    for (const auto& [key, node] : table) {
        bool found = false;
        for (const char* k : known) found = found || key.str() == k;
        // A "password" key is unknown on purpose: secrets stay out of the file.
        if (!found)
            throw AccountsFileError(fmt::format(fmt::runtime(base::tr("{}: unknown key {}")), where, key.str()));
    }
    SavedAccount account;
    auto take = [&](const char* key, std::string& into) {
        if (const auto* value = string_key(table, key, where)) into = *value;
    };
    take("address", account.address);
    take("server", account.server);
    take("tls", account.tls);
    take("user", account.user);
    take("password_command", account.password_command);
    take("password_file", account.password_file);
    take("oauth_token_command", account.oauth_token_command);
    if (const toml::node* port = table.get("port")) {
        const auto* value = port->as_integer();
        if (value == nullptr || value->get() < 1 || value->get() > 65535)
            throw AccountsFileError(fmt::format(fmt::runtime(base::tr("{}: port must be a number from 1 to 65535")), where));
        account.port = static_cast<std::uint16_t>(value->get());
    }
    if (account.address.empty() || account.server.empty())
        throw AccountsFileError(fmt::format(fmt::runtime(base::tr("{}: address and server are required")), where));
    if (account.tls != "ssl" && account.tls != "starttls" && account.tls != "none")
        throw AccountsFileError(fmt::format(fmt::runtime(base::tr("{}: tls must be ssl, starttls or none")), where));
    return account;
}

}  // namespace

bool valid_account_name(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

std::filesystem::path accounts_file_path() {
    // XDG Base Directory spec: a relative XDG_CONFIG_HOME is invalid and ignored.
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    if (xdg != nullptr && xdg[0] == '/') return std::filesystem::path(xdg) / "cartero" / "accounts.toml";
    const char* home = std::getenv("HOME");
    if (home == nullptr || home[0] == '\0')
        throw AccountsFileError(base::tr("neither XDG_CONFIG_HOME nor HOME is set: cannot find accounts.toml"));
    return std::filesystem::path(home) / ".config" / "cartero" / "accounts.toml";
}

SavedAccounts parse_accounts(const std::string& text, const std::string& source_name) {
    toml::table root;
    try {
        root = toml::parse(text, source_name);
    } catch (const toml::parse_error& error) {
        std::ostringstream out;
        out << error;
        throw AccountsFileError(out.str());
    }
    SavedAccounts accounts;
    const toml::node* section = root.get("accounts");
    if (section == nullptr) return accounts;
    const auto* table = section->as_table();
    if (table == nullptr)
        throw AccountsFileError(fmt::format(fmt::runtime(base::tr("{}: accounts must be a table")), source_name));
    for (const auto& [key, node] : *table) {
        const std::string where = source_name + ": accounts." + std::string(key.str());
        const auto* account = node.as_table();
        if (account == nullptr)
            throw AccountsFileError(fmt::format(fmt::runtime(base::tr("{}: must be a table")), where));
        accounts.emplace(std::string(key.str()), parse_account(*account, where));
    }
    return accounts;
}

std::string format_accounts(const SavedAccounts& accounts) {
    toml::table all;
    for (const auto& [name, a] : accounts) {
        toml::table t;
        t.insert("address", a.address);
        t.insert("server", a.server);
        t.insert("port", static_cast<std::int64_t>(a.port));
        t.insert("tls", a.tls);
        if (!a.user.empty()) t.insert("user", a.user);
        if (!a.password_command.empty()) t.insert("password_command", a.password_command);
        if (!a.password_file.empty()) t.insert("password_file", a.password_file);
        if (!a.oauth_token_command.empty()) t.insert("oauth_token_command", a.oauth_token_command);
        all.insert(name, std::move(t));
    }
    toml::table root;
    root.insert("accounts", std::move(all));
    std::ostringstream out;
    out << "# cartero's saved accounts (cartero account add/list/remove; docs/client.md).\n"
           "# No passwords here: only the command or the file that gives one.\n\n";
    out << root << "\n";
    return out.str();
}

SavedAccounts load_accounts(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        if (!std::filesystem::exists(file)) return {};
        throw AccountsFileError(fmt::format(fmt::runtime(base::tr("cannot read {}")), file.string()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_accounts(text.str(), file.string());
}

void save_accounts(const std::filesystem::path& file, const SavedAccounts& accounts) {
    const auto directory = file.parent_path();
    std::error_code error;
    if (!std::filesystem::exists(directory)) {
        std::filesystem::create_directories(directory, error);
        if (!error) ::chmod(directory.c_str(), 0700);
    }
    if (!error) error = base::replace_durably(file, format_accounts(accounts), 0600);
    if (error)
        throw AccountsFileError(
            fmt::format(fmt::runtime(base::tr("cannot write {}: {}")), file.string(), error.message()));
}

}  // namespace cartero::cli

// `cartero user` / `cartero alias`: thin commands over accounts/ and auth/.
// The rules (address syntax, local domains, password strength, hashing, app
// password format) live and are tested there; this file parses arguments,
// reads passwords, prints results, and maps outcomes to exit codes.
#include "cli/account_commands.hpp"

#include <fcntl.h>
#include <sysexits.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include <boost/json.hpp>

#include "accounts/sending_ledger.hpp"
#include "accounts/sqlite_store.hpp"
#include "auth/password.hpp"
#include "cli/terminal.hpp"

namespace cartero::cli {
namespace {

using accounts::Change;

// One clear line on stderr, then a non-zero exit through CLI11 (main returns it).
[[noreturn]] void fail(int exit_code, const std::string& message) {
    std::cerr << "cartero: " << message << "\n";
    throw CLI::RuntimeError(exit_code);
}

struct Accounts {
    config::Config config;
    std::unique_ptr<accounts::AccountStore> store;
};

Accounts open_accounts(const GlobalOptions& options) {
    auto config = load_config(options);  // ConfigError reaches main: exit 2
    try {
        auto store = accounts::open_account_store(config.data_dir);
        return Accounts{std::move(config), std::move(store)};
    } catch (const accounts::StoreError& e) {
        fail(EX_TEMPFAIL, e.what());
    }
}

// Runs a store operation, turning a storage failure into EX_TEMPFAIL.
template <typename Operation>
auto with_store(Operation operation) {
    try {
        return operation();
    } catch (const accounts::StoreError& e) {
        fail(EX_TEMPFAIL, e.what());
    }
}

void require_done(Change change, const std::string& not_found, const std::string& exists = {}) {
    if (change == Change::not_found) fail(EX_NOUSER, not_found);
    if (change == Change::exists) fail(EX_CANTCREAT, exists);
}

void require_valid(const std::string& address) {
    if (auto problem = accounts::address_problem(address)) fail(EX_DATAERR, address + ": " + *problem);
}

void require_local(const std::string& address, const config::Config& config) {
    require_valid(address);
    const auto problem = accounts::local_address_problem(address, config.local_domains);
    if (!problem) return;
    const auto where = config.source.empty() ? " (this is the embedded default: write a config file, pass --config)"
                                             : " (" + config.source.string() + ")";
    fail(EX_DATAERR, address + ": " + *problem + where);
}

void require_new_user(const Accounts& accounts, const std::string& address) {
    if (with_store([&] { return accounts.store->find_user(address); }))
        fail(EX_CANTCREAT, address + ": the account already exists (use `cartero user passwd` to change its password)");
}

void require_user(const Accounts& accounts, const std::string& address) {
    if (!with_store([&] { return accounts.store->find_user(address); }))
        fail(EX_NOUSER, address + ": no such account");
}

auth::AppPasswordKey app_password_key(const config::Config& config) {
    try {
        return auth::AppPasswordKey::load_or_create(config.data_dir);
    } catch (const std::runtime_error& e) {
        fail(EX_TEMPFAIL, std::string("app password key: ") + e.what());
    }
}

// --- reading passwords -------------------------------------------------------

std::string read_password_from_terminal() {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> tty(std::fopen("/dev/tty", "r+"), std::fclose);
    if (!tty) fail(EX_NOINPUT, "no terminal to ask for the password on; use --password-stdin");
    auto first = prompt_without_echo(tty.get(), "New password: ");
    const auto second = prompt_without_echo(tty.get(), "Repeat the password: ");
    if (first != second) fail(EX_DATAERR, "the two passwords differ; nothing was changed");
    return first;
}

// The new password, from stdin (first line) or the terminal, checked against
// the password rule and hashed with argon2id.
std::string new_password_hash(bool from_stdin) {
    const auto password = from_stdin ? read_line(stdin) : read_password_from_terminal();
    if (auto problem = auth::password_problem(password)) fail(EX_DATAERR, *problem);
    return auth::hash_password(password);
}

// An existing hash to import ($argon2id$, $6$, $5$, $2b$), first line of stdin.
std::string imported_hash() {
    auto hash = read_line(stdin);
    if (!auth::supported_hash(hash))
        fail(EX_DATAERR, "the hash on stdin is not argon2id, $6$ (SHA-512), $5$ (SHA-256) or $2b$ (bcrypt) crypt");
    return hash;
}

std::string utc_time(accounts::WallTime time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm parts{};
    ::gmtime_r(&seconds, &parts);
    char text[sizeof "2025-01-01T00:00:00Z"];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return text;
}

// --- user --------------------------------------------------------------------

void add_user_add(CLI::App& user, GlobalOptions& options) {
    struct Args { std::string address; bool password_stdin = false; bool hash_stdin = false; bool app_only = false; };
    auto args = std::make_shared<Args>();
    auto* cmd = user.add_subcommand("add", "Create an account");
    cmd->add_option("ADDRESS", args->address, "The account's address, also its login name")->required();
    auto* password_flag = cmd->add_flag("--password-stdin", args->password_stdin,
                                        "Read the password from the first line of stdin instead of the terminal");
    cmd->add_flag("--hash-stdin", args->hash_stdin,
                  "Import an existing hash (argon2id, $6$, $5$, $2b$) from the first line of stdin")
        ->excludes(password_flag);
    cmd->add_flag("--app-passwords-only", args->app_only,
                  "Refuse the main password for SMTP: only app passwords log in (for accounts with 2FA)");
    cmd->callback([args, &options] {
        auto accounts = open_accounts(options);
        require_local(args->address, accounts.config);
        require_new_user(accounts, args->address);  // before asking for a password in vain
        const auto hash = args->hash_stdin ? imported_hash() : new_password_hash(args->password_stdin);
        const accounts::User account{args->address, hash, args->app_only};
        require_done(with_store([&] { return accounts.store->add_user(account); }), {},
                     args->address + ": the account already exists (use `cartero user passwd` to change its password)");
    });
}

void add_user_passwd(CLI::App& user, GlobalOptions& options) {
    struct Args { std::string address; bool password_stdin = false; };
    auto args = std::make_shared<Args>();
    auto* cmd = user.add_subcommand("passwd", "Set an account's password (stored as argon2id)");
    cmd->add_option("ADDRESS", args->address, "The account")->required();
    cmd->add_flag("--password-stdin", args->password_stdin, "Read the password from the first line of stdin");
    cmd->callback([args, &options] {
        auto accounts = open_accounts(options);
        require_user(accounts, args->address);
        const auto hash = new_password_hash(args->password_stdin);
        require_done(with_store([&] { return accounts.store->set_password_hash(args->address, hash); }),
                     args->address + ": no such account");
    });
}

void add_user_del(CLI::App& user, GlobalOptions& options) {
    auto address = std::make_shared<std::string>();
    auto* cmd = user.add_subcommand("del", "Delete an account and its app passwords (its mail stays on disk)");
    cmd->add_option("ADDRESS", *address, "The account")->required();
    cmd->callback([address, &options] {
        auto accounts = open_accounts(options);
        require_done(with_store([&] { return accounts.store->delete_user(*address); }), *address + ": no such account");
    });
}

void add_user_list(CLI::App& user, GlobalOptions& options) {
    auto* cmd = user.add_subcommand("list", "List accounts: address, then app-passwords-only when set");
    cmd->callback([&options] {
        auto accounts = open_accounts(options);
        for (const auto& entry : with_store([&] { return accounts.store->list_users(); }))
            std::cout << entry.address << (entry.app_passwords_only ? "\tapp-passwords-only" : "") << "\n";
    });
}

void add_user_app_passwords_only(CLI::App& user, GlobalOptions& options) {
    struct Args { std::string address; std::string state; };
    auto args = std::make_shared<Args>();
    auto* cmd = user.add_subcommand("app-passwords-only",
                                    "on: only app passwords log in over SMTP (534 5.7.9 for the main password)");
    cmd->add_option("ADDRESS", args->address, "The account")->required();
    cmd->add_option("STATE", args->state, "on or off")->required()->check(CLI::IsMember({"on", "off"}));
    cmd->callback([args, &options] {
        auto accounts = open_accounts(options);
        const bool on = args->state == "on";
        require_done(with_store([&] { return accounts.store->set_app_passwords_only(args->address, on); }),
                     args->address + ": no such account");
    });
}

// --- user limits, user show (docs/limits.md "Sending quotas") ----------------------

void add_user_limits(CLI::App& user, GlobalOptions& options) {
    struct Args {
        std::string address;
        std::optional<std::size_t> per_hour, per_day, recipients_per_day;
        bool clear = false;
    };
    auto args = std::make_shared<Args>();
    auto* cmd = user.add_subcommand("limits", "Set an account's own sending limits (others keep their default)");
    cmd->add_option("ADDRESS", args->address, "The account")->required();
    auto* hour = cmd->add_option("--per-hour", args->per_hour, "Messages in any hour")->check(CLI::PositiveNumber);
    auto* day = cmd->add_option("--per-day", args->per_day, "Messages in any 24 hours")->check(CLI::PositiveNumber);
    auto* recipients = cmd->add_option("--recipients-per-day", args->recipients_per_day,
                                       "Recipients in any 24 hours")->check(CLI::PositiveNumber);
    cmd->add_flag("--clear", args->clear, "Remove the account's own limits: the domain's or [limits] apply again")
        ->excludes(hour)->excludes(day)->excludes(recipients);
    cmd->callback([args, &options] {
        auto accounts = open_accounts(options);
        const auto found = with_store([&] { return accounts.store->find_user(args->address); });
        if (!found) fail(EX_NOUSER, args->address + ": no such account");
        if (!args->clear && !args->per_hour && !args->per_day && !args->recipients_per_day)
            fail(EX_USAGE, "give --per-hour, --per-day, --recipients-per-day, or --clear");
        accounts::SendingLimits limits = args->clear ? accounts::SendingLimits{} : found->limits;
        if (args->per_hour) limits.per_hour = args->per_hour;
        if (args->per_day) limits.per_day = args->per_day;
        if (args->recipients_per_day) limits.recipients_per_day = args->recipients_per_day;
        require_done(with_store([&] { return accounts.store->set_sending_limits(args->address, limits); }),
                     args->address + ": no such account");
    });
}

// One quota as `user show` prints it: "messages per hour: 3 of 100 (account), next frees 14:32:05Z".
struct QuotaLine {
    std::string_view name;
    std::size_t used;
    std::size_t limit;
    std::string_view source;  // account, domain or default
    std::optional<accounts::LedgerTime> frees_at;
};

std::string_view limit_source(const config::Config& config, const std::optional<std::size_t>& own,
                              std::string_view address, std::optional<std::size_t> config::DomainLimits::*field) {
    if (own) return "account";
    const auto at = address.rfind('@');
    for (const auto& entry : config.domain_limits)
        if (at != std::string_view::npos && entry.domain == address.substr(at + 1) && entry.*field) return "domain";
    return "default";
}

void add_user_show(CLI::App& user, GlobalOptions& options) {
    struct Args { std::string address; bool json = false; };
    auto args = std::make_shared<Args>();
    auto* cmd = user.add_subcommand("show", "An account's settings, sending limits and current usage");
    cmd->add_option("ADDRESS", args->address, "The account")->required();
    cmd->add_flag("--json", args->json, "One JSON object instead of text");
    cmd->callback([args, &options] {
        auto accounts = open_accounts(options);
        const auto found = with_store([&] { return accounts.store->find_user(args->address); });
        if (!found) fail(EX_NOUSER, args->address + ": no such account");
        const config::Config& config = accounts.config;
        const auto limits = accounts::effective_limits(config, found->limits, found->address);
        const auto now = std::chrono::system_clock::now();
        accounts::QuotaUsage usage;
        try {
            // Read-only: the running server owns the file; what it wrote is here already.
            accounts::JournalLedger ledger(accounts::sending_counters_path(config.data_dir), {}, true);
            usage = ledger.usage(found->address, now);
        } catch (const std::runtime_error& e) {
            fail(EX_TEMPFAIL, e.what());
        }
        const std::vector<QuotaLine> lines{
            {"messages_per_hour", usage.last_hour, limits.per_hour,
             limit_source(config, found->limits.per_hour, found->address, &config::DomainLimits::messages_per_hour),
             usage.hour_frees_at},
            {"messages_per_day", usage.last_day, limits.per_day,
             limit_source(config, found->limits.per_day, found->address, &config::DomainLimits::messages_per_day),
             usage.day_frees_at},
            {"recipients_per_day", usage.recipients_last_day, limits.recipients_per_day,
             limit_source(config, found->limits.recipients_per_day, found->address,
                          &config::DomainLimits::recipients_per_day),
             usage.recipients_free_at},
        };
        if (args->json) {
            boost::json::object out{{"address", found->address}, {"app_passwords_only", found->app_passwords_only}};
            boost::json::object quotas;
            for (const auto& line : lines) {
                boost::json::object quota{{"used", line.used},
                                          {"limit", line.limit},
                                          {"source", line.source},
                                          {"remaining", line.limit > line.used ? line.limit - line.used : 0}};
                quota["next_frees_at"] = line.frees_at ? boost::json::value(utc_time(*line.frees_at)) : nullptr;
                quotas[line.name] = std::move(quota);
            }
            out["limits"] = std::move(quotas);
            std::cout << boost::json::serialize(out) << "\n";
            return;
        }
        std::cout << "address: " << found->address << "\n"
                  << "app passwords only: " << (found->app_passwords_only ? "yes" : "no") << "\n"
                  << "sending limits (sliding windows; used of limit, where the limit comes from):\n";
        for (const auto& line : lines) {
            std::cout << "  " << line.name << ": " << line.used << " of " << line.limit << " (" << line.source << ")";
            if (line.frees_at) std::cout << ", next frees at " << utc_time(*line.frees_at);
            std::cout << "\n";
        }
    });
}

// --- user app-password ------------------------------------------------------------

void add_app_password_add(CLI::App& group, GlobalOptions& options) {
    struct Args { std::string address; std::string label; };
    auto args = std::make_shared<Args>();
    auto* cmd = group.add_subcommand("add", "Generate an app password for one device or program");
    cmd->add_option("ADDRESS", args->address, "The account")->required();
    cmd->add_option("--label", args->label, "A name for the device or program, unique per account")->required();
    cmd->callback([args, &options] {
        auto accounts = open_accounts(options);
        if (args->label.empty()) fail(EX_DATAERR, "the label is empty");
        const auto key = app_password_key(accounts.config);
        const auto password = auth::generate_app_password();
        const auto created = std::chrono::system_clock::now();
        require_done(with_store([&] {
                         return accounts.store->add_app_password(args->address, args->label, key.digest(password),
                                                                 created);
                     }),
                     args->address + ": no such account",
                     args->address + ": an app password labelled \"" + args->label +
                         "\" already exists (revoke it first, or choose another label)");
        std::cout << "App password for " << args->address << " (" << args->label << "):\n\n    " << password
                  << "\n\nType it where the mail program asks for the password (spaces do not matter).\n"
                     "It will not be shown again: if it is lost, revoke it and add a new one.\n";
    });
}

void add_app_password_list(CLI::App& group, GlobalOptions& options) {
    auto address = std::make_shared<std::string>();
    auto* cmd = group.add_subcommand("list", "List an account's app passwords: label, created, last used (UTC)");
    cmd->add_option("ADDRESS", *address, "The account")->required();
    cmd->callback([address, &options] {
        auto accounts = open_accounts(options);
        require_user(accounts, *address);
        for (const auto& entry : with_store([&] { return accounts.store->list_app_passwords(*address); }))
            std::cout << entry.label << "\t" << utc_time(entry.created) << "\t"
                      << (entry.last_used ? utc_time(*entry.last_used) : "never") << "\n";
    });
}

void add_app_password_revoke(CLI::App& group, GlobalOptions& options) {
    struct Args { std::string address; std::string label; };
    auto args = std::make_shared<Args>();
    auto* cmd = group.add_subcommand("revoke", "Revoke an app password: the device using it can no longer log in");
    cmd->add_option("ADDRESS", args->address, "The account")->required();
    cmd->add_option("LABEL", args->label, "The label given at `add`")->required();
    cmd->callback([args, &options] {
        auto accounts = open_accounts(options);
        require_done(with_store([&] { return accounts.store->revoke_app_password(args->address, args->label); }),
                     args->address + ": no app password labelled \"" + args->label + "\"");
    });
}

// --- alias ----------------------------------------------------------------------

void add_alias_add(CLI::App& alias, GlobalOptions& options) {
    struct Args { std::string source; std::vector<std::string> targets; };
    auto args = std::make_shared<Args>();
    auto* cmd = alias.add_subcommand("add", "Deliver mail for FROM to each TO (added to existing targets)");
    cmd->add_option("FROM", args->source, "An address in a local domain")->required();
    cmd->add_option("TO", args->targets, "Local users, other aliases or remote addresses")->required();
    cmd->callback([args, &options] {
        auto accounts = open_accounts(options);
        require_local(args->source, accounts.config);
        for (const auto& target : args->targets) require_valid(target);
        with_store([&] { return accounts.store->add_alias(args->source, args->targets); });
    });
}

void add_alias_del(CLI::App& alias, GlobalOptions& options) {
    auto source = std::make_shared<std::string>();
    auto* cmd = alias.add_subcommand("del", "Delete an alias and all its targets");
    cmd->add_option("FROM", *source, "The alias address")->required();
    cmd->callback([source, &options] {
        auto accounts = open_accounts(options);
        require_done(with_store([&] { return accounts.store->delete_alias(*source); }), *source + ": no such alias");
    });
}

void add_alias_list(CLI::App& alias, GlobalOptions& options) {
    auto* cmd = alias.add_subcommand("list", "List aliases: FROM, then its targets separated by commas");
    cmd->callback([&options] {
        auto accounts = open_accounts(options);
        for (const auto& entry : with_store([&] { return accounts.store->list_aliases(); })) {
            std::cout << entry.source << "\t";
            for (std::size_t i = 0; i < entry.targets.size(); ++i) std::cout << (i ? "," : "") << entry.targets[i];
            std::cout << "\n";
        }
    });
}

}  // namespace

void add_account_commands(CLI::App& app, GlobalOptions& options) {
    auto* user = app.add_subcommand("user", "Accounts, passwords and app passwords");
    user->require_subcommand(1);
    add_user_add(*user, options);
    add_user_passwd(*user, options);
    add_user_del(*user, options);
    add_user_list(*user, options);
    add_user_app_passwords_only(*user, options);
    add_user_limits(*user, options);
    add_user_show(*user, options);
    auto* app_password = user->add_subcommand("app-password", "Per-device passwords for accounts with 2FA");
    app_password->require_subcommand(1);
    add_app_password_add(*app_password, options);
    add_app_password_list(*app_password, options);
    add_app_password_revoke(*app_password, options);

    auto* alias = app.add_subcommand("alias", "Addresses that deliver to other addresses");
    alias->require_subcommand(1);
    add_alias_add(*alias, options);
    add_alias_del(*alias, options);
    add_alias_list(*alias, options);
}

}  // namespace cartero::cli

// `cartero account add|list|remove`: see saved_account_commands.hpp.
#include "cli/saved_account_commands.hpp"

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "base/translation.hpp"
#include "cli/saved_accounts.hpp"
#include "cli/submission.hpp"
#include "discovery/discover.hpp"

namespace cartero::cli {
namespace {

struct AddFlags {
    std::string name;
    std::string address;
    bool no_check = false;
    ClientConnectionFlags connection;
};

int fail(int code, const std::string& message) {
    std::fprintf(stderr, "cartero account: %s\n", message.c_str());
    return code;
}

SavedAccount account_of(const AddFlags& flags) {
    SavedAccount account;
    account.address = flags.address;
    account.server = flags.connection.server;
    account.port = flags.connection.effective_port();
    account.tls = std::string(flag_value(flags.connection.tls));
    account.user = flags.connection.user;
    account.password_command = flags.connection.password_command;
    account.password_file = flags.connection.password_file;
    account.oauth_token_command = flags.connection.oauth_token_command;
    return account;
}

// No --server: `cartero discover`'s steps (discovery/discover.hpp) find the
// outgoing server, its port and encryption, and the username.
int discover_server(AddFlags& flags) {
    const auto address = discovery::split_address(flags.address);
    if (!address) return fail(exit_usage, fmt::format(fmt::runtime(base::tr("{} is not an email address")), flags.address));
    discovery::DiscoverOptions options;
    options.autoconfig.timeout = options.probe.timeout = flags.connection.timeout();
    if (!flags.connection.ca_file.empty()) options.autoconfig.ca_file = options.probe.ca_file = flags.connection.ca_file;
    std::unique_ptr<dns::Resolver> resolver;
    try {
        resolver = client_resolver(flags.connection);
    } catch (const std::invalid_argument& e) {
        return fail(exit_usage, e.what());
    }
    const discovery::Discovery found = discovery::discover(*resolver, *address, options);
    const discovery::Outgoing* chosen = nullptr;
    if (found.settings)
        for (const auto& o : found.settings->outgoing)
            if (chosen == nullptr && o.security != discovery::Security::none) chosen = &o;
    if (chosen == nullptr)
        return fail(exit_no_host, fmt::format(fmt::runtime(base::tr("no outgoing server found for {}: give it with "
                                                                    "--server HOST --port N --tls ssl|starttls")),
                                              flags.address));
    flags.connection.server = chosen->host;
    flags.connection.port = chosen->port;
    flags.connection.tls = chosen->security == discovery::Security::ssl ? ClientTls::ssl : ClientTls::starttls;
    if (flags.connection.user.empty() && !found.settings->username.empty())
        flags.connection.user = found.settings->username;
    std::printf("%s\n", fmt::format(fmt::runtime(base::tr("Found by cartero discover ({}): {} port {}, {}")),
                                    discovery::to_string(found.settings->source), chosen->host, chosen->port,
                                    discovery::to_string(chosen->security))
                            .c_str());
    return 0;
}

// The settings work: EHLO, TLS and AUTH succeed (nothing is sent).
int check_settings(const AddFlags& flags) {
    Submission submission = open_submission(flags.connection);
    if (!submission.connection)
        return fail(submission.exit_code,
                    fmt::format(fmt::runtime(base::tr("the settings do not work, nothing was saved: {}")),
                                submission.error));
    std::printf("%s\n", fmt::format(fmt::runtime(base::tr("Connected to {}: {}, {}")),
                                    submission.connection->peer_name(),
                                    delivery::describe(submission.connection->tls()),
                                    flags.connection.user.empty() ? base::tr("no login")
                                                                  : base::tr("login accepted"))
                            .c_str());
    submission.connection->quit();
    return 0;
}

int run_add(AddFlags flags) {
    if (!valid_account_name(flags.name))
        return fail(exit_usage, base::tr("an account name is 1 to 64 letters, digits, '-', '_' or '.'"));
    if (flags.address.find('@') == std::string::npos)
        return fail(exit_usage, fmt::format(fmt::runtime(base::tr("{} is not an email address")), flags.address));
    const auto& c = flags.connection;
    const int secrets = !c.password_command.empty() + !c.password_file.empty() + !c.oauth_token_command.empty();
    if (secrets > 1)
        return fail(exit_usage,
                    base::tr("give only one of --password-command, --password-file and --oauth-token-command"));
    if (!c.user.empty() && secrets == 0)
        return fail(exit_usage, base::tr("cartero does not store passwords: say where to read it with "
                                         "--password-command CMD or --password-file FILE"));
    if (flags.connection.server.empty()) {
        if (const int code = discover_server(flags); code != 0) return code;
    }
    if (c.user.empty() && secrets > 0) flags.connection.user = flags.address;  // the usual login
    try {
        const auto file = accounts_file_path();
        SavedAccounts accounts = load_accounts(file);
        if (accounts.contains(flags.name))
            return fail(exit_usage, fmt::format(fmt::runtime(base::tr("an account named {} exists already: "
                                                                      "remove it first (cartero account remove {})")),
                                                flags.name, flags.name));
        if (!flags.no_check) {
            if (const int code = check_settings(flags); code != 0) return code;
        }
        accounts[flags.name] = account_of(flags);
        save_accounts(file, accounts);
        std::printf("%s\n",
                    fmt::format(fmt::runtime(base::tr("Saved account {} in {}")), flags.name, file.string()).c_str());
    } catch (const AccountsFileError& e) {
        return fail(exit_config, e.what());
    }
    return 0;
}

std::string password_source(const SavedAccount& a) {
    if (!a.oauth_token_command.empty()) return fmt::format(fmt::runtime(base::tr("OAuth2 token from `{}`")), a.oauth_token_command);
    if (!a.password_command.empty()) return fmt::format(fmt::runtime(base::tr("password from `{}`")), a.password_command);
    if (!a.password_file.empty()) return fmt::format(fmt::runtime(base::tr("password from {}")), a.password_file);
    return base::tr("no login");
}

int run_list() {
    try {
        const SavedAccounts accounts = load_accounts(accounts_file_path());
        if (accounts.empty()) {
            std::printf("%s\n", base::tr("No saved accounts (add one with cartero account add NAME --address ADDR ...)."));
            return 0;
        }
        for (const auto& [name, a] : accounts) {
            const std::string tls = a.tls == "ssl" ? "SSL/TLS" : a.tls == "starttls" ? "STARTTLS" : base::tr("no encryption");
            std::printf("%s  %s  %s:%u  %s  %s%s\n", name.c_str(), a.address.c_str(), a.server.c_str(),
                        static_cast<unsigned>(a.port), tls.c_str(),
                        a.user.empty() ? "" : (a.user + "  ").c_str(), password_source(a).c_str());
        }
    } catch (const AccountsFileError& e) {
        return fail(exit_config, e.what());
    }
    return 0;
}

int run_remove(const std::string& name) {
    try {
        const auto file = accounts_file_path();
        SavedAccounts accounts = load_accounts(file);
        if (accounts.erase(name) == 0)
            return fail(exit_usage, fmt::format(fmt::runtime(base::tr("no saved account named {} (see cartero account list)")), name));
        save_accounts(file, accounts);
        std::printf("%s\n", fmt::format(fmt::runtime(base::tr("Removed account {}")), name).c_str());
    } catch (const AccountsFileError& e) {
        return fail(exit_config, e.what());
    }
    return 0;
}

void exit_with(int code) {
    if (code != 0) throw CLI::RuntimeError(code);
}

}  // namespace

void add_saved_account_commands(CLI::App& app, GlobalOptions&) {
    CLI::App* account = app.add_subcommand(
        "account", base::tr("Your own mail accounts for cartero send (saved in ~/.config/cartero/accounts.toml)"));
    account->require_subcommand(1);

    auto add_flags = std::make_shared<AddFlags>();
    CLI::App* add = account->add_subcommand("add", base::tr("Check an account's outgoing server settings and save them"));
    add->add_option("name", add_flags->name, base::tr("A short name for the account (work, gmail...)"))->required();
    add->add_option("--address", add_flags->address, base::tr("The account's email address"))->required();
    add->add_flag("--no-check", add_flags->no_check, base::tr("Save without connecting to the server first"));
    add_client_connection_flags(*add, add_flags->connection);
    add->callback([add_flags] { exit_with(run_add(*add_flags)); });

    CLI::App* list = account->add_subcommand("list", base::tr("List the saved accounts"));
    list->callback([] { exit_with(run_list()); });

    auto remove_name = std::make_shared<std::string>();
    CLI::App* remove = account->add_subcommand("remove", base::tr("Forget a saved account"));
    remove->add_option("name", *remove_name, base::tr("The account's name"))->required();
    remove->callback([remove_name] { exit_with(run_remove(*remove_name)); });
}

}  // namespace cartero::cli

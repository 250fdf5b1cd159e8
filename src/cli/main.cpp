// cartero: one binary, many roles (ARCHITECTURE.md). This file only wires the
// subcommands; each lives in its own file.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/translation.hpp"

#include "cli/account_commands.hpp"
#include "cli/check_command.hpp"
#include "cli/discover_command.hpp"
#include "cli/dkim_commands.hpp"
#include "cli/options.hpp"
#include "cli/queue_commands.hpp"
#include "cli/saved_account_commands.hpp"
#include "cli/send_command.hpp"
#include "cli/sendmail_command.hpp"
#include "cli/serve_command.hpp"
#include "config/config.hpp"

int main(int argc, char** argv) {
    // Installed as /usr/sbin/sendmail (a symlink): behave as `cartero sendmail`,
    // whose classic options are not CLI11's (docs/sendmail.md).
    // `cartero sendmail ...` skips CLI11 for the same reason (`cartero --config X
    // sendmail ...` goes through the subcommand below).
    if (argc > 0 && std::string_view(argv[0]).substr(std::string_view(argv[0]).rfind('/') + 1) == "sendmail")
        return cartero::cli::run_sendmail(std::vector<std::string>(argv + 1, argv + argc), {});
    if (argc > 1 && std::string_view(argv[1]) == "sendmail")
        return cartero::cli::run_sendmail(std::vector<std::string>(argv + 2, argv + argc), {});
    cartero::base::choose_language();  // from LANGUAGE, LC_ALL, LC_MESSAGES or LANG; --lang overrides
    CLI::App app{"cartero: mail server and SMTP toolkit"};
    app.require_subcommand(1);
    app.fallthrough();  // `cartero serve --config X` as well as `cartero --config X serve`
    app.set_help_all_flag("--help-all", "Show help for every subcommand");
    cartero::cli::GlobalOptions options;
    app.add_option("--config", options.config_path,
                   "Configuration file (TOML); without it, the embedded default under $CARTERO_HOME or ./var")
        ->check(CLI::ExistingFile);
    app.add_option_function<std::string>(
           "--lang",
           [](const std::string& name) {
               const auto language = cartero::base::parse_language(name);
               if (!language || (name != "es" && name != "en"))
                   throw CLI::ValidationError(
                       fmt::format(fmt::runtime(cartero::base::tr("unknown language {}: use es or en")), name));
               cartero::base::choose_language(*language);
           },
           "Language of the client tools' messages: es or en (default: from LANG)")
        ->trigger_on_parse();
    cartero::cli::add_serve_command(app, options);
    cartero::cli::add_account_commands(app, options);
    cartero::cli::add_queue_commands(app, options);
    cartero::cli::add_sendmail_command(app, options);
    cartero::cli::add_dkim_commands(app, options);
    cartero::cli::add_check_command(app, options);
    cartero::cli::add_discover_command(app, options);
    cartero::cli::add_send_command(app, options);
    cartero::cli::add_saved_account_commands(app, options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const cartero::config::ConfigError& e) {
        std::fprintf(stderr, "cartero: configuration error: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cartero: %s\n", e.what());
        return 1;
    }
    return 0;
}

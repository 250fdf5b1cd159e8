// `cartero account add|list|remove`: the client side's saved accounts (a
// person's own mailboxes at any provider, in ~/.config/cartero/accounts.toml,
// cli/saved_accounts.hpp), used by `cartero send --account NAME`.
// Not the server's mailboxes: those are `cartero user ...`
// (cli/account_commands.hpp).
//
// `account add` checks the settings before saving them: it connects with
// delivery::SmtpConnection and says EHLO, TLS and AUTH with the password or
// token the reference gives (--no-check skips that). The password itself is
// never written: only --password-command or --password-file is kept.
//
// Trust: as cli/client_options.hpp; the file is the invoking user's.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.hpp"

namespace cartero::cli {

void add_saved_account_commands(CLI::App& app, GlobalOptions& options);

}  // namespace cartero::cli

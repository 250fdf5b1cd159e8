// `cartero send`: compose a message (cli/outgoing_message.hpp) from standard
// input, a subject and attachments, and send it through any SMTP server — a
// saved account (--account, cli/saved_accounts.hpp) or the connection flags of
// `cartero check` (cli/client_options.hpp) — with the one SMTP client,
// delivery::SmtpConnection. Prints the server's final reply and the queue ID
// it gave. `--dry-run` prints the message instead. docs/client.md has the
// flags, the output and the exit codes.
//
// Trust: runs as the invoking user; the password or OAuth2 token comes from a
// file or a command they name (or the terminal) and is never printed. The
// server's replies are untrusted and only shown (one line each, sanitised by
// the reply parser).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.hpp"

namespace cartero::cli {

void add_send_command(CLI::App& app, GlobalOptions& options);

}  // namespace cartero::cli

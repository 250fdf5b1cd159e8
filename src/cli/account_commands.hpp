// `cartero user ...` and `cartero alias ...`: manage accounts, passwords, app
// passwords and aliases in <data_dir>/accounts.db. The server notices changes
// by itself (AccountStore::version()); no restart or reload is needed.
//
// Trust: run by the operator (trusted), but every argument is still validated
// (address syntax, local domain, password rules) before it reaches the store.
// Privileges: read/write data_dir (accounts.db, app-password.key).
//
// Exit status (sysexits.h, as mail tools use): 0 done; 65 EX_DATAERR input
// refused (bad address, foreign domain, weak or mismatched password); 66
// EX_NOINPUT no password given; 67 EX_NOUSER no such user, alias or app
// password; 73 EX_CANTCREAT user or label already exists; 75 EX_TEMPFAIL the
// account store could not be read or written; 2 configuration error.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.hpp"

namespace cartero::cli {

void add_account_commands(CLI::App& app, GlobalOptions& options);

}  // namespace cartero::cli

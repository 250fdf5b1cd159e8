// `cartero discover ADDRESS`: finds the outgoing mail settings of an address
// and prints them in the guide's words (server, port, SSL/TLS or STARTTLS,
// user name, sign-in, notes), as JSON (--json) or as a ready configuration
// (--format msmtp|thunderbird|swaks|env). The work is src/discovery/; this
// file holds the flags and the text (docs/client.md, "cartero discover").
//
// Exit codes (sysexits.h): 0 settings found; 64 (EX_USAGE) not an address or
// a bad flag value; 69 (EX_UNAVAILABLE) nothing found.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.hpp"

namespace cartero::cli {

void add_discover_command(CLI::App& app, GlobalOptions& options);

}  // namespace cartero::cli

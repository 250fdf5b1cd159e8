// `cartero check`: tests a sending configuration layer by layer — DNS, TCP,
// TLS, greeting, EHLO, AUTH, MAIL FROM, RCPT TO and, with --send-test, the
// DATA of a test message to oneself — printing one line per step with ✓/✗
// and its time, and on the first failure one paragraph with the cause and
// the fix (src/diagnose/). docs/client.md has the flags, the output and the
// exit codes.
//
// Trust: the server is untrusted (its replies are shown with control
// characters replaced); the password is read as client_options.hpp says and
// never shown (the transcript redacts AUTH). No privileges needed.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.hpp"

namespace cartero::cli {

void add_check_command(CLI::App& app, GlobalOptions& options);

}  // namespace cartero::cli

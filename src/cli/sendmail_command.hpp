// `cartero sendmail`: the /usr/sbin/sendmail interface applications pipe mail
// into (PHP's mail(), cron, git send-email, mailx). Installed as a symlink
// named `sendmail`, the binary behaves as `cartero sendmail` (argv[0]
// dispatch in main.cpp). docs/sendmail.md has the options and exit codes.
//
// Reads the message on standard input, prepares it (sendmail_message.hpp) and
// submits it over SMTP on the running server's {data_dir}/submit.sock
// (net/local_submission.hpp) with the shared client (delivery/remote/
// smtp_connection.hpp). Nothing is queued on the client side: without a
// running server the command fails with exit 69 and says how to start one.
//
// Trust: runs as the invoking user with no privileges of its own; the server
// learns who it is from the kernel, not from anything sent here.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/options.hpp"

namespace cartero::cli {

void add_sendmail_command(CLI::App& app, GlobalOptions& options);

// The whole command: `args` after "sendmail"; returns the exit code (sysexits).
// `config_path` is the global --config, if any.
int run_sendmail(const std::vector<std::string>& args, const std::string& config_path);

}  // namespace cartero::cli

// `cartero queue list|show ID|flush [ID]|hold ID|release ID|delete ID|bounce ID`:
// the operator's view of the running server's queue, through its control
// socket ({data_dir}/control.sock, net/control_socket.hpp).
//
// Output: human text like Postfix's mailq (ID, size, arrival, sender, then each
// recipient not done with its last error), or with --json the server's JSON
// objects as they are (docs/queue.md lists the fields).
//
// Trust: run by the operator. Privileges: connect to the control socket, which
// only the server's own user (and root) may.
//
// Exit status (sysexits.h): 0 done; 66 EX_NOINPUT no queued message with that
// ID; 69 EX_UNAVAILABLE no server running for this data_dir; 75 EX_TEMPFAIL
// flush of a held message; 76 EX_PROTOCOL the server's answer made no sense;
// 2 configuration error.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.hpp"

namespace cartero::cli {

void add_queue_commands(CLI::App& app, GlobalOptions& options);

}  // namespace cartero::cli

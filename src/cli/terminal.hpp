// Reading secrets from a person: a line from a stream, and a prompt on the
// controlling terminal with echo off. Shared by `cartero user` (new passwords)
// and the client tools (`check`, `send`: the account's password).
//
// Trust: what is read is a secret; it is never echoed, logged or written to
// stdout (scripts may capture stdout).
#pragma once

#include <cstdio>
#include <optional>
#include <string>

namespace cartero::cli {

// One line without its "\n" (and "\r\n"); the rest of the stream is left unread.
std::string read_line(std::FILE* in);

// Prompts on `tty` with echo off, restoring the terminal even if reading fails.
std::string prompt_without_echo(std::FILE* tty, const char* prompt);

// Asks once on /dev/tty; nullopt when there is no controlling terminal.
std::optional<std::string> ask_on_terminal(const char* prompt);

}  // namespace cartero::cli

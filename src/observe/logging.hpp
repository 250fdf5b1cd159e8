// Logging setup: one line per event, greppable like Postfix's mail log:
//
//   2026-11-26T10:00:00.123Z cartero[4242]: info: s3f9a1c0: connect from [192.0.2.1]:50000
//
// UTC timestamps with milliseconds (logs from several hosts sort together), the
// pid (several cartero processes may share a file), the level, then the text.
// Other folders log through spdlog's default logger (spdlog::info(...)) and put
// the session ID (session_id.hpp) and queue ID first in the text.
//
// Trust: log text may contain client input; callers must not log raw protocol
// lines unbounded (cut them to a limit) because CR/LF in them could forge lines.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace cartero::observe {

// spdlog pattern for the line above.
inline constexpr std::string_view kLinePattern = "%Y-%m-%dT%H:%M:%S.%eZ cartero[%P]: %l: %v";

// Installs the default logger: level is trace|debug|info|warn|error (log.level),
// file is log.file, appended to; empty = standard error. Every line is flushed
// at once, so a crash loses nothing already logged. Throws std::invalid_argument
// for an unknown level and spdlog::spdlog_ex when the file cannot be opened.
void init_logging(std::string_view level, const std::filesystem::path& file = {});

// SIGHUP: a new log.level for the logger init_logging made (log.file is kept).
void set_log_level(std::string_view level);

// SIGHUP: opens log.file again by name, so a file that logrotate moved away is
// left behind (no copytruncate needed). The new file is opened before the old
// one is closed: when it cannot be opened, logging goes on into the old one and
// the reason is returned. Without a log file, nothing to do (nullopt).
std::optional<std::string> reopen_log_file();

// The one stable line for abuse events (docs/limits.md "Log format", read by
// contrib/fail2ban/filter.d/cartero.conf), logged at warning level:
//
//   ... cartero[4242]: warning: s3f9a1c0: security: event=auth_failure client=192.0.2.1 user="alice@example.org"
//
// `event` is one word (auth_failure, client_rate, client_errors, sending_limit);
// `client` the peer's IP address (or "local" for the submission socket);
// `details` key=value pairs, values quoted where they may hold spaces. Fields
// before `details` never change, so a filter can anchor on them.
void security_event(std::string_view session_id, std::string_view event, std::string_view client_ip,
                    std::string_view details);

}  // namespace cartero::observe

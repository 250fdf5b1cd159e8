// Opening a submission connection for the client tools that send (`cartero
// send`, `cartero account add`): the server from a saved account or the
// connection flags, its address from the DNS, the password or OAuth2 token
// read, and delivery::SmtpConnection opened (EHLO, TLS, AUTH).
//
// Trust: as client_options.hpp; the secret is read here and handed only to
// SmtpConnection, which sends it inside TLS only.
#pragma once

#include <memory>
#include <string>

#include "cli/client_options.hpp"
#include "cli/saved_accounts.hpp"
#include "delivery/remote/smtp_connection.hpp"

namespace cartero::cli {

// sysexits.h values the client commands return (docs/client.md).
inline constexpr int exit_usage = 64;        // EX_USAGE: bad flags
inline constexpr int exit_data = 65;         // EX_DATAERR: the input is not UTF-8 text
inline constexpr int exit_no_input = 66;     // EX_NOINPUT: an attachment cannot be read
inline constexpr int exit_no_host = 68;      // EX_NOHOST: the server's name does not resolve
inline constexpr int exit_unavailable = 69;  // EX_UNAVAILABLE: refused for good
inline constexpr int exit_temporary = 75;    // EX_TEMPFAIL: try again later
inline constexpr int exit_no_permission = 77;  // EX_NOPERM: authentication refused
inline constexpr int exit_config = 78;       // EX_CONFIG: accounts.toml unusable, password not found

// The flags a saved account stands for (--server, --port, --tls, --user,
// --password-command/--password-file, --oauth-token-command).
ClientConnectionFlags flags_of(const SavedAccount& account);

struct Submission {
    std::unique_ptr<delivery::SmtpConnection> connection;  // null on failure
    std::string error;  // in the user's language, when connection is null
    int exit_code = 0;  // when connection is null
};

// Resolves flags.server, reads the secret, opens the connection.
Submission open_submission(const ClientConnectionFlags& flags);

}  // namespace cartero::cli

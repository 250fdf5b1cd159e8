// The connection flags of the client tools (`cartero check`, `cartero send`):
// which server, which port, which encryption, which account, and how to get its
// password, turned into what delivery::SmtpConnection needs. One place, so both
// commands spell and document them alike (docs/client.md):
//
//   --server HOST            the outgoing mail server (smtp.example.com)
//   --port N                 default: 465 with --tls ssl, 587 otherwise
//   --tls ssl|starttls|none  ssl: TLS from the first byte (RFC 8314);
//                            starttls: STARTTLS required (RFC 3207); none: plaintext
//   --user U                 the login (usually the full address); no --user: no AUTH
//   --password-file FILE     the password is the file's first line
//   --password-command CMD   the password is the first line CMD prints (msmtp's passwordeval)
//                            neither: asked on the terminal, without echo
//   --oauth-token-command CMD  OAuth2 instead of a password: the access token is
//                            what CMD prints, trimmed; AUTH OAUTHBEARER (RFC 7628)
//                            when offered, else XOAUTH2
//   --ca-file FILE           trust this CA (PEM) as well as the system store
//   --insecure               go on past certificate problems (still reported)
//   --timeout SECONDS        for the connection and each reply (default 15)
//   --test-dns-resolver ADDR[:PORT]  TEST ONLY: ask this DNS server instead of
//                            /etc/resolv.conf (the tests' loopback DNS server)
//
// Trust: the flags come from the person running the command. The password is a
// secret: read from a file they name, a command they name (run through
// /bin/sh -c, as msmtp does), or the terminal; never printed or logged. Nothing
// here needs privileges.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "delivery/remote/smtp_connection.hpp"
#include "dns/resolver.hpp"

namespace cartero::cli {

enum class ClientTls { ssl, starttls, none };

struct ClientConnectionFlags {
    std::string server;
    std::uint16_t port = 0;  // 0: the default port of `tls`
    ClientTls tls = ClientTls::starttls;
    std::string user;
    std::string password_file;
    std::string password_command;
    std::string oauth_token_command;
    std::string ca_file;
    bool insecure = false;
    int timeout_seconds = 15;
    std::string test_dns_resolver;  // test only

    std::uint16_t effective_port() const;
    std::chrono::milliseconds timeout() const { return std::chrono::seconds(timeout_seconds); }
};

// Adds the flags above to `command` (`check`, `send`). None is required here:
// a command may find the server another way (an address, a saved account).
void add_client_connection_flags(CLI::App& command, ClientConnectionFlags& flags);

// The guide's words for a TLS mode: "SSL/TLS", "STARTTLS", "none".
std::string_view to_string(ClientTls tls);
// The --tls spelling: "ssl", "starttls", "none".
std::string_view flag_value(ClientTls tls);

// The password for flags.user, from the file, the command or the terminal.
// nullopt with `error` set (in the user's language) when it cannot be had.
std::optional<std::string> read_password(const ClientConnectionFlags& flags, std::string& error);

// The OAuth2 access token: what --oauth-token-command prints, without the
// white space around it. nullopt with `error` set when it cannot be had.
std::optional<std::string> read_oauth_token(const ClientConnectionFlags& flags, std::string& error);

// What SmtpConnection needs: the TLS mode, the certificate checks, our EHLO
// name (this machine's host name), every timeout set to --timeout, and the
// credentials when there is a user. The password is read by the caller
// (read_password) so it can report where that failed.
delivery::ConnectionOptions connection_options(const ClientConnectionFlags& flags,
                                               std::optional<std::string> password);

// The DNS resolver for the server's name: the system's, or --test-dns-resolver.
// Throws std::invalid_argument for a bad --test-dns-resolver.
std::unique_ptr<dns::Resolver> client_resolver(const ClientConnectionFlags& flags);

}  // namespace cartero::cli

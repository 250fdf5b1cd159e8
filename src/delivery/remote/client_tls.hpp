// The TLS client context every outbound connection of cartero starts from:
// SMTP to an MX or a smarthost (smtp_connection), the MTA-STS and autoconfig
// HTTPS fetches (https_fetch), the client tools. TLS 1.2 or newer (RFC 8996),
// no compression (CRIME) or renegotiation, and the certificates trusted: the
// system store, plus `ca_file` when one is given — a private CA is added to
// the public ones, never put in their place, so pointing delivery.ca_file at
// an internal smarthost's CA does not break delivery to the internet.
//
// Trust: ca_file is operator input (a PEM bundle). Privileges: reading it and
// the system store.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace cartero::delivery {

// Sets up `context` (made with ssl::context::tls_client). Returns why the
// trusted certificates could not be loaded, if they could not.
std::optional<std::string> prepare_client_tls(boost::asio::ssl::context& context,
                                              const std::optional<std::filesystem::path>& ca_file);

}  // namespace cartero::delivery

// TLS server contexts (OpenSSL 3 through Asio) and the self-signed certificate
// of the embedded default configuration.
//
// Trust: the certificate and key are operator files read at start and on SIGHUP;
// a failure to load them is a startup error (or, on reload, keeps the old pair).
// RFC 8314 (implicit TLS), RFC 3207 (STARTTLS); TLS 1.2 is the minimum version
// (RFC 8996 deprecates 1.0 and 1.1), with Mozilla's intermediate profile by
// default; tests/integration/test_tls_profile.py holds it to testssl.sh.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "config/config.hpp"
#include "smtp/session.hpp"

namespace cartero::net {

// A server context with Mozilla's profile (config::TlsProfile): intermediate
// offers TLS 1.2 with ECDHE key exchange and AEAD ciphers only, and TLS 1.3;
// modern offers TLS 1.3 only. Never renegotiation, compression or session
// tickets. Throws std::runtime_error naming the file and OpenSSL's reason.
std::shared_ptr<boost::asio::ssl::context> make_server_context(const config::Tls& tls);

// Version, cipher and key bits of an established connection, for the Received
// header and the logs.
smtp::TlsInfo describe_tls(const SSL* ssl);

// Writes a new self-signed certificate (EC P-256, SAN localhost, 127.0.0.1, ::1
// and `hostname`) and its key (mode 0600) unless both files already exist.
// Returns true when it created them.
bool ensure_self_signed(const std::filesystem::path& cert, const std::filesystem::path& key,
                        const std::string& hostname);

}  // namespace cartero::net

// Ready-to-use configurations from discovered settings, for
// `cartero discover --format FORMAT` (reference client-config.md 5):
//   msmtp        an msmtprc account (host, port, tls, tls_starttls, auth, user, from)
//   thunderbird  a config-v1.1.xml file (written with pugixml), as a domain would publish it
//   swaks        a swaks command line that sends a test message to the address itself
//   env          shell variables SMTP_HOST, SMTP_PORT, SMTP_SECURITY, SMTP_USERNAME, SMTP_AUTH
// Each uses the first (preferred) outgoing server. Pure; no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "discovery/settings.hpp"

namespace cartero::discovery {

enum class Format { msmtp, thunderbird, swaks, env };

std::optional<Format> parse_format(std::string_view name);

// `address` is the whole address (user name and From); `settings` must have
// at least one outgoing server.
std::string render(Format format, const Settings& settings, const Address& address);

}  // namespace cartero::discovery

// Domain name syntax for hostname and local_domains (RFC 1035 2.3.1 as relaxed
// by RFC 1123 2.1: labels may start with a digit). Pure.
//
// Trust: used on operator input here; the same rule is safe for network input
// because it admits only [A-Za-z0-9-] and dots.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cartero::config {

// True for "example.org", "mail-1.example.org", "localhost"; false for "",
// ".example.org", "example.org." (no root dot in config), "-a.org", "a..org",
// labels over 63 octets, names over 253 octets, and any non-ASCII octet
// (an internationalized name passes as its A-label, "xn--...": see
// ascii_domain_name).
bool is_domain_name(std::string_view name);

// The A-label form (base/idna.hpp: lower case, no root dot) of a name that
// is then is_domain_name; nullopt otherwise. Where the operator names a domain
// (config, DKIM key directories, the CLI), "bücher.example" and
// "xn--bcher-kva.example" are both accepted and stored as the A-label.
std::optional<std::string> ascii_domain_name(std::string_view name);

// ASCII lower case: domains compare case-insensitively (RFC 5321 2.4), so the
// config stores them in one case and the policy compares bytes.
std::string lower_ascii(std::string_view text);

// Octets an account or alias address may not contain (a space or control
// character, a quote, backslash or angle bracket): the one rule for the
// accounts store and for addresses written in the config (accounts.postmaster).
bool forbidden_in_account_address(char c);

}  // namespace cartero::config

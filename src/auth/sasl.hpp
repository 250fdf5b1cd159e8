// SASL decoding for SMTP AUTH (RFC 4954): base64 responses, PLAIN (RFC 4616)
// and LOGIN (draft-murchison-sasl-login). Pure: bytes in, credentials out.
//
// Trust: every input is untrusted network data. Decoding is strict (no
// whitespace, exact padding, no trailing data, no non-zero pad bits) and
// bounded before any allocation proportional to the input (the Exim
// CVE-2018-6789 base64 overflow class). PLAIN requires the authorisation
// identity to be empty or equal to the authentication identity (maddy
// GHSA-4g76-w3xw-2x6w: accepting any authzid lets one user act as another).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartero::auth {

// Protocol bounds, not operator tunables. RFC 4616 2 requires accepting 255
// octets for authcid and passwd; identities are addresses (at most 254 octets,
// RFC 5321 4.5.3.1.3), passwords get generous room for passphrases.
inline constexpr std::size_t max_identity = 255;
inline constexpr std::size_t max_password = 1024;
// authzid NUL authcid NUL passwd.
inline constexpr std::size_t max_plain_message = 2 * max_identity + max_password + 2;

struct Credentials {
    std::string username;  // as sent (the caller normalises it)
    std::string password;
};

// Strict RFC 4648 4 base64 (with padding). "=" alone is the empty response of
// RFC 4954 4. nullopt on any defect or when the result would exceed max_decoded.
std::optional<std::string> decode_base64(std::string_view text, std::size_t max_decoded);

// RFC 4616 2: message = [authzid] NUL authcid NUL passwd.
std::optional<Credentials> decode_plain(std::string_view base64_message);

// LOGIN: two responses, the username then the password, each base64.
std::optional<Credentials> decode_login(std::string_view base64_username, std::string_view base64_password);

// Dispatches on the mechanism name the session accepted ("PLAIN" or "LOGIN");
// nullopt for a malformed exchange or an unknown mechanism.
std::optional<Credentials> decode_sasl(std::string_view mechanism, const std::vector<std::string>& responses);

}  // namespace cartero::auth

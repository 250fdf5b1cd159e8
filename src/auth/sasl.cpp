// SASL decoding; see sasl.hpp. libsodium's decoder does the octet-level work:
// it rejects missing or extra padding and non-zero pad bits, and never writes
// past the buffer it is given. It does NOT reject every octet outside the
// alphabet (1.0.18 decodes "\xff\xfe\xfd\xfc" to three octets), so the syntax
// is checked first with smtp::is_base64, the rule the AUTH exchange applies.
#include "auth/sasl.hpp"

#include <sodium.h>

#include <algorithm>

#include "smtp/base64.hpp"

namespace cartero::auth {
namespace {

// RFC 4648 4: 4 characters carry 3 octets.
constexpr std::size_t max_encoded_length(std::size_t max_decoded) { return (max_decoded + 2) / 3 * 4; }

bool valid_identity(std::string_view identity) {
    return !identity.empty() && identity.size() <= max_identity;
}
bool valid_password(std::string_view password) {
    return !password.empty() && password.size() <= max_password;
}
bool has_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

}  // namespace

std::optional<std::string> decode_base64(std::string_view text, std::size_t max_decoded) {
    if (text == "=") return std::string{};  // RFC 4954 4: empty initial response
    if (text.size() > max_encoded_length(max_decoded)) return std::nullopt;
    if (!smtp::is_base64(text)) return std::nullopt;  // the session's rule, checked again here
    std::string out(text.size() / 4 * 3 + 3, '\0');
    std::size_t decoded = 0;
    const char* end = nullptr;
    const int rc = sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                                     text.size(), nullptr, &decoded, &end, sodium_base64_VARIANT_ORIGINAL);
    if (rc != 0 || end != text.data() + text.size() || decoded > max_decoded) return std::nullopt;
    out.resize(decoded);
    return out;
}

std::optional<Credentials> decode_plain(std::string_view base64_message) {
    const auto message = decode_base64(base64_message, max_plain_message);
    if (!message || std::count(message->begin(), message->end(), '\0') != 2) return std::nullopt;
    const std::string_view view = *message;
    const auto first = view.find('\0');
    const auto second = view.find('\0', first + 1);
    const auto authzid = view.substr(0, first);
    const auto authcid = view.substr(first + 1, second - first - 1);
    const auto password = view.substr(second + 1);
    if (!valid_identity(authcid) || !valid_password(password)) return std::nullopt;
    // Acting as another identity is not supported: only "none" or "myself".
    if (!authzid.empty() && authzid != authcid) return std::nullopt;
    return Credentials{std::string(authcid), std::string(password)};
}

std::optional<Credentials> decode_login(std::string_view base64_username, std::string_view base64_password) {
    auto username = decode_base64(base64_username, max_identity);
    auto password = decode_base64(base64_password, max_password);
    if (!username || !password || !valid_identity(*username) || !valid_password(*password)) return std::nullopt;
    if (has_nul(*username) || has_nul(*password)) return std::nullopt;
    return Credentials{std::move(*username), std::move(*password)};
}

std::optional<Credentials> decode_sasl(std::string_view mechanism, const std::vector<std::string>& responses) {
    if (mechanism == "PLAIN" && responses.size() == 1) return decode_plain(responses[0]);
    if (mechanism == "LOGIN" && responses.size() == 2) return decode_login(responses[0], responses[1]);
    return std::nullopt;
}

}  // namespace cartero::auth

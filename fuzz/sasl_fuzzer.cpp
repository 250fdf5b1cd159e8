// Fuzz target: SASL decoding for AUTH (auth/sasl.hpp): strict base64, PLAIN, LOGIN
// and the mechanism dispatch, on any octets (Exim CVE-2018-6789 base64 overflow,
// Postfix CVE-2011-1720 / Exim CVE-2023-42114 authenticator memory bugs, maddy
// GHSA-4g76-w3xw-2x6w authzid confusion).
//
// Input: byte 0 picks the decoded-size bound (itself below 128, else one of the
// protocol bounds); the rest is cut
// at the first LF into two responses (the second may be missing).
// Invariants: decoding never exceeds its bound; strict decoding is canonical (the
// accepted text is exactly the base64 of what it decoded to, so no two texts decode
// alike); PLAIN accepts only [authcid] NUL authcid NUL passwd with bounded,
// non-empty, NUL-free parts; LOGIN parts are bounded and NUL-free; decode_sasl
// agrees with the mechanism it dispatches to and refuses everything else.
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/sasl.hpp"
#include "fuzz_check.hpp"

using namespace cartero::auth;

namespace {

std::string encode(std::string_view octets) {
    std::string out(sodium_base64_ENCODED_LEN(octets.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(octets.data()), octets.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

bool same(const std::optional<Credentials>& a, const std::optional<Credentials>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->username == b->username && a->password == b->password);
}

void check_identity_and_password(const Credentials& c) {
    FUZZ_CHECK(!c.username.empty() && c.username.size() <= max_identity);
    FUZZ_CHECK(!c.password.empty() && c.password.size() <= max_password);
    FUZZ_CHECK(c.username.find('\0') == std::string::npos && c.password.find('\0') == std::string::npos);
}

void check_base64(std::string_view text, std::size_t bound) {
    const auto decoded = decode_base64(text, bound);
    if (!decoded) return;
    FUZZ_CHECK(decoded->size() <= bound);
    if (text == "=") {
        FUZZ_CHECK(decoded->empty());
    } else {
        FUZZ_CHECK(encode(*decoded) == text);
    }
}

void check_plain(std::string_view text) {
    const auto credentials = decode_plain(text);
    if (!credentials) return;
    check_identity_and_password(*credentials);
    const auto message = decode_base64(text, max_plain_message);
    FUZZ_CHECK(message.has_value());
    const std::string& user = credentials->username;
    const std::string tail = user + '\0' + credentials->password;
    FUZZ_CHECK(*message == '\0' + tail || *message == user + '\0' + tail);
}

void check_login(std::string_view user, std::string_view password) {
    const auto credentials = decode_login(user, password);
    if (!credentials) return;
    check_identity_and_password(*credentials);
    FUZZ_CHECK(encode(credentials->username) == user && encode(credentials->password) == password);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    if (sodium_init() < 0) return 0;
    const std::size_t bounds[] = {max_identity, max_password, max_plain_message, max_password + 1};
    const std::size_t bound = data[0] < 128 ? data[0] : bounds[data[0] % 4];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto lf = input.find('\n');
    const std::string_view first = input.substr(0, lf);
    const std::string second(lf == std::string_view::npos ? std::string_view{} : input.substr(lf + 1));

    check_base64(input, bound);
    check_base64(first, bound);
    check_plain(first);
    check_login(first, second);

    const std::vector<std::string> one{std::string(first)}, two{std::string(first), second};
    FUZZ_CHECK(same(decode_sasl("PLAIN", one), decode_plain(first)));
    FUZZ_CHECK(same(decode_sasl("LOGIN", two), decode_login(first, second)));
    FUZZ_CHECK(!decode_sasl("PLAIN", two) && !decode_sasl("LOGIN", one) && !decode_sasl("plain", one));
    FUZZ_CHECK(!decode_sasl(first, {}) && !decode_sasl("CRAM-MD5", two));
    return 0;
}

// SASL decoding: strict base64 and the PLAIN/LOGIN message rules, including
// the Exim CVE-2018-6789 (base64 lengths/padding) and maddy GHSA-4g76 (authzid)
// classes.
#include "auth/sasl.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

namespace cartero::auth {
namespace {

using namespace std::string_literals;

std::string encode(const std::string& raw) {
    std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);  // drop the NUL sodium writes
    return out;
}

std::string show(const std::optional<std::string>& value) { return value ? "\"" + *value + "\"" : "nullopt"; }
std::string show(const std::optional<Credentials>& value) {
    return value ? "{" + value->username + ", " + value->password + "}" : "nullopt";
}

TEST(DecodeBase64, Table) {
    struct Case { std::string in; std::optional<std::string> want; };
    const Case cases[] = {
        {"YQ==", "a"},
        {"YWI=", "ab"},
        {"YWJj", "abc"},
        {"=", ""},              // RFC 4954 4 empty response
        {"", ""},
        {"YQ", std::nullopt},   // missing padding
        {"YQ=", std::nullopt},  // short padding
        {"YQ===", std::nullopt},
        {"YR==", std::nullopt},  // non-zero pad bits (non-canonical)
        {"YWJ", std::nullopt},   // odd length
        {"Y", std::nullopt},
        {"YW Jj", std::nullopt},  // whitespace
        {"YWJj\r\n", std::nullopt},
        {"YWJj====", std::nullopt},  // trailing junk after a full quantum
        {"YWJjZA==YQ==", std::nullopt},  // padding in the middle
        {"YW-j", std::nullopt},  // URL-safe alphabet is not RFC 4648 4
        {"YW_j", std::nullopt},
        {"YW*j", std::nullopt},
        {"YWJj\0"s, std::nullopt},
        {"\xff\xfe\xfd\xfc", std::nullopt},
    };
    for (const auto& c : cases) {
        const auto got = decode_base64(c.in, 64);
        EXPECT_EQ(got, c.want) << "decode_base64(" << c.in << "): got " << show(got) << ", want " << show(c.want);
    }
}

// Every octet outside RFC 4648 Table 1 is refused wherever it appears
// (libsodium alone lets some high octets through).
TEST(DecodeBase64, RefusesEveryOctetOutsideTheAlphabet) {
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    for (int octet = 0; octet < 256; ++octet) {
        const char c = static_cast<char>(octet);
        if (alphabet.find(c) != std::string::npos) continue;
        for (const auto& in : {std::string(4, c), "YW" + std::string(1, c) + "j", "YWJj" + std::string(1, c)}) {
            const auto got = decode_base64(in, 64);
            EXPECT_FALSE(got) << "octet 0x" << std::hex << octet << ": got " << show(got) << ", want nullopt";
        }
    }
}

TEST(DecodeBase64, BoundedBeforeDecoding) {
    const std::string raw(100, 'x');
    EXPECT_TRUE(decode_base64(encode(raw), 100));
    EXPECT_FALSE(decode_base64(encode(raw), 99));
    EXPECT_FALSE(decode_base64(std::string(1 << 20, 'A'), max_plain_message)) << "a 1 MiB blob must be refused";
}

TEST(DecodePlain, Table) {
    struct Case { std::string raw; std::optional<Credentials> want; };
    const auto long_id = std::string(max_identity + 1, 'u');
    const auto long_password = std::string(max_password + 1, 'p');
    const Case cases[] = {
        {"\0alice@example.com\0secret"s, Credentials{"alice@example.com", "secret"}},
        {"alice@example.com\0alice@example.com\0secret"s, Credentials{"alice@example.com", "secret"}},
        {"bob@example.com\0alice@example.com\0secret"s, std::nullopt},  // authzid of another user
        {"\0\0secret"s, std::nullopt},                                   // empty authcid
        {"\0alice@example.com\0"s, std::nullopt},                        // empty password
        {"alice@example.com\0secret"s, std::nullopt},                    // one NUL
        {"alice@example.com"s, std::nullopt},                            // no NUL
        {"\0alice@example.com\0sec\0ret"s, std::nullopt},                // three NULs
        {"\0alice@example.com\0secret\0"s, std::nullopt},
        {"\0"s + long_id + "\0secret"s, std::nullopt},
        {"\0alice@example.com\0"s + long_password, std::nullopt},
        {"\0alice@example.com\0"s + std::string(max_password, 'p'),
         Credentials{"alice@example.com", std::string(max_password, 'p')}},
    };
    for (const auto& c : cases) {
        const auto got = decode_plain(encode(c.raw));
        const bool same = got.has_value() == c.want.has_value() &&
                          (!got || (got->username == c.want->username && got->password == c.want->password));
        EXPECT_TRUE(same) << "decode_plain: got " << show(got) << ", want " << show(c.want);
    }
    EXPECT_FALSE(decode_plain("not base64!")) << "bad base64 must be malformed";
    EXPECT_FALSE(decode_plain("=")) << "an empty PLAIN message must be malformed";
}

TEST(DecodeLogin, Table) {
    struct Case { std::string user, password; bool ok; };
    const Case cases[] = {
        {encode("alice@example.com"), encode("secret"), true},
        {encode(""), encode("secret"), false},
        {"=", encode("secret"), false},
        {encode("alice@example.com"), "=", false},
        {encode("ali\0ce"s), encode("secret"), false},
        {encode("alice"), encode("sec\0ret"s), false},
        {encode(std::string(max_identity + 1, 'u')), encode("secret"), false},
        {"YWxpY2U", encode("secret"), false},  // bad padding
    };
    for (const auto& c : cases) {
        const auto got = decode_login(c.user, c.password);
        EXPECT_EQ(got.has_value(), c.ok) << "decode_login(" << c.user << ", " << c.password << "): got " << show(got)
                                          << ", want " << (c.ok ? "credentials" : "nullopt");
    }
}

TEST(DecodeSasl, MechanismAndResponseCount) {
    const auto plain = encode("\0alice\0secret"s);
    EXPECT_TRUE(decode_sasl("PLAIN", {plain}));
    EXPECT_FALSE(decode_sasl("PLAIN", {plain, plain}));
    EXPECT_FALSE(decode_sasl("PLAIN", {}));
    EXPECT_TRUE(decode_sasl("LOGIN", {encode("alice"), encode("secret")}));
    EXPECT_FALSE(decode_sasl("LOGIN", {encode("alice")}));
    EXPECT_FALSE(decode_sasl("CRAM-MD5", {plain}));
}

}  // namespace
}  // namespace cartero::auth

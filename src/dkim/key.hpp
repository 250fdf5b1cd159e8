// DKIM private keys: reading them from PEM files, generating them, signing with
// them (RFC 6376 3.3, RFC 8463 3) and the public-key TXT record to publish
// (RFC 6376 3.6.1, RFC 8463 4).
//
// Trust: key files are operator-controlled, but a private key that other local
// users can read is a forged signature waiting to happen, so such a file is
// refused (as OpenSSH refuses an unprotected identity file) with the fix named.
// Privileges: reads and writes under the key directory only.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

typedef struct evp_pkey_st EVP_PKEY;  // <openssl/types.h>, kept out of this header

namespace cartero::dkim {

enum class KeyAlgorithm { rsa, ed25519 };

// "rsa" / "ed25519": the k= value of the DNS record and the --algorithm value.
std::string_view to_string(KeyAlgorithm);
std::optional<KeyAlgorithm> key_algorithm_from_string(std::string_view);

// RFC 8301 3.2: verifiers must not accept RSA keys under 1024 bits; signers must
// use at least 1024 and should use 2048, which keygen does.
inline constexpr unsigned kRsaMinimumBits = 1024;
inline constexpr unsigned kRsaKeygenBits = 2048;

// RFC 1035 3.3.14 / RFC 7208 3.3: one character-string of a TXT record holds at most 255 octets.
inline constexpr std::size_t kTxtStringMax = 255;

struct KeyError {
    std::string message;  // names the file and, where there is one, the fix
};

// An RSA or Ed25519 private key. Immutable and cheap to copy; OpenSSL 3 allows
// one EVP_PKEY to be used for signing by several threads at once as long as
// nobody modifies it, and each sign() uses its own context.
class PrivateKey {
public:
    KeyAlgorithm algorithm() const { return algorithm_; }
    // a= of the signature: "rsa-sha256" or "ed25519-sha256".
    std::string_view signing_algorithm() const;
    // The signature of `header_data` (signature.hpp): RSASSA-PKCS1-v1_5 over
    // SHA-256 for RSA (RFC 6376 3.3.1); for Ed25519, PureEdDSA over the SHA-256
    // hash of the data, not over the data (RFC 8463 3). nullopt on an OpenSSL failure.
    std::optional<std::string> sign(std::string_view header_data) const;
    // p= of the DNS record: base64 of the DER SubjectPublicKeyInfo for RSA (what
    // RFC 6376 verifiers and opendkim expect), of the raw 32-octet key for Ed25519 (RFC 8463 4).
    std::string public_key_base64() const;
    // The key as PKCS#8 PEM, for the key file.
    std::string pem() const;

private:
    friend std::variant<PrivateKey, KeyError> parse_private_key(std::string_view, std::string_view);
    friend std::variant<PrivateKey, KeyError> generate_key(KeyAlgorithm);
    PrivateKey(std::shared_ptr<EVP_PKEY> key, KeyAlgorithm algorithm) : key_(std::move(key)), algorithm_(algorithm) {}
    std::shared_ptr<EVP_PKEY> key_;
    KeyAlgorithm algorithm_;
};

using KeyResult = std::variant<PrivateKey, KeyError>;

// A PEM private key; `origin` names it in errors. The algorithm comes from the
// key type; anything but RSA (>= kRsaMinimumBits) or Ed25519 is refused.
KeyResult parse_private_key(std::string_view pem, std::string_view origin);

// Reads a key file, refusing one that group or other may read or write.
KeyResult read_private_key(const std::filesystem::path& file);

// A new key: RSA of kRsaKeygenBits, or Ed25519.
KeyResult generate_key(KeyAlgorithm);

// Writes `pem` to `file` with mode 0600, creating missing directories with mode
// 0700. The file appears whole or not at all (temporary file, fsync, then
// link(2) or, when `replace`, rename(2)). Without `replace` an existing file is
// an error. Returns the error, or nullopt when written.
std::optional<KeyError> write_key_file(const std::filesystem::path& file, std::string_view pem, bool replace);

// "v=DKIM1; k=rsa; p=MIIB..." (RFC 6376 3.6.1).
std::string txt_record_value(const PrivateKey& key);

// The record in zone-file syntax, the value split into strings of at most
// kTxtStringMax octets:
//   sel._domainkey.example.org. IN TXT ( "v=DKIM1; k=rsa; p=..."
//           "..." )
std::string txt_record(std::string_view domain, std::string_view selector, const PrivateKey& key);

// RFC 6376 3.1: a selector is one or more DNS labels separated by dots.
bool is_selector(std::string_view selector);

}  // namespace cartero::dkim

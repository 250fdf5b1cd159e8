// Passwords: hashing and verification of account passwords, generation and
// checking of app passwords.
//
// Account passwords are hashed with argon2id (libsodium crypto_pwhash_str at the
// INTERACTIVE limits: 64 MiB, ~0.1 s, which is why the server verifies them on a
// bounded pool). crypt(3) hashes ($6$ SHA-512, $5$ SHA-256, $2b$ bcrypt) are
// accepted for verification so operators can import existing accounts; setting
// a password again (`cartero user passwd`) stores argon2id.
//
// App passwords are random (16 letters, shown as 4 groups of 4 like Google's:
// log2(26^16) ~ 75 bits), so a slow hash adds nothing: they are stored as a
// keyed BLAKE2b digest (the key in <data_dir>/app-password.key, mode 0600), which
// a stolen accounts.db alone cannot be checked against. Comparisons of digests
// and crypt outputs are constant-time (sodium_memcmp).
//
// Trust: passwords come from the network (SASL) or the terminal; they are only
// hashed and compared, never logged. Privileges: read/create the key file.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace cartero::auth {

// Operator rule for new account passwords (the CLI enforces it).
inline constexpr std::size_t min_password_length = 8;

// Why `password` may not become an account password, or nullopt if it may.
std::optional<std::string> password_problem(std::string_view password);

// argon2id, libsodium's self-describing "$argon2id$v=19$m=...,t=...,p=1$salt$hash".
std::string hash_password(std::string_view password);

// True if `password` matches `stored` (argon2id/argon2i, or an imported $6$, $5$,
// $2b$ crypt hash). False for a wrong password or a hash of an unknown kind.
bool verify_password(std::string_view password, std::string_view stored);

// True if `stored` is a hash verify_password understands (for imports).
bool supported_hash(std::string_view stored);

// 16 random lower-case letters in 4 groups of 4: "abcd efgh ijkl mnop".
std::string generate_app_password();

// The key of the app-password digest.
class AppPasswordKey {
public:
    static constexpr std::size_t size = 32;

    // Reads <data_dir>/app-password.key, creating it (0600, random) on first use.
    // Throws std::runtime_error naming the file when it cannot be read or made.
    static AppPasswordKey load_or_create(const std::filesystem::path& data_dir);
    explicit AppPasswordKey(const std::array<unsigned char, size>& bytes) : bytes_(bytes) {}

    // Keyed BLAKE2b-256 of the app password with spaces removed and ASCII
    // letters lower-cased (so "ABCD efgh..." as typed from the screen matches).
    std::string digest(std::string_view app_password) const;

private:
    std::array<unsigned char, size> bytes_{};
};

// Constant-time equality of two digests (false if the sizes differ).
bool same_digest(std::string_view a, std::string_view b);

}  // namespace cartero::auth

// Password hashing and app passwords; see password.hpp for the choices.
#include "auth/password.hpp"

#include <crypt.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "base/file_io.hpp"

namespace cartero::auth {
namespace {

constexpr std::string_view key_file_name = "app-password.key";
constexpr std::size_t app_password_letters = 16;
constexpr std::size_t app_password_group = 4;

void ensure_sodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

bool starts_with_any(std::string_view text, std::initializer_list<std::string_view> prefixes) {
    return std::any_of(prefixes.begin(), prefixes.end(), [&](std::string_view p) { return text.starts_with(p); });
}

bool is_argon2(std::string_view stored) { return starts_with_any(stored, {"$argon2id$", "$argon2i$"}); }
bool is_crypt(std::string_view stored) { return starts_with_any(stored, {"$6$", "$5$", "$2b$"}); }

bool verify_argon2(std::string_view password, const std::string& stored) {
    if (stored.size() >= crypto_pwhash_STRBYTES) return false;
    return crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size()) == 0;
}

// crypt_r needs C strings: a password with NUL could match a truncated prefix.
bool verify_crypt(std::string_view password, const std::string& stored) {
    if (password.find('\0') != std::string_view::npos) return false;
    const std::string password_c(password);
    auto scratch = std::make_unique<crypt_data>();  // ~32 KiB: too big for a pool thread's stack habits
    const char* computed = crypt_r(password_c.c_str(), stored.c_str(), scratch.get());
    if (computed == nullptr || computed[0] == '*') return false;  // libxcrypt's failure token
    return same_digest(computed, stored);
}

std::string error_text() { return std::strerror(errno); }

std::runtime_error key_error(const std::filesystem::path& path, std::string_view what) {
    return std::runtime_error(path.string() + ": " + std::string(what));
}

std::optional<std::array<unsigned char, AppPasswordKey::size>> read_key(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return std::nullopt;
    if (fd < 0) throw key_error(path, error_text());
    std::array<unsigned char, AppPasswordKey::size + 1> buffer{};  // one extra octet detects a longer file
    const auto got = ::read(fd, buffer.data(), buffer.size());
    ::close(fd);
    if (got != static_cast<ssize_t>(AppPasswordKey::size))
        throw key_error(path, "not a " + std::to_string(AppPasswordKey::size) + "-octet key");
    std::array<unsigned char, AppPasswordKey::size> key{};
    std::copy_n(buffer.begin(), key.size(), key.begin());
    return key;
}

// Made once, durably (base::create_durably): if another process (server vs
// CLI) won the race, its key stands and is the one read back.
void create_key(const std::filesystem::path& path) {
    std::array<unsigned char, AppPasswordKey::size> key{};
    randombytes_buf(key.data(), key.size());
    const auto error = base::create_durably(path, {reinterpret_cast<const char*>(key.data()), key.size()});
    sodium_memzero(key.data(), key.size());
    if (error && error != std::errc::file_exists) throw key_error(path, error.message());
}

}  // namespace

std::optional<std::string> password_problem(std::string_view password) {
    const auto minimum = std::to_string(min_password_length);
    if (password.empty()) return "the password is empty; use at least " + minimum + " characters";
    if (password.size() < min_password_length)
        return "the password is shorter than " + minimum + " characters; use at least " + minimum;
    if (password.find('\0') != std::string_view::npos) return "the password contains a NUL character";
    return std::nullopt;
}

std::string hash_password(std::string_view password) {
    ensure_sodium();
    std::array<char, crypto_pwhash_STRBYTES> out{};
    if (crypto_pwhash_str(out.data(), password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        throw std::runtime_error("password hashing failed: out of memory");
    return out.data();
}

bool verify_password(std::string_view password, std::string_view stored) {
    ensure_sodium();
    const std::string stored_c(stored);
    if (is_argon2(stored)) return verify_argon2(password, stored_c);
    if (is_crypt(stored)) return verify_crypt(password, stored_c);
    return false;
}

bool supported_hash(std::string_view stored) { return is_argon2(stored) || is_crypt(stored); }

std::string generate_app_password() {
    ensure_sodium();
    std::string out;
    for (std::size_t i = 0; i < app_password_letters; ++i) {
        if (i > 0 && i % app_password_group == 0) out += ' ';
        out += static_cast<char>('a' + randombytes_uniform(26));  // unbiased: libsodium rejects and redraws
    }
    return out;
}

AppPasswordKey AppPasswordKey::load_or_create(const std::filesystem::path& data_dir) {
    ensure_sodium();
    const auto path = data_dir / key_file_name;
    if (auto key = read_key(path)) return AppPasswordKey(*key);
    create_key(path);
    if (auto key = read_key(path)) return AppPasswordKey(*key);
    throw key_error(path, "missing right after it was created");
}

std::string AppPasswordKey::digest(std::string_view app_password) const {
    std::string canonical;
    for (char c : app_password) {
        if (c == ' ') continue;
        canonical += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    std::string out(crypto_generichash_BYTES, '\0');
    crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                       reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), bytes_.data(),
                       bytes_.size());
    return out;
}

bool same_digest(std::string_view a, std::string_view b) {
    return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cartero::auth

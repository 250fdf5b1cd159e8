// DKIM keys over OpenSSL 3 EVP. See key.hpp.
#include "dkim/key.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <random>

#include "base/file_io.hpp"
#include "dkim/signature.hpp"

namespace cartero::dkim {
namespace {

constexpr mode_t kKeyFileMode = 0600;
constexpr mode_t kKeyDirMode = 0700;
constexpr mode_t kGroupOrOther = 077;
constexpr std::size_t kSha256Size = 32;
constexpr std::size_t kEd25519PublicSize = 32;
constexpr std::size_t kLabelMax = 63;  // RFC 1035 2.3.4

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

std::shared_ptr<EVP_PKEY> shared_key(EVP_PKEY* key) { return {key, EVP_PKEY_free}; }

// The reason of the last OpenSSL error, with the queue cleared for the next caller.
std::string openssl_error() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "unknown OpenSSL error";
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    return text.data();
}

std::string bio_contents(BIO* bio) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(size));
}

std::optional<std::string> sha256(std::string_view data) {
    std::array<unsigned char, kSha256Size> digest{};
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(digest.data()), size);
}

// EVP_DigestSign with `md` (nullptr for Ed25519, which hashes nothing itself).
std::optional<std::string> digest_sign(EVP_PKEY* key, const EVP_MD* md, std::string_view data) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    std::size_t size = 0;
    const auto* input = reinterpret_cast<const unsigned char*>(data.data());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &size, input, data.size()) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    std::string signature(size, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, input, data.size()) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    signature.resize(size);
    return signature;
}

bool is_label(std::string_view label) {
    if (label.empty() || label.size() > kLabelMax || label.front() == '-' || label.back() == '-') return false;
    for (const char c : label) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string error_text(const std::error_code& error) { return error.message(); }

// A name for the temporary file next to `file`, unlikely to collide with a
// concurrent keygen (and O_EXCL catches it if it does).
std::filesystem::path temporary_path(const std::filesystem::path& file) {
    std::random_device random;
    return file.parent_path() / ("." + file.filename().string() + "." + std::to_string(random()) + ".tmp");
}

std::optional<KeyError> create_key_dirs(const std::filesystem::path& dir) {
    std::error_code error;
    if (std::filesystem::is_directory(dir, error)) return std::nullopt;
    if (auto parent = dir.parent_path(); !parent.empty() && parent != dir) {
        if (auto problem = create_key_dirs(parent)) return problem;
    }
    if (::mkdir(dir.c_str(), kKeyDirMode) != 0 && errno != EEXIST) {
        return KeyError{dir.string() + ": cannot create the directory: " + error_text(base::last_error())};
    }
    return std::nullopt;
}

std::optional<KeyError> write_temporary(const std::filesystem::path& temp, std::string_view pem) {
    std::error_code error;
    base::UniqueFd fd = base::open_file(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, error, kKeyFileMode);
    if (error) return KeyError{temp.string() + ": cannot create: " + error.message()};
    // The umask may have removed bits but never adds any; fchmod makes the mode exact.
    if (::fchmod(fd.get(), kKeyFileMode) != 0) error = base::last_error();
    if (!error) error = base::write_all(fd.get(), pem);
    if (!error && ::fsync(fd.get()) != 0) error = base::last_error();
    if (error) return KeyError{temp.string() + ": cannot write: " + error.message()};
    return std::nullopt;
}

KeyAlgorithm algorithm_of(EVP_PKEY* key) {
    return EVP_PKEY_is_a(key, "ED25519") ? KeyAlgorithm::ed25519 : KeyAlgorithm::rsa;
}

}  // namespace

std::string_view to_string(KeyAlgorithm algorithm) {
    return algorithm == KeyAlgorithm::rsa ? "rsa" : "ed25519";
}

std::optional<KeyAlgorithm> key_algorithm_from_string(std::string_view text) {
    if (text == "rsa") return KeyAlgorithm::rsa;
    if (text == "ed25519") return KeyAlgorithm::ed25519;
    return std::nullopt;
}

std::string_view PrivateKey::signing_algorithm() const {
    return algorithm_ == KeyAlgorithm::rsa ? "rsa-sha256" : "ed25519-sha256";
}

std::optional<std::string> PrivateKey::sign(std::string_view header_data) const {
    if (algorithm_ == KeyAlgorithm::rsa) return digest_sign(key_.get(), EVP_sha256(), header_data);
    // RFC 8463 3: "computes a message hash as defined in Section 3 of [RFC6376]
    // using SHA-256 as the hash-alg. It signs the hash with the PureEdDSA variant
    // Ed25519": the 32-octet digest is the message Ed25519 signs.
    const auto digest = sha256(header_data);
    if (!digest) return std::nullopt;
    return digest_sign(key_.get(), nullptr, *digest);
}

std::string PrivateKey::public_key_base64() const {
    if (algorithm_ == KeyAlgorithm::ed25519) {
        std::string raw(kEd25519PublicSize, '\0');
        std::size_t size = raw.size();
        EVP_PKEY_get_raw_public_key(key_.get(), reinterpret_cast<unsigned char*>(raw.data()), &size);
        raw.resize(size);
        return base64(raw);
    }
    unsigned char* der = nullptr;
    const int size = i2d_PUBKEY(key_.get(), &der);
    if (size <= 0) return {};
    std::string out = base64(std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size)));
    OPENSSL_free(der);
    return out;
}

std::string PrivateKey::pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        ERR_clear_error();
        return {};
    }
    return bio_contents(bio.get());
}

KeyResult parse_private_key(std::string_view pem, std::string_view origin) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (raw == nullptr) {
        return KeyError{std::string(origin) + ": not a PEM private key (" + openssl_error() + ")"};
    }
    auto key = shared_key(raw);
    if (!EVP_PKEY_is_a(raw, "RSA") && !EVP_PKEY_is_a(raw, "ED25519")) {
        return KeyError{std::string(origin) + ": a " + EVP_PKEY_get0_type_name(raw) +
                        " key; DKIM signs with RSA (RFC 6376) or Ed25519 (RFC 8463)"};
    }
    if (EVP_PKEY_is_a(raw, "RSA") && static_cast<unsigned>(EVP_PKEY_get_bits(raw)) < kRsaMinimumBits) {
        return KeyError{std::string(origin) + ": RSA key of " + std::to_string(EVP_PKEY_get_bits(raw)) +
                        " bits; RFC 8301 requires at least " + std::to_string(kRsaMinimumBits) +
                        " (make a new one with `cartero dkim keygen`)"};
    }
    return PrivateKey(std::move(key), algorithm_of(raw));
}

KeyResult read_private_key(const std::filesystem::path& file) {
    std::error_code error;
    base::UniqueFd fd = base::open_file(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, error);
    if (error) return KeyError{file.string() + ": cannot open: " + error.message()};
    struct stat status {};
    if (::fstat(fd.get(), &status) != 0) return KeyError{file.string() + ": " + base::last_error().message()};
    if (!S_ISREG(status.st_mode)) return KeyError{file.string() + ": not a regular file"};
    if ((status.st_mode & kGroupOrOther) != 0) {  // checked on the open file: no race with chmod
        return KeyError{file.string() + ": private key is accessible by group or other users (fix: chmod 600 " +
                        file.string() + ")"};
    }
    std::string pem;
    if (auto read_error = base::read_whole(fd.get(), pem)) {
        return KeyError{file.string() + ": cannot read: " + read_error.message()};
    }
    return parse_private_key(pem, file.string());
}

KeyResult generate_key(KeyAlgorithm algorithm) {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, algorithm == KeyAlgorithm::rsa ? "RSA" : "ED25519", nullptr));
    EVP_PKEY* raw = nullptr;
    const bool ok = ctx && EVP_PKEY_keygen_init(ctx.get()) == 1 &&
                    (algorithm != KeyAlgorithm::rsa ||
                     EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), static_cast<int>(kRsaKeygenBits)) == 1) &&
                    EVP_PKEY_keygen(ctx.get(), &raw) == 1;
    if (!ok) return KeyError{"cannot generate a key: " + openssl_error()};
    return PrivateKey(shared_key(raw), algorithm);
}

std::optional<KeyError> write_key_file(const std::filesystem::path& file, std::string_view pem, bool replace) {
    if (auto problem = create_key_dirs(file.parent_path())) return problem;
    const std::filesystem::path temp = temporary_path(file);
    if (auto problem = write_temporary(temp, pem)) {
        ::unlink(temp.c_str());
        return problem;
    }
    // link(2) fails with EEXIST instead of replacing: refusal without a check-then-act race.
    const int placed = replace ? ::rename(temp.c_str(), file.c_str()) : ::link(temp.c_str(), file.c_str());
    const std::error_code error = placed == 0 ? std::error_code{} : base::last_error();
    ::unlink(temp.c_str());  // after rename it is already gone; ENOENT is fine
    if (error == std::errc::file_exists) {
        return KeyError{file.string() + ": a key with this selector exists (choose another --selector, or --force to replace it)"};
    }
    if (error) return KeyError{file.string() + ": cannot create: " + error.message()};
    if (auto sync_error = base::fsync_directory(file.parent_path())) {
        return KeyError{file.parent_path().string() + ": fsync: " + sync_error.message()};
    }
    return std::nullopt;
}

std::string txt_record_value(const PrivateKey& key) {
    return "v=DKIM1; k=" + std::string(to_string(key.algorithm())) + "; p=" + key.public_key_base64();
}

std::string txt_record(std::string_view domain, std::string_view selector, const PrivateKey& key) {
    const std::string value = txt_record_value(key);
    std::string out = std::string(selector) + "._domainkey." + std::string(domain) + ". IN TXT (";
    for (std::size_t at = 0; at < value.size(); at += kTxtStringMax) {
        // base64 and "v=DKIM1; k=...; p=" contain no '"' or '\\', so no escaping is needed.
        out += (at == 0 ? " \"" : "\n\t\"") + value.substr(at, kTxtStringMax) + "\"";
    }
    return out + " )\n";
}

bool is_selector(std::string_view selector) {
    if (selector.empty()) return false;
    for (std::size_t at = 0; at <= selector.size();) {
        const std::size_t dot = std::min(selector.find('.', at), selector.size());
        if (!is_label(selector.substr(at, dot - at))) return false;
        at = dot + 1;
    }
    return true;
}

}  // namespace cartero::dkim

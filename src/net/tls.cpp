#include "net/tls.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

namespace cartero::net {
namespace ssl = boost::asio::ssl;

namespace {

// Mozilla's intermediate TLS 1.2 suites (version 5.7) less the DHE ones.
constexpr const char* intermediate_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* key_exchange_groups = "X25519:prime256v1:secp384r1";

std::string openssl_reason() {
    const unsigned long code = ERR_get_error();
    if (code == 0) return "unknown OpenSSL error";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + openssl_reason());
}

void load_pair(ssl::context& context, const std::filesystem::path& cert,
               const std::filesystem::path& key) {
    SSL_CTX* native = context.native_handle();
    if (SSL_CTX_use_certificate_chain_file(native, cert.c_str()) != 1)
        fail("cannot load TLS certificate " + cert.string());
    const std::string mismatch = "TLS key " + key.string() + " does not match certificate " + cert.string();
    if (SSL_CTX_use_PrivateKey_file(native, key.c_str(), SSL_FILETYPE_PEM) != 1) {
        // OpenSSL checks the pair while loading the key; say so in plain words
        // (a renewal caught between its two files ends up here).
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) fail(mismatch);
        fail("cannot load TLS key " + key.string());
    }
    if (SSL_CTX_check_private_key(native) != 1) fail(mismatch);
}

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

void add_extension(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) fail("cannot build certificate extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

X509Ptr build_certificate(EVP_PKEY* pkey, const std::string& hostname) {
    X509Ptr cert(X509_new(), &X509_free);
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;  // a positive serial number (RFC 5280 4.1.2.2)
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 825L * 24 * 3600);  // CA/B maximum
    X509_set_pubkey(cert.get(), pkey);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(hostname.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
    if (hostname != "localhost") san += ",DNS:" + hostname;
    add_extension(cert.get(), NID_subject_alt_name, san);
    add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
    if (X509_sign(cert.get(), pkey, EVP_sha256()) == 0) fail("cannot sign certificate");
    return cert;
}

// The key is created with mode 0600 from the start, never widened then narrowed.
void write_pem(const std::filesystem::path& path, mode_t mode, auto&& write) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) throw std::runtime_error("cannot create " + path.string());
    FILE* file = ::fdopen(fd, "w");
    const bool ok = file != nullptr && write(file) == 1;
    const bool closed = file != nullptr ? std::fclose(file) == 0 : ::close(fd) == 0;
    if (!ok || !closed) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

std::shared_ptr<ssl::context> make_server_context(const config::Tls& tls) {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = context->native_handle();
    const bool modern = tls.profile == config::TlsProfile::modern;
    SSL_CTX_set_min_proto_version(native, modern ? TLS1_3_VERSION : TLS1_2_VERSION);
    // Mozilla intermediate, without the DHE suites: ECDHE only (no weak or
    // hand-made DH groups to get wrong) and AEAD only (no CBC: Lucky13, BEAST).
    // TLS 1.3's suites are all AEAD with ECDHE; OpenSSL's default list is Mozilla's.
    if (SSL_CTX_set_cipher_list(native, intermediate_tls12_ciphers) != 1) fail("cannot set the TLS 1.2 ciphers");
    if (SSL_CTX_set1_groups_list(native, key_exchange_groups) != 1) fail("cannot set the TLS key exchange groups");
    // No renegotiation (client-initiated renegotiation is a CPU DoS), no
    // compression (CRIME). No session tickets: their key would live as long as
    // this context, unrotated, weakening forward secrecy (Mozilla's advice);
    // sessions resume from the server's cache instead. The client's cipher
    // order is kept, as Mozilla recommends when every offered cipher is strong
    // (a phone without AES hardware prefers ChaCha20).
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
    // Release the per-connection buffers while idle: memory per idle session matters.
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
    load_pair(*context, tls.cert, tls.key);
    return context;
}

smtp::TlsInfo describe_tls(const SSL* ssl) {
    smtp::TlsInfo info;
    info.version = SSL_get_version(ssl);
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
    if (cipher != nullptr) {
        info.cipher = SSL_CIPHER_get_name(cipher);
        info.bits = SSL_CIPHER_get_bits(cipher, nullptr);
    }
    return info;
}

bool ensure_self_signed(const std::filesystem::path& cert, const std::filesystem::path& key,
                        const std::string& hostname) {
    if (std::filesystem::exists(cert) && std::filesystem::exists(key)) return false;
    std::filesystem::create_directories(cert.parent_path());
    std::filesystem::create_directories(key.parent_path());
    PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
    if (!pkey) fail("cannot generate a TLS key");
    const X509Ptr certificate = build_certificate(pkey.get(), hostname);
    write_pem(key, 0600, [&](FILE* f) {
        return PEM_write_PrivateKey(f, pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    write_pem(cert, 0644, [&](FILE* f) { return PEM_write_X509(f, certificate.get()); });
    return true;
}

}  // namespace cartero::net

#include "dkim/key.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>

#include <fstream>

#include "dkim/signature.hpp"
#include "temp_keys.hpp"

namespace cartero::dkim {
namespace {

using testing::TempKeyDir;

mode_t mode_of(const std::filesystem::path& path) {
    struct stat status {};
    EXPECT_EQ(::stat(path.c_str(), &status), 0) << path;
    return status.st_mode & 07777;
}

std::string error_of(const KeyResult& result) {
    const auto* error = std::get_if<KeyError>(&result);
    return error != nullptr ? error->message : "(loaded)";
}

TEST(KeyFiles, WrittenWithMode0600InDirectories0700) {
    TempKeyDir dir;
    dir.add("example.org", "sel", KeyAlgorithm::rsa);
    EXPECT_EQ(mode_of(dir.file("example.org", "sel")), 0600u);
    EXPECT_EQ(mode_of(dir.path() / "example.org"), 0700u);
    const auto loaded = read_private_key(dir.file("example.org", "sel"));
    ASSERT_TRUE(std::holds_alternative<PrivateKey>(loaded)) << error_of(loaded);
    EXPECT_EQ(std::get<PrivateKey>(loaded).algorithm(), KeyAlgorithm::rsa);
}

TEST(KeyFiles, ExistingKeyIsReplacedOnlyWhenAsked) {
    TempKeyDir dir;
    const auto first = dir.add("example.org", "sel", KeyAlgorithm::ed25519);
    const auto second = std::get<PrivateKey>(generate_key(KeyAlgorithm::ed25519));
    const auto refused = write_key_file(dir.file("example.org", "sel"), second.pem(), false);
    ASSERT_TRUE(refused);
    EXPECT_NE(refused->message.find("--force"), std::string::npos) << refused->message;
    auto still = read_private_key(dir.file("example.org", "sel"));
    EXPECT_EQ(std::get<PrivateKey>(still).public_key_base64(), first.public_key_base64());

    EXPECT_FALSE(write_key_file(dir.file("example.org", "sel"), second.pem(), true));
    auto replaced = read_private_key(dir.file("example.org", "sel"));
    EXPECT_EQ(std::get<PrivateKey>(replaced).public_key_base64(), second.public_key_base64());
    EXPECT_EQ(mode_of(dir.file("example.org", "sel")), 0600u);
    // No temporary files are left behind.
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path() / "example.org")) ++entries;
    EXPECT_EQ(entries, 1u);
}

TEST(KeyFiles, GroupOrOtherAccessIsRefusedWithTheFix) {
    TempKeyDir dir;
    dir.add("example.org", "sel", KeyAlgorithm::rsa);
    const auto file = dir.file("example.org", "sel");
    for (const mode_t mode : {0640, 0604, 0620, 0660, 0644}) {
        ::chmod(file.c_str(), mode);
        const std::string error = error_of(read_private_key(file));
        EXPECT_NE(error.find("chmod 600 " + file.string()), std::string::npos) << "mode " << mode << ": " << error;
    }
    ::chmod(file.c_str(), 0400);
    EXPECT_TRUE(std::holds_alternative<PrivateKey>(read_private_key(file)));
}

TEST(KeyFiles, WhatIsNotADkimKeyIsRefused) {
    EXPECT_NE(error_of(parse_private_key("not pem", "x.key")).find("x.key: not a PEM private key"), std::string::npos);

    // RSA under 1024 bits (RFC 8301).
    EVP_PKEY* small = EVP_RSA_gen(512);
    ASSERT_NE(small, nullptr);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, small, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    const std::string pem(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    EVP_PKEY_free(small);
    EXPECT_NE(error_of(parse_private_key(pem, "small.key")).find("RFC 8301"), std::string::npos);

    // An EC key is neither RSA nor Ed25519.
    EVP_PKEY* ec = EVP_EC_gen("P-256");
    ASSERT_NE(ec, nullptr);
    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, ec, nullptr, nullptr, 0, nullptr, nullptr);
    const long ec_size = BIO_get_mem_data(bio, &data);
    const std::string ec_pem(data, static_cast<std::size_t>(ec_size));
    BIO_free(bio);
    EVP_PKEY_free(ec);
    EXPECT_NE(error_of(parse_private_key(ec_pem, "ec.key")).find("RSA (RFC 6376) or Ed25519"), std::string::npos);
}

TEST(TxtRecord, ValueInStringsOfAtMost255) {
    for (const auto algorithm : {KeyAlgorithm::rsa, KeyAlgorithm::ed25519}) {
        const auto key = std::get<PrivateKey>(generate_key(algorithm));
        const std::string record = txt_record("example.org", "sel", key);
        EXPECT_TRUE(record.starts_with("sel._domainkey.example.org. IN TXT ( \"")) << record;
        EXPECT_TRUE(record.ends_with("\" )\n")) << record;
        std::string joined;
        for (std::size_t open = record.find('"'); open != std::string::npos; open = record.find('"', open + 1)) {
            const std::size_t close = record.find('"', open + 1);
            EXPECT_LE(close - open - 1, kTxtStringMax);
            joined += record.substr(open + 1, close - open - 1);
            open = close;
        }
        EXPECT_EQ(joined, txt_record_value(key));
        EXPECT_EQ(joined, "v=DKIM1; k=" + std::string(to_string(algorithm)) + "; p=" + key.public_key_base64());
    }
    // RFC 8463 4: an Ed25519 p= is the bare 32-octet key, 44 base64 characters.
    EXPECT_EQ(std::get<PrivateKey>(generate_key(KeyAlgorithm::ed25519)).public_key_base64().size(), 44u);
}

TEST(Selector, Syntax) {
    for (const std::string_view good : {"s", "20250612-rsa", "a.b", "mail2025", "A-1"}) EXPECT_TRUE(is_selector(good)) << good;
    for (const std::string_view bad : {"", ".", "a.", ".a", "-a", "a-", "a_b", "a/b", "../x", "a b", "a..b"}) {
        EXPECT_FALSE(is_selector(bad)) << bad;
    }
}

// The signatures verify with the public key, over the data RFC 6376 and
// RFC 8463 say: RSA over the data with SHA-256, Ed25519 over SHA-256(data).
TEST(PrivateKey, SignaturesVerifyWithThePublicKey) {
    const std::string data = "from:a@example.org\r\ndkim-signature:v=1; b=";
    for (const auto algorithm : {KeyAlgorithm::rsa, KeyAlgorithm::ed25519}) {
        const auto key = std::get<PrivateKey>(generate_key(algorithm));
        const auto signature = key.sign(data);
        ASSERT_TRUE(signature);
        const std::string pem = key.pem();
        BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        ASSERT_NE(pkey, nullptr);
        std::string message = data;
        const EVP_MD* md = EVP_sha256();
        if (algorithm == KeyAlgorithm::ed25519) {
            unsigned char digest[32];
            EVP_Digest(data.data(), data.size(), digest, nullptr, EVP_sha256(), nullptr);
            message.assign(reinterpret_cast<char*>(digest), sizeof digest);
            md = nullptr;
        }
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pkey), 1);
        EXPECT_EQ(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
                                   reinterpret_cast<const unsigned char*>(message.data()), message.size()),
                  1)
            << to_string(algorithm);
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(pkey);
    }
}

}  // namespace
}  // namespace cartero::dkim
